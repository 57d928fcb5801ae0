#!/usr/bin/env python
"""A soak: a thousand conversations over a quarter of an hour against the production stack, then the database
checked against what every simulated customer sent and saw.

Starts a Redis server of its own, a PostgreSQL database of its own (created for the run, dropped after it), the
fake Ollama paced so that a reply takes about a second, and `manage.py serve` in production mode (Daphne, the
Celery workers, beat) in the default configuration (8 generation slots; rate limits off, since every simulated
customer is 127.0.0.1). Two consoles are signed in as two agents. Then `--conversations` customers arrive at random
moments over `--minutes`, each writing `--messages` messages with a few seconds' thought between them:

- about 5 % press stop while their reply streams (one message each),
- about 5 % ask for a person after a reply: a console takes the conversation over, replies, hands it back,
  and the customer goes on with the bot,
- about 20 % of the complete replies get a thumb (up, or down at most once per conversation),
- about 30 % of the conversations are resolved by a console at the end, and those customers give a CSAT score.

Every minute it records the resident memory of every process of the stack (serve, Daphne, each Celery worker and
its pool processes, beat, the fake Ollama, redis-server). At the end it prints, each as a line ending OK or FAIL
(exit status 1 on any FAIL):

- every customer message stored exactly once, as sent, with the id the customer's echo showed,
- every bot reply complete (the text the customer saw) or visibly ended (failed or cancelled, as the customer's
  `done` said), every reply the database holds seen by its customer, stops ending as cancelled replies,
- every conversation in a valid state (its fields agree with its status) and in the status its customer last saw,
  every agent reply, feedback and CSAT score stored as sent,
- no reply row left `streaming`,
- Redis: no keys without a TTL beyond Celery's queue bindings, and the keys with one, by pattern,
- memory flat: per process, RSS at the last minute against the first minute under load (the warm-up before it is
  left out), within FLAT_TOLERANCE,
- the dashboard's figures (console/dashboard, last day) equal to the same counts in SQL.

    .venv/bin/python bench/soak.py                                      # 1,000 x 5 over 12 minutes
    .venv/bin/python bench/soak.py --conversations 40 --minutes 1.5     # a two-minute look

Needs PostgreSQL (DATABASE_URL's server: the run creates and drops a database of its own there) and redis-server.
The stack's log is kept as bench/soak-serve.log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
import redis  # noqa: E402
import websockets  # noqa: E402
from first_token import _wait_for_workers, production_secrets, start_fake_ollama, stop, summary  # noqa: E402
from handoff import agent_session  # noqa: E402

from tests.processes import process_table  # noqa: E402
from tests.support.faults import RedisServer, wait_for  # noqa: E402
from tests.support.serve import ServedStack, serve_env  # noqa: E402
from tests.support.sockets import conversation_post  # noqa: E402

# A process's memory is flat when its RSS at the last minute is at most this much above the first minute's:
# the larger of an absolute and a relative allowance (allocator pools and caches settle in steps).
FLAT_TOLERANCE_MIB = 10
FLAT_TOLERANCE_SHARE = 0.05
MIB = 1024 * 1024
QUESTIONS = [
    "How long does shipping take?", "Can I return an item I bought last week?", "How do I reset my password?",
    "Do you ship abroad?", "Which payment methods do you accept?", "Where is my order?",
]


# --- the stack ----------------------------------------------------------------------------------------------


@contextmanager
def run_database(database_url: str, keep: bool):
    """A database of this run's own on DATABASE_URL's server (its URL), dropped afterwards unless `keep`."""
    parts = urlsplit(database_url)
    name = f"helpdesk_soak_{os.getpid()}"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        if keep:
            print(f"database kept: {name}")
        else:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SETTINGS_SHOWN = (
    "CELERY_GENERATION_CONCURRENCY", "CELERY_LOGGING_CONCURRENCY", "DATABASE_THREADS", "ANSWER_CACHE_ENABLED",
    "RATE_LIMITS_ENABLED",
    "ENCRYPT_MESSAGES", "REPLY_SAVE_INTERVAL_S", "REPLY_HEARTBEAT_TIMEOUT_S", "HISTORY_LIMIT",
)


def configuration(stack: ServedStack) -> str:
    """The settings that decide what this stack serves, as its processes read them."""
    script = (
        "from django.conf import settings; import json\n"
        f"print(json.dumps({{k: getattr(settings, k, None) for k in {SETTINGS_SHOWN!r}}}))"
    )
    shown = json.loads(stack.shell(script).strip().splitlines()[-1])
    budget = next((line.strip() for line in stack.log().splitlines() if line.startswith("Database connections")), "")
    return "  " + ", ".join(f"{k}={v}" for k, v in shown.items()) + (f"\n  {budget}" if budget else "")


# --- memory, minute by minute -------------------------------------------------------------------------------


def stack_processes(serve_pid: int, others: dict[int, str]) -> dict[int, str]:
    """Every process of the stack now, by pid, with a name that says what it is."""
    table = process_table()
    kids: dict[int, list[int]] = {}
    for info in table.values():
        kids.setdefault(info.parent, []).append(info.pid)
    names: dict[int, str] = {pid: name for pid, name in others.items() if pid in table}

    def name_of(pid: int, parent_name: str) -> str:
        command = table[pid].command
        if pid == serve_pid:
            return "serve (supervisor)"
        if "helpdesk.webserver" in command or "daphne" in command:
            return "web (Daphne)"
        if " beat" in command:
            return "beat"
        if match := re.search(r" -n (\S+?)@", command):
            if parent_name.startswith("worker "):
                return f"{parent_name} pool"
            return f"worker {match.group(1)}"
        return f"{parent_name} child" if parent_name else command[:40]

    pending = [(serve_pid, "")]
    while pending:
        pid, parent_name = pending.pop()
        if pid not in table:
            continue
        names[pid] = name_of(pid, parent_name)
        pending += [(child, names[pid]) for child in sorted(kids.get(pid, []))]
    return names


@dataclass
class MemoryLog:
    serve_pid: int
    others: dict[int, str]
    samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)  # (minute, {pid: rss})
    names: dict[int, str] = field(default_factory=dict)

    def sample(self, minute: float) -> None:
        table = process_table()
        now = stack_processes(self.serve_pid, self.others)
        self.names.update(now)
        self.samples.append((minute, {pid: table[pid].rss_bytes for pid in now if pid in table}))

    async def every_minute(self, started: float) -> None:
        while True:
            await asyncio.sleep(60 - (time.monotonic() - started) % 60)
            self.sample(round((time.monotonic() - started) / 60))

    def report(self) -> list[str]:
        """The table of RSS per process per minute, and a FAIL line for each process that grew."""
        print("\nResident memory (MiB) per process, per minute of the run (0: started, before any customer)")
        header = "  " + f"{'process':<30}{'pid':>8}" + "".join(f"{f'm{m:g}':>8}" for m, _ in self.samples)
        print(header)
        rows = sorted(self.names.items(), key=lambda item: (item[1], item[0]))
        for pid, name in rows:
            cells = "".join(f"{rss[pid] / MIB:8.1f}" if pid in rss else f"{'-':>8}" for _, rss in self.samples)
            print(f"  {name[:29]:<30}{pid:>8}{cells}")
        under_load = [s for s in self.samples if s[0] >= 1]
        if len(under_load) < 2:
            return [check("memory flat (first minute under load to last)", 0, ok=True,
                          note="run too short to judge: fewer than two minutes under load")]
        (first_minute, first), (last_minute, last) = under_load[0], under_load[-1]
        grown = []
        for pid, name in rows:
            if pid in first and pid in last:
                allowed = max(FLAT_TOLERANCE_MIB * MIB, first[pid] * FLAT_TOLERANCE_SHARE)
                if last[pid] - first[pid] > allowed:
                    # Still growing at the end, or settling? The rate over the second half says which.
                    middle_minute, middle = under_load[len(under_load) // 2]
                    late = (last[pid] - middle.get(pid, first[pid])) / MIB / max(last_minute - middle_minute, 0.1)
                    grown.append(f"{name} ({pid}) +{(last[pid] - first[pid]) / MIB:.1f} MiB "
                                 f"(second half: {late:+.2f} MiB/min)")
        replaced = [f"{self.names[pid]} ({pid})" for pid in first if pid not in last]
        return [
            check(f"memory flat, minute {first_minute:g} to {last_minute:g} (within +{FLAT_TOLERANCE_MIB} MiB or "
                  f"+{FLAT_TOLERANCE_SHARE:.0%})", len(grown), ok=not grown, note="; ".join(grown)),
            check("processes replaced during the run", len(replaced), ok=True, note="; ".join(replaced)),
        ]


@dataclass
class ConnectionLog:
    """The stack's connections to its database (pg_stat_activity), every 5 s, against serve's budget."""

    dsn: str
    budget: int | None
    most: int = 0
    samples: int = 0

    def count(self) -> int:
        with psycopg.connect(self.dsn) as connection:
            return connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]

    async def watch(self) -> None:
        while True:
            self.most = max(self.most, await asyncio.to_thread(self.count))
            self.samples += 1
            await asyncio.sleep(5)

    def report(self) -> list[str]:
        return [check(f"PostgreSQL connections at most, every 5 s ({self.samples} looks; the budget: {self.budget})",
                      self.most, ok=self.budget is None or self.most <= self.budget)]


# --- the people ---------------------------------------------------------------------------------------------


class Console:
    """An agent's console socket: sends what the customers ask of it, keeps every error frame it gets."""

    def __init__(self, base: str, session: str) -> None:
        self.base, self.session = base, session
        self.errors: list[dict] = []
        self.frames = 0

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            self.base.replace("http", "ws") + "/ws/console/", max_size=None, open_timeout=60,
            additional_headers={"Cookie": f"sessionid={self.session}", "Origin": self.base},
        )
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            self.frames += 1
            if frame["type"] == "error":
                self.errors.append(frame)

    async def send(self, kind: str, conversation_id: int, **fields: Any) -> None:
        await self.ws.send(json.dumps({"type": kind, "conversation_id": conversation_id, **fields}))

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


