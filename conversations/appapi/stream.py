"""GET /api/v1/app/events: a conversation's events as server-sent events, resumable with Last-Event-ID.

An ASGI application of its own (helpdesk/asgi.py routes the path here), not a Django view: one coroutine per
client on the server's loop, no thread, and it sees its own `send`, which it needs to notice a client that does
not read. Daphne writes whatever it is given into Twisted's buffer at once, so the stream registers a Twisted
push producer on its request: Twisted pauses it when the socket's buffers are full, events then wait in the
stream's own queue, and past APP_SSE_MAX_QUEUED_BYTES the connection is dropped (the client resumes later).

No event log is kept: an event's `id` is the client's state, and a reconnecting client's state is made good from
the stored messages and the reply in progress (conversations.reply_progress). The state is
`w<W>[_d<ids>][_s<id>:<seq>,...]`: every customer-visible message up to W, and those in d, were delivered final;
the replies in s were streaming, delivered up to that seq. A resume sends the stored messages above W not in d,
and a streaming reply as a `message` with its text so far and `seq` when the client is behind it (the widget's
history frame does the same); the deltas after it continue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from helpdesk.runtime import aio
from helpdesk.web import dbbusy, ratelimits, redisdown

from .. import events
from ..models import App, Conversation, Message
from ..protocol.codes import ErrorCode
from ..selectors.access import conversation_get_by_token
from ..selectors.history import conversation_to_dict
from ..selectors.messages import CUSTOMER_VISIBLE_ROLES, message_to_dict
from ..services import apps
from . import access, cors

logger = logging.getLogger(__name__)

_STATE = re.compile(r"^w(\d{1,19})(?:_d([\d,]{1,2000}))?(?:_s([\d:,-]{1,500}))?$")


class BadEventId(ValueError):
    """A Last-Event-ID this server did not send."""


@dataclass
class StreamState:
    """What the client has been sent (see the module's docstring); its encoding is every event's id."""

    watermark: int = 0
    delivered: set[int] = field(default_factory=set)
    streaming: dict[int, int] = field(default_factory=dict)

    def encode(self) -> str:
        text = f"w{self.watermark}"
        if self.delivered:
            text += "_d" + ",".join(str(i) for i in sorted(self.delivered))
        if self.streaming:
            text += "_s" + ",".join(f"{m}:{s}" for m, s in sorted(self.streaming.items()))
        return text

    @classmethod
    def decode(cls, text: str) -> StreamState:
        found = _STATE.match(text.strip())
        if found is None:
            raise BadEventId(text)
        try:
            delivered = {int(i) for i in found.group(2).split(",")} if found.group(2) else set()
            streaming = {}
            for item in (found.group(3) or "").split(","):
                if item:
                    message_id, seq = item.split(":")
                    streaming[int(message_id)] = int(seq)
        except ValueError:
            raise BadEventId(text) from None
        return cls(int(found.group(1)), delivered, streaming)

    def final(self, message_id: int) -> None:
        self.delivered.add(message_id)
        self.streaming.pop(message_id, None)

    def compact(self, conversation_id: int) -> None:
        """Move the watermark past what was delivered, up to the first visible message that was not (a reply
        still streaming, or one whose event is on its way), so that ids stay short. Reads the database."""
        pending = (
            Message.objects.filter(conversation_id=conversation_id, role__in=CUSTOMER_VISIBLE_ROLES,
                                   id__gt=self.watermark)
            .exclude(id__in=self.delivered).order_by("id").values_list("id", flat=True).first()
        )
        top = max(self.delivered, default=self.watermark)
        self.watermark = max(self.watermark, min(top, pending - 1) if pending is not None else top)
        self.delivered = {i for i in self.delivered if i > self.watermark}


def replay(conversation: Conversation, state: StreamState | None) -> tuple[StreamState, list[tuple[str, dict]]]:
    """What a (re)connecting client missed, as (event, payload) pairs, and its state after them. Without a state,
    the conversation's latest HISTORY_LIMIT messages, as the widget's history frame."""
    visible = conversation.messages.filter(role__in=CUSTOMER_VISIBLE_ROLES)
    if state is None:
        latest = list(visible.order_by("-id").values_list("id", flat=True)[: settings.HISTORY_LIMIT])
        state = StreamState(watermark=min(latest) - 1 if latest else 0)
    out: list[tuple[str, dict]] = [("status", {"type": "status", **conversation_to_dict(conversation)})]
    rows = visible.filter(id__gt=state.watermark).exclude(id__in=state.delivered).select_related("author")
    for message in rows.order_by("id"):
        payload = message_to_dict(message)
        if message.status == Message.Status.STREAMING:
            seq = payload.get("seq", -1)
            if message.pk in state.streaming and seq <= state.streaming[message.pk]:
                continue  # the client has every delta sent so far
            state.streaming[message.pk] = seq
            out.append(("message", {"type": "message", "message": payload}))
            continue
        kind = "done" if events.message_streamed(message) else "message"
        out.append((kind, {"type": kind, "message": payload}))
        state.final(message.pk)
    state.compact(conversation.pk)
    return state, out


def sse_chunk(event: str, payload: dict[str, Any], event_id: str, *, retry_ms: int | None = None) -> bytes:
    """One event; `retry_ms` also tells an EventSource how long to wait before it reconnects."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    retry = f"retry: {retry_ms}\n" if retry_ms is not None else ""
    return f"{retry}id: {event_id}\nevent: {event}\ndata: {data}\n\n".encode()


class _Producer:
    """Twisted's side of the backpressure: the request pauses and resumes it as its socket fills and drains."""

    def __init__(self, writable: asyncio.Event) -> None:
        self.writable = writable

    def pauseProducing(self) -> None:  # noqa: N802 - Twisted's IPushProducer
        self.writable.clear()

    def resumeProducing(self) -> None:  # noqa: N802
        self.writable.set()

    def stopProducing(self) -> None:  # noqa: N802
        self.writable.set()


def twisted_request(send: Any) -> Any:
    """The Twisted request behind Daphne's `send` (a partial of its server's handle_reply), or None elsewhere."""
    if isinstance(send, partial) and send.args and hasattr(send.args[0], "registerProducer"):
        return send.args[0]
    return None


def _send_buffer_bound(request: Any) -> None:
    """The kernel's send buffer of this stream's socket, fixed at APP_SSE_SOCKET_SEND_BUFFER_BYTES: left to
    autotuning it grows to megabytes (tcp_wmem) for a client that does not read, per stream, before Twisted
    sees the socket full; an event stream needs little."""
    try:
        request.channel.transport.getHandle().setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, settings.APP_SSE_SOCKET_SEND_BUFFER_BYTES)
    except (AttributeError, OSError) as exc:  # not a TCP socket (a test's transport): nothing to bound
        logger.debug("event stream: send buffer left as it is (%s)", exc)


