"""When the bot hands a conversation to a human, and what the customer sees."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from conversations import notices as notice_texts
from conversations.models import Conversation, Message
from conversations.notices import HANDOFF_NOTICE, notice_in
from conversations.pipeline.citations import CitationFilter
from conversations.pipeline.reply import reply_generate
from conversations.protocol import FrameError
from conversations.services import contact, handoff, messages, presence
from conversations.services.cancel import cancel_flag_key
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
from helpdesk.tests.factories import default_profile
from knowledge.tests.factories import faq_create, knowledge_base_create
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def ask(text: str, conversation: Conversation | None = None) -> Message:
    conversation = conversation or conversation_factory()
    question = customer_message_factory(conversation, text)
    return reply_generate(customer_message_id=question.pk)


def notices(conversation: Conversation) -> list[str]:
    return list(conversation.messages.filter(role=Message.Role.SYSTEM).values_list("content", flat=True))


def test_a_confident_cited_answer_keeps_the_bot_in_charge(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="Orders over ¥199 ship free [1]."))
    reply = ask("Is delivery free for big orders?")
    reply.conversation.refresh_from_db()
    assert reply.conversation.status == Conversation.Status.BOT
    assert reply.confidence >= 0.5 and reply.confidence_signals["cited"] is True
    assert reply.confidence_signals["sources_given"] >= 1 and reply.confidence_signals["relevance"] > 0


def test_the_same_answer_without_citing_is_less_confident(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="Orders over ¥199 ship free [1]."), Reply(content="Orders over ¥199 ship free."))
    cited = ask("Is delivery free for big orders?")
    uncited = ask("Is delivery free for big orders?".replace("big", "large"))
    assert uncited.confidence < cited.confidence


def test_a_low_confidence_reply_hands_off_and_the_customer_is_told(fake_ollama) -> None:
    default_profile(handoff_threshold=0.95)
    knowledge_base_create()
    fake_ollama.script(Reply(content="Maybe it ships free."))
    reply = ask("Is delivery free for big orders?")
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert reply.content == "Maybe it ships free." and reply.confidence < 0.95
    assert conversation.status == Conversation.Status.WAITING_HUMAN and conversation.handoff_reason == "low_confidence"
    assert notices(conversation) == [notice_in("en", HANDOFF_NOTICE)]


def test_the_model_saying_it_does_not_know_hands_off_without_showing_the_marker(fake_ollama) -> None:
    knowledge_base_create()
    fake_ollama.script(Reply(content="[NO-ANSWER] 抱歉，我不清楚这个问题，客服同事会来帮您。"))
    reply = ask("退款能退到别人的支付宝账户吗？")  # a source covers it; the model says it does not answer it
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert reply.content == "抱歉，我不清楚这个问题，客服同事会来帮您。"
    assert reply.confidence == 0.1 and reply.confidence_signals["no_answer_marker"] is True
    assert conversation.handoff_reason == "no_knowledge"
    assert notices(conversation) == [notice_in("zh-hans", HANDOFF_NOTICE)]


def test_a_marker_split_across_chunks_is_still_caught() -> None:
    citations = CitationFilter(0)
    text = "".join(citations.feed(piece) for piece in ["[NO", "-ANS", "WER] Sorry", ", I don't know."])
    assert text + citations.finish() == " Sorry, I don't know." and citations.no_answer


def test_a_failed_reply_hands_off_as_a_model_error_with_one_notice(settings, dead_ollama_url) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    reply = ask("我的订单到哪了？")
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert reply.status == Message.Status.FAILED and reply.confidence == 0.0
    assert conversation.status == Conversation.Status.WAITING_HUMAN and conversation.handoff_reason == "model_error"
    assert notices(conversation) == [notice_texts.notice_in("zh-hans", notice_texts.UNAVAILABLE_NOTICE)]


def test_low_confidence_answers_are_not_cached(fake_ollama) -> None:
    default_profile(handoff_threshold=0.95)
    knowledge_base_create()
    ask("Do you take Mastercard?")
    ask("Do you take Mastercard?")
    assert len(fake_ollama.chat_requests()) == 2


def test_faq_answers_carry_full_confidence(fake_ollama) -> None:
    faq_create("How much is delivery?", "Free over ¥199.")
    reply = ask("How much is delivery?")
    assert reply.confidence == 1.0 and reply.confidence_signals["faq_how"] == "exact"


@pytest.mark.parametrize(
    "text",
    [
        "转人工", "人工", "我要转人工客服", "Agent", "human!", "Can I talk to a human please?",
        # in words no phrase list has (conversations.intents)
        "Could someone from your shop ring me?", "麻烦帮我换成人工坐席",
    ],
)
def test_asking_for_a_person_hands_off_at_once(fake_ollama, text) -> None:
    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text=text, client_id="h-1")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WAITING_HUMAN
    assert conversation.handoff_reason == "customer_request"
    assert fake_ollama.chat_requests() == []


@pytest.mark.parametrize("text", ["Is this tea safe for human consumption?", "My agent ordered it", "人工种植的茶吗"])
def test_words_that_merely_contain_a_phrase_do_not_hand_off(text) -> None:
    assert not messages.customer_wants_human(text)


def test_request_human_moves_to_the_queue_and_cancels_streaming_replies() -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    streaming = bot_message_factory(conversation, "", reply_to=question, status=Message.Status.STREAMING)
    handoff.conversation_request_human(conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WAITING_HUMAN
    assert conversation.handoff_reason == "customer_request"
    assert cache.get(cancel_flag_key(streaming.pk)) is True
    assert conversation.messages.filter(role=Message.Role.SYSTEM).count() == 1


def test_unknown_handoff_reasons_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown handoff reason"):
        handoff.conversation_request_human(conversation=conversation_factory(), reason="bored")


def test_support_hours_are_read_in_the_support_time_zone(settings) -> None:
    from datetime import UTC, datetime

    from conversations.selectors import availability as availability_selectors

    settings.SUPPORT_HOURS, settings.SUPPORT_TIME_ZONE = "Mon-Fri 09:00-18:00", "Asia/Shanghai"
    monday_10_in_shanghai = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    monday_20_in_shanghai = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    saturday_10_in_shanghai = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert availability_selectors.support_open(at=monday_10_in_shanghai)
    assert not availability_selectors.support_open(at=monday_20_in_shanghai)
    assert not availability_selectors.support_open(at=saturday_10_in_shanghai)
    settings.SUPPORT_HOURS = "Fri-Mon 22:00-23:59"  # wraps over the weekend
    assert availability_selectors.support_hours()[0] == {4, 5, 6, 0}
    settings.SUPPORT_HOURS = "weekdays 9-5"
    with pytest.raises(ValueError, match="not like 'Mon-Fri 09:00-18:00'"):
        availability_selectors.support_hours()


def closed_all_day() -> str:
    """Opening hours on another weekday than today's: closed for the whole of the test."""
    from datetime import UTC, datetime

    other_day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][(datetime.now(UTC).weekday() + 3) % 7]
    return f"{other_day} 09:00-10:00"


