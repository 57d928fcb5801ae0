"""The production stack (`manage.py serve`: Daphne, Celery workers, beat) through a Redis outage and a killed
worker, on a Redis server of its own that the tests stop and start again.

- Redis gone for 12 s: Daphne stays up, the workers reconnect (or are restarted), and the customer message
  written during the outage (stored, its reply task lost) is handed to a person after UNANSWERED_TIMEOUT_S.
- The generation worker killed outright, mid-reply: `serve` starts it again, the sweeper sees the reply's
  heartbeat stop and has it generated again, once; the customer sees the new text replace the partial one.
- A stop of everything mid-reply: `serve` fails the cut-off reply at start and hands the conversation on.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama, Reply
from tests.processes import process_table
from tests.support.environment import uses_postgres
from tests.support.faults import QUICK_RECOVERY, FaultStack, RedisServer, wait_for
from tests.support.serve import own_database, serve_env

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]

ANSWER = " ".join(f"word{i}" for i in range(80))


SEED_CUT_OFF_REPLY = """
from datetime import timedelta
from django.utils import timezone
from conversations.models import Conversation, Message
c = Conversation.objects.create()
q = Message.objects.create(conversation=c, role="customer", content="cut off", client_id="seed-1")
Message.objects.create(conversation=c, role="bot", status="streaming", reply_to=q, content="Half of",
                       attempts=1, heartbeat_at=timezone.now() - timedelta(hours=1))
