"""The process's stream loop (helpdesk.runtime.aio.run_shared) and the stop flags read for every stream at once
(helpdesk.runtime.flags), against the configured cache (Redis in the production pass)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from helpdesk.runtime import aio
from helpdesk.runtime.flags import FlagWatch

request_label: contextvars.ContextVar[str] = contextvars.ContextVar("request_label", default="")


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


@pytest.mark.django_db
def test_a_flag_raised_elsewhere_is_seen_by_its_stream_only_and_read_once_per_interval_for_all() -> None:
    keys = [f"test-stop-flag:{n}" for n in range(50)]
    cache.delete_many(keys)
    reads: list[int] = []

    class CountingWatch(FlagWatch):
        async def _poll(self) -> None:
            original = cache.get_many

            def counted(wanted: list[str]) -> dict:
                reads.append(len(wanted))
                return original(wanted)

            cache.get_many = counted  # type: ignore[method-assign]
            try:
                await super()._poll()
            finally:
                del cache.get_many

    async def streams() -> tuple[set[str], set[str]]:
        watch = CountingWatch(0.02)
        for key in keys:
            watch.watch(key)
        await asyncio.sleep(0.1)
        before = {key for key in keys if watch.is_raised(key)}
        await asyncio.to_thread(cache.set, keys[7], True)  # another process's stop
        await asyncio.sleep(0.1)
        after = {key for key in keys if watch.is_raised(key)}
        for key in keys:
            watch.unwatch(key)
        return before, after

    try:
        before, after = aio.run_shared(streams())
    finally:
        cache.delete_many(keys)
    assert before == set() and after == {keys[7]}
    # 50 streams for 0.2 s at a 20 ms interval: about ten reads of all 50 keys, not one read per stream.
    assert set(reads) == {50} and len(reads) <= 20