def test_outside_hours_with_nobody_online_the_customer_is_told_when_and_asked_for_an_email(settings) -> None:
    settings.SUPPORT_HOURS, settings.SUPPORT_TIME_ZONE = closed_all_day(), "UTC"
    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text="转人工", client_id="o-1")
    texts = notices(conversation)
    assert texts[0] == notice_in("zh-hans", HANDOFF_NOTICE)
    assert texts[1].startswith(f"客服同事现在不在线（服务时间：{settings.SUPPORT_HOURS} (UTC)）")
    contact.contact_record(conversation=conversation, email="li@example.com")
    conversation.refresh_from_db()
    assert conversation.contact_email == "li@example.com"
    with pytest.raises(FrameError, match="email"):
        contact.contact_record(conversation=conversation, email="not an address")


def test_a_reload_outside_hours_offers_the_email_form_again_until_one_is_left(settings) -> None:
    from conversations.selectors import history as history_selectors

    settings.SUPPORT_HOURS, settings.SUPPORT_TIME_ZONE = closed_all_day(), "UTC"
    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text="转人工", client_id="o-2")
    conversation.refresh_from_db()
    assert history_selectors.conversation_to_dict(conversation)["offline"] is True
    contact.contact_record(conversation=conversation, email="li@example.com")
    conversation.refresh_from_db()
    assert "offline" not in history_selectors.conversation_to_dict(conversation)


def test_outside_hours_an_agent_at_the_console_answers_instead(settings) -> None:
    settings.SUPPORT_HOURS = closed_all_day()
    presence.agent_presence_set(agent_id=42, online=True)
    try:
        conversation = conversation_factory()
        messages.message_post_customer(conversation=conversation, text="human", client_id="o-2")
        assert notices(conversation) == [notice_in("en", HANDOFF_NOTICE)]
    finally:
        presence.agent_presence_set(agent_id=42, online=False)


def test_the_inbox_line_of_a_customer_request_carries_its_reason(fake_ollama) -> None:
    from conversations.selectors import inbox as inbox_selectors

    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text="转人工", client_id="i-1")
    [item] = inbox_selectors.inbox()
    assert item["status"] == "waiting_human" and item["handoff_reason"] == "customer_request"
    assert item["handoff_at"] is not None