print(c.pk)
"""


class Stack(FaultStack):
    seeded = 0  # the conversation whose reply the last stop cut off


@pytest.fixture(scope="module")
def stack(fake_ollama_server: FakeOllama, django_db_blocker: Any) -> Iterator[Stack]:
    """`manage.py serve` in production mode on its own PostgreSQL database and its own Redis server."""
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    redis = RedisServer()
    redis.start()
    try:
        with own_database("outages") as database:
            env = serve_env(
                database_url=database.url, redis_url=redis.url, ollama_url=fake_ollama_server.url,
                CELERY_GENERATION_CONCURRENCY="1",
                HANDOFF_THRESHOLD="0",
                **QUICK_RECOVERY,
            )
            with Stack(env, redis, database.dsn, keep_log_as="outages-stack.log") as stack:
                stack.migrate()
                stack.seeded = int(stack.shell(SEED_CUT_OFF_REPLY, timeout=60).split()[-1])
                stack.start()
                wait_for(lambda: stack.workers("generation"), timeout=60)
                yield stack
    finally:
        redis.stop()


async def frames_until(ws: Any, frame_type: str, frames: list[dict], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.1)))
        frames.append(frame)
        if frame["type"] == frame_type:
            return frame


def test_serve_fails_at_start_a_reply_the_last_stop_cut_off_and_hands_its_conversation_on(stack: Stack) -> None:
    [(status, content)] = stack.query(
        "SELECT status, content FROM conversations_message WHERE conversation_id = %s AND role = 'bot'",
        (stack.seeded,))
    print(f"\na reply cut off by a stop of everything, after the start: {status}, {content!r}")
    assert (status, content) == ("failed", "Half of")
    [(conversation_status, reason)] = stack.query(
        "SELECT status, handoff_reason FROM conversations_conversation WHERE id = %s", (stack.seeded,))
    assert (conversation_status, reason) == ("waiting_human", "model_error")


def test_a_generation_worker_killed_outright_is_restarted_and_its_reply_is_generated_again_once(
    stack: Stack, fake_ollama_server: FakeOllama
) -> None:
    import websockets

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=ANSWER, per_token=0.08), Reply(content=ANSWER, per_token=0.005))
    created = stack.conversation()
    [worker] = stack.workers("generation")
    frames: list[dict] = []

    async def converse() -> dict:
        async with websockets.connect(stack.websocket_url(created["websocket"]),
                                      additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, "history", frames)
            await ws.send(json.dumps({"type": "message", "text": "Tell me everything", "client_id": "k-1"}))
            await frames_until(ws, "delta", frames)
            saved = "SELECT content FROM conversations_message WHERE role = 'bot' AND content <> '' AND status = " \
                    "'streaming' AND conversation_id = (SELECT id FROM conversations_conversation WHERE token = %s)"
            partial = await asyncio.to_thread(wait_for, lambda: stack.query(saved, (created["token"],)), 20, 0.05)
            assert ANSWER.startswith(partial[0][0]) and partial[0][0] != ANSWER, "the partial text was saved"
            # The whole worker, its main process too: nothing is left to give the task back to the broker.
            pool = [info.pid for info in process_table().values() if info.parent == worker]
            for pid in [worker, *pool]:
                os.kill(pid, signal.SIGKILL)
            return await frames_until(ws, "done", frames, timeout=90)

    done = asyncio.run(converse())
    assert stack.live(), "Daphne kept serving"
    assert done["message"]["status"] == "complete" and done["message"]["content"] == ANSWER
    deltas = [f for f in frames if f["type"] == "delta"]
    restarts = [i for i, f in enumerate(deltas) if f["seq"] == 0]
    print(f"\nthe worker killed mid-reply: the customer saw {len(restarts)} starts of the reply (seq 0), then done: "
          f"{done['message']['status']}, {len(done['message']['content'])} of {len(ANSWER)} characters")
    assert len(restarts) == 2, "the new attempt streams from seq 0 again, which the widget takes as a restart"
    assert "".join(f["text"] for f in deltas[restarts[1]:]).strip() == ANSWER
    [(status, content, attempts)] = stack.query(
        "SELECT m.status, m.content, m.attempts FROM conversations_message m JOIN conversations_conversation c "
        "ON c.id = m.conversation_id WHERE c.token = %s AND m.role = 'bot'", (created["token"],))
    assert (status, content, attempts) == ("complete", ANSWER, 2)
    assert "the generation worker exited" in stack.log()
    assert stack.workers("generation") and stack.workers("generation") != [worker]


def test_a_redis_outage_leaves_daphne_up_and_a_message_written_during_it_is_handed_to_a_person(
    stack: Stack, fake_ollama_server: FakeOllama
) -> None:
    import websockets

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Before the outage."))
    created = stack.conversation()
    frames: list[dict] = []
    url, origin = stack.websocket_url(created["websocket"]), {"Origin": stack.url}

    async def before() -> None:
        async with websockets.connect(url, additional_headers=origin) as ws:
            await frames_until(ws, "history", frames)
            await ws.send(json.dumps({"type": "message", "text": "first", "client_id": "o-1"}))
            await frames_until(ws, "done", frames)
            stack.redis.stop()
            outage_started = time.monotonic()
            await ws.send(json.dumps({"type": "message", "text": "written while Redis is down", "client_id": "o-2"}))
            stored = "SELECT count(*) FROM conversations_message WHERE client_id = 'o-2'"
            await asyncio.to_thread(wait_for, lambda: stack.query(stored)[0][0], 10)
            while time.monotonic() - outage_started < 12:
                assert stack.live(), "Daphne answers while Redis is down"
                await asyncio.sleep(1)
            stack.redis.start()

    asyncio.run(before())
    handed_on = ("SELECT status, handoff_reason FROM conversations_conversation WHERE token = %s "
                 "AND status = 'waiting_human'")
    [(_, reason)] = wait_for(lambda: stack.query(handed_on, (created["token"],)), timeout=60)
    assert reason == "unanswered"
    assert stack.live() and stack.process.poll() is None
    assert stack.workers("generation") and stack.workers("logging,knowledge")

    async def after() -> dict:
        async with websockets.connect(url, additional_headers=origin) as ws:
            return await frames_until(ws, "history", [])

    history = asyncio.run(after())
    print(f"\nRedis away for 12 s: the message written meanwhile is in the history "
          f"({[m['content'] for m in history['messages'] if m['role'] == 'customer']}), then: "
          f"{history['messages'][-1]['content']!r}")
    assert history["conversation"]["status"] == "waiting_human"
    assert [m["content"] for m in history["messages"] if m["role"] == "customer"] == [
        "first", "written while Redis is down"]
    assert history["messages"][-1]["role"] == "system"

    # And the next customer is answered as usual, although the web process's Redis connections from
    # before the outage are dead (the first use of each fails).
    fake_ollama_server.script(Reply(content="After the outage."))
    later = stack.conversation()

    async def next_customer() -> dict:
        async with websockets.connect(stack.websocket_url(later["websocket"]), additional_headers=origin) as ws:
            await frames_until(ws, "history", [])
            await ws.send(json.dumps({"type": "message", "text": "hello again", "client_id": "o-3"}))
            return await frames_until(ws, "done", [], timeout=60)

    done = asyncio.run(next_customer())
    assert done["message"]["content"] == "After the outage."
