"""Many replies streaming in one generation worker process (CELERY_GENERATION_POOL=threads, the default): the
production stack (`manage.py serve`: Daphne, Celery, beat) on PostgreSQL, a Redis server of its own and a paced
fake Ollama HTTP server.

What must hold when a process carries many streams on one event loop (helpdesk.runtime.aio.run_shared):
- they really run at once in that one process, and each customer gets their own reply, whole and once;
- one stream's Ollama failure touches no other stream;
- a customer's stop, sent to Daphne, reaches the stream in the worker process (helpdesk.runtime.flags) and the
  Ollama request is closed long before its end.
Timings are the benchmark's (bench/first_token.py), not asserted here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from tests.fake_ollama import FakeOllama, Reply
from tests.processes import process_table
from tests.support.environment import uses_postgres
from tests.support.faults import FaultStack, fault_stack, wait_for
from tests.support.sockets import frames_until

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]

CUSTOMERS = 16
WORDS = 40
PER_TOKEN_S = 0.05  # each reply streams for ~2 s: every customer's reply overlaps the others'


def answer(number: int) -> str:
    return " ".join(f"w{number}-{i}" for i in range(WORDS))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture(scope="module")
def stack(fake: FakeOllama) -> Iterator[FaultStack]:
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    with fault_stack("streamworker", ollama_url=fake.url, HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false",
                     CELERY_GENERATION_CONCURRENCY=str(CUSTOMERS), GENERATION_DB_CONNECTIONS="2",
                     ANSWER_CACHE_ENABLED="false") as stack:
        yield stack


async def customer(stack: FaultStack, text: str, *, stop_after_first_delta: bool = False) -> list[dict]:
    """One widget: a new conversation, a question, every frame until the reply is done (and a moment after)."""
    import websockets

    created = await asyncio.to_thread(stack.conversation)
    frames: list[dict] = []
    async with websockets.connect(stack.websocket_url(created["websocket"]),
                                  additional_headers={"Origin": stack.url}) as ws:
        await frames_until(ws, {"history"}, frames)
        await ws.send(json.dumps({"type": "message", "text": text, "client_id": "q-1"}))
        if stop_after_first_delta:
            await frames_until(ws, {"delta"}, frames, timeout=60)
            await ws.send(json.dumps({"type": "stop"}))
        await frames_until(ws, {"done"}, frames, timeout=120)
    return frames


def done_of(frames: list[dict]) -> dict:
    [done] = [f["message"] for f in frames if f["type"] == "done"]
    return done


def streamed(frames: list[dict]) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "delta")


def test_many_streams_run_at_once_in_one_worker_process_and_one_failure_touches_no_other(
    stack: FaultStack, fake: FakeOllama
) -> None:
    fake.reset()
    failing = CUSTOMERS // 2
    # Replies are handed out in the order the requests reach the fake: the one that fails mid-stream goes to
    # whichever customer's request comes `failing`-th; every other customer must get their reply whole.
    fake.script(*[
        Reply(content=answer(n), per_token=PER_TOKEN_S,
              error_after_tokens=WORDS // 2 if n == failing else None, error="model runner crashed")
        for n in range(CUSTOMERS)
    ])

    async def everyone() -> list[list[dict]]:
        return await asyncio.gather(*(customer(stack, f"Question {n}: where is my parcel? 我的包裹在哪里？")
                                      for n in range(CUSTOMERS)))

    results = asyncio.run(everyone())
    [worker] = stack.workers("generation")
    pool_children = [info.pid for info in process_table().values() if info.parent == worker]
    assert pool_children == [], "the threaded generation worker forks no pool processes"

    chats = fake.chat_requests()
    assert len(chats) == CUSTOMERS
    # All were streaming at once: the last request arrived before the first reply could have ended.
    first_reply_length = WORDS * PER_TOKEN_S
    assert max(c.received_at for c in chats) - min(c.received_at for c in chats) < first_reply_length

    failed = [frames for frames in results if done_of(frames)["status"] == "failed"]
    complete = [frames for frames in results if done_of(frames)["status"] == "complete"]
    assert len(failed) == 1 and len(complete) == CUSTOMERS - 1
    delivered = sorted(done_of(frames)["content"] for frames in complete)
    assert delivered == sorted(answer(n) for n in range(CUSTOMERS) if n != failing), "each reply whole, once"
    for frames in complete:
        assert streamed(frames) == done_of(frames)["content"], "the deltas add up to the reply, nothing mixed in"
    assert streamed(failed[0]).strip() == " ".join(answer(failing).split()[:WORDS // 2]), "the failed one kept its text"
    print(f"\n{CUSTOMERS} replies in one worker process (pid {worker}): {len(complete)} complete, 1 failed "
          f"mid-stream with {len(streamed(failed[0]).split())} words kept; requests spread over "
          f"{max(c.received_at for c in chats) - min(c.received_at for c in chats):.2f} s")


def test_a_stop_sent_to_the_web_process_ends_the_stream_in_the_worker_process(
    stack: FaultStack, fake: FakeOllama
) -> None:
    fake.reset()
    long_words = 200
    fake.state.default_reply = Reply(content=" ".join(f"t{i}" for i in range(long_words)), per_token=PER_TOKEN_S)

    async def streaming_beside_others() -> list[list[dict]]:
        # Others stream on the same loop meanwhile: the stop is read for every stream at once.
        return await asyncio.gather(
            customer(stack, "A long answer please, then I stop it", stop_after_first_delta=True),
            *(customer(stack, f"Another customer {n}") for n in range(3)),
        )

    stopped, *others = asyncio.run(streaming_beside_others())
    assert done_of(stopped)["status"] == "cancelled"
    [request] = [c for c in fake.chat_requests() if "then I stop it" in json.dumps(c.body, ensure_ascii=False)]
    wait_for(lambda: request.closed_by_client, timeout=10, interval=0.05)
    assert request.tokens_sent < long_words // 4, "the Ollama stream was closed long before its end"
    for frames in others:
        assert done_of(frames)["status"] == "complete" and len(done_of(frames)["content"].split()) == long_words


def test_replies_that_outnumber_the_workers_connections_wait_their_turn_and_all_complete(fake: FakeOllama) -> None:
    """Eight replies at once on a worker of one connection, each pipeline holding it ~0.5 s (a slow embedding
    call, as a busy model answers): with the web's short wait for a connection (DATABASE_POOL_TIMEOUT_S) a task
    gave up and its reply waited for the sweeper; the worker's tasks wait their turn (GENERATION_DB_WAIT_S)."""
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    fake.reset()
    fake.state.default_reply = Reply(content="Your parcel leaves today. 您的包裹今天发出。")
    with fault_stack("streamwait", ollama_url=fake.url, HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false",
                     CELERY_GENERATION_CONCURRENCY="8", GENERATION_DB_CONNECTIONS="1", DATABASE_POOL_TIMEOUT_S="0.5",
                     ANSWER_CACHE_ENABLED="false", REPLY_HEARTBEAT_TIMEOUT_S="600",
                     LOAD_DEMO_KNOWLEDGE="true") as stack:
        # Questions are embedded and searched once the demo knowledge base is indexed; then embedding slows.
        wait_for(lambda: stack.query("SELECT count(*) FROM knowledge_chunk WHERE embedding IS NOT NULL")[0][0],
                 timeout=120)
        fake.state.embed_delay_s = 0.5

        async def everyone() -> list[list[dict]]:
            return await asyncio.gather(*(customer(stack, f"Where is parcel {n}? 包裹{n}在哪里？") for n in range(8)))

        results = asyncio.run(everyone())
    fake.state.embed_delay_s = 0.0
    statuses = [done_of(frames)["status"] for frames in results]
    assert statuses == ["complete"] * 8, statuses
    assert {done_of(frames)["content"] for frames in results} == {"Your parcel leaves today. 您的包裹今天发出。"}
