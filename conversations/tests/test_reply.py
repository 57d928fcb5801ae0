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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("question", ["How long does delivery take to Chengdu?", "寄到成都要几天？"])
def test_a_first_questions_embedding_is_started_before_its_reply_row_is_written_and_asked_once(
    fake_ollama, question: str,
) -> None:
    from django.db.models.signals import post_save

    from knowledge import embedding
    from knowledge.tests.factories import knowledge_base_create

    knowledge_base_create()
    fake_ollama.reset()
    message = customer_message_factory(conversation_factory(), question)
    pending_at_insert: list = []

    def reply_row_written(sender, instance, created, **kwargs) -> None:
        if created and instance.role == Message.Role.BOT:
            pending = getattr(embedding._early, "pending", None)
            pending_at_insert.append(pending and pending[0])

    post_save.connect(reply_row_written, sender=Message)
    try:
        reply = reply_generate(customer_message_id=message.pk)
    finally:
        post_save.disconnect(reply_row_written, sender=Message)
    assert reply.status == Message.Status.COMPLETE and reply.sources
    assert pending_at_insert == [question]  # in flight while the row was written, on this thread
    assert [r.body["input"] for r in fake_ollama.embed_requests()] == [[question]]  # taken, not asked again
    assert getattr(embedding._early, "pending", None) is None


@pytest.mark.django_db(transaction=True)
def test_a_first_question_is_embedded_early_as_masked_and_a_follow_up_as_before(fake_ollama, settings) -> None:
    from knowledge.tests.factories import knowledge_base_create

    settings.PII_MASKING = True
    knowledge_base_create()
    fake_ollama.reset()
    conversation = conversation_factory()
    first = customer_message_factory(conversation, "My phone is 13812345678, when will my parcel arrive?")
    reply_generate(customer_message_id=first.pk)
    [early] = [r.body["input"] for r in fake_ollama.embed_requests()]
    assert early == ["My phone is [PHONE_1], when will my parcel arrive?"]
    fake_ollama.reset()
    follow_up = customer_message_factory(conversation, "and to Lhasa?")
    reply_generate(customer_message_id=follow_up.pk)
    [asked] = [r.body["input"] for r in fake_ollama.embed_requests()]
    assert asked[0] == "and to Lhasa?" and len(asked) == 2  # the follow-up and its context, one call, no early one


@pytest.mark.django_db
def test_on_claim_sees_the_customer_message_before_its_reply_row_exists() -> None:
    from conversations.services.replies import bot_reply_start

    message = customer_message_factory(conversation_factory(), "Hi, do you sell gaiwans?")
    seen: list = []
    reply = bot_reply_start(customer_message_id=message.pk, on_claim=lambda read: seen.append(
        (read.pk, read.has_earlier_dialogue, Message.objects.filter(reply_to=read, role=Message.Role.BOT).exists())))
    assert reply is not None and seen == [(message.pk, False, False)]
    # Started over (its worker taken for dead): no new row is claimed, and on_claim is not called.
    restarted = bot_reply_start(customer_message_id=message.pk, on_claim=seen.append)
    assert restarted.pk == reply.pk and restarted.attempts == 2 and len(seen) == 1
