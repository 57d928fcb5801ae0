"""Close codes as a real Daphne sends them (the in-process communicator accepts any int-like value; Daphne's
websocket library only a plain int, and answered 1011 to everything else): the widget branches on them."""

from __future__ import annotations

import asyncio
import json

from tests.browser import LiveServer


async def _refused(url: str, origin: str) -> tuple[dict, int]:
    import websockets

    async with websockets.connect(url, additional_headers={"Origin": origin}) as ws:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
        await asyncio.wait_for(ws.wait_closed(), 20)
        return frame, ws.close_code


def test_an_unknown_conversation_is_refused_with_its_own_close_code_through_daphne(live_app: LiveServer) -> None:
    url = live_app.url.replace("http", "ws") + "/ws/chat/no-such-conversation-token/"
    frame, close_code = asyncio.run(_refused(url, live_app.url))
    assert frame["code"] == "unknown_conversation"
    assert close_code == 4404
