"""Operations endpoints: readiness and liveness probes, Prometheus metrics."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from helpdesk import celery, health
from helpdesk.llm import nodes
from helpdesk.observability import metrics


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache (Redis) and at least one Ollama node; 503 when any is missing.

    The details (node addresses, errors) only for those who may read the metrics: the rest of the
    world, a load balancer included, needs the status code alone.
    """
    report = health.readiness()
    status = 200 if report["ok"] else 503
    if not metrics_allowed(request):
        report = {"ok": report["ok"], "checks": {name: {"ok": c["ok"]} for name, c in report["checks"].items()}}
    return JsonResponse(report, status=status)


@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing, so a dead dependency never restarts healthy pods."""
    return JsonResponse({"ok": True})


def metrics_allowed(request: HttpRequest) -> bool:
    """A scraper with the METRICS_TOKEN bearer token, or one from METRICS_ALLOWED_IPS.

    REMOTE_ADDR is the client as helpdesk/web/clientip.py settles it: a forwarded header counts only from
    TRUSTED_PROXIES. With a token configured, the address alone opens nothing (METRICS_REQUIRE_TOKEN):
    on a shared host or behind a proxy, "from 127.0.0.1" says little about who asks.
    """
    header = request.headers.get("Authorization", "")
    if settings.METRICS_TOKEN and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), settings.METRICS_TOKEN.encode())
    if settings.METRICS_TOKEN and settings.METRICS_REQUIRE_TOKEN:
        return False
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_IPS


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("metrics: send Authorization: Bearer <METRICS_TOKEN> or scrape from METRICS_ALLOWED_IPS\n",
                            status=403, content_type="text/plain")
    from prometheus_client import CONTENT_TYPE_LATEST

    readings = [metrics.NodeReading(host=s.host, in_flight=s.in_flight, up=s.serves()) for s in nodes.nodes_state()]
    operations = metrics.OperationsCollector(
        generation_queue_depth=celery.generation_queue_depth(), nodes=readings,
        dependencies=health.dependencies_up(), workers=celery.workers_alive(),
    )
    body = metrics.exposition(operations=operations)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
