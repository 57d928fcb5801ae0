"""Personal data never reaches Ollama (chat, intent model, embeddings) nor the answer cache; the customer and the
agents see it as written, in the streamed reply too, where the model echoed a placeholder."""

from __future__ import annotations

import json
import pickle

import pytest
from django.core.cache import cache

from conversations.models import Conversation, Message
from conversations.pipeline.draft import draft_generate
from conversations.selectors.messages import message_to_agent_dict
from conversations.services.identity import conversation_create
from conversations.tests.test_handoff import ask
from helpdesk.runtime import aio
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import FakeOllama, Reply

from .factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)

CASES = {
    "en": (
        "How long does a refund take? Call me on 138 1234 5678 or mail li.wei@example.com, ID 11010519491231002X",
        "Refunds take 3-5 working days [1]; we will call [PHONE_1] and write to [EMAIL_1].",
        ["138 1234 5678", "13812345678", "li.wei@example.com", "11010519491231002X"],
        "Refunds take 3-5 working days; we will call 138 1234 5678 and write to li.wei@example.com.",
    ),
    "zh-hans": (
        "退款时间 +86 139-8765-4321 zhang@example.cn 4111 1111 1111 1111",
        "退款3-5个工作日到账【1】，我们会打[PHONE_1]联系您，退到卡[CARD_1]。",
        ["139-8765-4321", "13987654321", "zhang@example.cn", "4111 1111 1111 1111", "4111111111111111"],
        "退款3-5个工作日到账，我们会打+86 139-8765-4321联系您，退到卡4111 1111 1111 1111。",
    ),
}


def sent_to_ollama(fake: FakeOllama) -> str:
    """Everything Ollama was sent: chat (the intent model's too) and embedding requests."""
    return "\n".join(json.dumps(request.body, ensure_ascii=False) for request in fake.state.requests)


def cached_everything() -> str:
    """Every key and value of the cache (Redis in production, the in-process cache in the embedded mode)."""
    if hasattr(cache, "iter_keys"):
        return repr([(key, cache.get(key)) for key in cache.iter_keys("*")])
    return repr([(key, pickle.loads(value)) for key, value in cache._cache.items()])


@pytest.mark.parametrize("language", CASES)
def test_ollama_gets_placeholders_and_the_reply_the_values(fake_ollama, settings, language: str) -> None:
    settings.INTENT_MODEL = "deepseek-r1:7b"
    question, answer, personal, restored = CASES[language]
    knowledge_base_create()
    fake_ollama.reset()
    intent = json.dumps({"intent": "refund", "entities": [{"kind": "phone", "text": "[PHONE_1]"}]})
    fake_ollama.script(Reply(content=intent), Reply(content=answer))
    reply = ask(question)
    sent = sent_to_ollama(fake_ollama)
    assert fake_ollama.embed_requests() and len(fake_ollama.chat_requests()) == 2
    for value in personal:
        assert value not in sent
    classifying, generating = fake_ollama.chat_requests()
    assert "[PHONE_1]" in classifying.body["messages"][-1]["content"]
    prompt = generating.body["messages"][-1]["content"]
    assert "[PHONE_1]" in prompt and ("[EMAIL_1]" in prompt)
    # The customer's reply, and what the agents see, carry the values as written.
    assert reply.content == restored and "[" not in reply.content.replace("[1]", "")
    question_message = reply.reply_to
    assert question_message.content == question and message_to_agent_dict(question_message)["content"] == question
    # The phone the model echoed is the customer's own: supported, not an invented fact.
    assert reply.unverified_facts == []
    assert Conversation.objects.get(pk=reply.conversation_id).handoff_reason != "unverified_fact"
    # The model's entity was a placeholder: restored, it is the phone the rules already found.
    assert [e["kind"] for e in Message.objects.get(pk=question_message.pk).entities].count("phone") == 1


def test_an_address_the_model_echoes_is_never_cached(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="请在订单页申请发票【1】，我们会寄到【ADDRESS_1】。"))
    reply = ask("如何申请发票？发票寄到上海市浦东新区世纪大道100号")
    assert reply.content == "请在订单页申请发票，我们会寄到上海市浦东新区世纪大道100号。"
    assert "世纪大道" not in sent_to_ollama(fake_ollama)
    assert reply.retrieval["cache_refused"] == "built from customer-specific data"
    assert "世纪大道" not in cached_everything()


def test_a_question_without_personal_data_is_cached_as_before(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="Refunds take 3-5 working days [1]."))
    reply = ask("How long does a refund take?")
    assert "cache_refused" not in reply.retrieval
    assert "Refunds take 3-5 working days" in cached_everything()


def test_with_masking_off_ollama_gets_the_text_as_written(fake_ollama, settings) -> None:
    settings.PII_MASKING = False
    fake_ollama.script(Reply(content="Noted."))
    ask("my email is li.wei@example.com")
    assert "li.wei@example.com" in sent_to_ollama(fake_ollama)


def test_earlier_turns_keep_their_placeholders(fake_ollama) -> None:
    conversation = conversation_factory()
    customer_message_factory(conversation, "My phone is 13812345678")
    fake_ollama.script(Reply(content="Thanks, noted [PHONE_1]."), Reply(content="Yes, [PHONE_1] and [PHONE_2]."))
    first = ask("and my email is a.b@example.com", conversation)
    assert first.content == "Thanks, noted 13812345678."
    second = ask("also 13987654321 please", conversation)
    assert second.content == "Yes, 13812345678 and 13987654321."
    prompt = json.dumps(fake_ollama.chat_requests()[-1].body, ensure_ascii=False)
    assert "13812345678" not in prompt and "13987654321" not in prompt and "a.b@example.com" not in prompt
    assert prompt.count("[PHONE_1]") >= 2 and "[PHONE_2]" in prompt and "[EMAIL_1]" in prompt


def test_an_agents_draft_is_restored(fake_ollama) -> None:
    conversation = conversation_factory()
    customer_message_factory(conversation, "please ring me back, 010-12345678")
    fake_ollama.script(Reply(chunks=("We will ring [PH", "ONE_1", "] today.")))
    draft = draft_generate(conversation_id=conversation.pk)
    assert draft["text"] == "We will ring 010-12345678 today."
    assert "12345678" not in sent_to_ollama(fake_ollama)


async def test_the_customer_never_sees_a_placeholder_split_across_chunks(chat, fake_ollama, reply_runner) -> None:
    pieces = ("We will call [PHO", "NE_1] and mail [", "EMAIL_", "1", "] today, [PHONE_4", "].")
    fake_ollama.script(Reply(chunks=pieces))
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    text = "Please call me on 139-8765-4321 or mail wei@example.com"
    await client.send({"type": "message", "text": text, "client_id": "p-1"})
    done = await client.until("done")
    await client.close()
    shown = "We will call 139-8765-4321 and mail wei@example.com today, ***."
    deltas = "".join(frame["text"] for frame in client.frames if frame["type"] == "delta")
    assert deltas == shown and done["message"]["content"] == shown
    assert not any("PHONE" in json.dumps(frame) or "EMAIL_" in json.dumps(frame) for frame in client.frames)
    assert "139-8765-4321" not in sent_to_ollama(fake_ollama) and "wei@example.com" not in sent_to_ollama(fake_ollama)
