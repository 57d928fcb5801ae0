"""A complaint hands the conversation to a person with its own reason and notice, and comes first in the inbox;
every customer message is stored with its intent and the details it gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.notices import COMPLAINT_NOTICE, notice_in
from conversations.selectors import inbox as inbox_selectors
from conversations.services import messages
from knowledge.tests.factories import article_create

from .factories import conversation_factory

pytestmark = pytest.mark.django_db

Status = Conversation.Status


def post(text: str, conversation: Conversation | None = None) -> Message:
    conversation = conversation or conversation_factory()
    message, _ = messages.message_post_customer(conversation=conversation, text=text, client_id=f"c-{text[:20]}")
    return message


def notices(conversation: Conversation) -> list[str]:
    return list(conversation.messages.filter(role=Message.Role.SYSTEM).values_list("content", flat=True))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Frankly your delivery service is a disgrace, two weeks late", "en"),
        ("Fourth email and no answer. Unacceptable.", "en"),
        ("包装烂透了，茶叶撒了一箱子", "zh-hans"),
        ("你们这种服务我要打12315", "zh-hans"),
    ],
)
def test_a_complaint_hands_off_with_its_reason_and_notice(text: str, language: str) -> None:
    message = post(text)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert message.intent == "complaint"
    assert conversation.status == Status.WAITING_HUMAN and conversation.handoff_reason == "complaint"
    assert notices(conversation) == [notice_in(language, COMPLAINT_NOTICE)]
    assert notice_in("zh-hans", COMPLAINT_NOTICE) != notice_in("en", COMPLAINT_NOTICE)


def test_with_complaint_handoff_off_the_bot_answers_a_complaint(settings) -> None:
    settings.HANDOFF_COMPLAINTS = False
    message = post("This is a rip-off")
    assert message.intent == "complaint"
    assert Conversation.objects.get(pk=message.conversation_id).status == Status.BOT


def test_a_complaint_to_an_agent_leaves_the_conversation_with_the_agent() -> None:
    conversation = conversation_factory(status=Status.HUMAN)
    message = post("Pathetic service, honestly", conversation)
    conversation.refresh_from_db()
    assert message.intent == "complaint" and conversation.status == Status.HUMAN and notices(conversation) == []


def test_a_message_is_stored_with_its_intent_and_details() -> None:
    article_create(title="Gaiwans", body="Porcelain gaiwans.", tags="teaware, product:Celadon Gaiwan")
    message = post("Has order 66001234 shipped? I paid ¥128 for the celadon gaiwan, mail me at Li@Example.com")
    message.refresh_from_db()
    assert message.intent == "order_status" and message.intent_source == "rules"
    assert [(e["kind"], e["value"]) for e in message.entities] == [
        ("email", "li@example.com"), ("order_number", "66001234"), ("amount", "128 CNY"),
        ("product", "Celadon Gaiwan"),
    ]


def test_tags_without_the_product_prefix_are_no_product_names(settings) -> None:
    article_create(title="Teaware", body="Cups.", tags="teaware, product:Tea Tray")
    assert post("do you sell teaware or a tea tray?").entities == [
        {"kind": "product", "text": "tea tray", "value": "Tea Tray"}
    ]
    settings.PRODUCT_TAG_PREFIX = ""
    assert {e["value"] for e in post("is teaware on sale?").entities} == {"teaware"}


def test_the_operators_phrases_make_a_message_a_request_for_a_person(settings) -> None:
    settings.HANDOFF_PHRASES = ["blue banana"]
    assert post("blue banana now").intent == "person"


def conversations_waiting(reasons_minutes: list[tuple[str, int]]) -> list[Conversation]:
    now = timezone.now()
    return [
        conversation_factory(status=Status.WAITING_HUMAN, handoff_reason=reason,
                             handoff_at=now - timedelta(minutes=minutes), last_message_at=now)
        for reason, minutes in reasons_minutes
    ]


def test_complaints_come_first_among_waiting_conversations_then_the_rest_by_waiting_time() -> None:
    old_request, new_complaint, old_complaint, new_low = conversations_waiting(
        [("customer_request", 50), ("complaint", 2), ("complaint", 9), ("low_confidence", 5)]
    )
    bot = conversation_factory(last_message_at=timezone.now())
    expected = [old_complaint.pk, new_complaint.pk, old_request.pk, new_low.pk, bot.pk]
    assert [item["id"] for item in inbox_selectors.inbox()] == expected
    # and page by page, the keyset cursor keeps the same order
    seen, cursor = [], ""
    while True:
        page = inbox_selectors.inbox_page(cursor=cursor, limit=2)
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next"]):
            break
    assert seen == expected
