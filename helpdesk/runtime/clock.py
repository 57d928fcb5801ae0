"""The clock shared state is stamped with when several hosts write and read it.

A host's wall clock may step (NTP, minutes either way); a time written by one process and compared by another
must come from one clock that does not step with theirs: the database's (`django.db.models.functions.Now`) for
rows, Redis's for what lives in Redis. Durations inside one process use time.monotonic().
"""

from __future__ import annotations

from typing import Any


def redis_clock(redis: Any) -> float:
    """Redis's own time (TIME), in Unix seconds, for stamps kept in Redis and compared there."""
    seconds, microseconds = redis.time()
    return seconds + microseconds / 1e6
