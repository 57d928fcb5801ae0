"""What the widget is sent on connect: the conversation, its latest messages and what it still asks of the customer."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..models import Conversation, Message
from .availability import agents_online_count, support_open
from .messages import CUSTOMER_VISIBLE_ROLES, agent_name, message_feedback, message_to_dict


def conversation_history(*, conversation: Conversation, limit: int | None = None) -> list[dict[str, Any]]:
    """The latest customer-visible messages, oldest first."""
    limit = limit or settings.HISTORY_LIMIT
    newest = (
        conversation.messages.filter(role__in=CUSTOMER_VISIBLE_ROLES)
        .select_related("author", "feedback", "email_delivery")
        .order_by("-id")[:limit]
    )
    history = []
    for message in reversed(list(newest)):
        payload = message_to_dict(message)
        feedback = message_feedback(message)
        if feedback:  # the customer's own vote, shown again after a reload
            payload["feedback"] = feedback["rating"]
        history.append(payload)
    return history


def history_frame(*, conversation: Conversation) -> dict[str, Any]:
    """What a customer's socket is sent on connect (all of it read in one trip to the database thread)."""
    return {
        "conversation": conversation_to_dict(conversation),
        "messages": conversation_history(conversation=conversation),
        "limits": {"message_max_chars": settings.MESSAGE_MAX_CHARS},
        "prechat_form": prechat_form_wanted(conversation=conversation),
    }


def prechat_form_wanted(*, conversation: Conversation) -> bool:
    """Whether the widget asks for a name and email before the first message (WIDGET_PRECHAT_FORM).

    Only for a conversation that has not started and whose customer is unknown: a verified user of the
    host site is known already, and one who gave either field, or wrote, is past the form.
    """
    if not settings.WIDGET_PRECHAT_FORM or conversation.customer_id is not None:
        return False
    if conversation.contact_name or conversation.contact_email:
        return False
    return not conversation.messages.filter(role=Message.Role.CUSTOMER).exists()


def conversation_to_dict(conversation: Conversation) -> dict[str, Any]:
    """The conversation as the widget's `history` frame carries it, with what it still asks of the customer
    (a rating once resolved; an email address while nobody is there), so a reload loses neither."""
    payload: dict[str, Any] = {"status": conversation.status}
    if conversation.status == Conversation.Status.HUMAN and conversation.agent_id:
        payload["agent"] = {"name": agent_name(conversation.agent)}
    if conversation.status == Conversation.Status.RESOLVED and conversation.csat_score is None:
        payload["rate"] = True
    if (
        conversation.status == Conversation.Status.WAITING_HUMAN
        and not conversation.contact_email
        and not support_open()
        and not agents_online_count()
    ):
        payload["offline"] = True
    return payload

