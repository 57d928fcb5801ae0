"""Who answers the customer: the bot, the human queue, an agent, nobody (resolved).

Every status change goes through `conversation_transition`, which does what
goes with one in the same order each time; the functions below it check who
may make the change and call it. agents.services calls the agents' ones and
writes the audit log around them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from helpdesk.observability import metrics

from .. import events, notices
from ..models import Conversation, Handoff, Message, Team, WebhookEvent
from ..notices import notice_in
from ..protocol.codes import HandoffReason
from ..selectors.availability import agents_online_count, support_open
from ..selectors.messages import agent_name
from ..selectors.replies import customer_language
from ..webhooks.emit import webhook_on_commit
from . import assignment
from .cancel import replies_cancel
from .posting import system_message_post

Status = Conversation.Status
logger = logging.getLogger(__name__)


class ConversationTaken(Exception):
    """Another agent has this conversation."""

    def __init__(self, agent_name: str) -> None:
        super().__init__(f"{agent_name} has this conversation")
        self.agent_name = agent_name


class NotYourConversation(Exception):
    """Only the agent who has the conversation may reply in it."""


def conversation_transition(
    conversation: Conversation, *, to: str, reason: HandoffReason | str = "", by: Any = None, notice: str | None = None,
    inbox: bool = True, question_id: int | None = None, routed: bool = False,
) -> Conversation:
    """Move a conversation (in the caller's transaction, locked where two may change it) to `to`, with its effects.

    In this order: the status and its fields are saved; a handoff is counted;
    replies being generated are stopped unless the bot takes over; the customer
    and open consoles hear the status; the customer's notice is posted; every
    console's inbox line changes. One function, so no status change forgets a
    step or does one twice.

    `reason`: why it waits for a human (to `waiting_human`); `question_id`:
    the customer message the handoff follows, when the caller knows it (a
    reply's question), else the conversation's latest; `by`: the agent
    who takes it (to `human`); `notice`: the customer's notice instead of the
    usual one, "" for none; `inbox=False` when the caller pushes the inbox line
    itself. A handoff is routed (services.assignment: its team, labels,
    priority and SLA clock) and given to a free member of its team, which
    makes it `human` at once; an agent who lets go of a conversation may be
    given one waiting in their teams' queues once this commits. Each handoff
    is a Handoff row (one INSERT), which the later moves of the conversation
    keep up to date (`_handoff_follow`); `routed`: the move to `human` that
    assignment makes right after the handoff, whose row already names the
    agent (no UPDATE).
    """
    was = conversation.status
    freed_agent_id = conversation.agent_id if was == Status.HUMAN else None
    conversation.status = to
    changed = _status_fields(conversation, reason=reason, by=by)
    conversation.save(update_fields=["status", *changed, "updated_at"])
    # Its team, labels, priority and SLA clock first, so the inbox line below shows them.
    member = assignment.handoff_route(conversation) if to == Status.WAITING_HUMAN else None
    if to == Status.WAITING_HUMAN:
        _handoff_record(conversation, reason=reason, question_id=question_id, agent=member)
    elif was in (Status.WAITING_HUMAN, Status.HUMAN) and not routed:
        _handoff_follow(conversation, by=by)
    if to == Status.WAITING_HUMAN and not conversation.evaluation:
        transaction.on_commit(lambda: metrics.handed_off(reason))
    if to != Status.BOT:
        replies_cancel(conversation=conversation)
    # Outside working hours with nobody at a console, the customer is told when to expect a
    # reply and (the `offline` flag) offered to leave an email address.
    offline = to == Status.WAITING_HUMAN and not support_open() and not agents_online_count()
    events.status_changed_on_commit(conversation, reason=reason, offline=offline)
    for text in _notices(conversation, notice=notice, offline=offline):
        system_message_post(conversation=conversation, text=text)
    if inbox:
        events.inbox_changed_on_commit(conversation)
    if event := _WEBHOOK_EVENTS.get(to):
        webhook_on_commit(event, conversation=conversation)
    if freed_agent_id and (to != Status.HUMAN or conversation.agent_id != freed_agent_id):
        # A slot of that agent freed up: a conversation waiting in one of their teams' queues may go to them.
        team_queues_drain_on_commit(agent_id=freed_agent_id)
    if member is not None:
        conversation = conversation_transition(conversation, to=Status.HUMAN, by=member, routed=True)
    return conversation


def _handoff_record(conversation: Conversation, *, reason: HandoffReason | str, question_id: int | None,
                    agent: Any) -> None:
    """The handoff's row, in one INSERT: the question it followed (the caller's, else the conversation's latest
    customer message, read inside the INSERT), its team and the member it was given to."""
    question: Any = question_id
    if question is None:
        question = Subquery(
            Message.objects.filter(conversation_id=conversation.pk, role=Message.Role.CUSTOMER)
            .order_by("-pk").values("pk")[:1]
        )
    Handoff.objects.create(
        conversation_id=conversation.pk, reason=reason, at=conversation.handoff_at, question_id=question,
        team_id=conversation.team_id, agent=agent,
    )


def _handoff_follow(conversation: Conversation, *, by: Any) -> None:
    """A conversation that was with people moved on: its open handoff gets its new agent (to `human`), or ends
    (handed back to the bot, or resolved)."""
    open_handoff = Handoff.objects.filter(conversation_id=conversation.pk, ended_at__isnull=True)
    match conversation.status:
        case Status.HUMAN:
            open_handoff.update(agent=by)
        case Status.BOT:
            open_handoff.update(ended_at=timezone.now(), outcome=Handoff.Outcome.HANDED_BACK)
        case Status.RESOLVED:
            open_handoff.update(ended_at=conversation.resolved_at, outcome=Handoff.Outcome.RESOLVED)


def handoff_first_response(*, conversation_id: int, agent: Any, at: Any) -> None:
    """An agent's first reply since the conversation's handoff (services.messages): its open handoff's first
    response, credited to them."""
    Handoff.objects.filter(conversation_id=conversation_id, ended_at__isnull=True,
                           first_response_at__isnull=True).update(first_response_at=at, responder=agent)


def team_queues_drain(*, agent_id: int) -> int:
    """Give out the conversations waiting in the agent's teams' queues (longest waiting first) while a member is
    free (services.assignment): called when the agent frees a slot or comes online. Returns how many went out."""
    assigned = 0
    for team in Team.objects.filter(memberships__agent_id=agent_id).distinct():
        while True:
            with transaction.atomic():
                waiting = (
                    Conversation.objects.select_for_update(skip_locked=True)
                    .filter(team=team, status=Status.WAITING_HUMAN, evaluation=False)
                    .order_by(F("handoff_at").asc(nulls_last=True), "pk").first()
                )
                member = assignment.member_for(waiting) if waiting is not None else None
                if member is None:
                    break
                conversation_transition(waiting, to=Status.HUMAN, by=member)
                assigned += 1
    return assigned


def team_queues_drain_on_commit(*, agent_id: int) -> None:
    """`team_queues_drain` once the caller's transaction commits; a failure is logged (the conversations wait in
    the queue, where any agent may take them)."""

    def drain() -> None:
        try:
            team_queues_drain(agent_id=agent_id)
        except Exception:
            logger.exception("assignment: the queues of agent %s were not drained", agent_id)

    transaction.on_commit(drain)


# The status changes webhook endpoints hear of (a conversation handed back to the bot is not one of them).
_WEBHOOK_EVENTS = {
    Status.WAITING_HUMAN: WebhookEvent.HANDOFF,
    Status.HUMAN: WebhookEvent.AGENT_JOINED,
    Status.RESOLVED: WebhookEvent.RESOLVED,
}


def _status_fields(conversation: Conversation, *, reason: HandoffReason | str, by: Any) -> list[str]:
    """Set what goes with the conversation's new status; returns the fields set."""
    match conversation.status:
        case Status.WAITING_HUMAN:
            conversation.handoff_reason = reason
            conversation.handoff_at = timezone.now()
            return ["handoff_reason", "handoff_at"]
        case Status.HUMAN:
            conversation.agent = by
            return ["agent"]
        case Status.BOT:
            conversation.agent = None
            conversation.handoff_reason = ""
            return ["agent", "handoff_reason"]
        case Status.RESOLVED:
            conversation.resolved_at = timezone.now()
            return ["resolved_at"]
    raise ValueError(f"unknown conversation status {conversation.status!r}")


