"""The definitions both reports share (see the package docstring) and their arithmetic: percentiles and rates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import Message


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95)) -> tuple[float | None, ...]:
    """The `qs` percentiles of `values` (linear interpolation, numpy's default); None for each when empty."""
    if len(values) == 0:
        return tuple(None for _ in qs)
    return tuple(float(v) for v in np.percentile(np.asarray(values, dtype=float), list(qs)))


def rate(part: int, whole: int) -> float | None:
    """`part` / `whole`, or None when there is nothing to divide (shown as "no data", not as 0 %)."""
    return part / whole if whole else None


def had_human() -> Q:
    """Conversations an agent holds or ever wrote in (see the package docstring)."""
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
        role=Message.Role.BOT, answer_source=Message.AnswerSource.LLM, status=Message.Status.COMPLETE,
        conversation__evaluation=False,
    )



def latency_values(rows: list[tuple[float | None, float | None]]) -> tuple[list[float], list[float]]:
    """The (ttft_ms, total_ms) rows' known first-token and total times, as two lists."""
    return [r[0] for r in rows if r[0] is not None], [r[1] for r in rows if r[1] is not None]
