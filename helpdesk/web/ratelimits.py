"""Abuse limits: per client IP and per conversation, shared by every socket and every process.

Counting is the `limits` library's moving window, stored in Redis (REDIS_URL) in
production, so twelve sockets on one conversation, or two Daphne processes, draw
on one budget; in embedded mode (one process) it is kept in memory. Each limit
is a setting holding a `limits` rate string ("10/minute"); RATE_LIMITS_ENABLED
turns them all off for benchmarks and load tests, which come from one address.

Open sockets per conversation are not a rate but a count: a Redis sorted set
of the sockets open now, each scored by when it opened, so a socket whose
process died without saying goodbye stops counting after WEBSOCKET_TIMEOUT
(Daphne closes every socket by then anyway).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from functools import lru_cache
from typing import Any

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

KEY_PREFIX = "helpdesk-limits"
# How often one process repeats its warning that the limits' store cannot be reached.
STORE_DOWN_WARNING_INTERVAL_S = 60.0

logger = logging.getLogger(__name__)
_store_down_warned_at = 0.0

_lock = threading.Lock()
_limiter: MovingWindowRateLimiter | None = None
_storage: Storage | None = None
_memory_sockets: dict[str, dict[str, float]] = {}


class RateLimited(Exception):
    """A limit is spent: `what` names it (for the client and the logs), `retry_after` is whole seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"{what}: retry after {retry_after} s")
        self.what = what
        self.retry_after = retry_after


def enabled() -> bool:
    return bool(settings.RATE_LIMITS_ENABLED)


def storage() -> Storage:
    """One storage per process: Redis when configured (shared), memory otherwise."""
    global _storage, _limiter
    with _lock:
        if _storage is None:
            if settings.REDIS_URL:
                _storage = storage_from_string(settings.REDIS_URL, key_prefix=KEY_PREFIX)
            else:
                _storage = MemoryStorage()
            _limiter = MovingWindowRateLimiter(_storage)
        return _storage


def limiter() -> MovingWindowRateLimiter:
    storage()
    assert _limiter is not None
    return _limiter


@lru_cache(maxsize=64)
def rate(text: str) -> RateLimitItem:
    """A rate setting ("10/minute"), parsed once."""
    return parse(text)


