"""PDF to Markdown: the text of each page, its broken lines rejoined into paragraphs."""

from __future__ import annotations

import io

from helpdesk.llm.text import is_cjk

from .uploads import IngestError


def pdf_to_markdown(data: bytes) -> tuple[str, str]:
    """Text of each page, its broken lines rejoined into paragraphs."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("the PDF is password-protected")
        pages = [_page_text(page) for page in reader.pages]
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title).strip()
            if title.lower() in PLACEHOLDER_PDF_TITLES or title.lower().startswith("microsoft word - "):
                title = ""
    except IngestError:
        raise
    except (LimitReachedError, MemoryError) as exc:
        # pypdf stops inflating a stream past its limits (75 MB by default): a curator's mistake or an attack,
        # either way a per-file failure the curator can act on, not an "unexpected error" with a traceback.
        raise IngestError(f"the PDF is too large to read or is a decompression bomb ({exc})") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError, RecursionError) as exc:
        raise IngestError(f"not a readable PDF ({exc})") from exc
    paragraphs_per_page = [_rejoin_lines(page) for page in pages]
    if not any(paragraphs_per_page):
        raise IngestError("the PDF has no extractable text (scanned pages need OCR first)")
    body = "\n\n".join(p for p in paragraphs_per_page if p)
    first, _, rest = body.partition("\n\n")
    if not title and len(first) <= 120:
        title = first
    if title and first.strip() == title.strip():
        body = rest  # the heading line on the first page is the title, not a paragraph
    return title, body


PLACEHOLDER_PDF_TITLES = {"untitled", "(anonymous)", "anonymous", "document", "title"}


def _page_text(page: object) -> str:
    """Layout mode keeps the blank lines between paragraphs that plain extraction loses."""
    from pypdf.errors import LimitReachedError

    try:
        return page.extract_text(extraction_mode="layout") or ""  # type: ignore[attr-defined]
    except LimitReachedError:
        raise  # the plain extraction would inflate the same bomb again
    except Exception:
        return page.extract_text() or ""  # type: ignore[attr-defined]


def _wide(char: str) -> bool:
    return is_cjk(char) or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"


def _rejoin_lines(text: str) -> str:
    """PDF text breaks lines mid-sentence; a line ending a sentence (or followed by a blank) ends a paragraph."""
    paragraphs: list[str] = []
    current = ""
    for raw in text.replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if current:
            joiner = "" if _wide(current[-1]) and _wide(line[0]) else " "
            current = current[:-1] if current.endswith("-") and line[0].islower() else current + joiner
        current += line
        if line[-1] in ".!?。！？:：" and len(line) < 200:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)
