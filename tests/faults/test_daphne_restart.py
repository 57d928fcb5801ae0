"""Daphne restarted under open sockets, as a rolling deploy does it: the web process is stopped (SIGTERM) and a new
one started on the same port, while the Celery generation worker keeps running (deploy/k8s runs them as separate
Deployments; the test runs each with its container's own command line, on its own database and Redis).

50 customers' widgets and 2 agents' consoles are open, and one reply streams (the fake Ollama, a word at a time).
The clients follow the reconnect rules of static/widget.js and static/console.js (backoff, jitter, what a history
frame and the deltas after it show), not a shortcut of the test's. What must hold:

- every socket reconnects by itself once the new Daphne listens;
- the streaming reply completes (the worker streams on into the channel layer and the database) and every screen
  shows it whole, once: what the history frame (or the console's conversation frame) shows, with the deltas and the
  `done` after it, never stops being a beginning of the answer and ends as the answer;
- a message sent into the dying socket, and one written while no server listens (the outbox), are each stored once
  and confirmed after the reconnect;
- the consoles get their conversation list again and the finished reply.

And the real widget in Chromium through the same restart: the reply it was showing is shown whole, once.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conversations.protocol.codes import CloseCode
from tests.browser import ask_in_widget, bot_texts, fresh_page, texts
from tests.browser import wait_for as wait_in_browser
from tests.fake_ollama import FakeOllama, Reply
from tests.support.deploy import k8s_argv, k8s_get, pod_spec
from tests.support.environment import ROOT, free_port, require, uses_postgres
from tests.support.faults import RedisServer, agent_session_script, wait_for
from tests.support.serve import own_database, serve_env
from tests.support.stored import plain_rows

pytestmark = [pytest.mark.production, pytest.mark.timeout(240)]

CUSTOMERS, TABS, CONSOLES = 48, 3, 2  # 50 customer sockets: the last customer has the chat open in three tabs
# 160 words at 0.06 s: about 10 s of streaming. No digits: a number no source backs would hand the conversation on.
ANSWER = " ".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(160))


def container_argv(workload: str, env: dict[str, str]) -> list[str]:
    """The command line of a deploy/k8s Deployment's container, for this machine (this Python, `$(VAR)` expanded)."""
    [container] = pod_spec(k8s_get("Deployment", workload))["containers"]
    argv = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in k8s_argv(container)]
    return {"python": [sys.executable], "celery": [sys.executable, "-m", "celery"]}[argv[0]] + argv[1:]


