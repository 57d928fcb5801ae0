"""From uploaded files to clean Markdown, and from Markdown to retrieval chunks.

Each format becomes Markdown first (HTML sanitised by nh3 then converted,
PDF text extracted page by page), so articles are edited and chunked one
way whatever they came from. Chunks follow the document's headings and
paragraphs, overlap a little, and stay inside a token budget sized for the
embedding model.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath

import nh3
from markdown_it import MarkdownIt

from helpdesk.llm.text import estimate_tokens, is_cjk, language_of, tokens_from_counts, wide_chars

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".text"}
PDF_SUFFIXES = {".pdf"}
ZIP_SUFFIXES = {".zip"}
DOCUMENT_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES | PDF_SUFFIXES
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES | ZIP_SUFFIXES
SUPPORTED_DESCRIPTION = "Markdown (.md), HTML (.html), PDF (.pdf), plain text (.txt) or a .zip of them"


class IngestError(ValueError):
    """A file that cannot become an article; the message is shown to the curator as is."""


@dataclass
class Document:
    title: str
    body: str  # Markdown
    language: str


@dataclass
class ChunkDraft:
    heading: str
    text: str
    token_count: int


# --- files -> documents ---------------------------------------------------------------


def suffix_of(name: str) -> str:
    return PurePosixPath(name.lower()).suffix


def check_size(name: str, size: int, limit: int) -> None:
    if size == 0:
        raise IngestError("the file is empty")
    if size > limit:
        raise IngestError(f"the file is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.1f} MB")


def expand_upload(
    name: str, data: bytes, *, max_bytes: int, max_files: int
) -> Iterator[tuple[str, bytes | IngestError]]:
    """The documents in one upload: the file itself, or each member of a .zip.

    A member that cannot be read is yielded with its error instead of its
    bytes, so one broken file never stops the others.
    """
    if suffix_of(name) not in ZIP_SUFFIXES:
        yield name, data
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_hidden(m.filename)]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield name, IngestError(f"not a readable .zip archive ({exc})")
        return
    if len(members) > max_files:
        yield name, IngestError(f"the archive holds {len(members)} files; the limit is {max_files}")
        return
    for member in members:
        member_name = f"{name}/{member.filename}"
        if suffix_of(member.filename) in ZIP_SUFFIXES:
            yield member_name, IngestError("archives inside archives are not imported; unpack it first")
            continue
        if member.file_size > max_bytes:  # checked before inflating: no zip bombs
            size_mb, limit_mb = member.file_size / 1_048_576, max_bytes / 1_048_576
            yield member_name, IngestError(f"the file is {size_mb:.1f} MB unpacked; the limit is {limit_mb:.1f} MB")
            continue
        try:
            yield member_name, archive.read(member)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            yield member_name, IngestError(f"cannot unpack this file ({exc})")


def _is_hidden(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def document_from_file(name: str, data: bytes) -> Document:
    """Clean text of one file as a draft article; raises IngestError with a reason a curator understands."""
    suffix = suffix_of(name)
    if suffix not in DOCUMENT_SUFFIXES:
        raise IngestError(f"unsupported file type {suffix or '(none)'}; use {SUPPORTED_DESCRIPTION}")
    if not data:
        raise IngestError("the file is empty")
    stem = PurePosixPath(name).stem.replace("_", " ").replace("-", " ").strip() or "Untitled"
    if suffix in PDF_SUFFIXES:
        title, body = pdf_to_markdown(data)
    elif suffix in HTML_SUFFIXES:
        title, body = html_to_markdown(decode_text(data))
    elif suffix in MARKDOWN_SUFFIXES:
        title, body = _split_markdown_title(decode_text(data))
    else:
        title, body = _split_text_title(decode_text(data))
    body = body.strip()
    if not plain_text(body).strip():
        raise IngestError("no text found in the file")
    title = _one_line(title)[:200] or stem[:200]
    return Document(title=title, body=body, language=language_of(title + " " + body[:4000]))


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030, the usual Chinese encodings."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        if b"\x00" in data:
            raise IngestError("this does not look like a text file (it contains binary data)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise IngestError("cannot tell the text encoding; save the file as UTF-8") from exc
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _split_markdown_title(text: str) -> tuple[str, str]:
    """The first `# ` heading is the title; the rest is the body."""
    match = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    if match and not text[: match.start()].strip():
        return match.group(1), text[match.end() :]
    return "", text


def _split_text_title(text: str) -> tuple[str, str]:
    lines = text.strip().split("\n", 1)
    first = lines[0].strip()
    if first and len(first) <= 120 and len(lines) > 1:
        return first, lines[1]
    return "", text


# --- HTML ------------------------------------------------------------------------------

HTML_KEPT_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "ul", "ol", "li", "a", "strong", "b", "em", "i",
    "code", "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "div", "section", "article",
}


class _TitleFinder(HTMLParser):
    """Reads the <title> (or the first <h1>) without running anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("title", "h1") and self._in is None:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title" and not self.title.strip():
            self.title += data
        elif self._in == "h1" and not self.h1.strip():
            self.h1 += data


