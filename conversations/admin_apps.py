"""Apps of the HTTP API in admin: the key is shown once, when the app is saved the first time (or a new one is
made), and only its digest is kept."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from .models import App
from .services import apps


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "rate_limit", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name",)
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "allowed_origins", "rate_limit", "key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke", "new_key"]

    def save_model(self, request: HttpRequest, obj: App, form: Any, change: bool) -> None:
        key = None if change else apps.app_key_set(obj)
        super().save_model(request, obj, form, change)
        if key:
            self._show_key(request, obj, key)

    def _show_key(self, request: HttpRequest, app: App, key: str) -> None:
        messages.warning(request, gettext("The key of %(app)s, shown this once (only its digest is kept): %(key)s")
                         % {"app": app.name, "key": key})

    @admin.action(description=gettext_lazy("Revoke the selected apps' keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[App]) -> None:
        for app in queryset:
            apps.app_revoke(app)
        self.message_user(request, gettext("Revoked: %(count)d") % {"count": queryset.count()})

    @admin.action(description=gettext_lazy("Make a new key (the old one stops working)"), permissions=["change"])
    def new_key(self, request: HttpRequest, queryset: QuerySet[App]) -> None:
        for app in queryset:
            self._show_key(request, app, apps.app_key_set(app))
