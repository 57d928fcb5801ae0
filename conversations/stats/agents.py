"""The per-agent report's figures over a period, and the bot's own line beside them.

Every figure is read from the rows (messages, handoffs and conversations), so a period reaches back only as far
as retention keeps them. Handbacks to the bot are the agents' own record (agents.models.AuditEvent, one per
handback, so a conversation handed back twice counts twice): the agents app counts those, since this app never
reads its tables.

Definitions (shown on the page too):
- an agent *handled* a handoff when they wrote a reply in it (not a private note) during the period: a
  conversation handed off twice, and answered both times, counts twice (a reply with no handoff before it, in a
  conversation taken over from the bot, counts its conversation once);
- *first response*: from each handoff (conversations.models.Handoff) to the first agent reply after it,
  credited to whoever wrote that reply, counted when the reply falls in the period; a conversation taken over
  without a handoff has no first-response time;
- *resolution*: conversations resolved in the period (`resolved_at`) while an agent held them (credited to
  that agent), timed from the handoff to the resolution;
- *CSAT*: the ratings of those resolved conversations;
- the bot's line: conversations resolved in the period without a person (none held it or wrote in it,
  measures.had_human) and their ratings; *deflection* is their share of every conversation resolved in the
  period.

`agents_figures` takes an optional set of agent ids: a team's line is the same call with its members, and
`AgentsReport.together` pools their values (percentiles of the pooled times, not an average of averages).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Subquery

from ..models import Conversation, Handoff, Message
from .measures import had_human, percentiles, rate


@dataclass
class _Values:
    """One agent's (or a group's) raw values before they are summed up."""

    handled: set[tuple[str, int]] = field(default_factory=set)  # handoffs (or conversations without one)
    first_response_s: list[float] = field(default_factory=list)
    resolution_s: list[float] = field(default_factory=list)
    resolved: int = 0
    csat: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class AgentFigures:
    """One agent's line (or a group's pooled line); times in seconds, None where there is nothing to measure."""

    handled: int
    resolved: int
    first_response_p50: float | None
    first_response_p95: float | None
    first_responses: int
    resolution_p50: float | None
    resolution_p95: float | None
    resolutions_timed: int
    csat_mean: float | None
    csat_count: int

    @classmethod
    def empty(cls) -> AgentFigures:
        """The line of an agent with nothing in the period."""
        return cls.of(_Values())

    @classmethod
    def of(cls, values: _Values) -> AgentFigures:
        first_p50, first_p95 = percentiles(values.first_response_s)
        resolution_p50, resolution_p95 = percentiles(values.resolution_s)
        return cls(
            handled=len(values.handled), resolved=values.resolved,
            first_response_p50=first_p50, first_response_p95=first_p95,
            first_responses=len(values.first_response_s),
            resolution_p50=resolution_p50, resolution_p95=resolution_p95,
            resolutions_timed=len(values.resolution_s),
            csat_mean=rate(sum(values.csat), len(values.csat)), csat_count=len(values.csat),
        )


@dataclass(frozen=True)
class BotFigures:
    """The bot's line: conversations it answered, those resolved without a person, and their ratings."""

    answered: int
    resolved_alone: int
    resolved_all: int
    deflection: float | None
    csat_mean: float | None
    csat_count: int


@dataclass(frozen=True)
class AgentsReport:
    start: datetime
    end: datetime
    agents: dict[int, AgentFigures]
    together: AgentFigures
    bot: BotFigures


def _first_responses(*, start: datetime, end: datetime) -> list[tuple[int, float]]:
    """(author id, seconds from the handoff to the first agent reply after it) for each handoff whose first reply
    was written in the period."""
    rows = (
        Handoff.objects.filter(conversation__evaluation=False, first_response_at__gte=start,
                               first_response_at__lt=end, responder__isnull=False)
        .order_by().values_list("responder_id", "at", "first_response_at")
    )
    return [(responder_id, (first - at).total_seconds()) for responder_id, at, first in rows if first >= at]


