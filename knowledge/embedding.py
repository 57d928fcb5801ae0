"""Vectors from the embedding model: the knowledge base's only way to Ollama's `embed`.

`embed_texts` is the one wrapper: batches, a deadline between batches, unit
length, and a count check. Indexing uses it as it is (a failure is raised
and recorded on the article or FAQ entry); questions use `embed_queries`,
which never raises, because a question whose embedding fails is still
answered, from keywords alone.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from helpdesk.llm import ollama as gateway
from helpdesk.runtime import aio

from .ingest import chunking

logger = logging.getLogger(__name__)


@dataclass
class QueryVector:
    vector: np.ndarray | None
    error: str = ""


def unit_vectors(vectors: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or not matrix.size:
        raise ValueError("the embedding model returned no vectors")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def embed_texts(texts: list[str], *, deadline: float | None = None, batch_size: int | None = None) -> np.ndarray:
    """Unit vectors for `texts`, in batches of `batch_size` (default KNOWLEDGE_EMBED_BATCH); raises OllamaError
    or ValueError, and chunking.TimeBudgetExceeded when a batch would start after `deadline` (time.monotonic())."""
    batch_size = max(batch_size or settings.KNOWLEDGE_EMBED_BATCH, 1)
    rows: list[np.ndarray] = []
    for start in range(0, len(texts), batch_size):
        chunking.check_deadline(deadline)
        batch = texts[start : start + batch_size]
        rows.append(_batch_rows(batch, aio.run(gateway.embed(batch, model=settings.OLLAMA_EMBED_MODEL))))
    dims = {row.shape[1] for row in rows}
    if len(dims) > 1:
        raise ValueError(f"the embedding model returned vectors of different sizes {sorted(dims)}")
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def _batch_rows(batch: list[str], vectors: list[list[float]]) -> np.ndarray:
    if len(vectors) != len(batch):
        raise ValueError(f"the embedding model returned {len(vectors)} vectors for {len(batch)} texts")
    return unit_vectors(vectors)


# A question's embedding started early on this thread (`query_embedding_start`): (its text, its future).
_early = threading.local()


def query_embedding_start(text: str) -> None:
    """Start embedding a question now, on the process's stream loop, for this thread's next `embed_queries([text])`
    to take instead of asking Ollama itself: the round trip to the node then runs beside the caller's own work
    (the reply row written while its question is embedded). A next call asking for anything else drops it, and so
    does `query_embedding_drop`; it is never taken by another thread."""
    query_embedding_drop()
    _early.pending = (text, aio.start_shared(gateway.embed([text], model=settings.OLLAMA_EMBED_MODEL)))


def query_embedding_drop() -> None:
    """Forget an embedding started early and not taken (the question was answered without one)."""
    pending: tuple[str, Future] | None = getattr(_early, "pending", None)
    _early.pending = None
    if pending is not None:
        pending[1].cancel()


def _early_take(texts: list[str]) -> Future | None:
    pending: tuple[str, Future] | None = getattr(_early, "pending", None)
    if pending is None:
        return None
    if texts == [pending[0]]:
        _early.pending = None
        return pending[1]
    query_embedding_drop()
    return None


def embed_queries(texts: list[str]) -> list[QueryVector]:
    """Questions' vectors in one Ollama call (a follow-up and its context): the only Ollama call retrieval makes
    on the request path (or one started early, `query_embedding_start`). When the embedding model cannot be
    reached the answer is keyword-only, and the reason is logged and returned for the message's record."""
    early = _early_take(texts)
    try:
        if early is not None:
            return [QueryVector(vector) for vector in _batch_rows(texts, early.result())]
        return [QueryVector(vector) for vector in embed_texts(texts, batch_size=len(texts))]
    except (gateway.OllamaError, ValueError) as exc:
        logger.warning("embedding the question failed, retrieval is keyword-only: %s", exc)
        return [QueryVector(None, error=str(exc)) for _ in texts]


def embed_query(text: str) -> QueryVector:
    """One question's vector (see `embed_queries`)."""
    [query_vector] = embed_queries([text])
    return query_vector
