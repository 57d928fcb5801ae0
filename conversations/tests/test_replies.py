"""A bot reply's life: claimed once, started over after a dead worker, finished with its telemetry, logged once."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from conversations.models import Conversation, LLMCall, Message
from conversations.outcome import CALL_COLUMNS, REPLY_COLUMNS, ReplyOutcome
from conversations.pipeline.reply import reply_generate
from conversations.services import replies
from conversations.services.cancel import cancel_flag_key, reply_stop
from helpdesk.runtime import aio
from helpdesk.runtime.flags import FlagWatch, announced

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def test_bot_reply_start_claims_one_streaming_reply() -> None:
    question = customer_message_factory(conversation_factory())
    reply = replies.bot_reply_start(customer_message_id=question.pk)
    assert reply is not None and reply.status == Message.Status.STREAMING and reply.reply_to_id == question.pk


def test_bot_reply_start_does_not_generate_a_finished_reply_again() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    bot_message_factory(conversation, reply_to=question, status=Message.Status.COMPLETE)
    assert replies.bot_reply_start(customer_message_id=question.pk) is None


def test_bot_reply_start_restarts_a_reply_left_streaming_by_a_dead_worker() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    stale = bot_message_factory(conversation, "half a sent", reply_to=question, status=Message.Status.STREAMING)
    cache.set(cancel_flag_key(stale.pk), True)
    again = replies.bot_reply_start(customer_message_id=question.pk)
    assert again is not None and again.pk == stale.pk and again.content == ""
    assert cache.get(cancel_flag_key(stale.pk)) is None


def test_bot_reply_start_leaves_an_older_question_to_the_newer_ones_reply() -> None:
    conversation = conversation_factory()
    older = customer_message_factory(conversation, "first")
    customer_message_factory(conversation, "second")
    assert replies.bot_reply_start(customer_message_id=older.pk) is None


def test_bot_reply_start_skips_conversations_a_human_has() -> None:
    question = customer_message_factory(conversation_factory(status=Conversation.Status.WAITING_HUMAN))
    assert replies.bot_reply_start(customer_message_id=question.pk) is None


def test_bot_reply_finish_stores_metrics_and_a_notice_on_failure() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    reply = replies.bot_reply_start(customer_message_id=question.pk)
    outcome = ReplyOutcome(
        status=Message.Status.FAILED,
        content="",
        model_name="deepseek-r1:7b",
        ollama_host="http://node-a:11434",
        total_ms=12.5,
        error_kind="unavailable",
        error="cannot connect",
        customer_notice="Our assistant is unavailable right now.",
    )
    stored = replies.bot_reply_finish(message_id=reply.pk, outcome=outcome)
    assert stored.status == Message.Status.FAILED and stored.ollama_host == "http://node-a:11434"
    assert stored.completed_at is not None
    notice = conversation.messages.get(role=Message.Role.SYSTEM)
    assert notice.content.startswith("Our assistant is unavailable")


def test_llm_call_is_recorded_once_from_the_finished_reply() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    reply = bot_message_factory(
        conversation, reply_to=question, model_name="deepseek-r1:7b", ollama_host="http://n:1", ttft_ms=210.0,
        total_ms=900.0, prompt_tokens=40, reply_tokens=30,
    )
    call = replies.llm_call_record(message_id=reply.pk)
    assert call is not None and call.outcome == "ok" and call.ttft_ms == 210.0 and call.reply_tokens == 30
    assert replies.llm_call_record(message_id=reply.pk) is None


def test_replies_abandoned_by_a_stopped_embedded_server_are_failed() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    abandoned = bot_message_factory(conversation, "half", reply_to=question, status=Message.Status.STREAMING)
    finished = bot_message_factory(conversation, "done", status=Message.Status.COMPLETE)
    assert replies.replies_abandoned_fail() == 1
    abandoned.refresh_from_db()
    finished.refresh_from_db()
    assert abandoned.status == Message.Status.FAILED and abandoned.content == "half"
    assert finished.status == Message.Status.COMPLETE


def test_the_llm_call_carries_the_same_telemetry_the_reply_stored_from_its_outcome() -> None:
    conversation = conversation_factory()
    reply = replies.bot_reply_start(customer_message_id=customer_message_factory(conversation).pk)
    outcome = ReplyOutcome(
        status=Message.Status.COMPLETE, content="Ships today [1].", reasoning="They asked about shipping.",
        model_name="deepseek-r1:14b", ollama_host="http://node-b:11434", ttft_ms=180.5, total_ms=2400.0,
        prompt_tokens=812, reply_tokens=64, done_reason="stop", confidence=0.8, confidence_signals={"cited": True},
        sources=[{"n": 1, "cited": True}], retrieval={"version": 3},
    )
    stored = replies.bot_reply_finish(message_id=reply.pk, outcome=outcome)
    call = LLMCall.objects.get(message=stored)  # written with the reply's end
    assert replies.llm_call_record(message_id=stored.pk) is None  # a log_turn task of an earlier version: no second
    stored.refresh_from_db()
    for column in (*CALL_COLUMNS, "model_name"):
        assert getattr(stored, column) == getattr(outcome, column) == getattr(call, column), column
    for column in REPLY_COLUMNS:
        assert getattr(stored, column) == getattr(outcome, column), column
    assert (call.conversation_id, call.profile_id, call.outcome) == (conversation.pk, stored.profile_id, "ok")


def test_a_failed_generation_keeps_the_model_it_was_started_with_and_an_faq_answer_names_none() -> None:
    conversation = conversation_factory()
    reply = replies.bot_reply_start(customer_message_id=customer_message_factory(conversation).pk)
    started_with = reply.model_name
    failed = replies.bot_reply_finish(message_id=reply.pk, outcome=ReplyOutcome(status=Message.Status.FAILED))
    assert started_with and failed.model_name == started_with
    faq = ReplyOutcome(status=Message.Status.COMPLETE, content="Free over ¥199.", answer_source="faq")
    assert faq.reply_columns(claimed_model=started_with)["model_name"] == ""


@pytest.mark.skipif(not announced(), reason="stops are announced through Redis (production mode)")
def test_a_stop_is_announced_so_its_stream_reads_it_at_once_not_at_its_recheck() -> None:
    conversation = conversation_factory()
    reply = replies.bot_reply_start(customer_message_id=customer_message_factory(conversation).pk)
    key = cancel_flag_key(reply.pk)

    async def watching() -> FlagWatch:
        watch = FlagWatch(0.02, recheck_s=30)  # a stream of the worker's loop, its recheck out of reach
        watch.watch(key)
        return watch

    watch = aio.run_shared(watching())
    try:
        time.sleep(0.3)  # subscribed, the start's read done
        assert not watch.is_raised(key)
        assert reply_stop(conversation=conversation) == [reply.pk]
        time.sleep(0.3)
        assert watch.is_raised(key), "the stop reached the stream within a few intervals"
    finally:
        aio.run_shared(watch.close())
        cache.delete(key)


@pytest.mark.django_db(transaction=True)
def test_a_stop_while_the_reply_waits_for_a_worker_closes_it_cancelled_and_nothing_is_generated_later(
    fake_ollama,
) -> None:
    conversation = conversation_factory()
    customer_message_factory(conversation, "Do you ship to Norway?")
    question = customer_message_factory(conversation, "还有运费多少？")  # the reply answers both
    assert reply_stop(conversation=conversation) != []
    reply = Message.objects.get(reply_to=question)
    assert (reply.role, reply.status, reply.content) == (Message.Role.BOT, Message.Status.CANCELLED, "")
    # The worker takes the task after all: the reply is answered, nothing is asked of the model.
    assert reply_generate(customer_message_id=question.pk) is None
    assert fake_ollama.chat_requests() == []
    assert Message.objects.filter(conversation=conversation, role=Message.Role.BOT).count() == 1
    assert reply_stop(conversation=conversation) == [], "nothing left to stop"


def test_a_stop_claims_no_reply_for_an_answered_message_nor_in_a_conversation_a_person_has() -> None:
    answered = conversation_factory()
    question = customer_message_factory(answered)
    bot_message_factory(answered, reply_to=question, status=Message.Status.COMPLETE)
    taken = conversation_factory(status=Conversation.Status.HUMAN)
    customer_message_factory(taken)
    assert reply_stop(conversation=answered) == reply_stop(conversation=taken) == []
    assert Message.objects.filter(role=Message.Role.BOT).count() == 1
