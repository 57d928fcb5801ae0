"""Backup and restore, as the README's "Backup and restore" steps say: `pg_dump -Fc` of a database with
conversations, `pg_restore` into a new, empty database, and the product started on it serves them: the customer's
conversation comes back with its history, and goes on (new rows get new ids: the sequences came back too).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import require, uses_postgres
from tests.support.serve import ServedStack, own_database, serve_env

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]

SEED = """
from conversations.models import Conversation, Message
c = Conversation.objects.create(contact_email="mei@example.com", contact_name="Mei")
q = Message.objects.create(conversation=c, role="customer", content="Where is my parcel 快递?", client_id="b-1")
Message.objects.create(conversation=c, role="bot", content="It left the warehouse today.", reply_to=q)
print(c.token)
"""


def _libpq(url_dsn: str) -> dict[str, str]:
    """The restore tools read the server from libpq's environment, like an operator's shell would."""
    parts = dict(part.split("=", 1) for part in url_dsn.split())
    mapping = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
    return {**os.environ, **{mapping[k]: v for k, v in parts.items() if k in mapping}}


async def _history_then_reply(url: str, origin: str) -> tuple[dict, dict]:
    import websockets

    async with websockets.connect(url, additional_headers={"Origin": origin}) as ws:
        frames: list[dict] = []
        deadline = time.monotonic() + 60
        while not any(f["type"] == "history" for f in frames):
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic())))
        history = next(f for f in frames if f["type"] == "history")
        await ws.send(json.dumps({"type": "message", "text": "And when will it arrive?", "client_id": "b-2"}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            if frame["type"] == "done":
                return history, frame


def test_a_dump_restored_into_a_new_database_serves_its_conversations(
    fake_ollama_server: FakeOllama, tmp_path: Path, settings: Any
) -> None:
    require(not settings.EMBEDDED and uses_postgres(), "PostgreSQL and Redis")
    import redis

    dump = tmp_path / "helpdesk.dump"
    redis_url = settings.REDIS_URL.rsplit("/", 1)[0] + "/8"  # away from the test worker's queues
    redis.Redis.from_url(redis_url).flushdb()
    with own_database("backup_from") as source, own_database("backup_to") as target:
        env = serve_env(database_url=source.url, redis_url=redis_url, ollama_url=fake_ollama_server.url,
                        HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false")
        with ServedStack(env, keep_log_as="backup-source.log") as original:
            original.migrate()
            token = original.shell(SEED, timeout=60).split()[-1]

        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump)],
                       env=_libpq(source.dsn), check=True, timeout=120)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", target.name, str(dump)],
                       env=_libpq(target.dsn), check=True, timeout=120)

        fake_ollama_server.reset()
        fake_ollama_server.script(Reply(content="Tomorrow, before noon."))
        restored_env = {**env, "DATABASE_URL": target.url}
        with ServedStack(restored_env, ready="/healthz", keep_log_as="backup-restored.log") as restored:
            restored.start()
            url = restored.url.replace("http", "ws") + f"/ws/chat/{token}/"
            history, done = asyncio.run(_history_then_reply(url, restored.url))

    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("customer", "Where is my parcel 快递?"), ("bot", "It left the warehouse today.")]
    assert done["message"]["content"] == "Tomorrow, before noon."
    assert done["message"]["id"] > max(m["id"] for m in history["messages"])
