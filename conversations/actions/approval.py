"""An agent's approval of a proposed action (Action.confirmation = agent): the call runs then, with the
conversation's verified customer, and is recorded on the proposal."""

from __future__ import annotations

from django.db import transaction

from ..models import ActionCall
from .calls import action_call_http


class ApprovalRefused(ValueError):
    """The proposal cannot run: no longer proposed, its action deleted, or no verified customer."""


def action_proposal_approve(*, call_id: int) -> ActionCall:
    """Run a proposed call once (a second approval finds it no longer proposed) and store how it went."""
    with transaction.atomic():
        call = ActionCall.objects.select_for_update(of=("self",)).select_related(
            "action", "conversation__customer").get(pk=call_id)
        if call.status != ActionCall.Status.PROPOSED:
            raise ApprovalRefused(f"call {call.pk} is {call.status}, not proposed")
        call.status = ActionCall.Status.FAILED  # claimed: a concurrent approval sees it taken
        call.error = "running"
        call.save(update_fields=["status", "error"])
    action, customer = call.action, call.conversation.customer
    if action is None:
        raise ApprovalRefused(f"the action of call {call.pk} was deleted")
    if customer is None and action.requires_verified_identity:
        ActionCall.objects.filter(pk=call.pk).update(status=ActionCall.Status.REFUSED, error="no verified customer")
        raise ApprovalRefused(f"call {call.pk}: the conversation has no verified customer")
    result = action_call_http(action, call.arguments, customer_id=customer.external_id if customer else "")
    call.status = ActionCall.Status.OK if result.ok else ActionCall.Status.FAILED
    call.response_status, call.duration_ms, call.error = result.status, result.duration_ms, result.error
    call.save(update_fields=["status", "response_status", "duration_ms", "error"])
    return call
