"""Conversations in Django admin: read-only, for looking, filtering and searching."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from . import (
    admin_apps,  # noqa: F401  (registers the apps' admin)
    admin_evaluation,  # noqa: F401  (registers the evaluation sets', cases' and runs' admins)
    admin_faq_suggestions,  # noqa: F401  (registers the FAQ suggestions' admin)
    admin_moderation,  # noqa: F401  (registers the moderation lists' and hits' admins)
    admin_outbound,  # noqa: F401  (registers webhook endpoints, their deliveries, emailed replies)
    admin_teams,  # noqa: F401  (registers teams, labels and the rules that set them)
)
from .actions import admin as actions_admin  # noqa: F401  (registers the actions' and their calls' admins)
from .admin_base import ReadOnlyAdmin
from .admin_privacy import ConversationPrivacyActions  # registers the customers' and privacy requests' admins
from .models import Conversation, DailySummary, Handoff, LLMCall, Message
from .privacy.retention import retention_plan
from .selectors.search import conversations_matching, message_ids_matching
from .stats.articles import articles_health
from .stats.gaps import knowledge_gaps, topic_draft


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("created_at", "role", "status", "answer_source", "content", "model_name", "ttft_ms", "total_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class HandoffInline(admin.TabularInline):
    """Each handoff of the conversation: why, when, the team and agent it went to, and how it ended (the
    conversation itself keeps only the latest)."""

    model = Handoff
    fields = ("at", "reason", "question", "team", "agent", "first_response_at", "responder", "ended_at", "outcome")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = gettext_lazy("handoff")
    verbose_name_plural = gettext_lazy("handoffs")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ConversationPrivacyActions, ReadOnlyAdmin):
    list_display = ("id", "status", "channel", "team", "priority", "profile", "handoff_reason", "message_count",
                    "created_at", "last_message_at")
    list_filter = ("status", "channel", "team", "priority", "labels", "profile", "handoff_reason", "created_at")
    search_fields = ("=id",)  # and the messages' text: get_search_results
    date_hierarchy = "created_at"
    inlines = [HandoffInline, MessageInline]
    exclude = ("token",)  # the token is the customer's key: not shown even to staff

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """By id, or by a message's text through the search index: the text is encrypted (selectors.search)."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found |= queryset.filter(conversations_matching(query=search_term))
        return found, duplicates

    @admin.display(description=gettext_lazy("messages"))
    def message_count(self, obj: Conversation) -> int:
        return obj.messages.count()


