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
