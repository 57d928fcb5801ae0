"""The operations dashboard's series: volume, latency, resolution, handoff, CSAT and answer sources per bucket,
for every channel or one (`Conversation.channel`: "web" or "app:<name>"), and the channels side by side.

Past days come from the daily summaries, which keep each channel's hourly figures too (`DailySummary.channels`).
A day summarized before channels were counted (`channels` None: filled before migration 0026) is split by the
next fill while it is not final (its rows are still there: summaries_channels_backfill); a final one cannot be
split honestly, its rows being gone, so a one-channel view leaves such days out and counts them in
`days_without_channels`, and the breakdown shows their conversations apart, as not counted by channel; the
unfiltered figures are unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncHour, TruncMinute
from django.utils import timezone

from ..models import Conversation, DailySummary, Message
from ..models.chat import WEB_CHANNEL
from .buckets import Buckets
from .measures import bot_replied, had_human, handed_to_human, latency_values, llm_replies_completed, percentiles, rate

# At most this many replies are read for all the dashboard's latency percentiles together.
DASHBOARD_SAMPLE_CAP = 20000

Counts = dict[str, list[int]]


@dataclass(frozen=True)
class DashboardSeries:
    """One value per bucket for each chart of the dashboard (None: nothing to measure in that bucket)."""

    buckets: Buckets
    conversations: list[int]
    customer_messages: list[int]
    ttft_p50: list[float | None]
    ttft_p95: list[float | None]
    total_p50: list[float | None]
    total_p95: list[float | None]
    latency_samples: int
    resolved_by_bot: list[int]
    resolved_with_human: list[int]
    bot_alone: list[int]
    handed_off: list[int]
    csat_mean: list[float | None]
    csat_count: list[int]
    bot_replies: list[int]
    cache_replies: list[int]
    faq_replies: list[int]
    # The same figures over all buckets together, for the summary line.
    totals: dict[str, Any]
    # The channel these figures are restricted to (None: every channel), and how many summarized days in the
    # buckets have no per-channel figures, hence are left out of a one-channel view.
    channel: str | None = None
    days_without_channels: int = 0

    @property
    def handoff_rate(self) -> list[float | None]:
        return [rate(h, c) for h, c in zip(self.handed_off, self.conversations, strict=True)]

    @property
    def cache_rate(self) -> list[float | None]:
        return [rate(h, n) for h, n in zip(self.cache_replies, self.bot_replies, strict=True)]

    @property
    def faq_rate(self) -> list[float | None]:
        return [rate(h, n) for h, n in zip(self.faq_replies, self.bot_replies, strict=True)]

    @property
    def has_data(self) -> bool:
        return bool(sum(self.conversations) or sum(self.customer_messages) or sum(self.bot_replies)
                    or sum(self.resolved_by_bot) or sum(self.resolved_with_human))


def _per_bucket(
    queryset: QuerySet[Any], *, moment: str, buckets: Buckets, measures: dict[str, tuple[type, str, Q | None]],
    tz: tzinfo, since: datetime,
) -> dict[str, list[int]]:
    """One grouped query: every measure (a Count or Sum, with an optional filter) per time bucket.

    Rows are grouped by the local hour (buckets of whole hours) or minute
    (others) they fall in, which both databases truncate alike, and the few
    groups (at most 24 a day, or 60 an hour) are added up into buckets here.
    A filter with a subquery then runs once per row, not once per row and
    bucket as conditional aggregates per bucket would. Buckets must start on
    a whole hour, or minute for shorter ones (buckets_ending_now aligns them).
    Rows before `since` are left out (the daily summaries count them).
    """
    grain = TruncHour if buckets.size % timedelta(hours=1) == timedelta(0) else TruncMinute
    window = Q(**{f"{moment}__gte": since, f"{moment}__lt": buckets.end})
    rows = (
        queryset.filter(window)
        .order_by()
        .annotate(slot=grain(moment, tzinfo=tz))
        .values("slot")
        .annotate(**{name: aggregate(expression, filter=extra) for name, (aggregate, expression, extra) in
                     measures.items()})
    )
    totals = {name: [0] * buckets.count for name in measures}
    for row in rows:
        i = buckets.index(row["slot"])
        if i is None:
            continue
        for name in measures:
            totals[name][i] += row[name] or 0
    return totals


def _latency_samples(
    buckets: Buckets, completed_per_bucket: list[int], *, since: datetime, channel: str | None = None
) -> list[list[tuple[Any, ...]]]:
    """The (ttft_ms, total_ms) rows of each bucket from `since` on, at most DASHBOARD_SAMPLE_CAP in all.

    Within the cap one query reads them all; above it every bucket gets an equal
    share of the cap (its latest replies), so a busy bucket cannot crowd out the others.
    """
    samples: list[list[tuple[Any, ...]]] = [[] for _ in range(buckets.count)]
    replies = llm_replies_completed().order_by("-id")
    if channel is not None:
        replies = replies.filter(conversation__channel=channel)
    if sum(completed_per_bucket) <= DASHBOARD_SAMPLE_CAP:
        rows = replies.filter(created_at__gte=since, created_at__lt=buckets.end).values_list(
            "created_at", "ttft_ms", "total_ms"
        )
        for created_at, ttft, total in rows[:DASHBOARD_SAMPLE_CAP]:
            i = buckets.index(created_at)
            if i is not None:
                samples[i].append((ttft, total))
        return samples
    share = max(1, DASHBOARD_SAMPLE_CAP // buckets.count)
    for i, (low, high) in enumerate(buckets.edges()):
        if completed_per_bucket[i] and high > since:
            rows = replies.filter(created_at__gte=max(low, since), created_at__lt=high).values_list(
                "ttft_ms", "total_ms"
            )
            samples[i] = list(rows[:share])
    return samples


def dashboard_series(*, buckets: Buckets, tz: tzinfo | None = None, channel: str | None = None) -> DashboardSeries:
    """Volume, latency, resolution, handoff, CSAT and answer-source figures per bucket.

    Conversations count in the bucket they started in (handoff rate, and "bot
    alone": a bot reply and never handed to a human); resolutions in the bucket
    of `resolved_at`; CSAT in the bucket of the resolution (or of the start,
    for a score left without one); messages in the bucket they were written in.
    `tz` (default: the current time zone) is the clock the buckets are aligned on.

    Past days come from their daily summaries (DailySummary), which outlive the rows retention and erasure
    delete; the rows themselves are read only from the end of the last summarized day (today, in practice).
    With `channel`, every figure counts only that channel's conversations (their messages, replies and
    ratings): from the summaries' per-channel figures, and from the rows; summarized days without per-channel
    figures are left out and counted in `days_without_channels` (see the module docstring). A channel never
    seen simply counts nothing.
    """
    tz = tz or timezone.get_current_timezone()
    since, summarized, summarized_samples, uncounted = _summarized(buckets, channel=channel)
    conversations, resolutions, csat, messages = counts_per_bucket(buckets=buckets, tz=tz, since=since,
                                                                   channel=channel)
    for group in (conversations, resolutions, csat, messages):
        for name, values in group.items():
            for i, n in enumerate(summarized.get(name, ())):
                values[i] += n
    completed = messages.pop("completed_llm")
    samples = _latency_samples(buckets, completed, since=since, channel=channel)
    for i, rows in enumerate(summarized_samples):
        samples[i] = rows + samples[i]
    latency, all_ttft, all_total = _latency_series(samples)
    csat_count = csat["csat_count"]
    started, replies = sum(conversations["conversations"]), sum(messages["bot_replies"])
    totals = {
        "conversations": started,
        "customer_messages": sum(messages["customer_messages"]),
        "handoff_rate": rate(sum(conversations["handed_off"]), started),
        "resolved_by_bot": sum(resolutions["resolved_by_bot"]),
        "resolved_with_human": sum(resolutions["resolved_with_human"]),
        "bot_alone": sum(conversations["bot_alone"]),
        "csat_mean": rate(sum(csat["csat_sum"]), sum(csat_count)),
        "csat_count": sum(csat_count),
        "cache_rate": rate(sum(messages["cache_replies"]), replies),
        "faq_rate": rate(sum(messages["faq_replies"]), replies),
        "bot_replies": replies,
        "ttft_p50": percentiles(all_ttft)[0],
        "total_p50": percentiles(all_total)[0],
    }
    return DashboardSeries(
        buckets=buckets,
        latency_samples=sum(len(rows) for rows in samples),
        csat_mean=[rate(total, n) for total, n in zip(csat["csat_sum"], csat_count, strict=True)],
        csat_count=csat_count,
        totals=totals,
        channel=channel,
        days_without_channels=uncounted,
        **conversations,
        **resolutions,
        **messages,
        **latency,
    )


def _summary_days(buckets: Buckets) -> tuple[datetime, list[DailySummary]]:
    """The past days' summaries overlapping the buckets, and from when rows must be read.

    Only for buckets of whole hours (a summary keeps hours); the days used are those before today with a
    summary, up to the last one (the fill keeps them contiguous), so the rows from its end on are read live."""
    if buckets.size % timedelta(hours=1) != timedelta(0):
        return buckets.start, []
    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    # The days overlapping the buckets (a day is at most 25 hours long): not every summary since the first.
    overlapping = Q(start__lt=buckets.end, start__gt=buckets.start - timedelta(hours=25))
    window = DailySummary.objects.filter(overlapping, day__lt=today)
    days = [d for d in window.order_by("day") if d.start + timedelta(hours=d.hours) > buckets.start]
    if not days:
        return buckets.start, []
    return min(max(days[-1].start + timedelta(hours=days[-1].hours), buckets.start), buckets.end), days


def _summarized(
    buckets: Buckets, *, channel: str | None = None
) -> tuple[datetime, Counts, list[list[tuple[Any, ...]]], int]:
    """The figures of the buckets' hours that past days' summaries hold (one channel's, with `channel`), from
    when rows must be read, and how many of those days have no per-channel figures (left out for a channel)."""
    samples: list[list[tuple[Any, ...]]] = [[] for _ in range(buckets.count)]
    since, days = _summary_days(buckets)
    counts: Counts = {}
    uncounted = 0
    for summary in days:
        hourly, latency = summary.hourly, summary.latency
        if channel is not None:
            if summary.channels is None:
                uncounted += 1
                continue
            figures = summary.channels.get(channel, {})
            hourly, latency = figures.get("hourly", {}), figures.get("latency", {})
        for hour in range(summary.hours):
            i = buckets.index(summary.start + timedelta(hours=hour))
            if i is None:
                continue
            for name, values in hourly.items():
                counts.setdefault(name, [0] * buckets.count)[i] += values[hour]
            samples[i] += [tuple(pair) for pair in latency.get(str(hour), ())]
    return since, counts, samples, uncounted


@dataclass(frozen=True)
class ChannelFigures:
    """One channel's conversations started in the buckets: how many were handed to a human, and how many the
    bot answered alone (deflected). `channel` None: days summarized before channels were counted."""

    channel: str | None
    conversations: int
    handed_off: int
    bot_alone: int

    @property
    def handoff_rate(self) -> float | None:
        return rate(self.handed_off, self.conversations)

    @property
    def deflection_rate(self) -> float | None:
        return rate(self.bot_alone, self.conversations)


def channels_compare(*, buckets: Buckets) -> list[ChannelFigures]:
    """Each channel's conversations started in the buckets, most first (ties by name), counted as the
    dashboard counts them: the summaries' per-channel hours, then one grouped query over the rows from where
    they end. Conversations of days summarized without per-channel figures come last, as channel None."""
    since, days = _summary_days(buckets)
    names = ("conversations", "handed_off", "bot_alone")
    counts: dict[str | None, dict[str, int]] = {}

    def add(channel: str | None, name: str, n: int) -> None:
        counts.setdefault(channel, dict.fromkeys(names, 0))[name] += n

    for summary in days:
        split = {None: {"hourly": summary.hourly}} if summary.channels is None else summary.channels
        hours = [h for h in range(summary.hours) if buckets.index(summary.start + timedelta(hours=h)) is not None]
        for channel, figures in split.items():
            for name in names:
                values = figures.get("hourly", {}).get(name)
                if values:
                    add(channel, name, sum(values[h] for h in hours))
    rows = (
        Conversation.objects.filter(evaluation=False, created_at__gte=since, created_at__lt=buckets.end)
        .order_by()
        .values("channel")
        .annotate(
            conversations=Count("id"),
            handed_off=Count("id", filter=handed_to_human()),
            bot_alone=Count("id", filter=bot_replied() & ~handed_to_human()),
        )
    )
    for row in rows:
        for name in names:
            add(row["channel"], name, row[name])
    compared = [ChannelFigures(channel=channel, **figures) for channel, figures in counts.items()
                if figures["conversations"]]
    return sorted(compared, key=lambda c: (c.channel is None, -c.conversations, c.channel or ""))


def channels_seen(*, buckets: Buckets) -> list[str]:
    """The channels to offer in the dashboard's filter: those of the conversations still stored and those the
    buckets' summaries counted, by name ("web" first)."""
    stored = Conversation.objects.filter(evaluation=False).order_by().values_list("channel", flat=True).distinct()
    _since, days = _summary_days(buckets)
    summarized = {channel for day in days for channel in (day.channels or {})}
    return sorted(set(stored) | summarized, key=lambda channel: (channel != WEB_CHANNEL, channel))


def counts_per_bucket(
    *, buckets: Buckets, tz: tzinfo, since: datetime | None = None, channel: str | None = None
) -> tuple[Counts, ...]:
    """The four grouped queries: conversations started, resolutions, CSAT scores and messages, per bucket (from
    `since` on, default the first bucket's start), of one channel's conversations with `channel`. Also what a
    daily summary counts, hour by hour."""
    since = since or buckets.start
    stored = Conversation.objects.filter(evaluation=False)
    written = Message.objects.filter(conversation__evaluation=False)
    if channel is not None:
        stored, written = stored.filter(channel=channel), written.filter(conversation__channel=channel)
    conversations = _per_bucket(
        stored, moment="created_at", buckets=buckets,
        measures={
            "conversations": (Count, "id", None),
            "handed_off": (Count, "id", handed_to_human()),
            "bot_alone": (Count, "id", bot_replied() & ~handed_to_human()),
        },
        tz=tz, since=since,
    )
    resolutions = _per_bucket(
        stored, moment="resolved_at", buckets=buckets,
        measures={
            "resolved_by_bot": (Count, "id", ~had_human()),
            "resolved_with_human": (Count, "id", had_human()),
        },
        tz=tz, since=since,
    )
    csat = _per_bucket(
        stored.filter(csat_score__isnull=False)
        .annotate(rated_at=Coalesce("resolved_at", "created_at")),
        moment="rated_at", buckets=buckets,
        measures={"csat_sum": (Sum, "csat_score", None), "csat_count": (Count, "csat_score", None)}, tz=tz,
        since=since,
    )
    messages = _per_bucket(
        written, moment="created_at", buckets=buckets,
        measures={
            "customer_messages": (Count, "id", Q(role=Message.Role.CUSTOMER)),
            "bot_replies": (Count, "id", Q(role=Message.Role.BOT)),
            "cache_replies": (Count, "id", Q(role=Message.Role.BOT, answer_source=Message.AnswerSource.CACHE)),
            "faq_replies": (Count, "id", Q(role=Message.Role.BOT, answer_source=Message.AnswerSource.FAQ)),
            "completed_llm": (
                Count, "id",
                Q(role=Message.Role.BOT, answer_source=Message.AnswerSource.LLM, status=Message.Status.COMPLETE),
            ),
        },
        tz=tz, since=since,
    )
    return conversations, resolutions, csat, messages


def _latency_series(
    samples: list[list[tuple[Any, ...]]],
) -> tuple[dict[str, list[float | None]], list[float], list[float]]:
    """Each bucket's latency percentiles, and every bucket's first-token and total times for the summary."""
    latency: dict[str, list[float | None]] = {"ttft_p50": [], "ttft_p95": [], "total_p50": [], "total_p95": []}
    all_ttft: list[float] = []
    all_total: list[float] = []
    for rows in samples:
        ttft, total = latency_values(rows)
        all_ttft += ttft
        all_total += total
        p50, p95 = percentiles(ttft)
        latency["ttft_p50"].append(p50)
        latency["ttft_p95"].append(p95)
        p50, p95 = percentiles(total)
        latency["total_p50"].append(p50)
        latency["total_p95"].append(p95)
    return latency, all_ttft, all_total
