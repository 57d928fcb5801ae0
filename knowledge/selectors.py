"""Reads of the knowledge base for admin pages and other apps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from . import embedding, retrieval
from .models import Article, ImportJob, IndexStatus


@dataclass
class IndexState:
    level: str  # "ok", "warning", "error", "pending"
    text: str


def article_index_state(article: Article) -> IndexState:
    """What a curator needs to know about an article's place in retrieval, in one line."""
    if article.index_status == IndexStatus.FAILED:
        return IndexState("error", f"failed: {article.index_error}")
    if article.index_status == IndexStatus.PENDING or article.indexed_version is None:
        return IndexState("pending", "pending")
    text = f"indexed, {article.chunk_count} chunk{'s' if article.chunk_count != 1 else ''}"
    if article.indexed_version != article.version:
        return IndexState("pending", f"{text} (of version {article.indexed_version}; re-indexing)")
    if not article.embedded:
        return IndexState("warning", f"{text}, keyword search only ({article.index_error or 'no vectors'})")
    if article.embed_model != settings.OLLAMA_EMBED_MODEL:
        current = settings.OLLAMA_EMBED_MODEL
        return IndexState(
            "warning", f"{text}, vectors from {article.embed_model}: run `manage.py reindex` for {current}"
        )
    return IndexState("ok", text)


def import_job_status(job: ImportJob) -> dict[str, Any]:
    results = [dict(result) for result in job.results]
    return {
        "id": job.pk,
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "percent": round(100 * job.processed / job.total) if job.total else 100,
        "succeeded": sum(1 for r in results if r.get("ok")),
        "failed": sum(1 for r in results if not r.get("ok")),
        "results": results,
    }


def retrieval_preview(*, question: str) -> dict[str, Any]:
    """What the bot would find for a question: ranked chunks with every score, and a direct FAQ answer if any."""
    query_vector = embedding.embed_query(question)
    result = retrieval.search(question, query_vector=query_vector, limit=10, include_weak=True)
    faq = retrieval.faq_match(question, query_vector=query_vector)
    used = 0
    for hit in result.hits:
        strong = hit.keyword_score > 0 or (
            hit.vector_score is not None and hit.vector_score >= settings.RETRIEVAL_MIN_VECTOR_SCORE
        )
        hit.in_prompt = strong and used < settings.RETRIEVAL_TOP_K
        used += int(hit.in_prompt)
    return {
        "hits": result.hits,
        "keyword_only": result.keyword_only,
        "note": result.note,
        "faq": faq,
        "embedding_error": query_vector.error,
        "top_k": settings.RETRIEVAL_TOP_K,
        "faq_threshold": settings.FAQ_SIMILARITY_THRESHOLD,
    }
