"""Replies that lost their worker, and customer messages nobody answered: the sweeper and the reply's attempts.

A killed worker's reply is generated again (once) from its heartbeat going quiet, not after the broker's
hour-long visibility timeout; one out of retries is failed with its partial text kept and handed to a person;
a message whose task was lost (sent while Redis was down) is handed to a person after UNANSWERED_TIMEOUT_S.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import notices as notice_texts
from conversations.models import Conversation, Message
from conversations.outcome import ReplyOutcome
from conversations.selectors.replies import replies_stale
from conversations.services import replies
from conversations.services.posting import system_message_post
from tests.fake_ollama import Reply
from tests.support.stack import celery_worker_idle

from .factories import bot_message_factory, conversation_factory, customer_message_factory

TRUE_NOW = timezone.now


def long_ago(seconds: float = 3600) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=seconds)


def dead_reply(conversation: Conversation, question: Message, *, attempts: int = 1) -> Message:
    """A reply left streaming by a worker that stopped writing an hour ago."""
    return bot_message_factory(
        conversation, "Half of an", reply_to=question, status=Message.Status.STREAMING, attempts=attempts,
        heartbeat_at=long_ago(),
    )


def notices(conversation: Conversation) -> list[str]:
    return list(conversation.messages.filter(role=Message.Role.SYSTEM).values_list("content", flat=True))


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- a reply whose worker died ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_reply_whose_heartbeat_stopped_is_generated_again_and_completes_once(
    fake_ollama, reply_runner, settings
) -> None:
    settings.REPLY_HEARTBEAT_TIMEOUT_S = 60
    fake_ollama.script(Reply(content="The whole answer, this time."))
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Where is my order?")
    reply = dead_reply(conversation, question)
    live = bot_message_factory(  # another conversation's reply, its worker alive: left alone
        conversation_factory(), "going", reply_to=customer_message_factory(conversation_factory()),
        status=Message.Status.STREAMING, attempts=1, heartbeat_at=timezone.now(),
    )

    assert replies.replies_sweep() == replies.SweepResult(retried=1)

    def finished() -> bool:
        reply.refresh_from_db()
        return reply.status != Message.Status.STREAMING

    wait_until(finished)
    assert reply.status == Message.Status.COMPLETE and reply.content == "The whole answer, this time."
    assert reply.attempts == 2
    assert conversation.messages.filter(role=Message.Role.BOT).count() == 1
    live.refresh_from_db()
    assert live.status == Message.Status.STREAMING and live.attempts == 1
    assert len(fake_ollama.chat_requests()) == 1
    if reply_runner == "celery":
        celery_worker_idle()


@pytest.mark.django_db
def test_the_sweeper_does_not_retry_the_same_dead_reply_twice_while_its_retry_waits_for_a_worker(
    settings, django_capture_on_commit_callbacks
) -> None:
    conversation = conversation_factory()
    reply = dead_reply(conversation, customer_message_factory(conversation))
    with django_capture_on_commit_callbacks() as enqueued:
        first = replies.replies_sweep()
        second = replies.replies_sweep()
    assert first.retried == 1 and second.retried == 0
    assert len(enqueued) == 1
    reply.refresh_from_db()
    assert reply.status == Message.Status.STREAMING and reply.content == "Half of an"


@pytest.mark.django_db
def test_a_second_retry_of_the_same_dead_attempt_does_nothing() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    reply = dead_reply(conversation, question)
    taken = replies.bot_reply_start(customer_message_id=question.pk, retry_of=1)
    assert taken is not None and taken.pk == reply.pk and taken.attempts == 2 and taken.content == ""
    assert replies.bot_reply_start(customer_message_id=question.pk, retry_of=1) is None
    reply.refresh_from_db()
    assert reply.attempts == 2


@pytest.mark.django_db
def test_a_reply_out_of_retries_is_failed_with_its_partial_text_and_handed_to_a_person(settings) -> None:
    settings.REPLY_MAX_RETRIES = 1
    conversation = conversation_factory()
    reply = dead_reply(conversation, customer_message_factory(conversation), attempts=2)
    assert replies.replies_sweep() == replies.SweepResult(failed=1)
    reply.refresh_from_db()
    conversation.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.content == "Half of an" and reply.error
    assert reply.completed_at is not None
    assert conversation.status == Conversation.Status.WAITING_HUMAN and conversation.handoff_reason == "model_error"
    assert notices(conversation) == [notice_texts.INTERRUPTED_NOTICE]
    assert replies.replies_sweep() == replies.SweepResult()  # idempotent


@pytest.mark.django_db
def test_a_task_redelivered_once_too_often_fails_the_reply_instead_of_generating_it_again(settings) -> None:
    """A reply that kills its worker every time (a poison message) is not redelivered for ever."""
    settings.REPLY_MAX_RETRIES = 1
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "你好")
    reply = dead_reply(conversation, question, attempts=2)
    assert replies.bot_reply_start(customer_message_id=question.pk) is None
    reply.refresh_from_db()
    conversation.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.content == "Half of an"
    assert conversation.status == Conversation.Status.WAITING_HUMAN
    assert notices(conversation) == [notice_texts.notice_in("zh-hans", notice_texts.INTERRUPTED_NOTICE)]


@pytest.mark.django_db
def test_an_attempt_taken_over_can_neither_save_nor_finish_the_reply() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    first = replies.bot_reply_start(customer_message_id=question.pk)
    assert replies.reply_progress_save(message_id=first.pk, attempt=1, content="Half")
    second = replies.bot_reply_start(customer_message_id=question.pk)  # the task redelivered
    assert second.pk == first.pk and second.attempts == 2
    assert not replies.reply_progress_save(message_id=first.pk, attempt=1, content="Half of an old")
    late = ReplyOutcome(status=Message.Status.COMPLETE, content="The old attempt's answer")
    replies.bot_reply_finish(message_id=first.pk, outcome=late, attempt=1)
    second.refresh_from_db()
    assert second.status == Message.Status.STREAMING and second.content == ""
    replies.bot_reply_finish(
        message_id=first.pk, outcome=ReplyOutcome(status=Message.Status.COMPLETE, content="New"), attempt=2
    )
    second.refresh_from_db()
    assert second.status == Message.Status.COMPLETE and second.content == "New"


@pytest.mark.django_db
def test_progress_is_saved_with_a_heartbeat() -> None:
    conversation = conversation_factory()
    reply = replies.bot_reply_start(customer_message_id=customer_message_factory(conversation).pk)
    Message.objects.filter(pk=reply.pk).update(heartbeat_at=long_ago())
    assert replies.reply_progress_save(message_id=reply.pk, attempt=reply.attempts, content="So far")
    reply.refresh_from_db()
    assert reply.content == "So far" and reply.heartbeat_at > long_ago(5)


# --- the app hosts' clock steps (NTP) ---------------------------------------------------------------------------


def app_clock_moved(monkeypatch, seconds: float) -> None:
    """The Python processes' wall clock stepped by `seconds` (as NTP steps it); the database's clock did not."""
    monkeypatch.setattr(timezone, "now", lambda: TRUE_NOW() + timedelta(seconds=seconds))


@pytest.mark.django_db
def test_a_forward_step_of_the_clock_does_not_make_a_live_reply_look_dead(monkeypatch, settings) -> None:
    settings.REPLY_HEARTBEAT_TIMEOUT_S = 30
    question = customer_message_factory(conversation_factory(), "Where is my order?")
    reply = replies.bot_reply_start(customer_message_id=question.pk)
    assert replies.reply_progress_save(message_id=reply.pk, attempt=1, content="Your order")

    app_clock_moved(monkeypatch, +600)

    assert replies.replies_sweep() == replies.SweepResult()
    reply.refresh_from_db()
    assert (reply.status, reply.attempts, reply.content) == (Message.Status.STREAMING, 1, "Your order")


@pytest.mark.django_db
def test_a_reply_whose_worker_died_before_a_backward_step_of_the_clock_is_still_found_in_its_timeout(
    monkeypatch, settings
) -> None:
    question = customer_message_factory(conversation_factory(), "Where is my order?")
    app_clock_moved(monkeypatch, +600)
    reply = replies.bot_reply_start(customer_message_id=question.pk)
    assert replies.reply_progress_save(message_id=reply.pk, attempt=1, content="Your order")  # its last word
    app_clock_moved(monkeypatch, 0)  # NTP steps the clock ten minutes back

    started = time.monotonic()
    wait_until(lambda: reply.pk in replies_stale(timeout_s=1), timeout=20)
    assert time.monotonic() - started < 20


@pytest.mark.django_db
def test_a_forward_step_of_the_clock_does_not_hand_on_a_message_still_waiting_for_its_reply(monkeypatch) -> None:
    conversation = conversation_factory()
    customer_message_factory(conversation, "Where is my order?")  # its reply task waits behind others

    app_clock_moved(monkeypatch, +600)

    assert replies.conversations_unanswered(timeout_s=30) == []


@pytest.mark.django_db
def test_a_message_stored_before_a_backward_step_of_the_clock_is_still_handed_on_in_its_timeout(monkeypatch) -> None:
    app_clock_moved(monkeypatch, +600)
    conversation = conversation_factory()
    customer_message_factory(conversation, "Where is my order?")  # its reply task was lost
    app_clock_moved(monkeypatch, 0)  # NTP steps the clock ten minutes back

    wait_until(lambda: replies.conversations_unanswered(timeout_s=1) == [conversation.pk], timeout=20)


# --- after a stop of everything ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_at_start_replies_cut_off_by_the_last_stop_are_failed_and_handed_to_a_person() -> None:
    conversation = conversation_factory()
    reply = bot_message_factory(
        conversation, "half", reply_to=customer_message_factory(conversation), status=Message.Status.STREAMING,
        attempts=1, heartbeat_at=timezone.now(),
    )
    assert replies.replies_abandoned_fail() == 1
    reply.refresh_from_db()
    conversation.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.content == "half"
    assert conversation.status == Conversation.Status.WAITING_HUMAN and conversation.handoff_reason == "model_error"


@pytest.mark.django_db
def test_in_production_a_reply_another_host_is_still_streaming_is_left_alone_at_start(settings) -> None:
    settings.REPLY_HEARTBEAT_TIMEOUT_S = 60
    conversation = conversation_factory()
    alive = bot_message_factory(
        conversation, "going", reply_to=customer_message_factory(conversation), status=Message.Status.STREAMING,
        attempts=1, heartbeat_at=timezone.now(),
    )
    other = conversation_factory()
    dead = dead_reply(other, customer_message_factory(other))
    assert replies.replies_abandoned_fail(stale_only=True) == 1
    alive.refresh_from_db()
    dead.refresh_from_db()
    assert alive.status == Message.Status.STREAMING and dead.status == Message.Status.FAILED


# --- a customer message nobody answered ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_left_unanswered_past_the_timeout_is_handed_to_a_person(settings) -> None:
    settings.UNANSWERED_TIMEOUT_S = 300
    lost = conversation_factory()
    question = customer_message_factory(lost, "Is anyone there?")
    Message.objects.filter(pk=question.pk).update(created_at=long_ago(301), stored_at=long_ago(301))

    recent = conversation_factory()  # its reply may still be queued
    customer_message_factory(recent)
    answered = conversation_factory()
    old_question = customer_message_factory(answered)
    bot_message_factory(answered, reply_to=old_question)
    Message.objects.filter(pk=old_question.pk).update(created_at=long_ago(900), stored_at=long_ago(900))
    being_answered = conversation_factory()
    slow = customer_message_factory(being_answered)
    bot_message_factory(being_answered, "", reply_to=slow, status=Message.Status.STREAMING, attempts=1,
                        heartbeat_at=timezone.now())
    Message.objects.filter(pk=slow.pk).update(created_at=long_ago(900), stored_at=long_ago(900))
    with_people = conversation_factory(status=Conversation.Status.HUMAN)
    waiting = customer_message_factory(with_people)
    Message.objects.filter(pk=waiting.pk).update(created_at=long_ago(900), stored_at=long_ago(900))

    assert replies.replies_sweep() == replies.SweepResult(handed_off=1)
    lost.refresh_from_db()
    assert lost.status == Conversation.Status.WAITING_HUMAN and lost.handoff_reason == "unanswered"
    assert notices(lost) == [notice_texts.UNAVAILABLE_NOTICE]
    for other in (recent, answered, being_answered):
        other.refresh_from_db()
        assert other.status == Conversation.Status.BOT
    assert replies.replies_sweep() == replies.SweepResult()  # idempotent


@pytest.mark.django_db(transaction=True)
def test_a_reply_queued_past_the_timeout_is_handed_on_once_and_not_generated_when_a_worker_takes_it(
    settings, fake_ollama
) -> None:
    from conversations.pipeline.reply import reply_generate

    settings.UNANSWERED_TIMEOUT_S = 300
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Is anyone there?")
    # Its task still in a backed-up queue.
    Message.objects.filter(pk=question.pk).update(created_at=long_ago(301), stored_at=long_ago(301))

    assert replies.replies_sweep() == replies.SweepResult(handed_off=1)
    assert reply_generate(customer_message_id=question.pk) is None, "the person answers, not the bot as well"
    assert not conversation.messages.filter(role=Message.Role.BOT).exists()
    assert not [r for r in fake_ollama.state.requests if r.path == "/api/chat"]
    conversation.refresh_from_db()
    assert (conversation.status, notices(conversation)) == (Conversation.Status.WAITING_HUMAN,
                                                            [notice_texts.UNAVAILABLE_NOTICE])


@pytest.mark.django_db
def test_an_earlier_message_answered_together_with_a_later_one_is_not_unanswered(settings) -> None:
    settings.UNANSWERED_TIMEOUT_S = 300
    conversation = conversation_factory()
    first = customer_message_factory(conversation, "Hi")
    second = customer_message_factory(conversation, "Where is my order?")
    bot_message_factory(conversation, reply_to=second)
    Message.objects.filter(pk__in=[first.pk, second.pk]).update(created_at=long_ago(900), stored_at=long_ago(900))
    assert replies.replies_sweep() == replies.SweepResult()


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_embedded_mode_sweeps_on_a_thread_of_the_web_process(settings) -> None:
    from helpdesk.celery import embedded_beat_start

    settings.EMBEDDED_BEAT = True
    settings.UNANSWERED_TIMEOUT_S = 300
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    Message.objects.filter(pk=question.pk).update(created_at=long_ago(301), stored_at=long_ago(301))
    stop = embedded_beat_start({"sweep": {"task": "conversations.sweep_replies", "schedule": 0.1}})
    assert stop is not None
    try:
        def handed_off() -> bool:
            conversation.refresh_from_db()
            return conversation.status == Conversation.Status.WAITING_HUMAN

        wait_until(handed_off, timeout=10)
    finally:
        stop.set()
    assert conversation.handoff_reason == "unanswered"


@pytest.mark.django_db
def test_a_message_an_agent_left_to_the_bot_by_handing_back_is_not_unanswered(settings) -> None:
    """Handed back, the bot answers the customer's next message: the one before is not a lost task."""
    settings.UNANSWERED_TIMEOUT_S = 300
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Hello? Anyone?")
    system_message_post(conversation=conversation, text="You are chatting with our assistant again.")
    Message.objects.filter(pk=question.pk).update(created_at=long_ago(900), stored_at=long_ago(900))
    assert replies.replies_sweep() == replies.SweepResult()


@pytest.mark.django_db
def test_a_dead_reply_in_a_conversation_an_agent_took_is_closed_not_retried(settings) -> None:
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    reply = dead_reply(conversation, customer_message_factory(conversation))
    assert replies.replies_sweep() == replies.SweepResult(failed=1)
    reply.refresh_from_db()
    conversation.refresh_from_db()
    assert reply.status == Message.Status.FAILED and reply.content == "Half of an"
    assert conversation.status == Conversation.Status.HUMAN and not notices(conversation)
