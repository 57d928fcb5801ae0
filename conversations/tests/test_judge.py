"""The optional judge: its verdict on each sentence is stored as signals and, when unsupported, hands off."""

from __future__ import annotations

import json

import pytest

from conversations import confidence
from conversations.judge import SCHEMA, verdict_from
from conversations.models import Conversation
from conversations.pipeline.reply import reply_generate
from conversations.protocol.codes import HandoffReason
from conversations.tests.factories import conversation_factory, customer_message_factory
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = Reply(content="Orders over ¥199 ship free [1]. Smaller orders pay ¥12 [1].")


def verdict(*sentences: tuple[str, bool]) -> Reply:
    return Reply(content=json.dumps({"sentences": [{"text": t, "supported": s} for t, s in sentences]}))


@pytest.fixture
def judged(fake_ollama, settings):
    settings.JUDGE_MODEL = "deepseek-r1:7b"  # any model the (fake) node has
    settings.JUDGE_TIMEOUT_S = 2.0
    knowledge_base_create()
    return fake_ollama


def ask(text: str = "Is delivery free for big orders?"):
    question = customer_message_factory(conversation_factory(), text)
    reply = reply_generate(customer_message_id=question.pk)
    return reply, Conversation.objects.get(pk=reply.conversation_id)


def test_a_supported_reply_keeps_its_confidence_and_the_judge_sees_sources_and_reply(judged) -> None:
    judged.script(ANSWER, verdict(("Orders over ¥199 ship free.", True), ("Smaller orders pay ¥12.", True)))
    reply, conversation = ask()
    assert reply.confidence_signals["judge_supported"] == 1.0 and reply.confidence_signals["judge_unsupported"] == []
    assert reply.confidence > confidence.UNVERIFIED_CAP and conversation.status == Conversation.Status.BOT
    request = judged.chat_requests()[-1].body
    assert request["format"] == SCHEMA and request["stream"] is False
    assert "Orders over ¥199 ship free" in request["messages"][-1]["content"]
    assert "Smaller orders pay ¥12." in request["messages"][-1]["content"]


def test_an_unsupported_sentence_caps_the_confidence_and_hands_off(judged) -> None:
    judged.script(ANSWER, verdict(("Orders over ¥199 ship free.", True), ("Smaller orders pay ¥12.", False)))
    reply, conversation = ask()
    assert reply.confidence_signals["judge_supported"] == 0.5
    assert reply.confidence_signals["judge_unsupported"] == ["Smaller orders pay ¥12."]
    assert reply.confidence <= confidence.UNVERIFIED_CAP
    assert conversation.handoff_reason == HandoffReason.UNSUPPORTED_CLAIM


@pytest.mark.parametrize("answer", [
    Reply(content='{"sentences": ['),  # not JSON
    Reply(content='{"verdict": "fine"}'),  # JSON, not the object asked for
    Reply(content='{"sentences": [{"text": "x", "supported": "yes"}]}'),
])
def test_an_invalid_answer_gives_no_verdict_and_no_handoff(judged, answer) -> None:
    judged.script(ANSWER, answer)
    reply, conversation = ask()
    assert reply.confidence_signals["judge_error"] and "judge_supported" not in reply.confidence_signals
    assert conversation.status == Conversation.Status.BOT


def test_a_judge_out_of_time_gives_no_verdict_and_no_handoff(judged, settings) -> None:
    settings.JUDGE_TIMEOUT_S = 0.3
    judged.script(ANSWER, Reply(content='{"sentences": []}', ttft=2.0))
    reply, conversation = ask()
    assert "no answer within 0.3 s" in reply.confidence_signals["judge_error"]
    assert conversation.status == Conversation.Status.BOT


def test_without_a_judge_model_no_second_call_is_made(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(ANSWER)
    reply, _ = ask()
    assert len(fake_ollama.chat_requests()) == 1 and "judge_error" not in reply.confidence_signals


def test_a_verdict_counts_the_share_of_supported_sentences() -> None:
    found = verdict_from({"sentences": [{"text": "a", "supported": True}, {"text": " b ", "supported": False},
                                        {"text": "c", "supported": True}, {"text": "d", "supported": True}]})
    assert found.supported == 0.75 and found.unsupported == ["b"] and not found.error
    assert verdict_from({"sentences": []}).error
