"""An agent resolving a conversation they took over queues its FAQ suggestion (conversations.faq_suggestions),
which a worker makes off the request path."""

from __future__ import annotations

import time

import pytest

from agents import services
from agents.tests.console import agent_create
from conversations.models import Conversation, FAQSuggestion
from conversations.protocol.codes import HandoffReason
from conversations.services import handoff
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)


def taken_over(agent, question: str) -> Conversation:
    conversation = conversation_factory()
    asked = customer_message_factory(conversation, question)
    bot_message_factory(conversation, "Let me find a colleague for you.", reply_to=asked)
    handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.LOW_CONFIDENCE)
    services.conversation_take_over(agent=agent, conversation_id=conversation.pk)
    return conversation


def test_resolving_queues_the_suggestion_and_a_worker_makes_it(fake_ollama, reply_runner) -> None:
    agent = agent_create("ann")
    conversation = taken_over(agent, "礼品卡过期了还能用吗？")
    answer = "过期的礼品卡可以在30天内联系客服延期一次。"
    services.message_post_agent(agent=agent, conversation_id=conversation.pk, text=answer)
    services.conversation_resolve(agent=agent, conversation_id=conversation.pk)
    deadline = time.monotonic() + 30
    while not FAQSuggestion.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    suggestion = FAQSuggestion.objects.get()
    assert (suggestion.conversation_id, suggestion.question) == (conversation.pk, "礼品卡过期了还能用吗？")
    assert suggestion.answer == answer and suggestion.language == "zh-hans"
