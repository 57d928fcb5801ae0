"""Curation of articles: saving, publishing, unpublishing, deleting and re-indexing them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Article, IndexStatus
from .indexing import index_later
from .version import knowledge_version_bump, rows_delete


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
            index_later([article.pk])
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
            index_later(list(unindexed.values_list("pk", flat=True)))
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
    return rows_delete(Article.objects.filter(pk__in=list(article_ids)), status=Article.Status.PUBLISHED)


def articles_reindex(*, article_ids: Iterable[int]) -> int:
    ids = list(article_ids)
    with transaction.atomic():
        count = Article.objects.filter(pk__in=ids).update(index_status=IndexStatus.PENDING, index_error="")
        index_later(ids)
    return count


