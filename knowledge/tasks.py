"""Celery tasks of the knowledge base: thin, named, idempotent, ids only (queue `knowledge`)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .services.faq import faq_index
from .services.imports import import_job_run
from .services.indexing import article_index
from .services.sync import source_sync, sources_sync_due


@shared_task(name="knowledge.index_article", acks_late=True, reject_on_worker_lost=True)
def index_article(article_id: int, **kwargs: Any) -> str:
    """Chunk and embed one article; an article already indexed at its version is left alone."""
    return article_index(article_id=article_id).outcome


@shared_task(name="knowledge.index_faq", acks_late=True, reject_on_worker_lost=True)
def index_faq(faq_id: int, **kwargs: Any) -> str:
    return faq_index(faq_id=faq_id)


@shared_task(name="knowledge.import_files", acks_late=True, reject_on_worker_lost=True)
def import_files(job_id: int, **kwargs: Any) -> None:
    """Turn an import job's uploads into draft articles; files already done are skipped on a redelivery."""
    import_job_run(job_id=job_id)


@shared_task(name="knowledge.sync_sources_due", acks_late=True, reject_on_worker_lost=True)
def sync_sources_due(**kwargs: Any) -> int:
    """Beat: queue a fetch of each synced source whose time has come."""
    return sources_sync_due()


@shared_task(name="knowledge.sync_source", acks_late=True, reject_on_worker_lost=True)
def sync_source(source_id: int, **kwargs: Any) -> str:
    """Fetch one synced source (conditional GETs: a redelivery costs a few 304s and re-indexes nothing)."""
    return source_sync(source_id=source_id).status
