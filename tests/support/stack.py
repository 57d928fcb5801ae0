"""What generates replies in this configuration, and waiting until it is done before the database is reset.

Production mode: a real prefork Celery worker (session-scoped) on the test database, Redis and the fake Ollama.
Embedded mode: replies run on threads of this process.

Both autouse fixtures here act at teardown, and must do so before pytest-django flushes a transactional test's
database: pytest-django's `_django_db_marker` is an autouse fixture of a plugin loaded before this one, so it is
set up first and torn down last, after these.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from tests.fake_ollama import FakeOllama
from tests.support.environment import ROOT, postgres_url, require, uses_postgres

QUEUES = ("generation", "logging", "knowledge")


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: Any, fake_ollama_server: FakeOllama
) -> Iterator[subprocess.Popen]:
    """A real prefork worker on every queue, on the test database, Redis and the fake Ollama."""
    require(not settings.EMBEDDED, "Redis (REDIS_URL)")
    require(uses_postgres(), "PostgreSQL (DATABASE_URL)")
    from helpdesk.celery import app

    app.control.purge()
    name = f"test-{os.getpid()}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url(),
        "OLLAMA_HOSTS": fake_ollama_server.url,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        # A test's moderation terms are seen by the worker's next reply, as by the test process (tests/settings.py).
        "MODERATION_LISTS_RECHECK_S": "0",
    }
    log_path = ROOT / ".pytest_cache" / "celery-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", ",".join(QUEUES),
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
        if not client.hlen("unacked") and not any(client.llen(q) for q in QUEUES):
            return
        time.sleep(0.05)


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


@pytest.fixture(autouse=True)
def _embedded_tasks_finish() -> Iterator[None]:
    """In embedded mode replies run on threads: none may outlive its test and touch the next one. A task still
    pending after the wait fails this test, by name, and is no longer waited for by the next tests."""
    yield
    if settings.EMBEDDED:
        from helpdesk.celery import embedded_tasks_abandon, embedded_tasks_wait

        if left := embedded_tasks_wait():
            embedded_tasks_abandon()
            pytest.fail(f"in-process tasks still pending 30 s after the test: {', '.join(left)}")


@pytest.fixture(autouse=True)
def _worker_done_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A transactional test's reply can leave a task for the session worker (its log_turn, a draft): one still
    writing while the test database is flushed deadlocks the TRUNCATE and leaves rows for the next test."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if _session_worker_running and marker is not None and marker.kwargs.get("transaction"):
        celery_queues_drained()


@pytest.fixture
def reply_runner(request: pytest.FixtureRequest) -> str:
    """Whatever generates replies in this configuration: in-process threads, or the real worker."""
    if settings.EMBEDDED:
        return "embedded"
    request.getfixturevalue("celery_worker_process")
    return "celery"


def reply_generate_in_background(question_id: int) -> tuple[threading.Thread, list]:
    """The reply to a stored customer message, generated on a thread of its own (as a worker runs it), so that a
    test can watch its row and sockets while it streams; the list gets the outcome."""
    from conversations.pipeline.reply import reply_generate
    from helpdesk.runtime import aio

    result: list = []

    def run() -> None:
        result.append(aio.with_fresh_connections(reply_generate, (), {"customer_message_id": question_id}))
        loop = aio.thread_loop()  # this thread ends here, unlike a worker's: its loop is closed properly
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result
