"""The helpdesk behind a real PgBouncer in transaction pooling mode, as deploy/docker-compose.yml and deploy/k8s run it
(DATABASE_POOLER=pgbouncer).

- The production stack (`manage.py serve`: Daphne, a generation worker, beat) on a role whose CONNECTION LIMIT is
  below the stack's connection budget, every connection through PgBouncer: serve starts (the budget is not compared
  with what PostgreSQL allows, PgBouncer's pool bounds that), /healthz is ready, and a customer's message and the
  bot's streamed reply are stored.
- Why the setting exists: without it, Django's QuerySet.iterator() declares a server-side cursor whose next FETCH,
  behind transaction pooling, may reach another PostgreSQL connection, where the cursor does not exist.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet

from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import ROOT, require, uses_postgres
from tests.support.faults import FaultStack, RedisServer
from tests.support.pgbouncer import PgBouncer, pgbouncer_binary
from tests.support.serve import LimitedDatabase, limited_database, serve_env
from tests.support.sockets import frames_until

# No digits: a number no source backs would hand the conversation on.
ANSWER = "Parcels usually arrive within three working days of dispatch."
ROLE_LIMIT, POOL_SIZE = 8, 4


@dataclass
class Pooled:
    stack: FaultStack
    bouncer: PgBouncer
    database: LimitedDatabase


@pytest.fixture(scope="module")
def pooled(fake_ollama_server: FakeOllama) -> Iterator[Pooled]:
    """A role limited to ROLE_LIMIT connections owning a new database, a PgBouncer pooling it by transaction
    (POOL_SIZE server connections), and serve on it through PgBouncer with DATABASE_POOLER=pgbouncer and a budget of
    9 + 2 + 1 + 1 + 3 = 16 connections; ready when /healthz answers 200."""
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    require(pgbouncer_binary() is not None, "PgBouncer (apt-get install pgbouncer)")
    db = settings.DATABASES["default"]
    redis = RedisServer()
    redis.start()
    try:
        with limited_database("pgb", ROLE_LIMIT) as database, PgBouncer(
            database.name, roles={database.role: database.password}, pool_size=POOL_SIZE,
            host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 5432),
        ) as bouncer:
            env = serve_env(database_url=bouncer.url(database.role), redis_url=redis.url,
                            ollama_url=fake_ollama_server.url, DATABASE_POOLER="pgbouncer", DATABASE_THREADS="8",
                            GENERATION_DB_CONNECTIONS="2", CELERY_LOGGING_CONCURRENCY="1",
                            DATABASE_BUDGET_MARGIN="3", DATABASE_BUDGET="refuse", HANDOFF_THRESHOLD="0",
                            METRICS_TOKEN="")
            with FaultStack(env, redis, database.admin, ready="/healthz", keep_log_as="pgbouncer-stack.log") as stack:
                stack.migrate()  # through PgBouncer too
                stack.start()
                yield Pooled(stack=stack, bouncer=bouncer, database=database)
    finally:
        redis.stop()


@pytest.mark.production
@pytest.mark.timeout(300)
def test_a_customer_message_and_its_streamed_reply_are_stored_through_pgbouncer_in_transaction_mode(
    pooled: Pooled, fake_ollama_server: FakeOllama
) -> None:
    import websockets

    stack = pooled.stack
    log = stack.log()
    assert "not compared with PostgreSQL's max_connections" in log, log[-3000:]
    assert "16 = web 9 (DATABASE_THREADS 8 + 1) + generation 2 + logging 1 + beat 1 + margin 3" in log
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=ANSWER, per_token=0.01))
    created = stack.conversation()
    frames: list[dict] = []

    async def converse() -> dict:
        async with websockets.connect(stack.websocket_url(created["websocket"]),
                                      additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, frames)
            await ws.send(json.dumps({"type": "message", "text": "When will my parcel arrive?", "client_id": "p-1"}))
            return await frames_until(ws, {"done"}, frames, timeout=90)

    done = asyncio.run(converse())
    assert done["message"]["status"] == "complete" and done["message"]["content"] == ANSWER, done
    rows = stack.query(
        "SELECT m.role, m.status, m.content FROM conversations_message m JOIN conversations_conversation c "
        "ON c.id = m.conversation_id WHERE c.token = %s ORDER BY m.id", (created["token"],))
    assert [r[2] for r in rows if r[0] == "customer"] == ["When will my parcel arrive?"], rows
    assert [(r[1], r[2]) for r in rows if r[0] == "bot"] == [("complete", ANSWER)], rows
    [(server_connections,)] = stack.query("SELECT count(*) FROM pg_stat_activity WHERE usename = %s",
                                          (pooled.database.role,))
    print(f"\nthrough PgBouncer (transaction pooling): the reply stored whole, {len(ANSWER)} characters; the stack's "
          f"budget 16 client connections, PostgreSQL sees {server_connections} of the role (pool {POOL_SIZE}, "
          f"role limit {ROLE_LIMIT})")
    assert server_connections <= POOL_SIZE


ITERATE_WHILE_ANOTHER_CLIENT_HOLDS_THE_SERVER_CONNECTION = """
import os
import psycopg
from django.contrib.contenttypes.models import ContentType
from django.db import connection
# Which server connection PgBouncer hands the other client depends on timing: five tries, each reported.
for attempt in range(5):
    try:  # the cursor may be lost at its first FETCH already, or at a later one
        rows = ContentType.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=1)
        first = next(rows)
        # Another client of PgBouncer opens a transaction: it gets the idle server connection the first rows came
        # from.
        with psycopg.connect(os.environ["OTHER_CLIENT_DSN"]) as other:
            other.execute("SELECT 1")
            print("read", 1 + len(list(rows)))
    except Exception as exc:
        print("failed", type(exc).__name__, exc)
        connection.close()
