"""The gateway's tests open streams on each test's own event loop: its aiohttp sessions are closed with it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helpdesk.llm import ollama as gateway


@pytest.fixture(autouse=True)
async def _stream_sessions_closed() -> AsyncIterator[None]:
    yield
    await gateway.stream_sessions_close()
