"""Uploads: the supported file types, size limits, and the documents inside a .zip archive."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath

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
        members = [m for m in archive.infolist() if not m.is_dir() and not is_hidden(m.filename)]
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


def is_hidden(path: str) -> bool:
    """Dot files and macOS resource forks in an archive: never documents, never counted."""
    parts = PurePosixPath(path).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)
