"""Model profiles side by side: each profile's figures over one period, for the comparison page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q, Sum

from helpdesk.models import ModelProfile

from ..models import Conversation, LLMCall, Message
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
    """
    figures: Figures = {}
    _conversation_figures(figures, start=start, end=end)
    _reply_figures(figures, start=start, end=end)
    _error_figures(figures, start=start, end=end)
    _latency_figures(figures, start=start, end=end)
    return _profile_columns(figures)


def _conversation_figures(figures: Figures, *, start: datetime, end: datetime) -> None:
    """Conversations started per profile: how many, how many handed off, their CSAT."""
    conversations = (
        Conversation.objects.filter(created_at__gte=start, created_at__lt=end, evaluation=False)
        .order_by()
        .values("profile_id")
        .annotate(
            conversations=Count("id"),
            handed_off=Count("id", filter=handed_to_human()),
            csat_mean=Avg("csat_score"),
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
        profile_id = row.pop("profile_id")
        tokens, ms = row.pop("generated_tokens"), row.pop("generation_ms")
        row["tokens_per_second"] = tokens * 1000 / ms if tokens and ms else None
        figures.setdefault(profile_id, {}).update(row)


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


def _latency_figures(figures: Figures, *, start: datetime, end: datetime) -> None:
    """The latency percentiles of each profile that wrote model replies, from its latest PROFILE_SAMPLE_CAP."""
    for profile_id, values in figures.items():
        if not values.get("llm_replies"):
            continue
        sample = llm_replies_completed().filter(created_at__gte=start, created_at__lt=end, profile_id=profile_id)
        rows = list(sample.order_by("-id").values_list("ttft_ms", "total_ms")[:PROFILE_SAMPLE_CAP])
        ttft, total = latency_values(rows)
        values["ttft_p50"], values["ttft_p95"] = percentiles(ttft)
        values["total_p50"], values["total_p95"] = percentiles(total)
        values["latency_samples"] = len(rows)


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
