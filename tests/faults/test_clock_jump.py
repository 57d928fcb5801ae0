"""The production stack (`manage.py serve`: Daphne, Celery workers, beat) while its hosts' wall clock steps ten
minutes forward and back, as NTP steps a clock, under libfaketime; the monotonic clock and PostgreSQL's clock (on
another host in real life) keep the true time.

- Replies streaming through a step forward and a step back: none is cut short or started over (each completes
  once, in its first attempt, the customer's text whole), and no conversation is handed on as unanswered, the
  one whose message waited for a free slot through the step forward included.
- A reply whose worker died just before a step back: the sweeper still finds it within its heartbeat timeout (not
  ten minutes later) and has it generated again, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama, Reply
from tests.processes import process_table
from tests.support.environment import uses_postgres
from tests.support.faults import FaultStack, RedisServer, wait_for
from tests.support.serve import own_database, serve_env
from tests.support.sockets import frames_until

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")  # Debian's `faketime` package
ANSWER = " ".join(f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(100))  # no digits: nothing to verify
PER_TOKEN = 0.15  # a reply streams for about 15 s
# Heartbeats two seconds apart: a sweep or two sees the last one from before a step.
SAVE_INTERVAL_S = 2
HEARTBEAT_TIMEOUT_S = 6
SLOTS = 3  # generation slots
STEP = "10m"

# libfaketime 0.9.10 fails clock_nanosleep() on the true monotonic clock (EINVAL), which is what time.sleep() calls:
# the stack's Python processes sleep in select() instead. Every other clock call is left as the library fakes it.
SLEEP_SHIM = """
import select, time
time.sleep = lambda seconds: select.select([], [], [], seconds) and None
"""


SETTINGS = {
    "CELERY_GENERATION_CONCURRENCY": str(SLOTS),
    "HANDOFF_THRESHOLD": "0",
    # Small, to see in seconds what takes minutes by default; a step is far longer than any of them.
    "UNANSWERED_TIMEOUT_S": "30",
    "SWEEP_INTERVAL_S": "1",
    "REPLY_SAVE_INTERVAL_S": str(SAVE_INTERVAL_S),
    "REPLY_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S),
    "WORKER_RESTART_MAX_DELAY_S": "2",
}


class Stack(FaultStack):
    clock_file: Path

    def clock(self, offset: str) -> None:
        """Step the stack's wall clock to `offset` from the true time ("+10m", "-10m", "+0"), at once."""
        self.clock_file.write_text(offset + "\n")


@pytest.fixture(scope="module")
def stack(fake_ollama_server: FakeOllama, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[Stack]:
    """`manage.py serve` in production mode, its wall clock under the test's control, on its own PostgreSQL
    database and its own Redis server."""
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    if not LIBFAKETIME.exists():
        pytest.skip(f"needs libfaketime ({LIBFAKETIME}: Debian's `faketime` package) to step the stack's clock")
    shim = tmp_path_factory.mktemp("clock")
    (shim / "sitecustomize.py").write_text(SLEEP_SHIM)
    clock_file = shim / "faketime.rc"
    clock_file.write_text("+0\n")
    clock = {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(clock_file), "FAKETIME_NO_CACHE": "1",
             "FAKETIME_DONT_FAKE_MONOTONIC": "1",
             "PYTHONPATH": os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))}
    with contextlib.ExitStack() as cleanup:
        redis = RedisServer()
        redis.start()
        cleanup.callback(redis.stop)
        database = cleanup.enter_context(own_database("clock"))
        env = serve_env(database_url=database.url, redis_url=redis.url, ollama_url=fake_ollama_server.url,
                        **clock, **SETTINGS)
        stack = cleanup.enter_context(Stack(env, redis, database.dsn, keep_log_as="clock-stack.log"))
        stack.clock_file = clock_file
        stack.migrate()
        stack.start()
        wait_for(lambda: re.search(r"generation@\S+ ready\.", stack.log()), timeout=120)
        fake_ollama_server.script(Reply(content="Ready."))
        assert asyncio.run(first_reply(stack)) == "Ready.", "the workers answer before any step"
        yield stack


async def first_reply(stack: Stack) -> str:
    import websockets

    created = stack.conversation()
    async with websockets.connect(stack.websocket_url(created["websocket"]),
                                  additional_headers={"Origin": stack.url}) as ws:
        await frames_until(ws, {"history"}, [])
        await ws.send(json.dumps({"type": "message", "text": "hello", "client_id": "ready-1"}))
        return (await frames_until(ws, {"done"}, [], timeout=120))["message"]["content"]


def bot_replies(stack: Stack, token: str) -> list[tuple]:
    return stack.query(
        "SELECT m.status, m.content, m.attempts FROM conversations_message m JOIN conversations_conversation c "
        "ON c.id = m.conversation_id WHERE c.token = %s AND m.role = 'bot'", (token,))


def conversation_state(stack: Stack, token: str) -> tuple:
    [row] = stack.query(
        "SELECT c.status, c.handoff_reason, (SELECT count(*) FROM conversations_message m WHERE "
        "m.conversation_id = c.id AND m.role = 'system') FROM conversations_conversation c WHERE c.token = %s",
        (token,))
    return row