print("expected", ContentType.objects.count())
"""


@pytest.mark.production
@pytest.mark.timeout(180)
@pytest.mark.parametrize("pooler", ["", "pgbouncer"])
def test_a_queryset_iterator_survives_transaction_pooling_only_with_the_setting(pooled: Pooled, pooler: str) -> None:
    # A PgBouncer of its own (2 server connections), so that the stack's traffic cannot decide which server
    # connection each transaction gets: the iterator's first FETCH and the other client's transaction share one.
    db_env = {"DATABASE_POOLER": pooler}
    with PgBouncer(pooled.database.name, roles={pooled.database.role: pooled.database.password}, pool_size=2,
                   host=pooled.bouncer.upstream[0], port=pooled.bouncer.upstream[1]) as bouncer:
        env = {**pooled.stack.env, **db_env, "DATABASE_URL": bouncer.url(pooled.database.role),
               "OTHER_CLIENT_DSN": bouncer.dsn(pooled.database.role)}
        done = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                               ITERATE_WHILE_ANOTHER_CLIENT_HOLDS_THE_SERVER_CONNECTION],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    outcomes = [line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("read", "failed"))]
    [expected] = [line.split(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("expected")]
    print(f"\nDATABASE_POOLER={pooler!r}: {done.stdout.strip()}")
    assert len(outcomes) == 5, done.stdout + done.stderr
    if pooler:
        assert outcomes == [["read", expected]] * 5, done.stdout
    else:
        # Django declared a cursor WITH HOLD on one server connection; its next FETCH reached another one.
        assert any(kind == "failed" and "does not exist" in detail for kind, detail in outcomes), done.stdout


def settings_of(**env: str) -> subprocess.CompletedProcess:
    script = ("from django.conf import settings; d = settings.DATABASES['default']; "
              "print(d.get('DISABLE_SERVER_SIDE_CURSORS', False), d['OPTIONS'].get('prepare_threshold', 'unset'), "
              "d['OPTIONS'].get('server_side_binding', 'unset'), 'pool' in d['OPTIONS'])")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_URL"))}
    base.update(DJANGO_SETTINGS_MODULE="helpdesk.settings", DATABASE_URL="postgres://u:p@db.invalid:5432/helpdesk",
                SECRET_KEY=secrets.token_urlsafe(50), FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                LOOKUP_HASH_KEY=secrets.token_urlsafe(32), **env)
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {script}"], cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=60)


def test_the_setting_turns_off_what_transaction_pooling_breaks_and_keeps_the_process_pool() -> None:
    assert settings_of().stdout.split() == ["False", "unset", "unset", "True"]
    on = settings_of(DATABASE_POOLER="pgbouncer")
    assert on.stdout.split() == ["True", "None", "False", "True"], on.stderr
    wrong = settings_of(DATABASE_POOLER="pgpool")
    assert wrong.returncode != 0 and 'DATABASE_POOLER is "" (none) or "pgbouncer"' in wrong.stderr
