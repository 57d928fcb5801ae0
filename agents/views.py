"""The console pages: for agents only (agents.selectors.user_is_agent); everything live runs over /ws/console/.

The two report pages (profiles compared, the dashboard) are read-only and
rendered on the server: the view parses the request, `conversations.stats`
reads the figures, `agents.reports` labels and lays them out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from conversations.evaluation import figures as evaluation_figures
from conversations.evaluation import services as evaluation_services
from conversations.faq_suggestions.selectors import faq_suggestions_pending_count
from conversations.models import EvalRun
from conversations.selectors import contacts as contact_selectors
from conversations.selectors import teams as team_selectors
from conversations.selectors.sla import sla_breach_counts
from conversations.stats.articles import articles_health
from conversations.stats.dashboard import channels_compare, channels_seen, dashboard_series
from conversations.stats.gaps import knowledge_gaps
from conversations.stats.moderation import moderation_counts
from conversations.stats.profiles import PROFILE_SAMPLE_CAP, profiles_compare
from helpdesk import i18n
from helpdesk.llm import ollama as gateway
from helpdesk.llm import profiles
from helpdesk.web import signin

from . import contacts, performance, reports, selectors
from . import evaluation as evaluation_report
from . import knowledge as knowledge_report

NOT_AN_AGENT = gettext_lazy("The console is for agents: ask an administrator to add you to the agents group.")
LOGIN_URL = "/console/login/"


class ConsoleLoginView(auth_views.LoginView):
    """The console's own sign-in (agents need not be staff): a password, and the authenticator's code when
    REQUIRE_2FA_FOR_STAFF is on. django-axes answers for a locked-out user name and address."""

    template_name = "agents/login.html"
    form_class = signin.ConsoleSignInForm
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["second_factor"] = signin.second_factor_required()
        context["error"] = signin.sign_in_error(context["form"])
        return context


def agents_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the console's sign-in page; also when the second factor is required and this session
    has not given it), and an agent (else 403), like the console itself."""

    @login_required(login_url=LOGIN_URL)
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not signin.request_verified(request):
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        if not selectors.user_is_agent(request.user):
            raise PermissionDenied(NOT_AN_AGENT)
        return view(request, *args, **kwargs)

    return wrapped


@agents_only
def console(request: HttpRequest) -> HttpResponse:
    """The console's page, with its catalog in every language: agents switch language in the page itself."""
    catalogs = {code: i18n.js_catalog(code, "console") for code, _name in settings.LANGUAGES}
    # Curators (who may view the suggestions in admin) see how many FAQ suggestions wait for them.
    return render(request, "agents/console.html", {
        "agent_name": request.user.get_username(), "languages": settings.LANGUAGES, "catalogs": catalogs,
        "faq_suggestions_pending": _faq_suggestions_pending(request),
    })


def _faq_suggestions_pending(request: HttpRequest) -> int | None:
    """How many FAQ suggestions wait, for curators (who may view them in admin); None for other agents."""
    return faq_suggestions_pending_count() if request.user.has_perm("conversations.view_faqsuggestion") else None


def _report_context(request: HttpRequest, *, page: str) -> dict[str, Any]:
    """What both report pages' frame needs: language, labels, links that keep the other parameters."""
    lang = reports.report_language(
        requested=request.GET.get("lang"), negotiated=getattr(request, "LANGUAGE_CODE", "")
    )
    return {
        "page": page,
        "lang": lang,
        "html_lang": "zh-Hans" if lang == "zh-hans" else "en",
        "agent_name": request.user.get_username(),
        "faq_suggestions_pending": _faq_suggestions_pending(request),
        "languages": [
            {"code": code, "name": name, "query": reports.query_with(request.GET, lang=code), "current": code == lang}
            for code, name in settings.LANGUAGES
        ],
    }


@agents_only
def compare(request: HttpRequest) -> HttpResponse:
    context = _report_context(request, page="compare")
    lang, tz = context["lang"], timezone.get_current_timezone()
    period = reports.compare_period(params=request.GET, now=timezone.now(), tz=tz, lang=lang)
    columns = profiles_compare(start=period.start, end=period.end)
    context.update(
        period=period,
        window=reports.window_label(start=period.start, end=period.end, tz=tz),
        periods=[
            {"label": label, "query": reports.query_with({}, period=key, lang=lang), "current": key == period.key}
            for key, label in reports.PERIOD_LABELS.items()
        ],
        table=reports.compare_table(columns=columns, lang=lang),
        sample_cap=f"{PROFILE_SAMPLE_CAP:,}",
    )
    with translation.override(lang):
        return render(request, "agents/compare.html", context)