def per_window(count: int, seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(max(count, 0), max(seconds, 1))


def times(item: RateLimitItem, factor: int) -> RateLimitItem:
    """The same window, `factor` times the amount."""
    return type(item)(item.amount * factor, item.multiples)


def _retry_after(item: RateLimitItem, *identifiers: str) -> int:
    stats = limiter().get_window_stats(item, *identifiers)
    return max(1, math.ceil(stats.reset_time - time.time()))


def _store_unreachable(exc: Exception) -> None:
    """The limits fail open: while Redis is down a customer's message must still be stored (and handed to a
    person by the sweeper if it cannot be answered); refusing everyone would turn an outage into lost messages.
    Abuse during an outage is bounded by the outage itself, and the warning says that limits are off."""
    global _store_down_warned_at
    now = time.monotonic()
    if now - _store_down_warned_at >= STORE_DOWN_WARNING_INTERVAL_S:
        _store_down_warned_at = now
        logger.warning("rate limits are not applied: their store cannot be reached (%s: %s)", type(exc).__name__, exc)


def _store_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import RedisError

    return RedisError, OSError


def hit(item: RateLimitItem, *identifiers: str, what: str) -> None:
    """Count one event against `item` for `identifiers`; raises RateLimited when it is over the limit.

    A refused event is not counted, so a client that stops when told may go on when the window
    has moved on, while one that keeps trying keeps the window full only with what it got through.
    """
    _check(count=True, item=item, identifiers=identifiers, what=what)


def test(item: RateLimitItem, *identifiers: str, what: str) -> None:
    """Like hit(), but counts nothing: raises RateLimited when the next event would be refused."""
    _check(count=False, item=item, identifiers=identifiers, what=what)


def _check(*, count: bool, item: RateLimitItem, identifiers: tuple[str, ...], what: str) -> None:
    if not enabled():
        return
    try:
        allowed = (limiter().hit if count else limiter().test)(item, what, *identifiers)
        retry_after = 0 if allowed else _retry_after(item, what, *identifiers)
    except _store_errors() as exc:
        _store_unreachable(exc)
        return
    if not allowed:
        raise RateLimited(what, retry_after)


# --- the limits the helpdesk applies -------------------------------------------------------------


def conversation_create_check(*, client_ip: str) -> None:
    hit(rate(settings.RATE_LIMIT_CONVERSATIONS_PER_IP), client_ip, what="conversations_per_ip")


def frame_check(*, conversation_id: int, client_ip: str) -> tuple[RateLimited | None, bool]:
    """Every customer frame: (refusal or None, whether the flood is bad enough to close the socket).

    The frame limit per conversation is CHAT_RATE_LIMIT per CHAT_RATE_WINDOW_S for all its sockets;
    a socket that goes on sending at three times that is closed. Both limits are counted on every
    frame, so the hard one keeps counting while the soft one refuses.
    """
    if not enabled():
        return None, False
    per_conversation = per_window(settings.CHAT_RATE_LIMIT, settings.CHAT_RATE_WINDOW_S)
    per_ip = rate(settings.RATE_LIMIT_FRAMES_PER_IP)
    checks = [
        (times(per_conversation, 3), ("frames_hard", str(conversation_id)), True),
        (times(per_ip, 3), ("frames_hard_ip", client_ip), True),
        (per_conversation, ("frames_per_conversation", str(conversation_id)), False),
        (per_ip, ("frames_per_ip", client_ip), False),
    ]
    try:
        allowed = _hit_together([(item, identifiers) for item, identifiers, _ in checks])
        refusals = [(RateLimited(identifiers[0], _retry_after(item, *identifiers)), hard)
                    for (item, identifiers, hard), ok in zip(checks, allowed, strict=True) if not ok]
    except _store_errors() as exc:
        _store_unreachable(exc)
        return None, False
    refused = refusals[0][0] if refusals else None
    return refused, any(hard for _, hard in refusals)


def _hit_together(checks: list[tuple[RateLimitItem, tuple[str, ...]]]) -> list[bool]:
    """Count one event against each (item, identifiers) as hit() does, and say which were allowed: on Redis in one
    round trip (a pipeline of the `limits` library's own moving-window script), not one per limit.

    A frame is counted against four limits; four round trips from a thread were most of a frame's cost in the
    web process. Should Redis not know the script (it restarted and lost its script cache), the limits are counted
    one by one, which loads it again.
    """
    store = storage()
    script = getattr(store, "lua_acquire_moving_window", None)
    if script is None:  # memory (embedded mode): nothing to save
        return [limiter().hit(item, *identifiers) for item, identifiers in checks]
    from redis.exceptions import NoScriptError

    now = time.time()
    with store.get_connection().pipeline(transaction=False) as pipe:
        for item, identifiers in checks:
            pipe.execute_command("EVALSHA", script.sha, 1, store.prefixed_key(item.key_for(*identifiers)),
                                 now, item.amount, item.get_expiry(), 1)
        results = pipe.execute(raise_on_error=False)
    if any(isinstance(result, NoScriptError) for result in results):
        return [limiter().hit(item, *identifiers) for item, identifiers in checks]
    for result in results:
        if isinstance(result, Exception):
            raise result
    return [bool(result) for result in results]


# Counts one event against every moving window in KEYS, or against none: the index (1-based) of the first window
# that is full, or 0 once all are counted. Each window as the `limits` library's own moving-window script keeps
# it (a list of timestamps, newest first, trimmed to the limit), so `test`, `get_window_stats` and `reset` read it.
# ARGV: the timestamp, then each key's limit and expiry (seconds).
_ACQUIRE_ALL_OR_NONE = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i])
    local expiry = tonumber(ARGV[2 * i + 1])
    if limit < 1 then
        return i
    end
    local entry = redis.call('lindex', key, limit - 1)
    if entry and tonumber(entry) >= now - expiry then
        return i
    end
end
for i, key in ipairs(KEYS) do
    redis.call('lpush', key, now)
    redis.call('ltrim', key, 0, tonumber(ARGV[2 * i]) - 1)
    redis.call('expire', key, tonumber(ARGV[2 * i + 1]))
