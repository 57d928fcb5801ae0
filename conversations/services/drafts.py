"""Draft replies the bot writes for agents, shown in their composer and never sent to the customer."""

from __future__ import annotations

from typing import Any

from helpdesk.celery import enqueue

from .. import events
from ..models import Conversation


def draft_request(*, conversation_id: int) -> None:
    """Queue a draft reply for the agents (the console shows it in the composer when it is ready)."""
    if not Conversation.objects.filter(pk=conversation_id).exists():
        raise Conversation.DoesNotExist
    enqueue("conversations.draft_reply", conversation_id)


def draft_deliver(*, conversation_id: int, draft: dict[str, Any]) -> None:
    events.draft_ready(conversation_id=conversation_id, draft=draft)
