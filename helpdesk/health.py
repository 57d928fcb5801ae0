"""Readiness: can this process serve customers? (GET /healthz; the liveness probe is /livez)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from helpdesk.llm import ollama as gateway
from helpdesk.runtime import dbbudget, warmup


def _check(probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = probe() or {}
        ok = detail.pop("ok", True)
    except Exception as exc:  # a readiness probe reports every failure, whatever its type
        ok, detail = False, {"error": f"{type(exc).__name__}: {exc}"}
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), **detail}


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def _cache() -> dict[str, Any]:
    """The cache is Redis in production: the channel layer, the broker and the answer cache all live there."""
    stamp = str(time.time())
    cache.set("healthz", stamp, 30)
    if cache.get("healthz") != stamp:
        return {"ok": False, "error": "the cache did not return what was written"}
    return {"backend": "redis" if settings.REDIS_URL else "local memory"}


def _ollama() -> dict[str, Any]:
    """At least one node up and in rotation; probed now when the last health check is too old."""
    states = gateway.nodes_status()
    serving = [s.host for s in states if s.serves()]
    detail: dict[str, Any] = {"nodes": [s.as_dict() for s in states], "serving": serving}
    if not serving:
        detail.update(ok=False, error="no Ollama node is up (OLLAMA_HOSTS: " + ", ".join(settings.OLLAMA_HOSTS) + ")")
    return detail


def _connections() -> dict[str, Any]:
    """The connection budget of the processes `serve` starts fits what PostgreSQL allows this role."""
    if connection.vendor != "postgresql":
        return {"budget": "not checked (not PostgreSQL)"}
    budget = dbbudget.budget_from_settings(settings)
    if settings.DATABASE_POOLER:  # PgBouncer's pool, not max_connections, bounds what PostgreSQL sees
        return {"budget": budget.total, "capacity": f"not checked (behind {settings.DATABASE_POOLER})"}
    capacity, why = dbbudget.server_limits(connection).capacity()
    detail: dict[str, Any] = {"budget": budget.total, "capacity": capacity}
    if budget.total > capacity:
        detail.update(ok=False, error=f"the processes may open {budget.describe()} connections; {why} allows "
                                      f"{capacity}")
    return detail


def readiness() -> dict[str, Any]:
    checks = {
        "warm_up": _check(warmup.warm_status),
        "database": _check(_database),
        "connections": _check(_connections),
        "cache": _check(_cache),
        "ollama": _check(_ollama),
    }
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}


def dependencies_up() -> dict[str, bool]:
    """Whether the database and the cache (Redis in production) answer now: what /metrics reports for the
    alerting rules, which cannot read /healthz's JSON."""
    return {"database": _check(_database)["ok"], "redis" if settings.REDIS_URL else "cache": _check(_cache)["ok"]}
