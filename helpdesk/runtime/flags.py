"""Flags in the shared cache watched for many streams at once, read when one is announced.

A stream must notice a flag another process raises (a customer's stop) within one delta interval. Read per
stream, that is one Redis round trip per stream per interval, a hundred a second per ten streams, and each a
blocking read on the loop every stream of the process shares. Watched here, the loop reads every flag it is
asked about with one `get_many`, whatever the number of streams, and each stream checks a set.

When is that read? Polled every interval, a quiet site's one stream paid twenty reads a second for a stop that
almost never comes (a fifth of the worker's processor time per reply). With Redis, whoever raises a flag also
announces it on a pub/sub channel (`flags_announce`); each loop holds one subscription and reads its flags as the
announcement arrives, which is sooner than the next interval, and otherwise only when a stream starts to watch
(a flag raised before it began) and every STOP_FLAGS_RECHECK_S (an announcement lost while the subscription was
broken: pub/sub delivers at most once). While the subscription is down, the flags are read every interval as
before. Without Redis (embedded mode: the cache is the process's memory) there is nobody to announce to, and the
read is a dictionary look-up: every interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import Counter

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_REDIS_CACHE = "django_redis.cache.RedisCache"
# The subscription's name on the Redis server (CLIENT LIST): whose connection it is.
LISTENER_NAME = "helpdesk-stop-flags"


def announced() -> bool:
    """Whether raised flags are announced: the cache is the Redis that REDIS_URL names."""
    return bool(settings.REDIS_URL) and settings.CACHES["default"]["BACKEND"] == _REDIS_CACHE


def announcement_channel() -> str:
    """The channel flags are announced on. Pub/sub channels are the server's, not a database's: the cache's key
    prefix and the database number keep two deployments (or two test runs) sharing a server apart."""
    from redis.connection import parse_url

    database = parse_url(settings.REDIS_URL).get("db", 0)
    return f"{cache.make_key('flags-raised')}@{database}"


def flags_announce() -> None:
    """Tell every watching loop that a flag was just raised, so it reads its flags now. Never raises: an
    announcement lost to an outage is found by the next recheck (STOP_FLAGS_RECHECK_S)."""
    if not announced():
        return
    from django_redis import get_redis_connection

    try:
        get_redis_connection("default").publish(announcement_channel(), "raised")
    except Exception:
        logger.warning("could not announce a raised flag: the watches read it within STOP_FLAGS_RECHECK_S",
                       exc_info=True)


class FlagWatch:
    """The cache keys some stream on this loop waits on, and those found set at the last read.

    Made and used on one event loop. Its reader runs for the loop's life once a key is watched (sleeping,
    reading nothing, while no key is); `close` ends it."""

    def __init__(self, interval_s: float, *, recheck_s: float | None = None, announced_: bool | None = None) -> None:
        self.interval_s = interval_s
        self.recheck_s = settings.STOP_FLAGS_RECHECK_S if recheck_s is None else recheck_s
        self.announced = announced() if announced_ is None else announced_
        self.subscribed = False  # the announcements are being heard: reads wait for one, or for the recheck
        self.watched: Counter[str] = Counter()
        self.raised: set[str] = set()
        self._wake = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self._listener: asyncio.Task | None = None

    def watch(self, key: str) -> None:
        """Start watching `key` (counted: two streams may watch the same key); read at once, on the loop's next
        turn (one read for every key watched in the same turn)."""
        self.watched[key] += 1
        self._wake.set()
        if self._reader is None or self._reader.done():
            loop = asyncio.get_running_loop()
            self._reader = loop.create_task(self._read_when_due())
            if self.announced and (self._listener is None or self._listener.done()):
                self._listener = loop.create_task(self._listen())

    def unwatch(self, key: str) -> None:
        self.watched[key] -= 1
        if self.watched[key] <= 0:
            del self.watched[key]
            self.raised.discard(key)

    def is_raised(self, key: str) -> bool:
        return key in self.raised

    async def close(self) -> None:
        """Stop reading and listening (a test's own watch; the process's lives as long as its loop)."""
        for task in (self._reader, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _read(self) -> None:
        keys = list(self.watched)
        try:
            # A blocking read, for the whole loop at once: cheaper than a thread hop.
            found = cache.get_many(keys)
        except Exception:  # an outage: the flags are read again at the next interval, the streams go on
            logger.warning("could not read %d stream flags", len(keys), exc_info=True)
            found = {}
        self.raised = {key for key, value in found.items() if value and key in self.watched}

    async def _read_when_due(self) -> None:
        """Read every watched key when a key is newly watched, when a flag is announced, and otherwise every
        recheck (heard) or every interval (not); nothing while no key is watched."""
        while True:
            if not self.watched:
                self.raised = set()
                await self._wake.wait()
            self._wake.clear()
            if self.watched:
                self._read()
            interval = max(self.interval_s, 0.005)  # never a loop of reads
            wait = max(self.recheck_s, interval) if self.subscribed else interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _listen(self) -> None:
        """Hold the loop's subscription to the announcements, made again after an outage (meanwhile the flags are
        read every interval)."""
        from redis.asyncio import Redis

        channel = announcement_channel()
        while True:
            client = Redis.from_url(settings.REDIS_URL, client_name=LISTENER_NAME)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(channel)
                    self.subscribed = True
                    self._wake.set()  # what was raised before the subscription is read now
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("the stop flags' announcements are not heard: reading them every %.0f ms meanwhile",
                               self.interval_s * 1000, exc_info=True)
            finally:
                self.subscribed = False
                self._wake.set()  # the reader, waiting for the recheck, reads every interval from now on
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(max(self.recheck_s, self.interval_s))


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FlagWatch] = weakref.WeakKeyDictionary()


def flag_watch(interval_s: float) -> FlagWatch:
    """The running loop's watch (made with `interval_s` on first use)."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = FlagWatch(interval_s)
    return watch
