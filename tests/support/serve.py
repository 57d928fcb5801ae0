"""`manage.py serve` as a subprocess: the product as an operator or `make run` starts it (Daphne, and in
production mode the Celery workers and beat), for the tests that need those real processes rather than this
process's ASGI application, and a PostgreSQL database of its own for it.

A ServedStack is one server on its own port with its own log file. It runs in a session of its own, so that a
serve that does not stop in time is killed together with everything it started. `close()` keeps the log under
.pytest_cache/ for reading after a failure (CI prints where).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.environment import ROOT, free_port, postgres_server, postgres_url


def serve_env(*, database_url: str, redis_url: str, ollama_url: str, **settings: str) -> dict[str, str]:
    """This process's environment for a production-mode stack of its own (its database, Redis and Ollama), with an
    empty knowledge base (tests script their own answers) and `settings` on top. PROMETHEUS_MULTIPROC_DIR is left
    out: serve makes one, as for a user."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OLLAMA_HOSTS": ollama_url,
        "LOAD_DEMO_KNOWLEDGE": "false",
        **settings,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@dataclass(frozen=True)
class OwnDatabase:
    name: str
    url: str  # for DATABASE_URL
    dsn: str  # libpq conninfo, for psycopg


@contextmanager
def own_database(label: str) -> Iterator[OwnDatabase]:
    """A new, empty PostgreSQL database beside the test database (so that a stack's rows and the test database's
    flushes never meet), dropped afterwards with whatever connections are left on it."""
    import psycopg

    name = f"helpdesk_{label}_{os.getpid()}"
    server = f"{postgres_server()} dbname=postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield OwnDatabase(name=name, url=postgres_url(name), dsn=f"{postgres_server()} dbname={name}")
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass(frozen=True)
class LimitedDatabase:
    url: str  # as the limited role
    admin: str  # libpq conninfo of the admin (superuser) on that database
    role: str
    name: str
    password: str


@contextmanager
def limited_database(label: str, limit: int) -> Iterator[LimitedDatabase]:
    """A new database owned by a new role `LOGIN CONNECTION LIMIT limit` (its password: `label`), on the test
    database's server; both dropped afterwards with whatever connections the role still has."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    suffix = os.getpid()
    role, name = f"helpdesk_{label}_role_{suffix}", f"helpdesk_{label}_{suffix}"
    server_admin = f"{postgres_server()} dbname=postgres"
    with psycopg.connect(server_admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT {int(limit)} PASSWORD '{label}'")
        conn.execute(f"CREATE DATABASE {name} OWNER {role}")
    try:
        yield LimitedDatabase(url=f"postgres://{role}:{label}@{host}:{port}/{name}",
                              admin=f"{postgres_server()} dbname={name}", role=role, name=name, password=label)
    finally:
        with psycopg.connect(server_admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
            conn.execute(f"DROP ROLE IF EXISTS {role}")


class ServedStack:
    """`manage.py serve [flags] --port PORT` with `env`, ready when `ready` answers 200 (its JSON is returned).

    It can be stopped and started again on the same port, with settings changed, as a server restarts.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        port: int | None = None,
        flags: Sequence[str] = (),
        ready: str = "/livez",
        ready_timeout: float = 120,
        log_path: Path | None = None,
        keep_log_as: str | None = None,
    ) -> None:
        self.env = dict(env)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.flags = tuple(flags)
        self.ready, self.ready_timeout = ready, ready_timeout
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="helpdesk-serve-")) / "serve.log"
        self.keep_log_as = keep_log_as
        self._log_file = open(self.log_path, "a")  # open until close(): every start appends
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ServedStack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def launch(self, **env: str) -> subprocess.Popen:
        """Start serve without waiting for it; `env` changes settings from now on."""
        self.env.update(env)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", *self.flags, "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self.process

    def start(self, **env: str) -> Any:
        """Start serve (again, on the same port) and wait until it is ready; stopped again if it never is."""
        self.launch(**env)
        try:
            return self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self) -> Any:
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + self.ready_timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            try:
                with urllib.request.urlopen(self.url + self.ready, timeout=5) as response:
                    return json.load(response)
            except urllib.error.HTTPError as exc:
                last = exc.read().decode(errors="replace")
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise RuntimeError(f"serve not ready on {self.ready} in {self.ready_timeout} s: {last}\n{self.log()[-4000:]}")

    def wait_exit(self, timeout: float) -> int | None:
        """serve's exit status, or None when it still runs after `timeout` seconds."""
        assert self.process is not None, "launch() first"
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Stop serve as an operator does (it stops what it started); after 30 s, kill its whole session."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self, **env: str) -> Any:
        self.stop()
        return self.start(**env)

    def close(self) -> None:
        self.stop()
        self._log_file.close()
        if self.keep_log_as:
            (ROOT / ".pytest_cache").mkdir(exist_ok=True)
            shutil.copy(self.log_path, ROOT / ".pytest_cache" / self.keep_log_as)

    def live(self, within: float = 10.0) -> bool:
        """Whether the web process answers /livez, probed until `within` seconds have passed: one probe that a
        loaded two-core machine answers late is no sign of death (a CI run's fault test read one 2 s timeout as
        a dead server), just as Kubernetes' liveness probe needs several failures in a row."""
        deadline = time.monotonic() + within
        while True:
            try:
                with urllib.request.urlopen(self.url + "/livez", timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)

    def log(self) -> str:
        """What serve and its children printed so far."""
        return self.log_path.read_text(errors="replace")

    def migrate(self) -> None:
        """`manage.py migrate` on this stack's database (before `--no-migrate`, or to seed it before a start)."""
        subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=self.env,
                       check=True, timeout=180)

    def shell(self, script: str, timeout: float | None = None) -> str:
        """Run Python in this stack's configuration (`manage.py shell -c`); returns what it printed."""
        done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=self.env,
                              check=True, capture_output=True, text=True, timeout=timeout)
        return done.stdout
