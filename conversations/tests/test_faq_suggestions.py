"""conversations.faq_suggestions.services: an agent's answer after a takeover becomes a suggested FAQ entry when the
conversation is resolved (personal data out, optionally tidied by a model), published to the FAQ or dismissed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from conversations.faq_suggestions import tidy
from conversations.faq_suggestions.services import (
    faq_suggestion_create,
    faq_suggestions_dismiss,
    faq_suggestions_publish,
)
from conversations.models import Conversation, FAQSuggestion, Message
from conversations.protocol.codes import HandoffReason
from conversations.services import handoff, messages
from helpdesk.models import ModelProfile
from knowledge.models import FAQ
from knowledge.tests.factories import faq_create
from tests.fake_ollama import Reply

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db

Status = FAQSuggestion.Status
TIDY_MODEL = "deepseek-r1:7b"  # any model the fake node has


def agent_create(username: str) -> Any:
    return get_user_model().objects.create_user(username)


def handled(question: str | list[str], *answers: str, bot: str = "Let me find a colleague for you.",
            agent: Any = None) -> Conversation:
    """A conversation the bot handed off, an agent took over, answered and resolved, through the real services.

    (This app's: the agents' resolve, which queues the suggestion's task, is tested in agents/tests; here the
    tests run the task's work themselves.)"""
    agent = agent or agent_create(f"agent{Conversation.objects.count()}")
    conversation = conversation_factory()
    for text in [question] if isinstance(question, str) else question:
        asked = customer_message_factory(conversation, text)
    bot_message_factory(conversation, bot, reply_to=asked)
    handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.LOW_CONFIDENCE)
    handoff.conversation_agent_join(agent=agent, conversation_id=conversation.pk)
    for text in answers:
        messages.message_post_agent(agent=agent, conversation_id=conversation.pk, text=text)
    return handoff.conversation_resolve(agent=agent, conversation_id=conversation.pk)


@pytest.mark.parametrize(("question", "answers", "language"), [
    ("Can I return a gift without the receipt?",
     ["Hello!", "Yes: within 30 days, as store credit. Bring the gift in its box."], "en"),
    ("礼品卡过期了还能用吗？", ["您好！", "过期的礼品卡可以在30天内联系客服延期一次。"], "zh-hans"),
])
def test_an_agents_answer_after_takeover_becomes_a_suggestion_on_resolve(question, answers, language) -> None:
    conversation = handled(question, *answers)
    suggestion = faq_suggestion_create(conversation_id=conversation.pk)
    assert suggestion is not None and suggestion.status == Status.PENDING
    assert (suggestion.question, suggestion.answer, suggestion.language) == (question, answers[-1], language)
    assert suggestion.conversation == conversation and suggestion.faq is None and suggestion.tidied_by == ""
    assert suggestion.source_message.content == answers[-1]
    # Once per answer: the task may run twice.
    assert faq_suggestion_create(conversation_id=conversation.pk) is None
    assert FAQSuggestion.objects.count() == 1


def test_no_suggestion_when_the_bot_answered() -> None:
    agent = agent_create("ann")
    conversation = conversation_factory()
    asked = customer_message_factory(conversation, "How long does delivery take?")
    bot_message_factory(conversation, "Three to five working days.", reply_to=asked)
    handoff.conversation_resolve(agent=agent, conversation_id=conversation.pk)
    assert faq_suggestion_create(conversation_id=conversation.pk) is None


@pytest.mark.parametrize("answers", [["Done."], ["您好！", "好的"], ["Hi!", "Thanks, bye!"]])
def test_no_suggestion_when_the_agent_wrote_nothing_substantive(answers) -> None:
    conversation = handled("Is the blue kettle back in stock?", *answers)
    assert faq_suggestion_create(conversation_id=conversation.pk) is None


@pytest.mark.parametrize("question", [
    "Your courier is useless, the box was crushed!", "包装太差了，东西都碎了",
    "Thanks, the parcel arrived.", "我已经付过款了",
])
def test_no_suggestion_from_an_answer_to_a_complaint_thanks_or_a_statement(question) -> None:
    conversation = handled(question, "We are very sorry: a new one goes out today by express, free of charge.")
    assert faq_suggestion_create(conversation_id=conversation.pk) is None


