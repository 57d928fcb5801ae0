"""Cases suggested from real traffic: agents' answers after a handoff, thumbs-down replies; accepted and
dismissed ones never come back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conversations.evaluation import suggestions
from conversations.models import Conversation, EvalCase, Feedback, Message
from conversations.protocol.codes import HandoffReason

from .evaluation_factories import eval_case_factory, eval_set_factory
from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def _handed_over(question: str, answer: str, *, reason: str = HandoffReason.LOW_CONFIDENCE,
                 evaluation: bool = False) -> Message:
    conversation = conversation_factory(status=Conversation.Status.RESOLVED, handoff_reason=reason,
                                        resolved_at=timezone.now(), evaluation=evaluation)
    asked = customer_message_factory(conversation, question)
    bot_message_factory(conversation, "Let me find a colleague.", reply_to=asked)
    return Message.objects.create(conversation=conversation, role=Message.Role.AGENT, content=answer)


def _thumbs_down(question: str, reply: str, *, evaluation: bool = False) -> Message:
    conversation = conversation_factory(evaluation=evaluation)
    asked = customer_message_factory(conversation, question)
    bad = bot_message_factory(conversation, reply, reply_to=asked)
    Feedback.objects.create(conversation=conversation, message=bad, rating=-1)
    return bad


def test_an_agents_answer_after_a_handoff_is_suggested_as_a_case_to_answer() -> None:
    answer = _handed_over("Can I return opened headphones?", "Yes, within 14 days if undamaged.")
    [suggestion] = suggestions.suggestions_list()
    assert suggestion.message_id == answer.pk and suggestion.kind == suggestions.AGENT_ANSWER
    assert suggestion.question == "Can I return opened headphones?" and suggestion.expectation == "answer"
    assert suggestion.answer == "Yes, within 14 days if undamaged." and suggestion.language == "en"


def test_a_customer_who_asked_for_a_person_is_suggested_as_a_case_to_hand_off() -> None:
    _handed_over("我想和真人客服聊聊", "您好，我是客服小王。", reason=HandoffReason.CUSTOMER_REQUEST)
    [suggestion] = suggestions.suggestions_list()
    assert suggestion.expectation == "person" and suggestion.language == "zh-hans"


def test_a_thumbs_down_reply_suggests_the_question_it_answered() -> None:
    bad = _thumbs_down("这个耳机保修多久?", "保修五年。")
    Feedback.objects.create(conversation=bad.conversation, rating=1, message=bot_message_factory(
        bad.conversation, "Good one.", reply_to=customer_message_factory(bad.conversation, "thanks")))
    [suggestion] = suggestions.suggestions_list()
    assert suggestion.kind == suggestions.THUMBS_DOWN and suggestion.question == "这个耳机保修多久?"
    assert suggestion.answer == "保修五年。"


def test_conversations_still_open_and_evaluation_conversations_are_not_suggested() -> None:
    open_one = _handed_over("Where is my parcel?", "It left today.")
    open_one.conversation.status = Conversation.Status.HUMAN
    open_one.conversation.save()
    _handed_over("What is the weather?", "Sunny.", evaluation=True)
    _thumbs_down("Do you sell bikes?", "Yes.", evaluation=True)
    assert suggestions.suggestions_list() == []


def test_accepting_makes_cases_with_their_source_and_unique_keys_and_they_are_not_suggested_again() -> None:
    eval_set = eval_set_factory("shop")
    eval_case_factory(eval_set, "existing")
    first = _handed_over("Can I pay by invoice?", "Yes, for companies.")
    second = _thumbs_down("Can I pay by invoice?", "No.")
    cases = suggestions.suggestions_accept(eval_set=eval_set, message_ids=[first.pk, second.pk])
    assert len(cases) == 2 and len({case.key for case in cases}) == 2
    assert {case.suggested_from_id for case in cases} == {first.pk, second.pk}
    assert all(case.key.startswith("can-i-pay-by-invoice") for case in cases)
    assert suggestions.suggestions_list() == []
    assert suggestions.suggestions_accept(eval_set=eval_set, message_ids=[first.pk]) == []  # not twice
    assert EvalCase.objects.filter(eval_set=eval_set).count() == 3


def test_a_chinese_question_gets_a_key_and_its_language() -> None:
    eval_set = eval_set_factory("shop")
    bad = _thumbs_down("发票怎么开?", "不知道。")
    [case] = suggestions.suggestions_accept(eval_set=eval_set, message_ids=[bad.pk])
    assert case.key and case.language == "zh-hans" and case.expectation == "answer"


def test_dismissed_suggestions_do_not_come_back() -> None:
    dismissed = _thumbs_down("Is the shop open on Sunday?", "Yes, always.")
    kept = _handed_over("Do you ship to Macau?", "Yes, in five days.")
    assert suggestions.suggestions_dismiss(message_ids=[dismissed.pk]) == 1
    assert suggestions.suggestions_dismiss(message_ids=[dismissed.pk]) == 0
    assert [s.message_id for s in suggestions.suggestions_list()] == [kept.pk]
    assert suggestions.suggestions_accept(eval_set=eval_set_factory("shop"), message_ids=[dismissed.pk]) == []
