#!/usr/bin/env python
"""Handoff latency: from the bot's `done` to the agents' inbox, and from an agent's send to the customer.

Starts the fake Ollama (answering "[NO-ANSWER] ...", so every reply hands off) and `manage.py serve` in
production mode (Daphne, Celery, PostgreSQL, Redis), signs one agent's console in, connects N customers
(default 100 live conversations) and:

1. all N ask at the same moment; for each conversation, the time from the customer receiving the bot's
   `done` to the console receiving that conversation's inbox line as `waiting_human`;
2. the agent takes every conversation over, then replies in each, one every 20 ms; for each reply, the time
   from the agent sending it to that customer's socket receiving it.

    .venv/bin/python bench/handoff.py            # N = 100
    .venv/bin/python bench/handoff.py --n 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import websockets  # noqa: E402
from first_token import (  # noqa: E402
    _ensure_database,
    _wait_for_workers,
    production_secrets,
    start_fake_ollama,
    start_serve,
    stop,
    summary,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")


def agent_session(env: dict, username: str = "bench-agent") -> str:
    """A signed-in session for a bench agent, made the way Django's login makes one."""
    script = (
        "from django.contrib.auth.models import Group, User\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY\n"
        f"u, _ = User.objects.get_or_create(username={username!r}, defaults={{'first_name': 'Bench'}})\n"
        "u.groups.add(Group.objects.get_or_create(name='agents')[0])\n"
        "s = SessionStore(); s[SESSION_KEY] = str(u.pk)\n"
        "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create(); print(s.session_key)\n"
    )
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,
                            check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


class Customer:
    def __init__(self, base: str) -> None:
        self.base = base
        self.done_at: float | None = None
        self.agent_message_at: dict[str, float] = {}

    async def connect(self) -> None:
        request = urllib.request.Request(self.base + "/api/v1/conversations", method="POST")
        self.token = (await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(request, timeout=30))))["token"]
        self.ws = await websockets.connect(self.base.replace("http", "ws") + f"/ws/chat/{self.token}/",
                                           max_size=None, open_timeout=30)
        json.loads(await self.ws.recv())
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            if frame["type"] == "done" and self.done_at is None:
                self.done_at = time.perf_counter()
            elif frame["type"] == "message" and frame["message"]["role"] == "agent":
                self.agent_message_at[frame["message"]["content"]] = time.perf_counter()


async def run(base: str, n: int, session: str) -> None:
    console = await websockets.connect(base.replace("http", "ws") + "/ws/console/", max_size=None,
                                       additional_headers={"Cookie": f"sessionid={session}",
                                                           "Origin": base}, open_timeout=30)
    waiting_at: dict[int, float] = {}
    taken: set[int] = set()
    inbox_ready = asyncio.Event()

    async def read_console() -> None:
        async for raw in console:
            frame = json.loads(raw)
            if frame["type"] == "inbox":
                inbox_ready.set()
            elif frame["type"] == "inbox_item" and frame["item"]["status"] == "waiting_human":
                waiting_at.setdefault(frame["item"]["id"], time.perf_counter())
            elif frame["type"] == "inbox_item" and frame["item"]["status"] == "human":
                taken.add(frame["item"]["id"])

    console_reader = asyncio.create_task(read_console())
    await inbox_ready.wait()
    customers = [Customer(base) for _ in range(n)]
    await asyncio.gather(*(c.connect() for c in customers))
    # Which conversation is whose: the server tells the console; look the tokens up once.
    ids = await asyncio.to_thread(conversation_ids, [c.token for c in customers])
    for customer in customers:
        customer.id = ids[customer.token]
    await asyncio.sleep(1)
    await asyncio.gather(*(c.ws.send(json.dumps({"type": "message", "text": "Where is my parcel?",
                                                  "client_id": "b-1"})) for c in customers))
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline and (  # noqa: ASYNC110 - polling two conditions with a deadline
        sum(c.done_at is not None for c in customers) < n or len(waiting_at) < n
    ):
        await asyncio.sleep(0.05)
    handoff = [(waiting_at[c.id] - c.done_at) * 1000 for c in customers if c.done_at and c.id in waiting_at]

    for customer in customers:
        await console.send(json.dumps({"type": "take_over", "conversation_id": customer.id}))
    deadline = time.perf_counter() + 60
    while len(taken) < n and time.perf_counter() < deadline:  # noqa: ASYNC110 - a deadline on a count
        await asyncio.sleep(0.05)
    await asyncio.sleep(1)  # the customers' "joined" notices have arrived: only replies are measured
    sent_at: dict[str, float] = {}
    for index, customer in enumerate(customers):
        text = f"agent reply {index}"
        sent_at[text] = time.perf_counter()
        await console.send(json.dumps({"type": "reply", "conversation_id": customer.id, "text": text}))
        await asyncio.sleep(0.02)
    await asyncio.sleep(3)
    replies = [(c.agent_message_at[f"agent reply {i}"] - sent_at[f"agent reply {i}"]) * 1000
               for i, c in enumerate(customers) if f"agent reply {i}" in c.agent_message_at]
    print(f"\n{n} live conversations, one console")
    print(f"  bot's done -> conversation waiting in the console : {summary(handoff)}   ({len(handoff)} of {n})")
    print(f"  agent's send -> customer's socket                  : {summary(replies)}   ({len(replies)} of {n})")
    console_reader.cancel()
    await console.close()
    for customer in customers:
        customer.reader.cancel()
        await customer.ws.close()


def conversation_ids(tokens: list[str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(DATABASE_URL) as connection:
        rows = connection.execute(
            "SELECT token, id FROM conversations_conversation WHERE token = ANY(%s)", (tokens,)
        ).fetchall()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    _ensure_database(DATABASE_URL)
    fake, ollama_url = start_fake_ollama(
        "--ttft", "0.1", "--per-token", "0.01", "--thinking", "",
        "--content", "[NO-ANSWER] Sorry, I do not know; a colleague will help.",
    )
    processes = [fake]
    try:
        env = {
            **os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "OLLAMA_HOSTS": ollama_url,
            "CHAT_RATE_LIMIT": "100000", "RATE_LIMITS_ENABLED": "false", "LOG_LEVEL": "WARNING", "DEBUG": "false",
            **production_secrets(), "LOAD_DEMO_KNOWLEDGE": "false",
            "CELERY_GENERATION_CONCURRENCY": str(min(args.n, 20)), "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        serve, base = start_serve(env)
        processes.append(serve)
        _wait_for_workers(env, min(args.n, 20))
        session = agent_session(env)
        asyncio.run(run(base, args.n, session))
    finally:
        stop(list(reversed(processes)))


if __name__ == "__main__":
    main()
