"""An agent's decision on a proposed action (Action.confirmation = agent): approved, the call runs then, once,
with the conversation's verified customer; declined, it never runs. Either way the proposal records it and the
customer is told the outcome in their language: by the agent who decided (their message, from the console,
agents.services), or by a notice of the helpdesk's (an approval in admin, by someone who is not in the chat).

A decision in the console needs the conversation to be the agent's, as a reply does
(`handoff.conversation_held_by`): the outcome is written to the customer in their name.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .. import events
from ..models import Action, ActionCall, Conversation, Message
from ..notices import (
    ACTION_AGENT_DECLINED_NOTICE,
    ACTION_APPROVAL_FAILED_NOTICE,
    ACTION_APPROVED_FACTS_NOTICE,
    ACTION_APPROVED_NOTICE,
    ACTION_SIGN_IN_NOTICE,
    notice_in,
)
from ..selectors.replies import customer_language
from ..services.handoff import conversation_held_by
from ..services.messages import agent_message_store
from ..services.posting import system_message_post
from .calls import action_call_http
from .step import result_text

FACTS_MAX_CHARS = 600


class ApprovalRefused(ValueError):
    """The proposal cannot be decided: already approved or declined (`status` says which), not a proposal of
    this conversation, or its action deleted."""

    def __init__(self, detail: str, *, call_id: int, status: str = "") -> None:
        super().__init__(detail)
        self.call_id, self.status = call_id, status


def _claim(*, call_id: int, conversation_id: int | None, agent: Any, to: str, error: str = "") -> ActionCall:
    """Lock the proposal and move it out of `proposed` (so a second decision, or a concurrent one, is refused),
    after checking the agent has the conversation; in the caller's transaction."""
    if agent is not None and conversation_id is not None:
        conversation_held_by(conversation_id, agent)  # NotYourConversation otherwise
    calls = ActionCall.objects.select_for_update(of=("self",)).select_related("action", "conversation__customer")
    if conversation_id is not None:
        calls = calls.filter(conversation_id=conversation_id)
    call = calls.filter(pk=call_id).first()
    if call is None:
        raise ApprovalRefused(f"no proposal {call_id} in this conversation", call_id=call_id)
    if call.status != ActionCall.Status.PROPOSED:
        done = "declined" if call.status == ActionCall.Status.DECLINED else (
            "refused" if call.status == ActionCall.Status.REFUSED else "approved")
        raise ApprovalRefused(f"{call.action_name} (call {call.pk}) was already {done}", call_id=call.pk,
                              status=call.status)
    call.status, call.error = to, error
    call.save(update_fields=["status", "error"])
    return call


def action_proposal_approve(*, call_id: int, conversation_id: int | None = None, agent: Any = None) -> ActionCall:
    """Run a proposed call once and store how it went; the customer is told (see the module's docstring).

    The call is claimed in one transaction and made outside any (it may take the action's timeout), then its
    result and the customer's message are stored together. Raises ApprovalRefused, or NotYourConversation when
    `agent` does not have the conversation.
    """
    with transaction.atomic():
        call = _claim(call_id=call_id, conversation_id=conversation_id, agent=agent, to=ActionCall.Status.FAILED,
                      error="running")  # claimed: a concurrent approval sees it taken
    action, customer = call.action, call.conversation.customer
    if action is None:
        ActionCall.objects.filter(pk=call.pk).update(error="its action was deleted")
        raise ApprovalRefused(f"the action of call {call.pk} was deleted", call_id=call.pk)
    if customer is None and action.requires_verified_identity:  # signed out since: never run for nobody
        call.status, call.error = ActionCall.Status.REFUSED, "no verified customer"
        with transaction.atomic():
            call.save(update_fields=["status", "error"])
            _outcome_post(call, agent=agent, notice=ACTION_SIGN_IN_NOTICE)
        return call
    result = action_call_http(action, call.arguments, customer_id=customer.external_id if customer else "")
    call.status = ActionCall.Status.OK if result.ok else ActionCall.Status.FAILED
    call.response_status, call.duration_ms, call.error = result.status, result.duration_ms, result.error
    call.result = result_text(action, result.data) if result.ok else ""
    with transaction.atomic():
        call.save(update_fields=["status", "response_status", "duration_ms", "error", "result"])
        if result.ok:
            facts = key_facts(action, result.data)
            _outcome_post(call, agent=agent, notice=ACTION_APPROVED_FACTS_NOTICE if facts else ACTION_APPROVED_NOTICE,
                          facts=facts)
        else:
            _outcome_post(call, agent=agent, notice=ACTION_APPROVAL_FAILED_NOTICE)
    return call


def action_proposal_decline(*, call_id: int, conversation_id: int | None = None, agent: Any = None) -> ActionCall:
    """Decline a proposal: it never runs, and the customer is told. Raises as action_proposal_approve does."""
    with transaction.atomic():
        call = _claim(call_id=call_id, conversation_id=conversation_id, agent=agent, to=ActionCall.Status.DECLINED)
        _outcome_post(call, agent=agent, notice=ACTION_AGENT_DECLINED_NOTICE)
    return call


def key_facts(action: Action, data: Any) -> str:
    """What the customer is shown of a successful call's answer: the action's result template (the admin wrote
    it to be read), else the answer's top-level plain values as "name: value" lines; nested data is left out."""
    if action.result_format == Action.ResultFormat.TEMPLATE and action.result_template.strip():
        text = result_text(action, data)
    elif isinstance(data, dict):
        text = "\n".join(f"{name}: {value}" for name, value in data.items()
                         if isinstance(value, str | int | float | bool) and str(value).strip())
    else:
        text = ""
    return text.strip()[:FACTS_MAX_CHARS]


def _outcome_post(call: ActionCall, *, agent: Any, notice: str, facts: str = "") -> Message:
    """Tell the customer what became of their request, and show the consoles the call's new status beside the
    reply that proposed it; in the caller's transaction."""
    conversation = Conversation.objects.get(pk=call.conversation_id)
    text = notice_in(customer_language(conversation=conversation), notice, action=call.action_name, facts=facts)
    if agent is None:
        message = system_message_post(conversation=conversation, text=text)
    else:
        message = agent_message_store(conversation=conversation, agent=agent, text=text)
    if call.message_id is not None:
        proposal = Message.objects.select_related("conversation").filter(pk=call.message_id).first()
        if proposal is not None:
            events.message_reviewed_on_commit(proposal)
    return message
