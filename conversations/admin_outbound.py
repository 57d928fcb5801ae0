"""Webhook endpoints (with "Send test event"), the webhook delivery log, and agents' replies sent by email."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy, ngettext

from .admin_base import ReadOnlyAdmin
from .models import EmailDelivery, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .webhooks.emit import event_test_send

SUBSCRIBABLE = [(value, label) for value, label in WebhookEvent.choices if value != WebhookEvent.TEST]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=1000, assume_scheme="https", label=gettext_lazy("URL"),
                         help_text=gettext_lazy("The https:// (or http://) address that receives a POST per event"))
    events = forms.MultipleChoiceField(choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple, required=False,
                                       label=gettext_lazy("events"))
    # Never shown again once saved (it is stored encrypted); left empty on a change, the stored one is kept.
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, max_length=200,
        label=gettext_lazy("secret"),
        help_text=gettext_lazy("At least 16 characters, shared with the receiver. Leave empty to keep the "
                               "current one."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "secret", "events", "active")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(gettext("The address must start with https:// or http://."))
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret and self.instance.pk:
            return self.instance.secret
        if len(secret) < 16:
            raise forms.ValidationError(gettext("The secret must be at least 16 characters long."))
        return secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "active", "events_wanted", "created_at")
    list_filter = ("active",)
    actions = ["send_test_event"]

    @admin.display(description=gettext_lazy("events"))
    def events_wanted(self, obj: WebhookEndpoint) -> str:
        labels = dict(SUBSCRIBABLE)
        return ", ".join(str(labels.get(event, event)) for event in obj.events or [])

    @admin.action(description=gettext_lazy("Send test event"), permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        count = 0
        for endpoint in queryset:
            event_test_send(endpoint)
            count += 1
        self.message_user(request, ngettext(
            "A test event was queued for %(count)d endpoint: see the webhook deliveries.",
            "A test event was queued for %(count)d endpoints: see the webhook deliveries.", count,
        ) % {"count": count}, messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "endpoint", "status", "response_code", "duration_ms", "attempts",
                    "next_retry_at", "error")
    list_filter = ("status", "event", "endpoint")
    date_hierarchy = "created_at"
    readonly_fields = ("endpoint", "event", "event_id", "conversation", "payload", "status", "attempts",
                       "response_code", "duration_ms", "next_retry_at", "error", "created_at", "delivered_at")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("endpoint")


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "conversation", "message", "status", "attempts", "error", "sent_at")
    list_filter = ("status",)
    date_hierarchy = "created_at"
    exclude = ("message",)
    readonly_fields = ("conversation", "message_id_header", "status", "attempts", "error", "created_at", "sent_at")
