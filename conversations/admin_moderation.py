"""The moderation lists in admin: terms and patterns are edited here (this process picks a change up on its next
message, the others within MODERATION_LISTS_RECHECK_S); the hits are a read-only record."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import ModerationHit, ModerationTerm
from .moderation.lists import lists_changed
from .moderation.matching import term_key


class ModerationTermForm(forms.ModelForm):
    class Meta:
        model = ModerationTerm
        fields = ("text", "is_pattern", "kind", "category", "languages", "enabled", "note")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("text") and not data.get("is_pattern") and not term_key(data["text"]):
            self.add_error("text", "A term needs at least one letter or digit: punctuation and spaces are ignored.")
        return data


@admin.register(ModerationTerm)
class ModerationTermAdmin(admin.ModelAdmin):
    form = ModerationTermForm
    list_display = ("text", "is_pattern", "kind", "category", "languages", "enabled", "updated_at")
    list_filter = ("enabled", "kind", "category", "is_pattern")
    search_fields = ("text", "note")
    actions = ("enable", "disable")

    @admin.action(description="Enable the selected terms", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet) -> None:
        # updated_at is set by hand: a bulk update skips auto_now, and it is what tells processes to rebuild.
        queryset.update(enabled=True, updated_at=timezone.now())
        lists_changed()

    @admin.action(description="Disable the selected terms", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet) -> None:
        queryset.update(enabled=False, updated_at=timezone.now())
        lists_changed()


@admin.register(ModerationHit)
class ModerationHitAdmin(admin.ModelAdmin):
    list_display = ("created_at", "category", "where", "action", "source", "term", "message")
    list_filter = ("category", "where", "action", "source")
    raw_id_fields = ("message", "term")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
