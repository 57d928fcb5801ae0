"""Evaluation sets, cases and runs in admin: cases imported and exported, a set run with a chosen profile,
runs followed, and cases suggested from real traffic accepted or dismissed.

Thin: every write goes through conversations.evaluation (io, actions, suggestions). What a user may do follows
Django's permissions: importing needs "add evaluation case" and "change evaluation case", running a set
"add evaluation run", accepting a suggestion "add evaluation case"; a view-only user sees and exports only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from helpdesk.models import ModelProfile

from .evaluation import services as evaluation_services
from .evaluation import suggestions
from .evaluation.io import cases_export, cases_import
from .models import EvalCase, EvalRun, EvalSet

FORMATS = (("jsonl", "JSONL"), ("csv", "CSV"))


class CasesImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    fmt = forms.ChoiceField(label=gettext_lazy("Format"), choices=FORMATS)
    replace = forms.BooleanField(
        label=gettext_lazy("Replace the set's cases"), required=False,
        help_text=gettext_lazy("Cases of the set that the file does not name are deleted."))


class RunForm(forms.Form):
    profile = forms.ModelChoiceField(
        label=gettext_lazy("Model profile"), queryset=ModelProfile.objects.all(), required=False,
        empty_label=gettext_lazy("The default profile"))


@admin.register(EvalSet)
class EvalSetAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "case_total", "latest_run", "updated_at")
    search_fields = ("name", "description")
    actions = ["run_evaluation"]
    change_form_template = "admin/conversations/evalset/change_form.html"
    change_list_template = "admin/conversations/evalset/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvalSet]:
        return super().get_queryset(request).annotate(case_count=Count("cases"))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "is_default" in form.base_fields:
            form.base_fields["is_default"].help_text = _(
                "The set the nightly run, the evaluation after publishing and the promotion gate use: a profile "
                "made the default or given a larger canary share must do as well on it as the default profile. "
                "With no default set there is no gate.")
        return form

    @admin.display(description=gettext_lazy("cases"), ordering="case_count")
    def case_total(self, obj: EvalSet) -> str:
        url = reverse("admin:conversations_evalcase_changelist") + f"?eval_set__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.case_count)

    @admin.display(description=gettext_lazy("latest run"))
    def latest_run(self, obj: EvalSet) -> str:
        run = obj.runs.order_by("-created_at").first()
        if run is None:
            return "–"
        url = reverse("admin:conversations_evalrun_change", args=[run.pk])
        return format_html('<a href="{}">#{} · {}</a>', url, run.pk, run.get_status_display())

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("conversations.add_evalrun")

    def _may_import(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["conversations.add_evalcase", "conversations.change_evalcase"])

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<int:set_id>/import/", wrap(self.import_view), name="conversations_evalset_import"),
            path("<int:set_id>/export/", wrap(self.export_view), name="conversations_evalset_export"),
            path("run/", wrap(self.run_view), name="conversations_evalset_run"),
            path("suggestions/", wrap(self.suggestions_view), name="conversations_evalset_suggestions"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "may_import": self._may_import(request)}
        return super().change_view(request, object_id, form_url, extra)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "may_suggest": self._may_suggest(request)})

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    # --- import and export --------------------------------------------------------------------

    def import_view(self, request: HttpRequest, set_id: int) -> HttpResponse:
        if not self._may_import(request):
            raise PermissionDenied
        eval_set = get_object_or_404(EvalSet, pk=set_id)
        form = CasesImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data["file"].read().decode("utf-8-sig", errors="replace")
            report = cases_import(eval_set=eval_set, data=data, fmt=form.cleaned_data["fmt"],
                                  replace=form.cleaned_data["replace"])
            self.message_user(request, _("Imported: %(created)s created, %(updated)s updated, %(errors)s errors.") % {
                "created": report.created, "updated": report.updated, "errors": len(report.errors)},
                messages.WARNING if report.errors else messages.SUCCESS)
        errors = report.errors if report else []
        return TemplateResponse(request, "admin/conversations/evalset/import.html", self._context(
            request, _("Import cases into %(set)s") % {"set": eval_set.name}, form=form, eval_set=eval_set,
            errors=errors))

    def export_view(self, request: HttpRequest, set_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        eval_set = get_object_or_404(EvalSet, pk=set_id)
        fmt = request.GET.get("fmt") if request.GET.get("fmt") in dict(FORMATS) else "jsonl"
        body = cases_export(eval_set=eval_set, fmt=fmt)
        content_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
        response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{eval_set.name}.{fmt}"'
        return response

    # --- runs ---------------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Run evaluation…"), permissions=["run"])
    def run_evaluation(self, request: HttpRequest, queryset: QuerySet[EvalSet]) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(reverse("admin:conversations_evalset_run") + f"?ids={ids}")

    def run_view(self, request: HttpRequest) -> HttpResponse:
        """The action's intermediate page: which profile to run the chosen sets with."""
        if not self.has_run_permission(request):
            raise PermissionDenied
        raw = request.POST.get("ids") or request.GET.get("ids", "")
        sets = list(EvalSet.objects.filter(pk__in=[int(x) for x in raw.split(",") if x.isdigit()]))
        form = RunForm(request.POST or None)
        if request.method == "POST" and sets and form.is_valid():
            runs = [evaluation_services.run_queue(eval_set=eval_set, profile=form.cleaned_data["profile"],
                                             trigger=EvalRun.Trigger.MANUAL, requested_by=request.user)
                    for eval_set in sets]
            self.message_user(request, ngettext("%(n)d evaluation run queued.", "%(n)d evaluation runs queued.",
                                                len(runs)) % {"n": len(runs)}, messages.SUCCESS)
            return redirect("admin:conversations_evalrun_changelist")
        return TemplateResponse(request, "admin/conversations/evalset/run.html", self._context(
            request, _("Run evaluation"), form=form, sets=sets, ids=raw))

    # --- suggestions from real traffic -------------------------------------------------------

    def _may_suggest(self, request: HttpRequest) -> bool:
        return request.user.has_perm("conversations.view_evalcase")

    def suggestions_view(self, request: HttpRequest) -> HttpResponse:
        if not self._may_suggest(request):
            raise PermissionDenied
        may_accept = request.user.has_perm("conversations.add_evalcase")
        if request.method == "POST":
            if not may_accept:
                raise PermissionDenied
            return self._suggestions_post(request)
        return TemplateResponse(request, "admin/conversations/evalset/suggestions.html", self._context(
            request, _("Cases suggested from real conversations"), suggestions=suggestions.suggestions_list(),
            sets=EvalSet.objects.all(), may_accept=may_accept,
            kinds={suggestions.AGENT_ANSWER: _("an agent answered after a handoff"),
                   suggestions.THUMBS_DOWN: _("the customer gave the reply a thumbs down")}))

    def _suggestions_post(self, request: HttpRequest) -> HttpResponse:
        ids = [int(x) for x in request.POST.getlist("message") if x.isdigit()]
        if not ids:
            self.message_user(request, _("Choose at least one suggestion."), messages.WARNING)
        elif request.POST.get("do") == "dismiss":
            count = suggestions.suggestions_dismiss(message_ids=ids, user=request.user)
            self.message_user(request, ngettext("%(n)d suggestion dismissed.", "%(n)d suggestions dismissed.",
                                                count) % {"n": count}, messages.SUCCESS)
        else:
            eval_set = get_object_or_404(EvalSet, pk=request.POST.get("eval_set") or 0)
            cases = suggestions.suggestions_accept(eval_set=eval_set, message_ids=ids)
            self.message_user(request, ngettext("%(n)d case added to %(set)s.", "%(n)d cases added to %(set)s.",
                                                len(cases)) % {"n": len(cases), "set": eval_set.name},
                              messages.SUCCESS)
        return redirect("admin:conversations_evalset_suggestions")


