"""The JSON socket both consumers are built on: the size limit, decoding, dispatch by frame type, error frames.

A consumer declares `frames` (type -> protocol.client class) and an `on_<type>`
handler for each; what it does around them (authorising, rate limits, the
exceptions of its services) stays its own.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from .protocol import fields
from .protocol.client import ClientFrame
from .protocol.codes import CloseCode, ErrorCode, FrameError


def frame_encode(content: dict[str, Any]) -> str:
    """A server frame as compact JSON, non-ASCII text as is (Chinese is a third of the bytes escaped)."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


async def events_dispatch(
    sources: list[Callable[[], Awaitable[dict[str, Any]]]], dispatch: Callable[[dict[str, Any]], Awaitable[None]]
) -> None:
    """Hand what the sources (the socket, the channel layer) deliver to `dispatch`, one event at a time, in the
    order they arrive; as channels' `await_many_dispatch`, without its new task and `asyncio.wait` per event (a
    reply relays ~100). A source's error is raised here, as there; cancelling this cancels the sources. The socket
    is read no more after its disconnect: an ASGI server may answer every later receive() at once with the
    disconnect again (uvicorn does), and a pump reading on would spin without ever yielding the event loop."""
    inbox: asyncio.Queue[tuple[dict[str, Any] | None, BaseException | None]] = asyncio.Queue()

    async def pump(source: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        try:
            while True:
                message = await source()
                inbox.put_nowait((message, None))
                if str(message.get("type", "")).endswith(".disconnect"):  # websocket. or http.
                    return
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            inbox.put_nowait((None, exc))

    pumps = [asyncio.ensure_future(pump(source)) for source in sources]
    try:
        while True:
            message, error = await inbox.get()
            if error is not None:
                raise error
            assert message is not None
            await dispatch(message)
    finally:
        for task in pumps:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass


class JsonSocketConsumer(AsyncJsonWebsocketConsumer):
    frames: dict[str, type[ClientFrame]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' AsyncConsumer.__call__ (the channel layer's channel, then every event to dispatch), with
        events_dispatch for its loop."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        try:
            await events_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass

    @classmethod
    async def encode_json(cls, content: dict[str, Any]) -> str:
        return frame_encode(content)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its `aclose_old_connections()` before every handler.

        That call is a hop to the one thread that runs sync code, and back, for every event: ~100 per streamed
        reply (each delta), all customers' sockets in one line. These consumers never touch the database on
        that thread: their database work runs in helpdesk.runtime.aio.db_call, which closes its thread's old
        connections itself, so the hop did nothing but cost (README, Performance).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_text(self, text: str) -> None:
        """One text frame, already encoded: the shortest way to the socket (a relayed delta)."""
        await self.base_send({"type": "websocket.send", "text": text})

    def frame_limits(self) -> tuple[int, str]:
        """The most characters a frame may have, and the error's detail past them."""
        raise NotImplementedError

    def frame_decode(self, text_data: str | None) -> dict[str, Any]:
        """The frame as a JSON object with a "type"; raises FrameError."""
        max_chars, too_large = self.frame_limits()
        return fields.frame_decode(text_data, max_chars=max_chars, too_large=too_large)

    def frame_parse(self, frame: dict[str, Any]) -> ClientFrame:
        """The typed frame for a decoded one; raises FrameError (unknown type, or a field's rule)."""
        frame_class = self.frames.get(frame["type"])
        if frame_class is None:
            raise FrameError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {frame['type'][:40]!r}")
        return frame_class.parse(frame)

    async def frame_handle(self, frame: ClientFrame) -> None:
        await getattr(self, f"on_{frame.type}")(frame)

    async def send_error(self, code: ErrorCode, detail: str, **extra: Any) -> None:
        await self.send_json(FrameError(code, detail, **extra).frame())

    async def send_frame_error(self, exc: FrameError, **extra: Any) -> None:
        await self.send_json(FrameError(exc.code, exc.detail, **{**extra, **exc.extra}).frame())

    async def refuse(self, close_code: CloseCode, code: ErrorCode, detail: str, **extra: Any) -> None:
        """Tell the client why, then close the socket (with the code as a plain int: Daphne's websocket library
        refuses an int subclass, and the client would see 1011 instead)."""
        await self.send_error(code, detail, **extra)
        await self.close(code=int(close_code))
