"""What a streaming reply has sent so far, in the shared cache: written by the generating loop with each delta,
read when a socket (re)connects mid-reply.

The database holds a streaming reply's text too, but saved every REPLY_SAVE_INTERVAL_S: a socket that joined
after a save would miss the deltas sent since, wait for `done` and show the reply frozen until then (after a
Daphne restart, every customer whose reply was streaming). This copy is as new as the last delta, and carries that
delta's seq, so the widget and the console go on from the next one. A module of its own so that the selectors,
which read it, import no services.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache

from helpdesk.runtime.cachekeys import cache_keys_forget

# Refreshed by every delta; a reply silent for this long is shown from the database again (and no seq).
PROGRESS_TTL_S = 120


def progress_key(message_id: int) -> str:
    return f"reply-progress:{message_id}"


def reply_progress_publish(message_id: int, *, seq: int, text: str) -> None:
    """Before the delta `seq` goes out: the text up to and including it. A blocking write (a thread hop per
    delta would cost more than the write). Where the channel layer shares the cache's Redis, the delta's send
    writes it instead, in the same round trip (conversations.events.reply_delta)."""
    cache.set(*reply_progress_entry(message_id, seq=seq, text=text))


def reply_progress_entry(message_id: int, *, seq: int, text: str) -> tuple[str, tuple[int, str], int]:
    """The cache key, value and timeout of a reply's progress, as `reply_progress` reads it."""
    return progress_key(message_id), (seq, text), PROGRESS_TTL_S


def reply_progress(message_id: int) -> tuple[int, str] | None:
    """(seq of the last delta sent, the text sent so far), or None when nothing was sent or it expired."""
    found = cache.get(progress_key(message_id))
    return (int(found[0]), str(found[1])) if found else None


def reply_progress_forget(message_ids: Iterable[int]) -> int:
    """Drop what replies sent so far (a new attempt starts from nothing; an erasure); returns how many were kept."""
    return cache_keys_forget(progress_key(message_id) for message_id in message_ids)