end
return 0
"""


def _hit_all_or_none(checks: list[tuple[RateLimitItem, str, str]]) -> None:
    """Count one event against each (item, what, identifier), or, when one of them is full, against none and raise
    RateLimited for the first full one in order: a refused event is not counted anywhere. On Redis one round trip
    (a script, atomic), instead of a test and a hit per limit."""
    if not enabled():
        return
    try:
        store = storage()
        if not hasattr(store, "get_connection"):  # memory (embedded mode): one process, test then hit
            refused = next((i for i, (item, what, key) in enumerate(checks) if not limiter().test(item, what, key)),
                           None)
            if refused is None:
                for item, what, key in checks:
                    limiter().hit(item, what, key)
        else:
            connection = store.get_connection()
            args: list[float] = [time.time()]
            for item, _, _ in checks:
                args += [item.amount, item.get_expiry()]
            keys = [store.prefixed_key(item.key_for(what, key)) for item, what, key in checks]
            # redis-py's Script: EVALSHA, and the script loaded again should Redis have lost it (a restart).
            full = int(connection.register_script(_ACQUIRE_ALL_OR_NONE)(keys=keys, args=args))
            refused = full - 1 if full else None
        if refused is None:
            return
        item, what, key = checks[refused]
        retry_after = _retry_after(item, what, key)
    except _store_errors() as exc:
        _store_unreachable(exc)
        return
    raise RateLimited(what, retry_after)


def message_check(*, conversation_id: int, client_ip: str) -> None:
    """A customer message about to be stored: counted against its address's and its conversation's limits, or,
    past one of them, against neither (the address's named first when both are full)."""
    _hit_all_or_none([(rate(settings.RATE_LIMIT_MESSAGES_PER_IP), "messages_per_ip", client_ip),
                      (rate(settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION), "messages_per_conversation",
                       str(conversation_id))])


def model_call_check(*, conversation_id: int, client_ip: str) -> None:
    """A reply from the model about to be queued: counted like a message, against its address's and its
    conversation's model-call limits or neither."""
    _hit_all_or_none([(rate(settings.RATE_LIMIT_MODEL_CALLS_PER_IP), "model_calls_per_ip", client_ip),
                      (rate(settings.RATE_LIMIT_MODEL_CALLS_PER_CONVERSATION), "model_calls_per_conversation",
                       str(conversation_id))])


def agent_frame_check(*, agent_id: int) -> None:
    """Every frame of an agent's consoles (a stolen session or a runaway script is still limited)."""
    hit(rate(settings.RATE_LIMIT_AGENT_FRAMES), str(agent_id), what="agent_frames")


def transcript_check(*, client_ip: str) -> None:
    """A customer's download of their conversation (a token tried, right or wrong)."""
    hit(rate(settings.RATE_LIMIT_TRANSCRIPTS_PER_IP), client_ip, what="transcripts_per_ip")


def draft_check(*, agent_id: int) -> None:
    """A draft reply (a model call) an agent asks for."""
    hit(rate(settings.RATE_LIMIT_DRAFTS_PER_AGENT), str(agent_id), what="drafts_per_agent")


def conversation_limits_clear(*, conversation_id: int) -> None:
    """Forget a conversation's counts and open sockets (its erasure: the keys name the conversation)."""
    per_conversation = per_window(settings.CHAT_RATE_LIMIT, settings.CHAT_RATE_WINDOW_S)
    buckets = [
        (times(per_conversation, 3), "frames_hard"),
        (per_conversation, "frames_per_conversation"),
        (rate(settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION), "messages_per_conversation"),
        (rate(settings.RATE_LIMIT_MODEL_CALLS_PER_CONVERSATION), "model_calls_per_conversation"),
    ]
    try:
        for item, what in buckets:
            limiter().clear(item, what, str(conversation_id))
        if settings.REDIS_URL:
            _redis().delete(_sockets_key(conversation_id))
    except _store_errors() as exc:  # they expire with their windows
        _store_unreachable(exc)
    with _lock:
        _memory_sockets.pop(_sockets_key(conversation_id), None)


# --- open sockets per conversation --------------------------------------------------------------


def _sockets_key(conversation_id: int) -> str:
    return f"{KEY_PREFIX}:sockets:{conversation_id}"


def socket_admit(*, conversation_id: int, socket_id: str) -> bool:
    """Count a socket opening on the conversation; False (and not counted) when CHAT_MAX_SOCKETS_PER_CONVERSATION
    are open already."""
    if not enabled():
        return True
    now = time.time()
    stale = now - max(settings.WEBSOCKET_TIMEOUT, 60) - 60
    limit = settings.CHAT_MAX_SOCKETS_PER_CONVERSATION
    key = _sockets_key(conversation_id)
    if not settings.REDIS_URL:
        with _lock:
            sockets = _memory_sockets.setdefault(key, {})
            for other, opened in list(sockets.items()):
                if opened < stale:
                    del sockets[other]
            if len(sockets) >= limit:
                return False
            sockets[socket_id] = now
            return True
    try:
        redis = _redis()
        with redis.pipeline() as pipe:
            pipe.zremrangebyscore(key, "-inf", stale)
            pipe.zadd(key, {socket_id: now})
            pipe.zcard(key)
            pipe.expire(key, max(settings.WEBSOCKET_TIMEOUT, 60) + 120)
            _, _, count, _ = pipe.execute()
        if count > limit:
            redis.zrem(key, socket_id)
            return False
    except _store_errors() as exc:
        _store_unreachable(exc)
    return True


def socket_release(*, conversation_id: int, socket_id: str) -> None:
    key = _sockets_key(conversation_id)
    if not settings.REDIS_URL:
        with _lock:
            _memory_sockets.get(key, {}).pop(socket_id, None)
        return
    try:
        _redis().zrem(key, socket_id)
    except _store_errors() as exc:  # the entry expires with the key
        _store_unreachable(exc)


def _redis() -> Any:  # django_redis's client
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def reset() -> None:
    """Forget every count (tests; an operator lifting a block at once)."""
    storage().reset()
    with _lock:
        _memory_sockets.clear()
    if settings.REDIS_URL:
        redis = _redis()
        for key in redis.scan_iter(match=f"{KEY_PREFIX}:sockets:*"):
            redis.delete(key)
