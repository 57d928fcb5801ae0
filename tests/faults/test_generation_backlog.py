"""The generation queue backed up: the production stack (`manage.py serve`: Daphne, Celery workers, beat) with its
generation worker stopped (SIGSTOP, its pool too) for a minute while several customers write, then let go on.

What must hold: each customer sees at once that a reply is coming (the bot "thinking", sent when the reply is
queued, which the widget turns into "one moment please" when no word comes), /metrics shows every queued reply
in `helpdesk_generation_queue_depth`, nobody is handed to a person as `unanswered` while their reply waits in the
queue (UNANSWERED_TIMEOUT_S is longer than the stop), and once the worker runs again every reply comes, once,
complete, and nothing is lost. A customer who presses Stop while waiting gets the reply closed as stopped at once,
and the worker that takes its task later generates nothing.
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
from tests.support.faults import FaultStack, fault_stack, wait_for
from tests.support.sockets import frames_until

pytestmark = [pytest.mark.production, pytest.mark.timeout(400)]

STOP_S = 60  # issue 17: the generation workers stopped for a minute
QUESTIONS = ["Where is my parcel?", "Can I change my delivery address?", "我的订单什么时候发货？", "可以退货吗？"]
ANSWER = "Thank you for waiting: your order left the warehouse today."
STOPPED = "算了，不用回答了 — never mind"


@pytest.fixture(scope="module")
def stack(fake_ollama_server: FakeOllama, django_db_blocker: Any) -> Iterator[FaultStack]:
    """`manage.py serve` in production mode on its own PostgreSQL database and its own Redis server, with the
    sweeper looking every second and the default timeouts for replies."""
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    with fault_stack(
        "backlog", ollama_url=fake_ollama_server.url,
        CELERY_GENERATION_CONCURRENCY="2", HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false", SWEEP_INTERVAL_S="1",
    ) as stack:
        for name in ("UNANSWERED_TIMEOUT_S", "REPLY_HEARTBEAT_TIMEOUT_S"):
            assert name not in stack.env, "their defaults, which a one-minute backlog must not trip"
        yield stack


def worker_processes(stack: FaultStack) -> list[int]:
    """The generation worker's main process and its pool's processes."""
    mains = stack.workers("generation")
    return mains + [info.pid for info in process_table().values() if info.parent in mains]


def test_a_minute_of_stopped_generation_workers_shows_waiting_loses_nothing_and_answers_each_once(
    stack: FaultStack, fake_ollama_server: FakeOllama
) -> None:
    import websockets

    fake_ollama_server.reset()
    fake_ollama_server.script(*[Reply(content=ANSWER, per_token=0.02) for _ in QUESTIONS])
    created = [stack.conversation() for _ in QUESTIONS]
    stopper = stack.conversation()
    stopper_frames: list[dict] = []
    frames: list[list[dict]] = [[] for _ in QUESTIONS]
    seen: list[dict[str, float]] = [{} for _ in QUESTIONS]  # what each customer saw, seconds after sending
    stopped = worker_processes(stack)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    stop_started = time.monotonic()
    # A worker blocked in BRPOP when stopped still takes the next task (the server hands it over): kombu's BRPOP
    # waits 1 s, so after that nothing leaves the queue until the worker runs again.
    time.sleep(3)

    async def customer(index: int, all_waiting: asyncio.Event) -> dict:
        url = stack.websocket_url(created[index]["websocket"])
        async with websockets.connect(url, additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, frames[index])
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "message", "text": QUESTIONS[index], "client_id": f"q-{index}"}))
            while True:
                frame = await frames_until(ws, {"typing", "delta", "done", "status"}, frames[index], timeout=30)
                if frame["type"] == "typing" and frame["who"] == "bot" and frame["active"]:
                    seen[index]["thinking"] = time.monotonic() - sent
                    break
                assert frame["type"] not in ("delta", "done", "status"), f"{frame} before the bot was thinking"
            waiting[index] = True
            if all(waiting):
                all_waiting.set()
            done = await frames_until(ws, {"done"}, frames[index], timeout=STOP_S + 180)
            first_delta = next((f for f in frames[index] if f["type"] == "delta"), None)
            assert first_delta is not None
            seen[index]["done"] = time.monotonic() - sent
            return done

    waiting = [False for _ in QUESTIONS]

    async def stopping_customer() -> dict:
        """Writes, sees the assistant thinking, presses Stop: the reply is closed as stopped there and then."""
        async with websockets.connect(stack.websocket_url(stopper["websocket"]),
                                      additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, stopper_frames)
            await ws.send(json.dumps({"type": "message", "text": STOPPED, "client_id": "stop-1"}))
            await frames_until(ws, {"typing"}, stopper_frames)
            await ws.send(json.dumps({"type": "stop"}))
            return await frames_until(ws, {"done", "error"}, stopper_frames, timeout=20)

    async def backlog() -> tuple[list[dict], float | None, dict]:
        all_waiting = asyncio.Event()
        customers = [asyncio.create_task(customer(i, all_waiting)) for i in range(len(QUESTIONS))]
        await asyncio.wait_for(all_waiting.wait(), 60)
        stopped_reply = await stopping_customer()
        # Every reply waits in the queue (the stopped one's task too), none started, and /metrics says so.
        depth = await asyncio.to_thread(
            wait_for, lambda: stack.metric("helpdesk_generation_queue_depth") == len(QUESTIONS) + 1, 30, 0.5)
        assert depth
        workers_during = None
        # The stop lasts its minute; meanwhile the sweeper (every second) must not hand anybody on.
        while time.monotonic() - stop_started < STOP_S:
            assert not any(f["type"] in ("status", "delta", "done") for fs in frames for f in fs)
            handed_on = stack.query("SELECT count(*) FROM conversations_conversation WHERE status <> 'bot'")
            assert handed_on == [(0,)], "handed to a person while the reply waits in the queue"
            assert stack.query("SELECT count(*) FROM conversations_message WHERE role = 'bot' "
                               "AND status <> 'cancelled'") == [(0,)]
            workers_during = stack.metric('helpdesk_celery_workers{queue="generation"}')
            await asyncio.sleep(2)
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        return [await task for task in customers], workers_during, stopped_reply

    try:
        dones, workers_during, stopped_reply = asyncio.run(backlog())
    finally:
        for pid in stopped:  # never leave the worker stopped, whatever failed
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    for index, done in enumerate(dones):
        assert done["message"]["status"] == "complete" and done["message"]["content"] == ANSWER
        assert [f["type"] for f in frames[index]].count("done") == 1, "the reply completes once"
        assert not [f for f in frames[index] if f["type"] == "status"], "nobody was handed on"
        deltas = [f for f in frames[index] if f["type"] == "delta"]
        assert [f["seq"] for f in deltas] == list(range(len(deltas))), "streamed once, never started over"
    rows = stack.query(
        "SELECT c.status, c.handoff_reason, m.role, m.status, m.content, m.attempts FROM conversations_message m "
        "JOIN conversations_conversation c ON c.id = m.conversation_id WHERE c.token = ANY(%s) ORDER BY m.id",
        ([c["token"] for c in created],))
    assert sorted(row[4] for row in rows if row[2] == "customer") == sorted(QUESTIONS), "every message stored once"
    bot = [row for row in rows if row[2] == "bot"]
    assert len(bot) == len(QUESTIONS) and all(row[3:] == ("complete", ANSWER, 1) for row in bot), bot
    assert {(row[0], row[1]) for row in rows} == {("bot", "")}
    assert wait_for(lambda: stack.metric("helpdesk_generation_queue_depth") == 0, 30)
    assert len(fake_ollama_server.state.requests) >= len(QUESTIONS)
    assert (stopped_reply["type"], stopped_reply["message"]["status"], stopped_reply["message"]["content"]) == (
        "done", "cancelled", ""), stopped_reply
    assert not [r for r in fake_ollama_server.chat_requests() if STOPPED in json.dumps(r.body, ensure_ascii=False)]
    assert stack.query("SELECT m.status, m.content FROM conversations_message m JOIN conversations_conversation c "
                       "ON c.id = m.conversation_id WHERE c.token = %s AND m.role = 'bot'",
                       (stopper["token"],)) == [("cancelled", "")], "stopped once, nothing generated afterwards"

    print(f"\n{len(QUESTIONS)} customers wrote while the generation worker was stopped for {STOP_S} s "
          f"(and one who stopped; queue depth on /metrics: {len(QUESTIONS) + 1}; helpdesk_celery_workers during the "
          f"stop: {workers_during}):")
    for index, question in enumerate(QUESTIONS):
        print(f"  {question!r}: the assistant thinking after {seen[index]['thinking']:.1f} s (the widget adds "
              f"'one moment please' after 8 s), the reply complete after {seen[index]['done']:.0f} s: "
              f"{dones[index]['message']['content']!r}")
    print(f"  {STOPPED!r}, then Stop while waiting: {stopped_reply['type']} {stopped_reply['message']['status']!r} "
          f"at once; nothing generated when the worker came back")