def test_a_stored_intent_or_moderation_flag_keeps_a_message_from_being_a_question() -> None:
    complained = handled("Why does delivery take three weeks?", "Sorry! We will refund the postage right away.")
    complained.messages.filter(role=Message.Role.CUSTOMER).update(intent="complaint")  # the intent model's
    flagged = handled("What is wrong with you people?", "Sorry! We will refund the postage right away.")
    flagged.messages.filter(role=Message.Role.CUSTOMER).update(flagged="abuse")
    asked = handled("Why does delivery take three weeks?", "Parcels to islands go by sea: 15-20 working days.")
    assert faq_suggestion_create(conversation_id=complained.pk) is None
    assert faq_suggestion_create(conversation_id=flagged.pk) is None
    assert faq_suggestion_create(conversation_id=asked.pk) is not None


def test_the_minimum_answer_length_is_a_setting(settings) -> None:
    conversation = handled("Do you ship to Norway?", "Yes, in 5 days.")
    settings.FAQ_SUGGESTION_MIN_ANSWER_CHARS = 16
    assert faq_suggestion_create(conversation_id=conversation.pk) is None
    settings.FAQ_SUGGESTION_MIN_ANSWER_CHARS = 15
    assert faq_suggestion_create(conversation_id=conversation.pk) is not None


def test_no_suggestion_while_open_for_evaluation_conversations_or_when_off(settings) -> None:
    conversation = handled("Can I pay by invoice?", "Yes, companies can pay by invoice within 30 days.")
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.HUMAN)
    assert faq_suggestion_create(conversation_id=conversation.pk) is None
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED, evaluation=True)
    assert faq_suggestion_create(conversation_id=conversation.pk) is None
    Conversation.objects.filter(pk=conversation.pk).update(evaluation=False)
    settings.FAQ_SUGGESTIONS_ENABLED = False
    assert faq_suggestion_create(conversation_id=conversation.pk) is None
    settings.FAQ_SUGGESTIONS_ENABLED = True
    assert faq_suggestion_create(conversation_id=conversation.pk) is not None


@pytest.mark.parametrize(("question", "answer", "personal"), [
    ("My order 12345678 never came, call me on 138 1234 5678 or li.wei@example.com — can I get a refund?",
     "Sorry! For order 12345678 we refund within 3 days; we will email li.wei@example.com.",
     ["12345678", "138 1234 5678", "li.wei@example.com"]),
    ("订单号：E2024051200017 寄到北京市朝阳区建国路88号，地址写错了能改吗？",
     "可以的，订单E2024051200017发货前都能改地址，已帮您改好，短信会发到13912345678。",
     ["E2024051200017", "北京市朝阳区建国路88号", "13912345678"]),
])
def test_personal_data_and_order_numbers_are_masked(question, answer, personal) -> None:
    suggestion = faq_suggestion_create(conversation_id=handled(question, answer).pk)
    assert suggestion is not None
    for value in personal:
        assert value not in suggestion.question + suggestion.answer
        assert value not in suggestion.original_question + suggestion.original_answer
    assert "[ORDER]" in suggestion.question and "[ORDER]" in suggestion.answer


@pytest.mark.parametrize(("existing", "alternatives", "language", "asked"), [
    ("How long does delivery take?", (), "en", "How long does delivery usually take?"),
    ("运费多少钱?", ("退货的运费谁承担",), "zh-hans", "退货运费由谁承担？"),
])
def test_a_suggestion_close_to_an_existing_entry_proposes_an_alternative_phrasing(
    existing, alternatives, language, asked
) -> None:
    faq = faq_create(existing, "An answer.", alternatives=alternatives, language=language, index=False)
    faq_create("Can I pay by invoice?", "Yes.", index=False)
    suggestion = faq_suggestion_create(conversation_id=handled(asked, "A long enough answer for the customer.").pk)
    assert suggestion is not None and suggestion.faq == faq and suggestion.similarity_how == "keywords"


