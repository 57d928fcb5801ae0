"""A customer's rights in admin: the "Privacy requests" page (a data-protection officer looks a customer up by
verified external id, email or conversation token, downloads their data as JSON or a transcript, or erases it
after a confirmation that lists what will go), the same from the customers' and conversations' lists, and the
record of every request served.

Thin: finding, exporting and erasing are conversations.privacy's. Exporting needs the "export personal data"
permission, erasing "erase personal data" (a superuser has both). Keys travel in POST bodies, never in URLs,
so that no access log holds an email or a token.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.privacy import DataSubject

from .admin_base import ReadOnlyAdmin
from .models import Customer, PrivacyRequest
from .privacy.erasure import erasure_plan, subject_erase
from .privacy.export import export_counts, export_json, transcript_html
from .privacy.records import privacy_request_record
from .privacy.subjects import lookup_described, subject_find, subject_of

EXPORT_PERMISSION = "conversations.export_personal_data"
ERASE_PERMISSION = "conversations.erase_personal_data"


class SubjectForm(forms.Form):
    external_id = forms.CharField(label=gettext_lazy("Verified external id"), required=False, max_length=255)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    token = forms.CharField(
        label=gettext_lazy("Conversation token"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("Finds that one conversation only."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Transcript language"), choices=(("en", "English"), ("zh-hans", "简体中文")), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(data.get(key) for key in ("external_id", "email", "token")):
            raise forms.ValidationError(_("Give a verified external id, an email or a conversation token."))
        return data


def _ids(raw: str) -> list[int]:
    return [int(x) for x in raw.split(",") if x.strip().isdigit()]


def _download(body: str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def export_response(subject: DataSubject, *, fmt: str, language: str = "en") -> HttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "html":
        return _download(
            transcript_html(subject, language=language), content_type="text/html", filename=f"transcript-{stamp}.html"
        )
    return _download(export_json(subject), content_type="application/json", filename=f"personal-data-{stamp}.json")


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnlyAdmin):
    """The record of requests served: shown, never changed."""

    list_display = ("created_at", "kind", "channel", "looked_up_by", "requested_by", "counts", "completed_at")
    list_filter = ("kind", "channel", "looked_up_by")
    search_fields = ("=subject_digest",)
    date_hierarchy = "created_at"
    change_list_template = "admin/conversations/privacyrequest/change_list.html"

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return super().has_view_permission(request, obj) or _may_serve(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or _may_serve(request)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("new/", wrap(self.lookup_view), name="conversations_privacyrequest_lookup"),
            path("erase/", wrap(self.erase_view), name="conversations_privacyrequest_erase"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "may_serve": _may_serve(request)})

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def lookup_view(self, request: HttpRequest) -> HttpResponse:
        """Find a customer; download (JSON or transcript) or go on to the erasure's confirmation."""
        if not _may_serve(request):
            raise PermissionDenied
        form = SubjectForm(request.POST or None)
        subject = None
        if request.method == "POST" and form.is_valid():
            keys = {key: form.cleaned_data.get(key) or None for key in ("external_id", "email", "token")}
            subject = subject_find(**keys)
            do = request.POST.get("do", "")
            if subject.empty:
                self.message_user(request, _("No customer or conversation matches."), messages.WARNING)
            elif do in ("json", "html"):
                if not request.user.has_perm(EXPORT_PERMISSION):
                    raise PermissionDenied
                looked_up_by, value = lookup_described(**keys)
                privacy_request_record(
                    kind=PrivacyRequest.Kind.EXPORT,
                    channel=PrivacyRequest.Channel.ADMIN,
                    looked_up_by=looked_up_by,
                    value=value,
                    user=request.user,
                    counts=export_counts(subject),
                )
                return export_response(subject, fmt=do, language=form.cleaned_data.get("language") or "en")
            elif do == "erase":
                return self.erase_view(request)
        return TemplateResponse(
            request,
            "admin/conversations/privacyrequest/lookup.html",
            self._context(
                request,
                _("A customer's data: export or erase"),
                form=form,
                counts=export_counts(subject) if subject and not subject.empty else None,
                may_export=request.user.has_perm(EXPORT_PERMISSION),
                may_erase=request.user.has_perm(ERASE_PERMISSION),
            ),
        )

    def erase_view(self, request: HttpRequest) -> HttpResponse:
        """The confirmation (what will go, counted) and, confirmed, the erasure. POST only: from the look-up form,
        or from the customers' or conversations' action with their ids."""
        if not request.user.has_perm(ERASE_PERMISSION):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:conversations_privacyrequest_lookup")
        keys = {key: (request.POST.get(key) or "").strip() or None for key in ("external_id", "email", "token")}
        customers, conversations = _ids(request.POST.get("customers", "")), _ids(request.POST.get("conversations", ""))
        if customers or conversations:
            subject = subject_of(customer_ids=customers, conversation_ids=conversations)
            looked_up_by = "customer" if customers else "conversation"
            value = ",".join(str(pk) for pk in sorted(subject.customer_ids or subject.conversation_ids))
        else:
            subject = subject_find(**keys)
            looked_up_by, value = lookup_described(**keys)
        if subject.empty:
            self.message_user(request, _("No customer or conversation matches."), messages.WARNING)
            return redirect("admin:conversations_privacyrequest_lookup")
        if request.POST.get("confirm") == "yes":
            record = subject_erase(
                subject, channel=PrivacyRequest.Channel.ADMIN, looked_up_by=looked_up_by, value=value, user=request.user
            )
            self.message_user(
                request, _("Erased. The request's record is number %(id)s.") % {"id": record.pk}, messages.SUCCESS
            )
            return redirect("admin:conversations_privacyrequest_change", record.pk)
        return TemplateResponse(
            request,
            "admin/conversations/privacyrequest/erase.html",
            self._context(
                request,
                _("Erase a customer's data"),
                lines=erasure_plan(subject).lines(),
                keys=keys,
                customers=",".join(map(str, customers)),
                conversations=",".join(map(str, conversations)),
            ),
        )


