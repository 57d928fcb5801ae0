"""Indexing an article: its Markdown split into chunks, tokenised for keywords and embedded, stored at once."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.celery import enqueue
from helpdesk.llm import ollama as gateway

from ..embedding import embed_texts
from ..ingest import chunking
from ..models import Article, Chunk, IndexStatus
from ..retrieval.terms import index_terms
from .version import knowledge_version_bump

logger = logging.getLogger(__name__)


def index_later(article_ids: Iterable[int]) -> None:
    """Queue each article's indexing once the current transaction commits (task `knowledge.index_article`)."""
    for article_id in article_ids:
        transaction.on_commit(lambda article_id=article_id: enqueue("knowledge.index_article", article_id))


@dataclass
class IndexReport:
    article_id: int
    outcome: str  # "indexed", "up_to_date", "failed", "superseded", "missing"
    chunks: int = 0
    embedded: bool = False
    error: str = ""


@dataclass
class _Prepared:
    """An article's chunks with their search tokens and vectors, computed before any row is locked."""

    drafts: list[chunking.ChunkDraft]
    search_tokens: list[str] = field(default_factory=list)
    vectors: np.ndarray | None = None
    embed_error: str = ""


def chunk_embedding_input(*, title: str, heading: str, text: str) -> str:
    """What gets embedded: the passage with its title and section, which carry much of its meaning."""
    return "\n".join(part for part in (title, heading, text) if part)


def chunk_search_tokens(*, title: str, tags: str, heading: str, text: str) -> str:
    """A chunk's stored keyword terms. The tags are in: a curator's keywords in the other language
    ("battery" on a Chinese article) let a question in that language find it without vectors."""
    return " ".join(index_terms(f"{title}\n{tags}\n{heading}\n{text}"))


def article_index(*, article_id: int, force: bool = False) -> IndexReport:
    """Split, embed and store an article's chunks, replacing the old ones in one transaction (idempotent).

    When the embedding model cannot be reached the chunks are stored without
    vectors (keyword search still finds them) and the reason is shown in
    admin; `manage.py reindex` or the admin action embeds them later.
    """
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return IndexReport(article_id, "missing")
    model = settings.OLLAMA_EMBED_MODEL
    if (
        not force
        and article.index_status == IndexStatus.INDEXED
        and article.indexed_version == article.version
        and article.embedded
        and article.embed_model == model
    ):
        return IndexReport(article_id, "up_to_date", chunks=article.chunk_count, embedded=True)
    version = article.version
    budget = settings.KNOWLEDGE_INDEX_TIME_BUDGET_S
    try:
        prepared = _article_prepare(article, deadline=time.monotonic() + budget)
    except chunking.TimeBudgetExceeded:
        logger.warning("indexing article %s stopped after %s s (KNOWLEDGE_INDEX_TIME_BUDGET_S)", article_id, budget)
        return _index_failed(
            article, version, f"indexing took longer than {budget:g} s: split the document into smaller articles"
            " (or raise KNOWLEDGE_INDEX_TIME_BUDGET_S)"
        )
    if not prepared.drafts:
        return _index_failed(article, version, "the article has no text to index")
    return _chunks_replace(article_id, version, prepared, model)


def _article_prepare(article: Article, *, deadline: float) -> _Prepared:
    """Chunks, search tokens and vectors; without vectors (and the reason) when embedding fails.

    Raises chunking.TimeBudgetExceeded past `deadline` (time.monotonic()).
    """
    drafts = chunking.chunk_markdown(
        article.body,
        max_tokens=settings.KNOWLEDGE_CHUNK_TOKENS,
        overlap_tokens=settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS,
        deadline=deadline,
    )
    prepared = _Prepared(drafts=drafts)
    if not drafts:
        return prepared
    for draft in drafts:
        chunking.check_deadline(deadline)
        prepared.search_tokens.append(
            chunk_search_tokens(title=article.title, tags=article.tags, heading=draft.heading, text=draft.text)
        )
    try:
        prepared.vectors = embed_texts(
            [chunk_embedding_input(title=article.title, heading=d.heading, text=d.text) for d in drafts],
            deadline=deadline,
        )
    except (gateway.OllamaError, ValueError) as exc:
        prepared.embed_error = f"keyword search only, embedding failed: {exc}"
        logger.warning("article %s indexed without vectors: %s", article.pk, exc)
    return prepared


def _chunks_replace(article_id: int, version: int, prepared: _Prepared, model: str) -> IndexReport:
    """Swap the article's chunks for the prepared ones in one transaction, unless a newer save came since."""
    vectors = prepared.vectors
    with transaction.atomic():
        locked = Article.objects.select_for_update().filter(pk=article_id).first()
        if locked is None:
            return IndexReport(article_id, "missing")
        if locked.version != version:
            return IndexReport(article_id, "superseded")  # a newer save queued its own indexing
        locked.chunks.all().delete()
        Chunk.objects.bulk_create(
            [
                Chunk(
                    article=locked,
                    ordinal=ordinal,
                    heading=draft.heading[:500],
                    text=draft.text,
                    search_tokens=prepared.search_tokens[ordinal],
                    token_count=draft.token_count,
                    embedding=vectors[ordinal].astype(np.float32).tobytes() if vectors is not None else None,
                    embedding_dim=vectors.shape[1] if vectors is not None else None,
                    embed_model=model if vectors is not None else "",
                    article_version=version,
                )
                for ordinal, draft in enumerate(prepared.drafts)
            ]
        )
        locked.index_status = IndexStatus.INDEXED
        locked.index_error = prepared.embed_error
        locked.indexed_version = version
        locked.chunk_count = len(prepared.drafts)
        locked.embedded = vectors is not None
        locked.embed_model = model if vectors is not None else ""
        locked.indexed_at = timezone.now()
        locked.save(
            update_fields=[
                "index_status", "index_error", "indexed_version", "chunk_count", "embedded", "embed_model", "indexed_at"
            ]
        )
        if locked.status == Article.Status.PUBLISHED:
            knowledge_version_bump()
    return IndexReport(article_id, "indexed", chunks=len(prepared.drafts), embedded=vectors is not None,
                       error=prepared.embed_error)


def _index_failed(article: Article, version: int, error: str) -> IndexReport:
    """Nothing half-indexed is served: a failed article has no chunks at all."""
    with transaction.atomic():
        locked = Article.objects.select_for_update().filter(pk=article.pk).first()
        if locked is None or locked.version != version:
            return IndexReport(article.pk, "superseded")
        had_chunks = locked.chunks.exists()
        locked.chunks.all().delete()
        locked.index_status = IndexStatus.FAILED
        locked.index_error = error
        locked.chunk_count = 0
        locked.embedded = False
        locked.indexed_version = None
        locked.indexed_at = timezone.now()
        locked.save(
            update_fields=["index_status", "index_error", "chunk_count", "embedded", "indexed_version", "indexed_at"]
        )
        if had_chunks and locked.status == Article.Status.PUBLISHED:
            knowledge_version_bump()
    return IndexReport(article.pk, "failed", error=error)
