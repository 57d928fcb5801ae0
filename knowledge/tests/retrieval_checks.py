"""What the retrieval tests ask of a search, said once: how well the found sections of given articles cover a
question."""

from __future__ import annotations

from knowledge.retrieval.relevance import hit_covers
from knowledge.retrieval.search import search


def coverage_by(question: str, *titles: str, limit: int = 10) -> float:
    """The best coverage of `question` among the search's hits (weak ones included) from articles titled `titles`;
    0 when none of them was found."""
    return max((hit.coverage or 0.0 for hit in search(question, limit=limit, include_weak=True).hits
                if hit.title in titles), default=0.0)


def covered_by(question: str, *titles: str, limit: int = 10) -> float:
    """The best a found source covers `question`, its own section's or its article's share (the scope's measure,
    `hit_covers`), among the hits from articles titled `titles`, or among all hits when no title is given."""
    return max((hit_covers(hit) for hit in search(question, limit=limit, include_weak=True).hits
                if not titles or hit.title in titles), default=0.0)
