"""Service-level targets: when a handed-off conversation's first response and resolution are due.

The clock runs only in business hours (SUPPORT_HOURS in SUPPORT_TIME_ZONE, as conversations.selectors.availability
reads them): a conversation handed off ten minutes before closing with a thirty-minute target is due twenty minutes
after the next opening, not at midnight. Plain functions of datetimes and the team's targets, tested directly.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from .selectors.availability import support_hours

FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)


def business_time_add(start: datetime, minutes: float) -> datetime:
    """`start` plus `minutes` of business time: time outside SUPPORT_HOURS does not count (always open when it is
    empty)."""
    hours = support_hours()
    if hours is None:
        return start + timedelta(minutes=minutes)
    days, (open_h, open_m), (close_h, close_m) = hours
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
