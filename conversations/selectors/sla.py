"""Service-level targets: when a handed-off conversation's first response and resolution are due.

The clock runs only in business hours (SUPPORT_HOURS in SUPPORT_TIME_ZONE, as conversations.selectors.availability
reads them): a conversation handed off ten minutes before closing with a thirty-minute target is due twenty minutes
after the next opening, not at midnight. Plain functions of datetimes and the team's targets, tested directly.

The open conversations past a due time are counted for /metrics and the dashboard here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from ..models import Conversation, Team
from .availability import support_hours

FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)


def business_time_add(start: datetime, minutes: float) -> datetime:
    """`start` plus `minutes` of business time: time outside SUPPORT_HOURS does not count (always open when it is
    empty)."""
    hours = support_hours()
    if hours is None:
        return start + timedelta(minutes=minutes)
    days, (open_h, open_m), (close_h, close_m) = hours
    if (close_h, close_m) <= (open_h, open_m):  # no hours (or past midnight, which SUPPORT_HOURS cannot say)
        return start + timedelta(minutes=minutes)
    zone = ZoneInfo(settings.SUPPORT_TIME_ZONE)
    local = start.astimezone(zone)
    left = timedelta(minutes=minutes)
    for _ in range(3700):  # ten years of days: a bound, never reached with a sane SUPPORT_HOURS
        day = local.date()
        opening = datetime.combine(day, time(open_h, open_m), tzinfo=zone)
        closing = datetime.combine(day, time(close_h, close_m), tzinfo=zone)
        if day.weekday() in days and local < closing:
            local = max(local, opening)
            if local + left <= closing:
                return (local + left).astimezone(start.tzinfo)
            left -= closing - local
        local = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    raise ValueError("SUPPORT_HOURS never opens")


def sla_targets(team: Any, priority: str) -> dict[str, float]:
    """The team's targets (business minutes) for the priority: {"first_response": 30, "resolution": 480}, or
    fewer keys when a target is not set."""
    if team is None:
        return {}
    per_priority = (team.sla or {}).get(priority) or {}
    return {kind: float(per_priority[kind]) for kind in TARGETS if per_priority.get(kind)}


def sla_due_times(*, team: Any, priority: str, since: datetime) -> dict[str, datetime | None]:
    """The due times of both targets for a conversation handed off at `since` (None: no target)."""
    targets = sla_targets(team, priority)
    return {kind: business_time_add(since, targets[kind]) if kind in targets else None for kind in TARGETS}


def sla_breached(*, due: datetime | None, done: datetime | None, now: datetime) -> bool:
    """Whether a target was missed: done after it was due, or not done and already due."""
    return due is not None and (done or now) > due


_OPEN = (Conversation.Status.WAITING_HUMAN, Conversation.Status.HUMAN)
NO_TEAM = ""


def _breached(target: str, now: datetime) -> Q:
    if target == FIRST_RESPONSE:
        return Q(first_response_due_at__isnull=False) & (
            Q(first_response_at__isnull=True, first_response_due_at__lt=now)
            | Q(first_response_at__gt=F("first_response_due_at")))
    return Q(resolution_due_at__lt=now)


def sla_breach_counts(*, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """{team name ("" for none): {"first_response": n, "resolution": n}} over the open conversations (waiting or
    with an agent) that missed a target: first response late or overdue, resolution overdue. Every team is listed,
    with zeros, so a dashboard shows a team without breaches too."""
    now = now or timezone.now()
    counts = {name: {FIRST_RESPONSE: 0, RESOLUTION: 0} for name in Team.objects.values_list("name", flat=True)}
    open_ = Conversation.objects.filter(status__in=_OPEN, evaluation=False)
    for target in (FIRST_RESPONSE, RESOLUTION):
        for team_name, n in open_.filter(_breached(target, now)).values_list("team__name") \
                .annotate(n=Count("pk")).values_list("team__name", "n"):
            counts.setdefault(team_name or NO_TEAM, {FIRST_RESPONSE: 0, RESOLUTION: 0})[target] = n
    return counts


def sla_metric_samples() -> Iterator[tuple[str, str, dict[str, str], float]]:
    """helpdesk_sla_breached_conversations{team,target}: open conversations past an SLA target now (registered in
    helpdesk.observability.metrics.gauge_providers)."""
    for team, targets in sla_breach_counts().items():
        for target, n in targets.items():
            yield ("helpdesk_sla_breached_conversations", "Open conversations that missed an SLA target, by team "
                   "and target (first_response, resolution)", {"team": team, "target": target}, float(n))


def sla_state(conversation: Any, *, now: datetime | None = None) -> dict[str, Any] | None:
    """A conversation's SLA clock for the inbox: due times, and which targets are breached; None without one."""
    if conversation.first_response_due_at is None and conversation.resolution_due_at is None:
        return None
    now = now or timezone.now()
    responded = conversation.first_response_at
    resolved = conversation.resolved_at if conversation.status == Conversation.Status.RESOLVED else None
    first_due, resolution_due = conversation.first_response_due_at, conversation.resolution_due_at
    return {
        "first_response_due_at": first_due.isoformat() if first_due and not responded else None,
        "resolution_due_at": resolution_due.isoformat() if resolution_due and not resolved else None,
        "breached": [
            target for target, due, done in ((FIRST_RESPONSE, first_due, responded),
                                             (RESOLUTION, resolution_due, resolved))
            if due is not None and (done or now) > due
        ],
    }
