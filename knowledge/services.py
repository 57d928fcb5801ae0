"""Writes of the knowledge base: curation, indexing, imports, the demo content.

Every change to what customers may be told (publishing, unpublishing,
deleting, re-indexing published text, FAQ edits) bumps the knowledge-base
version in the same transaction: retrieval snapshots are rebuilt from it and
the answer cache keys on it, so nothing stale is served. Indexing and
imports run as tasks queued after the commit.
"""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from helpdesk import ollama as gateway
from helpdesk.celery import enqueue

from . import ingest
from .embedding import embed_texts
from .models import FAQ, Article, Chunk, ImportFile, ImportJob, IndexStatus, KnowledgeState
from .retrieval.terms import tokenize

logger = logging.getLogger(__name__)

DEMO_PATH = Path(__file__).resolve().parent / "demo" / "demo.json"


# --- the version -----------------------------------------------------------------------


def knowledge_version_bump() -> int:
    """Call inside the transaction that changes published knowledge.

    The new version is at least the current time in milliseconds, so a number
    is never used twice, not even after a rolled-back transaction or a
    restored backup: a process's snapshot or a cached answer keyed on an old
    number can never pass for the new knowledge.
    """
    now_ms = int(time.time() * 1000)
    updated = KnowledgeState.objects.filter(pk=1).update(
        version=Greatest(F("version") + 1, Value(now_ms)), changed_at=timezone.now()
    )
    if not updated:
        # The row is gone (a flushed database).
        KnowledgeState.objects.get_or_create(pk=1, defaults={"version": now_ms})
    return KnowledgeState.objects.values_list("version", flat=True).get(pk=1)


def _index_later(article_ids: Iterable[int]) -> None:
    from .tasks import index_article

    for article_id in article_ids:
        transaction.on_commit(lambda article_id=article_id: enqueue(index_article, article_id))


def _index_faq_later(faq_id: int) -> None:
    from .tasks import index_faq

    transaction.on_commit(lambda: enqueue(index_faq, faq_id))


# --- articles --------------------------------------------------------------------------


def article_save(*, article: Article, editor: Any = None, content_changed: bool, was_published: bool) -> Article:
    """Save an article edited in admin; a new text gets a new version and is re-indexed in the background."""
    with transaction.atomic():
        if article.pk and content_changed:
            article.version = F("version") + 1
            article.index_status = IndexStatus.PENDING
        if article.status == Article.Status.PUBLISHED and not article.published_at:
            article.published_at = timezone.now()
        if editor is not None and getattr(editor, "is_authenticated", False):
            article.last_editor = editor
        article.save()
        article.refresh_from_db()
        if was_published or article.status == Article.Status.PUBLISHED:
            knowledge_version_bump()
        if content_changed or article.index_status != IndexStatus.INDEXED:
            _index_later([article.pk])
    return article


def articles_publish(*, article_ids: Iterable[int], editor: Any = None) -> int:
    with transaction.atomic():
        articles = Article.objects.filter(pk__in=list(article_ids)).exclude(status=Article.Status.PUBLISHED)
        ids = list(articles.values_list("pk", flat=True))
        changes: dict[str, Any] = {"status": Article.Status.PUBLISHED, "updated_at": timezone.now()}
        if editor is not None and getattr(editor, "is_authenticated", False):
            changes["last_editor"] = editor
        Article.objects.filter(pk__in=ids).update(**changes)
        Article.objects.filter(pk__in=ids, published_at__isnull=True).update(published_at=timezone.now())
        if ids:
            knowledge_version_bump()
            # Published text must be in the index: anything not indexed yet is queued.
            unindexed = Article.objects.filter(pk__in=ids).exclude(index_status=IndexStatus.INDEXED)
            _index_later(list(unindexed.values_list("pk", flat=True)))
    return len(ids)


def articles_unpublish(*, article_ids: Iterable[int], editor: Any = None) -> int:
    """Back to draft; retrieval stops finding them with the next search (the version changes)."""
    with transaction.atomic():
        articles = Article.objects.filter(pk__in=list(article_ids), status=Article.Status.PUBLISHED)
        changes: dict[str, Any] = {"status": Article.Status.DRAFT, "updated_at": timezone.now()}
        if editor is not None and getattr(editor, "is_authenticated", False):
            changes["last_editor"] = editor
        count = articles.update(**changes)
        if count:
            knowledge_version_bump()
    return count


def articles_delete(*, article_ids: Iterable[int]) -> int:
    with transaction.atomic():
        articles = Article.objects.filter(pk__in=list(article_ids))
        published = articles.filter(status=Article.Status.PUBLISHED).exists()
        count, _ = articles.delete()
        if published:
            knowledge_version_bump()
    return count


def articles_reindex(*, article_ids: Iterable[int]) -> int:
    ids = list(article_ids)
    with transaction.atomic():
        count = Article.objects.filter(pk__in=ids).update(index_status=IndexStatus.PENDING, index_error="")
        _index_later(ids)
    return count


