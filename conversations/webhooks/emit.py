"""The events the helpdesk sends to webhook endpoints, queued once the transaction that made them commits.

Which events some active endpoint wants is kept in each process (helpdesk.runtime.versioned: one Redis read, no
query, and a saved or deleted endpoint is seen by the next event); an event nobody wants costs nothing more. A
wanted event's payload is read inside the caller's transaction, from the rows as written (as conversations.events
does for sockets). Each wanted delivery is a row (the admin's delivery log) and a task on the `logging` queue: the
reply's own work never waits for a receiver.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.db import transaction

from helpdesk.celery import enqueue_tolerant
from helpdesk.runtime.versioned import Versioned

from ..models import Conversation, Message, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

DELIVER_TASK = "conversations.webhook_deliver"


def _endpoints_load() -> list[tuple[int, list[str]]]:
    return [(pk, list(events or [])) for pk, events in
            WebhookEndpoint.objects.filter(active=True).order_by("pk").values_list("pk", "events")]


# (id, events wanted) of every active endpoint, read again in each process when one is saved or deleted
# (conversations.apps). A bulk update saves nothing: whoever makes one calls endpoints_kept.changed().
endpoints_kept: Versioned[list[tuple[int, list[str]]]] = Versioned("webhook-endpoints", _endpoints_load)


def endpoints_active() -> list[tuple[int, list[str]]]:
    """(id, events wanted) of every active endpoint."""
    return endpoints_kept.get()


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": conversation.pk,
        "status": conversation.status,
        "created_at": conversation.created_at.isoformat() if conversation.created_at else None,
    }
    if conversation.handoff_reason:
        data["handoff_reason"] = conversation.handoff_reason
    if conversation.agent_id:
        data["agent"] = {"id": conversation.agent_id, "name": conversation.agent.get_username()}
    if conversation.csat_score:
        data["csat"] = {"score": conversation.csat_score, "comment": conversation.csat_comment}
    return data


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "role": message.role,
        "status": message.status,
        "text": message.content,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def payload_make(event: str, data: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {"id": event_id or str(uuid.uuid4()), "type": event, "created": int(time.time()), "data": data}


def deliveries_create(event: str, payload: dict[str, Any], *, conversation_id: int | None,
                      endpoint_ids: list[int]) -> list[WebhookDelivery]:
    """One delivery row per endpoint, each queued once its row is committed."""
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint_id=endpoint_id, event=event, event_id=payload["id"], payload=payload,
                            conversation_id=conversation_id)
            for endpoint_id in endpoint_ids
        )
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: [enqueue_tolerant(DELIVER_TASK, pk, where="webhook") for pk in ids])
    return deliveries


def webhook_on_commit(event: WebhookEvent | str, *, conversation: Conversation, message: Message | None = None,
                      extra: dict[str, Any] | None = None) -> None:
    """Send `event` about `conversation` (and `message`) to the endpoints that want it, once the caller's
    transaction commits. An evaluation run's conversations are not the product's traffic: they send nothing."""
    if conversation.evaluation:
        return
    event = str(event)
    try:
        wanted = [pk for pk, events in endpoints_active() if event in events]
    except Exception:  # on the customer's path: logged, never the reply's error
        logger.exception("webhook event %s of conversation %s not queued", event, conversation.pk)
        return
    if not wanted:
        return  # nobody wants it: no payload built, nothing read for it
    data: dict[str, Any] = {"conversation": conversation_data(conversation)}
    if message is not None:
        data["message"] = message_data(message)
    if extra:
        data.update(extra)
    payload = payload_make(event, data)
    conversation_id = conversation.pk

    def queue() -> None:
        # After the commit, on the customer's path: whatever goes wrong here is logged, never the reply's error.
        try:
            deliveries_create(event, payload, conversation_id=conversation_id, endpoint_ids=wanted)
        except Exception:
            logger.exception("webhook event %s of conversation %s not queued", event, conversation_id)

    transaction.on_commit(queue)


def event_test_send(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The admin's "send test event": one delivery to this endpoint, whatever events it wants and active or not."""
    payload = payload_make(WebhookEvent.TEST, {"endpoint": {"id": endpoint.pk, "name": endpoint.name}})
    return deliveries_create(WebhookEvent.TEST, payload, conversation_id=None, endpoint_ids=[endpoint.pk])[0]
