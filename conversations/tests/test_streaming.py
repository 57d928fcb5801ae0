"""conversations.pipeline.streaming: a reply's progress saved while it streams, an attempt taken over, and a reply
stopped at its deadline (REPLY_MAX_DURATION_S)."""

from __future__ import annotations

import time

import pytest

from conversations.models import Message
from tests.fake_ollama import Reply
from tests.support.stack import reply_generate_in_background

from .factories import conversation_factory, customer_message_factory


@pytest.mark.django_db(transaction=True)
def test_the_partial_text_is_saved_with_a_heartbeat_while_the_reply_streams(fake_ollama, settings) -> None:
    settings.REPLY_SAVE_INTERVAL_S = 0.1
    text = " ".join(f"w{i}" for i in range(80))
    fake_ollama.script(Reply(content=text, per_token=0.03))
    question = customer_message_factory(conversation_factory())
    thread, _ = reply_generate_in_background(question.pk)
    seen: list[tuple[str, object]] = []
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        row = Message.objects.filter(reply_to=question, role=Message.Role.BOT).values("status", "content",
                                                                                       "heartbeat_at").first()
        if row and row["status"] == Message.Status.STREAMING and row["content"]:
            seen.append((row["content"], row["heartbeat_at"]))
        time.sleep(0.05)
    thread.join(30)
    assert len(seen) >= 3, "the text was saved several times while it streamed"
    assert all(text.startswith(content) for content, _ in seen)
    # A loaded machine may see the last save, the whole text, before the reply is marked done; the others are parts.
    assert any(len(content) < len(text) for content, _ in seen)
    assert seen[-1][1] > seen[0][1], "each save moves the heartbeat on"
    reply = Message.objects.get(reply_to=question)
    assert reply.status == Message.Status.COMPLETE and reply.content == text


@pytest.mark.django_db(transaction=True)
def test_an_attempt_taken_over_stops_streaming_and_leaves_the_reply_to_the_new_one(fake_ollama, settings) -> None:
    settings.REPLY_SAVE_INTERVAL_S = 0.1
    text = " ".join(f"w{i}" for i in range(200))
    fake_ollama.script(Reply(content=text, per_token=0.03))  # 6 s
    question = customer_message_factory(conversation_factory())
    thread, result = reply_generate_in_background(question.pk)
    deadline = time.monotonic() + 20
    while not Message.objects.filter(reply_to=question).exclude(content="").exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # What the sweeper and a new worker do when they take this worker for dead.
    Message.objects.filter(reply_to=question).update(attempts=2, content="")
    taken_at = time.monotonic()
    thread.join(30)
    assert time.monotonic() - taken_at < 2, "the old attempt stopped within a save interval or so"
    reply = Message.objects.get(reply_to=question)
    assert reply.status == Message.Status.STREAMING and reply.content == "" and reply.attempts == 2
    assert result and result[0].status == Message.Status.STREAMING


@pytest.mark.django_db(transaction=True)
def test_a_reply_still_writing_at_its_deadline_is_stopped_failed_with_its_text_kept_and_handed_on(
    fake_ollama, settings
) -> None:
    from conversations.models import Conversation
    from conversations.notices import INTERRUPTED_NOTICE, notice_in

    settings.REPLY_MAX_DURATION_S = 1.5
    settings.HANDOFF_THRESHOLD = 0
    text = " ".join(f"w{i}" for i in range(100))
    fake_ollama.script(Reply(content=text, per_token=0.1))  # 10 s: a token now and then, never a read timeout
    question = customer_message_factory(conversation_factory())
    started = time.monotonic()
    thread, _ = reply_generate_in_background(question.pk)
    thread.join(30)
    # The whole reply takes 10 s; stopped at its 1.5 s deadline it ends well before, even on a loaded machine
    # (CI once took over 6 s to write the stop and the handoff).
    assert time.monotonic() - started < 9, "stopped at its deadline, not at the end of the reply"
    reply = Message.objects.get(reply_to=question, role=Message.Role.BOT)
    assert reply.status == Message.Status.FAILED and "REPLY_MAX_DURATION_S" in reply.error
    assert reply.content and text.startswith(reply.content) and reply.content != text, "the text written is kept"
    conversation = Conversation.objects.get(pk=question.conversation_id)
    assert (conversation.status, conversation.handoff_reason) == (Conversation.Status.WAITING_HUMAN, "model_error")
    notice = conversation.messages.filter(role=Message.Role.SYSTEM).values_list("content", flat=True).last()
    assert notice == notice_in("en", INTERRUPTED_NOTICE)

