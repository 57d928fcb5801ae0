"""conversations.pipeline.preparation: the steps a bot reply and an agent's draft share."""

from __future__ import annotations

import pytest

from conversations.models import Message
from conversations.pipeline.draft import draft_generate
from conversations.pipeline.preparation import dialogue_split
from conversations.pipeline.reply import reply_generate
from knowledge.tests.factories import knowledge_base_create

from .factories import bot_message_factory, conversation_factory, customer_message_factory


def test_the_unanswered_messages_are_one_question_after_the_dialogue_before_them() -> None:
    dialogue = [("customer", "How do I return tea?"), ("bot", "Within 30 days."), ("customer", "And"),
                ("customer", "the refund?")]
    turns = [Message(role=role, content=text) for role, text in dialogue]
    question, previous, earlier = dialogue_split(turns)
    assert question == "And\nthe refund?" and previous == "How do I return tea?" and earlier == turns[:2]


@pytest.mark.django_db(transaction=True)
def test_a_draft_is_asked_with_exactly_the_prompt_of_the_bots_own_reply(fake_ollama) -> None:
    knowledge_base_create()
    conversation = conversation_factory()
    customer_message_factory(conversation, "How do I return tea?")
    bot_message_factory(conversation, "Within 30 days of delivery.")
    question = customer_message_factory(conversation, "And the refund?")
    draft = draft_generate(conversation_id=conversation.pk)
    reply_generate(customer_message_id=question.pk)
    draft_request, reply_request = fake_ollama.chat_requests()[-2:]
    assert draft["sources"] and draft_request.body["messages"] == reply_request.body["messages"]


# Dialogues ending with a customer message: (role, text, extra fields) oldest first. A failed reply and a turn
# without text are not dialogue; a note is not either.
DIALOGUES = {
    "first message (en)": [("customer", "How do I return tea?", {})],
    "first message (zh)": [("customer", "茶叶怎么退货？", {})],
    "after an answer (en)": [("customer", "How do I return tea?", {}), ("bot", "Within 30 days.", {}),
                             ("customer", "And the refund?", {})],
    "after an agent and a note (zh)": [("customer", "我的订单 A1234 在哪里？", {}), ("agent", "已经发货了。", {}),
                                       ("note", "客户很着急", {}), ("customer", "大概几天到？", {})],
    "only a failed reply and an empty turn before (en)": [
        ("customer", "", {}), ("bot", "Half a rep", {"status": "failed"}), ("customer", "Is it shipped?", {})],
    "unanswered messages one after another (zh, en)": [
        ("customer", "你好", {}), ("customer", "退款要多久", {}), ("customer", "how long is a refund?", {})],
}


@pytest.mark.django_db
@pytest.mark.parametrize("dialogue", DIALOGUES.values(), ids=DIALOGUES.keys())
def test_a_reply_reads_the_dialogue_a_draft_reads_without_reading_its_message_again(
    dialogue, django_assert_num_queries,
) -> None:
    from conversations.selectors.replies import customer_message_for_reply, dialogue_before, dialogue_ending_with

    conversation = conversation_factory()
    for role, text, fields in dialogue:
        if role == "customer":
            last = customer_message_factory(conversation, text, **fields)
        else:
            Message.objects.create(conversation=conversation, role=role, content=text, **fields)
    expected = dialogue_before(conversation=conversation, up_to_message_id=last.pk)
    claimed = customer_message_for_reply(message_id=last.pk)
    # The turns before it, when the claim's read found any (a first question, or one after nothing but a failed
    # reply and an empty turn, reads nothing); the message itself is not read again.
    with django_assert_num_queries(1 if len(expected) > 1 else 0):
        turns = dialogue_ending_with(message=claimed)
    assert [(t.pk, t.role, t.content) for t in turns] == [(t.pk, t.role, t.content) for t in expected]
    assert turns[-1] is claimed


@pytest.mark.django_db
def test_a_long_dialogue_read_after_its_message_keeps_the_same_latest_turns() -> None:
    from conversations.selectors.replies import customer_message_for_reply, dialogue_before, dialogue_ending_with

    conversation = conversation_factory()
    for n in range(30):
        customer_message_factory(conversation, f"question {n} / 问题 {n}")
        bot_message_factory(conversation, f"answer {n} / 回答 {n}")
    last = customer_message_factory(conversation, "one more / 还有一个")
    expected = dialogue_before(conversation=conversation, up_to_message_id=last.pk, limit=20)
    turns = dialogue_ending_with(message=customer_message_for_reply(message_id=last.pk), limit=20)
    assert len(turns) == 20 and [t.pk for t in turns] == [t.pk for t in expected]