async def _json_response(send: Callable[[dict], Awaitable[None]], status: int, body: dict[str, Any],
                         headers: list[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": data})


class EventStream:
    """One client's stream: `serve` answers the request and then relays the conversation's group until the client
    goes, its queue overflows, or the conversation is erased."""

    def __init__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        self.outbox: deque[bytes] = deque()
        self.queued = 0
        self.wakeup = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.overflowed = False  # the client does not read: dropped
        self.ending = False  # the stream ends once its queue is written (an erased conversation)
        self.state = StreamState()
        self.sent_final: set[int] = set()
        self.conversation_id = 0
        self.cors: list[tuple[str, str]] = [("Vary", "Origin")]  # CORS headers of its answers (appapi.cors)

    async def answer(self, status: int, body: dict[str, Any] | None,
                     headers: list[tuple[str, str]] | tuple = ()) -> None:
        """A JSON answer (a refusal, or a preflight's, then without a body) with this stream's CORS headers."""
        sent = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in (*self.cors, *headers)]
        if body is None:
            await self.send({"type": "http.response.start", "status": status, "headers": sent})
            await self.send({"type": "http.response.body", "body": b""})
        else:
            await _json_response(self.send, status, body, sent)

    async def refusal(self) -> tuple[Conversation, StreamState | None] | None:
        """The conversation and the client's state, or None once a refusal (or a preflight's answer) was sent.
        CORS as for the REST operations (conversations.appapi.cors): a browser's fetch() reads the stream."""
        origin = self.headers.get("origin", "")
        method = self.scope.get("method", "GET")
        if cors.is_preflight(method, self.headers.get("access-control-request-method")):
            status, headers, body = await aio.db_call(cors.preflight, origin)
            self.cors = []
            await self.answer(status, body, headers)
            return None
        if method != "GET":
            await self.answer(405, {"error": "method_not_allowed", "detail": "use GET"})
            return None
        scheme, _, key = self.headers.get("authorization", "").partition(" ")
        app: App | None = await aio.db_call(apps.app_authenticate, key.strip()) if scheme.lower() == "bearer" \
            else None
        if app is None:
            self.cors += await aio.db_call(cors.answer_headers, origin, admitted=None, status=401)
            await self.answer(401, {"error": "unauthorized", "detail": "missing, unknown or revoked API key"},
                              [("WWW-Authenticate", "Bearer")])
            return None
        try:
            access.app_origin_admit(app, origin=origin)
        except access.OriginRefused as exc:
            await self.answer(403, {"error": ErrorCode.ORIGIN_NOT_ALLOWED, "detail": str(exc)})
            return None
        self.cors += cors.answer_headers(origin, admitted=origin, status=200)
        try:
            await asyncio.to_thread(access.app_rate_admit, app)
        except ratelimits.RateLimited as exc:
            await self.answer(429, {"error": ErrorCode.RATE_LIMITED, "retry_after": exc.retry_after,
                                    "detail": f"too many requests; retry after {exc.retry_after} s"},
                              [("Retry-After", str(exc.retry_after))])
            return None
        conversation = await aio.db_call(conversation_get_by_token,
                                         token=self.headers.get("x-conversation-token", ""))
        if conversation is None:
            await self.answer(404, {"error": ErrorCode.UNKNOWN_CONVERSATION,
                                    "detail": "no conversation has this X-Conversation-Token"})
            return None
        last = self.headers.get("last-event-id", "")
        try:
            state = StreamState.decode(last) if last.strip() else None
        except BadEventId:
            await self.answer(400, {"error": "bad_event_id", "field": "Last-Event-ID",
                                    "detail": "Last-Event-ID is not an id this stream sent"})
            return None
        return conversation, state

    async def serve(self) -> None:
        found = await self.refusal()
        if found is None:
            return
        conversation, state = found
        events.register_home_loop()
        layer = get_channel_layer()
        channel = await layer.new_channel()
        group = events.conversation_group(conversation.pk)
        # Joined before the replay is read: whatever happens after the read is in the channel's queue, and
        # what both carry is sent once (sent_final, the seqs of `streaming`).
        await layer.group_add(group, channel)
        request = twisted_request(self.send)
        producer = _Producer(self.writable)
        try:
            self.state, missed = await aio.db_call(replay, conversation, state)
            await self.send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
                (b"x-accel-buffering", b"no"),
                *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.cors)]})
            if request is not None:
                request.registerProducer(producer, True)
                _send_buffer_bound(request)
            self.conversation_id = conversation.pk
            redisdown.watch.register(self)
            for kind, payload in missed:
                self.enqueue(kind, payload)
            await self.relay(layer, channel)
        finally:
            redisdown.watch.unregister(self)
            if request is not None and request.channel is not None and request.producer is producer:
                request.unregisterProducer()  # a closed connection has dropped it already
            await redisdown.tolerate("sse", layer.group_discard(group, channel))
        if self.overflowed and request is not None and request.channel is not None:
            request.channel.transport.abortConnection()  # the client does not read: nothing more can reach it
        else:
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def relay(self, layer: Any, channel: str) -> None:
        tasks = [asyncio.ensure_future(self.write()), asyncio.ensure_future(self.client_gone()),
                 asyncio.ensure_future(self.listen(layer, channel))]
        writer, gone, listener = tasks
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if done == {listener} and listener.exception() is None:  # the conversation was erased: say so first
                await asyncio.wait([writer, gone], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def client_gone(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass

    async def listen(self, layer: Any, channel: str) -> None:
        while not self.ending:
            event = await layer.receive(channel)
            handler = getattr(self, "on_" + event["type"].replace(".", "_"), None)
            if handler is not None:
                await handler(event)

    async def write(self) -> None:
        """Hand the queue to the server as fast as the client reads it; a comment line on a quiet stream."""
        while not self.overflowed:
            if not self.outbox:
                if self.ending:
                    return
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), settings.APP_SSE_KEEPALIVE_S)
                except TimeoutError:
                    self.outbox.append(b": keep-alive\n\n")
                    self.queued += 14
                continue
            await self.writable.wait()
            chunk = self.outbox.popleft()
            self.queued -= len(chunk)
            await self.send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def lost(self) -> None:
        """Redis went away or restarted (helpdesk.web.redisdown.RedisWatch): this stream's subscription went with
        it, and what is published meanwhile would never reach it. So it says busy and ends, as a widget's socket
        is closed with 4503; the client reconnects with its Last-Event-ID (an EventSource after `retry`) and gets
        what it missed from the stored messages."""
        retry_after = settings.DATABASE_BUSY_RETRY_AFTER_S
        self.enqueue("error", {"type": "error", "code": ErrorCode.BUSY, "detail": dbbusy.BUSY_DETAIL,
                               "retry_after": retry_after}, retry_ms=int(retry_after * 1000))
        self.ending = True
        self.wakeup.set()

    def enqueue(self, kind: str, payload: dict[str, Any], *, retry_ms: int | None = None) -> None:
        if self.overflowed:
            return
        chunk = sse_chunk(kind, payload, self.state.encode(), retry_ms=retry_ms)
        self.outbox.append(chunk)
        self.queued += len(chunk)
        self.wakeup.set()
        # Only while the socket is full: a reading client takes a large event (a long reply's `done`, a replay)
        # as it comes.
        if self.queued > settings.APP_SSE_MAX_QUEUED_BYTES and not self.writable.is_set():
            logger.warning("event stream of conversation %s closed: %d bytes wait for a client that does not read "
                           "(APP_SSE_MAX_QUEUED_BYTES)", self.conversation_id, self.queued)
            self.overflowed = True
            self.writable.set()
            self.wakeup.set()

    # --- the conversation's group -------------------------------------------------------------------------

    async def on_reply_delta(self, event: dict[str, Any]) -> None:
        message_id, seq = event["message_id"], event["seq"]
        if message_id in self.sent_final or message_id in self.state.delivered:
            return
        if seq <= self.state.streaming.get(message_id, -1):
            return
        self.state.streaming[message_id] = seq
        self.enqueue("delta", {"type": "delta", "message_id": message_id, "seq": seq, "text": event["text"]})

    async def _final(self, kind: str, message: dict[str, Any]) -> None:
        message_id = message["id"]
        if message_id in self.sent_final or message_id in self.state.delivered:
            return
        self.sent_final.add(message_id)
        self.state.final(message_id)
        await aio.db_call(self.state.compact, self.conversation_id)
        self.enqueue(kind, {"type": kind, "message": message})

    async def on_reply_done(self, event: dict[str, Any]) -> None:
        await self._final("done", event["message"])

    async def on_message_created(self, event: dict[str, Any]) -> None:
        await self._final("message", event["message"])

    async def on_conversation_status(self, event: dict[str, Any]) -> None:
        payload = {"type": "status", "status": event["status"]}
        payload.update({key: event[key] for key in ("reason", "agent", "offline") if key in event})
        self.enqueue("status", payload)

    async def on_conversation_typing(self, event: dict[str, Any]) -> None:
        if event["who"] != "customer":
            self.enqueue("typing", {"type": "typing", "who": event["who"], "active": event["active"]})

    async def on_reply_throttled(self, event: dict[str, Any]) -> None:
        self.enqueue("error", {"type": "error", "code": ErrorCode.REPLY_RATE_LIMITED,
                               "message_id": event["message_id"], "retry_after": event["retry_after"],
                               "detail": f"the assistant answers again in {event['retry_after']} s"})

    async def on_conversation_erased(self, event: dict[str, Any]) -> None:
        self.enqueue("error", {"type": "error", "code": ErrorCode.UNKNOWN_CONVERSATION,
                               "detail": "this conversation was erased"})
        self.ending = True


EVENTS_PATH = "/api/v1/app/events"


async def event_stream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI application of GET /api/v1/app/events."""
    await EventStream(scope, receive, send).serve()


def with_event_stream(http_app: Any) -> Any:
    """`http_app` (Django), with EVENTS_PATH answered by the event stream instead."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("path") == EVENTS_PATH:
            await event_stream_app(scope, receive, send)
        else:
            await http_app(scope, receive, send)

    return app
