"""Actions: calls the bot makes to the company's own systems (an order look-up), and the record of each call."""

from __future__ import annotations

from django.db import models

from helpdesk.encrypted_fields import EncryptedTextField

from .chat import Conversation, Message


def default_parameters() -> dict:
    return {"type": "object", "properties": {}, "required": []}


def default_intents() -> list[str]:
    return ["order_status"]


class Action(models.Model):
    """One operation on the company's system the bot may call (conversations.actions).

    The admin fixes the scheme and host (`base_url`) and the path; the model only fills the declared
    parameters, which are URL-encoded into the path and query, and the server adds the verified customer's id
    as `{customer_id}`: never an id the customer typed."""

    class Method(models.TextChoices):
        GET = "GET", "GET"
        POST = "POST", "POST"

    class Confirmation(models.TextChoices):
        CUSTOMER = "customer", "The customer confirms in the chat"
        AGENT = "agent", "An agent approves"

    class ResultFormat(models.TextChoices):
        TEMPLATE = "template", "The result template"
        JSON = "json", "The raw JSON, trimmed"

    name = models.SlugField(max_length=64, unique=True, help_text="What the model calls it, e.g. order_lookup.")
    description = models.TextField(help_text="For the model: what the action does and when to use it.")
    source_title = models.CharField(
        max_length=120, blank=True,
        help_text="The result's title as a source, which the customer sees under the answer, e.g. "
                  "\"Your orders · 您的订单\" (empty: the name).",
    )
    parameters = models.JSONField(
        default=default_parameters, blank=True,
        help_text='The arguments the model fills, a JSON schema of a flat object: {"type": "object", "properties": '
                  '{"order_number": {"type": "string"}}, "required": []}. Strings, integers, numbers and booleans.',
    )
    intents = models.JSONField(
        default=default_intents, blank=True,
        help_text='The message intents that make the bot consider this action, e.g. ["order_status", "refund"].',
    )
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.GET)
    base_url = models.URLField(help_text="Scheme and host of the company's system, e.g. https://shop.example.com; "
                                         "fixed here, never chosen by the model.")
    path_template = models.CharField(
        max_length=500,
        help_text="Path and query with {placeholders}: the parameters and {customer_id} (the verified customer), "
                  "e.g. /api/orders?customer={customer_id}&order={order_number}.",
    )
    # "Name: value" per line (an API key, a bearer token): encrypted at rest (helpdesk.encryption).
    headers = EncryptedTextField(blank=True, help_text='Sent with every call, one "Name: value" per line; '
                                                       "stored encrypted.")
    timeout_s = models.FloatField(default=5.0)
    requires_verified_identity = models.BooleanField(default=True)
    read_only = models.BooleanField(default=True, help_text="Only read-only actions run without a confirmation.")
    confirmation = models.CharField(max_length=16, choices=Confirmation.choices, default=Confirmation.CUSTOMER,
                                    help_text="For an action that changes something: who confirms it.")
    result_format = models.CharField(max_length=16, choices=ResultFormat.choices, default=ResultFormat.JSON)
    result_template = models.TextField(
        blank=True, help_text="Django template language over the JSON answer, e.g. {% for o in orders %}Order "
                              "#{{ o.number }}: {{ o.status }}.{% endfor %}",
    )
    result_max_chars = models.PositiveIntegerField(default=2000)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ActionCall(models.Model):
    """One call of an action (or one proposal awaiting confirmation), shown to agents beside the reply."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"
        PROPOSED = "proposed", "Proposed, awaiting confirmation"
        DECLINED = "declined", "Declined"
        REFUSED = "refused", "Refused: no verified customer"

    action = models.ForeignKey(Action, null=True, on_delete=models.SET_NULL, related_name="calls")
    action_name = models.CharField(max_length=64)  # kept when the action is deleted
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="action_calls")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="action_calls")
    arguments = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    result = EncryptedTextField(blank=True)  # what the model was given, as given
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action_name} ({self.status})"
