"""Imports: uploaded documents (or .zip archives of them) become draft articles, one job at a time."""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.celery import enqueue

from ..ingest import uploads
from ..ingest.documents import document_from_file
from ..models import Article, ImportFile, ImportJob
from .indexing import index_later

logger = logging.getLogger(__name__)


def _documents_in(name: str, data: bytes) -> int:
    """How many documents an upload holds, for the progress bar (a .zip counts its files)."""
    if uploads.suffix_of(name) not in uploads.ZIP_SUFFIXES:
        return 1
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return 1
    count = sum(1 for m in members if not m.is_dir() and not uploads.is_hidden(m.filename))
    return max(min(count, settings.KNOWLEDGE_IMPORT_MAX_FILES), 1)


def import_job_create(
    *, files: list[tuple[str, bytes]], rejected: list[tuple[str, str]] | None = None, user: Any = None
) -> ImportJob:
    """Store the uploads and queue their import; the admin follows the job's progress.

    `rejected` are files refused before upload was read (too big, wrong
    type): they are reported in the job's results like any other failure.
    """
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
            transaction.on_commit(lambda: enqueue("knowledge.import_files", job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Turn each uploaded document into a draft article; one broken file never stops the others."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ImportJob.Status.DONE:
        return job
    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.RUNNING)
    for upload in job.files.filter(processed=False):
        data = bytes(upload.content)
        documents = uploads.expand_upload(
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


def _import_document(name: str, content: bytes | uploads.IngestError, job: ImportJob) -> dict[str, Any]:
    try:
        if isinstance(content, uploads.IngestError):
            raise content
        uploads.check_size(name, len(content), settings.KNOWLEDGE_IMPORT_MAX_BYTES)
        document = document_from_file(name, content)
        with transaction.atomic():
            article = Article.objects.create(
                title=document.title,
                body=document.body,
                language=document.language,
                status=Article.Status.DRAFT,
                source_name=name[:255],
                last_editor=job.created_by,
            )
            index_later([article.pk])
        return {"name": name, "ok": True, "article_id": article.pk, "title": article.title}
    except uploads.IngestError as exc:
        return {"name": name, "ok": False, "error": str(exc)}
    except Exception as exc:  # a parser bug on one file must not lose the rest of the import
        logger.exception("importing %s failed", name)
        return {"name": name, "ok": False, "error": f"unexpected error: {exc}"}


