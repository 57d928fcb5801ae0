"""Citation markers in streamed text: `[1]`-style markers (and the no-answer marker) taken out as the text
streams, and the reply's sources recorded with which of them were cited."""

from __future__ import annotations

import re
from typing import Any

from knowledge.retrieval.search import Hit

from ..confidence import NO_ANSWER_MARKER

_MARKER = re.compile(r"[ \t]*[\[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]")
# Held back until the next piece: trailing spaces (a marker may follow) and an unclosed marker.
_PARTIAL_MARKER = re.compile(r"[ \t]*(?:[\[【][\d\s,，、]{0,12})?$")


class CitationFilter:
    """Takes `[1]`-style markers for the given sources, and the no-answer marker, out of streamed text,
    remembering which sources were cited and whether the model said it could not answer.

    A marker may arrive split across chunks, so a trailing `[` with digits (or
    a beginning of the no-answer marker) is held back until it is complete;
    numbers outside the sources are left as text.
    """

    def __init__(self, source_count: int) -> None:
        self.source_count = source_count
        self.cited: set[int] = set()
        self.no_answer = False
        self._held = ""

    def _strip_no_answer(self, text: str) -> str:
        if NO_ANSWER_MARKER in text:
            self.no_answer = True
            text = text.replace(NO_ANSWER_MARKER, "")
        return text

    @staticmethod
    def _partial_no_answer(text: str) -> int:
        """Where a possible beginning of the no-answer marker starts at the end of `text`, else -1."""
        start = text.rfind("[", max(len(text) - len(NO_ANSWER_MARKER), 0))
        if start >= 0 and NO_ANSWER_MARKER.startswith(text[start:]):
            return start
        return -1

    def _strip(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
            if not numbers or any(not 1 <= n <= self.source_count for n in numbers):
                return match.group(0)
            self.cited.update(numbers)
            return ""

        return _MARKER.sub(replace, text)

    def feed(self, text: str) -> str:
        text = self._held + text
        if "[" not in text and "【" not in text and not text.endswith((" ", "\t")):
            self._held = ""  # no marker, nor a beginning of one: most pieces, passed on without a search
            return text
        text = self._strip_no_answer(text)
        if self.source_count:
            text = self._strip(text)
        cut = self._partial_no_answer(text)
        if self.source_count:
            partial = _PARTIAL_MARKER.search(text)
            if partial and partial.start() < len(text):
                cut = partial.start() if cut < 0 else min(cut, partial.start())
        if cut >= 0:
            self._held = text[cut:]
            return text[:cut]
        self._held = ""
        return text

    def finish(self) -> str:
        text, self._held = self._strip_no_answer(self._held), ""
        return self._strip(text) if self.source_count else text


def source_records(sources: list[tuple[Hit, str]], cited: set[int]) -> list[dict[str, Any]]:
    """The reply's `sources` field: each source the model was given, with its scores (for the agents, the
    confidence and the answer cache) and whether the reply cited it."""
    return [
        {
            "n": number,
            "article_id": hit.article_id,
            "chunk_id": hit.chunk_id,
            "title": hit.title,
            "url": hit.url,
            "heading": hit.heading,
            "vector_score": None if hit.vector_score is None else round(hit.vector_score, 4),
            "keyword_score": round(hit.keyword_score, 4),
            "fused_score": round(hit.fused_score, 5),
            "coverage": hit.coverage,
            "cited": number in cited,
        }
        | ({"action_call_id": hit.action_call_id, "article_id": None, "chunk_id": None}
           if getattr(hit, "action_call_id", 0) else {})
        for number, (hit, _) in enumerate(sources, start=1)
    ]
