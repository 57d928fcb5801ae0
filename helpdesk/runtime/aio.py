"""A long-lived event loop for async work started from sync code.

`async_to_sync` builds a new loop for every call, which throws away the Ollama
client's connections and the channel layer's Redis pool with it. Tasks call
`run()` instead: one loop for the life of the process, so those connections are
reused from one reply to the next.

Streams (a reply read from Ollama and relayed to the customer, seconds long and
waiting on the network nearly all of it) go to `run_shared()`: one loop on a
thread of its own carries every stream of the process. A stream then costs a
task on that loop, not a thread's loop of its own woken for every chunk beside
a hundred others contending for the interpreter lock, nor a process.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()


def thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's own loop (for code that must not share the stream loop, such as a test's thread)."""
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def run(awaitable: Awaitable[T]) -> T:
    """Run `awaitable` to completion from sync code: on the process's stream loop (`run_shared`), so that a
    process of a hundred task threads keeps one Ollama client per node and one channel-layer connection, not one
    per thread's loop (about 2 MB each)."""
    return run_shared(awaitable)


_shared: asyncio.AbstractEventLoop | None = None
_shared_thread: threading.Thread | None = None
_shared_lock = threading.Lock()


def shared_loop() -> asyncio.AbstractEventLoop:
    """The process's stream loop, started on first use on a daemon thread (and again after a fork: a loop
    thread does not survive one)."""
    global _shared, _shared_thread
    with _shared_lock:
        if _shared is None or _shared_thread is None or not _shared_thread.is_alive():
            loop = asyncio.new_event_loop()
            started = threading.Event()
            _shared_thread = threading.Thread(target=_shared_loop_run, args=(loop, started), name="stream-loop",
                                              daemon=True)
            _shared_thread.start()
            started.wait()
            _shared = loop
        return _shared


def _shared_loop_run(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(started.set)
    loop.run_forever()


def in_shared_loop() -> bool:
    """Whether the caller runs on the stream loop (where blocking calls stall every stream of the process)."""
    try:
        return asyncio.get_running_loop() is _shared
    except RuntimeError:
        return False


def run_shared(awaitable: Awaitable[T]) -> T:
    """Run `awaitable` on the process's stream loop and wait for it; the calling thread holds nothing meanwhile.

    The caller's context variables (the log context: which conversation, which message) go with it, as they
    would with `run()`. Must not be called from the stream loop itself.
    """
    return start_shared(awaitable).result()


def start_shared(awaitable: Awaitable[T]) -> Future[T]:
    """Start `awaitable` on the process's stream loop and return at once with the future of its result (a future
    cancelled before the loop reaches it never starts). For work a thread wants done beside its own (a question's
    embedding while the reply row is written), taken later or dropped."""
    loop = shared_loop()
    if in_shared_loop():
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never awaited, on purpose
        raise RuntimeError("run_shared() called from the stream loop: await the coroutine instead")
    context = contextvars.copy_context()
    done: Future[T] = Future()

    def start() -> None:
        if not done.set_running_or_notify_cancel():  # cancelled before it started
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            return
        task = loop.create_task(_as_coroutine(awaitable), context=context)
        task.add_done_callback(functools.partial(_settle, done))

    loop.call_soon_threadsafe(start)
    return done


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _settle(done: Future, task: asyncio.Task) -> None:
    if task.cancelled():
        done.set_exception(asyncio.CancelledError())
    elif task.exception() is not None:
        done.set_exception(task.exception())
    else:
        done.set_result(task.result())


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
