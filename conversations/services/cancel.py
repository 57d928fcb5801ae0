"""Stopping replies being generated: a flag per reply in the shared cache, checked by the generating loop.

Below the handoff and the reply lifecycle, which both stop replies: a
conversation leaving the bot cancels its replies, a reply starting over or
finishing clears its flag.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache

from helpdesk.runtime.cachekeys import cache_keys_forget
from helpdesk.web.redisdown import RedisUnavailable

from ..models import Conversation
from ..selectors.replies import streaming_replies

CANCEL_FLAG_TTL_S = 900


def cancel_flag_key(message_id: int) -> str:
    return f"reply-cancel:{message_id}"


def replies_cancel(*, conversation: Conversation) -> list[int]:
    """Ask every reply being generated in this conversation to stop after its current chunk.

    Raises RedisUnavailable when the flags could not be set (the cache ignores a Redis outage): the customer
    is told "busy" rather than left believing the reply was stopped."""
    streaming = streaming_replies(conversation=conversation)
    flags = {cancel_flag_key(message_id): True for message_id in streaming}
    if flags:
        cache.set_many(flags, CANCEL_FLAG_TTL_S)
        if len(cache.get_many(list(flags))) < len(flags):
            raise RedisUnavailable("the stop flags could not be set: the cache is unreachable")
    return streaming


def cancel_flag_clear(message_id: int) -> None:
    """A reply starting over, or finished, is no longer asked to stop."""
    cache.delete(cancel_flag_key(message_id))


def cancel_flags_clear(*, message_ids: Iterable[int]) -> int:
    """Clear many replies' flags at once (their conversation's erasure); returns how many were set."""
    return cache_keys_forget(cancel_flag_key(message_id) for message_id in message_ids)
