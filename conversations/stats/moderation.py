"""The moderation hits of a period, by category, for the agents' dashboard (evaluation runs' hits left out)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q

from ..models import ModerationCategory, ModerationHit


def moderation_counts(*, start: datetime, end: datetime, channel: str | None = None) -> list[dict[str, object]]:
    """One row per category with hits in [start, end) (in one channel's conversations, with `channel`): its
    label, and its hits in customers' messages and in bot replies; most hits first."""
    hits = ModerationHit.objects.filter(
        created_at__gte=start, created_at__lt=end, message__conversation__evaluation=False
    )
    if channel is not None:
        hits = hits.filter(message__conversation__channel=channel)
    rows = (
        hits
        .values("category")
        .annotate(
            inbound=Count("id", filter=Q(where=ModerationHit.Where.INBOUND)),
            outbound=Count("id", filter=Q(where=ModerationHit.Where.OUTBOUND)),
        )
    )
    labels = dict(ModerationCategory.choices)
    counted = [
        {
            "category": row["category"],
            "label": labels.get(row["category"], row["category"]),
            "inbound": row["inbound"],
            "outbound": row["outbound"],
        }
        for row in rows
    ]
    return sorted(counted, key=lambda row: (-(row["inbound"] + row["outbound"]), row["category"]))
