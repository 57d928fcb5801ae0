"""Top-k selection and reciprocal rank fusion, shared by the vector, keyword and FAQ rankings."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

RRF_K = 60


def top(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` highest scores, best first."""
    if count >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, count)[:count]
    return part[np.argsort(-scores[part], kind="stable")]


def fuse(ranked: Iterable[tuple[int, float]], fused: dict[int, float],
         scores: dict[int, float], ranks: dict[int, int]) -> None:
    """Add one ranking (chunk positions with their scores, best first) to a reciprocal rank fusion.

    A chunk keeps the score and rank of the first ranking that found it: the
    question's own rankings come before a follow-up's context.
    """
    for rank, (position, score) in enumerate(ranked):
        scores.setdefault(position, score)
        ranks.setdefault(position, rank + 1)
        fused[position] = fused.get(position, 0.0) + 1.0 / (RRF_K + rank + 1)
