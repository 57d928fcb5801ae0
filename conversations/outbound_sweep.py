"""Webhook deliveries and emails whose task was lost (Redis away when it was queued, a worker or the embedded
web process stopped while a retry waited) are queued again by beat's sweep: a delivery is at least once, and the
receiver de-duplicates by its id (README: Webhooks)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Model, Q
from django.utils import timezone

from helpdesk.celery import enqueue_tolerant

from .models import DeliveryStatus, EmailDelivery, WebhookDelivery

# A sweep queues this many at most of each kind; the next sweep takes the rest.
SWEEP_BATCH = 500


def _stale_resend(model: type[Model], task: str, *, older_than_s: float) -> int:
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_s)
    waiting = Q(status__in=(DeliveryStatus.PENDING, DeliveryStatus.RETRYING))
    lost = (Q(next_retry_at__isnull=True, created_at__lt=cutoff) | Q(next_retry_at__lt=cutoff)) & waiting
    ids = list(model.objects.filter(lost).order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    # Marked as queued now, so that the next sweep leaves them to this one's tasks for a while.
    model.objects.filter(pk__in=ids).update(next_retry_at=now)
    for pk in ids:
        enqueue_tolerant(task, pk, where="outbound_sweep")
    return len(ids)


def outbound_stale_resend(*, older_than_s: float) -> dict[str, int]:
    """Queue again what has waited past its time by more than `older_than_s`; returns how many of each."""
    return {
        "webhooks": _stale_resend(WebhookDelivery, "conversations.webhook_deliver", older_than_s=older_than_s),
        "emails": _stale_resend(EmailDelivery, "conversations.email_reply_send", older_than_s=older_than_s),
    }
