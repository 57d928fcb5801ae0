"""Reads of the conversations app, shared by the consumer, the tasks, the API and the admin."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Subquery

from .models import Conversation, Message

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# Roles the customer sees; private notes never leave the agents' side.
CUSTOMER_VISIBLE_ROLES = [Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT, Message.Role.SYSTEM]
# Roles that make up the dialogue the model continues.
DIALOGUE_ROLES = [Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT]


def token_is_well_formed(token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token or ""))


def conversation_get(*, conversation_id: int) -> Conversation:
    return Conversation.objects.get(pk=conversation_id)


def conversation_get_by_token(*, token: str) -> Conversation | None:
    if not token_is_well_formed(token):
        return None
    return Conversation.objects.filter(token=token).first()


def message_to_dict(message: Message) -> dict[str, Any]:
    """The customer-facing form of a message (DESIGN.md § Websocket protocol): no reasoning, no errors."""
    payload: dict[str, Any] = {
        "id": message.pk,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "created_at": message.created_at.isoformat(),
        "citations": message_citations(message),
    }
    if message.client_id:
        payload["client_id"] = message.client_id
    if message.reply_to_id:
        payload["reply_to"] = message.reply_to_id
    return payload


def message_citations(message: Message) -> list[dict[str, str]]:
    """The articles a reply cited, once each, as the customer sees them: a title and, if public, a link."""
    citations: list[dict[str, str]] = []
    seen: set[object] = set()
    for source in message.sources or []:
        if not source.get("cited"):
            continue
        key = source.get("article_id") or source.get("title")
        if key in seen:
            continue
        seen.add(key)
        citation = {"title": str(source.get("title", ""))}
        if source.get("url"):
            citation["url"] = str(source["url"])
        citations.append(citation)
    return citations


def conversation_history(*, conversation: Conversation, limit: int | None = None) -> list[dict[str, Any]]:
    """The latest customer-visible messages, oldest first."""
    limit = limit or settings.HISTORY_LIMIT
    newest = conversation.messages.filter(role__in=CUSTOMER_VISIBLE_ROLES).order_by("-id")[:limit]
    return [message_to_dict(message) for message in reversed(list(newest))]


def conversation_to_dict(conversation: Conversation) -> dict[str, Any]:
    return {"status": conversation.status}


def customer_language(*, conversation: Conversation) -> str:
    """The language of the customer's latest message ("en" when they have not written yet)."""
    from helpdesk.text import language_of

    latest = (
        conversation.messages.filter(role=Message.Role.CUSTOMER).order_by("-id").values_list("content", flat=True)
    ).first()
    return language_of(latest or "")


def dialogue_before(*, conversation: Conversation, up_to_message_id: int, limit: int = 50) -> list[Message]:
    """The latest dialogue turns up to and including a message, oldest first, for the prompt."""
    turns = (
        conversation.messages.filter(role__in=DIALOGUE_ROLES, id__lte=up_to_message_id)
        .exclude(role=Message.Role.BOT, status=Message.Status.FAILED)
        .exclude(content="")
        .order_by("-id")[:limit]
    )
    return list(reversed(list(turns)))


def customer_message_for_reply(*, message_id: int) -> Message | None:
    """A customer message with what deciding on its reply needs, in one query (it is on the first-token path).

    Annotations: `has_newer` (the customer wrote again since: one reply then
    answers both), `reply_id` and `reply_status` (the bot reply already claimed, if any).
    """
    replies = Message.objects.filter(reply_to=OuterRef("pk"), role=Message.Role.BOT)
    newer = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), role=Message.Role.CUSTOMER, id__gt=OuterRef("pk")
    )
    return (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, role=Message.Role.CUSTOMER)
        .annotate(
            has_newer=Exists(newer),
            reply_id=Subquery(replies.values("pk")[:1]),
            reply_status=Subquery(replies.values("status")[:1]),
        )
        .first()
    )


def streaming_replies(*, conversation: Conversation) -> list[int]:
    return list(
        conversation.messages.filter(role=Message.Role.BOT, status=Message.Status.STREAMING).values_list(
            "id", flat=True
        )
    )