@dataclass
class IndexReport:
    article_id: int
    outcome: str  # "indexed", "up_to_date", "failed", "superseded", "missing"
    chunks: int = 0
    embedded: bool = False
    error: str = ""


def chunk_embedding_input(*, title: str, heading: str, text: str) -> str:
    """What gets embedded: the passage with its title and section, which carry much of its meaning."""
    return "\n".join(part for part in (title, heading, text) if part)


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
    deadline = time.monotonic() + budget
    try:
        drafts = ingest.chunk_markdown(
            article.body,
            max_tokens=settings.KNOWLEDGE_CHUNK_TOKENS,
            overlap_tokens=settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS,
            deadline=deadline,
        )
        if not drafts:
            return _index_failed(article, version, "the article has no text to index")
        search_tokens = []
        for draft in drafts:
            ingest.check_deadline(deadline)
            search_tokens.append(" ".join(tokenize(f"{article.title}\n{draft.heading}\n{draft.text}")))
        embed_error = ""
        vectors: np.ndarray | None = None
        try:
            vectors = embed_texts(
                [chunk_embedding_input(title=article.title, heading=d.heading, text=d.text) for d in drafts],
                deadline=deadline,
            )
        except (gateway.OllamaError, ValueError) as exc:
            embed_error = f"keyword search only, embedding failed: {exc}"
            logger.warning("article %s indexed without vectors: %s", article_id, exc)
    except ingest.TimeBudgetExceeded:
        logger.warning("indexing article %s stopped after %s s (KNOWLEDGE_INDEX_TIME_BUDGET_S)", article_id, budget)
        return _index_failed(
            article, version, f"indexing took longer than {budget:g} s: split the document into smaller articles"
            " (or raise KNOWLEDGE_INDEX_TIME_BUDGET_S)"
        )
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
                    search_tokens=search_tokens[ordinal],
                    token_count=draft.token_count,
                    embedding=vectors[ordinal].astype(np.float32).tobytes() if vectors is not None else None,
                    embedding_dim=vectors.shape[1] if vectors is not None else None,
                    embed_model=model if vectors is not None else "",
                    article_version=version,
                )
                for ordinal, draft in enumerate(drafts)
            ]
        )
        locked.index_status = IndexStatus.INDEXED
        locked.index_error = embed_error
        locked.indexed_version = version
        locked.chunk_count = len(drafts)
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
    return IndexReport(article_id, "indexed", chunks=len(drafts), embedded=vectors is not None, error=embed_error)


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


# --- FAQ -------------------------------------------------------------------------------


def faq_save(*, faq: FAQ, editor: Any = None, was_published: bool) -> FAQ:
    with transaction.atomic():
        if editor is not None and getattr(editor, "is_authenticated", False):
            faq.last_editor = editor
        faq.save()
        if was_published or faq.published:
            knowledge_version_bump()
        _index_faq_later(faq.pk)
    return faq


def faqs_set_published(*, faq_ids: Iterable[int], published: bool) -> int:
    with transaction.atomic():
        count = FAQ.objects.filter(pk__in=list(faq_ids)).exclude(published=published).update(
            published=published, updated_at=timezone.now()
        )
        if count:
            knowledge_version_bump()
    return count


def faqs_delete(*, faq_ids: Iterable[int]) -> int:
    with transaction.atomic():
        faqs = FAQ.objects.filter(pk__in=list(faq_ids))
        published = faqs.filter(published=True).exists()
        count, _ = faqs.delete()
        if published:
            knowledge_version_bump()
    return count


def faq_index(*, faq_id: int, force: bool = False) -> str:
    """Embed every phrasing of an FAQ entry, for matching questions that are worded differently."""
    faq = FAQ.objects.filter(pk=faq_id).first()
    if faq is None:
        return "missing"
    phrasings = faq.phrasings
    try:
        vectors = embed_texts(phrasings)
    except (gateway.OllamaError, ValueError) as exc:
        FAQ.objects.filter(pk=faq_id).update(
            index_error=f"exact matches only, embedding failed: {exc}", embeddings=None, embedding_dim=None,
            embed_model="",
        )
        return "failed"
    with transaction.atomic():
        locked = FAQ.objects.select_for_update().filter(pk=faq_id).first()
        if locked is None or locked.phrasings != phrasings:
            return "superseded"
        locked.embeddings = vectors.astype(np.float32).tobytes()
        locked.embedding_dim = vectors.shape[1]
        locked.embed_model = settings.OLLAMA_EMBED_MODEL
        locked.index_error = ""
        locked.save(update_fields=["embeddings", "embedding_dim", "embed_model", "index_error"])
        if locked.published:
            knowledge_version_bump()
    return "indexed"