def streaming_with_text(stack: Stack, tokens: list[str], count: int | None = None) -> bool:
    """Whether `count` (all) of these conversations' replies are streaming and have text saved."""
    rows = stack.query(
        "SELECT count(*) FROM conversations_message m JOIN conversations_conversation c ON c.id = m.conversation_id "
        "WHERE c.token = ANY(%s) AND m.role = 'bot' AND m.status = 'streaming' AND m.content <> ''", (tokens,))
    return rows[0][0] == (len(tokens) if count is None else count)


def what_the_customer_saw(frames: list[dict]) -> str:
    deltas = [f for f in frames if f["type"] == "delta"]
    starts = [i for i, f in enumerate(deltas) if f["seq"] == 0]
    shown = "".join(f["text"] for f in deltas[starts[-1]:]).strip() if starts else ""
    whole = "the whole reply" if shown == ANSWER else "NOT the whole reply"
    return f"{len(starts)} start(s) of the reply, then {whole}: {shown[:34]} … {shown[-20:]}"


def test_replies_streaming_through_a_step_forward_and_back_complete_once_and_whole(
    stack: Stack, fake_ollama_server: FakeOllama
) -> None:
    import websockets

    customers = SLOTS + 1  # the last one's message waits for a slot through the step forward
    fake_ollama_server.reset()
    fake_ollama_server.script(*[Reply(content=ANSWER, per_token=PER_TOKEN) for _ in range(customers)])
    stack.clock("+0")
    created = [stack.conversation() for _ in range(customers)]
    tokens = [c["token"] for c in created]
    frames: list[list[dict]] = [[] for _ in created]
    steps: list[str] = []

    async def customer(index: int) -> dict:
        async with websockets.connect(stack.websocket_url(created[index]["websocket"]),
                                      additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, frames[index])
            await ws.send(json.dumps({"type": "message", "text": "Tell me everything", "client_id": f"j-{index}"}))
            return await frames_until(ws, {"done"}, frames[index], timeout=120)

    async def clock() -> None:
        await asyncio.to_thread(wait_for, lambda: streaming_with_text(stack, tokens, SLOTS), 60, 0.1)
        stack.clock("+" + STEP)
        steps.append(f"+{STEP} at {time.monotonic():.1f}")
        await asyncio.sleep(SAVE_INTERVAL_S + 3)  # sweeps before and after the next heartbeats
        assert streaming_with_text(stack, tokens, SLOTS), "the replies still streamed after the step forward"
        stack.clock("+0")
        steps.append(f"-{STEP} at {time.monotonic():.1f}")

    async def everyone() -> list[dict]:
        *done, _ = await asyncio.gather(*[customer(i) for i in range(customers)], clock())
        return done

    done = asyncio.run(everyone())
    for index, token in enumerate(tokens):
        print(f"customer {index} (steps {steps}): {what_the_customer_saw(frames[index])}")
        assert done[index]["message"]["status"] == "complete" and done[index]["message"]["content"] == ANSWER
        assert sum(f["type"] == "done" for f in frames[index]) == 1
        assert [f["seq"] for f in frames[index] if f["type"] == "delta"].count(0) == 1, "never started over"
        assert bot_replies(stack, token) == [("complete", ANSWER, 1)]
        assert conversation_state(stack, token) == ("bot", "", 0), "nobody handed on, no notice"
    assert len(fake_ollama_server.chat_requests()) == customers


def test_a_reply_whose_worker_died_before_a_step_back_is_generated_again_within_its_timeout(
    stack: Stack, fake_ollama_server: FakeOllama
) -> None:
    import websockets

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=ANSWER, per_token=PER_TOKEN), Reply(content=ANSWER, per_token=0.005))
    stack.clock("+" + STEP)
    created = stack.conversation()
    [worker] = stack.workers("generation")
    frames: list[dict] = []
    timings: dict[str, float] = {}

    async def converse() -> dict:
        async with websockets.connect(stack.websocket_url(created["websocket"]),
                                      additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, frames)
            await ws.send(json.dumps({"type": "message", "text": "Tell me everything", "client_id": "k-1"}))
            await asyncio.to_thread(wait_for, lambda: streaming_with_text(stack, [created["token"]]), 60, 0.1)
            # Its last heartbeat was stamped ten minutes ahead; then the worker dies, and the clock steps back.
            pool = [info.pid for info in process_table().values() if info.parent == worker]
            for pid in [worker, *pool]:
                os.kill(pid, signal.SIGKILL)
            stack.clock("+0")
            timings["killed"] = time.monotonic()
            done = await frames_until(ws, {"done"}, frames, timeout=150)
            timings["done"] = time.monotonic()
            return done

    done = asyncio.run(converse())
    took = timings["done"] - timings["killed"]
    print(f"customer: {what_the_customer_saw(frames)}; whole again {took:.1f} s after its worker died")
    assert done["message"]["status"] == "complete" and done["message"]["content"] == ANSWER
    assert bot_replies(stack, created["token"]) == [("complete", ANSWER, 2)]
    assert conversation_state(stack, created["token"]) == ("bot", "", 0)
    # Its timeout, a sweep, and a new worker's start on a loaded machine; not the step's ten minutes.
    assert took < 120
    assert stack.live()
