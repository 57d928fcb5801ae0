"""A generated reply's numbers and identifiers are checked against its sources and the conversation: a changed or
invented one hands the conversation to a person, with a note to the customer; copied ones change nothing."""

from __future__ import annotations

import pytest

from conversations.models import Conversation
from conversations.notices import UNVERIFIED_NOTICE, notice_in
from conversations.selectors.messages import message_to_agent_dict, message_to_dict
from conversations.tests.test_handoff import ask, notices
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Is delivery free for big orders?", "Orders over ¥199 ship free [1]; smaller ones pay 12 yuan [1]."),
        ("How long does a refund take?", "Refunds arrive within 3 to 5 working days [1]."),
        ("退款要多久?", "我们收到退货后，3-5个工作日内退款【1】。"),
    ],
)
def test_a_reply_with_copied_numbers_keeps_the_bot_in_charge(fake_ollama, question: str, answer: str) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content=answer))
    reply = ask(question)
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert reply.unverified_facts == [] and reply.confidence_signals["unverified_facts"] == 0
    assert conversation.status == Conversation.Status.BOT and reply.confidence >= 0.5


def test_a_reply_with_a_changed_number_is_handed_off_and_the_customer_told(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="Orders over ¥299 ship free [1]."))
    reply = ask("Is delivery free for big orders?")
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert reply.unverified_facts == [{"kind": "quantity", "text": "¥299", "start": 12, "end": 16}]
    assert reply.confidence <= 0.3 and reply.confidence_signals["unverified_facts"] == 1
    assert conversation.status == Conversation.Status.WAITING_HUMAN
    assert conversation.handoff_reason == "unverified_fact"
    assert notices(conversation) == [notice_in("en", UNVERIFIED_NOTICE)]
    assert reply.retrieval["cache_refused"]  # never served to the next customer
    assert message_to_agent_dict(reply)["unverified_facts"] == reply.unverified_facts  # marked in the console
    assert "unverified_facts" not in message_to_dict(reply)


def test_an_invented_phone_number_in_chinese_is_handed_off(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="退款问题请拨打 400-123-4567，三到五个工作日到账【1】。"))
    reply = ask("退款要多久?")
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert [fact["text"] for fact in reply.unverified_facts] == ["400-123-4567"]
    assert conversation.handoff_reason == "unverified_fact"
    assert notices(conversation) == [notice_in("zh-hans", UNVERIFIED_NOTICE)]


def test_a_number_the_customer_gave_is_supported(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="I see order SN-88123; refunds take 3-5 working days [1]."))
    reply = ask("My order SN-88123 was returned, how long does a refund take?")
    assert reply.unverified_facts == []
    assert Conversation.objects.get(pk=reply.conversation_id).status == Conversation.Status.BOT


def test_without_the_notice_the_customer_gets_the_usual_handoff_message(fake_ollama, settings) -> None:
    settings.VERIFY_FACTS_NOTICE = False
    knowledge_base_create()
    fake_ollama.script(Reply(content="Orders over ¥299 ship free [1]."))
    reply = ask("Is delivery free for big orders?")
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert conversation.handoff_reason == "unverified_fact"
    assert notices(conversation) != [notice_in("en", UNVERIFIED_NOTICE)]


def test_with_verification_off_a_changed_number_is_not_checked(fake_ollama, settings) -> None:
    settings.VERIFY_FACTS = False
    knowledge_base_create()
    fake_ollama.script(Reply(content="Orders over ¥299 ship free [1]."))
    reply = ask("Is delivery free for big orders?")
    assert reply.unverified_facts == [] and "unverified_facts" not in reply.confidence_signals
    assert Conversation.objects.get(pk=reply.conversation_id).status == Conversation.Status.BOT