class NoAnswer(Exception):
    """The customer waited in vain."""


@dataclass
class Plan:
    messages: int
    stop_at: int | None  # the message whose reply the customer stops
    human_after: int | None  # after this message's reply the customer asks for a person
    resolve: bool  # a console resolves the conversation at the end; the customer rates it
    reload_at: int | None  # the message during whose reply the widget is reloaded (a new socket, the history)
    leave: bool  # the customer closes the widget while the last reply streams
    think: tuple[float, float]


class Customer:
    """One simulated customer: what they sent and everything the server showed them."""

    def __init__(self, index: int, base: str, plan: Plan, rng: random.Random, consoles: list[Console],
                 ids: ConversationIds) -> None:
        self.index, self.base, self.plan, self.rng = index, base, plan, rng
        self.consoles, self.ids = consoles, ids
        self.token = ""
        self.sent: dict[str, str] = {}  # client_id -> text
        self.echoed: dict[str, int] = {}  # client_id -> the stored message's id, as echoed
        self.replies: dict[int, dict] = {}  # bot message id -> the last form seen (done or message)
        self.agent_sent: dict[str, str] = {}  # an agent's client_id -> text, sent for this conversation
        self.agent_seen: dict[int, str] = {}  # agent message id -> text
        self.statuses: list[str] = []
        self.feedback: dict[int, int] = {}  # bot message id -> rating acknowledged
        self.csat: int | None = None
        self.stopped: set[int] = set()  # bot message ids the customer pressed stop on
        self.errors: list[dict] = []
        self.busy = 0
        self.unanswered: list[str] = []
        self.failure = ""
        self.queue: asyncio.Queue[dict] = asyncio.Queue()
        self.reloaded = False
        self.left: int | None = None  # the reply the customer left while it streamed
        self.reply_ms: list[float] = []  # from sending a message to its reply's end, as the customer saw it

    # the socket
    async def read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.observe(frame)
                await self.queue.put(frame)
        except websockets.ConnectionClosed:
            pass

    def observe(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "history":
            for message in frame["messages"]:
                self.observe({"type": "message", "message": message})
        elif kind in ("message", "done"):
            message = frame["message"]
            if message["role"] == "customer" and message.get("client_id"):
                self.echoed.setdefault(message["client_id"], message["id"])
            elif message["role"] == "bot":
                self.replies[message["id"]] = message
            elif message["role"] == "agent":
                self.agent_seen[message["id"]] = message["content"]
        elif kind == "status":
            self.statuses.append(frame["status"])
        elif kind == "feedback":
            self.feedback[frame["message_id"]] = frame["rating"]
        elif kind == "csat":
            self.csat = frame["score"]
        elif kind == "error" and frame.get("code") == "busy":
            self.busy += 1
        elif kind == "error":
            self.errors.append(frame)

    async def next_frame(self, deadline: float) -> dict:
        try:
            return await asyncio.wait_for(self.queue.get(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            raise NoAnswer from None

    async def until(self, wanted: Any, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.next_frame(deadline)
            if wanted(frame):
                return frame

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    # what the customer does
    async def run(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self.converse()
        except NoAnswer:
            self.failure = f"waited in vain after {self.statuses[-1:] or ['bot']} (sent {len(self.sent)})"
        except Exception as exc:  # recorded: the run goes on, the checks count it
            self.failure = repr(exc)[:200]
        finally:
            if hasattr(self, "reader"):
                await self.disconnect()

    async def converse(self) -> None:
        for _ in range(30):  # the widget's retry of a busy start
            status, headers, body = await asyncio.to_thread(conversation_post, self.base)
            if status not in (429, 503):
                break
            await asyncio.sleep(float(headers.get("Retry-After", "1")))
        if status != 201:
            raise RuntimeError(f"POST /api/v1/conversations answered {status}")
        self.token = json.loads(body)["token"]
        await self.connect()
        downs = 0
        for number in range(self.plan.messages):
            if number:
                # Thinking (what the server sends meanwhile is seen: a handoff after the reply's end, say).
                await asyncio.sleep(self.rng.uniform(*self.plan.think))
                if self.current() != "bot":  # handed on without asking: a console takes it and gives it back
                    await self.with_a_person(asked=False)
            reply = await self.ask(number)
            if reply and reply["status"] == "complete" and self.rng.random() < 0.2:
                rating = -1 if downs == 0 and self.rng.random() < 0.3 else 1  # two downs in a row hand it on
                downs += rating < 0
                await self.send(type="feedback", message_id=reply["id"], rating=rating)
                await self.until(lambda f, r=reply: f["type"] == "feedback" and f["message_id"] == r["id"])
            if number == self.plan.human_after and self.current() == "bot":
                await self.with_a_person(asked=True)
        if self.plan.leave:
            return
        await asyncio.sleep(1)  # reading the last reply: whatever follows it is seen before the widget closes
        if self.plan.resolve:
            await self.resolved()

    async def connect(self) -> None:
        """Open the widget's socket (again), and read the history it starts with."""
        self.ws = await websockets.connect(self.base.replace("http", "ws") + f"/ws/chat/{self.token}/",
                                           max_size=None, open_timeout=60, additional_headers={"Origin": self.base})
        self.queue = asyncio.Queue()
        self.reader = asyncio.create_task(self.read())
        history = await self.until(lambda f: f["type"] == "history")
        if history["conversation"]["status"] != self.current():
            self.statuses.append(history["conversation"]["status"])

    async def disconnect(self) -> None:
        self.reader.cancel()
        await self.ws.close()

    def answer_to(self, client_id: str) -> dict | None:
        """The bot's reply to a message, once it has ended, as the customer has it now."""
        stored_id = self.echoed.get(client_id)
        return next((m for m in self.replies.values() if stored_id and m.get("reply_to") == stored_id
                     and m["status"] != "streaming"), None)

    def current(self) -> str:
        return self.statuses[-1] if self.statuses else "bot"

    async def ask(self, number: int) -> dict | None:
        """Send message `number`; the bot's reply to it as the customer last saw it (None: none came)."""
        client_id = f"c{self.index}-{number}"
        text = f"{self.rng.choice(QUESTIONS)} (customer {self.index}, message {number + 1})"
        self.sent[client_id] = text
        await self.send(type="message", text=text, client_id=client_id)
        sent_at = time.perf_counter()
        stop = number == self.plan.stop_at
        deadline = time.monotonic() + 180
        while True:
            frame = await self.next_frame(deadline)
            kind = frame["type"]
            if kind == "error" and frame.get("client_id") == client_id:
                if frame.get("code") != "busy":
                    return None  # refused, and recorded as an error the customer saw
                await asyncio.sleep(frame.get("retry_after", 1))  # nothing stored: resent as the widget does
                await self.send(type="message", text=text, client_id=client_id)
            elif kind == "delta" and stop and frame["message_id"] not in self.stopped:
                self.stopped.add(frame["message_id"])
                await self.send(type="stop")
            elif kind == "delta" and number == self.plan.reload_at and not self.reloaded:
                self.reloaded = True  # the page is reloaded: a new socket, the history, then the rest
                await self.disconnect()
                await self.connect()
                if reply := self.answer_to(client_id):
                    self.reply_ms.append((time.perf_counter() - sent_at) * 1000)
                    return reply
            elif kind == "delta" and number == self.plan.messages - 1 and self.plan.leave:
                self.left = frame["message_id"]  # the widget is closed mid-reply: the rest is not seen
                return None
            elif kind in ("done", "message") and frame["message"]["role"] == "bot" \
                    and frame["message"].get("reply_to") == self.echoed.get(client_id):
                self.reply_ms.append((time.perf_counter() - sent_at) * 1000)
                return frame["message"]
            elif kind == "status" and frame["status"] != "bot":
                self.unanswered.append(client_id)
                return None

    async def with_a_person(self, *, asked: bool) -> None:
        """Ask for a person (or be handed on): a console takes over, replies, hands back to the bot."""
        if asked:
            await self.send(type="request_human")
            await self.until(lambda f: f["type"] == "status" and f["status"] == "waiting_human")
        console = self.consoles[self.index % len(self.consoles)]
        conversation_id = await self.ids.of(self.token)
        await console.send("take_over", conversation_id)
        await self.until(lambda f: f["type"] == "status" and f["status"] == "human")
        client_id, text = f"a{self.index}-{len(self.agent_sent)}", f"Hello from an agent, customer {self.index}."
        self.agent_sent[client_id] = text
        await console.send("reply", conversation_id, text=text, client_id=client_id)
        await self.until(lambda f: f["type"] == "message" and f["message"]["role"] == "agent"
                         and f["message"]["content"] == text)
        await console.send("hand_back", conversation_id)
        await self.until(lambda f: f["type"] == "status" and f["status"] == "bot")

    async def resolved(self) -> None:
        console = self.consoles[self.index % len(self.consoles)]
        await console.send("resolve", await self.ids.of(self.token))
        await self.until(lambda f: f["type"] == "status" and f["status"] == "resolved")
        await self.send(type="csat", score=self.rng.randint(1, 5))
        await self.until(lambda f: f["type"] == "csat")


class ConversationIds:
    """A conversation's number from its token (the console names conversations by number; the widget by token)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def of(self, token: str) -> int:
        def query() -> int:
            with psycopg.connect(self.dsn) as connection:
                return connection.execute(
                    "SELECT id FROM conversations_conversation WHERE token = %s", (token,)
                ).fetchone()[0]

        return await asyncio.to_thread(query)


def plans(args: argparse.Namespace, rng: random.Random) -> list[Plan]:
    result = []
    for _ in range(args.conversations):
        stop_at = rng.randrange(args.messages) if rng.random() < args.stops else None
        human_after = rng.randrange(args.messages - 1) if args.messages > 1 and rng.random() < args.handoffs else None
        reload_at = rng.randrange(args.messages) if rng.random() < args.reloads else None
        leave = rng.random() < args.leaves
        result.append(Plan(messages=args.messages, stop_at=stop_at, human_after=human_after,
                           resolve=not leave and rng.random() < args.resolved, think=(2.0, 6.0),
                           reload_at=reload_at, leave=leave))
    return result


async def customers_run(args: argparse.Namespace, base: str, sessions: list[str], dsn: str,
                        memory: MemoryLog, connections: ConnectionLog) -> tuple[list[Customer], list[Console], float]:
    rng = random.Random(args.seed)
    consoles = [Console(base, session) for session in sessions]
    for console in consoles:
        await console.connect()
    ids = ConversationIds(dsn)
    # Each conversation lasts about messages x (reply + think) seconds; arrivals leave time for the last one.
    length = args.messages * 5.5 + 5
    window = max(1.0, args.minutes * 60 - length)
    customers = [Customer(i, base, plan, random.Random(rng.random()), consoles, ids)
                 for i, plan in enumerate(plans(args, rng))]
    started = time.monotonic()
    memory.sample(0)
    sampler = asyncio.create_task(memory.every_minute(started))
    watcher = asyncio.create_task(connections.watch())
    progress = asyncio.create_task(report_progress(customers, started))
    await asyncio.gather(*(c.run(rng.uniform(0, window)) for c in customers))
    elapsed = time.monotonic() - started
    progress.cancel()
    sampler.cancel()
    watcher.cancel()
    memory.sample(round(elapsed / 60, 1))
    return customers, consoles, elapsed


async def report_progress(customers: list[Customer], started: float) -> None:
    while True:
        await asyncio.sleep(30)
        sent = sum(len(c.sent) for c in customers)
        answered = sum(len(c.replies) for c in customers)
        failed = sum(bool(c.failure) for c in customers)
        print(f"  {time.monotonic() - started:5.0f} s: {sent} messages sent, {answered} replies seen, "
              f"{failed} customers failed", flush=True)


# --- the checks ---------------------------------------------------------------------------------------------


FAILED: list[str] = []  # the checks that failed, for the exit status


def check(what: str, count: int, *, ok: bool, note: str = "") -> str:
    line = f"  {what:<72} {count:>6}  {'OK' if ok else 'FAIL'}" + (f"   {note}" if note else "")
    print(line)
    if not ok:
        FAILED.append(what)
    return line


DUMP = """
import json
from conversations.models import Conversation, Feedback, Message
rows = {"conversations": [], "messages": [], "feedback": []}
for c in Conversation.objects.order_by("id"):
    rows["conversations"].append({"id": c.id, "token": c.token, "status": c.status, "agent": c.agent_id,
        "handoff_at": bool(c.handoff_at), "resolved_at": bool(c.resolved_at), "csat": c.csat_score})
for m in Message.objects.select_related("conversation").order_by("id"):
    rows["messages"].append({"id": m.id, "token": m.conversation.token, "role": m.role, "status": m.status,
        "client_id": m.client_id, "reply_to": m.reply_to_id, "content": m.content})
for f in Feedback.objects.all():
    rows["feedback"].append({"message": f.message_id, "rating": f.rating})
print(json.dumps(rows))
"""


def verify_database(stack: ServedStack, customers: list[Customer]) -> list[str]:
    """What the customers sent and saw against what the database holds (read through the product's models)."""
    rows = json.loads(stack.shell(DUMP, timeout=600).strip().splitlines()[-1])
    by_token = {c.token: c for c in customers if c.token}
    messages: dict[str, list[dict]] = {}
    for m in rows["messages"]:
        messages.setdefault(m["token"], []).append(m)
    lines = []

    # every customer message stored exactly once, as sent, under the id the customer's echo showed
    stored_twice = missing = wrong_text = not_sent = unechoed = 0
    for token, customer in by_token.items():
        stored = Counter(m["client_id"] for m in messages.get(token, []) if m["role"] == "customer")
        texts = {m["client_id"]: (m["id"], m["content"]) for m in messages.get(token, []) if m["role"] == "customer"}
        for client_id, text in customer.sent.items():
            missing += stored[client_id] == 0
            stored_twice += stored[client_id] > 1
            if client_id in texts:
                wrong_text += texts[client_id][1] != text
                unechoed += customer.echoed.get(client_id) != texts[client_id][0]
        not_sent += sum(n for client_id, n in stored.items() if client_id not in customer.sent)
    sent = sum(len(c.sent) for c in customers)
    lines.append(check("customer messages sent", sent, ok=True))
    lines.append(check("  stored exactly once (missing / twice / not sent / other text)",
                       missing + stored_twice + not_sent + wrong_text,
                       ok=not (missing or stored_twice or not_sent or wrong_text),
                       note=f"{missing} / {stored_twice} / {not_sent} / {wrong_text}"))
    lines.append(check("  echoed to the customer with the stored id (not: count)", unechoed, ok=not unechoed))

    # every bot reply complete as seen, or visibly ended
    bot = [m for token in by_token for m in messages.get(token, []) if m["role"] == "bot"]
    statuses = Counter(m["status"] for m in bot)
    unseen = differs = stopped_not_cancelled = 0
    left_incomplete = 0
    for m in bot:
        customer = by_token[m["token"]]
        seen = customer.replies.get(m["id"])
        if m["id"] == customer.left:
            left_incomplete += m["status"] != "complete"  # nobody watches: it is still written whole
        elif seen is None:
            unseen += 1
        elif seen["status"] != m["status"] or (m["status"] == "complete" and seen["content"] != m["content"]):
            differs += 1
    for customer in customers:
        for message_id in customer.stopped:
            seen = customer.replies.get(message_id, {})
            stopped_not_cancelled += seen.get("status") not in ("cancelled", "complete")
    lines.append(check("bot replies stored", len(bot), ok=True,
                       note=", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))))
    lines.append(check("  complete, failed or cancelled (not: count)", len(bot) - sum(
        statuses[s] for s in ("complete", "failed", "cancelled")), ok=statuses.keys() <= {"complete", "failed",
                                                                                         "cancelled"}))
    lines.append(check("  as the customer last saw it (not seen / other status or text)", unseen + differs,
                       ok=not (unseen or differs), note=f"{unseen} / {differs}"))
    lines.append(check("  stops pressed, ended as cancelled or already complete (not: count)",
                       stopped_not_cancelled, ok=not stopped_not_cancelled,
                       note=f"stops pressed: {sum(len(c.stopped) for c in customers)}"))
    lines.append(check("  left while streaming, then completed all the same (not: count)", left_incomplete,
                       ok=not left_incomplete, note=f"left: {sum(c.left is not None for c in customers)}"))
    lines.append(check("  reloads while a reply streamed", sum(c.reloaded for c in customers), ok=True))
    unanswered = sum(len(c.unanswered) for c in customers)
    lines.append(check("  customer messages the bot did not answer (handed on instead)", unanswered, ok=True))

    # the conversations
    invalid = other_status = 0
    for c in rows["conversations"]:
        valid = {
            "bot": c["agent"] is None, "waiting_human": c["handoff_at"] and c["agent"] is None,
            "human": c["agent"] is not None, "resolved": c["resolved_at"],
        }.get(c["status"], False)
        invalid += not valid
        customer = by_token.get(c["token"])
        if customer is not None and customer.current() != c["status"]:
            other_status += 1
    lines.append(check("conversations", len(rows["conversations"]), ok=len(rows["conversations"]) == len(by_token),
                       note=", ".join(f"{s}: {n}" for s, n in sorted(Counter(
                           c["status"] for c in rows["conversations"]).items()))))
    lines.append(check("  in a valid state (not: count)", invalid, ok=not invalid))
    lines.append(check("  in the status their customer last saw (not: count)", other_status, ok=not other_status))

    agent_rows = Counter((m["token"], m["client_id"], m["content"]) for token in by_token
                         for m in messages.get(token, []) if m["role"] == "agent")
    agent_sent = [(c.token, client_id, text) for c in customers for client_id, text in c.agent_sent.items()]
    agent_bad = sum(agent_rows[key] != 1 for key in agent_sent) + sum(
        n for key, n in agent_rows.items() if key not in set(agent_sent))
    agent_unseen = sum(bool(c.agent_sent) and sorted(c.agent_seen.values()) != sorted(c.agent_sent.values())
                       for c in customers)
    lines.append(check("agent replies sent (handoffs)", len(agent_sent), ok=True))
    lines.append(check("  stored once and seen by the customer (not: count)", agent_bad + agent_unseen,
                       ok=not (agent_bad or agent_unseen)))

    stored_votes = {f["message"]: f["rating"] for f in rows["feedback"]}
    votes = {mid: rating for c in customers for mid, rating in c.feedback.items()}
    lines.append(check("feedback given", len(votes), ok=True,
                       note=f"down: {sum(r < 0 for r in votes.values())}"))
    lines.append(check("  stored as acknowledged (not: count)", len(set(votes.items()) ^ set(stored_votes.items())),
                       ok=votes == stored_votes))
    scores = {c.token: c.csat for c in customers if c.csat is not None}
    stored_scores = {c["token"]: c["csat"] for c in rows["conversations"] if c["csat"] is not None}
    lines.append(check("CSAT scores given", len(scores), ok=True))
    lines.append(check("  stored as acknowledged (not: count)", len(set(scores.items()) ^ set(stored_scores.items())),
                       ok=scores == stored_scores))

    streaming = sum(m["status"] == "streaming" for m in rows["messages"])
    lines.append(check("reply rows left streaming", streaming, ok=not streaming))
    return lines


def verify_customers(customers: list[Customer], consoles: list[Console]) -> list[str]:
    failed = [c for c in customers if c.failure]
    errors = Counter(e.get("code") for c in customers for e in c.errors)
    console_errors = Counter(e.get("code") for console in consoles for e in console.errors)
    for customer in failed[:5]:
        print(f"    customer {customer.index}: {customer.failure}")
    return [
        check("customers who finished their conversation (failed: count)", len(failed), ok=not failed,
              note=f"of {len(customers)}"),
        check("error frames customers saw, busy left aside", sum(errors.values()), ok=not errors,
              note=", ".join(f"{k}: {n}" for k, n in errors.items())),
        check("busy frames (message refused, resent)", sum(c.busy for c in customers), ok=True),
        check("error frames the consoles saw", sum(console_errors.values()), ok=not console_errors,
              note=", ".join(f"{k}: {n}" for k, n in console_errors.items())),
    ]


def key_pattern(key: str) -> str:
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{16,}|\d+", "N", key)


# Kept by design without a TTL, one key per queue, node or cache (so they do not grow with the traffic).
PERSISTENT_KEYS = {
    r"^_kombu\.binding": "Celery's bindings of its queues",
    r"^helpdesk:workers:[a-z]+$": "the workers' heartbeats, one sorted set per queue (old entries pruned)",
    r"^helpdesk:\d+:ollama:health:": "the last probe of each Ollama node",
    r"^helpdesk:\d+:answer-cache:generation$": "the answer cache's generation (a new one empties the cache)",
}


def verify_redis(redis_url: str) -> list[str]:
    connection = redis.Redis.from_url(redis_url)
    without, with_ttl, kept = Counter(), Counter(), Counter()
    longest: dict[str, int] = {}
    for raw in connection.scan_iter(count=1000):
        key = raw.decode(errors="replace")
        ttl = connection.ttl(raw)
        if ttl == -2:
            continue  # expired since the scan
        pattern = key_pattern(key)
        by_design = next((why for known, why in PERSISTENT_KEYS.items() if re.match(known, key)), None)
        if ttl == -1 and by_design:
            kept[by_design] += 1
        elif ttl == -1:
            without[pattern] += 1
        elif ttl >= 0:
            with_ttl[pattern] += 1
            longest[pattern] = max(longest.get(pattern, 0), ttl)
    lines = [check("Redis keys left behind without a TTL", sum(without.values()),
                   ok=not without, note="; ".join(f"{p}: {n}" for p, n in without.most_common(8)))]
    lines.append(check("Redis keys kept by design without a TTL (one per queue, node, cache)", sum(kept.values()),
                       ok=True))
    for why, n in kept.most_common():
        print(f"      {why}: {n}")
    lines.append(check("Redis keys with a TTL (expire by themselves)", sum(with_ttl.values()), ok=True))
    for pattern, n in with_ttl.most_common(10):
        print(f"      {pattern}: {n}, longest TTL left {longest[pattern]} s")
    return lines


DASHBOARD_LABELS = {
    "Conversations started": "conversations", "Customer messages": "customer_messages",
    "Resolved, no agent": "resolved_by_bot", "Resolved with an agent": "resolved_with_human",
}
SQL_COUNTS = {
    "conversations": "SELECT count(*) FROM conversations_conversation WHERE NOT evaluation",
    "customer_messages": "SELECT count(*) FROM conversations_message m JOIN conversations_conversation c "
                         "ON c.id = m.conversation_id WHERE m.role = 'customer' AND NOT c.evaluation",
    "resolved_by_bot": "SELECT count(*) FROM conversations_conversation c WHERE resolved_at IS NOT NULL "
                       "AND NOT evaluation AND agent_id IS NULL AND NOT EXISTS (SELECT 1 FROM conversations_message "
                       "m WHERE m.conversation_id = c.id AND m.role IN ('agent', 'note'))",
    "resolved_with_human": "SELECT count(*) FROM conversations_conversation c WHERE resolved_at IS NOT NULL "
                           "AND NOT evaluation AND (agent_id IS NOT NULL OR EXISTS (SELECT 1 FROM "
                           "conversations_message m WHERE m.conversation_id = c.id AND m.role IN ('agent', 'note')))",
    "csat_count": "SELECT count(*) FROM conversations_conversation WHERE csat_score IS NOT NULL AND NOT evaluation",
}


def verify_dashboard(base: str, session: str, dsn: str) -> list[str]:
    """The dashboard's summary (last day), as an agent's browser gets it, against the same counts in SQL."""
    import urllib.request

    request = urllib.request.Request(base + "/console/dashboard/?range=day&lang=en",
                                     headers={"Cookie": f"sessionid={session}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        page = response.read().decode()
    shown: dict[str, int] = {}
    for label, value in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page):
        label, value = unescape(label), unescape(value)
        if label in DASHBOARD_LABELS:
            shown[DASHBOARD_LABELS[label]] = int(value.replace(",", ""))
        elif label.startswith("CSAT"):
            ratings = re.search(r"ratings: ([\d,]+)", value)
            shown["csat_count"] = int(ratings.group(1).replace(",", "")) if ratings else 0
    with psycopg.connect(dsn) as connection:
        counted = {name: connection.execute(sql).fetchone()[0] for name, sql in SQL_COUNTS.items()}
    lines = []
    for name, sql_count in counted.items():
        lines.append(check(f"dashboard {name} = SQL", sql_count, ok=shown.get(name) == sql_count,
                           note=f"dashboard shows {shown.get(name)}"))
    return lines


# --- main ---------------------------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5, help="customer messages per conversation")
    parser.add_argument("--minutes", type=float, default=12, help="arrivals spread over about this long")
    parser.add_argument("--stops", type=float, default=0.05, help="share of conversations that stop a reply")
    parser.add_argument("--handoffs", type=float, default=0.05, help="share that ask for a person")
    parser.add_argument("--resolved", type=float, default=0.3, help="share resolved by a console, then rated")
    parser.add_argument("--reloads", type=float, default=0.05,
                        help="share that reload the widget while a reply streams")
    parser.add_argument("--leaves", type=float, default=0.05,
                        help="share that close the widget while their last reply streams")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep-database", action="store_true", help="leave the run's database for a look")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_server = RedisServer()
    redis_server.start()
    # A well-behaved model: it quotes the knowledge base's closest sentences and cites them (else 30 words).
    fake, ollama_url = start_fake_ollama("--ttft", "0.2", "--per-token", "0.025", "--tokens", "30", "--thinking", "",
                                         "--cite-sources")
    lines: list[str] = []
    try:
        with run_database(database_url, args.keep_database) as url, ServedStack(
            serve_env(database_url=url, redis_url=redis_server.url, ollama_url=ollama_url,
                      RATE_LIMITS_ENABLED="false", LOG_LEVEL="WARNING", DEBUG="false",
                      ALLOWED_HOSTS="127.0.0.1,localhost", LOAD_DEMO_KNOWLEDGE="true", **production_secrets()),
            ready="/healthz", ready_timeout=300,
        ) as stack:
            stack.start()
            concurrency = int(stack.shell("from django.conf import settings; "
                                          "print(settings.CELERY_GENERATION_CONCURRENCY)").split()[-1])
            _wait_for_workers(stack.env, concurrency)
            wait_for(lambda: stack.log().count(" warmed up in ") >= concurrency + 1, timeout=300)
            sessions = [agent_session(stack.env, name) for name in ("bench-agent-1", "bench-agent-2")]
            print(f"Soak: {args.conversations} conversations x {args.messages} messages, arrivals over "
                  f"{args.minutes:g} min; fake Ollama: 0.2 s to the first token, 25 ms a token, citing its sources "
                  "(about 1 s); "
                  f"{os.cpu_count()} CPUs shared by everything\nConfiguration:\n{configuration(stack)}")
            dsn = url
            memory = MemoryLog(serve_pid=stack.process.pid,
                               others={fake.pid: "fake Ollama", redis_server.process.pid: "redis-server"})
            budget = re.search(r"Database connections: at most (\d+)", stack.log())
            connections = ConnectionLog(dsn, int(budget.group(1)) if budget else None)
            customers, consoles, elapsed = asyncio.run(
                customers_run(args, stack.url, sessions, dsn, memory, connections)
            )
            print(f"\nCustomers done in {elapsed / 60:.1f} min; "
                  f"{sum(len(c.sent) for c in customers) / elapsed * 60:.0f} messages a minute")
            report_latency(customers)
            wait_for(lambda: not streaming_rows(dsn), timeout=120, interval=1)
            print("\nChecks")
            lines += verify_customers(customers, consoles)
            lines += verify_database(stack, customers)
            lines += verify_redis(redis_server.url)
            lines += verify_dashboard(stack.url, sessions[0], dsn)
            lines += connections.report()
            lines += memory.report()
            shutil.copy(stack.log_path, ROOT / "bench" / "soak-serve.log")
    finally:
        stop([fake])
        redis_server.stop()
    print(f"\n{len(FAILED)} check(s) failed: {'; '.join(FAILED)}" if FAILED else "\nevery check OK")
    return 1 if FAILED or not lines else 0


def streaming_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as connection:
        return connection.execute("SELECT count(*) FROM conversations_message WHERE status = 'streaming'").fetchone()[0]


def report_latency(customers: list[Customer]) -> None:
    replies = Counter(r["status"] for c in customers for r in c.replies.values())
    print(f"  reply, message sent to its end      : {summary([ms for c in customers for ms in c.reply_ms])}"
          f"  (max {max((ms for c in customers for ms in c.reply_ms), default=0):.0f} ms)")
    print(f"  replies the customers saw: {dict(replies)}; handoffs asked: "
          f"{sum(c.plan.human_after is not None for c in customers)}, resolved: "
          f"{sum(c.csat is not None for c in customers)}")


if __name__ == "__main__":
    sys.exit(main())
