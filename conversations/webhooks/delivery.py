"""One try of one webhook delivery, and what follows it: delivered, retried later with backoff, or given up.

The POST is bounded every way a receiver could hold it: WEBHOOK_TIMEOUT_S for connecting and for each wait on the
receiver, the same deadline over reading the answer, of which WEBHOOK_RESPONSE_MAX_BYTES at most are read; a
redirect is never followed (the admin fixed the address; a receiver cannot send our signed events elsewhere) and
fails the delivery at once with where it pointed. An endpoint that did not answer at all is paused for
WEBHOOK_PAUSE_S: its other deliveries wait for the pause's end without trying, so that a dead endpoint holds the
shared `logging` queue for one timeout per pause rather than one per event.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from helpdesk.celery import enqueue_in

from ..models import DeliveryStatus, WebhookDelivery
from .signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

DELIVER_TASK = "conversations.webhook_deliver"
USER_AGENT = "helpdesk-webhooks/1"


class _Outcome:
    def __init__(self, *, ok: bool, code: int | None = None, error: str = "", final: bool = False,
                 unreachable: bool = False) -> None:
        self.ok, self.code, self.error, self.final, self.unreachable = ok, code, error, final, unreachable


def _pause_key(endpoint_id: int) -> str:
    return f"helpdesk:webhooks:paused:{endpoint_id}"


def backoff_s(attempts: int) -> float:
    """The wait after the `attempts`-th failed try: doubling from WEBHOOK_BACKOFF_BASE_S, capped."""
    return min(settings.WEBHOOK_BACKOFF_BASE_S * 2 ** max(0, attempts - 1), settings.WEBHOOK_BACKOFF_MAX_S)


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> _Outcome:
    timeout_s = settings.WEBHOOK_TIMEOUT_S
    deadline = time.monotonic() + timeout_s
    limit = settings.WEBHOOK_RESPONSE_MAX_BYTES
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False) as client, \
                client.stream("POST", url, content=body, headers=headers) as response:
            read = bytearray()
            for chunk in response.iter_bytes():
                read += chunk
                if len(read) >= limit or time.monotonic() > deadline:
                    break
            code = response.status_code
            if response.is_redirect:
                where = response.headers.get("Location", "")[:200]
                return _Outcome(ok=False, code=code, final=True,
                                error=f"redirected to {where!r}: redirects are not followed; set the final URL")
            if 200 <= code < 300:
                return _Outcome(ok=True, code=code)
            detail = bytes(read[:limit]).decode("utf-8", "replace").strip()[:300]
            return _Outcome(ok=False, code=code, error=f"HTTP {code}" + (f": {detail}" if detail else ""))
    except httpx.TimeoutException:
        return _Outcome(ok=False, unreachable=True, error=f"no answer within WEBHOOK_TIMEOUT_S ({timeout_s:g} s)")
    except httpx.HTTPError as exc:
        return _Outcome(ok=False, unreachable=True, error=f"{type(exc).__name__}: {exc}"[:500])


def _paused_for(delivery: WebhookDelivery) -> float:
    """Seconds the delivery's endpoint stays paused (0: not paused). A test event is always tried."""
    if delivery.event == "test":
        return 0.0
    until = cache.get(_pause_key(delivery.endpoint_id))
    return max(0.0, float(until) - time.time()) if until else 0.0


def _postpone(delivery: WebhookDelivery, wait_s: float) -> None:
    """The endpoint is paused: wait for the pause to end without using a try."""
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.RETRYING, next_retry_at=timezone.now() + timedelta(seconds=wait_s),
            error="waiting: the endpoint did not answer a moment ago (WEBHOOK_PAUSE_S)",
        )
        transaction.on_commit(lambda: enqueue_in(wait_s, DELIVER_TASK, delivery.pk))


def delivery_attempt(delivery_id: int) -> None:
    """Try the delivery once, record the try in its log row, and queue the next one after its backoff."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        return
    endpoint = delivery.endpoint
    if not endpoint.active and delivery.event != "test":
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED, next_retry_at=None, error="the endpoint was deactivated")
        return
    if (paused := _paused_for(delivery)) > 0:
        _postpone(delivery, paused + 0.05)
        return
    body = body_of(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Helpdesk-Event": delivery.event,
        "Helpdesk-Delivery": str(delivery.event_id),
        SIGNATURE_HEADER: signature_header(endpoint.secret, body),
    }
    started = time.monotonic()
    outcome = _post(endpoint.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    attempts = delivery.attempts + 1
    if outcome.unreachable and settings.WEBHOOK_PAUSE_S > 0:
        cache.set(_pause_key(endpoint.pk), time.time() + settings.WEBHOOK_PAUSE_S, settings.WEBHOOK_PAUSE_S + 5)
    elif outcome.ok or outcome.code is not None:
        cache.delete(_pause_key(endpoint.pk))
    changes: dict[str, Any] = {"attempts": attempts, "response_code": outcome.code, "duration_ms": duration_ms,
                               "error": outcome.error[:500]}
    retry_in: float | None = None
    if outcome.ok:
        changes.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), next_retry_at=None)
    elif outcome.final or attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        if not outcome.final:
            changes["error"] = f"gave up after {attempts} tries: {outcome.error}"[:500]
        changes.update(status=DeliveryStatus.FAILED, next_retry_at=None)
    else:
        retry_in = backoff_s(attempts)
        changes.update(status=DeliveryStatus.RETRYING, next_retry_at=timezone.now() + timedelta(seconds=retry_in))
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery_id).update(**changes)
        if retry_in is not None:
            delay = retry_in
            transaction.on_commit(lambda: enqueue_in(delay, DELIVER_TASK, delivery_id))
    if not outcome.ok:
        logger.warning("webhook %s to endpoint %s: try %s failed: %s", delivery.event, endpoint.pk, attempts,
                       outcome.error)