def _notices(conversation: Conversation, *, notice: str | None, offline: bool) -> list[str]:
    """What the customer reads about the conversation's new status, in their language."""
    if notice == "":
        return []
    language = customer_language(conversation=conversation)
    texts = [notice or _usual_notice(conversation, language)]
    if offline:
        hours = f"{settings.SUPPORT_HOURS} ({settings.SUPPORT_TIME_ZONE})"
        texts.append(notice_in(language, notices.OFF_HOURS_NOTICE, hours=hours))
    return texts


def _usual_notice(conversation: Conversation, language: str) -> str:
    match conversation.status:
        case Status.WAITING_HUMAN:
            return notice_in(language, notices.HANDOFF_NOTICE)
        case Status.HUMAN:
            return notice_in(language, notices.AGENT_JOINED_NOTICE, name=agent_name(conversation.agent))
        case Status.BOT:
            return notice_in(language, notices.BOT_RESUMED_NOTICE)
    return notice_in(language, notices.RESOLVED_NOTICE)


def conversation_request_human(
    *, conversation: Conversation, reason: HandoffReason = HandoffReason.CUSTOMER_REQUEST, notice: str = "",
    question_id: int | None = None,
) -> Conversation:
    """Move a bot conversation to the human queue with a reason, stop the bot and tell the customer.

    `notice` replaces the usual "a colleague will join" message (a failed
    reply explains what happened instead); it is written in the customer's
    language otherwise. `question_id`: the customer message the handoff
    follows (a failed reply's question), when it may not be the latest.
    """
    if reason not in HandoffReason.values:
        raise ValueError(f"unknown handoff reason {reason!r}")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status != Status.BOT:
            return conversation
        return conversation_transition(conversation, to=Status.WAITING_HUMAN, reason=reason, notice=notice or None,
                                       question_id=question_id)


