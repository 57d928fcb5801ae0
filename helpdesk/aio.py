"""A long-lived event loop per worker thread, for async work started from sync code.

`async_to_sync` builds a new loop for every call, which throws away the Ollama
client's connections and the channel layer's Redis pool with it. Tasks call
`run()` instead: one loop per thread, kept for the life of the process, so those
connections are reused from one reply to the next.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")
_local = threading.local()


def thread_loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def run(awaitable: Awaitable[T]) -> T:
    """Run `awaitable` to completion on this thread's persistent loop."""
    return thread_loop().run_until_complete(awaitable)
