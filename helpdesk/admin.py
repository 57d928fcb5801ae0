"""Model profiles in admin: edit, make default, give a canary a share or roll it back, without a restart.

Also the sign-in apps' admins (django-otp's TOTP devices, django-axes' attempts), with permissions tightened.
"""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy
from django_otp.plugins.otp_totp import admin as otp_totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.llm import profiles

from .models import ModelProfile


class ModelProfileForm(forms.ModelForm):
    class Meta:
        model = ModelProfile
        fields = ("name", "model", "is_default", "canary_share", "temperature", "top_p", "num_predict", "num_ctx",
                  "think", "keep_alive", "system_prompt_en", "system_prompt_zh", "handoff_threshold", "action_choice")
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
        probe = ModelProfile(pk=profile.pk, name=cleaned.get("name") or profile.name,
                             is_default=bool(cleaned.get("is_default")),
                             canary_share=cleaned.get("canary_share") or 0.0)
        try:
            profiles.canary_shares_check(profile=probe)
            profiles.promotion_check(profile=probe)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


@admin.register(ModelProfile)
class ModelProfileAdmin(admin.ModelAdmin):
    form = ModelProfileForm
    list_display = ("name", "model", "is_default", "canary_share", "temperature", "top_p", "num_predict", "num_ctx",
                    "think", "handoff_threshold", "conversation_count", "updated_at")
    list_filter = ("is_default", "think", "model", "action_choice")
    search_fields = ("name", "model")
    actions = ["make_default", "roll_back"]
    fieldsets = (
        (None, {"fields": ("name", "model", "is_default", "canary_share"), "description": gettext_lazy(
            "Making a profile the default, or giving it a canary share above EVAL_GATE_FREE_SHARE, must pass the "
            "promotion gates: its latest finished run of the default evaluation set may be at most "
            "EVAL_GATE_TOLERANCE below the default profile's pass rate. With no default evaluation set (or "
            "EVAL_GATE_ENABLED off) there is no gate.")}),
        ("Generation (Ollama options)", {"fields": ("temperature", "top_p", "num_predict", "num_ctx", "think",
                                                    "keep_alive")}),
        ("Prompts and handoff", {"fields": ("system_prompt_en", "system_prompt_zh", "handoff_threshold")}),
        (gettext_lazy("Actions"), {"fields": ("action_choice",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ModelProfile]:
        return super().get_queryset(request).annotate(conversation_total=Count("conversations"))

    @admin.display(description=gettext_lazy("conversations"), ordering="conversation_total")
    def conversation_count(self, profile: ModelProfile) -> int:
        return profile.conversation_total

    def save_model(self, request: HttpRequest, obj: ModelProfile, form: Any, change: bool) -> None:
        profiles.profile_save(profile=obj)

    def has_delete_permission(self, request: HttpRequest, obj: ModelProfile | None = None) -> bool:
        # The default answers every conversation without a live canary: it cannot go.
        return super().has_delete_permission(request, obj) and not (obj and obj.is_default)

    @admin.action(description=gettext_lazy("Make the selected profile the default"), permissions=["change"])
    def make_default(self, request: HttpRequest, queryset: QuerySet[ModelProfile]) -> None:
        if queryset.count() != 1:
            self.message_user(request, gettext("Choose exactly one profile to make the default."), messages.ERROR)
            return
        try:
            profile = profiles.profile_save(profile=queryset.get(), is_default=True)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, gettext("%(name)s is now the default profile.") % {"name": profile.name},
                          messages.SUCCESS)

    @admin.action(description=gettext_lazy("Roll back: give the selected canaries no new or existing conversations"),
                  permissions=["change"])
    def roll_back(self, request: HttpRequest, queryset: QuerySet[ModelProfile]) -> None:
        rolled = [profiles.profile_save(profile=p, canary_share=0.0).name for p in queryset.filter(is_default=False)]
        if rolled:
            self.message_user(request, gettext("Rolled back: %(names)s.") % {"names": ", ".join(rolled)})
        else:
            self.message_user(request, gettext("Rolled back: nothing (the default cannot be)."))


class TOTPDeviceAdmin(otp_totp_admin.TOTPDeviceAdmin):
    """django-otp's TOTP devices, whose secret (the key, the QR code) only those who may change devices see:
    with the view permission alone, a clerk could copy any colleague's second factor."""

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        secret = {"key", "qrcode_link"}
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f not in secret]}) for name, opts in fieldsets]

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if self.has_change_permission(request) else [f for f in shown if f != "qrcode_link"]

    def config_view(self, request: HttpRequest, pk: int) -> Any:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return super().config_view(request, pk)

    def qrcode_view(self, request: HttpRequest, pk: int) -> Any:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return super().qrcode_view(request, pk)


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, TOTPDeviceAdmin)


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """django-axes' sign-in attempts, whose clean-up action deletes rows: for those who may delete them."""

    actions = ["cleanup_expired_attempts"]

    @admin.action(description=gettext_lazy("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        # django-axes 8.3.1 reads request.axes_attempt_time, which it sets on sign-in requests only: without
        # it, its own action fails with an AttributeError (None: "now" is the reference time).
        request.axes_attempt_time = getattr(request, "axes_attempt_time", None)
        super().cleanup_expired_attempts(request, queryset)


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, AccessAttemptAdmin)
