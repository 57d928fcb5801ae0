"""Which agents have a console open: written by the presence service, read by the selectors.

A module of its own so that the selectors, which count the agents online,
import no services. Each change is one atomic operation, so two consoles
pinging at once both count (a cache dict read, changed and written back lost
one of them). In production the agents are members of a Redis sorted set
scored by when their console was last seen (by Redis's clock, which no step of
a web host's clock moves), as helpdesk/llm/nodes.py counts the requests in
flight; embedded mode keeps the same picture in its one process (by its
monotonic clock).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings

from helpdesk.runtime.clock import redis_clock

PRESENCE_KEY = "helpdesk:console:presence"
# A console pings every 30 s; one silent for this long has gone without saying so.
PRESENCE_TTL_S = 90


class _LocalPresence:
    """Embedded mode: one process, so a dict under a lock is the whole truth."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[int, float] = {}

    def touch(self, agent_id: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._seen = {key: at for key, at in self._seen.items() if now - at < PRESENCE_TTL_S}
            self._seen[agent_id] = now

    def drop(self, agent_id: int) -> None:
        with self._lock:
            self._seen.pop(agent_id, None)

    def count(self) -> int:
        return len(self.online())

    def online(self) -> set[int]:
        now = time.monotonic()
        with self._lock:
            return {agent_id for agent_id, at in self._seen.items() if now - at < PRESENCE_TTL_S}


class _RedisPresence:
    def _redis(self) -> Any:
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    def touch(self, agent_id: int) -> None:
        redis = self._redis()
        now = redis_clock(redis)
        pipe = redis.pipeline(transaction=False)
        pipe.zadd(PRESENCE_KEY, {str(agent_id): now})
        pipe.zremrangebyscore(PRESENCE_KEY, "-inf", now - PRESENCE_TTL_S)
        pipe.expire(PRESENCE_KEY, PRESENCE_TTL_S * 10)
        pipe.execute()

    def drop(self, agent_id: int) -> None:
        self._redis().zrem(PRESENCE_KEY, str(agent_id))

    def count(self) -> int:
        redis = self._redis()
        # Strictly newer than the window's start, as the embedded count: `(` excludes the bound.
        return int(redis.zcount(PRESENCE_KEY, f"({redis_clock(redis) - PRESENCE_TTL_S}", "+inf"))

    def online(self) -> set[int]:
        redis = self._redis()
        members = redis.zrangebyscore(PRESENCE_KEY, f"({redis_clock(redis) - PRESENCE_TTL_S}", "+inf")
        return {int(member) for member in members}


_local_presence = _LocalPresence()


def _presence() -> _LocalPresence | _RedisPresence:
    return _local_presence if settings.EMBEDDED else _RedisPresence()


def presence_touch(agent_id: int) -> None:
    """The agent's console is connected now (on connect and on every ping)."""
    _presence().touch(agent_id)


def presence_drop(agent_id: int) -> None:
    """The agent's console closed."""
    _presence().drop(agent_id)


def presence_count() -> int:
    """Agents whose console was seen within the last PRESENCE_TTL_S."""
    return _presence().count()


def presence_online_ids() -> set[int]:
    """The ids of the agents whose console was seen within the last PRESENCE_TTL_S (automatic assignment gives
    conversations only to them)."""
    return _presence().online()


# --- customers: which conversations have a chat window open ---------------------------------------------------
# A customer's socket sends nothing unless they write, and Daphne closes any socket after WEBSOCKET_TIMEOUT: an
# entry older than that (its process died without saying goodbye) no longer counts.


def _customer_key(conversation_id: int) -> str:
    return f"helpdesk:customer:sockets:{conversation_id}"


def _customer_ttl_s() -> float:
    return max(settings.WEBSOCKET_TIMEOUT, 60) + 60


_local_customers: dict[int, dict[str, float]] = {}
_local_customers_lock = threading.Lock()


def customer_socket_opened(conversation_id: int, socket_id: str) -> None:
    if settings.EMBEDDED:
        with _local_customers_lock:
            _local_customers.setdefault(conversation_id, {})[socket_id] = time.monotonic()
        return
    redis = _RedisPresence()._redis()
    now = redis_clock(redis)
    key = _customer_key(conversation_id)
    pipe = redis.pipeline(transaction=False)
    pipe.zadd(key, {socket_id: now})
    pipe.zremrangebyscore(key, "-inf", now - _customer_ttl_s())
    pipe.expire(key, int(_customer_ttl_s()))
    pipe.execute()


def customer_socket_closed(conversation_id: int, socket_id: str) -> None:
    if settings.EMBEDDED:
        with _local_customers_lock:
            sockets = _local_customers.get(conversation_id, {})
            sockets.pop(socket_id, None)
            if not sockets:
                _local_customers.pop(conversation_id, None)
        return
    _RedisPresence()._redis().zrem(_customer_key(conversation_id), socket_id)


def customer_sockets_count(conversation_id: int) -> int:
    """Chat windows the customer has open on the conversation now."""
    if settings.EMBEDDED:
        now = time.monotonic()
        with _local_customers_lock:
            sockets = _local_customers.get(conversation_id, {})
            return sum(1 for at in sockets.values() if now - at < _customer_ttl_s())
    redis = _RedisPresence()._redis()
    return int(redis.zcount(_customer_key(conversation_id), f"({redis_clock(redis) - _customer_ttl_s()}", "+inf"))
