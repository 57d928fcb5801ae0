"""A customer's websocket in this process (Channels' WebsocketCommunicator on the ASGI application)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

ORIGIN = "http://127.0.0.1:8000"


class ChatClient:
    """A customer's socket, with helpers that read frames until a condition holds."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.frames: list[dict[str, Any]] = []

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        raw = await self.communicator.receive_output(timeout)
        if raw["type"] == "websocket.close":
            frame = {"type": "__close__", "code": raw.get("code")}
        else:
            assert "\\u" not in raw["text"], "frames must not \\u-escape text"
            frame = json.loads(raw["text"])
        self.frames.append(frame)
        return frame

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        await self.communicator.send_to(text_data=text)

    async def until(self, frame_type: str, timeout: float = 20, **match: Any) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {frame_type} frame; got {[f['type'] for f in self.frames]}")
            frame = await self.receive(remaining)
            if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def close(self) -> None:
        await self.communicator.disconnect()


async def open_socket(
    path: str, headers: list[tuple[bytes, bytes]], *, client: tuple[str, int] | None = None
) -> tuple[ChatClient, dict[str, Any]]:
    """Open a websocket on this process's ASGI application, from `client` (the socket's peer) where given;
    returns the client and its first frame."""
    from helpdesk.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=headers)
    if client is not None:
        communicator.scope["client"] = list(client)  # read when the application starts, at the first await
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    socket = ChatClient(communicator)
    return socket, await socket.receive()


async def open_chat(
    token: str, *, origin: str | None = ORIGIN, client: tuple[str, int] = ("127.0.0.1", 50000)
) -> tuple[ChatClient, dict[str, Any]]:
    """Connect as the widget would, from `client` (the socket's peer); returns the client and its first frame."""
    headers = [(b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return await open_socket(f"/ws/chat/{token}/", headers, client=client)


@pytest.fixture
def chat() -> Any:
    return open_chat
