"""Who is there right now: agents at a console, and who is typing. Nothing here is a row."""

from __future__ import annotations

from .. import events
from ..models import Conversation
from ..presence_store import presence_drop, presence_touch


def agent_presence_set(*, agent_id: int, online: bool) -> None:
    """Record that an agent's console is connected (refreshed by its pings) or gone."""
    if online:
        presence_touch(agent_id)
    else:
        presence_drop(agent_id)


def customer_typing(*, conversation: Conversation, active: bool) -> None:
    events.typing(conversation_id=conversation.pk, who="customer", active=bool(active))


def agent_typing(*, conversation_id: int, active: bool) -> None:
    events.typing(conversation_id=conversation_id, who="agent", active=bool(active))
