"""The agents' report page: each agent's line over a period, and the bot's beside them, labelled and formatted
in the page's language. The figures come from conversations.stats.agents (conversations and messages) and
agents.selectors.handbacks_per_agent (the audit log); this module only lays them out.

A team's report is the same page over a set of agent ids: `performance_table(agent_ids=...)` passes them to
both reads, and its "together" line then pools only that team.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from conversations.stats.agents import AgentFigures, AgentsReport, agents_figures

from . import selectors
from .reports import _or_none, integer, one_decimal, percent

PERFORMANCE_PERIODS = {"7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
PERFORMANCE_PERIOD_LABELS = {"7d": gettext_noop("Last 7 days"), "30d": gettext_noop("Last 30 days"),
                             "90d": gettext_noop("Last 90 days")}


@dataclass(frozen=True)
class PerformancePeriod:
    key: str
    start: datetime
    end: datetime


def performance_period(*, key: str | None, now: datetime) -> PerformancePeriod:
    """`?period=7d|30d|90d`; anything else is the last 7 days."""
    key = key if key in PERFORMANCE_PERIODS else "7d"
    return PerformancePeriod(key, now - PERFORMANCE_PERIODS[key], now)


def duration(seconds: float) -> str:
    """A time as people read it: "45 s", "3.5 min", "2.1 h", "1.5 d"."""
    if seconds < 60:
        return _("%(n)s s") % {"n": f"{seconds:.0f}"}
    if seconds < 3600:
        return _("%(n)s min") % {"n": f"{seconds / 60:.1f}"}
    if seconds < 86400:
        return _("%(n)s h") % {"n": f"{seconds / 3600:.1f}"}
    return _("%(n)s d") % {"n": f"{seconds / 86400:.1f}"}


def _pair(p50: float | None, p95: float | None, count: int, *, handoffs: bool = False) -> tuple[str, str]:
    """A percentile cell: "p50 · p95" and how many values they come from (conversations, or handoffs: a
    conversation handed off twice has two first responses)."""
    if p50 is None or p95 is None:
        return _("no data"), ""
    if handoffs:
        of = translation.ngettext("of %(n)s handoff", "of %(n)s handoffs", count)
    else:
        of = translation.ngettext("of %(n)s conversation", "of %(n)s conversations", count)
    return f"{duration(p50)} · {duration(p95)}", of % {"n": count}


def _row(*, name: str, figures: AgentFigures, handbacks: int, key: str) -> dict[str, Any]:
    csat = _or_none(figures.csat_mean, one_decimal)
    return {
        "key": key,
        "name": name,
        "handled": integer(figures.handled),
        "resolved": integer(figures.resolved),
        "first_response": _pair(figures.first_response_p50, figures.first_response_p95, figures.first_responses,
                                handoffs=True),
        "resolution": _pair(figures.resolution_p50, figures.resolution_p95, figures.resolutions_timed),
        "csat": (csat, translation.ngettext("%(n)s rating", "%(n)s ratings", figures.csat_count)
                 % {"n": figures.csat_count} if figures.csat_count else ""),
        "handbacks": integer(handbacks),
    }


def team_options(*, teams: list[dict[str, Any]], current: str, lang: str) -> list[dict[str, Any]]:
    """The team select's options: "All agents", then each team by name, the requested one marked."""
    with translation.override(lang):
        return [{"value": "", "label": _("All agents"), "current": not current}] + [
            {"value": str(team["id"]), "label": team["name"], "current": str(team["id"]) == current} for team in teams
        ]


def performance_table(
    *, start: datetime, end: datetime, lang: str, agent_ids: Iterable[int] | None = None, team_name: str = ""
) -> dict[str, Any]:
    """The page's table: one row per agent (every current agent, and anyone else who has figures in the
    period), a row for all of them together (named after the team when `team_name`), and the bot's line."""
    wanted = None if agent_ids is None else set(agent_ids)
    report: AgentsReport = agents_figures(start=start, end=end, agent_ids=wanted)
    handbacks = selectors.handbacks_per_agent(start=start, end=end, agent_ids=wanted)
    current = {row["id"] for row in selectors.agents_list()} if wanted is None else wanted
    ids = current | set(report.agents) | set(handbacks)
    names = selectors.users_named(user_ids=ids)
    empty = AgentFigures.empty()
    with translation.override(lang):
        rows = [
            _row(name=names.get(agent_id, _("former agent #%(id)s") % {"id": agent_id}),
                 figures=report.agents.get(agent_id, empty), handbacks=handbacks.get(agent_id, 0), key="agent")
            for agent_id in sorted(ids, key=lambda i: (names.get(i, "~").lower(), i))
        ]
        together_name = _("All of %(team)s") % {"team": team_name} if team_name else _("All agents")
        together = _row(name=together_name, figures=report.together, handbacks=sum(handbacks.values()),
                        key="together")
        bot = report.bot
        bot_line = {
            "answered": integer(bot.answered),
            "resolved_alone": integer(bot.resolved_alone),
            "resolved_all": integer(bot.resolved_all),
            "deflection": _or_none(bot.deflection, percent),
            "csat": _or_none(bot.csat_mean, one_decimal),
            "csat_count": translation.ngettext("%(n)s rating", "%(n)s ratings", bot.csat_count)
            % {"n": bot.csat_count},
        }
    return {"rows": rows, "together": together, "bot": bot_line,
            "has_data": bool(report.agents or handbacks or bot.answered or bot.resolved_all)}

