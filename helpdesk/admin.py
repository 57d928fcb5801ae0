"""Model profiles in admin: edit, make default, give a canary a share or roll it back, without a restart."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from . import profiles
from .models import ModelProfile


class ModelProfileForm(forms.ModelForm):
    class Meta:
        model = ModelProfile
        fields = ("name", "model", "is_default", "canary_share", "temperature", "top_p", "num_predict", "num_ctx",
                  "think", "keep_alive", "system_prompt_en", "system_prompt_zh", "handoff_threshold")
        widgets = {
            "system_prompt_en": forms.Textarea(attrs={"rows": 4}),
            "system_prompt_zh": forms.Textarea(attrs={"rows": 4}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        profile = self.instance
        if cleaned.get("is_default"):
            cleaned["canary_share"] = 0.0
        elif profile.pk and ModelProfile.objects.filter(pk=profile.pk, is_default=True).exists():
            self.add_error("is_default", "make another profile the default instead; one profile must be the default")
        probe = ModelProfile(pk=profile.pk, is_default=bool(cleaned.get("is_default")),
                             canary_share=cleaned.get("canary_share") or 0.0)
        try:
            profiles.canary_shares_check(profile=probe)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


@admin.register(ModelProfile)
class ModelProfileAdmin(admin.ModelAdmin):
    form = ModelProfileForm
    list_display = ("name", "model", "is_default", "canary_share", "temperature", "top_p", "num_predict", "num_ctx",
                    "think", "handoff_threshold", "conversation_count", "updated_at")
    list_filter = ("is_default", "think", "model")
    search_fields = ("name", "model")
    actions = ["make_default", "roll_back"]
    fieldsets = (
        (None, {"fields": ("name", "model", "is_default", "canary_share")}),
        ("Generation (Ollama options)", {"fields": ("temperature", "top_p", "num_predict", "num_ctx", "think",
                                                    "keep_alive")}),
        ("Prompts and handoff", {"fields": ("system_prompt_en", "system_prompt_zh", "handoff_threshold")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModelProfile]:
        return super().get_queryset(request).annotate(conversation_total=Count("conversations"))

    @admin.display(description="conversations", ordering="conversation_total")
    def conversation_count(self, profile: ModelProfile) -> int:
        return profile.conversation_total

    def save_model(self, request: HttpRequest, obj: ModelProfile, form: Any, change: bool) -> None:
        profiles.profile_save(profile=obj)

    def has_delete_permission(self, request: HttpRequest, obj: ModelProfile | None = None) -> bool:
        # The default answers every conversation without a live canary: it cannot go.
        return super().has_delete_permission(request, obj) and not (obj and obj.is_default)

    @admin.action(description="Make the selected profile the default", permissions=["change"])
    def make_default(self, request: HttpRequest, queryset: QuerySet[ModelProfile]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one profile to make the default.", messages.ERROR)
            return
        profile = profiles.profile_save(profile=queryset.get(), is_default=True)
        self.message_user(request, f"{profile.name} is now the default profile.", messages.SUCCESS)

    @admin.action(description="Roll back: give the selected canaries no new or existing conversations",
                  permissions=["change"])
    def roll_back(self, request: HttpRequest, queryset: QuerySet[ModelProfile]) -> None:
        rolled = [profiles.profile_save(profile=p, canary_share=0.0).name for p in queryset.filter(is_default=False)]
        self.message_user(request, f"Rolled back: {', '.join(rolled) or 'nothing (the default cannot be)'}.")