class Deployment:
    """The web process and the generation worker, each started apart as its Deployment runs it; the web one can be
    replaced on its port."""

    def __init__(self, env: dict[str, str], dsn: str) -> None:
        self.env, self.dsn = env, dsn
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkdtemp(prefix="helpdesk-restart-")) / "processes.log"
        self.log = open(self.log_path, "a")
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True, timeout=180).stdout

    def spawn(self, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_worker(self) -> None:
        self.worker = self.spawn(container_argv("worker-generation", self.env))

    def start_web(self) -> float:
        """A new web process on the port; the seconds until it answered /livez."""
        web = container_argv("web", self.env)
        web[web.index("-b") + 1], web[web.index("-p") + 1] = "127.0.0.1", str(self.port)
        started = time.monotonic()
        self.web = self.spawn(web)
        wait_for(self.live, timeout=90, interval=0.1)
        return time.monotonic() - started

    def stop_web(self) -> int:
        """SIGTERM, as Kubernetes stops a pod; its exit status."""
        assert self.web is not None
        self.web.send_signal(signal.SIGTERM)
        return self.web.wait(timeout=30)

    def live(self) -> bool:
        assert self.web is not None and self.web.poll() is None, self.log_path.read_text()[-3000:]
        try:
            with urllib.request.urlopen(self.url + "/livez", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return plain_rows(conn.execute(sql, params).fetchall())

    def conversation(self) -> dict[str, Any]:
        request = urllib.request.Request(self.url + "/api/v1/conversations", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json", "Origin": self.url})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def close(self) -> None:
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def deployment(fake_ollama_server: FakeOllama, django_db_blocker: Any) -> Iterator[Deployment]:
    from django.conf import settings

    require(not settings.EMBEDDED and uses_postgres(), "PostgreSQL and Redis")
    redis = RedisServer()
    redis.start()
    try:
        with own_database("restart") as database:
            env = serve_env(database_url=database.url, redis_url=redis.url, ollama_url=fake_ollama_server.url,
                            CELERY_GENERATION_CONCURRENCY="1", HANDOFF_THRESHOLD="0",
                            RATE_LIMIT_CONVERSATIONS_PER_IP="200/minute", REPLY_SAVE_INTERVAL_S="0.5",
                            PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="helpdesk-metrics-"))
            deployment = Deployment(env, database.dsn)
            try:
                deployment.manage("migrate", "--verbosity", "0")
                deployment.manage("collectstatic", "--noinput", "--verbosity", "0")  # the image's build step
                deployment.start_worker()
                deployment.start_web()
                yield deployment
            finally:
                deployment.close()
    finally:
        redis.stop()


@dataclass
class Shown:
    """One message as a screen shows it."""

    text: str
    status: str
    seq: int = -1


@dataclass
class Client:
    """A socket that reconnects as its page's script does; what it showed, and how its reconnects went."""

    url: str
    headers: dict[str, str]
    answer: str  # the streaming reply's text: what is shown of it must always be a beginning of it
    retry: int = 0
    ws: Any = None
    opened: int = 0  # first frames (history, hello) received: connections made
    closes: list[int] = field(default_factory=list)
    dropped_at: float | None = None
    reconnect_s: list[float] = field(default_factory=list)
    shown: dict[Any, Shown] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    refused: int | None = None
    stopping: bool = False
    grew_after_reconnect: bool = False  # a reply shown streaming went on with deltas after a reconnect

    async def run(self) -> None:
        import websockets

        while not self.stopping:
            code = 1006  # no connection, or no close frame
            try:
                async with websockets.connect(self.url, additional_headers=self.headers, open_timeout=20,
                                              ping_interval=None, max_size=None) as ws:
                    self.ws = ws
                    self.retry = 0  # onopen
                    try:
                        async for raw in ws:
                            self.handle(json.loads(raw))
                    except websockets.ConnectionClosed:
                        pass
                    code = ws.close_code or 1006
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                pass
            self.ws = None
            if self.stopping:
                return
            self.closes.append(code)
            if self.dropped_at is None and self.opened:
                self.dropped_at = time.monotonic()
            if code in (CloseCode.FORBIDDEN, CloseCode.NOT_FOUND):
                self.refused = code
                return
            await asyncio.sleep(self.delay(code))

    def delay(self, code: int) -> float:
        raise NotImplementedError

    def connected(self) -> None:
        """The first frame of a connection came."""
        self.opened += 1
        if self.dropped_at is not None:
            self.reconnect_s.append(time.monotonic() - self.dropped_at)
            self.dropped_at = None

    def show(self, message: dict) -> None:
        """Both scripts: a message replaces what is shown of it; one still streaming carries the seq of the last
        delta its text holds, which the next delta continues."""
        entry = self.shown.setdefault(message["id"], Shown(message["content"], message["status"]))
        entry.text, entry.status, entry.seq = message["content"], message["status"], message.get("seq", -1)
        self.check(entry)

    def delta(self, frame: dict) -> None:
        # Both scripts: seq 0 starts the text over; a piece that does not follow is left to `done`.
        entry = self.shown.setdefault(frame["message_id"], Shown("", "streaming"))
        if frame["seq"] == 0:
            entry.text, entry.seq = "", -1
        if frame["seq"] == entry.seq + 1:
            entry.text, entry.seq = entry.text + frame["text"], frame["seq"]
            self.grew_after_reconnect |= self.opened > 1 and frame["seq"] > 0
        self.check(entry)

    def check(self, entry: Shown) -> None:
        if entry.text.startswith("word") and not self.answer.startswith(entry.text):
            self.wrong.append(entry.text)

    def send(self, frame: dict) -> None:
        if self.ws is not None:
            asyncio.get_running_loop().create_task(self._send(frame))

    async def _send(self, frame: dict) -> None:
        try:
            await self.ws.send(json.dumps(frame))
        except Exception:  # the socket went meanwhile: the outbox (widget) goes again after the reconnect
            pass

    def handle(self, frame: dict) -> None:
        raise NotImplementedError


@dataclass
class Widget(Client):
    """static/widget.js: backoff 0.5 s doubling to 30 s with jitter; the history frame replaces what is shown and
    confirms the outbox, which is then sent again (same client_ids)."""

    outbox: list[dict] = field(default_factory=list)
    wait: float = 0  # an error frame's retry_after
    resumed_streaming: list[bool] = field(default_factory=list)  # per history frame: a reply was still streaming

    def delay(self, code: int) -> float:
        if code == CloseCode.RATE_LIMITED:
            return self.wait or 30
        wait = min(30.0, 0.5 * 2 ** self.retry) * (0.75 + random.random() / 2)
        self.retry += 1
        return wait

    def handle(self, frame: dict) -> None:
        if frame["type"] == "history":
            self.connected()
            self.shown = {}
            for message in frame["messages"]:
                self.upsert(message)
            self.resumed_streaming.append(any(m["status"] == "streaming" for m in frame["messages"]))
            for message in self.outbox:
                self.send({"type": "message", **message})
        elif frame["type"] in ("message", "done"):
            self.upsert(frame["message"])
        elif frame["type"] == "delta":
            self.delta(frame)
        elif frame["type"] == "error" and frame.get("retry_after"):
            self.wait = frame["retry_after"]

    def upsert(self, message: dict) -> None:
        self.show(message)
        self.outbox = [m for m in self.outbox if m["client_id"] != message.get("client_id")]

    def write(self, text: str, client_id: str) -> None:
        """The customer sends: into the outbox, and over the socket if one is open."""
        self.outbox.append({"text": text, "client_id": client_id})
        self.send({"type": "message", "text": text, "client_id": client_id})


@dataclass
class Console(Client):
    """static/console.js: backoff 0.5 s doubling to 30 s; on hello the open conversation is opened again, whose
    frame replaces what is shown; the inbox frame replaces the list."""

    open_id: int | None = None
    inbox: dict[int, dict] = field(default_factory=dict)
    inbox_sizes: list[int] = field(default_factory=list)

    def delay(self, code: int) -> float:
        wait = min(30.0, 0.5 * 2 ** self.retry)
        self.retry += 1
        return wait

    def handle(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "hello":
            self.connected()
            if self.open_id is not None:
                self.send({"type": "open", "conversation_id": self.open_id})
        elif kind == "inbox":
            self.inbox = {item["id"]: item for item in frame["items"]}
            self.inbox_sizes.append(len(self.inbox))
        elif kind == "inbox_item":
            self.inbox[frame["item"]["id"]] = frame["item"]
        elif kind == "conversation":
            self.shown = {}
            for message in frame["messages"]:
                self.show(message)
        elif kind in ("message", "done") and frame.get("conversation_id") == self.open_id:
            self.show(frame["message"])
        elif kind == "delta" and frame.get("conversation_id") == self.open_id:
            self.delta(frame)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def stored(deployment: Deployment, client_id: str) -> int:
    return deployment.query("SELECT count(*) FROM conversations_message WHERE client_id = %s", (client_id,))[0][0]


def test_a_rolling_restart_of_daphne_reconnects_every_socket_and_shows_the_streaming_reply_whole_once(
    deployment: Deployment, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=ANSWER, per_token=0.06), Reply(content="Got it."),
                              Reply(content="Got it."))
    origin = {"Origin": deployment.url}
    ws_url = deployment.url.replace("http", "ws")
    created = [deployment.conversation() for _ in range(CUSTOMERS)]
    widgets = [Widget(ws_url + c["websocket"], origin, ANSWER) for c in [*created, *[created[-1]] * (TABS - 1)]]
    cookie = deployment.manage("shell", "-c", agent_session_script("restart-agent")).split()[-1]
    [[first_id]] = deployment.query("SELECT id FROM conversations_conversation WHERE token = %s",
                                    (created[0]["token"],))
    consoles = [Console(ws_url + "/ws/console/", {**origin, "Cookie": f"sessionid={cookie}"}, ANSWER,
                        open_id=first_id) for _ in range(CONSOLES)]
    streaming = ("SELECT status, content FROM conversations_message WHERE conversation_id = %s AND role = 'bot'")
    timings: dict[str, float] = {}

    async def scenario() -> None:
        clients: list[Client] = [*widgets, *consoles]
        tasks = [asyncio.create_task(client.run()) for client in clients]

        async def until(condition: Any, timeout: float, what: str = "") -> None:
            try:
                await asyncio.to_thread(wait_for, condition, timeout, 0.1)
            except AssertionError:
                raise AssertionError(f"{what}: closes {[c.closes for c in clients]}") from None

        try:
            await until(lambda: all(c.opened for c in clients) and all(c.inbox_sizes for c in consoles), 90)
            widgets[0].write("Tell me everything", "restart-0")
            # Mid-stream: a part of the answer is saved, and every screen shows some of it.
            await until(lambda: [(s, t) for s, t in deployment.query(streaming, (first_id,))
                                 if s == "streaming" and t], 60)
            await until(lambda: all(any(s.text for s in c.shown.values() if s.status == "streaming")
                                    for c in (widgets[0], *consoles)), 30)
            widgets[2].write("sent as the server stops", "restart-2")
            stopped_at = time.monotonic()
            status = await asyncio.to_thread(deployment.stop_web)
            timings["stop_s"] = time.monotonic() - stopped_at
            timings["exit_status"] = status
            [(reply_status, partial)] = deployment.query(streaming, (first_id,))
            assert reply_status == "streaming" and partial != ANSWER, "the reply still streams while no web runs"
            widgets[1].write("written while no server listens", "restart-1")
            timings["start_s"] = await asyncio.to_thread(deployment.start_web)
            await until(lambda: all(c.opened >= 2 for c in clients), 90, "every socket reconnects")
            timings["all_back_s"] = time.monotonic() - stopped_at
            await until(lambda: any(s.status == "complete" and s.text == ANSWER for s in widgets[0].shown.values()),
                        120)
            await until(lambda: all(any(s.status == "complete" and s.text == ANSWER for s in c.shown.values())
                                    for c in consoles), 60)
            await until(lambda: not widgets[1].outbox and not widgets[2].outbox, 60, "the outboxes are confirmed")
            # Their answers too, before the next test scripts the fake Ollama again.
            await until(lambda: all(any(s.text == "Got it." for s in w.shown.values()) for w in widgets[1:3]), 60,
                        "the messages sent meanwhile are answered")
        finally:
            for client in clients:
                client.stopping = True
                if client.ws is not None:
                    await client.ws.close()
            await asyncio.wait(tasks, timeout=10)

    asyncio.run(scenario())

    reconnects = [s for c in widgets for s in c.reconnect_s]
    console_reconnects = [s for c in consoles for s in c.reconnect_s]
    codes = sorted({code for c in [*widgets, *consoles] for code in c.closes})
    print(f"\nDaphne stopped in {timings['stop_s']:.1f} s (exit status {timings['exit_status']}); the new one "
          f"answered after {timings['start_s']:.1f} s; every socket back {timings['all_back_s']:.1f} s after the stop")
    print(f"customers: {sum(len(c.reconnect_s) for c in widgets)} reconnects of {len(widgets)} sockets ({CUSTOMERS} "
          f"customers, one in {TABS} tabs), close codes seen {codes}, failed attempts "
          f"{sum(len(c.closes) for c in widgets) - len(widgets)}, time to reconnect "
          f"p50 {percentile(reconnects, 50):.1f} s, max {max(reconnects):.1f} s")
    print(f"consoles: {len(console_reconnects)} reconnects of {CONSOLES}, time to reconnect max "
          f"{max(console_reconnects):.1f} s, conversations listed {[c.inbox_sizes for c in consoles]}")
    reply = [s for s in widgets[0].shown.values() if s.text.startswith("word")]
    print(f"the streaming reply: {len(reply[0].text)} characters shown of {len(ANSWER)} expected "
          f"(still streaming in the history frame after the reconnect: {widgets[0].resumed_streaming[-1]}, "
          f"went on growing from there: {widgets[0].grew_after_reconnect}, in the consoles: "
          f"{[c.grew_after_reconnect for c in consoles]}); "
          f"shown texts that were not a beginning of the answer: {sum(len(c.wrong) for c in [*widgets, *consoles])}")

    sent = (stored(deployment, "restart-2"), stored(deployment, "restart-1"))
    print(f"stored: the message sent as Daphne stopped {sent[0]}x, the one written while none listened {sent[1]}x")
    assert all(c.refused is None for c in [*widgets, *consoles])
    assert {c.closes[0] for c in [*widgets, *consoles]} == {1001}, "Daphne closed every socket as going away"
    assert all(len(c.reconnect_s) == 1 for c in [*widgets, *consoles]), "each socket reconnected once, by itself"
    assert all(not c.wrong for c in [*widgets, *consoles]), "no screen showed text twice or out of order"
    assert [s.text for s in reply] == [ANSWER]
    if widgets[0].resumed_streaming[-1]:
        assert widgets[0].grew_after_reconnect, "the reply went on streaming after the reconnect, not frozen to done"
    assert all(first_id in c.inbox and c.inbox_sizes[-1] >= c.inbox_sizes[0] for c in consoles), \
        "the consoles list the conversations again"
    assert deployment.query(streaming, (first_id,)) == [("complete", ANSWER)]
    assert sent == (1, 1)


@pytest.mark.browser
def test_the_widget_in_a_browser_shows_a_reply_streaming_through_a_restart_whole_once(
    deployment: Deployment, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=ANSWER, per_token=0.06))
    fresh_page(browser, deployment.url + "/")
    ask_in_widget(browser, "Tell me everything, in a browser")
    shown: list[tuple[str, str]] = []

    def seen() -> list[tuple[str, str]]:
        rows = bot_texts(browser)
        shown.extend(row for row in rows if row not in shown)
        return rows

    wait_in_browser(lambda: any(status == "streaming" and text for status, text in seen()), timeout=60)
    deployment.stop_web()
    try:
        wait_in_browser(lambda: seen() and texts(browser, ".hd-banner") == ["Connection lost — reconnecting…"], 20)
    finally:
        deployment.start_web()
    wait_in_browser(lambda: ("complete", ANSWER) in seen(), timeout=90)
    texts_shown = [text for _, text in shown]
    print(f"\nthe browser's widget showed {len(shown)} states of the reply, the last {len(texts_shown[-1])} "
          f"characters of {len(ANSWER)}; banner now {texts(browser, '.hd-banner')}")
    assert [text for _, text in bot_texts(browser)] == [ANSWER]
    assert all(ANSWER.startswith(text) for text in texts_shown), "never more than the answer, never twice"
    assert texts(browser, ".hd-banner") == [""], "connected again"
