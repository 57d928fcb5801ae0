"""A crowd on a database with few connections: a budget checked at start, 503/busy and a retry, never a 500.

PostgreSQL ignores a role's CONNECTION LIMIT for superusers such as `postgres`, so
these tests create a role of their own with a small limit (no change to the server)
and run `manage.py serve` as that role, on a database of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk.runtime import dbbudget
from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import require, uses_postgres
from tests.support.serve import LimitedDatabase, ServedStack, limited_database, serve_env

# --- the budget, as plain sums --------------------------------------------------------------


def test_budget_counts_every_process_kind() -> None:
    budget = dbbudget.Budget(database_threads=8, generation=8, logging=1, beat=1, margin=3)
    assert budget.web == 9
    assert budget.total == 9 + 8 + 1 + 1 + 3


def test_threaded_generation_workers_count_their_pools_not_their_replies(settings) -> None:
    settings.CELERY_GENERATION_POOL, settings.DATABASE_POOL, settings.EMBEDDED = "threads", True, False
    settings.CELERY_GENERATION_CONCURRENCY, settings.GENERATION_DB_CONNECTIONS, settings.GENERATION_WORKERS = 100, 8, 2
    assert dbbudget.budget_from_settings(settings).generation == 16, "two processes' pools of 8, not 200 replies"
    # What serve settled on (sized down to fit, say) is shared out between the processes.
    assert dbbudget.generation_connections_env(settings, 10) == {"GENERATION_DB_CONNECTIONS": "5"}
    settings.CELERY_GENERATION_POOL, settings.GENERATION_WORKERS = "prefork", 1
    assert dbbudget.budget_from_settings(settings).generation == 100, "prefork: a connection per process"


def test_fitting_sizes_generation_down_first_then_logging_then_threads() -> None:
    budget = dbbudget.Budget(database_threads=8, generation=8, logging=2, margin=3)
    assert dbbudget.budget_fit(budget, 20).generation == 5
    smaller = dbbudget.budget_fit(budget, 12)
    assert (smaller.generation, smaller.logging, smaller.database_threads, smaller.total) == (1, 1, 5, 12)
    assert dbbudget.budget_fit(budget, 6) is None  # not even one of each


def limits(**overrides: object) -> dbbudget.ServerLimits:
    values = {"max_connections": 100, "reserved": 3, "superuser": False, "role": "helpdesk", "role_limit": None,
              "in_use": 10, "role_in_use": 0, **overrides}
    return dbbudget.ServerLimits(**values)  # type: ignore[arg-type]


def test_the_check_names_the_numbers_when_the_budget_does_not_fit() -> None:
    budget = dbbudget.Budget(database_threads=8, generation=100, logging=1)
    with pytest.raises(dbbudget.BudgetExceeded) as refused:
        dbbudget.budget_check(budget, limits(), mode="refuse")
    message = str(refused.value)
    assert "114 = web 9" in message and "generation 100" in message
    assert "max_connections 100 - 3 reserved - 10 in use" in message and "allows 87" in message
    fitted, line = dbbudget.budget_check(budget, limits(), mode="fit")
    assert fitted.total == 87 and fitted.generation == 73 and "sized down" in line


def test_a_role_limit_below_the_server_limit_is_the_one_that_counts() -> None:
    found = limits(role_limit=15, role_in_use=2).available()
    assert found == (13, "the CONNECTION LIMIT 15 of role helpdesk - 2 in use")
    assert limits(role_limit=15).capacity() == (15, "the CONNECTION LIMIT 15 of role helpdesk")


@pytest.mark.production
@pytest.mark.django_db
def test_readiness_fails_when_the_budget_exceeds_what_the_server_allows(settings) -> None:
    from helpdesk import health

    settings.GENERATION_DB_CONNECTIONS = 500
    report = health.readiness()
    assert not report["ok"]
    check = report["checks"]["connections"]
    assert not check["ok"] and check["budget"] > check["capacity"]
    assert f"may open {check['budget']} = web 9" in check["error"] and f"allows {check['capacity']}" in check["error"]


# --- a role with a small CONNECTION LIMIT, and serve running as it ----------------------------------


@pytest.fixture(name="limited_database")
def limited_database_fixture() -> Iterator[LimitedDatabase]:
    """A database owned by a new role `LOGIN CONNECTION LIMIT 15`; both dropped afterwards."""
    require(uses_postgres(), "PostgreSQL (DATABASE_URL)")
    with limited_database("crowd", 15) as database:
        yield database


def stack_env(database: LimitedDatabase, ollama_url: str, **extra: str) -> dict[str, str]:
    from django.conf import settings

    # A Redis db of its own: the test worker on this run's db must not take the stack's tasks.
    redis_db = (int(settings.REDIS_URL.rsplit("/", 1)[1] or 0) + 8) % 16
    return serve_env(database_url=database.url, redis_url=settings.REDIS_URL.rsplit("/", 1)[0] + f"/{redis_db}",
                     ollama_url=ollama_url, LOG_LEVEL="INFO", RATE_LIMITS_ENABLED="false", CHAT_RATE_LIMIT="1000",
                     **extra)


@pytest.mark.production
def test_serve_refuses_to_start_when_its_budget_exceeds_the_roles_connection_limit(
    limited_database: LimitedDatabase, fake_ollama_server: FakeOllama
) -> None:
    env = stack_env(limited_database, fake_ollama_server.url, DATABASE_THREADS="8",
                    GENERATION_DB_CONNECTIONS="8", CELERY_LOGGING_CONCURRENCY="1", DATABASE_BUDGET_MARGIN="3")
    with ServedStack(env, flags=["--no-migrate"]) as serve:
        serve.migrate()
        serve.launch()
        returncode = serve.wait_exit(timeout=60)
        output = serve.log()
        if returncode is None:
            pytest.fail(f"serve started although 22 connections do not fit a limit of 15:\n{output[-2000:]}")
    assert returncode != 0
    assert "22 = web 9 (DATABASE_THREADS 8 + 1) + generation 8 + logging 1 + beat 1 + margin 3" in output
    assert f"the CONNECTION LIMIT 15 of role {limited_database.role}" in output
    assert "DATABASE_BUDGET=fit" in output


@pytest.fixture
def crowd_stack(limited_database: LimitedDatabase, fake_ollama_server: FakeOllama) -> Iterator[tuple[str, Path]]:
    """`manage.py serve` as the limited role, default sizes (22 connections), told to fit them into 15; ready when
    /healthz answers 200 (warm, within its budget, database, cache and a node)."""
    import redis

    fake_ollama_server.reset()
    fake_ollama_server.script(*[Reply(content="Parcels arrive in 3 days.")] * 400)
    env = stack_env(limited_database, fake_ollama_server.url, DATABASE_BUDGET="fit", DATABASE_POOL_TIMEOUT_S="1",
                    DATABASE_BUSY_RETRY_AFTER_S="1")
    for name in ("DATABASE_THREADS", "CELERY_GENERATION_CONCURRENCY", "GENERATION_DB_CONNECTIONS",
                 "CELERY_LOGGING_CONCURRENCY"):
        env.pop(name, None)  # the defaults, as a new user has them
    serve = ServedStack(env, flags=["--no-migrate"], ready="/healthz", keep_log_as="crowd-stack.log")
    try:
        serve.migrate()
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        serve.start()
        yield serve.url, serve.log_path
    finally:
        serve.close()
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # replies not yet generated: nobody will


async def widget_customer(http: Any, base: str, number: int, statuses: list[int], busy_frames: list[str],
                          told_to_retry: asyncio.Event) -> str:
    """What the widget does: create (retrying 503/429 after Retry-After), connect, send, resend on "busy"."""
    import websockets

    for _ in range(60):
        response = await http.post(base + "/api/v1/conversations")
        statuses.append(response.status_code)
        if response.status_code not in (429, 503):
            break
        told_to_retry.set()
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    client_id = f"crowd-{number}"
    message = json.dumps({"type": "message", "text": f"Where is my parcel {number}?", "client_id": client_id})
    for _ in range(60):
        try:
            async with websockets.connect(base.replace("http", "ws") + f"/ws/chat/{token}/", open_timeout=60) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if first["type"] != "history":
                    busy_frames.append(first.get("code", ""))
                    told_to_retry.set()
                    await asyncio.sleep(1)
                    continue
                await ws.send(message)
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if frame["type"] == "message" and frame["message"].get("client_id") == client_id:
                        return token
                    if frame["type"] == "error":
                        assert frame["code"] == "busy", frame
                        busy_frames.append(frame["code"])
                        told_to_retry.set()
                        await asyncio.sleep(frame.get("retry_after", 1))
                        await ws.send(message)
        except (websockets.ConnectionClosed, OSError):
            await asyncio.sleep(1)
    raise AssertionError(f"customer {number} never saw their message stored")


def database_out_of_reach(limited_database: LimitedDatabase) -> list[Any]:
    """The server refuses the role any new connection for a moment, and the web process loses those it had
    (a failover, or another program taking the role's last slots): requests wait, then answer 503 / busy.
    Returns the connections holding every slot, to close when the moment is over."""
    import psycopg

    hogs: list[psycopg.Connection] = []

    def take_every_free_slot() -> None:
        while True:
            try:
                hogs.append(psycopg.connect(limited_database.url, autocommit=True))
            except psycopg.OperationalError:
                return

    take_every_free_slot()
    with psycopg.connect(limited_database.admin, autocommit=True) as admin:
        # Waiting (up to 5 s each) until they are gone, so that their slots are free for the hogs, not the pool.
        web = admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = %s"
                            " AND application_name = 'helpdesk web'", (limited_database.role,)).fetchall()
    assert web, "the web process holds a connection after its warm-up"
    take_every_free_slot()
    return hogs


@pytest.mark.production
@pytest.mark.timeout(300)
def test_a_crowd_of_150_on_a_role_limited_to_15_connections_gets_no_500_and_every_message_once(
    crowd_stack: tuple[str, Path], limited_database: LimitedDatabase
) -> None:
    import psycopg

    base, log_path = crowd_stack
    assert "sized down" in log_path.read_text()

    statuses: list[int] = []
    busy_frames: list[str] = []
    hogs = database_out_of_reach(limited_database)

    async def crowd() -> list[str]:
        import httpx

        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            told_to_retry = asyncio.Event()
            customers = [asyncio.create_task(widget_customer(http, base, n, statuses, busy_frames, told_to_retry))
                         for n in range(150)]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(told_to_retry.wait(), 15)
            for hog in hogs:  # the slots come back once someone was told to retry (or after 15 s)
                hog.close()
            return await asyncio.gather(*customers)

    started = time.monotonic()
    tokens = asyncio.run(crowd())
    elapsed = time.monotonic() - started

    assert 500 not in statuses and all(s in (201, 429, 503) for s in statuses), sorted(set(statuses))
    assert statuses.count(201) == 150
    assert statuses.count(503) >= 1, "the database was out of reach: someone must have been told to retry"
    with psycopg.connect(limited_database.admin) as conn:
        rows = conn.execute(
            "SELECT c.token, count(m.id), count(DISTINCT m.client_id) FROM conversations_conversation c"
            " LEFT JOIN conversations_message m ON m.conversation_id = c.id AND m.role = 'customer'"
            " GROUP BY c.token"
        ).fetchall()
    stored = {token: (count, distinct) for token, count, distinct in rows}
    assert set(tokens) <= set(stored)
    assert all(stored[token] == (1, 1) for token in tokens), [stored[t] for t in tokens if stored[t] != (1, 1)]
    print(f"150 customers in {elapsed:.1f} s; {statuses.count(503)} answered 503 first, {len(busy_frames)} busy "
          "frames")


# --- in one process: a pool of one connection, held by someone else ------------------------------


@pytest.fixture
def pool_of_one() -> Iterator[None]:
    """This process's pool shrunk to one connection with a short wait (the real psycopg pool, real PostgreSQL)."""
    from django.db import connection

    require(uses_postgres(), "PostgreSQL (DATABASE_URL)")
    pool = connection.settings_dict["OPTIONS"]["pool"]
    saved = dict(pool)
    connection.close()
    connection.close_pool()
    pool.update(min_size=1, max_size=1, timeout=0.5)
    yield
    connection.close()
    connection.close_pool()
    pool.clear()
    pool.update(saved)


def hold_the_connection(taken: threading.Event, release: threading.Event) -> None:
    from django.db import connection

    connection.ensure_connection()
    taken.set()
    release.wait(30)
    connection.close()


@pytest.mark.production
@pytest.mark.django_db(transaction=True)
def test_no_connection_in_time_answers_503_and_busy_and_the_resent_message_is_stored_once(pool_of_one, chat) -> None:
    from django.db import connection
    from django.test import AsyncClient

    from conversations.models import Message
    from conversations.services.identity import conversation_create

    conversation = conversation_create(user=None)
    connection.close()  # back to the pool: the test's thread holds nothing
    message = {"type": "message", "text": "Where is my parcel?", "client_id": "busy-1"}

    async def scenario() -> None:
        client, history = await chat(conversation.token)
        assert history["type"] == "history"
        taken, release = threading.Event(), threading.Event()
        holder = threading.Thread(target=hold_the_connection, args=(taken, release))
        holder.start()
        await asyncio.to_thread(taken.wait, 10)
        try:
            response = await AsyncClient().post("/api/v1/conversations")
            assert response.status_code == 503
            assert response["Retry-After"] == "2"
            assert response.json()["error"] == "busy"
            await client.send(message)
            frame = await client.until("error", timeout=15)
            assert (frame["code"], frame["client_id"], frame["retry_after"]) == ("busy", "busy-1", 2)
        finally:
            release.set()
            await asyncio.to_thread(holder.join, 10)
        await client.send(message)  # the widget's resend, same client_id
        echo = await client.until("message", timeout=15)
        assert echo["message"]["client_id"] == "busy-1"
        await client.close()

    asyncio.run(scenario())
    assert Message.objects.filter(conversation=conversation, client_id="busy-1").count() == 1
