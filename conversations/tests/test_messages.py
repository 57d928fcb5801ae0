"""What customers write: stored once, refused with a code, answered at once when an FAQ knows the answer."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.protocol import FrameError
from conversations.services import messages

from .factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def test_customer_message_is_stored_once_per_client_id(django_capture_on_commit_callbacks) -> None:
    conversation = conversation_factory(status=Conversation.Status.HUMAN)
    first, created = messages.message_post_customer(conversation=conversation, text=" hi ", client_id="c-1")
    again, created_again = messages.message_post_customer(conversation=conversation, text="hi", client_id="c-1")
    assert created and not created_again
    assert first.pk == again.pk
    assert first.content == "hi"
    assert conversation.messages.count() == 1


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty_message"), ("   \n", "empty_message"), (None, "invalid_message"), (42, "invalid_message")],
)
def test_invalid_customer_text_is_rejected_with_a_code(text: object, code: str) -> None:
    conversation = conversation_factory()
    with pytest.raises(FrameError) as error:
        messages.message_post_customer(conversation=conversation, text=text, client_id="c-1")
    assert error.value.code == code
    assert not conversation.messages.exists()


def test_message_over_the_limit_is_rejected(settings) -> None:
    settings.MESSAGE_MAX_CHARS = 10
    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text="x" * 10, client_id="ok")
    with pytest.raises(FrameError) as error:
        messages.message_post_customer(conversation=conversation, text="x" * 11, client_id="long")
    assert error.value.code == "message_too_long"
    assert "10" in error.value.detail


@pytest.mark.parametrize("client_id", [None, "", "x" * 65, 7, "bad\nid"])
def test_bad_client_id_is_rejected(client_id: object) -> None:
    with pytest.raises(FrameError) as error:
        messages.message_post_customer(conversation=conversation_factory(), text="hi", client_id=client_id)
    assert error.value.code == "invalid_client_id"


def test_posting_into_a_resolved_conversation_reopens_it_for_the_bot() -> None:
    conversation = conversation_factory(status=Conversation.Status.RESOLVED)
    messages.message_post_customer(conversation=conversation, text="one more thing", client_id="c-9")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT


@pytest.mark.django_db(transaction=True)
def test_an_faq_question_is_answered_as_it_is_stored_without_a_task(fake_ollama) -> None:
    from knowledge.tests.factories import faq_create

    faq_create("运费多少钱?", "满199元包邮。", language="zh-hans")
    conversation = conversation_factory()
    message, _ = messages.message_post_customer(conversation=conversation, text="运费多少钱", client_id="c-1")
    reply = conversation.messages.get(role=Message.Role.BOT)
    assert reply.reply_to == message and reply.content == "满199元包邮。"
    assert reply.answer_source == Message.AnswerSource.FAQ and reply.status == Message.Status.COMPLETE
    assert fake_ollama.chat_requests() == []


@pytest.mark.django_db(transaction=True)
def test_a_question_after_an_unanswered_one_waits_for_the_task_to_answer_both(fake_ollama, reply_runner) -> None:
    from knowledge.tests.factories import faq_create

    faq_create("运费多少钱?", "满199元包邮。", language="zh-hans")
    conversation = conversation_factory()
    customer_message_factory(conversation, "我想买龙井")  # stored, its reply not started yet
    messages.message_post_customer(conversation=conversation, text="运费多少钱", client_id="c-2")
    assert not conversation.messages.filter(role=Message.Role.BOT, answer_source=Message.AnswerSource.FAQ).exists()
