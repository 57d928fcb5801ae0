"""Actions in admin: defined and edited here; their calls are a read-only record, and a proposal waiting for an
agent is approved from the calls' list. Header values are never shown back: the form lists the names only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ..admin_base import ReadOnlyAdmin
from ..models import Action, ActionCall
from .approval import ApprovalRefused, action_proposal_approve
from .calls import ActionConfigError, action_url, header_lines
from .choice import SCALAR_TYPES


class ActionForm(forms.ModelForm):
    new_headers = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Headers",
        help_text='One "Name: value" per line, stored encrypted and never shown again. Leave empty to keep '
                  "the stored ones.",
    )
    clear_headers = forms.BooleanField(required=False, label="Remove the stored headers")

    class Meta:
        model = Action
        fields = ("name", "description", "source_title", "active", "intents", "parameters", "method", "base_url",
                  "path_template", "timeout_s", "requires_verified_identity", "read_only", "confirmation",
                  "result_format", "result_template", "result_max_chars")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = ", ".join(header_lines(self.instance.headers)) if self.instance.pk else ""
        if names:
            self.fields["new_headers"].help_text += f" Stored: {names}."

    def clean_parameters(self) -> dict:
        parameters = self.cleaned_data["parameters"] or {}
        properties = parameters.get("properties", {}) if isinstance(parameters, dict) else None
        if not isinstance(properties, dict) or any(
            not isinstance(spec, dict) or spec.get("type", "string") not in SCALAR_TYPES for spec in properties.values()
        ):
            raise forms.ValidationError('A flat object schema: {"type": "object", "properties": {"name": {"type": '
                                        '"string"}}}, each property a string, integer, number or boolean.')
        if "customer_id" in properties:
            raise forms.ValidationError("customer_id is the verified customer's, added by the server: not a parameter.")
        return parameters

    def clean_intents(self) -> list:
        intents = self.cleaned_data["intents"]
        if not isinstance(intents, list) or not all(isinstance(intent, str) for intent in intents):
            raise forms.ValidationError('A list of intents, e.g. ["order_status"].')
        return intents

    def clean(self) -> dict:
        data = super().clean()
        if data.get("base_url") and data.get("path_template") and isinstance(data.get("parameters"), dict):
            probe = Action(name=data.get("name") or "action", base_url=data["base_url"],
                           path_template=data["path_template"], parameters=data["parameters"])
            try:
                action_url(probe, {}, customer_id="probe")
            except ActionConfigError as exc:
                self.add_error("path_template", str(exc))
        return data

    def save(self, commit: bool = True) -> Action:
        action = super().save(commit=False)
        if self.cleaned_data.get("clear_headers"):
            action.headers = ""
        elif self.cleaned_data.get("new_headers", "").strip():
            action.headers = self.cleaned_data["new_headers"].strip()
        if commit:
            action.save()
        return action


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    form = ActionForm
    list_display = ("name", "active", "method", "base_url", "read_only", "requires_verified_identity", "updated_at")
    list_filter = ("active", "read_only")
    search_fields = ("name", "description")
    fieldsets = (
        (None, {"fields": ("name", "description", "source_title", "active", "intents", "parameters")}),
        ("The call", {"fields": ("method", "base_url", "path_template", "new_headers", "clear_headers",
                                 "timeout_s")}),
        ("Guard rails", {"fields": ("requires_verified_identity", "read_only", "confirmation")}),
        ("The result given to the model", {"fields": ("result_format", "result_template", "result_max_chars")}),
    )


@admin.register(ActionCall)
class ActionCallAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action_name", "status", "response_status", "duration_ms", "conversation_id",
                    "error")
    list_filter = ("status", "action_name")
    fields = ("created_at", "action_name", "conversation", "message", "arguments", "status", "response_status",
              "duration_ms", "error", "result")
    readonly_fields = fields
    actions = ("approve",)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        """Approving runs a call that changes something in the company's system: the calls' change permission
        (the list itself stays read-only)."""
        return request.user.has_perm("conversations.change_actioncall")

    @admin.action(description="Approve and run the selected proposals", permissions=["approve"])
    def approve(self, request: HttpRequest, queryset: QuerySet[ActionCall]) -> None:
        for call_id in queryset.values_list("pk", flat=True):
            try:
                call = action_proposal_approve(call_id=call_id)
            except ApprovalRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            level = messages.SUCCESS if call.status == ActionCall.Status.OK else messages.WARNING
            self.message_user(request, f"{call.action_name}: {call.status} {call.error}".strip(), level)
