"""One local day's figures, hour by hour, as a daily summary keeps them (conversations.services.summaries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import Conversation, Feedback, Message
from .buckets import Buckets
from .dashboard import counts_per_bucket
from .measures import handed_to_human, llm_replies_completed, percentiles
from .profiles import profile_figures


def day_bounds(day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The local day's first moment and the next day's (23 or 25 hours apart on a daylight-saving change)."""
    tz = tz or timezone.get_default_timezone()
    # In UTC: Python subtracts two times of one zone by their wall clocks, which would make every day 24 hours.
    return (
        datetime.combine(day, time.min).replace(tzinfo=tz).astimezone(UTC),
        datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=tz).astimezone(UTC),
    )


def active_days(first: date, last: date) -> set[date]:
    """The local days from `first` through `last` on which anything a summary counts happened: a conversation
    started or was resolved, a message or a vote was written. A handful of grouped queries instead of counting
    every day of a long history one by one (the first fill, or retention's, may span years)."""
    tz = timezone.get_default_timezone()
    start, end = day_bounds(first, tz)[0], day_bounds(last, tz)[1]

    def days(rows: QuerySet[Any], moment: str) -> set[date]:
        window = rows.filter(**{f"{moment}__gte": start, f"{moment}__lt": end}).order_by()
        return set(window.annotate(day=TruncDate(moment, tzinfo=tz)).values_list("day", flat=True).distinct())

    return (
        days(Conversation.objects.all(), "created_at")
        | days(Conversation.objects.all(), "resolved_at")
        | days(Message.objects.all(), "created_at")
        | days(Feedback.objects.all(), "created_at")
    )


def _hours(
    day: date, *, latency_cap: int, channel: str | None = None
) -> tuple[dict[str, list[int]], dict[str, list[list[float | None]]]]:
    """The day's hourly measures (the dashboard's own queries) and each hour's latest `latency_cap` reply
    times, of every conversation or of one channel's."""
    tz = timezone.get_default_timezone()
    start, end = day_bounds(day, tz)
    buckets = Buckets(start=start, size=timedelta(hours=1), count=round((end - start) / timedelta(hours=1)))
    hourly: dict[str, list[int]] = {}
    for group in counts_per_bucket(buckets=buckets, tz=tz, channel=channel):
        hourly.update(group)
    latency: dict[str, list[list[float | None]]] = {}
    replies = llm_replies_completed().filter(created_at__gte=start, created_at__lt=end).order_by("-id")
    if channel is not None:
        replies = replies.filter(conversation__channel=channel)
    for created_at, ttft, total in replies.values_list("created_at", "ttft_ms", "total_ms").iterator():
        kept = latency.setdefault(str(buckets.index(created_at)), [])
        if len(kept) < latency_cap:
            kept.append([ttft, total])
    return hourly, latency


def channel_figures(day: date, *, latency_cap: int) -> dict[str, dict[str, Any]]:
    """Each channel's hours of `day` ({"hourly": ..., "latency": ...}, as the day's own), for the dashboard's
    channel breakdown and filter once the rows are gone. The channels are those of the conversations that
    started, were resolved, or were written in that day: every measure belongs to one of them."""
    start, end = day_bounds(day)
    stored = Conversation.objects.filter(evaluation=False).order_by()
    active = (
        set(stored.filter(created_at__gte=start, created_at__lt=end).values_list("channel", flat=True).distinct())
        | set(stored.filter(resolved_at__gte=start, resolved_at__lt=end).values_list("channel", flat=True).distinct())
        | set(
            Message.objects.filter(conversation__evaluation=False, created_at__gte=start, created_at__lt=end)
            .order_by()
            .values_list("conversation__channel", flat=True)
            .distinct()
        )
    )
    figures = {}
    for channel in sorted(active):
        hourly, latency = _hours(day, latency_cap=latency_cap, channel=channel)
        figures[channel] = {"hourly": hourly, "latency": latency}
    return figures


def day_figures(day: date, *, latency_cap: int) -> dict[str, Any]:
    """Everything a DailySummary holds for `day` (settings.TIME_ZONE), from the rows as they are now.

    The hourly measures are the dashboard's own queries (counts_per_bucket), so a summarized hour and a live
    one are counted alike; each hour keeps its latest `latency_cap` (ttft_ms, total_ms) pairs."""
    tz = timezone.get_default_timezone()
    start, end = day_bounds(day, tz)
    hours = round((end - start) / timedelta(hours=1))
    hourly, latency = _hours(day, latency_cap=latency_cap)
    ttft_all = [pair[0] for pairs in latency.values() for pair in pairs if pair[0] is not None]
    started = Conversation.objects.filter(evaluation=False, created_at__gte=start, created_at__lt=end)
    reasons = started.filter(handed_to_human()).order_by().values("handoff_reason").annotate(n=Count("id"))
    sources = (
        Message.objects.filter(
            conversation__evaluation=False, role=Message.Role.BOT, created_at__gte=start, created_at__lt=end
        )
        .order_by()
        .values("answer_source")
        .annotate(n=Count("id"))
    )
    votes = Feedback.objects.filter(conversation__evaluation=False, created_at__gte=start, created_at__lt=end)
    feedback = votes.aggregate(up=Count("id", filter=Q(rating=1)), down=Count("id", filter=Q(rating=-1)))
    p50, p95 = percentiles(ttft_all)
    return {
        "start": start,
        "hours": hours,
        "conversations": sum(hourly["conversations"]),
        "customer_messages": sum(hourly["customer_messages"]),
        "bot_replies": sum(hourly["bot_replies"]),
        "handed_off": sum(hourly["handed_off"]),
        "handoffs_by_reason": {row["handoff_reason"] or "agent_took_over": row["n"] for row in reasons},
        "resolved_by_bot": sum(hourly["resolved_by_bot"]),
        "resolved_with_human": sum(hourly["resolved_with_human"]),
        "csat_sum": sum(hourly["csat_sum"]),
        "csat_count": sum(hourly["csat_count"]),
        "feedback_up": feedback["up"],
        "feedback_down": feedback["down"],
        "answers_by_source": {row["answer_source"] or "none": row["n"] for row in sources},
        "ttft_p50": p50,
        "ttft_p95": p95,
        "hourly": hourly,
        "latency": latency,
        "channels": channel_figures(day, latency_cap=latency_cap),
        "profiles": {
            "none" if profile_id is None else str(profile_id): values
            for profile_id, values in profile_figures(start=start, end=end, latency_cap=latency_cap).items()
        },
    }