def conversation_reopen(conversation: Conversation) -> None:
    """A customer writing into a resolved conversation starts over with the bot.

    No notice (the customer has just written), and no inbox push here: the
    customer's message decides whether the consoles hear of it.
    """
    conversation_transition(conversation, to=Status.BOT, notice="", inbox=False)


def conversation_agent_join(*, conversation_id: int, agent: Any) -> Conversation:
    """An agent takes the conversation: the bot stops at once (its partial reply is kept, cancelled) and the
    customer sees who joined. Exactly one of two agents taking it at the same moment wins."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status == Status.HUMAN and conversation.agent_id:
            if conversation.agent_id == agent.pk:
                return conversation
            raise ConversationTaken(agent_name(conversation.agent))
        return conversation_transition(conversation, to=Status.HUMAN, by=agent)


def conversation_agent_assign(*, conversation_id: int, to_agent: Any) -> Conversation:
    """Give the conversation to another agent (whoever had it)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.agent_id == to_agent.pk and conversation.status == Status.HUMAN:
            return conversation
        return conversation_transition(conversation, to=Status.HUMAN, by=to_agent)


def conversation_held_by(conversation_id: int, agent: Any) -> Conversation:
    """The conversation, locked, when `agent` has it; raises NotYourConversation otherwise."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.status != Status.HUMAN or conversation.agent_id != agent.pk:
        raise NotYourConversation("take the conversation over first")
    return conversation


def conversation_bot_resume(*, conversation_id: int, agent: Any) -> Conversation:
    """Hand the conversation back to the bot, which answers the customer's next message."""
    with transaction.atomic():
        conversation = conversation_held_by(conversation_id, agent)
        return conversation_transition(conversation, to=Status.BOT)


def conversation_resolve(*, conversation_id: int, agent: Any) -> Conversation:
    """Close the conversation; the customer is asked for a rating (the widget's CSAT prompt)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status == Status.RESOLVED:
            return conversation
        if conversation.status == Status.HUMAN and conversation.agent_id not in (None, agent.pk):
            raise NotYourConversation("another agent has this conversation")
        return conversation_transition(conversation, to=Status.RESOLVED)
