"""A customer of a served stack (ServedStack, LiveServer) over real HTTP and websockets: what the fault tests do
before, during and after a fault."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any


def conversation_post(base_url: str) -> tuple[int, dict[str, str], bytes]:
    """POST /api/v1/conversations as the widget on `base_url` would: (status, headers, body), errors included."""
    request = urllib.request.Request(base_url + "/api/v1/conversations", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json", "Origin": base_url})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


async def frames_until(ws: Any, wanted: set[str], frames: list[dict], timeout: float = 60) -> dict:
    """Read frames into `frames` until one of a `wanted` type comes; that one is returned."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(deadline - loop.time(), 0.1)))
        frames.append(frame)
        if frame["type"] in wanted:
            return frame
