"""Markdown to retrieval chunks: along headings and paragraphs, overlapping a little, within a token budget."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from helpdesk.llm.text import estimate_tokens, tokens_from_counts, wide_chars

from .markdown import markdown_blocks


@dataclass
class ChunkDraft:
    heading: str
    text: str
    token_count: int


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
