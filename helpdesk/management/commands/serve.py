"""`make run`: migrate, then start every process the configuration calls for; Ctrl-C stops them all.

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

from helpdesk import dbbudget, profiles
from helpdesk import ollama as gateway


class Command(BaseCommand):
    help = "Migrate and serve the helpdesk (Daphne, and Celery workers when REDIS_URL is set)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("ensure_demo_admin")
            call_command("ensure_demo_agent")
            if settings.LOAD_DEMO_KNOWLEDGE:
                call_command("load_demo", if_empty=True)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if settings.EMBEDDED:
            from conversations.services import replies_abandoned_fail

            if abandoned := replies_abandoned_fail():
                self.stdout.write(f"Closed {abandoned} reply(ies) interrupted by the last stop as failed.")
        self._report_ollama()
        budget = self._connections_budget()
        # serve only watches from here on: its connections (and its pool's) are closed, not kept for ever.
        for connection in connections.all(initialized_only=True):
            connection.close()
            if getattr(connection, "pool", None):
                connection.close_pool()
        daphne = [
            sys.executable, "-m", "daphne", "-b", options["host"], "-p", str(options["port"]),
            "--websocket_timeout", str(settings.WEBSOCKET_TIMEOUT), "--proxy-headers", "helpdesk.asgi:application",
        ]
        workers = []
        if not settings.EMBEDDED:
            workers = [
                self._worker("generation", budget.generation),
                self._worker("logging,knowledge", budget.logging),
                # Periodic jobs (the Ollama nodes' health check); its schedule file is throw-away state.
                [sys.executable, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "WARNING",
                 "--schedule", str(Path(tempfile.gettempdir()) / f"helpdesk-beat-{options['port']}")],
            ]
        mode = "embedded (SQLite or DATABASE_URL, in-memory channel layer, in-process tasks)"
        if not settings.EMBEDDED:
            mode = ("production (Redis channel layer and cache, Celery workers on generation, logging and knowledge, "
                    "beat)")
        self.stdout.write(f"Mode: {mode}")
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{options['host']}:{options['port']}/  (Ctrl-C stops)"))
        env = dict(os.environ)
        # The sizes the budget settled on, for every process (Daphne's readiness probe checks the same sums).
        env.update(DATABASE_THREADS=str(budget.database_threads), CELERY_GENERATION_CONCURRENCY=str(budget.generation),
                   CELERY_LOGGING_CONCURRENCY=str(budget.logging))
        metrics_dir = None
        if not settings.EMBEDDED and not env.get("PROMETHEUS_MULTIPROC_DIR"):
            # Daphne and every worker process write their samples here; /metrics sums them.
            metrics_dir = env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="helpdesk-metrics-")
        # On one host the workers yield the processor to Daphne, so a customer's own message and the
        # text it relays come first, ahead of the replies being generated (the echo 5x sooner at 100 at once).
        nice = functools.partial(os.nice, settings.WORKER_NICE) if settings.WORKER_NICE else None
        processes = [subprocess.Popen(daphne, env=env)]
        processes += [subprocess.Popen(command, env=env, preexec_fn=nice) for command in workers]
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(p.poll() is None for p in processes):
                time.sleep(0.2)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes:
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    process.kill()
            if metrics_dir:
                shutil.rmtree(metrics_dir, ignore_errors=True)
        failed = [p.args[2] for p in processes if p.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            raise SystemExit(f"stopped because {failed[0]} exited")

    def _connections_budget(self) -> dbbudget.Budget:
        """What the processes about to start may open, checked against PostgreSQL's limits (DATABASE_BUDGET)."""
        budget = dbbudget.budget_from_settings(settings)
        if connections["default"].vendor != "postgresql" or settings.DATABASE_BUDGET == "off":
            return budget
        limits = dbbudget.server_limits(connections["default"])
        try:
            fitted, line = dbbudget.budget_check(budget, limits, mode=settings.DATABASE_BUDGET)
        except dbbudget.BudgetExceeded as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.WARNING(line) if fitted != budget else line)
        return fitted

    @staticmethod
    def _worker(queue: str, concurrency: int) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", queue, "-n", f"{queue.split(',')[0]}@%h",
            "-c", str(concurrency), "-P", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
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
