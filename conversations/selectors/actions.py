"""Reads about actions (conversations.actions): which apply to a message, a proposal awaiting the customer,
and the calls made for a reply (for the agents)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from helpdesk.runtime.versioned import Versioned

from ..models import Action, ActionCall, Conversation

# Every action, active or not (an admin keeps a few), read again in each process when one is saved or deleted
# (conversations.apps; helpdesk.runtime.versioned): a message costs no query to learn that none applies.
actions_kept: Versioned[list[Action]] = Versioned("actions", lambda: list(Action.objects.all()))


def actions_for_intent(intent: str) -> list[Action]:
    """The active actions that list this intent (few: filtered here rather than by a JSON look-up SQLite lacks);
    copies, so that a caller's changes stay its own."""
    if not intent:
        return []
    return [copy.copy(action) for action in actions_kept.get() if action.active and intent in (action.intents or [])]


def proposal_pending(conversation: Conversation) -> ActionCall | None:
    """The newest proposal the customer is asked to confirm, while ACTION_CONFIRM_WINDOW_S lasts. Without an
    action that asks the customer to confirm (active or not: a proposal outlives its action's switching off),
    there is none, and nothing is asked of the database."""
    if not any(action.confirmation == Action.Confirmation.CUSTOMER for action in actions_kept.get()):
        return None
    since = timezone.now() - timedelta(seconds=settings.ACTION_CONFIRM_WINDOW_S)
    return (ActionCall.objects.filter(conversation=conversation, status=ActionCall.Status.PROPOSED,
                                      action__confirmation=Action.Confirmation.CUSTOMER, created_at__gte=since)
            .select_related("action").order_by("-created_at").first())


def action_calls_of(message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The action calls made for these replies, as the console shows them beside each."""
    calls: dict[int, list[dict[str, Any]]] = {}
    for call in ActionCall.objects.filter(message_id__in=message_ids).select_related("action").order_by("created_at"):
        calls.setdefault(call.message_id, []).append(action_call_dict(call))
    return calls


def action_call_dict(call: ActionCall) -> dict[str, Any]:
    """A call as the console shows it; `confirmation` "agent" on a proposal: agents may approve or decline it."""
    confirmation = call.action.confirmation if call.action is not None else ""
    return {"id": call.pk, "action": call.action_name, "arguments": call.arguments, "status": call.status,
            "response_status": call.response_status, "duration_ms": call.duration_ms, "error": call.error,
            "confirmation": confirmation}
