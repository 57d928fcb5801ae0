"""The only module that touches the channel layer, and the one place that decides who hears what.

Events are dotted (`reply.delta`, `reply.done`, `message.created`, ...) and go to one of three groups:

| group                      | who is in it                                        | what it hears                     |
|----------------------------|-----------------------------------------------------|-----------------------------------|
| `conv.<id>`                | the customer's sockets, and the consoles that have  | message.created, reply.delta,     |
|                            | the conversation open                               | reply.done, reply.throttled,      |
|                            |                                                     | conversation.status, .typing      |
| `console.conv.<id>`        | only the consoles that have the conversation open   | note.created, message.reviewed,   |
|                            |                                                     | draft.ready                       |
| `console`                  | every connected console                             | inbox.item                        |

So private notes, votes' comments and drafts never reach the customer, and a
message reaches the customer in its customer-facing form only.

Services call the `*_on_commit` functions inside their transaction: the
payload is read there, from the rows as written, and sent once the
transaction commits (as Zulip's `send_event_on_commit`), so a client never
hears of a row it cannot read yet and never of one rolled back. What is not
stored (typing, a draft) is sent at once; the generation loop awaits the async
functions.

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
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from helpdesk.runtime import aio
from helpdesk.web import redisdown

from .models import Conversation, Message
from .reply_progress import reply_progress_entry, reply_progress_publish
from .selectors.inbox import inbox_item
from .selectors.messages import agent_name, message_to_agent_dict, message_to_dict

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
    # Redis away: the event is dropped (what it says is stored), and the customers' sockets are closed to reload
    # their history once it is back (helpdesk.web.redisdown). A stream or a transaction never fails on it.
    await redisdown.tolerate("event", send)


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    aio.run(coroutine)


# --- async API, for the generation loop ----------------------------------------------


async def reply_delta(*, conversation_id: int, message_id: int, seq: int, text: str, sent: str | None = None
                      ) -> None:
    """A streaming reply's delta. With `sent` (the reply's text up to and including this delta), its progress
    is written first (conversations.reply_progress), so that a socket (re)connecting reads it and hears the
    deltas after it, none missed; where the channel layer and the cache share one Redis, the write and the
    publish go in one pipeline, one round trip per delta instead of two (the SET runs before the PUBLISH)."""
    event = {"type": "reply.delta", "message_id": message_id, "seq": seq, "text": text}
    if sent is None:
        await _group_send(conversation_id, event)
    elif _layer_shares_the_cache():
        await _delta_batch().add(conversation_group(conversation_id), {**event, "conversation_id": conversation_id},
                                 reply_progress_entry(message_id, seq=seq, text=sent))
    else:
        reply_progress_publish(message_id, seq=seq, text=sent)
        await _group_send(conversation_id, event)


_PUBSUB_LAYER = "channels_redis.pubsub.RedisPubSubChannelLayer"


def _layer_shares_the_cache() -> bool:
    """Whether the channel layer is channels_redis's pub/sub layer on the very Redis the cache (django-redis)
    uses, one server: then one pipeline on the cache's connection can both write a key and publish an event."""
    layer = settings.CHANNEL_LAYERS.get("default", {})
    shared = settings.CACHES.get("default", {})
    if layer.get("BACKEND") != _PUBSUB_LAYER or shared.get("BACKEND") != "django_redis.cache.RedisCache":
        return False
    hosts = layer.get("CONFIG", {}).get("hosts") or []
    if len(hosts) != 1:
        return False
    address = hosts[0].get("address") if isinstance(hosts[0], dict) else hosts[0]
    return isinstance(address, str) and address == shared.get("LOCATION")


_Delta = tuple[str, dict[str, Any], tuple[str, Any, int]]  # group, event, progress entry