@pytest.mark.django_db(transaction=True)
def test_closeness_is_by_embeddings_when_the_entries_have_vectors(fake_ollama, settings) -> None:
    faq = faq_create("How long does delivery take?", "Three days.")
    settings.FAQ_SUGGESTION_KEYWORD_OVERLAP = 1.1  # shared words alone never match here
    suggestion = faq_suggestion_create(conversation_id=handled(
        "How long does delivery take to Canada?", "About ten working days to Canada, by air mail.").pk)
    assert suggestion is not None and suggestion.faq == faq and suggestion.similarity_how == "vector"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("question", "answer", "language"), [
    ("Do you gift-wrap orders?", "Yes, gift wrapping costs 5 CNY; choose it at checkout.", "en"),
    ("可以开增值税专用发票吗？", "可以的，在订单页面申请，需要填写公司税号和开户行信息。", "zh-hans"),
])
def test_publishing_creates_a_published_entry_that_then_answers_the_question(
    fake_ollama, question, answer, language
) -> None:
    curator = get_user_model().objects.create_user("curator")
    suggestion = faq_suggestion_create(conversation_id=handled(question, answer).pk)
    assert faq_suggestions_publish(suggestion_ids=[suggestion.pk], user=curator) == 1
    faq = FAQ.objects.get()
    assert (faq.question, faq.answer, faq.language, faq.published) == (question, answer, language, True)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by, suggestion.published_faq) == (Status.PUBLISHED, curator, faq)
    assert faq_suggestions_publish(suggestion_ids=[suggestion.pk], user=curator) == 0  # once
    # The FAQ check of the pipeline answers the question directly now.
    conversation = conversation_factory()
    asked, _ = messages.message_post_customer(conversation=conversation, text=question, client_id="again")
    reply = conversation.messages.get(role=Message.Role.BOT)
    assert reply.reply_to == asked and reply.content == answer
    assert reply.answer_source == Message.AnswerSource.FAQ


@pytest.mark.django_db(transaction=True)
def test_publishing_a_close_suggestion_adds_the_phrasing_and_the_entry_then_answers_it(fake_ollama) -> None:
    faq = faq_create("运费多少钱?", "订单满199元包邮，不满收12元运费。", alternatives=("退货的运费谁承担",),
                     language="zh-hans", index=False)
    suggestion = faq_suggestion_create(conversation_id=handled(
        "退货运费由谁承担？", "质量问题的退货运费由我们承担，其他情况由您承担。").pk)
    assert suggestion.faq == faq
    faq_suggestions_publish(suggestion_ids=[suggestion.pk])
    faq.refresh_from_db()
    assert faq.alternatives.splitlines() == ["退货的运费谁承担", "退货运费由谁承担？"]
    assert faq.answer == "订单满199元包邮，不满收12元运费。" and FAQ.objects.count() == 1
    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text="退货运费由谁承担", client_id="again")
    reply = conversation.messages.get(role=Message.Role.BOT)
    assert reply.answer_source == Message.AnswerSource.FAQ and reply.content == faq.answer


def test_a_curators_edit_is_what_is_published_and_a_cleared_entry_makes_a_new_one(fake_ollama) -> None:
    faq = faq_create("How long does delivery take?", "Three days.", index=False)
    suggestion = faq_suggestion_create(conversation_id=handled(
        "How long does delivery usually take?", "Usually three days, five for remote areas.").pk)
    assert suggestion.faq == faq
    FAQSuggestion.objects.filter(pk=suggestion.pk).update(faq=None, question="Do remote areas take longer?",
                                                           answer="Yes, five days.")
    faq_suggestions_publish(suggestion_ids=[suggestion.pk])
    assert FAQ.objects.filter(question="Do remote areas take longer?", answer="Yes, five days.").exists()
    faq.refresh_from_db()
    assert faq.alternatives == ""


def test_dismissing_keeps_the_suggestion_out_of_the_faq() -> None:
    curator = get_user_model().objects.create_user("curator")
    suggestion = faq_suggestion_create(conversation_id=handled(
        "Can I pay by invoice?", "Yes, companies can pay by invoice within 30 days.").pk)
    assert faq_suggestions_dismiss(suggestion_ids=[suggestion.pk], user=curator) == 1
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == (Status.DISMISSED, curator)
    assert suggestion.decided_at is not None
    assert faq_suggestions_publish(suggestion_ids=[suggestion.pk], user=curator) == 0
    assert faq_suggestions_dismiss(suggestion_ids=[suggestion.pk], user=curator) == 0
    assert not FAQ.objects.exists()
    # Not suggested again when the task runs once more.
    assert faq_suggestion_create(conversation_id=suggestion.conversation_id) is None


