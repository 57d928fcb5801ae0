"""Whether a person can answer: the support hours and the agents online."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from ..presence_store import presence_count

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def support_hours() -> tuple[set[int], tuple[int, int], tuple[int, int]] | None:
    """SUPPORT_HOURS parsed: (ISO weekdays 0=Mon, opening (h, m), closing (h, m)); None means always open."""
    text = settings.SUPPORT_HOURS.strip().lower()
    if not text:
        return None
    match = re.fullmatch(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if not match or match.group(1) not in _DAYS or (match.group(2) and match.group(2) not in _DAYS):
        raise ValueError(f"SUPPORT_HOURS {settings.SUPPORT_HOURS!r} is not like 'Mon-Fri 09:00-18:00'")
    first = _DAYS.index(match.group(1))
    last = _DAYS.index(match.group(2)) if match.group(2) else first
    days = {(first + offset) % 7 for offset in range((last - first) % 7 + 1)}
    return days, (int(match.group(3)), int(match.group(4))), (int(match.group(5)), int(match.group(6)))


def support_open(*, at: Any = None) -> bool:
    """Whether `at` (default now) falls in SUPPORT_HOURS, in SUPPORT_TIME_ZONE."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    hours = support_hours()
    if hours is None:
        return True
    days, opening, closing = hours
    local = (at or datetime.now(tz=ZoneInfo("UTC"))).astimezone(ZoneInfo(settings.SUPPORT_TIME_ZONE))
    return local.weekday() in days and opening <= (local.hour, local.minute) < closing


def agents_online_count() -> int:
    """Agents whose console pinged within the presence window."""
    return presence_count()