@agents_only
def dashboard(request: HttpRequest) -> HttpResponse:
    context = _report_context(request, page="dashboard")
    lang, tz = context["lang"], timezone.get_current_timezone()
    range_key, buckets = reports.dashboard_buckets(range_key=request.GET.get("range", ""), now=timezone.now(), tz=tz)
    channel = reports.channel_requested(request.GET.get("channel"))
    series = dashboard_series(buckets=buckets, tz=tz, channel=channel)
    seen = channels_seen(buckets=buckets)
    kept = {"channel": channel} if channel else {}
    context.update(
        range_key=range_key,
        channel=channel or "",
        window=reports.window_label(start=buckets.start, end=buckets.end, tz=tz),
        ranges=[
            {"label": label, "query": reports.query_with(kept, range=key, lang=lang), "current": key == range_key}
            for key, label in reports.RANGE_LABELS.items()
        ],
        channel_options=reports.channel_options(seen=seen, current=channel, lang=lang),
        channel_notice=reports.channel_notice(series=series, seen=seen, lang=lang),
        channel_rows=reports.channel_rows(
            compared=channels_compare(buckets=buckets), params={"range": range_key, "lang": lang}, lang=lang
        ),
        has_data=series.has_data,
        summary=reports.dashboard_summary(series=series, lang=lang),
        charts=reports.dashboard_charts(series=series, range_key=range_key, lang=lang, tz=tz),
        moderation=moderation_counts(start=buckets.start, end=buckets.end, channel=channel),
        sla_breaches=[{"team": team, **targets} for team, targets in sla_breach_counts().items()],
    )
    context["evaluation"] = evaluation_report.dashboard_card(card=evaluation_figures.latest_default_run(), lang=lang)
    context["nodes"], context["nodes_notice"] = reports.nodes_panel(
        states=gateway.nodes_status(), chat_model=profiles.profile_default().model, lang=lang, now=time.time()
    )
    with translation.override(lang):
        return render(request, "agents/dashboard.html", context)


def _run_ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()][:3]


@agents_only
def evaluation(request: HttpRequest) -> HttpResponse:
    """The evaluation runs, and two of them (`?run=1&run=2`) side by side with the cases that changed."""
    context = _report_context(request, page="evaluation")
    lang = context["lang"]
    ids = _run_ids(request.GET.getlist("run"))
    pair = evaluation_figures.runs_pair(first_id=ids[0], second_id=ids[1]) if len(ids) == 2 else None
    context.update(
        runs=evaluation_report.runs_rows(runs=list(evaluation_figures.runs_recent()), selected=set(ids), lang=lang),
        choice_error=bool(request.GET.getlist("run")) and pair is None,
        pair=pair,
        query=request.GET.urlencode(),
    )
    if pair is not None:
        before, after = pair
        can_apply = request.user.has_perm("helpdesk.change_modelprofile")
        context.update(
            headings=[evaluation_report.run_heading(run) for run in pair],
            figures=evaluation_report.figures_table(before=before, after=after, lang=lang),
            reliability=evaluation_report.reliability(before=before, after=after, lang=lang),
            calibrations=[evaluation_report.calibration(run=run, can_apply=can_apply, lang=lang) for run in pair],
        )
        diff = evaluation_figures.runs_diff(before=before, after=after)
        context.update(changes=evaluation_report.diff_rows(diff=diff, lang=lang),
                       unmatched=evaluation_report.diff_unmatched(diff=diff))
    with translation.override(lang):
        return render(request, "agents/evaluation.html", context)


@require_POST
@agents_only
def evaluation_apply(request: HttpRequest) -> HttpResponse:
    """Apply a run's proposed handoff threshold to its profile (those who may change model profiles)."""
    if not request.user.has_perm("helpdesk.change_modelprofile"):
        raise PermissionDenied(gettext_lazy("Applying a threshold needs the permission to change model profiles."))
    run_id = request.POST.get("run", "")
    run = get_object_or_404(EvalRun.objects.select_related("profile"), pk=int(run_id) if run_id.isdigit() else 0)
    lang = reports.report_language(requested=request.POST.get("lang"), negotiated=getattr(request, "LANGUAGE_CODE", ""))
    with translation.override(lang):
        try:
            threshold = evaluation_services.calibration_apply(run=run)
        except (ValidationError, ValueError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, translation.gettext("Handoff threshold of %(profile)s set to %(threshold)s.") % {
                "profile": run.profile.name if run.profile else run.profile_name, "threshold": f"{threshold:.2f}"})
    back = urlencode([("run", run_id) for run_id in _run_ids(request.POST.getlist("back_run"))] + [("lang", lang)])
    return HttpResponseRedirect(f"/console/evaluation/?{back}")


