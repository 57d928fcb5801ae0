"""Filling the daily summaries that keep the dashboard's history after retention and erasure delete the rows."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.utils import timezone

from ..models import Conversation, DailySummary
from ..stats.daily import active_days, channel_figures, day_figures

logger = logging.getLogger(__name__)


def _today() -> date:
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def _first_unsummarized() -> date:
    """Where a fill starts: the latest summary's day (yesterday at most, which late resolutions and ratings still
    change), or, before any summary exists, the day of the oldest conversation."""
    today = _today()
    latest = DailySummary.objects.order_by("-day").values_list("day", flat=True).first()
    if latest is not None:
        return min(latest, today - timedelta(days=1))
    oldest = Conversation.objects.filter(evaluation=False).aggregate(oldest=Min("created_at"))["oldest"]
    return timezone.localdate(oldest, timezone.get_default_timezone()) if oldest else today


def summary_save(day: date, *, final: bool = False) -> bool:
    """Count `day` from the rows and store it; False when the day is final already (never counted again).

    The update is conditional on the row not being final, so a fill racing retention cannot overwrite a day
    retention has finalized and started deleting from with the undercount it then reads."""
    figures = day_figures(day, latency_cap=settings.SUMMARY_LATENCY_SAMPLES)
    now = timezone.now()
    if DailySummary.objects.filter(day=day, final=False).update(**figures, filled_at=now, final=final):
        return True
    if DailySummary.objects.filter(day=day).exists():
        return False
    try:
        with transaction.atomic():
            DailySummary.objects.create(day=day, **figures, filled_at=now, final=final)
    except IntegrityError:  # another fill created it meanwhile: that one stands
        return False
    return True


def summaries_fill(*, through: date | None = None) -> int:
    """Summarize every day not final from where the last fill stopped through `through` (default today), and
    return how many were (re)counted. Idempotent: the beat runs it every SUMMARIES_INTERVAL_S.

    A day on which nothing happened gets no row: the dashboard reads a past day without one as empty, which is
    right for every day before the last summarized one, since the fill looked at each of them."""
    through = through or _today()
    first = _first_unsummarized()
    if first > through:
        return 0
    days = sorted(
        active_days(first, through)
        | set(DailySummary.objects.filter(day__gte=first, day__lte=through).values_list("day", flat=True))
    )
    filled = sum(summary_save(day) for day in days)
    split = summaries_channels_backfill()
    logger.info("daily summaries filled", extra={"days": filled, "through": through.isoformat(),
                                                 "channels_backfilled": split})
    return filled


def summaries_channels_backfill() -> int:
    """Count by channel the days summarized before channels were counted (`channels` None, migration 0026)
    that are not final, and return how many: their rows are still there (retention freezes a day before it
    deletes from it; an erasure's few rows a recount would miss as well), so only the split is added and the
    day's own figures stay as they were counted.
    A final day keeps None: what is left of its rows would undercount it, and the dashboard says so instead.
    Conditional on the day still not being final, like summary_save."""
    pending = DailySummary.objects.filter(channels__isnull=True, final=False).order_by("day")
    return sum(
        DailySummary.objects.filter(day=day, channels__isnull=True, final=False).update(
            channels=channel_figures(day, latency_cap=settings.SUMMARY_LATENCY_SAMPLES)
        )
        for day in list(pending.values_list("day", flat=True))
    )


def summaries_finalize(*, through: date) -> int:
    """Freeze every day up to `through` that is not final, and return how many days were counted for it:
    retention calls this before it deletes rows of those days, so no later fill lowers their figures. A day
    last counted before it was a whole day behind (as "yesterday" or "today") is counted once more first, for
    what changed since (a handoff or an agent's reply in a conversation that started that day); one counted
    later, as the first fill counts a long history, is frozen as it is. Today is never frozen."""
    filled = summaries_fill()
    through = min(through, _today() - timedelta(days=1))
    pending = DailySummary.objects.filter(day__lte=through, final=False)
    pending.filter(filled_at__gte=F("start") + timedelta(days=2)).update(final=True)
    days = pending.order_by("day").values_list("day", flat=True)
    return filled + sum(summary_save(day, final=True) for day in list(days))
