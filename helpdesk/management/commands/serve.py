"""`make run`: migrate, then start every process the configuration calls for; Ctrl-C stops them all.

A Celery worker or beat that exits is started again (with a growing pause); only Daphne exiting stops
everything.

Embedded (no REDIS_URL): one Daphne process; Celery tasks run in its worker
threads. Production: Daphne plus Celery workers on `generation`, and on `logging`
and `knowledge` (imports and indexing).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from helpdesk.llm import ollama as gateway
from helpdesk.llm import profiles
from helpdesk.runtime import dbbudget
from helpdesk.signals import serve_starting


class Supervised:
    """A worker process `serve` keeps running: started again when it exits, after a pause that doubles
    with each quick exit (1 s up to WORKER_RESTART_MAX_DELAY_S), so a worker failing at once does not spin."""

    # A worker that ran this long before exiting is restarted after the shortest pause again.
    HEALTHY_RUN_S = 60.0

    def __init__(self, name: str, command: list[str], **popen: Any) -> None:
        self.name = name
        self.command = command
        self.popen = popen
        self.delay = 1.0
        self.restarts = 0
        self.process: subprocess.Popen | None = subprocess.Popen(command, **popen)
        self.started_at = time.monotonic()
        self.restart_at = 0.0

    def tend(self) -> str:
        """Restart the process if it exited and its pause is over; returns what happened, for the log."""
        now = time.monotonic()
        if self.process is None:
            if now < self.restart_at:
                return ""
            self.process = subprocess.Popen(self.command, **self.popen)
            self.started_at = now
            self.restarts += 1
            return f"Restarted {self.name} (restart {self.restarts})."
        code = self.process.poll()
        if code is None:
            return ""
        self.delay = 1.0 if now - self.started_at >= self.HEALTHY_RUN_S else self.delay
        pause = self.delay
        self.delay = min(self.delay * 2, settings.WORKER_RESTART_MAX_DELAY_S)
        self.process = None
        self.restart_at = now + pause
        return f"{self.name} exited (code {code}); starting it again in {pause:.0f} s."


class Command(BaseCommand):
    help = "Migrate and serve the helpdesk (Daphne, and Celery workers when REDIS_URL is set)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        budget = self._prepare(options)
        # Daphne with the settings' timeouts and a redacted access log (helpdesk/webserver.py).
        daphne = [sys.executable, "-m", "helpdesk.webserver", "-b", options["host"], "-p", str(options["port"])]
        workers = self._workers(budget, port=options["port"])
        self._announce(host=options["host"], port=options["port"])
        env = dict(os.environ)
        # The sizes the budget settled on, for every process (Daphne's readiness probe checks the same sums).
        env.update(DATABASE_THREADS=str(budget.database_threads), CELERY_LOGGING_CONCURRENCY=str(budget.logging),
                   **dbbudget.generation_connections_env(settings, budget.generation))
        metrics_dir = None
        if not settings.EMBEDDED and not env.get("PROMETHEUS_MULTIPROC_DIR"):
            # Daphne and every worker process write their samples here; /metrics sums them.
            metrics_dir = env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="helpdesk-metrics-")
        try:
            web, stopping = self._supervise(daphne, workers, env)
        finally:
            if metrics_dir:
                shutil.rmtree(metrics_dir, ignore_errors=True)
        if web.returncode not in (0, -signal.SIGTERM, None) and not stopping:
            raise SystemExit(f"stopped because {web.args[2]} exited")

    def _prepare(self, options: dict[str, Any]) -> dbbudget.Budget:
        """Migrate, let the apps close what the last stop left (helpdesk.signals.serve_starting), report Ollama,
        settle the connection budget; then drop this process's connections."""
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("ensure_demo_admin")
            call_command("ensure_demo_agent")
            if settings.LOAD_DEMO_KNOWLEDGE:
                call_command("load_demo", if_empty=True)
                call_command("evaluate", load_demo=True)  # its cases are written for the demo knowledge base
            if settings.LOAD_DEMO_KNOWLEDGE and settings.DEMO_CUSTOMER_ID:
                # The demo shop's order look-up, for the customer its page signs in: it calls this very server
                # (conversations.actions).
                call_command("load_demo_action", base_url=f"http://127.0.0.1:{options['port']}", verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        for _receiver, line in serve_starting.send(sender=self.__class__):
            if line:
                self.stdout.write(line)
        self._report_ollama()
        budget = self._connections_budget()
        # serve only watches from here on: its connections (and its pool's) are closed, not kept for ever.
        for connection in connections.all(initialized_only=True):
            connection.close()
            if getattr(connection, "pool", None):
                connection.close_pool()
        return budget

    def _workers(self, budget: dbbudget.Budget, *, port: int) -> dict[str, list[str]]:
        """The Celery processes to supervise, by name (none in embedded mode: tasks run in Daphne's threads)."""
        if settings.EMBEDDED:
            return {}
        # The budget sized the threads' shared pool, not how many replies a process streams.
        pooled = dbbudget.generation_pooled(settings)
        concurrency = settings.CELERY_GENERATION_CONCURRENCY if pooled else budget.generation
        count = settings.GENERATION_WORKERS
        generation = {
            "the generation worker" + (f" {number}" if count > 1 else ""): self._worker(
                "generation", concurrency, pool=settings.CELERY_GENERATION_POOL,
                name="generation" + (str(number) if count > 1 else ""),
            )
            for number in range(1, count + 1)
        }
        return {
            **generation,
            "the logging worker": self._worker("logging,knowledge", budget.logging),
            # Periodic jobs (the Ollama nodes' health check, the reply sweeper); its schedule file is
            # throw-away state.
            "beat": [sys.executable, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "WARNING",
                     "--schedule", str(Path(tempfile.gettempdir()) / f"helpdesk-beat-{port}")],
        }

    def _announce(self, *, host: str, port: int) -> None:
        mode = "embedded (SQLite or DATABASE_URL, in-memory channel layer, in-process tasks)"
        if not settings.EMBEDDED:
            mode = ("production (Redis channel layer and cache, Celery workers on generation, logging and knowledge, "
                    "beat)")
        self.stdout.write(f"Mode: {mode}")
        if not settings.PRODUCTION:
            self.stdout.write(self.style.WARNING(
                "Running with development defaults (DEBUG on unless DEBUG=false, a development SECRET_KEY unless "
                "set): not for production. Production mode starts when DATABASE_URL or REDIS_URL is set."
            ))
        elif not settings.BEHIND_TLS_PROXY:
            self.stdout.write(self.style.WARNING(
                "BEHIND_TLS_PROXY is not set: cookies may travel over plain HTTP. Serve customers through a TLS proxy "
                "that sets X-Forwarded-Proto and set BEHIND_TLS_PROXY=true."
            ))
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{host}:{port}/  (Ctrl-C stops)"))

    def _supervise(self, daphne: list[str], workers: dict[str, list[str]],
                   env: dict[str, str]) -> tuple[subprocess.Popen, bool]:
        """Start Daphne and the workers, keep the workers running until Daphne exits or a stop arrives, then
        stop them all; returns Daphne's process and whether a stop (Ctrl-C, SIGTERM) ended it."""
        # On one host the workers yield the processor to Daphne, so a customer's own message and the
        # text it relays come first, ahead of the replies being generated (the echo 5x sooner at 100 at once).
        nice = functools.partial(os.nice, settings.WORKER_NICE) if settings.WORKER_NICE else None
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        # Before any child starts: a stop that arrives while they start must still stop them (a SIGTERM that
        # killed serve itself here left an orphaned Daphne listening).
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        web = subprocess.Popen(daphne, env=env)
        supervised = [Supervised(name, command, env=env, preexec_fn=nice) for name, command in workers.items()]
        try:
            # Only Daphne exiting (or Ctrl-C) stops everything. A worker that exits (it gave up on a lost
            # broker, ran out of memory, was killed) is started again, while Daphne keeps the sockets open.
            while not stopping and web.poll() is None:
                for worker in supervised:
                    if note := worker.tend():
                        self.stderr.write(self.style.WARNING(note))
                time.sleep(0.2)
        finally:
            processes = [web, *(w.process for w in supervised if w.process is not None)]
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes:
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    process.kill()
        return web, stopping

    def _connections_budget(self) -> dbbudget.Budget:
        """What the processes about to start may open, checked against PostgreSQL's limits (DATABASE_BUDGET)."""
        budget = dbbudget.budget_from_settings(settings)
        if connections["default"].vendor != "postgresql" or settings.DATABASE_BUDGET == "off":
            return budget
        if settings.DATABASE_POOLER:
            self.stdout.write(dbbudget.budget_behind_pooler(budget, settings.DATABASE_POOLER))
            return budget
        limits = dbbudget.server_limits(connections["default"])
        try:
            fitted, line = dbbudget.budget_check(budget, limits, mode=settings.DATABASE_BUDGET)
        except dbbudget.BudgetExceeded as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.WARNING(line) if fitted != budget else line)
        return fitted

    @staticmethod
    def _worker(queue: str, concurrency: int, *, pool: str = "prefork", name: str = "") -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", queue,
            "-n", f"{name or queue.split(',')[0]}@%h",
            "-c", str(concurrency), "-P", pool, "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        ]

    def _report_ollama(self) -> None:
        model = profiles.profile_default().model
        for health in gateway.nodes_check():
            if not health.up:
                self.stdout.write(
                    self.style.WARNING(
                        f"Ollama at {health.host} is not usable ({health.error}); the server starts anyway and "
                        "customers are told the assistant is unavailable. Start Ollama or set OLLAMA_HOSTS."
                    )
                )
            elif health.has_model(model):
                self.stdout.write(f"Ollama at {health.host}: {model} is ready")
            else:
                self.stdout.write(
                    self.style.WARNING(f"Ollama at {health.host} has no {model}: run `ollama pull {model}`")
                )
