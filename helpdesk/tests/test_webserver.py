"""The web process as deployments run it (`python -m helpdesk.webserver`): a real Daphne, spoken to over TCP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection

from conversations.models import Message
from conversations.tests.factories import conversation_factory
from tests.support.environment import ROOT, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    def __init__(self, port: int, process: subprocess.Popen, log: Path) -> None:
        self.port, self.process, self.log = port, process, log
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.output()


@pytest.fixture
def webserver() -> Iterator[Callable[..., Server]]:
    """Start `python -m helpdesk.webserver` with extra settings; its stdout and stderr are kept."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        port = free_port()
        log = Path(tempfile.mkdtemp(prefix="helpdesk-web-")) / "web.log"
        full_env = {**os.environ, "DATABASE_URL": database_url(), "LOG_LEVEL": "INFO", **env}
        if settings.EMBEDDED:
            full_env.pop("REDIS_URL", None)
        with open(log, "w") as out:
            process = subprocess.Popen([sys.executable, "-m", "helpdesk.webserver", "-b", "127.0.0.1", "-p", str(port)],
                                       cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        server = Server(port, process, log)
        started.append(server)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(server.url + "/livez", timeout=1)
                return server
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(server.stop()) from None
                time.sleep(0.2)

    yield start
    for server in started:
        server.stop()


async def chat_session(url: str, token: str, frames: list[dict]) -> list[dict]:
    """Open the customer's socket, send `frames`, and return what came back within a second after."""
    received = []
    async with websockets.connect(url.replace("http", "ws") + f"/ws/chat/{token}/",
                                  origin="http://127.0.0.1:8000") as ws:
        received.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        for frame in frames:
            await ws.send(json.dumps(frame))
        try:
            while True:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 1)))
        except (TimeoutError, websockets.ConnectionClosed):
            pass
    return received


def test_conversation_tokens_never_reach_the_access_log(webserver) -> None:
    server = webserver()
    conversation = conversation_factory()
    frames = asyncio.run(chat_session(server.url, conversation.token, [{"type": "typing", "active": True}]))
    assert frames[0]["type"] == "history"
    time.sleep(0.5)
    output = server.stop()
    assert conversation.token not in output, output
    # The access log is there, with the token's first characters and the client's address shortened.
    assert f"/ws/chat/{conversation.token[:6]}…" in output and "127.0.0.0" in output, output


def test_a_half_sent_request_is_dropped_after_the_idle_timeout(webserver) -> None:
    server = webserver(HTTP_IDLE_TIMEOUT="2")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the headers never end
        started = time.monotonic()
        assert conn.recv(1024) == b""
        waited = time.monotonic() - started
    assert waited < 8  # Twisted's own default holds it a minute for every byte


def test_an_idle_websocket_outlives_the_http_idle_timeout(webserver) -> None:
    server = webserver(HTTP_IDLE_TIMEOUT="1")
    conversation = conversation_factory(status="waiting_human")

    async def idle_then_write() -> dict:
        async with websockets.connect(server.url.replace("http", "ws") + f"/ws/chat/{conversation.token}/",
                                      origin="http://127.0.0.1:8000") as ws:
            await asyncio.wait_for(ws.recv(), 10)  # history
            await asyncio.sleep(3.5)
            await ws.send(json.dumps({"type": "message", "text": "still here", "client_id": "idle-1"}))
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    assert asyncio.run(idle_then_write())["message"]["content"] == "still here"


def metrics_status(url: str, **headers: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "/metrics", headers=headers), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_forwarded_address_opens_metrics_only_through_a_trusted_proxy(webserver) -> None:
    untrusting = webserver(METRICS_ALLOWED_IPS="10.9.9.9", METRICS_TOKEN="")
    assert metrics_status(untrusting.url, **{"X-Forwarded-For": "10.9.9.9"}) == 403
    untrusting.stop()
    behind_proxy = webserver(METRICS_ALLOWED_IPS="10.9.9.9", METRICS_TOKEN="", TRUSTED_PROXIES="127.0.0.1")
    assert metrics_status(behind_proxy.url, **{"X-Forwarded-For": "10.9.9.9"}) == 200
    # The client's own claim, left of what the proxy appended, proves nothing.
    assert metrics_status(behind_proxy.url, **{"X-Forwarded-For": "10.9.9.9, 198.51.100.4"}) == 403


@pytest.mark.production
@pytest.mark.timeout(120)
def test_two_processes_share_a_conversations_message_limit(webserver) -> None:
    env = {"RATE_LIMIT_MESSAGES_PER_CONVERSATION": "4/minute", "CHAT_MAX_SOCKETS_PER_CONVERSATION": "5"}
    first, second = webserver(**env), webserver(**env)
    conversation = conversation_factory(status="waiting_human")

    async def both() -> list[list[dict]]:
        return await asyncio.gather(*(
            chat_session(server.url, conversation.token,
                         [{"type": "message", "text": f"hi {n}", "client_id": f"{server.port}-{n}"} for n in range(4)])
            for server in (first, second)
        ))

    received = asyncio.run(both())
    stored = conversation.messages.filter(role=Message.Role.CUSTOMER).count()
    refused = [f for frames in received for f in frames if f.get("code") == "rate_limited"]
    assert stored == 4 and len(refused) == 4, received


def test_a_stop_closes_every_websocket_as_going_away_and_frees_its_place(webserver) -> None:
    env = {"CHAT_MAX_SOCKETS_PER_CONVERSATION": "1"}
    stopping = webserver(**env)
    conversation = conversation_factory()

    async def open_while_it_stops() -> int | None:
        async with websockets.connect(stopping.url.replace("http", "ws") + f"/ws/chat/{conversation.token}/",
                                      origin="http://127.0.0.1:8000") as ws:
            await asyncio.wait_for(ws.recv(), 10)  # history
            stopping.process.terminate()  # SIGTERM, as a deploy sends
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 20)
            return ws.close_code

    assert asyncio.run(open_while_it_stops()) == 1001, stopping.output()  # not 1006, a dropped connection
    assert stopping.process.wait(timeout=20) == 0
    # The next server lets the customer in: the socket the stop closed no longer counts against its one place.
    frames = asyncio.run(chat_session(webserver(**env).url, conversation.token, []))
    assert frames[0]["type"] == "history", frames


def test_daphne_gets_every_timeout_from_the_settings(settings) -> None:
    from helpdesk.webserver import daphne_options

    settings.WEBSOCKET_TIMEOUT, settings.WEBSOCKET_CONNECT_TIMEOUT = 1800, 7
    settings.WEBSOCKET_PING_INTERVAL, settings.WEBSOCKET_PING_TIMEOUT = 15, 25
    options = daphne_options()
    given = dict(zip(options[::2], options[1::2], strict=True))
    assert given == {"--websocket_timeout": "1800", "--websocket_connect_timeout": "7",
                     "--ping-interval": "15", "--ping-timeout": "25"}


def test_by_default_sockets_live_an_hour_not_a_day() -> None:
    from helpdesk import settings as defaults

    assert defaults.WEBSOCKET_TIMEOUT <= 3600 and defaults.HTTP_IDLE_TIMEOUT <= 30
