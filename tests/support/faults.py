"""The fault tests' tools (tests/faults/): a Redis server of the test's own that can be stopped and started, a TCP
fault proxy between the product and a server (cut, refuse, restore), waiting on conditions rather than sleeping,
and a production stack (`manage.py serve`) on its own database and Redis that a test can read back. A helper module,
not a plugin.

Faults are injected into servers that belong to one test module, never into the PostgreSQL and Redis every other
test shares.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tests.processes import process_table
from tests.support.environment import free_port
from tests.support.serve import ServedStack, own_database, serve_env
from tests.support.stored import plain_rows

# Settings for a served stack under a fault test: what takes minutes by default is seen in seconds (a customer left
# unanswered handed on, a reply whose worker died started over, a worker that exited started again).
QUICK_RECOVERY = {
    "UNANSWERED_TIMEOUT_S": "6",
    "SWEEP_INTERVAL_S": "1",
    "REPLY_SAVE_INTERVAL_S": "0.3",
    "REPLY_HEARTBEAT_TIMEOUT_S": "3",
    "WORKER_RESTART_MAX_DELAY_S": "2",
}


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    """`condition()`'s first true value, polled every `interval` seconds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        time.sleep(interval)


class RedisServer:
    """A real redis-server of the test's own, on a free port, that can be stopped and started on that port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class FaultProxy:
    """Forwards 127.0.0.1:port to the real server; `cut()` drops every connection and refuses new ones (accepted
    and closed at once, as a restarting server's port does, or a lost network) until `restore()`. In front of
    PostgreSQL or Redis for the fault tests, in front of the live server for the widget's network tests."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream, self.port = upstream, free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.down = threading.Event()
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)  # only the connecting is bounded: an idle connection stays, as without a proxy
            with self.lock:
                self.open |= {client, server}
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                self._close(end)

    def _close(self, end: socket.socket) -> None:
        with self.lock:
            self.open.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            ends = list(self.open)
        for end in ends:
            self._close(end)

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.stopped = True
        self.cut()
        self.listener.close()


class FaultStack(ServedStack):
    """serve on its own PostgreSQL database (`dsn`, read back by `query`) and its own Redis server."""

    def __init__(self, env: Mapping[str, str], redis: RedisServer, dsn: str, **options: Any) -> None:
        super().__init__(env, **options)
        self.redis, self.dsn = redis, dsn

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return plain_rows(conn.execute(sql, params).fetchall())  # encrypted values decrypted

    def workers(self, queue: str) -> list[int]:
        """The pids of the Celery worker's main process on `queue` that serve started (its pool's parent)."""
        return [info.pid for info in process_table().values()
                if info.parent == self.process.pid and f"-Q {queue} " in info.command]

    def conversation(self) -> dict[str, Any]:
        """A new anonymous conversation, as the widget creates it."""
        request = urllib.request.Request(self.url + "/api/v1/conversations", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json", "Origin": self.url})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def websocket_url(self, path: str) -> str:
        return self.url.replace("http", "ws") + path

    def metric(self, sample: str) -> float | None:
        """One sample of /metrics (`name` or `name{labels}` as exposed), as a scraper from this host reads it."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            found = re.search(rf"^{re.escape(sample)} (\S+)$", response.read().decode(), re.MULTILINE)
        return float(found.group(1)) if found else None


@contextmanager
def fault_stack(label: str, *, ollama_url: str, **settings: str) -> Iterator[FaultStack]:
    """A started production stack on a PostgreSQL database and a Redis server of its own (`label` names the
    database and the log kept under .pytest_cache/), with `settings`; yielded once its generation worker is ready
    (its heartbeat counted on /metrics). The caller skips it where PostgreSQL and Redis are not used."""
    redis = RedisServer()
    redis.start()
    try:
        with own_database(label) as database:
            env = serve_env(database_url=database.url, redis_url=redis.url, ollama_url=ollama_url,
                            **{"METRICS_TOKEN": "", **settings})  # /metrics answers this host
            with FaultStack(env, redis, database.dsn, keep_log_as=f"{label}-stack.log") as stack:
                stack.migrate()
                stack.start()
                wait_for(lambda: stack.metric('helpdesk_celery_workers{queue="generation"}'), timeout=120)
                yield stack
    finally:
        redis.stop()


def agent_session_script(username: str) -> str:
    """Python for `manage.py shell -c` on a served stack: an agent called `username`, signed in; it prints the
    session cookie's value, for a console socket's Cookie header."""
    return f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
user = get_user_model().objects.create_user({username!r}, password="unused")
user.groups.add(Group.objects.get_or_create(name="agents")[0])
client = Client()
client.force_login(user)
print(client.cookies["sessionid"].value)
"""