def _handled(*, start: datetime, end: datetime, wanted: set[int] | None) -> list[tuple[int, tuple[str, int]]]:
    """(author id, what they handled) for the agent replies of the period: the handoff each reply followed (the
    conversation's latest at the time), or its conversation when it followed none."""
    replies = Message.objects.filter(
        role=Message.Role.AGENT, author__isnull=False, conversation__evaluation=False,
        created_at__gte=start, created_at__lt=end,
    )
    if wanted is not None:
        replies = replies.filter(author_id__in=wanted)
    following = Handoff.objects.filter(conversation_id=OuterRef("conversation_id"), at__lte=OuterRef("created_at")) \
        .order_by("-at", "-pk").values("pk")[:1]
    rows = replies.annotate(handoff=Subquery(following)).order_by() \
        .values_list("author_id", "conversation_id", "handoff").distinct()
    return [(author_id, ("handoff", handoff) if handoff else ("conversation", conversation_id))
            for author_id, conversation_id, handoff in rows]


def agents_figures(*, start: datetime, end: datetime, agent_ids: Iterable[int] | None = None) -> AgentsReport:
    """Each agent's figures over [start, end) (see the module docstring), pooled for the selected agents, and
    the bot's line. `agent_ids` None: everyone who appears in the period; a set (a team): only those (an agent
    of the set with nothing in the period gets a line of zeros)."""
    wanted = None if agent_ids is None else set(agent_ids)
    # A line for every agent asked for, even one with nothing in the period.
    values: dict[int, _Values] = defaultdict(_Values, {agent_id: _Values() for agent_id in wanted or ()})
    for author_id, handled in _handled(start=start, end=end, wanted=wanted):
        values[author_id].handled.add(handled)
    for author_id, seconds in _first_responses(start=start, end=end):
        if wanted is None or author_id in wanted:
            values[author_id].first_response_s.append(seconds)
    resolved = Conversation.objects.filter(
        evaluation=False, resolved_at__gte=start, resolved_at__lt=end, agent__isnull=False
    )
    if wanted is not None:
        resolved = resolved.filter(agent_id__in=wanted)
    for agent_id, handoff_at, resolved_at, csat in resolved.values_list(
        "agent_id", "handoff_at", "resolved_at", "csat_score"
    ):
        line = values[agent_id]
        line.resolved += 1
        if handoff_at is not None and handoff_at <= resolved_at:
            line.resolution_s.append((resolved_at - handoff_at).total_seconds())
        if csat is not None:
            line.csat.append(csat)
    pooled = _Values()
    for line in values.values():
        pooled.handled |= line.handled
        pooled.first_response_s += line.first_response_s
        pooled.resolution_s += line.resolution_s
        pooled.resolved += line.resolved
        pooled.csat += line.csat
    return AgentsReport(
        start=start, end=end,
        agents={agent_id: AgentFigures.of(line) for agent_id, line in values.items()},
        together=AgentFigures.of(pooled),
        bot=bot_figures(start=start, end=end),
    )


def bot_figures(*, start: datetime, end: datetime) -> BotFigures:
    """The bot's line over [start, end): see the module docstring."""
    answered = (
        Message.objects.filter(role=Message.Role.BOT, conversation__evaluation=False,
                               created_at__gte=start, created_at__lt=end)
        .order_by().values("conversation_id").distinct().count()
    )
    resolved = Conversation.objects.filter(evaluation=False, resolved_at__gte=start, resolved_at__lt=end)
    alone = ~had_human()
    counts = resolved.aggregate(
        resolved_all=Count("pk"),
        resolved_alone=Count("pk", filter=alone),
    )
    scores = list(resolved.filter(alone, csat_score__isnull=False).values_list("csat_score", flat=True))
    return BotFigures(
        answered=answered,
        resolved_alone=counts["resolved_alone"],
        resolved_all=counts["resolved_all"],
        deflection=rate(counts["resolved_alone"], counts["resolved_all"]),
        csat_mean=rate(sum(scores), len(scores)),
        csat_count=len(scores),
    )
