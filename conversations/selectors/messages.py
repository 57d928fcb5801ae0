"""A message as customers and agents are sent it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from ..entities import entities_merge
from ..models import Message
from ..reply_progress import reply_progress
from .actions import action_call_dict

# Roles the customer sees; private notes never leave the agents' side.
CUSTOMER_VISIBLE_ROLES = [Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT, Message.Role.SYSTEM]


def message_to_dict(message: Message) -> dict[str, Any]:
    """The customer-facing form of a message (docs/architecture.md § Websocket protocol): no reasoning, no errors."""
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
    if message.status == Message.Status.STREAMING and (progress := reply_progress(message.pk)) is not None:
        # As new as the last delta (the database's copy is a few seconds older): the next delta continues it.
        payload["seq"], payload["content"] = progress
    if message.reply_to_id:
        payload["reply_to"] = message.reply_to_id
    if message.role == Message.Role.AGENT and message.author_id:
        payload["agent"] = {"name": agent_name(message.author)}
    return payload


def agent_name(user: Any) -> str:
    """How customers and colleagues see an agent: first name, else the user name."""
    if user is None:
        return ""
    return (user.first_name or user.get_full_name() or user.get_username()).strip()


def message_to_agent_dict(message: Message) -> dict[str, Any]:
    """The agents' form of a message: everything the customer sees, and how the bot got there."""
    payload = message_to_dict(message)
    payload.update(
        {
            "reasoning": message.reasoning,
            "answer_source": message.answer_source,
            "confidence": message.confidence,
            "confidence_signals": message.confidence_signals,
            "unverified_facts": message.unverified_facts,
            "sources": message.sources,
            "retrieval": message.retrieval,
            "model_name": message.model_name,
            "error": message.error,
            "author": agent_name(message.author) if message.author_id else "",
            "feedback": message_feedback(message),
            # The moderation categories it hit (conversations.moderation): the console marks it flagged.
            "flagged": [category for category in message.flagged.split(",") if category],
        }
    )
    if message.role == Message.Role.AGENT:
        payload["email"] = message_email(message)
    if message.role == Message.Role.BOT and (message.retrieval or {}).get("actions"):
        # The calls to the company's systems this reply made or proposed (conversations.actions), beside it.
        calls = message.action_calls.select_related("action").order_by("created_at")
        payload["actions"] = [action_call_dict(call) for call in calls]
    if message.role == Message.Role.CUSTOMER:
        payload.update({"intent": message.intent, "intent_source": message.intent_source,
                        "entities": message.entities or []})
    return payload


def customer_details(messages: list[Message]) -> dict[str, Any]:
    """What the customer has told us so far, for the console's header and the prompt: the latest intent of
    their messages, and the entities of all of them, each (kind, value) once, first given first."""
    customer = [message for message in messages if message.role == Message.Role.CUSTOMER]
    intent = next((message.intent for message in reversed(customer) if message.intent), "")
    return {"intent": intent, "entities": entities_merge(message.entities for message in customer)}


def message_email(message: Message) -> dict[str, Any] | None:
    """Where the email of an agent's reply stands (conversations.mail), for the console's marker; None when the
    reply was not emailed (the customer was in the chat, or left no address)."""
    try:
        delivery = message.email_delivery
    except ObjectDoesNotExist:
        return None
    return {"status": delivery.status, "attempts": delivery.attempts, "error": delivery.error}


def message_feedback(message: Message) -> dict[str, Any] | None:
    """The customer's vote on a bot reply, with their comment, for agents (None when there is none)."""
    feedback = getattr(message, "feedback", None) if message.role == Message.Role.BOT else None
    if feedback is None:
        return None
    return {"rating": feedback.rating, "comment": feedback.comment}


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



def message_for_agents(*, message_id: int) -> dict[str, Any] | None:
    """A message as the console shows it (how the bot made it, the customer's vote), or None when gone."""
    message = Message.objects.select_related("author").filter(pk=message_id).first()
    return message_to_agent_dict(message) if message else None
