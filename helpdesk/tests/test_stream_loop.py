"""The process's stream loop (helpdesk.runtime.aio.run_shared) and the stop flags read for every stream at once
(helpdesk.runtime.flags), against the configured cache (Redis in the production pass)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from django.core.cache import cache

from helpdesk.runtime import aio
from helpdesk.runtime.flags import LISTENER_NAME, FlagWatch, announced, flags_announce

request_label: contextvars.ContextVar[str] = contextvars.ContextVar("request_label", default="")
T = TypeVar("T")


def test_callers_on_many_threads_share_one_loop_and_keep_their_context() -> None:
    async def where() -> tuple[int, str]:
        await asyncio.sleep(0.05)  # all of them waiting at once on the one loop
        return threading.get_ident(), request_label.get()

    def call(label: str) -> tuple[int, str]:
        request_label.set(label)
        return aio.run_shared(where())

    with ThreadPoolExecutor(max_workers=20) as threads:
        results = list(threads.map(call, [f"reply-{n}" for n in range(20)]))
    assert len({ident for ident, _ in results}) == 1, "one loop thread for every caller"
    assert results[0][0] not in {t.ident for t in threading.enumerate() if t.name.startswith("ThreadPool")}
    assert [label for _, label in results] == [f"reply-{n}" for n in range(20)], "each caller's own context"


def test_a_failure_reaches_its_caller_only() -> None:
    async def fails() -> None:
        raise LookupError("this stream's own failure")

    async def works() -> str:
        await asyncio.sleep(0.01)
        return "fine"

    with pytest.raises(LookupError, match="own failure"):
        aio.run_shared(fails())
    assert aio.run_shared(works()) == "fine", "the loop goes on serving after a stream's failure"


def test_run_shared_refuses_to_be_called_from_the_stream_loop() -> None:
    async def nested() -> None:
        aio.run_shared(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="from the stream loop"):
        aio.run_shared(nested())


def _counting_reads(watch: FlagWatch) -> list[int]:
    """The number of keys of each read the watch makes."""
    reads: list[int] = []
    original = watch._read

    def counted() -> None:
        reads.append(len(watch.watched))
        original()

    watch._read = counted  # type: ignore[method-assign]
    return reads


def _on_a_watch(body: Callable[[FlagWatch], Awaitable[T]], keys: list[str]) -> T:
    """`body` run on the stream loop with a watch of its own (a 20 ms interval, its recheck out of reach), closed
    after it; `keys` cleared in the cache before and after."""
    cache.delete_many(keys)

    async def watched() -> T:
        watch = FlagWatch(0.02, recheck_s=30)
        try:
            return await body(watch)
        finally:
            await watch.close()

    try:
        return aio.run_shared(watched())
    finally:
        cache.delete_many(keys)


@pytest.mark.django_db
def test_a_flag_raised_elsewhere_is_seen_by_its_stream_only_and_read_once_for_all_the_loops_streams() -> None:
    keys = [f"test-stop-flag:{n}" for n in range(50)]

    async def streams(watch: FlagWatch) -> tuple[set[str], set[str], list[int]]:
        reads = _counting_reads(watch)
        for key in keys:
            watch.watch(key)
        await asyncio.sleep(0.1)
        before = {key for key in keys if watch.is_raised(key)}
        await asyncio.to_thread(cache.set, keys[7], True)  # another process's stop
        await asyncio.to_thread(flags_announce)
        await asyncio.sleep(0.1)
        after = {key for key in keys if watch.is_raised(key)}
        for key in keys:
            watch.unwatch(key)
        return before, after, reads

    before, after, reads = _on_a_watch(streams, keys)
    assert before == set() and after == {keys[7]}
    # 50 streams for 0.2 s: each read is of all 50 keys, never one per stream; polled (no Redis) about ten reads
    # at a 20 ms interval, announced a handful (the watches' first, the subscription's, the announcement's).
    assert set(reads) == {50} and len(reads) <= (4 if announced() else 20)


needs_redis = pytest.mark.skipif(not announced(), reason="flags are announced through Redis (production mode)")


@needs_redis
@pytest.mark.django_db
def test_a_quiet_stream_reads_its_flag_at_its_start_and_at_the_recheck_only_and_an_announcement_at_once() -> None:
    key = "test-stop-flag:quiet"

    async def stream(watch: FlagWatch) -> tuple[list[int], bool, bool]:
        reads = _counting_reads(watch)
        watch.watch(key)
        await asyncio.sleep(0.5)  # 25 intervals of streaming
        quiet = list(reads)
        await asyncio.to_thread(cache.set, key, True)  # raised and not announced: left to the recheck
        await asyncio.sleep(0.2)
        unannounced = watch.is_raised(key)
        await asyncio.to_thread(flags_announce)
        await asyncio.sleep(0.2)
        return quiet, unannounced, watch.is_raised(key)

    quiet, unannounced, announced_ = _on_a_watch(stream, [key])
    assert len(quiet) <= 2, f"read {len(quiet)} times in 0.5 s with nothing announced (the start, the subscription)"
    assert not unannounced, "a flag nobody announced waits for the recheck"
    assert announced_, "an announced flag is read at once"


@needs_redis
@pytest.mark.django_db
def test_a_flag_raised_before_its_stream_watches_is_seen_at_once() -> None:
    key, other = "test-stop-flag:early", "test-stop-flag:streaming"

    async def stream(watch: FlagWatch) -> bool:
        watch.watch(other)  # another stream of the loop: the watch is subscribed and quiet
        await asyncio.sleep(0.2)
        # This stop came between the reply's claim and its stream's start: announced while nobody watched it.
        await asyncio.to_thread(cache.set, key, True)
        await asyncio.to_thread(flags_announce)
        await asyncio.sleep(0.1)
        watch.watch(key)
        await asyncio.sleep(0.1)
        return watch.is_raised(key)

    assert _on_a_watch(stream, [key, other])


@needs_redis
@pytest.mark.django_db
def test_while_the_announcements_are_not_heard_the_flags_are_read_every_interval() -> None:
    from django_redis import get_redis_connection

    key = "test-stop-flag:deaf"
    redis = get_redis_connection("default")

    def listeners_killed() -> int:
        ours = [client for client in redis.client_list() if client.get("name") == LISTENER_NAME]
        for client in ours:
            redis.client_kill_filter(_id=client["id"])
        return len(ours)

    async def stream(watch: FlagWatch) -> tuple[int, bool]:
        watch.watch(key)
        await asyncio.sleep(0.2)
        killed = await asyncio.to_thread(listeners_killed)
        await asyncio.sleep(0.1)
        await asyncio.to_thread(cache.set, key, True)  # not announced, and nobody would hear it
        await asyncio.sleep(0.2)
        return killed, watch.is_raised(key)

    killed, seen = _on_a_watch(stream, [key])
    assert killed >= 1, "the watch subscribed under its name"
    assert seen, "with the subscription broken, the flag is read within an interval, not at the recheck"
