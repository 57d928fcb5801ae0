"""Synced sources: web pages (one, or every page of a sitemap) kept as articles, fetched again on a schedule.

Each fetch is a conditional GET (If-None-Match / If-Modified-Since from the
last answer): a 304, or a page whose cleaned text is the same as last time,
changes nothing and re-indexes nothing. HTML is cleaned and turned into an
article as an imported .html file is (knowledge.ingest.documents), and a
changed article is chunked and embedded by the same indexing service.

The curator's edits are never thrown away. Each page's fetched text is kept
on its SyncedPage, apart from the article, with the hash of the text last
written into the article. While the article's title and body are still that
text, a change of the page replaces them and is re-indexed. Once a curator
edited the title or body, the article is "edited locally": a later change
of the page is stored on the page and held for review (status `held`,
shown in admin), and only the admin action "Use the fetched text" puts it
into the article. Tags, public URL and published state are the curator's
and no fetch touches them. An article a curator deleted is not re-created.

Failures (an unreachable host, 404, 500, a timeout, too big, not HTML, a
private address) are stored on the page and the source, and one failing
page or source never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.celery import enqueue

from ..ingest import web
from ..ingest.documents import document_from_file
from ..ingest.uploads import IngestError
from ..models import Article, SyncedPage, SyncedSource
from .articles import article_save, articles_unpublish
from .indexing import article_index

logger = logging.getLogger(__name__)


def text_hash(title: str, body: str) -> str:
    """What tells a page's (or an article's) text apart: title and body, nothing else."""
    return hashlib.sha256(f"{title.strip()}\n\n{body.strip()}".encode()).hexdigest()


def article_edited_locally(page: SyncedPage) -> bool:
    """A curator changed the article's title or body since a fetch last wrote them."""
    article = page.article
    return article is not None and text_hash(article.title, article.body) != page.applied_hash


@dataclass
class SyncReport:
    source_id: int
    status: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    indexed: list[int] = field(default_factory=list)  # articles re-indexed by this fetch


# --- scheduling -------------------------------------------------------------------------------------------------