# --- imports ---------------------------------------------------------------------------


def _documents_in(name: str, data: bytes) -> int:
    """How many documents an upload holds, for the progress bar (a .zip counts its files)."""
    if ingest.suffix_of(name) not in ingest.ZIP_SUFFIXES:
        return 1
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return 1
    count = sum(1 for m in members if not m.is_dir() and not ingest._is_hidden(m.filename))
    return max(min(count, settings.KNOWLEDGE_IMPORT_MAX_FILES), 1)


def import_job_create(
    *, files: list[tuple[str, bytes]], rejected: list[tuple[str, str]] | None = None, user: Any = None
) -> ImportJob:
    """Store the uploads and queue their import; the admin follows the job's progress.

    `rejected` are files refused before upload was read (too big, wrong
    type): they are reported in the job's results like any other failure.
    """
    from .tasks import import_files

    failures = [{"name": name, "ok": False, "error": error} for name, error in rejected or []]
    with transaction.atomic():
        job = ImportJob.objects.create(
            created_by=user if getattr(user, "is_authenticated", False) else None,
            total=sum(_documents_in(name, data) for name, data in files) + len(failures),
            processed=len(failures),
            results=failures,
            status=ImportJob.Status.QUEUED if files else ImportJob.Status.DONE,
            finished_at=None if files else timezone.now(),
        )
        ImportFile.objects.bulk_create(
            [ImportFile(job=job, name=name[:255], size=len(data), content=data) for name, data in files]
        )
        if files:
            transaction.on_commit(lambda: enqueue(import_files, job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Turn each uploaded document into a draft article; one broken file never stops the others."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ImportJob.Status.DONE:
        return job
    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.RUNNING)
    for upload in job.files.filter(processed=False):
        data = bytes(upload.content)
        documents = ingest.expand_upload(
            upload.name,
            data,
            max_bytes=settings.KNOWLEDGE_IMPORT_MAX_BYTES,
            max_files=settings.KNOWLEDGE_IMPORT_MAX_FILES,
        )
        for name, content in documents:
            result = _import_document(name, content, job)
            with transaction.atomic():
                locked = ImportJob.objects.select_for_update().get(pk=job_id)
                locked.results = [*locked.results, result]
                locked.processed = len(locked.results)
                locked.total = max(locked.total, locked.processed)
                locked.save(update_fields=["results", "processed", "total"])
        ImportFile.objects.filter(pk=upload.pk).update(processed=True, content=b"")
    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.DONE, finished_at=timezone.now())
    return ImportJob.objects.get(pk=job_id)


def _import_document(name: str, content: bytes | ingest.IngestError, job: ImportJob) -> dict[str, Any]:
    try:
        if isinstance(content, ingest.IngestError):
            raise content
        ingest.check_size(name, len(content), settings.KNOWLEDGE_IMPORT_MAX_BYTES)
        document = ingest.document_from_file(name, content)
        with transaction.atomic():
            article = Article.objects.create(
                title=document.title,
                body=document.body,
                language=document.language,
                status=Article.Status.DRAFT,
                source_name=name[:255],
                last_editor=job.created_by,
            )
            _index_later([article.pk])
        return {"name": name, "ok": True, "article_id": article.pk, "title": article.title}
    except ingest.IngestError as exc:
        return {"name": name, "ok": False, "error": str(exc)}
    except Exception as exc:  # a parser bug on one file must not lose the rest of the import
        logger.exception("importing %s failed", name)
        return {"name": name, "ok": False, "error": f"unexpected error: {exc}"}


# --- demo content ----------------------------------------------------------------------


def demo_load(*, only_if_empty: bool = False) -> tuple[int, int]:
    """The demo shop's knowledge base, published; entries already there (same title/question) are kept."""
    if only_if_empty and (Article.objects.exists() or FAQ.objects.exists()):
        return 0, 0
    data = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    created_articles: list[int] = []
    created_faqs: list[int] = []
    with transaction.atomic():
        for item in data["articles"]:
            if Article.objects.filter(title=item["title"]).exists():
                continue
            article = Article.objects.create(
                title=item["title"], body=item["body"], language=item["language"], tags=item.get("tags", ""),
                public_url=item.get("public_url", ""), status=Article.Status.PUBLISHED, published_at=timezone.now(),
                source_name="demo",
            )
            created_articles.append(article.pk)
        for item in data["faqs"]:
            if FAQ.objects.filter(question=item["question"]).exists():
                continue
            faq = FAQ.objects.create(
                question=item["question"], alternatives="\n".join(item.get("alternatives", [])),
                answer=item["answer"], language=item["language"], published=True,
            )
            created_faqs.append(faq.pk)
        if created_articles or created_faqs:
            knowledge_version_bump()
        _index_later(created_articles)
        for faq_id in created_faqs:
            _index_faq_later(faq_id)
    return len(created_articles), len(created_faqs)
