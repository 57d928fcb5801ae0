"""Who is there right now: agents at a console, and who is typing. Nothing here is a row."""

from __future__ import annotations

import logging

from .. import events
from ..models import Conversation
from ..presence_store import customer_socket_closed, customer_socket_opened, presence_drop, presence_touch
from .handoff import team_queues_drain

logger = logging.getLogger(__name__)


def agent_presence_set(*, agent_id: int, online: bool) -> None:
    """Record that an agent's console is connected (refreshed by its pings) or gone."""
    if online:
        presence_touch(agent_id)
    else:
        presence_drop(agent_id)


def agent_console_connected(*, agent_id: int) -> None:
    """An agent opened the console: they count as online, and conversations waiting in their teams' queues may
    go to them (conversations.services.assignment)."""
    presence_touch(agent_id)
    team_queues_drain(agent_id=agent_id)


def customer_typing(*, conversation: Conversation, active: bool) -> None:
    events.typing(conversation_id=conversation.pk, who="customer", active=bool(active))


def agent_typing(*, conversation_id: int, active: bool) -> None:
    events.typing(conversation_id=conversation_id, who="agent", active=bool(active))


def customer_socket_set(*, conversation_id: int, socket_id: str, open: bool) -> None:
    """Record that a customer's chat window on the conversation opened or closed: an agent's reply goes by email
    only while none is open (conversations.mail). Redis away: the socket is not counted, never refused for it."""
    try:
        if open:
            customer_socket_opened(conversation_id, socket_id)
        else:
            customer_socket_closed(conversation_id, socket_id)
    except Exception:  # presence is a hint; the chat works without it
        logger.warning("customer presence not recorded for conversation %s", conversation_id, exc_info=True)
