"""What agents do to conversations, each written to the audit log in the same transaction.

The conversation itself changes through conversations.services (that app
owns it: handoff, messages, drafts); this module adds who did it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from conversations.actions import approval
from conversations.faq_suggestions import services as faq_suggestions
from conversations.models import ActionCall, Conversation, Message
from conversations.services import drafts, handoff, messages, triage
from helpdesk.web import ratelimits

from .models import AuditEvent


def audit(*, actor: Any, action: str, conversation_id: int | None, **details: Any) -> AuditEvent:
    return AuditEvent.objects.create(actor=actor, action=action, conversation_id=conversation_id, details=details)


def audit_events_anonymise(events: QuerySet[AuditEvent]) -> int:
    """A customer's erasure keeps what agents did and when (the log is the agents' record, not the customer's),
    and drops what leads back to the customer: the conversation and the details (message ids, names)."""
    return events.update(conversation=None, details={"erased": True})


def conversation_take_over(*, agent: Any, conversation_id: int) -> Conversation:
    """Raises handoff.ConversationTaken when a colleague has it (the refusal is logged too)."""
    try:
        with transaction.atomic():
            conversation = handoff.conversation_agent_join(conversation_id=conversation_id, agent=agent)
            audit(actor=agent, action="take_over", conversation_id=conversation_id)
    except handoff.ConversationTaken as exc:
        audit(actor=agent, action="take_over_refused", conversation_id=conversation_id, holder=exc.agent_name)
        raise
    return conversation


def conversation_hand_back(*, agent: Any, conversation_id: int) -> Conversation:
    with transaction.atomic():
        conversation = handoff.conversation_bot_resume(conversation_id=conversation_id, agent=agent)
        audit(actor=agent, action="hand_back", conversation_id=conversation_id)
    return conversation


def conversation_resolve(*, agent: Any, conversation_id: int) -> Conversation:
    with transaction.atomic():
        conversation = handoff.conversation_resolve(conversation_id=conversation_id, agent=agent)
        audit(actor=agent, action="resolve", conversation_id=conversation_id)
        # The agent's answer becomes a suggested FAQ entry, made by a task after the commit.
        faq_suggestions.faq_suggestion_queue(conversation)
    return conversation


def conversation_assign(*, agent: Any, conversation_id: int, to_agent: Any) -> Conversation:
    with transaction.atomic():
        conversation = handoff.conversation_agent_assign(conversation_id=conversation_id, to_agent=to_agent)
        audit(actor=agent, action="assign", conversation_id=conversation_id, to=to_agent.get_username())
    return conversation


def conversation_labels_set(*, agent: Any, conversation_id: int, labels: list[str]) -> Conversation:
    with transaction.atomic():
        conversation = triage.conversation_labels_set(conversation_id=conversation_id, names=labels)
        audit(actor=agent, action="labels", conversation_id=conversation_id, labels=sorted(labels))
    return conversation


def conversation_priority_set(*, agent: Any, conversation_id: int, priority: str) -> Conversation:
    with transaction.atomic():
        conversation = triage.conversation_priority_set(conversation_id=conversation_id, priority=priority)
        audit(actor=agent, action="priority", conversation_id=conversation_id, priority=priority)
    return conversation


def message_post_agent(*, agent: Any, conversation_id: int, text: Any, client_id: Any = None) -> Message:
    with transaction.atomic():
        message = messages.message_post_agent(conversation_id=conversation_id, agent=agent, text=text,
                                              client_id=client_id)
        audit(actor=agent, action="reply", conversation_id=conversation_id, message_id=message.pk)
    return message


def note_add(*, agent: Any, conversation_id: int, text: Any) -> Message:
    with transaction.atomic():
        note = messages.note_post(conversation_id=conversation_id, agent=agent, text=text)
        audit(actor=agent, action="note", conversation_id=conversation_id, message_id=note.pk)
    return note


def draft_request(*, agent: Any, conversation_id: int) -> None:
    """Raises ratelimits.RateLimited past RATE_LIMIT_DRAFTS_PER_AGENT: each draft is a model call."""
    ratelimits.draft_check(agent_id=agent.pk)
    drafts.draft_request(conversation_id=conversation_id)
    audit(actor=agent, action="draft", conversation_id=conversation_id)


def action_approve(*, agent: Any, conversation_id: int, call_id: int) -> ActionCall:
    """Run a proposed action of a conversation the agent has; the customer is told how it went (in the agent's
    name). The call runs outside any transaction (it may take the action's timeout), so the log is written once
    it has run. Raises approval.ApprovalRefused (already decided: logged with why) or NotYourConversation."""
    try:
        call = approval.action_proposal_approve(call_id=call_id, conversation_id=conversation_id, agent=agent)
    except (approval.ApprovalRefused, handoff.NotYourConversation) as exc:
        audit(actor=agent, action="action_approve_refused", conversation_id=conversation_id, call_id=call_id,
              reason=str(exc))
        raise
    audit(actor=agent, action="action_approve", conversation_id=conversation_id, call_id=call.pk,
          action_name=call.action_name, status=call.status)
    return call


def action_decline(*, agent: Any, conversation_id: int, call_id: int) -> ActionCall:
    """Decline a proposed action of a conversation the agent has: it never runs, and the customer is told."""
    try:
        with transaction.atomic():
            call = approval.action_proposal_decline(call_id=call_id, conversation_id=conversation_id, agent=agent)
            audit(actor=agent, action="action_decline", conversation_id=conversation_id, call_id=call.pk,
                  action_name=call.action_name)
    except (approval.ApprovalRefused, handoff.NotYourConversation) as exc:
        audit(actor=agent, action="action_decline_refused", conversation_id=conversation_id, call_id=call_id,
              reason=str(exc))
        raise
    return call
