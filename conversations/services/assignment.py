"""Where a handoff goes: a team's queue by the customer's intent, labels and priority by rules, the SLA clock, and an
online member of the team when one is free (round robin, or the least busy under the team's cap per agent).

conversation_transition calls `handoff_route` each time a conversation goes to the human queue, in its transaction
with the conversation locked. Assignment is safe between processes: it locks the team memberships of every
candidate agent (in id order, so two assignments never deadlock) before counting their conversations, so two
handoffs at the same moment see each other's assignment and never both give an agent their last free slot. A
conversation no member can take waits in the team's queue; handoff.team_queues_drain gives it out when a member
frees up (resolves or hands back a conversation) or comes online. The status changes themselves are handoff's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from ..models import Conversation, ConversationRule, Message, Team, TeamMembership
from ..presence_store import presence_online_ids
from ..protocol.codes import HandoffReason
from ..selectors.sla import FIRST_RESPONSE, RESOLUTION, sla_due_times

Status = Conversation.Status


def conversation_intents(conversation: Conversation) -> list[str]:
    """The intents of the customer's messages, newest first (a complaint handoff counts as a complaint)."""
    intents = list(
        conversation.messages.filter(role=Message.Role.CUSTOMER).exclude(intent="").order_by("-id")
        .values_list("intent", flat=True)[:20]
    )
    if conversation.handoff_reason == HandoffReason.COMPLAINT:
        intents.insert(0, "complaint")
    return intents


def team_for(conversation: Conversation) -> Team | None:
    """The team whose intents name the newest of the customer's intents that any team names, else the default
    team, else none (no teams: the one shared queue, as before teams)."""
    teams = list(Team.objects.all())
    for intent in conversation_intents(conversation):
        for team in teams:
            if intent in (team.intents or []):
                return team
    return next((team for team in teams if team.is_default), None)


def rules_apply(conversation: Conversation) -> None:
    """Put the labels and priority of every active rule the conversation matches on it (the last matching rule's
    priority wins)."""
    intents = set(conversation_intents(conversation))
    external_id = conversation.customer.external_id if conversation.customer_id else None
    for rule in ConversationRule.objects.filter(active=True).select_related("label"):
        if rule.intent and rule.intent not in intents:
            continue
        if rule.channel and rule.channel != conversation.channel:
            continue
        if rule.customer_ids and external_id not in {str(value) for value in rule.customer_ids}:
            continue
        if rule.label_id:
            conversation.labels.add(rule.label)
        if rule.priority:
            conversation.priority = rule.priority


def sla_due_set(conversation: Conversation) -> list[str]:
    """Set the conversation's SLA due times from its team's targets for its priority, counted from its handoff."""
    if conversation.handoff_at is None:
        return []
    due = sla_due_times(team=conversation.team, priority=conversation.priority, since=conversation.handoff_at)
    conversation.first_response_due_at = due[FIRST_RESPONSE]
    conversation.resolution_due_at = due[RESOLUTION]
    return ["first_response_due_at", "resolution_due_at"]


def handoff_route(conversation: Conversation) -> Any:
    """A conversation just went to the human queue (locked, in the caller's transaction): its team, labels,
    priority and SLA clock are set. Returns the free online member of its team who is to have it (the caller
    moves it to them), or None: it waits in the queue."""
    if conversation.evaluation:
        return None
    conversation.team = team_for(conversation)
    rules_apply(conversation)
    conversation.first_response_at = None
    fields = ["team", "priority", "first_response_at", *sla_due_set(conversation)]
    conversation.save(update_fields=fields)
    return member_for(conversation)


def member_for(conversation: Conversation) -> Any:
    """The free online member of the locked waiting conversation's team who gets it, or None (it waits)."""
    if conversation.team is None:
        return None
    agent_id = member_pick(conversation.team)
    return None if agent_id is None else get_user_model().objects.get(pk=agent_id)


def member_pick(team: Team) -> int | None:
    """The online member of `team` who gets the next conversation, marked as just given one; None when nobody is
    online or everyone is at the team's cap. Call in a transaction: the candidates' memberships stay locked until
    it ends, so a concurrent pick waits and then counts this one's conversation."""
    if team.assignment == Team.Assignment.MANUAL:
        return None
    online = presence_online_ids()
    candidates = list(
        team.memberships.filter(agent_id__in=online, agent__is_active=True).values_list("agent_id", flat=True)
    )
    if not candidates:
        return None
    # Every membership of the candidates, whichever team: an agent in two teams has one set of slots.
    list(TeamMembership.objects.select_for_update().filter(agent_id__in=candidates).order_by("pk")
         .values_list("pk", flat=True))
    loads = dict(
        Conversation.objects.filter(status=Status.HUMAN, agent_id__in=candidates, evaluation=False)
        .values_list("agent_id").annotate(n=Count("pk")).values_list("agent_id", "n")
    )
    cap = team.max_per_agent
    free = [agent_id for agent_id in candidates if not cap or loads.get(agent_id, 0) < cap]
    if not free:
        return None
    turns = dict(team.memberships.filter(agent_id__in=free).values_list("agent_id", "last_assigned_at"))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def turn(agent_id: int) -> tuple[Any, ...]:
        last = turns.get(agent_id) or epoch
        if team.assignment == Team.Assignment.LEAST_BUSY:
            return (loads.get(agent_id, 0), last, agent_id)
        return (last, agent_id)

    chosen = min(free, key=turn)
    team.memberships.filter(agent_id=chosen).update(last_assigned_at=timezone.now())
    return chosen
