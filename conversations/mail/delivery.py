"""An agent's reply by email: queued with the reply when nobody is in the chat to read it, sent with retries.

A refusal by the server (an SMTP 5xx: no such mailbox, relaying denied) is final and recorded at once; anything
else (the server away, a 4xx, a timeout) is tried again after a doubling wait, EMAIL_MAX_ATTEMPTS in all. The
delivery row says where it stands: the console marks the reply, admin lists them.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.celery import enqueue_in, enqueue_tolerant

from .. import events
from ..models import DeliveryStatus, EmailDelivery, Message
from ..presence_store import customer_sockets_count
from ..selectors.replies import customer_language
from .compose import email_compose, message_id_for

logger = logging.getLogger(__name__)

SEND_TASK = "conversations.email_reply_send"


def email_reply_queue(message: Message) -> EmailDelivery | None:
    """In the reply's transaction: when the customer left an address and has no chat window open, an email of
    the reply is queued for when it commits. Returns the delivery row, or None when no email goes."""
    conversation = message.conversation
    if not settings.EMAIL_REPLIES or not conversation.contact_email or conversation.evaluation:
        return None
    try:
        if customer_sockets_count(conversation.pk):
            return None
    except Exception:  # presence unknown (Redis away): write rather than stay silent
        logger.warning("customer presence unknown for conversation %s; emailing the reply", conversation.pk)
    delivery = EmailDelivery.objects.create(message=message, conversation=conversation,
                                            message_id_header=message_id_for(message))
    transaction.on_commit(lambda: enqueue_tolerant(SEND_TASK, delivery.pk, where="email"))
    return delivery


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def _error_text(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = "; ".join(f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
                             for code, reply in exc.recipients.values())
        return f"recipient refused: {refusals}"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"SMTP {exc.smtp_code}: {reply}"
    return f"{type(exc).__name__}: {exc}"


def email_attempt(delivery_id: int) -> None:
    """Send the email once; record the outcome and queue the next try after its backoff."""
    delivery = (EmailDelivery.objects.select_related("message__author", "conversation")
                .filter(pk=delivery_id).first())
    if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        return
    attempts = delivery.attempts + 1
    changes: dict[str, Any] = {"attempts": attempts}
    retry_in: float | None = None
    try:
        email = email_compose(delivery, language=customer_language(conversation=delivery.conversation))
        email.send(fail_silently=False)
    except Exception as exc:  # whatever the backend raised is the delivery's error
        error = _error_text(exc)[:480]
        logger.warning("email for message %s: try %s failed: %s", delivery.message_id, attempts, error)
        if _permanent(exc) or attempts >= settings.EMAIL_MAX_ATTEMPTS:
            changes.update(status=DeliveryStatus.FAILED, next_retry_at=None, error=error if _permanent(exc)
                           else f"gave up after {attempts} tries: {error}")
        else:
            retry_in = settings.EMAIL_BACKOFF_BASE_S * 2 ** (attempts - 1)
            changes.update(status=DeliveryStatus.RETRYING, error=error,
                           next_retry_at=timezone.now() + timedelta(seconds=retry_in))
    else:
        changes.update(status=DeliveryStatus.DELIVERED, sent_at=timezone.now(), error="", next_retry_at=None)
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery_id).update(**changes)
        if changes.get("status") in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
            # Consoles with the conversation open mark the reply sent or failed at once.
            events.message_reviewed_on_commit(delivery.message)
        if retry_in is not None:
            delay = retry_in
            transaction.on_commit(lambda: enqueue_in(delay, SEND_TASK, delivery_id))
    if retry_in is not None:
        logger.info("email for message %s retried in %.0f s", delivery.message_id, retry_in)

