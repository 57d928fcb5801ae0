"""Grounded answers through the websocket, from whichever runner this configuration has (worker or threads)."""

from __future__ import annotations

from typing import Any

import pytest

from conversations import services
from conversations.models import Message
from helpdesk import aio
from knowledge.tests.factories import faq_create, knowledge_base_create
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)


async def ask(chat: Any, text: str) -> tuple[Any, dict[str, Any]]:
    conversation = await aio.db_call(services.conversation_create)
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": text, "client_id": "g-1"})
    done = await client.until("done")
    await client.close()
    return conversation, done


async def test_done_carries_the_cited_articles_and_history_keeps_them(chat, fake_ollama, reply_runner) -> None:
    await aio.db_call(knowledge_base_create)
    fake_ollama.script(Reply(content="Parcels leave within 24 hours and arrive in 2-4 days [1]."))
    conversation, done = await ask(chat, "How long until my parcel arrives?")
    assert done["message"]["content"] == "Parcels leave within 24 hours and arrive in 2-4 days."
    assert done["message"]["citations"] == [
        {"title": "Shipping and delivery", "url": "https://shop.example/help/shipping"}
    ]
    again, history = await chat(conversation.token)
    await again.close()
    assert history["messages"][-1]["citations"] == done["message"]["citations"]


async def test_faq_answer_arrives_at_once_without_the_llm(chat, fake_ollama, reply_runner) -> None:
    await aio.db_call(lambda: faq_create("How do I get an invoice?", "Request it on the order page.",
                                         alternatives=("Can I have a VAT invoice?",)))
    _, done = await ask(chat, "can i have a VAT invoice")
    assert done["message"]["content"] == "Request it on the order page."
    assert done["message"]["status"] == "complete"
    reply = await aio.db_call(lambda: Message.objects.get(pk=done["message"]["id"]))
    assert reply.answer_source == Message.AnswerSource.FAQ
    assert fake_ollama.chat_requests() == []


async def test_second_asking_is_served_from_the_answer_cache(chat, fake_ollama, reply_runner) -> None:
    await aio.db_call(knowledge_base_create)
    fake_ollama.script(Reply(content="Yes, Visa and Mastercard are accepted [1]."))
    _, first = await ask(chat, "Do you take Mastercard?")
    _, second = await ask(chat, "Do you take Mastercard?")
    assert second["message"]["content"] == first["message"]["content"] == "Yes, Visa and Mastercard are accepted."
    assert second["message"]["citations"] == first["message"]["citations"] != []
    reply = await aio.db_call(lambda: Message.objects.get(pk=second["message"]["id"]))
    assert reply.answer_source == Message.AnswerSource.CACHE
    assert len(fake_ollama.chat_requests()) == 1