def sources_sync_due(*, now: datetime | None = None) -> int:
    """Queue a fetch of every enabled source that is due (beat calls this); returns how many.

    Each is claimed by moving its next fetch time on before the task is queued, so a second beat tick (or a
    second beat) never queues it twice; a task that is lost is simply tried again at the next due time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            SyncedSource.objects.select_for_update(skip_locked=True)
            .filter(enabled=True)
            .filter(Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now))
        )
        for source in due:
            source.next_fetch_at = now + timedelta(minutes=source.interval_minutes)
            source.save(update_fields=["next_fetch_at"])
            _sync_later(source.pk)
    return len(due)


def sources_fetch_now(*, source_ids: Iterable[int]) -> int:
    """Queue a fetch of these sources at once (the admin's "Fetch now"), enabled or not."""
    ids = list(source_ids)
    with transaction.atomic():
        count = SyncedSource.objects.filter(pk__in=ids).update(status=SyncedSource.Status.QUEUED, last_error="")
        for source_id in ids:
            _sync_later(source_id)
    return count


def _sync_later(source_id: int) -> None:
    transaction.on_commit(lambda: enqueue("knowledge.sync_source", source_id))


# --- one source -------------------------------------------------------------------------------------------------

def source_sync(*, source_id: int) -> SyncReport:
    """Fetch a source's page or sitemap pages, update and re-index what changed, record how it went.

    Never raises for what a server does: every failure ends up in the source's and the page's status.
    """
    report = SyncReport(source_id)
    source = SyncedSource.objects.filter(pk=source_id).first()
    if source is None:
        report.status = "missing"
        return report
    started = timezone.now()
    try:
        urls = _page_urls(source, report)
    except IngestError as exc:
        urls, report.error = None, str(exc)
    except Exception as exc:  # a bug must not leave the source "queued" for ever
        logger.exception("synced source %s failed", source_id)
        urls, report.error = None, f"unexpected error: {exc}"
    if urls is not None:
        deadline = time.monotonic() + settings.KNOWLEDGE_SYNC_TIME_BUDGET_S
        for url in urls:
            if time.monotonic() > deadline:
                report.counts["left for the next fetch"] = report.counts.get("left for the next fetch", 0) + 1
                continue
            outcome = _page_sync(source, url, report)
            report.counts[outcome] = report.counts.get(outcome, 0) + 1
    _source_finish(source, report, started)
    return report


def _page_urls(source: SyncedSource, report: SyncReport) -> list[str]:
    """The pages to fetch now, least recently fetched first (a time budget that runs out leaves the newest)."""
    if source.kind == SyncedSource.Kind.PAGE:
        _pages_removed(source, keep={source.url})  # the address was changed in admin: the old page's article goes
        return [source.url]
    fetched = _fetch(source.url, etag=source.etag, last_modified=source.last_modified)
    if fetched.status == 304:
        report.counts["sitemap not modified"] = 1
        listed = list(source.pages.exclude(status=SyncedPage.Status.REMOVED).values_list("url", flat=True))
    else:
        found = web.sitemap_pages(fetched.body, sitemap_url=fetched.url, limit=settings.KNOWLEDGE_SYNC_MAX_PAGES)
        listed = found.urls
        if not listed:
            # An empty sitemap is far likelier a broken site than a help centre with no pages: nothing is removed.
            raise IngestError("the sitemap lists no page on its own host: nothing changed")
        if found.other_hosts:
            report.counts["on another host, left out"] = found.other_hosts
        if found.left_out:
            report.counts["past KNOWLEDGE_SYNC_MAX_PAGES, left out"] = found.left_out
        _pages_removed(source, keep=set(listed))
        # Every listed page is remembered now, so a fetch cut short by the time budget (or a sitemap that answers
        # 304 next time) still knows the ones not fetched yet.
        SyncedPage.objects.bulk_create([SyncedPage(source=source, url=url) for url in listed], ignore_conflicts=True)
        source.pages.filter(url__in=listed, status=SyncedPage.Status.REMOVED).update(status=SyncedPage.Status.NEW)
        SyncedSource.objects.filter(pk=source.pk).update(etag=fetched.etag[:500],
                                                         last_modified=fetched.last_modified[:100])
    last = {url: when.timestamp() for url, when in source.pages.filter(url__in=listed).values_list("url", "fetched_at")
            if when}
    return sorted(listed, key=lambda url: last.get(url, 0.0))


def _pages_removed(source: SyncedSource, *, keep: set[str]) -> None:
    """Pages gone from the sitemap: their articles go back to draft (kept, with any curator's edits)."""
    gone = source.pages.exclude(url__in=keep).exclude(status=SyncedPage.Status.REMOVED)
    article_ids = [pk for pk in gone.values_list("article_id", flat=True) if pk]
    with transaction.atomic():
        gone.update(status=SyncedPage.Status.REMOVED, error="")
        articles_unpublish(article_ids=article_ids)


def _fetch(url: str, *, etag: str = "", last_modified: str = "") -> web.Fetched:
    return web.url_fetch(
        url, etag=etag, last_modified=last_modified, max_bytes=settings.KNOWLEDGE_SYNC_MAX_BYTES,
        timeout_s=settings.KNOWLEDGE_SYNC_TIMEOUT_S, allow_private=settings.KNOWLEDGE_SYNC_ALLOW_PRIVATE,
    )


def _page_sync(source: SyncedSource, url: str, report: SyncReport) -> str:
    """Fetch one page and bring its article up to date by the rule above; returns the page's new status."""
    page, _ = SyncedPage.objects.get_or_create(source=source, url=url)
    page = SyncedPage.objects.select_related("article").get(pk=page.pk)
    now = timezone.now()
    if page.article is None and page.applied_hash:
        return _page_record(page, SyncedPage.Status.DELETED, now=now)
    try:
        # Without an article there is nothing the validators would save: fetch in full.
        validators = {"etag": page.etag, "last_modified": page.last_modified} if page.article else {}
        fetched = _fetch(url, **validators)
        if fetched.status == 304:  # a 304 may repeat the validators, or leave them out
            page.etag = fetched.etag[:500] or page.etag
            page.last_modified = fetched.last_modified[:100] or page.last_modified
            return _page_record(page, SyncedPage.Status.NOT_MODIFIED, now=now)
        page.etag, page.last_modified = fetched.etag[:500], fetched.last_modified[:100]
        web.html_check(fetched)
        document = document_from_file(_file_name(fetched.url), fetched.body)
    except IngestError as exc:
        return _page_record(page, SyncedPage.Status.FAILED, now=now, error=str(exc))
    except Exception as exc:
        logger.exception("synced page %s failed", url)
        return _page_record(page, SyncedPage.Status.FAILED, now=now, error=f"unexpected error: {exc}")
    fetched_hash = text_hash(document.title, document.body)
    if page.article is not None and fetched_hash == page.fetched_hash:
        return _page_record(page, SyncedPage.Status.HELD if page.held else SyncedPage.Status.UNCHANGED, now=now)
    page.fetched_title, page.fetched_body, page.fetched_hash = document.title, document.body, fetched_hash
    with transaction.atomic():
        if page.article is None:
            article = article_save(
                article=Article(
                    title=document.title, body=document.body, language=source.language or document.language,
                    public_url=url if len(url) <= 200 else "", source_name=url[:255],
                    status=Article.Status.PUBLISHED if source.publish else Article.Status.DRAFT,
                ),
                content_changed=True, was_published=False,
            )
            page.article, page.applied_hash, page.held = article, fetched_hash, False
            status = SyncedPage.Status.CREATED
        elif article_edited_locally(page):
            if fetched_hash == text_hash(page.article.title, page.article.body):
                # The curator's edit and the page now say the same: nothing is held any more.
                page.applied_hash, page.held, status = fetched_hash, False, SyncedPage.Status.UNCHANGED
            else:
                page.held, status = True, SyncedPage.Status.HELD
        else:
            _article_replace(page)
            status = SyncedPage.Status.UPDATED
        _page_record(page, status, now=now)
    if status in (SyncedPage.Status.CREATED, SyncedPage.Status.UPDATED):
        # This task runs on the knowledge queue already: index now, so the source's status says it is done
        # (the task article_save queued finds it indexed and does nothing).
        article_index(article_id=page.article_id)
        report.indexed.append(page.article_id)
    return status


def _article_replace(page: SyncedPage, *, editor: Any = None) -> None:
    """The page's fetched text into its article (a new version, re-indexed), remembered as the text applied."""
    article = page.article
    was_published = article.status == Article.Status.PUBLISHED
    article.title, article.body = page.fetched_title, page.fetched_body
    article_save(article=article, editor=editor, content_changed=True, was_published=was_published)
    page.applied_hash, page.held = page.fetched_hash, False


def _page_record(page: SyncedPage, status: str, *, now: datetime, error: str = "") -> str:
    page.status, page.error, page.fetched_at = status, error, now
    page.save()
    return status


def _file_name(url: str) -> str:
    """The name the HTML import reads the page as: its last path segment (the fallback title) as .html."""
    stem = PurePosixPath(urlsplit(url).path).stem or urlsplit(url).hostname or "page"
    return f"{stem}.html"


def _source_finish(source: SyncedSource, report: SyncReport, started: datetime) -> None:
    failed = report.counts.get(SyncedPage.Status.FAILED, 0)
    fetched = sum(report.counts.get(s, 0) for s in SyncedPage.Status.values)
    errors = list(
        source.pages.filter(status=SyncedPage.Status.FAILED, fetched_at__gte=started).values_list("url", "error")[:5]
    )
    if report.error:
        status = SyncedSource.Status.FAILED
    elif failed and failed == fetched:
        status = SyncedSource.Status.FAILED
    elif failed:
        status = SyncedSource.Status.PARTIAL
    elif fetched and fetched == report.counts.get(SyncedPage.Status.NOT_MODIFIED, 0):
        status = SyncedSource.Status.NOT_MODIFIED
    else:
        status = SyncedSource.Status.OK
    if not report.error and errors:
        report.error = "\n".join(f"{url}: {error}" for url, error in errors)
    report.status = status
    summary = ", ".join(f"{count} {what}" for what, count in report.counts.items()) or "no pages"
    SyncedSource.objects.filter(pk=source.pk).update(
        status=status, last_error=report.error, last_summary=summary[:500], last_fetched_at=timezone.now(),
        next_fetch_at=timezone.now() + timedelta(minutes=source.interval_minutes),
    )


# --- review -----------------------------------------------------------------------------------------------------

def pages_take_fetched(*, page_ids: Iterable[int], editor: Any = None) -> int:
    """Put each held page's fetched text into its article, replacing the curator's edit (an explicit choice in
    admin); the article is re-indexed in the background. Returns how many articles changed."""
    count = 0
    for page in SyncedPage.objects.select_related("article").filter(pk__in=list(page_ids), held=True):
        if page.article is None:
            continue
        with transaction.atomic():
            _article_replace(page, editor=editor)
            page.status = SyncedPage.Status.UPDATED
            page.save(update_fields=["applied_hash", "held", "status"])
        count += 1
    return count
