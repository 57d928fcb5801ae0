"""Plain factories: real rows, made the way the application makes them."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.utils import timezone

from conversations.models import Conversation, Handoff, Message

_client_ids = itertools.count(1)


def conversation_factory(**fields: object) -> Conversation:
    return Conversation.objects.create(**fields)


def customer_message_factory(conversation: Conversation, text: str = "Where is my order?", **fields: object) -> Message:
    """A stored customer message, without the side effects of posting it (no reply is dispatched)."""
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.CUSTOMER,
        content=text,
        client_id=fields.pop("client_id", f"factory-{next(_client_ids)}"),
        **fields,
    )


def bot_message_factory(conversation: Conversation, text: str = "It ships today.", **fields: object) -> Message:
    return Message.objects.create(conversation=conversation, role=Message.Role.BOT, content=text, **fields)


def handoff_factory(conversation: Conversation, *, at: datetime | None = None, reason: str = "customer_request",
                    question: Message | None = None, **fields: object) -> Handoff:
    """A handoff's row as conversation_transition writes it (the conversation's own fields are the caller's)."""
    return Handoff.objects.create(conversation=conversation, at=at or timezone.now(), reason=reason,
                                  question=question, **fields)