def _may_serve(request: HttpRequest) -> bool:
    return request.user.has_perm(EXPORT_PERMISSION) or request.user.has_perm(ERASE_PERMISSION)


class PrivacyActions:
    """The customers' and conversations' lists: export the chosen rows' data, or erase it after confirmation."""

    privacy_kind = "customer"

    def _subject(self, queryset: QuerySet) -> DataSubject:
        ids = list(queryset.values_list("pk", flat=True))
        if self.privacy_kind == "customer":
            return subject_of(customer_ids=ids)
        return subject_of(conversation_ids=ids)

    def has_export_personal_data_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def has_erase_personal_data_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ERASE_PERMISSION)

    @admin.action(description=gettext_lazy("Export personal data (JSON)"), permissions=["export_personal_data"])
    def export_personal_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        subject = self._subject(queryset)
        value = ",".join(str(pk) for pk in sorted(queryset.values_list("pk", flat=True)))
        privacy_request_record(
            kind=PrivacyRequest.Kind.EXPORT,
            channel=PrivacyRequest.Channel.ADMIN,
            looked_up_by=self.privacy_kind,
            value=value,
            user=request.user,
            counts=export_counts(subject),
        )
        return export_response(subject, fmt="json")

    @admin.action(description=gettext_lazy("Erase personal data…"), permissions=["erase_personal_data"])
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        if not request.user.has_perm(ERASE_PERMISSION):
            raise PermissionDenied
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        subject = self._subject(queryset)
        return TemplateResponse(
            request,
            "admin/conversations/privacyrequest/erase.html",
            {
                **admin.site.each_context(request),
                "opts": PrivacyRequest._meta,
                "title": _("Erase a customer's data"),
                "lines": erasure_plan(subject).lines(),
                "keys": {},
                "customers": ids if self.privacy_kind == "customer" else "",
                "conversations": ids if self.privacy_kind == "conversation" else "",
            },
        )


@admin.register(Customer)
class CustomerAdmin(PrivacyActions, ReadOnlyAdmin):
    """Customers as their signed identities name them: shown, exported, erased; never edited here."""

    list_display = ("external_id", "name", "email", "created_at", "last_seen_at")
    search_fields = ("=external_id", "email", "name")
    actions = ["export_personal_data", "erase_personal_data"]


class ConversationPrivacyActions(PrivacyActions):
    privacy_kind = "conversation"
    actions = ["export_personal_data", "erase_personal_data"]