@agents_only
def gaps(request: HttpRequest) -> HttpResponse:
    """Knowledge gaps: the period's unanswered questions in topics, each with a "write an article" link for those
    who may add articles."""
    context = _report_context(request, page="gaps")
    lang = context["lang"]
    period = knowledge_report.knowledge_period(params=request.GET, now=timezone.now(), lang=lang)
    found = knowledge_gaps(start=period.start, end=period.end)
    context.update(
        period=period,
        periods=knowledge_report.period_links(current=period.key, lang=lang),
        window=reports.window_label(start=period.start, end=period.end, tz=timezone.get_current_timezone()),
        summary=knowledge_report.gaps_summary(gaps=found, lang=lang),
        topics=knowledge_report.gaps_rows(gaps=found, lang=lang,
                                          can_write=request.user.has_perm("knowledge.add_article")),
    )
    with translation.override(lang):
        return render(request, "agents/gaps.html", context)


@agents_only
def article_health(request: HttpRequest) -> HttpResponse:
    """Article health: each article's citations, thumbs and handoffs over the period; the bad and unused ones."""
    context = _report_context(request, page="articles")
    lang, tz = context["lang"], timezone.get_current_timezone()
    period = knowledge_report.knowledge_period(params=request.GET, now=timezone.now(), lang=lang)
    health = articles_health(start=period.start, end=period.end)
    context.update(
        period=period,
        periods=knowledge_report.period_links(current=period.key, lang=lang),
        window=reports.window_label(start=period.start, end=period.end, tz=tz),
        tables=knowledge_report.health_tables(health=health, tz=tz),
        rules=knowledge_report.health_rules(lang=lang),
        replies=health.replies, capped=health.capped, uncited_days=settings.ARTICLE_UNCITED_DAYS,
    )
    with translation.override(lang):
        return render(request, "agents/articles.html", context)


@agents_only
def agents_report(request: HttpRequest) -> HttpResponse:
    """Each agent's figures over the last 7, 30 or 90 days (`?period=`), and the bot's line beside them."""
    context = _report_context(request, page="agents")
    lang, tz = context["lang"], timezone.get_current_timezone()
    period = performance.performance_period(key=request.GET.get("period"), now=timezone.now())
    # `?team=<id>`: only the team's members, pooled in the "all" line; a team that is not there (deleted, or a
    # mistyped link) is an empty table that says so, answered 404.
    team_param = request.GET.get("team") or ""
    is_number = team_param.isascii() and team_param.isdigit() and len(team_param) <= 9  # none past an int column's
    team = team_selectors.team_member_ids(team_id=int(team_param)) if is_number else None
    unknown_team = bool(team_param) and team is None
    team_name, agent_ids = team if team is not None else ("", set() if unknown_team else None)
    kept = {"team": team_param} if team is not None else {}
    context.update(
        period=period,
        window=reports.window_label(start=period.start, end=period.end, tz=tz),
        periods=[
            {"label": label, "query": reports.query_with(kept, period=key, lang=lang), "current": key == period.key}
            for key, label in performance.PERFORMANCE_PERIOD_LABELS.items()
        ],
        team_options=performance.team_options(teams=team_selectors.teams_list(), current=team_param, lang=lang),
        team_name=team_name,
        unknown_team=unknown_team,
        table=performance.performance_table(start=period.start, end=period.end, lang=lang, agent_ids=agent_ids,
                                            team_name=team_name),
    )
    with translation.override(lang):
        return render(request, "agents/agents_report.html", context, status=404 if unknown_team else 200)


@agents_only
def contact(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A verified customer's page: their signed identity and conversations (personal data: agents only)."""
    customer = contact_selectors.contact_get(customer_id=customer_id)
    if customer is None:
        raise Http404
    context = _report_context(request, page="contact")
    context["contact"] = profile = contact_selectors.contact_profile(customer=customer)
    context["rows"] = contacts.contact_rows(
        conversations=profile["conversations"], lang=context["lang"], tz=timezone.get_current_timezone()
    )
    with translation.override(context["lang"]):
        return render(request, "agents/contact.html", context)
