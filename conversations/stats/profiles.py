"""Model profiles side by side: each profile's figures over one period, for the comparison page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from helpdesk.models import ModelProfile

from ..models import Conversation, DailySummary, LLMCall, Message
from .measures import handed_to_human, latency_values, llm_replies_completed, percentiles, rate

# At most this many replies are read per profile for its percentiles (the latest ones of the period).
PROFILE_SAMPLE_CAP = 5000

Figures = dict[int | None, dict[str, Any]]


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

    Whole past days of the period come from their daily summaries (which outlive retention and erasure), the
    rest (a part day at either end, today) from the rows.
    """
    figures: Figures = {}
    for summary, low, high in _summarized_days(start=start, end=end):
        if summary is None:
            figures_merge(figures, profile_figures(start=low, end=high))
        else:
            figures_merge(figures, {None if key == "none" else int(key): value
                                    for key, value in summary.profiles.items()})
    return _profile_columns(_finished(figures))


def profile_figures(*, start: datetime, end: datetime, latency_cap: int = 0) -> Figures:
    """Each profile's raw, addable figures in [start, end): counts, sums and latency rows (the latest
    `latency_cap` per profile, default PROFILE_SAMPLE_CAP). What a daily summary keeps of a day."""
    figures: Figures = {}
    _conversation_figures(figures, start=start, end=end)
    _reply_figures(figures, start=start, end=end)
    _error_figures(figures, start=start, end=end)
    _latency_figures(figures, start=start, end=end, cap=latency_cap or PROFILE_SAMPLE_CAP)
    return figures


def figures_merge(into: Figures, more: Figures) -> Figures:
    """Add `more`'s figures to `into`'s, profile by profile (counts and sums add up, latency rows join)."""
    for profile_id, values in more.items():
        target = into.setdefault(profile_id, {})
        for key, value in values.items():
            if key == "errors_by_kind":
                kinds = target.setdefault(key, {})
                for kind, n in value.items():
                    kinds[kind] = kinds.get(kind, 0) + n
            elif key == "latency_rows":
                target[key] = target.get(key, []) + [tuple(row) for row in value]
            else:
                target[key] = (target.get(key) or 0) + (value or 0)
    return into


def _summarized_days(*, start: datetime, end: datetime) -> list[tuple[DailySummary | None, datetime, datetime]]:
    """The period in pieces: a summary for each whole local day before today up to the last summarized one (a
    day without a row there had nothing to count), None and its bounds for the rest, to be read from rows."""
    tz = timezone.get_default_timezone()
    today = timezone.localdate(timezone.now(), tz)
    first = timezone.localdate(start, tz)
    rows = DailySummary.objects.filter(day__gte=first, day__lt=today, start__lt=end).only("day", "profiles")
    summaries = {s.day: s for s in rows}
    last = max(summaries, default=None)
    pieces: list[tuple[DailySummary | None, datetime, datetime]] = []
    live_from = start
    day = first
    while last is not None and day <= last:
        low = _local_midnight(day, tz)
        high = _local_midnight(day + timedelta(days=1), tz)
        if low >= start and high <= end:
            if live_from < low:
                pieces.append((None, live_from, low))
            pieces.append((summaries.get(day) or DailySummary(day=day, profiles={}), low, high))
            live_from = high
        day += timedelta(days=1)
    if live_from < end:
        pieces.append((None, live_from, end))
    return pieces


def _local_midnight(day: date, tz: Any) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=tz)


def _finished(figures: Figures) -> Figures:
    """The raw figures as ProfileStats takes them: means, rates and percentiles worked out."""
    for values in figures.values():
        csat_sum, tokens, ms = values.pop("csat_sum", 0), values.pop("generated_tokens", 0), values.pop(
            "generation_ms", 0)
        values["csat_mean"] = csat_sum / values["csat_count"] if values.get("csat_count") else None
        values["tokens_per_second"] = tokens * 1000 / ms if tokens and ms else None
        rows = values.pop("latency_rows", [])
        if rows:
            ttft, total = latency_values(rows)
            values["ttft_p50"], values["ttft_p95"] = percentiles(ttft)
            values["total_p50"], values["total_p95"] = percentiles(total)
            values["latency_samples"] = len(rows)
    return figures


def _conversation_figures(figures: Figures, *, start: datetime, end: datetime) -> None:
    """Conversations started per profile: how many, how many handed off, their CSAT."""
    conversations = (
        Conversation.objects.filter(created_at__gte=start, created_at__lt=end, evaluation=False)
        .order_by()
        .values("profile_id")
        .annotate(
            conversations=Count("id"),
            handed_off=Count("id", filter=handed_to_human()),
            csat_sum=Sum("csat_score"),
            csat_count=Count("csat_score"),
        )
    )
    for row in conversations:
        figures.setdefault(row.pop("profile_id"), {}).update(row)


def _reply_figures(figures: Figures, *, start: datetime, end: datetime) -> None:
    """Bot replies written per profile: counts by source, status and vote, and the generation speed."""
    measured = Q(
        answer_source=Message.AnswerSource.LLM,
        status=Message.Status.COMPLETE,
        reply_tokens__isnull=False,
        total_ms__gt=0,
    )
    replies = (
        Message.objects.filter(role=Message.Role.BOT, created_at__gte=start, created_at__lt=end,
                               conversation__evaluation=False)
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
    for row in replies:
        figures.setdefault(row.pop("profile_id"), {}).update(row)


def _error_figures(figures: Figures, *, start: datetime, end: datetime) -> None:
    """Failed Ollama calls per profile, by kind."""
    errors = (
        LLMCall.objects.filter(created_at__gte=start, created_at__lt=end, outcome=LLMCall.Outcome.FAILED)
        .order_by()
        .values("profile_id", "error_kind")
        .annotate(n=Count("id"))
    )
    for row in errors:
        kinds = figures.setdefault(row["profile_id"], {}).setdefault("errors_by_kind", {})
        kinds[row["error_kind"] or "unknown"] = row["n"]


def _latency_figures(figures: Figures, *, start: datetime, end: datetime, cap: int) -> None:
    """The (ttft_ms, total_ms) rows of each profile that wrote model replies, its latest `cap`."""
    for profile_id, values in figures.items():
        if not values.get("llm_replies"):
            continue
        sample = llm_replies_completed().filter(created_at__gte=start, created_at__lt=end, profile_id=profile_id)
        values["latency_rows"] = list(sample.order_by("-id").values_list("ttft_ms", "total_ms")[:cap])


def _profile_columns(figures: Figures) -> list[ProfileStats]:
    """The columns in their order (see profiles_compare), live profiles even without figures."""
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
