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


_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def thread_pool(name: str, size: int) -> ThreadPoolExecutor:
    """A process-wide pool of `size` threads, made on first use (after Django's settings are loaded)."""
    with _pools_lock:
        if name not in _pools:
            _pools[name] = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        return _pools[name]


def with_fresh_connections(function: Callable[..., T], args: tuple, kwargs: dict) -> T:
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
    from django.conf import settings

    loop = asyncio.get_running_loop()
    pool = thread_pool("db", settings.DATABASE_THREADS)
    return await loop.run_in_executor(pool, functools.partial(with_fresh_connections, function, args, kwargs))
