"""Keyword ranking: BM25 over the snapshot's postings (built with the snapshot, in `snapshot`)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from django.conf import settings

from .coverage import vocabulary_forms
from .ranking import top
from .snapshot import BM25_K1, Snapshot
from .terms import QUERY_EXPANSION_WEIGHT, query_terms


def keyword_scores(snapshot: Snapshot, query: str) -> np.ndarray:
    """The BM25 score of every chunk of the snapshot for `query` (zero where no term matches).

    Each term's part is scaled by its weight from `query_terms`: character
    pairs and glued words' characters count half, so they tip the balance
    between articles without outranking a shared word. An English word the
    knowledge base does not have is searched by the forms it has of it
    (`coverage.vocabulary_forms`: "arives" as "arrive", "warrenty" as
    "warranty"), at that weight too: coverage already reads them so, and a
    source no keyword found could not be given.
    """
    scores = np.zeros(len(snapshot.chunks), dtype=np.float32)
    terms = query_terms(query)
    for term in [term for term, weight in terms.items() if weight == 1.0]:
        for form in vocabulary_forms(snapshot, term):
            terms.setdefault(form, QUERY_EXPANSION_WEIGHT)
    for term, weight in terms.items():
        term_id = snapshot.vocabulary.get(term)
        if term_id is None:
            continue
        start, end = snapshot.term_ptr[term_id], snapshot.term_ptr[term_id + 1]
        docs = snapshot.posting_docs[start:end]
        tf = snapshot.posting_tf[start:end]
        scores[docs] += weight * snapshot.idf[term_id] * tf * (BM25_K1 + 1) / (tf + snapshot.length_norm[docs])
    return scores


def keyword_ranking(snapshot: Snapshot, query: str) -> Iterator[tuple[int, float]]:
    """The best RETRIEVAL_CANDIDATES chunks sharing a term with `query`: (position, score), best first."""
    scores = keyword_scores(snapshot, query)
    for position in top(scores, settings.RETRIEVAL_CANDIDATES):
        if scores[position] <= 0:
            break
        yield int(position), float(scores[position])
