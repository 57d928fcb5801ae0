"""conversations.pipeline.reply: a customer message answered, stored and logged."""

from __future__ import annotations

import pytest

from conversations import notices
from conversations.models import LLMCall, Message
from conversations.pipeline.reply import reply_generate
from tests.fake_ollama import Reply

from .factories import bot_message_factory, conversation_factory, customer_message_factory


@pytest.mark.django_db(transaction=True)
def test_reply_generate_streams_stores_metrics_and_hides_reasoning(fake_ollama) -> None:
    fake_ollama.script(Reply(content="Your parcel left our warehouse today.", thinking="Look up the order."))
    conversation = conversation_factory()
    customer_message_factory(conversation, "Hi")
    bot_message_factory(conversation, "Hello! How can I help?")
    question = customer_message_factory(conversation, "我的包裹在哪里?")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.status == Message.Status.COMPLETE
    assert reply.content == "Your parcel left our warehouse today."
    assert reply.reasoning == "Look up the order."
    assert reply.model_name == "deepseek-r1:7b" and reply.ollama_host == fake_ollama.url
    assert reply.ttft_ms is not None and reply.total_ms >= reply.ttft_ms
    assert reply.prompt_tokens == 42 and reply.reply_tokens > 0 and reply.done_reason == "stop"
    sent = fake_ollama.chat_requests()[-1].body
    assert [m["content"] for m in sent["messages"][1:3]] == [
        "<customer_message>\nHi\n</customer_message>", "Hello! How can I help?"
    ]
    # No knowledge matches: the turn tells the model so (in the customer's language), then asks.
    assert sent["messages"][3]["content"].startswith("知识库中没有")
    assert sent["messages"][3]["content"].endswith("\n<customer_message>\n我的包裹在哪里?\n</customer_message>")
    assert sent["think"] is True
    assert sent["options"] == {"temperature": 0.7, "top_p": 0.9, "num_predict": 512, "num_ctx": 4096}


@pytest.mark.django_db(transaction=True)
def test_reply_generate_is_idempotent(fake_ollama) -> None:
    question = customer_message_factory(conversation_factory())
    first = reply_generate(customer_message_id=question.pk)
    assert first is not None
    assert reply_generate(customer_message_id=question.pk) is None
    assert len(fake_ollama.chat_requests()) == 1


@pytest.mark.django_db(transaction=True)
def test_unreachable_ollama_fails_the_reply_and_keeps_the_question(settings, dead_ollama_url, caplog) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Are you there?")
    reply = reply_generate(customer_message_id=question.pk)
    assert reply.status == Message.Status.FAILED
    assert reply.error and dead_ollama_url in reply.error
    assert dead_ollama_url in caplog.text
    notice = conversation.messages.get(role=Message.Role.SYSTEM)
    assert notice.content == notices.UNAVAILABLE_NOTICE
    assert Message.objects.get(pk=question.pk).content == "Are you there?"


@pytest.mark.django_db(transaction=True)
def test_finished_reply_records_its_model_call_with_it(fake_ollama, reply_runner) -> None:
    question = customer_message_factory(conversation_factory())
    reply = reply_generate(customer_message_id=question.pk)
    # Written in the transaction that finished the reply: there when the reply is, no task to wait for.
    call = LLMCall.objects.get(message=reply)
    assert call.outcome == "ok" and call.ollama_host == fake_ollama.url and call.reply_tokens == reply.reply_tokens
    assert call.conversation_id == reply.conversation_id and call.profile_id == reply.profile_id
