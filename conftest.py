"""Shared test fixtures: the fake Ollama server, a real Celery worker, websocket helpers.

`make test` runs the suite in whatever configuration the environment gives
(CI: PostgreSQL + Redis), then, when that was not the embedded one, runs it
again with DATABASE_URL and REDIS_URL removed (SQLite, in-memory channel
layer, in-process tasks), leaving out the tests that need a real worker. With CI=true a
test that needs PostgreSQL, Redis or Chromium fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from tests.fake_ollama import FakeOllama

CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parent


def require(condition: bool, what: str) -> None:
    """Skip a test whose real dependency is missing here; in CI, fail it."""
    if condition:
        return
    if CI:
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not available")


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def catalogs_compile() -> None:
    """The .mo files are built, not committed: a suite started without `make` compiles those older than their
    .po as the Makefile's %.mo rule does, so that no test, and no server a test starts, reads a stale one."""
    import shutil

    for po in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if not shutil.which("msgfmt"):
            raise pytest.UsageError(f"{mo.name} must be compiled: install GNU gettext (apt-get install gettext)")
        done = subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], capture_output=True, text=True)
        if done.returncode:
            raise pytest.UsageError(f"msgfmt refused {po.relative_to(ROOT)}:\n{done.stderr}")


def pytest_configure(config: pytest.Config) -> None:
    catalogs_compile()
    # Database threads (helpdesk.aio.db_call) would keep their connections open
    # past the last test, and PostgreSQL then refuses to drop the test database.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    # No embedded beat sweeping the test database behind the tests' backs (tests run the sweep themselves).
    settings.EMBEDDED_BEAT = False
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict):
        pool["max_size"] += 1  # the test's own thread holds one (its transaction) beside Daphne's threads
    # The test process serves nothing: importing helpdesk.asgi must not start a warm-up (tests/test_warmup.py
    # runs its own); the servers and workers that tests start warm up as in production.
    settings.WARM_UP = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_embedded = pytest.mark.skip(reason="embedded-mode test: runs in the pass without DATABASE_URL/REDIS_URL")
    for item in items:
        if "embedded" in item.keywords and not settings.EMBEDDED:
            item.add_marker(skip_embedded)


