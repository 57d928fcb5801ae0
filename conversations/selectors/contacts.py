"""A verified customer's profile and past conversations, as the console shows them beside a conversation.

The id, name and email are what the host site signed (conversations.services.identity: under its HMAC); the
`attributes` its page sent beside them (a plan, a company) are not signed, so they come apart, as
`unverified_attributes`, and the console labels them so. An anonymous
conversation (no Customer) yields `{"anonymous": True}` and nothing else: not even the pre-chat form's name
or email, which the visitor typed and nobody checked (those stay on the conversation's own line).

Personal data: read for console staff only (the views and the console socket check that); nothing here
keeps a copy, so erasure and retention, which delete the Customer and its conversations, leave nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Min

from ..models import Conversation, Customer, Message

# The side panel lists this many of the customer's latest conversations; the contact page lists up to
# CONTACT_PAGE_CONVERSATIONS.
PANEL_CONVERSATIONS = 10
CONTACT_PAGE_CONVERSATIONS = 200
FIRST_MESSAGE_CHARS = 140


def _first_messages(conversation_ids: list[int]) -> dict[int, str]:
    """Each conversation's first customer message, cut to FIRST_MESSAGE_CHARS (read in Python: the text may be
    encrypted at rest, so SQL cannot cut it)."""
    firsts = (
        Message.objects.filter(conversation_id__in=conversation_ids, role=Message.Role.CUSTOMER)
        .order_by().values("conversation_id").annotate(first=Min("id")).values_list("first", flat=True)
    )
    return {
        message.conversation_id: message.content[:FIRST_MESSAGE_CHARS]
        for message in Message.objects.filter(pk__in=list(firsts)).only("id", "conversation_id", "content")
    }


def contact_conversations(*, customer: Customer, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The customer's latest `limit` conversations (newest first: date, channel, status, first message, CSAT)
    and how many they have in all."""
    queryset = Conversation.objects.filter(customer=customer, evaluation=False)
    rows = list(queryset.order_by("-created_at", "-id")[:limit])
    firsts = _first_messages([row.pk for row in rows])
    items = [
        {
            "id": row.pk,
            "created_at": row.created_at.isoformat(),
            "channel": row.channel,
            "status": row.status,
            "first_message": firsts.get(row.pk, ""),
            "csat_score": row.csat_score,
        }
        for row in rows
    ]
    return items, queryset.count() if len(rows) == limit else len(rows)


def _attributes(customer: Customer) -> dict[str, Any]:
    try:
        attributes = json.loads(customer.attributes) if customer.attributes else {}
    except ValueError:
        return {}
    return attributes if isinstance(attributes, dict) else {}


def contact_profile(*, customer: Customer, limit: int = CONTACT_PAGE_CONVERSATIONS) -> dict[str, Any]:
    """The customer's signed identity and their conversations."""
    conversations, total = contact_conversations(customer=customer, limit=limit)
    return {
        "anonymous": False,
        "customer_id": customer.pk,
        "external_id": customer.external_id,
        "name": customer.name,
        "email": customer.email,
        "unverified_attributes": _attributes(customer),
        "first_seen": customer.created_at.isoformat(),
        "last_seen": customer.last_seen_at.isoformat(),
        "conversations": conversations,
        "total": total,
    }


def contact_for_conversation(*, conversation: Conversation) -> dict[str, Any]:
    """The side panel's data for an open conversation: its verified customer's profile with their latest
    conversations (the open one among them), or only `anonymous` for an anonymous visitor."""
    if conversation.customer_id is None:
        return {"anonymous": True}
    customer = Customer.objects.get(pk=conversation.customer_id)
    return contact_profile(customer=customer, limit=PANEL_CONVERSATIONS)


def contact_get(*, customer_id: int) -> Customer | None:
    return Customer.objects.filter(pk=customer_id).first()
