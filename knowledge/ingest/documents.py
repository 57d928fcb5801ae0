"""One uploaded file to a draft article: its format converted to Markdown, a title found, the language told."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from helpdesk.llm.text import language_of

from .html import html_to_markdown
from .markdown import one_line, plain_text, split_markdown_title
from .pdf import pdf_to_markdown
from .uploads import (
    DOCUMENT_SUFFIXES,
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    PDF_SUFFIXES,
    SUPPORTED_DESCRIPTION,
    IngestError,
    suffix_of,
)


@dataclass
class Document:
    title: str
    body: str  # Markdown
    language: str


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
        title, body = split_markdown_title(decode_text(data))
    else:
        title, body = _split_text_title(decode_text(data))
    body = body.strip()
    if not plain_text(body).strip():
        raise IngestError("no text found in the file")
    title = one_line(title)[:200] or stem[:200]
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


def _split_text_title(text: str) -> tuple[str, str]:
    lines = text.strip().split("\n", 1)
    first = lines[0].strip()
    if first and len(first) <= 120 and len(lines) > 1:
        return first, lines[1]
    return "", text
