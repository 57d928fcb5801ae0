"""PostgreSQL goes away under the production stack (`manage.py serve`: Daphne, Celery workers, beat) and comes
back, as in a restart or a failover: a TCP proxy of the test's own stands between the stack and PostgreSQL and cuts
every connection, refusing new ones, for a while (the server every other test shares is never touched).

What must hold: a customer who sends during the outage is told "busy, retry" on the open socket (nothing
half-stored, no 1011), the widget's resend after the outage is stored once and answered, and the processes recover
their connections without a restart (a new visitor is served). A reply whose last write falls in the outage is
not left `streaming`: its task waits for a connection (GENERATION_DB_WAIT_S) and stores it whole once PostgreSQL
is back; a task that gave up would leave it to the sweeper, which has it generated again, once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from tests.fake_ollama import FakeOllama, Reply, split_tokens
from tests.support.environment import require, uses_postgres
from tests.support.faults import FaultProxy, wait_for
from tests.support.serve import ServedStack, own_database, serve_env
from tests.support.sockets import conversation_post, frames_until

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def proxied_stack(fake_ollama_server: FakeOllama) -> Iterator[tuple[ServedStack, FaultProxy]]:
    from django.conf import settings

    require(not settings.EMBEDDED and uses_postgres(), "PostgreSQL and Redis")
    import redis

    database = settings.DATABASES["default"]
    proxy = FaultProxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    redis_url = settings.REDIS_URL.rsplit("/", 1)[0] + "/7"  # away from the test worker's queues
    redis.Redis.from_url(redis_url).flushdb()
    try:
        with own_database("pgfault") as own:
            through_proxy = own.url.replace(f":{database['PORT'] or 5432}/", f":{proxy.port}/")
            assert through_proxy != own.url
            env = serve_env(database_url=through_proxy, redis_url=redis_url, ollama_url=fake_ollama_server.url,
                            HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false", CELERY_GENERATION_CONCURRENCY="1",
                            DATABASE_POOL_TIMEOUT_S="1", DATABASE_BUSY_RETRY_AFTER_S="1",
                            # Small, to see in seconds what takes a minute by default.
                            REPLY_SAVE_INTERVAL_S="0.3", REPLY_HEARTBEAT_TIMEOUT_S="3", SWEEP_INTERVAL_S="1")
            with ServedStack(env, keep_log_as="pgfault-stack.log") as stack:
                stack.migrate()
                stack.start()
                yield stack, proxy
    finally:
        proxy.close()


def test_a_message_sent_while_postgresql_is_away_is_refused_visibly_then_stored_once_when_it_returns(
    proxied_stack: tuple[ServedStack, FaultProxy], fake_ollama_server: FakeOllama
) -> None:
    import websockets

    stack, proxy = proxied_stack
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Your parcel left the warehouse today."))
    status, _, body = conversation_post(stack.url)
    assert status == 201, body
    created = json.loads(body)
    text = "Where is my parcel? 我的包裹到哪了？"

    async def converse() -> tuple[dict, dict, int]:
        frames: list[dict] = []
        url = stack.url.replace("http", "ws") + created["websocket"]
        async with websockets.connect(url, additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, frames)
            proxy.cut()  # PostgreSQL restarts: every connection dropped, new ones refused
            await ws.send(json.dumps({"type": "message", "text": text, "client_id": "pg-1"}))
            refused = await frames_until(ws, {"error", "message"}, frames)
            await asyncio.sleep(2)
            proxy.restore()
            # The widget resends what was refused, same client_id, after retry_after, until it is stored.
            for attempt in range(1, 30):
                await ws.send(json.dumps({"type": "message", "text": text, "client_id": "pg-1"}))
                answer = await frames_until(ws, {"error", "message"}, frames)
                if answer["type"] == "message":
                    return refused, await frames_until(ws, {"done"}, frames), attempt
                assert answer["code"] == "busy", answer
                await asyncio.sleep(answer.get("retry_after") or 1)
            raise AssertionError("never stored after PostgreSQL came back")

    refused, done, attempts = asyncio.run(converse())
    assert refused["type"] == "error" and refused["code"] == "busy" and refused["client_id"] == "pg-1", refused
    assert done["message"]["content"] == "Your parcel left the warehouse today."
    print(f"\nresends until stored after the outage: {attempts}")

    import psycopg

    dsn = stack.env["DATABASE_URL"].replace(f":{proxy.port}/", f":{proxy.upstream[1]}/")
    with psycopg.connect(dsn) as conn:
        [(count,)] = conn.execute("SELECT count(*) FROM conversations_message WHERE client_id = 'pg-1'").fetchall()
    assert count == 1, "stored once"
    assert stack.live()
    assert conversation_post(stack.url)[0] == 201, "a new visitor is served: the processes reconnected by themselves"


def test_a_reply_whose_last_write_falls_in_the_outage_is_stored_whole_once_postgresql_is_back(
    proxied_stack: tuple[ServedStack, FaultProxy], fake_ollama_server: FakeOllama
) -> None:
    import psycopg
    import websockets

    stack, proxy = proxied_stack
    answer = " ".join(f"part{i}" for i in range(50))
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=answer, per_token=0.06), Reply(content=answer, per_token=0.01))
    status, _, body = conversation_post(stack.url)
    assert status == 201, body
    created = json.loads(body)
    dsn = stack.env["DATABASE_URL"].replace(f":{proxy.port}/", f":{proxy.upstream[1]}/")

    def reply_rows() -> list[tuple]:
        with psycopg.connect(dsn) as conn:
            return conn.execute(
                "SELECT m.status, m.attempts FROM conversations_message m JOIN conversations_conversation c ON "
                "c.id = m.conversation_id WHERE m.role = 'bot' AND c.token = %s", (created["token"],)).fetchall()

    async def converse() -> tuple[list[dict], dict]:
        frames: list[dict] = []
        url = stack.url.replace("http", "ws") + created["websocket"]
        async with websockets.connect(url, additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, frames)
            await ws.send(json.dumps({"type": "message", "text": "Tell me all of it", "client_id": "pg-2"}))
            await frames_until(ws, {"delta"}, frames)
            proxy.cut()  # mid-reply: the rest streams, and its final write fails
            streamed = lambda: fake_ollama_server.chat_requests()[0].tokens_sent == len(split_tokens(answer))  # noqa: E731
            await asyncio.to_thread(wait_for, streamed, 30, 0.05)
            await asyncio.sleep(2)  # the final write has failed by now: PostgreSQL stays away a little longer
            proxy.restore()
            return frames, await frames_until(ws, {"done"}, frames, timeout=90)

    frames, done = asyncio.run(converse())
    deltas = [f for f in frames if f["type"] == "delta"]
    starts = [i for i, f in enumerate(deltas) if f["seq"] == 0]
    print(f"\nthe customer saw {len(starts)} start(s) of the reply, then done: {done['message']['status']}, "
          f"{len(done['message']['content'])} of {len(answer)} characters; the reply's row: {reply_rows()}")
    assert (done["message"]["status"], done["message"]["content"]) == ("complete", answer)
    # The generation worker's task waits for a connection (GENERATION_DB_WAIT_S) while PostgreSQL is away, so the
    # reply's last write is made when it returns, by the same attempt: streamed once, stored whole, nothing
    # generated twice. (With the web's short wait the task failed and the sweeper generated the reply again.)
    assert len(starts) == 1, "streamed once"
    assert "".join(f["text"] for f in deltas).strip() == answer
    assert reply_rows() == [("complete", 1)], "stored by its first attempt, never left streaming"
