"""When Redis cannot be reached (down, restarting, failing over): "busy, retry shortly", never a traceback or a
lost message.

Redis carries the live side of the product: the channel layer (a reply's deltas, a message's echo to the other
sockets), the task queue and the shared cache. While it is away:
- an event that cannot be published is dropped (counted, logged once a minute): what it said is in the database,
  and every customer socket of the web process is closed with 4503 (`RedisWatch`), so that each widget shows
  "busy, reconnecting" and, once Redis is back, reconnects and reads its history afresh;
- a socket that cannot join its conversation's group is refused with 4503 (the widget tries again);
- a frame whose service needs Redis (a message whose reply cannot be queued, a stop whose flag cannot be set) is
  answered with an error frame "busy" and retry_after, as when the database is away (helpdesk.web.dbbusy): the
  widget resends the message with its client_id, so it is stored once; a message already stored, whose reply
  could not be queued, is handed to a person by the sweeper after UNANSWERED_TIMEOUT_S.
The HTTP views need no handling of their own: the rate limits and the cache go on without Redis
(helpdesk/tests/test_ratelimits_outage.py).

A restart that came and went between two looks (data lost, pub/sub subscriptions with it) is seen by the server's
run_id changing, and treated the same way: the sockets reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from helpdesk.runtime import aio

# How often each web process looks at Redis (a PING and the server's run_id).
WATCH_INTERVAL_S = 2.0
# How long Redis may take to answer a look (the client's socket timeout: an error, counted at once, as a refused or
# reset connection is). A look not over in twice that, with no answer from Redis either way (its thread never got to
# run: a web process starting on a loaded machine was seen to, and closed its customers' sockets for nothing),
# counts only when the next one is as late.
WATCH_TIMEOUT_S = 2.0
SLOW_LOOKS_BEFORE_LOST = 2
# How often one process repeats that Redis is unreachable, per place.
WARNING_INTERVAL_S = 60.0

logger = logging.getLogger(__name__)
_warned_at: dict[str, float] = {}


class RedisUnavailable(Exception):
    """A service could not do its part in Redis (its client swallowed the error, as the cache's does)."""


# What asyncio says when two coroutines read one connection: redis-py's pub/sub connection, shared by the channel
# layer's reader and a new subscription, both reconnecting to a Redis that is away.
_RACED_READ = "another coroutine is already waiting for incoming data"


def redis_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) means Redis could not be reached or did not answer in time: a
    connection refused or lost, a timeout, the broker's publish giving up (kombu's OperationalError), a pub/sub
    connection caught reconnecting by two coroutines at once."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError, TimeoutError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | TimeoutError | OperationalError | RedisUnavailable):
            return True
        if isinstance(current, RuntimeError) and _RACED_READ in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def unavailable_record(exc: BaseException, where: str) -> None:
    """Counted (`helpdesk_redis_unavailable_total{where}`) and logged for the operator once a minute per place:
    the kind of failure, no traceback."""
    from helpdesk.observability.metrics import redis_unavailable_count

    redis_unavailable_count(where)
    now = time.monotonic()
    if now - _warned_at.get(where, -WARNING_INTERVAL_S) >= WARNING_INTERVAL_S:
        _warned_at[where] = now
        first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        logger.error("redis unavailable (%s): %s: %s", where, type(exc).__name__, first_line)


async def tolerate(where: str, awaitable: Awaitable[Any]) -> None:
    """Await a send to the channel layer; dropped (counted, logged) when Redis is unreachable."""
    try:
        await awaitable
    except Exception as exc:
        if not redis_unavailable(exc):
            raise
        unavailable_record(exc, where)


class RedisWatch:
    """One per web process: looks at Redis every WATCH_INTERVAL_S and, when it stops answering or has restarted,
    calls every registered socket's `lost()` (a customer socket closes with 4503 and its widget reconnects)."""

    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self.task: asyncio.Task | None = None
        self.run_id: str | None = None
        self.up = True
        self.slow_looks = 0

    def register(self, socket: Any) -> None:
        """`socket` has an async `lost()`; the watch starts with the first socket (on the web process's loop)."""
        self.sockets.add(socket)
        if settings.EMBEDDED:
            return
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:  # a test's loop ended
            self.task = loop.create_task(self._watch())

    def unregister(self, socket: Any) -> None:
        """The watch stops with the last socket (the next one starts it again): no task is left behind on a loop
        that ends, as an in-process test's does."""
        self.sockets.discard(socket)
        if not self.sockets and self.task is not None and not self.task.done():
            self.task.cancel()
            self.task, self.run_id = None, None  # a restart while nobody listened closes nobody's socket

    async def _watch(self) -> None:
        import redis

        # A blocking client asked on a thread: a cancelled look (a test's loop torn down, a stop) ends at once,
        # where redis.asyncio's could wait for ever to close a connection cancelled mid-command.
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=WATCH_TIMEOUT_S,
                                      socket_timeout=WATCH_TIMEOUT_S)
        # A thread of its own: behind the sockets' other blocking calls in the loop's default pool, a look could
        # wait its turn past its timeout while Redis answers in a millisecond.
        thread = aio.thread_pool("redis-watch", 1)
        loop = asyncio.get_running_loop()

        async def info(section: str) -> dict:
            return await loop.run_in_executor(thread, client.info, section)

        try:
            while True:
                await self.look(info, "server")
                await asyncio.sleep(WATCH_INTERVAL_S)
        finally:
            client.close()

    async def look(self, info: Callable[..., Awaitable[dict]], *args: Any) -> None:
        """One look: a failure, or a run_id other than the last, closes the sockets (once per outage)."""
        try:
            run_id = str((await asyncio.wait_for(info(*args), WATCH_TIMEOUT_S * 2))["run_id"])
        except Exception as exc:
            slow = isinstance(exc, TimeoutError)
            self.slow_looks = self.slow_looks + 1 if slow else 0
            if self.up and (not slow or self.slow_looks >= SLOW_LOOKS_BEFORE_LOST):
                self.up = False
                unavailable_record(exc, "watch")
                await self._lost(f"unreachable ({type(exc).__name__})")
            return
        self.slow_looks = 0
        restarted = self.run_id is not None and run_id != self.run_id
        self.run_id = run_id
        if not self.up:
            self.up = True
            logger.warning("redis reachable again")
        elif restarted:
            await self._lost("restarted (its pub/sub subscriptions and keys are gone)")

    async def _lost(self, why: str) -> None:
        sockets = list(self.sockets)
        logger.warning("redis %s: closing %d customer sockets; their widgets reconnect", why, len(sockets))
        for socket in sockets:
            try:
                await socket.lost()
            except Exception:  # one socket already gone is no reason to keep the others open
                logger.exception("closing a socket after losing redis")


watch = RedisWatch()