@admin.register(EvalCase)
class EvalCaseAdmin(admin.ModelAdmin):
    list_display = ("key", "eval_set", "short_question", "expectation", "language", "held_out", "updated_at")
    list_filter = ("eval_set", "expectation", "held_out", "language")
    search_fields = ("key", "question")
    autocomplete_fields = ("articles", "faq")
    raw_id_fields = ("suggested_from",)
    list_select_related = ("eval_set",)

    @admin.display(description=gettext_lazy("question"))
    def short_question(self, obj: EvalCase) -> str:
        return obj.question[:80]


@admin.register(EvalRun)
class EvalRunAdmin(admin.ModelAdmin):
    """Runs are made by running a set (the action, `manage.py evaluate`, the beat): read-only here."""

    list_display = ("id", "eval_set", "profile_name", "status", "progress", "pass_rate", "knowledge_version",
                    "trigger", "created_at")
    list_filter = ("status", "trigger", "eval_set", "profile_name")
    list_select_related = ("eval_set",)
    exclude = ("summary",)
    readonly_fields = ("report", "eval_set", "profile", "profile_name", "model_name", "handoff_threshold",
                       "knowledge_version", "status", "trigger", "progress", "pass_rate", "error", "requested_by",
                       "created_at", "started_at", "finished_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, obj: EvalRun) -> str:
        return f"{obj.cases_done}/{obj.cases_total}"

    @admin.display(description=gettext_lazy("cases passed"))
    def pass_rate(self, obj: EvalRun) -> str:
        rate = ((obj.summary or {}).get("all") or {}).get("pass_rate")
        return f"{rate * 100:.0f} %" if rate is not None else "–"

    @admin.display(description=gettext_lazy("report"))
    def report(self, obj: EvalRun) -> str:
        previous = (EvalRun.objects.filter(eval_set_id=obj.eval_set_id, status=EvalRun.Status.DONE,
                                           created_at__lt=obj.created_at).order_by("-created_at").first())
        query = f"run={previous.pk}&run={obj.pk}" if previous else f"run={obj.pk}"
        label = _("Compare with run %(id)s in the console") % {"id": previous.pk} if previous else _(
            "Open the console report")
        return format_html('<a href="/console/evaluation/?{}">{}</a>', query, label)
