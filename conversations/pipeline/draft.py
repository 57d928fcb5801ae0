"""Drafts for agents: a reply grounded like the bot's own, which an agent may edit and send."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import connection

from helpdesk.llm import ollama as gateway
from helpdesk.llm import profiles
from helpdesk.runtime import aio

from .. import guard
from ..models import Message
from ..privacy.masking import PlaceholderFilter
from ..selectors.access import conversation_get
from .citations import CitationFilter, source_records
from .preparation import reply_prepare


def draft_generate(*, conversation_id: int) -> dict[str, Any]:
    """A reply an agent may edit and send: grounded in the knowledge base like the bot's own, never sent
    to the customer by itself. Returns {"text", "sources"} or {"error"}."""
    conversation = conversation_get(conversation_id=conversation_id)
    last_customer = conversation.messages.filter(role=Message.Role.CUSTOMER).order_by("-id").first()
    if last_customer is None:
        return {"error": "the customer has not written anything yet"}
    profile = profiles.profile_in_force(profile_id=conversation.profile_id)
    prepared = reply_prepare(conversation=conversation, up_to_message_id=last_customer.pk, profile=profile)
    if prepared.grounding.faq:
        return {"text": prepared.grounding.faq.answer, "sources": [], "faq": prepared.grounding.faq.question}
    messages, sources = prepared.prompt()
    citations = CitationFilter(len(sources))
    connection.close()
    try:
        text = aio.run(_collect(messages, prepared.options, citations, prepared.masker.restorer()))
    except gateway.OllamaError as exc:
        return {"error": f"the assistant could not write a draft: {exc}"}
    if text is None:
        return {"error": "the assistant's draft repeated its system prompt and was withheld"}
    return {"text": text, "sources": source_records(sources, citations.cited),
            "no_answer": citations.no_answer}


async def _collect(
    messages: list[dict], options: gateway.ChatOptions, citations: CitationFilter, placeholders: PlaceholderFilter
) -> str | None:
    """The whole visible answer of one chat, reasoning left out, the customer's personal data put back where
    the model wrote its placeholder; None when it repeated the system prompt."""
    parts: list[str] = []
    canary = guard.CanaryFilter(guard.prompt_canary())
    stream = await gateway.open_chat_stream(messages, options)
    async with contextlib.aclosing(aiter(stream)) as pieces:
        async for piece in pieces:
            if piece.visible:
                parts.append(canary.feed(placeholders.feed(citations.feed(piece.visible))))
            if canary.tripped:
                return None
    parts.append(canary.feed(placeholders.feed(citations.finish()) + placeholders.finish()) + canary.finish())
    return None if canary.tripped else "".join(parts).strip()
