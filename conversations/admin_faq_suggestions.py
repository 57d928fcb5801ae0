"""FAQ suggestions in admin: a curator edits a pending suggestion's question and answer, then publishes it (a new
FAQ entry, or an alternative phrasing of the existing entry it names) or dismisses it. Publishing writes the
knowledge base, so it needs the FAQ's add and change permissions besides the suggestion's change permission."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy, ngettext

from .faq_suggestions.services import faq_suggestions_dismiss, faq_suggestions_publish
from .models import FAQSuggestion

EDITABLE = ("question", "answer", "language", "faq")


@admin.register(FAQSuggestion)
class FAQSuggestionAdmin(admin.ModelAdmin):
    list_display = ("question", "proposal", "language", "status", "created_at", "source")
    list_filter = ("status", "language")
    search_fields = ("question", "answer")
    raw_id_fields = ("faq",)
    actions = ("publish", "dismiss")
    fields = (*EDITABLE, "status", "source", "original_question", "original_answer", "tidied_by", "similarity",
              "decided_by", "decided_at", "published_faq")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # suggestions come from conversations only

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return all(request.user.has_perm(name) for name in (
            "conversations.change_faqsuggestion", "knowledge.add_faq", "knowledge.change_faq"))

    def get_readonly_fields(self, request: HttpRequest, obj: FAQSuggestion | None = None) -> tuple[str, ...]:
        decided = obj is not None and obj.status != FAQSuggestion.Status.PENDING
        rest = tuple(name for name in self.fields if name not in EDITABLE)
        return (*EDITABLE, *rest) if decided else rest

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        obj = kwargs.get("obj")
        context["may_publish"] = (obj is not None and obj.status == FAQSuggestion.Status.PENDING
                                  and self.has_publish_permission(request))
        return super().render_change_form(request, context, *args, **kwargs)

    def response_change(self, request: HttpRequest, obj: FAQSuggestion) -> HttpResponse:
        """"Save and publish": the curator's edit is saved (by then), then published in one click."""
        if "_publish" in request.POST and self.has_publish_permission(request):
            self.publish(request, FAQSuggestion.objects.filter(pk=obj.pk))
            return HttpResponseRedirect(reverse("admin:conversations_faqsuggestion_changelist")
                                        + "?status__exact=pending")
        return super().response_change(request, obj)

    @admin.display(description=gettext_lazy("proposal"))
    def proposal(self, obj: FAQSuggestion) -> str:
        if obj.faq_id:
            return gettext("an alternative phrasing of “%(question)s”") % {"question": obj.faq}
        return gettext("a new FAQ entry")

    @admin.display(description=gettext_lazy("conversation"))
    def source(self, obj: FAQSuggestion) -> str:
        url = reverse("admin:conversations_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">#{}</a>', url, obj.conversation_id)

    @admin.action(description=gettext_lazy("Publish the selected suggestions to the FAQ"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[FAQSuggestion]) -> None:
        count = faq_suggestions_publish(suggestion_ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(request, ngettext("%(count)d suggestion published.", "%(count)d suggestions published.",
                                            count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Dismiss the selected suggestions"), permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[FAQSuggestion]) -> None:
        count = faq_suggestions_dismiss(suggestion_ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(request, ngettext("%(count)d suggestion dismissed.", "%(count)d suggestions dismissed.",
                                            count) % {"count": count}, messages.SUCCESS)
