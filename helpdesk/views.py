"""Operations endpoints: readiness and liveness probes."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from helpdesk import health


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache (Redis) and at least one Ollama node; 503 when any is missing."""
    report = health.readiness()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing, so a dead dependency never restarts healthy pods."""
    return JsonResponse({"ok": True})
