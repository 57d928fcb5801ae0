"""A long-lived event loop per worker thread, for async work started from sync code.

`async_to_sync` builds a new loop for every call, which throws away the Ollama
client's connections and the channel layer's Redis pool with it. Tasks call
`run()` instead: one loop per thread, kept for the life of the process, so those
connections are reused from one reply to the next.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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


_db_executor: ThreadPoolExecutor | None = None
_db_executor_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _db_executor
    with _db_executor_lock:
        if _db_executor is None:
            from django.conf import settings

            _db_executor = ThreadPoolExecutor(
                max_workers=settings.DATABASE_THREADS, thread_name_prefix="db"
            )
        return _db_executor


def _with_fresh_connections(function: Callable[..., T], args: tuple, kwargs: dict) -> T:
    from django.db import close_old_connections

    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


async def db_call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run sync database code from async code, on a pool of threads that each keep their connection.

    Channels' `database_sync_to_async` sends every call through one shared
    thread, so simultaneous customers wait in a single line. It also runs the
    call in a copy of the caller's context, where Django keeps the connection:
    its cleanup never sees that connection, which is then opened anew and
    left open on every call. Here each pool thread has one connection, reused
    until CONN_MAX_AGE, and cleaned up in the thread that uses it.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _executor(), functools.partial(_with_fresh_connections, function, args, kwargs)
    )