class _MarkdownWriter(HTMLParser):
    """Sanitised HTML to Markdown: headings, paragraphs, lists, links, emphasis, code, tables."""

    BLOCKS = {"p", "div", "section", "article", "blockquote", "table", "ul", "ol", "pre"}
    # Inline tags and the Markdown that opens and closes them alike.
    MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.list_depth = 0
        self.in_pre = False
        self.href: str | None = None
        self.link_text: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.rows_in_table = 0

    def _emit(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        elif self.href is not None:
            self.link_text.append(text)
        else:
            self.out.append(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
            if tag in ("ul", "ol"):
                self.list_depth += 1
            if tag == "table":
                self.rows_in_table = 0
            if tag == "pre":
                self.in_pre = True
                self.out.append("```\n")
        elif tag == "li":
            self.out.append("\n" + "  " * max(self.list_depth - 1, 0) + "- ")
        elif tag == "br":
            self._emit("\n")
        elif tag in self.MARKS or (tag == "code" and not self.in_pre):
            self._emit(self.MARKS.get(tag, "`"))
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.href = href if href.startswith(("http://", "https://", "mailto:")) else ""
            self.link_text = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.out.append("\n\n")
        elif tag in self.BLOCKS:
            if tag == "pre":
                self.in_pre = False
                self.out.append("\n```")
            if tag in ("ul", "ol"):
                self.list_depth = max(self.list_depth - 1, 0)
            self.out.append("\n\n")
        elif tag in self.MARKS or (tag == "code" and not self.in_pre):
            self._emit(self.MARKS.get(tag, "`"))
        elif tag == "a" and self.href is not None:
            text = _one_line("".join(self.link_text))
            href, self.href = self.href, None
            self._emit(f"[{text}]({href})" if href and text else text)
        elif tag in ("td", "th") and self.cell is not None:
            if self.row is not None:
                self.row.append(_one_line("".join(self.cell)))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.out.append("\n| " + " | ".join(self.row) + " |")
            if self.rows_in_table == 0:  # Markdown tables need the separator under the first row
                self.out.append("\n|" + " --- |" * len(self.row))
            self.rows_in_table += 1
            self.row = None

    def handle_data(self, data: str) -> None:
        self._emit(data if self.in_pre else re.sub(r"\s+", " ", data))

    def markdown(self) -> str:
        text = "".join(self.out)
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n[ \t]+(?=[^-\s])", "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_markdown(html: str) -> tuple[str, str]:
    """Sanitise (scripts, styles, event handlers and unknown tags go), then write Markdown."""
    finder = _TitleFinder()
    finder.feed(html)
    title = _one_line(finder.title) or _one_line(finder.h1)
    clean = nh3.clean(
        html,
        tags=HTML_KEPT_TAGS,
        clean_content_tags={"script", "style", "title", "noscript", "template", "iframe", "object", "svg"},
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    writer = _MarkdownWriter()
    writer.feed(clean)
    body = writer.markdown()
    if title:
        # The page's own top heading repeats the title: do not keep it twice.
        body = re.sub(rf"^#\s+{re.escape(title)}\s*\n", "", body, count=1)
    return title, body


# --- PDF -------------------------------------------------------------------------------


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


# --- Markdown -> plain text blocks -> chunks -----------------------------------------------

_markdown = MarkdownIt("commonmark").enable("table")


@dataclass
class Block:
    headings: tuple[str, ...]
    text: str


def _inline_text(token: object) -> str:
    parts: list[str] = []
    for child in getattr(token, "children", None) or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n" if child.type == "hardbreak" else " ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def markdown_blocks(markdown: str) -> list[Block]:
    """Paragraphs, list items, code and table rows in reading order, each with its heading path."""
    tokens = _markdown.parse(markdown)
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    pending_heading: int | None = None
    list_depth = 0
    row: list[str] | None = None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            pending_heading = int(token.tag[1])
        elif token.type == "inline" and pending_heading is not None:
            level = pending_heading
            headings = [h for h in headings if h[0] < level] + [(level, _one_line(_inline_text(token)))]
            pending_heading = None
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append(Block(tuple(h[1] for h in headings), " | ".join(row)))
            row = None
        elif token.type == "inline":
            text = _inline_text(token).strip()
            if row is not None:
                row.append(text)
            elif text:
                prefix = "- " if list_depth and tokens[index - 1].type == "paragraph_open" else ""
                blocks.append(Block(tuple(h[1] for h in headings), prefix + text))
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(tuple(h[1] for h in headings), token.content.strip()))
    return blocks


def plain_text(markdown: str) -> str:
    return "\n".join(block.text for block in markdown_blocks(markdown))


_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=[.!?])\s+")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


class TimeBudgetExceeded(Exception):
    """Chunking ran past its deadline (KNOWLEDGE_INDEX_TIME_BUDGET_S); the indexer marks the article failed."""


def check_deadline(deadline: float | None) -> None:
    """Raise TimeBudgetExceeded once time.monotonic() is past `deadline` (None: no deadline)."""
    if deadline is not None and time.monotonic() > deadline:
        raise TimeBudgetExceeded


def _hard_split(text: str, max_tokens: int, deadline: float | None = None) -> list[str]:
    """A sentence longer than a whole chunk: cut it by characters, at a space when there is one.

    The text is walked by index, and each piece is looked for in a window of
    4 characters per token (no text longer than that fits the budget), so the
    work grows with the text's length, not with its square: slicing off each
    piece and measuring the whole rest again made a 400 KB paragraph without
    sentence ends take 18 s to chunk.
    """
    window = 4 * max(max_tokens, 1)
    pieces: list[str] = []
    start, end = 0, len(text)
    while start < end:
        check_deadline(deadline)
        if end - start <= window and estimate_tokens(text[start:]) <= max_tokens:
            pieces.append(text[start:])
            break
        head = text[start : start + window]
        low, high = 1, len(head)
        while low < high:  # the longest prefix that fits
            mid = (low + high + 1) // 2
            if estimate_tokens(head[:mid]) <= max_tokens:
                low = mid
            else:
                high = mid - 1
        cut = head.rfind(" ", 0, low)
        cut = cut if cut > low // 2 else low
        pieces.append(head[:cut].strip())
        start += cut
        while start < end and text[start].isspace():
            start += 1
    return pieces


def _counts(text: str) -> tuple[int, int]:
    """(wide, other) characters of `text`, the two terms of its token estimate."""
    wide = wide_chars(text)
    return wide, len(text) - wide


def chunk_markdown(
    markdown: str, *, max_tokens: int, overlap_tokens: int, deadline: float | None = None
) -> list[ChunkDraft]:
    """Chunks along headings and paragraphs; a long section is packed paragraph by paragraph,
    and each chunk after the first of a section repeats the previous one's last sentences.

    Each paragraph is measured once and the chunk being packed keeps running
    character counts, so the work is linear in the text's length. Past
    `deadline` (time.monotonic()) it raises TimeBudgetExceeded.
    """
    chunks: list[ChunkDraft] = []
    sections: list[tuple[tuple[str, ...], list[str]]] = []
    for block in markdown_blocks(markdown):
        if sections and sections[-1][0] == block.headings:
            sections[-1][1].append(block.text)
        else:
            sections.append((block.headings, [block.text]))
    for headings, texts in sections:
        check_deadline(deadline)
        heading = " › ".join(headings)
        units: list[str] = []  # paragraphs, or the sentences of a paragraph too long to keep whole
        for text in texts:
            if estimate_tokens(text) <= max_tokens:
                units.append(text)
            else:
                for sentence in _sentences(text):
                    units.extend(_hard_split(sentence, max_tokens, deadline))
        current: list[str] = []
        wide = other = 0  # of "\n".join(current)
        for unit in units:
            check_deadline(deadline)
            unit_wide, unit_other = _counts(unit)
            if current and tokens_from_counts(wide + unit_wide, other + 1 + unit_other) > max_tokens:
                chunks.append(_draft(heading, current))
                room = max_tokens - tokens_from_counts(unit_wide, unit_other)
                current = _overlap(current, overlap_tokens, room=room)
                wide, other = _counts(current[0]) if current else (0, 0)
            if current:
                wide, other = wide + unit_wide, other + 1 + unit_other
            else:
                wide, other = unit_wide, unit_other
            current.append(unit)
        if current:
            chunks.append(_draft(heading, current))
    return chunks


def _overlap(previous: list[str], overlap_tokens: int, *, room: int) -> list[str]:
    """The last sentences of the previous chunk, up to `overlap_tokens`, so a fact cut at a boundary survives."""
    budget = min(overlap_tokens, room)
    carried: list[str] = []  # last sentence first
    wide = other = 0  # of " ".join(carried)
    for sentence in reversed(_sentences(previous[-1]) if previous else []):
        sentence_wide, sentence_other = _counts(sentence)
        sentence_other += 1 if carried else 0  # the joining space
        if tokens_from_counts(wide + sentence_wide, other + sentence_other) > budget:
            break
        carried.append(sentence)
        wide, other = wide + sentence_wide, other + sentence_other
    return [" ".join(reversed(carried))] if carried else []


def _draft(heading: str, parts: list[str]) -> ChunkDraft:
    text = "\n".join(parts).strip()
    return ChunkDraft(heading=heading, text=text, token_count=estimate_tokens(text))
