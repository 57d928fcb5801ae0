"""Vector ranking: cosine similarity of the question's embedding to the snapshot's unit chunk vectors."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings

from ..embedding import QueryVector
from .ranking import top
from .snapshot import Snapshot


def vector_usable(snapshot: Snapshot, query_vector: QueryVector) -> tuple[bool, str]:
    """Whether the question's vector can be compared with the snapshot's, and if not the note saying why."""
    if query_vector.vector is None:
        return False, f"keyword-only: the embedding model is unavailable ({query_vector.error})"
    if not len(snapshot.vector_rows):
        return False, f"keyword-only: no chunk has a {snapshot.embed_model} vector yet (run `manage.py reindex`)"
    if query_vector.vector.shape[0] != snapshot.dim:
        return False, (
            f"keyword-only: the question's vector has {query_vector.vector.shape[0]} dimensions, "
            f"the index {snapshot.dim}; run `manage.py reindex`"
        )
    return True, ""


def vector_ranking(snapshot: Snapshot, query_vector: QueryVector) -> Iterator[tuple[int, float]]:
    """The RETRIEVAL_CANDIDATES most similar chunks: (position, similarity), best first."""
    similarities = snapshot.vectors @ query_vector.vector
    for row in top(similarities, settings.RETRIEVAL_CANDIDATES):
        yield int(snapshot.vector_rows[row]), float(similarities[row])
