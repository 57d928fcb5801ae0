"""Curation in Django admin: articles and FAQ entries, imports, and a "test retrieval" page.

Thin: every change goes through `knowledge.services`, which bumps the
knowledge-base version and queues indexing after the commit.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import cache as answer_cache
from . import selectors
from .ingest import uploads
from .models import FAQ, Article, Chunk, ImportJob, SyncedPage, SyncedSource
from .retrieval.snapshot import current_faq_snapshot, current_snapshot
from .services.articles import article_save, articles_delete, articles_publish, articles_reindex, articles_unpublish
from .services.faq import faq_save, faqs_delete, faqs_set_published
from .services.imports import import_job_create
from .services.sync import article_edited_locally, pages_take_fetched, sources_fetch_now

logger = logging.getLogger(__name__)


class ChunkInline(admin.TabularInline):
    model = Chunk
    extra = 0
    can_delete = False
    fields = ("ordinal", "heading", "excerpt", "token_count", "has_vector")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = _("Indexed chunks (what retrieval searches)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("text"))
    def excerpt(self, chunk: Chunk) -> str:
        return chunk.text[:160] + ("…" if len(chunk.text) > 160 else "")

    @admin.display(description=_("vector"), boolean=True)
    def has_vector(self, chunk: Chunk) -> bool:
        return chunk.embedding is not None


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "language", "status", "index_state", "version", "last_editor", "updated_at")
    list_filter = ("status", "language", "index_status", "embedded")
    search_fields = ("title", "body", "tags", "source_name")
    date_hierarchy = "updated_at"
    actions = ("publish", "unpublish", "reindex")
    # Tags are searched with the article: keywords in the other language are the bridge for customers who ask in
    # it while only keyword search works (the embedding model missing), and count as what the article is about.
    TAGS_HELP = _(
        "Comma-separated keywords, searched with the article. Add the words customers use in the other language "
        "too (e.g. \"dispatch, shipping time\" on a Chinese article about 发货): without the embedding model, "
        "keyword search is the only way a question in that language finds it."
    )
    readonly_fields = (
        "version", "last_editor", "source_name", "synced_from", "index_state", "index_error", "chunk_count",
        "embed_model", "indexed_at", "created_at", "updated_at", "published_at",
    )
    fieldsets = (
        (None, {"fields": ("title", "body", "language", "tags", "public_url", "status")}),
        (
            _("Index"),
            {"fields": ("index_state", "index_error", "chunk_count", "embed_model", "indexed_at")},
        ),
        (
            _("History"),
            {"fields": ("version", "last_editor", "source_name", "synced_from", "created_at", "updated_at",
                        "published_at")},
        ),
    )
    inlines = (ChunkInline,)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    change_list_template = "admin/knowledge/article/change_list.html"

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "tags" and field is not None:
            field.help_text = self.TAGS_HELP
        return field

    @admin.display(description=_("index"), ordering="index_status")
    def index_state(self, article: Article) -> str:
        state = selectors.article_index_state(article)
        colours = {"ok": "#1e7e34", "warning": "#9a6700", "error": "#b3261e", "pending": "#666"}
        return format_html('<span style="color:{}">{}</span>', colours[state.level], state.text)

    @admin.display(description=_("synced from"))
    def synced_from(self, article: Article) -> str:
        """Whether a fetch may still replace the text: a curator about to edit a synced article should know."""
        page = SyncedPage.objects.filter(article=article).first()
        if page is None:
            return "—"
        if page.held:
            state = _("edited locally; the page's new text is held for review")
        elif article_edited_locally(page):
            state = _("edited locally; changes of the page will be held for review")
        else:
            state = _("kept in step with the page; editing the title or body stops that")
        url = reverse("admin:knowledge_syncedpage_change", args=[page.pk])
        return format_html('<a href="{}">{}</a> ({})', url, page.url, state)

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        content_changed = not change or bool({"title", "body", "tags"} & set(form.changed_data))
        was_published = change and form.initial.get("status") == Article.Status.PUBLISHED
        article_save(article=obj, editor=request.user, content_changed=content_changed,
                              was_published=was_published)

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        articles_delete(article_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        articles_delete(article_ids=list(queryset.values_list("pk", flat=True)))

    @admin.action(description=_("Publish selected articles"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = articles_publish(article_ids=queryset.values_list("pk", flat=True), editor=request.user)
        self.message_user(request, ngettext("%d article published.", "%d articles published.", count) % count,
                          messages.SUCCESS)

    @admin.action(description=_("Unpublish selected articles (back to draft)"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = articles_unpublish(article_ids=queryset.values_list("pk", flat=True), editor=request.user)
        self.message_user(request, ngettext("%d article unpublished.", "%d articles unpublished.", count) % count,
                          messages.SUCCESS)

    @admin.action(description=_("Re-index selected articles"), permissions=["change"])
    def reindex(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = articles_reindex(article_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d article queued for indexing.", "%d articles queued for indexing.",
                                            count) % count, messages.SUCCESS)

    # --- extra pages -----------------------------------------------------------------------

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="knowledge_article_import"),
            path("import/<int:job_id>/", wrap(self.import_job_view), name="knowledge_article_import_job"),
            path("import/<int:job_id>/status.json", wrap(self.import_status_view),
                 name="knowledge_article_import_status"),
            path("test-retrieval/", wrap(self.test_retrieval_view), name="knowledge_article_test_retrieval"),
            path("answer-cache/purge/", wrap(self.answer_cache_purge_view),
                 name="knowledge_article_answer_cache_purge"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_purge_answer_cache": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def answer_cache_purge_view(self, request: HttpRequest) -> HttpResponse:
        """Forget every cached answer (a wrong or planted one is then never served again). Who may change
        articles may purge: publishing already makes cached answers unreachable."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            answer_cache.answer_cache_purge()
            logger.warning("answer cache purged by %s", request.user)
            self.message_user(
                request, _("The answer cache was purged: every question is answered afresh from now on."),
                messages.SUCCESS,
            )
            return redirect("admin:knowledge_article_changelist")
        return TemplateResponse(request, "admin/knowledge/answer_cache_purge.html",
                                self._context(request, _("Purge the answer cache")))

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            accepted, rejected = _read_uploads(form.cleaned_data["files"])
            job = import_job_create(files=accepted, rejected=rejected, user=request.user)
            return redirect("admin:knowledge_article_import_job", job_id=job.pk)
        context = self._context(
            request, _("Import documents"), form=form, supported=uploads.SUPPORTED_DESCRIPTION,
            max_mb=settings.KNOWLEDGE_IMPORT_MAX_BYTES / 1_048_576,
            max_archive_mb=settings.KNOWLEDGE_IMPORT_MAX_ARCHIVE_BYTES / 1_048_576,
            recent_jobs=ImportJob.objects.all()[:10],
        )
        return TemplateResponse(request, "admin/knowledge/import.html", context)

    def _may_see_imports(self, request: HttpRequest) -> bool:
        """An import's progress: for whoever may import (add articles) or look at import jobs."""
        return self.has_add_permission(request) or request.user.has_perm("knowledge.view_importjob")

    def import_job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        if not self._may_see_imports(request):
            return HttpResponse(status=403)
        job = get_object_or_404(ImportJob, pk=job_id)
        context = self._context(
            request, _("Import %(id)s") % {"id": job.pk}, job=job, status=selectors.import_job_status(job),
            status_url=reverse("admin:knowledge_article_import_status", args=[job.pk]),
        )
        return TemplateResponse(request, "admin/knowledge/import_job.html", context)

    def import_status_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        if not self._may_see_imports(request):
            return HttpResponse(status=403)
        job = get_object_or_404(ImportJob, pk=job_id)
        status = selectors.import_job_status(job)
        for result in status["results"]:
            if result.get("article_id"):
                result["url"] = reverse("admin:knowledge_article_change", args=[result["article_id"]])
        return JsonResponse(status, json_dumps_params={"ensure_ascii": False})

    def test_retrieval_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):  # it shows articles' text, drafts included
            return HttpResponse(status=403)
        question = (request.GET.get("q") or "").strip()[: settings.MESSAGE_MAX_CHARS]
        context = self._context(request, _("Test retrieval"), question=question)
        if question:
            context.update(selectors.retrieval_preview(question=question))
            for hit in context["hits"]:
                hit.admin_url = reverse("admin:knowledge_article_change", args=[hit.article_id])
        context["snapshot"] = current_snapshot()
        context["faq_snapshot"] = current_faq_snapshot()
        return TemplateResponse(request, "admin/knowledge/test_retrieval.html", context)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (the pattern from Django's file-upload documentation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(sorted(uploads.SUPPORTED_SUFFIXES))}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class ImportForm(forms.Form):
    files = MultipleFileField(label=_("Files"), help_text=_("Select several files, or a .zip of a folder."))


def _read_uploads(files: list) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """Read what is within the size limits; the rest is reported without being read into memory."""
    accepted: list[tuple[str, bytes]] = []
    rejected: list[tuple[str, str]] = []
    for upload in files:
        name = upload.name or "unnamed"
        is_archive = uploads.suffix_of(name) in uploads.ZIP_SUFFIXES
        limit = settings.KNOWLEDGE_IMPORT_MAX_ARCHIVE_BYTES if is_archive else settings.KNOWLEDGE_IMPORT_MAX_BYTES
        try:
            if uploads.suffix_of(name) not in uploads.SUPPORTED_SUFFIXES:
                raise uploads.IngestError(
                    f"unsupported file type {uploads.suffix_of(name) or '(none)'}; use {uploads.SUPPORTED_DESCRIPTION}"
                )
            uploads.check_size(name, upload.size, limit)
        except uploads.IngestError as exc:
            rejected.append((name, str(exc)))
            continue
        accepted.append((name, upload.read()))
    return accepted, rejected


@admin.register(FAQ)
class FAQAdmin(admin.ModelAdmin):
    list_display = ("question", "language", "published", "phrasing_count", "vector_state", "updated_at")
    list_filter = ("published", "language")
    search_fields = ("question", "alternatives", "answer")
    actions = ("publish", "unpublish")
    readonly_fields = ("last_editor", "vector_state", "created_at", "updated_at")
    fields = ("question", "alternatives", "answer", "language", "published", "vector_state", "last_editor",
              "created_at", "updated_at")

    @admin.display(description=_("phrasings"))
    def phrasing_count(self, faq: FAQ) -> int:
        return len(faq.phrasings)

    @admin.display(description=_("similar-question matching"))
    def vector_state(self, faq: FAQ) -> str:
        if faq.index_error:
            return faq.index_error
        if faq.embeddings is None:
            return _("pending (exact matches work already)")
        if faq.embed_model != settings.OLLAMA_EMBED_MODEL:
            return _("stale: embedded with %(model)s; run manage.py reindex") % {"model": faq.embed_model}
        return _("ready")

    def save_model(self, request: HttpRequest, obj: FAQ, form: forms.ModelForm, change: bool) -> None:
        faq_save(faq=obj, editor=request.user, was_published=change and bool(form.initial.get("published")))

    def delete_model(self, request: HttpRequest, obj: FAQ) -> None:
        faqs_delete(faq_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        faqs_delete(faq_ids=list(queryset.values_list("pk", flat=True)))

    @admin.action(description=_("Publish selected FAQ entries"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = faqs_set_published(faq_ids=queryset.values_list("pk", flat=True), published=True)
        self.message_user(request, ngettext("%d FAQ entry published.", "%d FAQ entries published.", count) % count,
                          messages.SUCCESS)

    @admin.action(description=_("Unpublish selected FAQ entries"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = faqs_set_published(faq_ids=queryset.values_list("pk", flat=True), published=False)
        self.message_user(
            request, ngettext("%d FAQ entry unpublished.", "%d FAQ entries unpublished.", count) % count,
            messages.SUCCESS,
        )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "created_by", "created_at", "finished_at", "failures")
    list_filter = ("status",)
    fields = ("status", "created_by", "created_at", "finished_at", "total", "processed", "results")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("failed files"))
    def failures(self, job: ImportJob) -> int:
        return sum(1 for result in job.results if not result.get("ok"))


_STATUS_COLOURS = {
    "ok": "#1e7e34", "not_modified": "#1e7e34", "created": "#1e7e34", "updated": "#1e7e34", "unchanged": "#1e7e34",
    "partial": "#9a6700", "held": "#9a6700", "removed": "#666", "deleted": "#666",
    "failed": "#b3261e", "queued": "#666", "never": "#666", "new": "#666",
}


def _status_badge(value: str, label: str) -> str:
    return format_html('<span style="color:{}">{}</span>', _STATUS_COLOURS.get(value, "#666"), label)


class SyncedPageInline(admin.TabularInline):
    model = SyncedPage
    extra = 0
    can_delete = False
    fields = ("url", "article_link", "page_status", "held", "error", "fetched_at")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("Pages (one article each)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("article"))
    def article_link(self, page: SyncedPage) -> str:
        if page.article_id is None:
            return "—"
        url = reverse("admin:knowledge_article_change", args=[page.article_id])
        return format_html('<a href="{}">{}</a>', url, page.article)

    @admin.display(description=_("status"))
    def page_status(self, page: SyncedPage) -> str:
        return _status_badge(page.status, page.get_status_display())


@admin.register(SyncedSource)
class SyncedSourceAdmin(admin.ModelAdmin):
    """Pages and sitemaps kept as articles; a fetch's outcome (and why it failed) is shown on each source."""

    list_display = ("name", "kind", "url", "enabled", "fetch_status", "last_fetched_at", "next_fetch_at",
                    "error_excerpt")
    list_filter = ("status", "kind", "enabled", "language")
    search_fields = ("name", "url")
    actions = ("fetch_now",)
    readonly_fields = ("fetch_status", "last_summary", "last_error", "last_fetched_at", "next_fetch_at", "etag",
                       "last_modified")
    fieldsets = (
        (None, {
            "fields": ("name", "url", "kind", "language", "interval_minutes", "enabled", "publish"),
            "description": _(
                "Each page becomes an article, fetched again on the schedule with its ETag and Last-Modified: "
                "an unchanged page costs nothing. While nobody has edited an article's title or body, a change of "
                "its page replaces them and is re-indexed. Once you edit them, your text stays: a later change of "
                "the page is held on the page for review (\"Use the fetched text\" takes it). Tags, public URL "
                "and published state are yours; a fetch never changes them."
            ),
        }),
        (_("Last fetch"), {"fields": readonly_fields}),
    )
    inlines = (SyncedPageInline,)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("status"), ordering="status")
    def fetch_status(self, source: SyncedSource) -> str:
        return _status_badge(source.status, source.get_status_display())

    @admin.display(description=_("last error"))
    def error_excerpt(self, source: SyncedSource) -> str:
        return source.last_error[:120] + ("…" if len(source.last_error) > 120 else "")

    @admin.action(description=_("Fetch the selected sources now"), permissions=["change"])
    def fetch_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = sources_fetch_now(source_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d source queued for fetching.", "%d sources queued for fetching.",
                                            count) % count, messages.SUCCESS)


@admin.register(SyncedPage)
class SyncedPageAdmin(admin.ModelAdmin):
    """A synced page's fetched text beside its article's: where a curator reviews text held back by an edit."""

    list_display = ("url", "source", "article", "page_status", "held", "fetched_at")
    list_filter = ("status", "held", "source")
    search_fields = ("url", "fetched_title")
    actions = ("take_fetched",)
    fields = ("source", "url", "article", "page_status", "held", "error", "fetched_at", "etag", "last_modified",
              "fetched_title", "fetched_body")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("status"), ordering="status")
    def page_status(self, page: SyncedPage) -> str:
        return _status_badge(page.status, page.get_status_display())

    @admin.action(description=_("Use the fetched text (replaces the article's edited title and body)"),
                  permissions=["change"])
    def take_fetched(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = pages_take_fetched(page_ids=list(queryset.values_list("pk", flat=True)), editor=request.user)
        self.message_user(request, ngettext("%d article now has the fetched text.",
                                            "%d articles now have the fetched text.", count) % count,
                          messages.SUCCESS)