class _DeltaBatch:
    """The deltas every stream of one event loop flushes in the same turn of the loop, written and published in
    one pipeline when the turn's callbacks are done: at a hundred streams a loop wakes with several pieces
    ready, and a pipeline's own cost (a pooled connection, a round trip, the parsing) is then paid once for all
    of them. Each `add` returns once its delta is out, so a stream's later events (its end, sent another way)
    still follow its deltas; a stream's deltas keep their order (one list, written in order)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.deltas: list[_Delta] = []
        self.waiting: list[asyncio.Future[None]] = []

    def add(self, group: str, message: dict[str, Any], entry: tuple[str, Any, int]) -> asyncio.Future[None]:
        if not self.deltas:
            self.loop.call_soon(self._flush)
        self.deltas.append((group, message, entry))
        sent: asyncio.Future[None] = self.loop.create_future()
        self.waiting.append(sent)
        return sent

    def _flush(self) -> None:
        deltas, waiting, self.deltas, self.waiting = self.deltas, self.waiting, [], []
        try:
            _publish_after_set(deltas)
        except Exception as exc:
            for sent in waiting:
                if not sent.done():
                    sent.set_exception(exc)
            return
        for sent in waiting:
            if not sent.done():  # a stream stopped meanwhile has cancelled its wait
                sent.set_result(None)


_delta_batches: dict[asyncio.AbstractEventLoop, _DeltaBatch] = {}


def _delta_batch() -> _DeltaBatch:
    loop = asyncio.get_running_loop()
    batch = _delta_batches.get(loop)
    if batch is None:
        for closed in [other for other in list(_delta_batches) if other.is_closed()]:  # another thread may add
            _delta_batches.pop(closed, None)
        batch = _delta_batches[loop] = _DeltaBatch(loop)
    return batch


def _publish_after_set(deltas: list[_Delta]) -> None:
    """For each delta, SET its progress entry (key, value, timeout; as cache.set would write it) and PUBLISH its
    event to its group (as the layer's group_send would: its channel name and serialization), all in one
    pipeline. Blocking, like the cache write it replaces; dropped while Redis is away, as `_group_send`'s events
    are."""
    layer = get_channel_layer()
    client = cache.client  # django-redis's: the key and the encoding cache.get reads back
    try:
        pipe = client.get_client(write=True).pipeline(transaction=False)
        for group, message, (key, value, timeout) in deltas:
            pipe.set(client.make_key(key), client.encode(value), ex=timeout)
            pipe.publish(layer._get_group_channel_name(group), layer.serialize(message))
        pipe.execute()
    except Exception as exc:
        if not redisdown.redis_unavailable(exc):
            raise
        redisdown.unavailable_record(exc, "event")


async def bot_typing(*, conversation_id: int, active: bool) -> None:
    await _group_send(conversation_id, {"type": "conversation.typing", "who": "bot", "active": active})


# --- sent once the transaction commits, for services ------------------------------------


def _send_on_commit(conversation_id: int, event: dict[str, Any], *, group: str | None = None) -> None:
    transaction.on_commit(lambda: _run(_group_send(conversation_id, event, group=group)))


# A stored answer is not streamed: it goes out like any stored message, not as the end of a stream.
_STORED_ANSWERS = (Message.AnswerSource.FAQ, Message.AnswerSource.CACHE, Message.AnswerSource.DECLINED)


def message_on_commit(message: Message) -> None:
    """Tell whoever may read it that `message` was stored, or finished streaming.

    A private note goes to the consoles that have the conversation open, in the
    agents' form; a bot reply that streamed ends with `reply.done` and its final
    text (the widget replaces what the deltas showed); anything else (the
    customer's echo, an agent's reply, a notice, an FAQ or cached answer) is a
    `message.created` in the customer's form, to the conversation's group.
    """
    conversation_id = message.conversation_id
    if message.role == Message.Role.NOTE:
        note = message_to_agent_dict(message)
        _send_on_commit(conversation_id, {"type": "note.created", "message": note},
                        group=console_conversation_group(conversation_id))
        return
    payload = message_to_dict(message)
    kind = "reply.done" if message_streamed(message) else "message.created"
    _send_on_commit(conversation_id, {"type": kind, "message": payload})


def message_streamed(message: Message) -> bool:
    """Whether a customer-visible message ends a stream (`reply.done`, the client replaces what the deltas
    showed) rather than arriving whole (`message.created`): the app's event stream replays it the same way."""
    return message.role == Message.Role.BOT and message.answer_source not in _STORED_ANSWERS


def message_reviewed_on_commit(message: Message) -> None:
    """A message's agents' view changed (the customer voted on a bot reply): for open consoles only."""
    conversation_id = message.conversation_id
    reviewed = message_to_agent_dict(message)
    _send_on_commit(conversation_id, {"type": "message.reviewed", "message": reviewed},
                    group=console_conversation_group(conversation_id))


def status_changed_on_commit(conversation: Conversation, *, reason: str = "", offline: bool = False) -> None:
    """The conversation's status, to the customer and its open consoles; with the agent's name while a person
    has it, the handoff's `reason`, and `offline` when nobody will answer before working hours."""
    event: dict[str, Any] = {"type": "conversation.status", "status": conversation.status}
    if offline:
        event["offline"] = True
    if reason:
        event["reason"] = reason
    if conversation.status == Conversation.Status.HUMAN:
        event["agent"] = {"name": agent_name(conversation.agent)}
    _send_on_commit(conversation.pk, event)


def inbox_changed_on_commit(conversation: Conversation, last_message: Message | None = None) -> None:
    """The conversation's line in every connected agent's inbox changed; an evaluation run's conversations
    have no line there."""
    if conversation.evaluation:
        return
    item = inbox_item(conversation, last_message=last_message)
    _send_on_commit(conversation.pk, {"type": "inbox.item", "item": item}, group=CONSOLE_GROUP)


def conversation_erased(conversation_id: int) -> None:
    """The conversation was erased (conversations.privacy): its open widgets are closed as for an unknown token,
    and start afresh. Called after the erasure committed."""
    _run(_group_send(conversation_id, {"type": "conversation.erased"}))


def reply_throttled_on_commit(*, conversation_id: int, message_id: int, retry_after: int) -> None:
    """The customer's message was stored, but the model-call budget is spent: no reply is coming."""
    event = {"type": "reply.throttled", "message_id": message_id, "retry_after": retry_after}
    _send_on_commit(conversation_id, event)


# --- sent at once: nothing stored ---------------------------------------------------------


def typing(*, conversation_id: int, who: str, active: bool) -> None:
    _run(_group_send(conversation_id, {"type": "conversation.typing", "who": who, "active": active}))


def draft_ready(*, conversation_id: int, draft: dict[str, Any]) -> None:
    """A draft reply for the agents looking at the conversation (never the customer)."""
    _run(_group_send(conversation_id, {"type": "draft.ready", "draft": draft},
                     group=console_conversation_group(conversation_id)))
