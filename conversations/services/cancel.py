"""Stopping replies being generated: a flag per reply in the shared cache, checked by the generating loop.

Below the handoff and the reply lifecycle, which both stop replies: a
conversation leaving the bot cancels its replies, a reply starting over or
finishing clears its flag.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.runtime.cachekeys import cache_keys_forget
from helpdesk.runtime.flags import flags_announce
from helpdesk.web.redisdown import RedisUnavailable

from ..models import Conversation, Message
from ..reply_progress import progress_key
from ..selectors.replies import customer_message_awaiting_reply, streaming_replies
from .posting import message_publish

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
        flags_announce()  # the streams read their flags now, not at their next recheck
    return streaming


def reply_stop(*, conversation: Conversation) -> list[int]:
    """The customer's Stop: the replies streaming stop after their current chunk, and a reply still waiting for a
    worker (a backed-up queue) is closed now, cancelled and empty; the worker that takes its task later finds it
    answered and generates nothing. Without this a stop pressed while the assistant was "thinking" did nothing and
    the reply came anyway. Returns the replies stopped."""
    queued = _queued_reply_cancel(conversation)
    # After the claim: a worker that claimed the reply first is streaming it now, and is stopped by its flag.
    return replies_cancel(conversation=conversation) + ([queued.pk] if queued else [])


def _queued_reply_cancel(conversation: Conversation) -> Message | None:
    question = customer_message_awaiting_reply(conversation=conversation)
    if question is None:
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            reply = Message.objects.create(conversation=conversation, role=Message.Role.BOT, reply_to=question,
                                           status=Message.Status.CANCELLED, completed_at=now)
            Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
            message_publish(reply)  # its `done`: the widget stops showing the assistant thinking
    except IntegrityError:
        return None  # a worker claimed it meanwhile
    return reply


def reply_state_clear(message_id: int) -> None:
    """A reply starting over, or finished, is no longer asked to stop, and what it sent so far is dropped (a new
    attempt starts from nothing; a finished reply is read from the database, and its text leaves Redis)."""
    cache.delete_many([cancel_flag_key(message_id), progress_key(message_id)])


def cancel_flags_clear(*, message_ids: Iterable[int]) -> int:
    """Clear many replies' flags at once (their conversation's erasure); returns how many were set."""
    return cache_keys_forget(cancel_flag_key(message_id) for message_id in message_ids)