KNOWLEDGE_DAYS = {"7": 7, "30": 30, "90": 90}


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "conversation",
        "role",
        "status",
        "answer_source",
        "short_content",
        "cited",
        "model_name",
        "ttft_ms",
        "total_ms",
        "prompt_tokens",
        "reply_tokens",
        "intent",
        "created_at",
    )
    list_filter = ("role", "status", "answer_source", "intent", "intent_source", "profile", "model_name", "created_at")
    search_fields = ("=conversation__id",)  # and the text: get_search_results
    list_select_related = ("conversation",)
    date_hierarchy = "created_at"
    change_list_template = "admin/conversations/message/change_list.html"

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """By conversation, or by text through the search index: the text is encrypted (selectors.search)."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found |= queryset.filter(pk__in=message_ids_matching(query=search_term))
        return found, duplicates

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": intent_detection_status()})

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("knowledge-gaps/", wrap(self.gaps_view), name="conversations_message_knowledge_gaps"),
            path("article-health/", wrap(self.health_view), name="conversations_message_article_health"),
            *super().get_urls(),
        ]

    def _knowledge_context(self, request: HttpRequest, *, title: str) -> dict[str, Any]:
        """What both knowledge pages share: the period (`?days=7|30|90`, else 7) and the admin's frame."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = int(request.GET.get("days", "")) if request.GET.get("days") in KNOWLEDGE_DAYS else 7
        end = timezone.now()
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "days": days,
                "choices": KNOWLEDGE_DAYS, "start": end - timedelta(days=days), "end": end}

    def gaps_view(self, request: HttpRequest) -> HttpResponse:
        """Knowledge gaps (conversations.stats.gaps), as the console shows them, for curators in the admin."""
        context = self._knowledge_context(request, title=gettext("Knowledge gaps"))
        gaps = knowledge_gaps(start=context["start"], end=context["end"])
        can_write = request.user.has_perm("knowledge.add_article")
        add_url = reverse("admin:knowledge_article_add")
        context.update(gaps=gaps, topics=[
            {"topic": topic, "draft_url": f"{add_url}?{urlencode(topic_draft(topic))}" if can_write else "",
             "articles": [(a, reverse("admin:knowledge_article_change", args=[a.article_id])) for a in topic.articles]}
            for topic in gaps.topics
        ])
        return TemplateResponse(request, "admin/conversations/message/knowledge_gaps.html", context)

    def health_view(self, request: HttpRequest) -> HttpResponse:
        """Article health (conversations.stats.articles): the articles causing bad answers, the unused ones, all."""
        context = self._knowledge_context(request, title=gettext("Article health"))
        health = articles_health(start=context["start"], end=context["end"])
        context.update(health=health, sections=[
            (gettext("Articles causing bad answers"), health.bad),
            (ngettext("Articles no one cited in %(days)s day", "Articles no one cited in %(days)s days",
                      settings.ARTICLE_UNCITED_DAYS) % {"days": settings.ARTICLE_UNCITED_DAYS}, health.unused),
            (gettext("All articles"), health.articles),
        ])
        return TemplateResponse(request, "admin/conversations/message/article_health.html", context)

    @admin.display(description=gettext_lazy("content"))
    def short_content(self, obj: Message) -> str:
        return obj.content[:80]

    @admin.display(description=gettext_lazy("cited articles"))
    def cited(self, obj: Message) -> str:
        return ", ".join(source.get("title", "") for source in obj.sources or [] if source.get("cited"))


def intent_detection_status() -> str:
    """Which intent detection is in force (conversations.intents, conversations.pipeline.intent), in one line."""
    if not settings.INTENT_MODEL:
        return gettext("Intent detection: rules only (INTENT_MODEL is not set)")
    return gettext("Intent detection: rules, then the model %(model)s within %(seconds)s s") % {
        "model": settings.INTENT_MODEL, "seconds": f"{settings.INTENT_TIMEOUT_S:g}",
    }


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "model_name",
        "ollama_host",
        "outcome",
        "error_kind",
        "ttft_ms",
        "total_ms",
        "prompt_tokens",
        "reply_tokens",
    )
    list_filter = ("outcome", "error_kind", "profile", "model_name", "ollama_host")
    search_fields = ("error", "=message__id", "=conversation__id")
    date_hierarchy = "created_at"


@admin.register(DailySummary)
class DailySummaryAdmin(ReadOnlyAdmin):
    """The dashboard's history, one row a day; and the retention dry run (what RETENTION_DAYS deletes now)."""

    list_display = ("day", "conversations", "customer_messages", "bot_replies", "handed_off", "resolved_by_bot",
                    "resolved_with_human", "csat_count", "feedback_up", "feedback_down", "final", "filled_at")
    list_filter = ("final",)
    date_hierarchy = "day"
    exclude = ("hourly", "latency", "channels")

    def get_urls(self) -> list:
        retention = path("retention/", self.admin_site.admin_view(self.retention_view),
                         name="conversations_dailysummary_retention")
        return [retention, *super().get_urls()]

    def retention_view(self, request: HttpRequest) -> HttpResponse:
        """Per category, how many rows would be deleted now and the oldest one's date: nothing is deleted here
        (`manage.py retention --apply` or the beat job does it)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": gettext("Retention: what would be deleted now"), "plan": retention_plan(),
            "enabled": settings.RETENTION_ENABLED, "batch_size": settings.RETENTION_BATCH_SIZE,
        }
        return TemplateResponse(request, "admin/conversations/dailysummary/retention.html", context)
