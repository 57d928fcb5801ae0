"""What the helpdesk sends out of itself: webhooks to the company's systems, emails to customers who left.

Each delivery is a row, so that admin and the console can say what happened to it (sent, retrying, given up, and
why) without reading any log.
"""

from __future__ import annotations

import uuid

from django.db import models

from helpdesk.encrypted_fields import EncryptedTextField

from .chat import Conversation, Message


class WebhookEvent(models.TextChoices):
    CONVERSATION_CREATED = "conversation.created", "Conversation created"
    CUSTOMER_MESSAGE = "message.customer", "Customer message"
    BOT_REPLY = "message.bot_reply", "Bot reply"
    HANDOFF = "conversation.handoff", "Handoff to a person"
    AGENT_JOINED = "conversation.agent_joined", "Agent joined"
    RESOLVED = "conversation.resolved", "Resolved"
    CSAT = "conversation.csat", "Satisfaction rating"
    FEEDBACK = "message.feedback", "Feedback on a reply"
    TEST = "test", "Test event"


class WebhookEndpoint(models.Model):
    """A URL of the company's that wants to hear of some events, signed with its own secret."""

    name = models.CharField("name", max_length=100)
    url = models.URLField("URL", max_length=1000, help_text="http(s) address that receives a POST per event")
    secret = EncryptedTextField(
        "secret", max_length=200,
        help_text="Shared with the receiver, which checks the Helpdesk-Signature header with it",
    )
    events = models.JSONField("events", default=list, blank=True)
    active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "webhook endpoint"
        verbose_name_plural = "webhook endpoints"

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event to one endpoint, with its attempts so far."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    event = models.CharField("event", max_length=40, choices=WebhookEvent.choices)
    # The event names conversations and may carry a message's text: it goes with the conversation's data.
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    payload = models.JSONField(default=dict)
    status = models.CharField("status", max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveIntegerField("attempts", default=0)
    response_code = models.PositiveIntegerField("response code", null=True, blank=True)
    duration_ms = models.PositiveIntegerField("duration (ms)", null=True, blank=True)
    next_retry_at = models.DateTimeField("next retry", null=True, blank=True)
    error = models.CharField("error", max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"


class EmailDelivery(models.Model):
    """An agent's reply sent by email to a customer who left an address and was not there to read it."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="email_delivery")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="email_deliveries")
    # The Message-ID header this email carries; the next one of the conversation replies to it.
    message_id_header = models.CharField(max_length=255)
    status = models.CharField("status", max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveIntegerField("attempts", default=0)
    error = models.CharField("error", max_length=500, blank=True)
    next_retry_at = models.DateTimeField("next retry", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "email delivery"
        verbose_name_plural = "email deliveries"

    def __str__(self) -> str:
        return f"email for message {self.message_id}: {self.status}"