@pytest.fixture(autouse=True)
def _production_needs(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("production"):
        require(not settings.EMBEDDED, "Redis (REDIS_URL)")
        require(uses_postgres(), "PostgreSQL (DATABASE_URL)")


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """Each test gets its own channel-layer instance: channels_redis keeps connections and subscriptions per
    event loop, and one test's loop must not leave them to the next."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Every test starts with unspent limits: the whole suite comes from one address."""
    from helpdesk import ratelimits

    ratelimits.reset()


@pytest.fixture(autouse=True)
def _embedded_tasks_finish() -> Iterator[None]:
    """In embedded mode replies run on threads: none may outlive its test and touch the next one."""
    yield
    if settings.EMBEDDED:
        from helpdesk.celery import embedded_tasks_wait

        embedded_tasks_wait()


@pytest.fixture
def staff_client(client: Any) -> Any:
    """The test client signed in as a superuser (admin pages); `client.user` is that user."""
    from django.contrib.auth import get_user_model

    client.user = get_user_model().objects.create_superuser("staff", "staff@example.invalid", "pw")
    client.force_login(client.user)
    return client


# --- fake Ollama -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_ollama_server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_ollama(fake_ollama_server: FakeOllama, settings: Any) -> Iterator[FakeOllama]:
    """The fake, reset, and configured as this process's only Ollama node."""
    from helpdesk import nodes
    from helpdesk import ollama as gateway

    fake_ollama_server.reset()
    settings.OLLAMA_HOSTS = [fake_ollama_server.url]
    gateway._server_versions.clear()
    nodes.nodes_forget([fake_ollama_server.url])
    yield fake_ollama_server
    fake_ollama_server.reset()


@pytest.fixture
def dead_ollama_url() -> str:
    """An address where nothing listens: connections are refused."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- a real Celery worker ---------------------------------------------------------------


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: Any, fake_ollama_server: FakeOllama
) -> Iterator[subprocess.Popen]:
    """A real prefork worker on both queues, on the test database, Redis and the fake Ollama."""
    require(not settings.EMBEDDED, "Redis (REDIS_URL)")
    require(uses_postgres(), "PostgreSQL (DATABASE_URL)")
    from helpdesk.celery import app

    app.control.purge()
    name = f"test-{os.getpid()}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "OLLAMA_HOSTS": fake_ollama_server.url,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    }
    log_path = ROOT / ".pytest_cache" / "celery-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", "generation,logging,knowledge",
            "-P", "prefork", "-c", "2", "-n", name, "--without-gossip", "--without-mingle",
            "--loglevel", "INFO",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited: see {log_path}")
        if app.control.ping(destination=[name], timeout=0.5):
            break
    else:
        process.kill()
        raise RuntimeError(f"the Celery worker did not start: see {log_path}")
    global _session_worker_running
    _session_worker_running = True
    yield process
    _session_worker_running = False
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


_session_worker_running = False


def celery_queues_drained(timeout: float = 15.0) -> None:
    """Until the broker holds no task for the session worker, queued or running (acks_late: a running task's
    message stays in kombu's `unacked` hash until it is done). Cheap, a few Redis reads."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.hlen("unacked") and not any(client.llen(q) for q in ("generation", "logging", "knowledge")):
            return
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _worker_done_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A transactional test's reply can leave a task for the session worker (its log_turn, a draft): one still
    writing while the test database is flushed deadlocks the TRUNCATE and leaves rows for the next test."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if _session_worker_running and marker is not None and marker.kwargs.get("transaction"):
        celery_queues_drained()


def celery_worker_idle(timeout: float = 20.0) -> None:
    """Until the test worker runs no task: a task still writing while the test database is flushed deadlocks."""
    from helpdesk.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = app.control.inspect(timeout=0.5).active() or {}
        reserved = app.control.inspect(timeout=0.5).reserved() or {}
        if not any(active.values()) and not any(reserved.values()):
            return
        time.sleep(0.1)


@pytest.fixture
def reply_runner(request: pytest.FixtureRequest) -> str:
    """Whatever generates replies in this configuration: in-process threads, or the real worker."""
    if settings.EMBEDDED:
        return "embedded"
    request.getfixturevalue("celery_worker_process")
    return "celery"


# --- websockets ---------------------------------------------------------------------------

ORIGIN = "http://127.0.0.1:8000"


class ChatClient:
    """A customer's socket, with helpers that read frames until a condition holds."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.frames: list[dict[str, Any]] = []

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        raw = await self.communicator.receive_output(timeout)
        if raw["type"] == "websocket.close":
            frame = {"type": "__close__", "code": raw.get("code")}
        else:
            assert "\\u" not in raw["text"], "frames must not \\u-escape text"
            frame = json.loads(raw["text"])
        self.frames.append(frame)
        return frame

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        await self.communicator.send_to(text_data=text)

    async def until(self, frame_type: str, timeout: float = 20, **match: Any) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {frame_type} frame; got {[f['type'] for f in self.frames]}")
            frame = await self.receive(remaining)
            if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def close(self) -> None:
        await self.communicator.disconnect()


async def open_chat(
    token: str, *, origin: str | None = ORIGIN, client: tuple[str, int] = ("127.0.0.1", 50000)
) -> tuple[ChatClient, dict[str, Any]]:
    """Connect as the widget would, from `client` (the socket's peer); returns the client and its first frame."""
    from helpdesk.asgi import application

    headers = [(b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, f"/ws/chat/{token}/", headers=headers)
    communicator.scope["client"] = list(client)  # read when the application starts, at the first await
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    client = ChatClient(communicator)
    return client, await client.receive()


@pytest.fixture
def chat() -> Any:
    return open_chat
