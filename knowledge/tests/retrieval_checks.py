"""What the retrieval tests ask of a search, said once: how well the found sections of given articles cover a
question."""

from __future__ import annotations

from knowledge.retrieval.search import search


def coverage_by(question: str, *titles: str, limit: int = 10) -> float:
    """The best coverage of `question` among the search's hits (weak ones included) from articles titled `titles`;
    0 when none of them was found."""
    return max((hit.coverage or 0.0 for hit in search(question, limit=limit, include_weak=True).hits
                if hit.title in titles), default=0.0)
