"""The database connection budget: what the processes `serve` starts may open, against what PostgreSQL allows.

A new user's PostgreSQL allows 100 connections (`max_connections`), fewer to a
role with a CONNECTION LIMIT. Each process keeps a pool with a known maximum
(helpdesk/settings.py), so the whole deployment's maximum is a sum known before
anything starts; `serve` and the readiness probe compare it with the server's
limits instead of finding out at the hundredth customer, as a 500 with "sorry,
too many clients already".

    web         DATABASE_THREADS + 1 per Daphne process (its websockets' threads and its HTTP views' thread)
    generation  GENERATION_DB_CONNECTIONS × GENERATION_WORKERS (each threaded worker's pool; with
                CELERY_GENERATION_POOL=prefork, CELERY_GENERATION_CONCURRENCY: one connection per pool process)
    logging     CELERY_LOGGING_CONCURRENCY (the logging and knowledge queues)
    beat        1
    margin      DATABASE_BUDGET_MARGIN (management commands, migrations, psql, a probe)

Behind PgBouncer (DATABASE_POOLER) the sum is printed, not checked: PgBouncer's pool bounds what PostgreSQL sees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Budget:
    """The most connections each kind of process may hold at once, for one `serve`."""

    database_threads: int
    generation: int
    logging: int
    beat: int = 1
    margin: int = 3
    web_processes: int = 1
    task_threads: int = 0  # embedded mode: the reply tasks' threads inside the web process

    @property
    def web(self) -> int:
        return self.web_processes * (self.database_threads + 1 + self.task_threads)

    @property
    def total(self) -> int:
        return self.web + self.generation + self.logging + self.beat + self.margin

    def describe(self) -> str:
        tasks = f" + EMBEDDED_TASK_THREADS {self.task_threads}" if self.task_threads else ""
        return (f"{self.total} = web {self.web} (DATABASE_THREADS {self.database_threads} + 1{tasks}) + generation "
                f"{self.generation} + logging {self.logging} + beat {self.beat} + margin {self.margin}")


@dataclass(frozen=True)
class ServerLimits:
    """What the PostgreSQL server and the role allow, and what others already use there."""

    max_connections: int
    reserved: int  # superuser_reserved_connections (+ reserved_connections, PostgreSQL 16)
    superuser: bool
    role: str
    role_limit: int | None  # the role's CONNECTION LIMIT; None: unlimited (or a superuser, which it does not bind)
    in_use: int  # client connections on the server, this one left out
    role_in_use: int  # of them, the role's

    def capacity(self) -> tuple[int, str]:
        """The most connections this role may ever hold, and what sets it."""
        server = self.max_connections - (0 if self.superuser else self.reserved)
        found = (server, f"max_connections {self.max_connections}"
                 + ("" if self.superuser else f" - {self.reserved} reserved"))
        if self.role_limit is not None and self.role_limit < server:
            found = (self.role_limit, f"the CONNECTION LIMIT {self.role_limit} of role {self.role}")
        return found

    def available(self) -> tuple[int, str]:
        """What is left for a new deployment now, after the connections others already hold, and why."""
        server = self.max_connections - (0 if self.superuser else self.reserved) - self.in_use
        found = (server, f"max_connections {self.max_connections}"
                 + ("" if self.superuser else f" - {self.reserved} reserved") + f" - {self.in_use} in use")
        if self.role_limit is not None and self.role_limit - self.role_in_use < server:
            found = (self.role_limit - self.role_in_use,
                     f"the CONNECTION LIMIT {self.role_limit} of role {self.role} - {self.role_in_use} in use")
        return found


def process_connections_configure(databases: dict[str, Any], *, name: str, pool_size: int | None = None,
                                  pool_timeout_s: float | None = None) -> None:
    """Before a process's first connection: its name in pg_stat_activity, and (a Celery pool process) its
    pool's size. Operators see which kind of process holds each connection."""
    database = databases["default"]
    if not database["ENGINE"].endswith("postgresql"):
        return
    options = database.setdefault("OPTIONS", {})
    options["application_name"] = name
    pool = options.get("pool")
    if pool_size and isinstance(pool, dict):
        pool["min_size"] = pool["max_size"] = pool_size
    if pool_timeout_s and isinstance(pool, dict):
        pool["timeout"] = pool_timeout_s


class BudgetExceeded(Exception):
    """The processes would open more connections than the server allows; the message names the numbers."""


def budget_from_settings(settings: Any) -> Budget:
    """The processes `serve` starts: in embedded mode one web process that also runs the tasks."""
    if settings.EMBEDDED:
        return Budget(database_threads=settings.DATABASE_THREADS, generation=0, logging=0, beat=0,
                      margin=settings.DATABASE_BUDGET_MARGIN, task_threads=settings.EMBEDDED_TASK_THREADS)
    return Budget(
        database_threads=settings.DATABASE_THREADS,
        generation=generation_connections(settings),
        logging=settings.CELERY_LOGGING_CONCURRENCY,
        margin=settings.DATABASE_BUDGET_MARGIN,
    )


