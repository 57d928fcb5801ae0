"""Statistics for the agents' reports: model profiles side by side, and the operations dashboard.

Read-only, like selectors.py: nothing here writes. Counts, sums and means are
aggregated in the database (grouped by profile, or by the minute or hour the
dashboard's buckets are made of, in queries that SQLite and PostgreSQL both
run); only percentiles need the values themselves, and those are read with a
cap and computed in Python (numpy), because SQLite has no percentile function.

Definitions shared by both reports (shown on the pages too):
- a conversation "had a human" when an agent holds it or ever wrote in it (a
  reply or a private note); `agent` alone is not enough, since handing a
  conversation back to the bot clears it;
- a conversation was "handed to a human" when it went to the human queue
  (`handoff_at`, set by the bot or by the customer's request) or had a human
  (an agent may take a conversation over from the bot without a handoff);
- latencies are those of completed replies the model wrote (`answer_source`
  llm); FAQ and cache answers have no first token and would flatter them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncHour, TruncMinute
from django.utils import timezone

from helpdesk.models import ModelProfile

from .models import Conversation, LLMCall, Message

# At most this many replies are read per profile for its percentiles (the latest ones of the period).
PROFILE_SAMPLE_CAP = 5000
# At most this many replies are read for all the dashboard's latency percentiles together.
DASHBOARD_SAMPLE_CAP = 20000


# --- shared pieces --------------------------------------------------------------------------------


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95)) -> tuple[float | None, ...]:
    """The `qs` percentiles of `values` (linear interpolation, numpy's default); None for each when empty."""
    if len(values) == 0:
        return tuple(None for _ in qs)
    return tuple(float(v) for v in np.percentile(np.asarray(values, dtype=float), list(qs)))


def rate(part: int, whole: int) -> float | None:
    """`part` / `whole`, or None when there is nothing to divide (shown as "no data", not as 0 %)."""
    return part / whole if whole else None


def had_human() -> Q:
    """Conversations an agent holds or ever wrote in (see the module docstring)."""
    agent_wrote = Message.objects.filter(
        conversation=OuterRef("pk"), role__in=[Message.Role.AGENT, Message.Role.NOTE]
    )
    return Q(agent__isnull=False) | Q(Exists(agent_wrote))


def handed_to_human() -> Q:
    """Conversations that went to the human queue or had a human."""
    return Q(handoff_at__isnull=False) | had_human()


def bot_replied() -> Q:
    return Q(Exists(Message.objects.filter(conversation=OuterRef("pk"), role=Message.Role.BOT)))


def llm_replies_completed() -> QuerySet[Message]:
    """The replies whose latencies are measured: written by the model, and complete."""
    return Message.objects.filter(
        role=Message.Role.BOT, answer_source=Message.AnswerSource.LLM, status=Message.Status.COMPLETE
    )


def _latency_values(rows: list[tuple[float | None, float | None]]) -> tuple[list[float], list[float]]:
    return [r[0] for r in rows if r[0] is not None], [r[1] for r in rows if r[1] is not None]


# --- profiles side by side ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileStats:
    """One profile's column on the comparison page, over one period."""

    profile_id: int | None
    name: str
    model: str
    is_default: bool
    canary_share: float
    conversations: int = 0
    handed_off: int = 0
    csat_mean: float | None = None
    csat_count: int = 0
    bot_replies: int = 0
    llm_replies: int = 0
    failed_replies: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    ttft_p50: float | None = None
    ttft_p95: float | None = None
    total_p50: float | None = None
    total_p95: float | None = None
    latency_samples: int = 0
    # Every token the model generated (reasoning included) over the Ollama calls' whole time, in tokens/s.
    tokens_per_second: float | None = None
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def handoff_rate(self) -> float | None:
        return rate(self.handed_off, self.conversations)

    @property
    def thumbs_up_share(self) -> float | None:
        return rate(self.thumbs_up, self.thumbs_up + self.thumbs_down)

    @property
    def has_data(self) -> bool:
        return bool(self.conversations or self.bot_replies)


def profiles_compare(*, start: datetime, end: datetime) -> list[ProfileStats]:
    """Each model profile's figures for conversations started and replies written in [start, end).

    Columns: the default profile, then live canaries, then any other profile
    with data in the period (a rolled-back canary), then conversations with no
    profile (before profiles existed) if there are any. A profile without data
    still gets its column when it is live, so an empty period says "no data"
    per profile instead of showing nothing.
    """
    conversations = (
        Conversation.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("profile_id")
        .annotate(
            conversations=Count("id"),
            handed_off=Count("id", filter=handed_to_human()),
            csat_mean=Avg("csat_score"),
            csat_count=Count("csat_score"),
        )
    )
    measured = Q(
        answer_source=Message.AnswerSource.LLM,
        status=Message.Status.COMPLETE,
        reply_tokens__isnull=False,
        total_ms__gt=0,
    )
    replies = (
        Message.objects.filter(role=Message.Role.BOT, created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("profile_id")
        .annotate(
            bot_replies=Count("id"),
            llm_replies=Count("id", filter=Q(answer_source=Message.AnswerSource.LLM)),
            failed_replies=Count("id", filter=Q(status=Message.Status.FAILED)),
            thumbs_up=Count("feedback", filter=Q(feedback__rating=1)),
            thumbs_down=Count("feedback", filter=Q(feedback__rating=-1)),
            generated_tokens=Sum("reply_tokens", filter=measured),
            generation_ms=Sum("total_ms", filter=measured),
        )
    )
    errors = (
        LLMCall.objects.filter(created_at__gte=start, created_at__lt=end, outcome=LLMCall.Outcome.FAILED)
        .order_by()
        .values("profile_id", "error_kind")
        .annotate(n=Count("id"))
    )
    figures: dict[int | None, dict[str, Any]] = {}
    for row in conversations:
        figures.setdefault(row.pop("profile_id"), {}).update(row)
    for row in replies:
        profile_id = row.pop("profile_id")
        tokens, ms = row.pop("generated_tokens"), row.pop("generation_ms")
        row["tokens_per_second"] = tokens * 1000 / ms if tokens and ms else None
        figures.setdefault(profile_id, {}).update(row)
    for row in errors:
        kinds = figures.setdefault(row["profile_id"], {}).setdefault("errors_by_kind", {})
        kinds[row["error_kind"] or "unknown"] = row["n"]

    for profile_id, values in figures.items():
        if not values.get("llm_replies"):
            continue
        sample = llm_replies_completed().filter(created_at__gte=start, created_at__lt=end, profile_id=profile_id)
        rows = list(sample.order_by("-id").values_list("ttft_ms", "total_ms")[:PROFILE_SAMPLE_CAP])
        ttft, total = _latency_values(rows)
        values["ttft_p50"], values["ttft_p95"] = percentiles(ttft)
        values["total_p50"], values["total_p95"] = percentiles(total)
        values["latency_samples"] = len(rows)

    live = Q(is_default=True) | Q(canary_share__gt=0)
    profiles = ModelProfile.objects.filter(live | Q(pk__in=[pk for pk in figures if pk is not None]))
    ordered = sorted(profiles, key=lambda p: (not p.is_default, p.canary_share <= 0, p.name))
    columns = [
        ProfileStats(
            profile_id=p.pk, name=p.name, model=p.model, is_default=p.is_default,
            canary_share=p.canary_share, **figures.get(p.pk, {}),
        )
        for p in ordered
    ]
    if None in figures:
        columns.append(ProfileStats(profile_id=None, name="", model="", is_default=False, canary_share=0.0,
                                    **figures[None]))
    return columns


# --- the dashboard's time buckets -----------------------------------------------------------------


@dataclass(frozen=True)
class Buckets:
    """`count` consecutive time buckets of `size`, the first starting at `start` (UTC)."""

    start: datetime
    size: timedelta
    count: int

    @property
    def end(self) -> datetime:
        return self.start + self.size * self.count

    def edges(self) -> list[tuple[datetime, datetime]]:
        return [(self.start + self.size * i, self.start + self.size * (i + 1)) for i in range(self.count)]

    def index(self, moment: datetime) -> int | None:
        """Which bucket holds `moment` (None outside them all)."""
        if moment < self.start or moment >= self.end:
            return None
        return int((moment - self.start) // self.size)


def buckets_ending_now(*, now: datetime, size: timedelta, count: int, tz: tzinfo | None = None) -> Buckets:
    """The last `count` buckets of `size`, aligned on local clock boundaries, the last one holding `now`.

    Aligned buckets (10:05, 10:10, ... or 06:00, 12:00, ...) read better than
    buckets that end at whatever second the page was opened; the last one is
    still filling.
    """
    local = timezone.localtime(now, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    floored = midnight + size * ((local - midnight) // size)
    end = floored.astimezone(UTC) + size
    return Buckets(start=end - size * count, size=size, count=count)


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
    tz: tzinfo,
) -> dict[str, list[int]]:
    """One grouped query: every measure (a Count or Sum, with an optional filter) per time bucket.

    Rows are grouped by the local hour (buckets of whole hours) or minute
    (others) they fall in, which both databases truncate alike, and the few
    groups (at most 24 a day, or 60 an hour) are added up into buckets here.
    A filter with a subquery then runs once per row, not once per row and
    bucket as conditional aggregates per bucket would. Buckets must start on
    a whole hour, or minute for shorter ones (buckets_ending_now aligns them).
    """
    grain = TruncHour if buckets.size % timedelta(hours=1) == timedelta(0) else TruncMinute
    window = Q(**{f"{moment}__gte": buckets.start, f"{moment}__lt": buckets.end})
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


def _latency_samples(buckets: Buckets, completed_per_bucket: list[int]) -> list[list[tuple[Any, ...]]]:
    """The (ttft_ms, total_ms) rows of each bucket, at most DASHBOARD_SAMPLE_CAP in all.

    Within the cap one query reads them all; above it every bucket gets an equal
    share of the cap (its latest replies), so a busy bucket cannot crowd out the others.
    """
    samples: list[list[tuple[Any, ...]]] = [[] for _ in range(buckets.count)]
    replies = llm_replies_completed().order_by("-id")
    if sum(completed_per_bucket) <= DASHBOARD_SAMPLE_CAP:
        rows = replies.filter(created_at__gte=buckets.start, created_at__lt=buckets.end).values_list(
            "created_at", "ttft_ms", "total_ms"
        )
        for created_at, ttft, total in rows[:DASHBOARD_SAMPLE_CAP]:
            i = buckets.index(created_at)
            if i is not None:
                samples[i].append((ttft, total))
        return samples
    share = max(1, DASHBOARD_SAMPLE_CAP // buckets.count)
    for i, (low, high) in enumerate(buckets.edges()):
        if completed_per_bucket[i]:
            rows = replies.filter(created_at__gte=low, created_at__lt=high).values_list("ttft_ms", "total_ms")
            samples[i] = list(rows[:share])
    return samples


def dashboard_series(*, buckets: Buckets, tz: tzinfo | None = None) -> DashboardSeries:
    """Volume, latency, resolution, handoff, CSAT and answer-source figures per bucket.

    Conversations count in the bucket they started in (handoff rate, and "bot
    alone": a bot reply and never handed to a human); resolutions in the bucket
    of `resolved_at`; CSAT in the bucket of the resolution (or of the start,
    for a score left without one); messages in the bucket they were written in.
    `tz` (default: the current time zone) is the clock the buckets are aligned on.
    """
    tz = tz or timezone.get_current_timezone()
    conversations = _per_bucket(
        Conversation.objects.all(), moment="created_at", buckets=buckets,
        measures={
            "conversations": (Count, "id", None),
            "handed_off": (Count, "id", handed_to_human()),
            "bot_alone": (Count, "id", bot_replied() & ~handed_to_human()),
        },
        tz=tz,
    )
    resolutions = _per_bucket(
        Conversation.objects.all(), moment="resolved_at", buckets=buckets,
        measures={
            "resolved_by_bot": (Count, "id", ~had_human()),
            "resolved_with_human": (Count, "id", had_human()),
        },
        tz=tz,
    )
    csat = _per_bucket(
        Conversation.objects.filter(csat_score__isnull=False).annotate(rated_at=Coalesce("resolved_at", "created_at")),
        moment="rated_at", buckets=buckets,
        measures={"csat_sum": (Sum, "csat_score", None), "csat_count": (Count, "csat_score", None)}, tz=tz,
    )
    messages = _per_bucket(
        Message.objects.all(), moment="created_at", buckets=buckets,
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
        tz=tz,
    )
    completed = messages.pop("completed_llm")
    latency: dict[str, list[float | None]] = {"ttft_p50": [], "ttft_p95": [], "total_p50": [], "total_p95": []}
    all_ttft: list[float] = []
    all_total: list[float] = []
    samples = _latency_samples(buckets, completed)
    for rows in samples:
        ttft, total = _latency_values(rows)
        all_ttft += ttft
        all_total += total
        p50, p95 = percentiles(ttft)
        latency["ttft_p50"].append(p50)
        latency["ttft_p95"].append(p95)
        p50, p95 = percentiles(total)
        latency["total_p50"].append(p50)
        latency["total_p95"].append(p95)

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
        **conversations,
        **resolutions,
        **messages,
        **latency,
    )

