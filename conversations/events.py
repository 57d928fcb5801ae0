"""The only module that touches the channel layer.

Events are dotted (`reply.delta`, `reply.done`, `message.created`,
`conversation.status`, `conversation.typing`) and go to one group per
conversation. Services call the sync functions; the generation loop awaits the
async ones.

In embedded mode the in-memory channel layer lives on the web server's event
loop and its queues are not thread-safe, while replies stream from worker
threads with loops of their own: sends from another loop are handed over to
the web loop with `run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer

from helpdesk import aio

_home_loop: asyncio.AbstractEventLoop | None = None


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


def register_home_loop() -> None:
    """Called by consumers: the loop they run on owns the in-memory layer's queues."""
    global _home_loop
    _home_loop = asyncio.get_running_loop()


CONSOLE_GROUP = "console"


def console_conversation_group(conversation_id: int) -> str:
    """Agents looking at one conversation: private notes go here, never to the customer's group."""
    return f"console.conv.{conversation_id}"


async def _group_send(conversation_id: int, event: dict[str, Any], *, group: str | None = None) -> None:
    layer = get_channel_layer()
    event = {**event, "conversation_id": conversation_id}
    send = layer.group_send(group or conversation_group(conversation_id), event)
    home = _home_loop
    if isinstance(layer, InMemoryChannelLayer) and home is not None and not home.is_closed():
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is not home:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send, home))
            return
    await send


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    aio.run(coroutine)


# --- async API, for the generation loop ----------------------------------------------


async def reply_delta(*, conversation_id: int, message_id: int, seq: int, text: str) -> None:
    await _group_send(conversation_id, {"type": "reply.delta", "message_id": message_id, "seq": seq, "text": text})


async def bot_typing(*, conversation_id: int, active: bool) -> None:
    await _group_send(conversation_id, {"type": "conversation.typing", "who": "bot", "active": active})


# --- sync API, for services -----------------------------------------------------------


def message_created(*, conversation_id: int, message: dict[str, Any]) -> None:
    _run(_group_send(conversation_id, {"type": "message.created", "message": message}))


def reply_done(*, conversation_id: int, message: dict[str, Any]) -> None:
    _run(_group_send(conversation_id, {"type": "reply.done", "message": message}))


def reply_throttled(*, conversation_id: int, message_id: int, retry_after: int) -> None:
    """The customer's message was stored, but the model-call budget is spent: no reply is coming."""
    _run(_group_send(conversation_id, {"type": "reply.throttled", "message_id": message_id,
                                       "retry_after": retry_after}))


def typing(*, conversation_id: int, who: str, active: bool) -> None:
    _run(_group_send(conversation_id, {"type": "conversation.typing", "who": who, "active": active}))


def note_created(*, conversation_id: int, message: dict[str, Any]) -> None:
    _run(_group_send(conversation_id, {"type": "note.created", "message": message},
                     group=console_conversation_group(conversation_id)))


def message_reviewed(*, conversation_id: int, message: dict[str, Any]) -> None:
    """A message's agents' view changed (the customer voted on a bot reply): for open consoles only."""
    _run(_group_send(conversation_id, {"type": "message.reviewed", "message": message},
                     group=console_conversation_group(conversation_id)))


def draft_ready(*, conversation_id: int, draft: dict[str, Any]) -> None:
    _run(_group_send(conversation_id, {"type": "draft.ready", "draft": draft},
                     group=console_conversation_group(conversation_id)))


def inbox_changed(*, item: dict[str, Any]) -> None:
    """A conversation's line in every connected agent's inbox changed."""
    _run(_group_send(item["id"], {"type": "inbox.item", "item": item}, group=CONSOLE_GROUP))


def status_changed(
    *, conversation_id: int, status: str, reason: str = "", agent: dict | None = None, offline: bool = False
) -> None:
    event: dict[str, Any] = {"type": "conversation.status", "status": status}
    if offline:
        event["offline"] = True
    if reason:
        event["reason"] = reason
    if agent:
        event["agent"] = agent
    _run(_group_send(conversation_id, event))