def generation_pooled(settings: Any) -> bool:
    """Whether each generation worker process shares a pool of GENERATION_DB_CONNECTIONS between its threads
    (else each process, or each thread without a pool, holds a connection of its own)."""
    return settings.CELERY_GENERATION_POOL == "threads" and settings.DATABASE_POOL


def generation_connections(settings: Any) -> int:
    """The connections the generation worker may hold: its pool with threads, a connection per process with
    prefork."""
    if generation_pooled(settings):
        return settings.GENERATION_DB_CONNECTIONS * settings.GENERATION_WORKERS
    # A connection per process, or per thread without a pool.
    return settings.CELERY_GENERATION_CONCURRENCY * settings.GENERATION_WORKERS


def generation_connections_env(settings: Any, connections: int) -> dict[str, str]:
    """The environment that gives the generation worker `connections` (what `serve` settled on)."""
    if generation_pooled(settings):
        return {"GENERATION_DB_CONNECTIONS": str(max(1, connections // settings.GENERATION_WORKERS))}
    return {"CELERY_GENERATION_CONCURRENCY": str(connections)}


def server_limits(connection: Any) -> ServerLimits:
    """Read the limits through a Django connection (PostgreSQL only)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,"
            " coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int,"
            " r.rolsuper, r.rolname, r.rolconnlimit,"
            " (SELECT count(*) FROM pg_stat_activity a WHERE a.backend_type = 'client backend'"
            "  AND a.pid <> pg_backend_pid()),"
            " (SELECT count(*) FROM pg_stat_activity a WHERE a.backend_type = 'client backend'"
            "  AND a.pid <> pg_backend_pid() AND a.usename = r.rolname)"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
        max_connections, su_reserved, reserved, superuser, role, role_limit, in_use, role_in_use = cursor.fetchone()
    return ServerLimits(
        max_connections=max_connections,
        reserved=su_reserved + reserved,
        superuser=superuser,
        role=role,
        role_limit=None if superuser or role_limit < 0 else role_limit,
        in_use=in_use,
        role_in_use=role_in_use,
    )


def budget_behind_pooler(budget: Budget, pooler: str) -> str:
    """The line `serve` prints instead of a check when DATABASE_URL reaches a transaction pooler (DATABASE_POOLER).

    Through PgBouncer, server_limits() still reads PostgreSQL's max_connections and pg_stat_activity, but the
    processes' connections end at PgBouncer, which multiplexes them onto its own pool of server connections
    (default_pool_size per database and role). Comparing the processes' sum with max_connections would refuse
    deployments that fit and say nothing of the limit that binds them, PgBouncer's max_client_conn, which SQL
    cannot read (only PgBouncer's admin console can).
    """
    return (f"Database connections: at most {budget.describe()}, to {pooler} (DATABASE_POOLER); not compared with "
            f"PostgreSQL's max_connections: {pooler}'s pool size bounds what PostgreSQL sees, and its max_client_conn "
            f"must allow {budget.total} for these processes (plus those of every other replica).")


def budget_fit(budget: Budget, available: int) -> Budget | None:
    """The budget sized down to `available`: generation workers first, then logging, then DATABASE_THREADS.

    None when even one of each does not fit.
    """
    excess = budget.total - available
    if excess <= 0:
        return budget
    for field in ("generation", "logging", "database_threads"):
        current = getattr(budget, field)
        cut = min(excess, current - 1)
        if cut > 0:
            budget = replace(budget, **{field: current - cut})
            excess -= cut
        if excess <= 0:
            return budget
    return None


def budget_check(budget: Budget, limits: ServerLimits, *, mode: str) -> tuple[Budget, str]:
    """The budget `serve` may start with, and a line saying what was decided; raises BudgetExceeded.

    mode "refuse": the budget must fit what is available now; "fit": it is sized down to fit.
    """
    available, why = limits.available()
    if budget.total <= available:
        return budget, f"Database connections: at most {budget.describe()}, of {available} available ({why})."
    if mode == "fit":
        fitted = budget_fit(budget, available)
        if fitted is not None:
            return fitted, (
                f"Database connections: {budget.total} would not fit the {available} available ({why}); sized down "
                f"to {fitted.describe()} (DATABASE_BUDGET=fit)."
            )
    raise BudgetExceeded(
        f"The processes to start may open {budget.describe()} database connections, but PostgreSQL allows "
        f"{available} ({why}). Lower GENERATION_DB_CONNECTIONS (CELERY_GENERATION_CONCURRENCY with "
        "CELERY_GENERATION_POOL=prefork), CELERY_LOGGING_CONCURRENCY or DATABASE_THREADS, "
        "raise max_connections (or the role's CONNECTION LIMIT), or set DATABASE_BUDGET=fit to size the workers down."
    )
