"""Reads about actions (conversations.actions): which apply to a message, a proposal awaiting the customer,
and the calls made for a reply (for the agents)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..models import Action, ActionCall, Conversation


def actions_for_intent(intent: str) -> list[Action]:
    """The active actions that list this intent (few: filtered here rather than by a JSON look-up SQLite lacks)."""
    if not intent:
        return []
    return [action for action in Action.objects.filter(active=True) if intent in (action.intents or [])]


def proposal_pending(conversation: Conversation) -> ActionCall | None:
    """The newest proposal the customer is asked to confirm, while ACTION_CONFIRM_WINDOW_S lasts."""
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