# --- the tidy step -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "answer", "tidied"), [
    ("hi, my order 12345678: can I still change the address?? call 13812345678",
     "Hello! Yes, until it ships: My orders > Change address. I have done it for you.",
     {"question": "Can I change the delivery address of my order?",
      "answer": "Yes, until the order ships: open My orders and choose Change address."}),
    ("请问一下 我昨天买的东西 订单12345678 能改地址吗", "您好！发货前可以在「我的订单」里修改地址，我已经帮您改好了。",
     {"question": "下单后还能修改收货地址吗？", "answer": "发货前可以在「我的订单」里修改收货地址。"}),
])
def test_the_tidy_model_rewrites_the_suggestion_from_masked_text(fake_ollama, settings, question, answer,
                                                                 tidied) -> None:
    settings.FAQ_SUGGESTION_TIDY_MODEL = TIDY_MODEL
    fake_ollama.script(Reply(structured=tidied))
    suggestion = faq_suggestion_create(conversation_id=handled(question, answer).pk)
    assert (suggestion.question, suggestion.answer, suggestion.tidied_by) == (tidied["question"],
                                                                              tidied["answer"], TIDY_MODEL)
    assert suggestion.original_answer == answer and "[ORDER]" in suggestion.original_question
    [request] = fake_ollama.chat_requests()
    assert request.body["format"] == tidy.TIDY_SCHEMA and request.body["model"] == TIDY_MODEL
    sent = json.dumps(request.body["messages"], ensure_ascii=False)
    assert "12345678" not in sent and "13812345678" not in sent and "[ORDER]" in sent


def test_a_profile_names_the_tidy_model(fake_ollama, settings) -> None:
    ModelProfile.objects.create(name="tidy", model=TIDY_MODEL)
    settings.FAQ_SUGGESTION_TIDY_MODEL = "tidy"
    fake_ollama.script(Reply(structured={"question": "Do you ship to Norway?", "answer": "Yes, in five days."}))
    suggestion = faq_suggestion_create(conversation_id=handled("Norway shipping??", "yes we do, 5 days or so").pk)
    assert suggestion.tidied_by == TIDY_MODEL and suggestion.answer == "Yes, in five days."


def test_what_the_tidy_model_writes_is_masked_too(fake_ollama, settings) -> None:
    settings.FAQ_SUGGESTION_TIDY_MODEL = TIDY_MODEL
    fake_ollama.script(Reply(structured={"question": "Can I change the address?",
                                         "answer": "Yes: call 13812345678 about order 12345678."}))
    suggestion = faq_suggestion_create(conversation_id=handled("Change address?", "Yes, before it ships.").pk)
    assert suggestion.answer == "Yes: call [PHONE] about order [ORDER]."


@pytest.mark.parametrize("reply", [
    Reply(fill_schema=True),  # the schema's first instance: empty strings
    Reply(structured={"question": "Only a question"}),  # outside the schema
    Reply(content="Sure! Here is a tidier version."),  # not JSON
    Reply(status=500, error="boom"),
])
def test_a_failed_tidy_keeps_the_text_as_written(fake_ollama, settings, reply) -> None:
    settings.FAQ_SUGGESTION_TIDY_MODEL = TIDY_MODEL
    fake_ollama.script(reply)
    suggestion = faq_suggestion_create(conversation_id=handled(
        "Can I pay by invoice?", "Yes, companies can pay by invoice within 30 days.").pk)
    assert (suggestion.question, suggestion.answer) == ("Can I pay by invoice?",
                                                        "Yes, companies can pay by invoice within 30 days.")
    assert suggestion.tidied_by == "" and len(fake_ollama.chat_requests()) == 1


def test_a_tidy_model_that_is_not_there_keeps_the_text_as_written(dead_ollama_url, settings) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    settings.FAQ_SUGGESTION_TIDY_MODEL = TIDY_MODEL
    suggestion = faq_suggestion_create(conversation_id=handled("Can I pay by invoice?", "Yes, within 30 days.").pk)
    assert suggestion.question == "Can I pay by invoice?" and suggestion.tidied_by == ""


def test_erasing_the_customer_deletes_their_suggestion_and_keeps_the_published_entry(fake_ollama) -> None:
    from conversations.privacy.erasure import subject_erase
    from conversations.privacy.subjects import subject_find

    conversation = handled("Do you gift-wrap orders?", "Yes, gift wrapping costs 5 CNY; choose it at checkout.")
    published = faq_suggestion_create(conversation_id=conversation.pk)
    faq_suggestions_publish(suggestion_ids=[published.pk])
    subject_erase(subject_find(token=conversation.token), channel="admin", looked_up_by="token", value="t")
    assert not FAQSuggestion.objects.exists()
    assert FAQ.objects.filter(question="Do you gift-wrap orders?").exists()
