"""Flags in the shared cache watched for many streams at once: one read per interval for the whole loop.

A stream must notice a flag another process raises (a customer's stop) within one delta interval. Read per
stream, that is one Redis round trip per stream per interval, a hundred a second per ten streams, and each a
blocking read on the loop every stream of the process shares. Watched here, the loop reads every flag it is
asked about with one `get_many` per interval, whatever the number of streams, and each stream checks a set.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter

from django.core.cache import cache

logger = logging.getLogger(__name__)


class FlagWatch:
    """The cache keys some stream on this loop waits on, and those found set at the last read."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.watched: Counter[str] = Counter()
        self.raised: set[str] = set()
        self._poller: asyncio.Task | None = None

    def watch(self, key: str) -> None:
        """Start watching `key` (counted: two streams may watch the same key); read from the next interval on."""
        self.watched[key] += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    def unwatch(self, key: str) -> None:
        self.watched[key] -= 1
        if self.watched[key] <= 0:
            del self.watched[key]
            self.raised.discard(key)

    def is_raised(self, key: str) -> bool:
        return key in self.raised

    async def _poll(self) -> None:
        """Read every watched key once per interval; ends when nothing is watched (the next watch restarts it)."""
        while self.watched:
            keys = list(self.watched)
            try:
                # A blocking read, once per interval for the whole loop: cheaper than a thread hop.
                found = cache.get_many(keys)
            except Exception:  # an outage: the flags are read again next interval, the streams go on
                logger.warning("could not read %d stream flags", len(keys), exc_info=True)
                found = {}
            self.raised = {key for key, value in found.items() if value and key in self.watched}
            await asyncio.sleep(self.interval_s)


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FlagWatch] = weakref.WeakKeyDictionary()


def flag_watch(interval_s: float) -> FlagWatch:
    """The running loop's watch (made with `interval_s` on first use)."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = FlagWatch(interval_s)
    return watch
