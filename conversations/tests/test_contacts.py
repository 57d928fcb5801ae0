"""A verified customer's profile and past conversations as the console shows them (selectors.contacts), and an
anonymous visitor's conversation, which shows nothing of the visitor."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from conversations.models import Conversation
from conversations.selectors import contacts
from conversations.selectors.inbox import conversation_for_agents
from conversations.services import identity
from conversations.tests.factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def signed_conversation(settings, user_id: str, *, name: str, email: str) -> Conversation:
    """The conversation the widget opens for a signed-in user of the host site."""
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    ts = int(time.time())
    user = {"id": user_id, "name": name, "email": email, "ts": ts,
            "hash": identity.identity_hash(user_id=user_id, name=name, email=email, ts=ts)}
    return identity.conversation_create(user=user)


def started(conversation: Conversation, when: datetime) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(created_at=when)
    return conversation


@pytest.fixture
def li_lei(settings) -> dict[str, Conversation]:
    """李雷's three conversations: on the website two days ago (resolved, CSAT 4), in the shop app yesterday
    (two messages, the first shown), and today's, still with the bot and without a message yet."""
    today = signed_conversation(settings, "u-42", name="李雷", email="li@example.com")
    customer = today.customer
    first = started(conversation_factory(customer=customer, status="resolved", csat_score=4), T0 - timedelta(days=2))
    customer_message_factory(first, "Where is my order 12345?")
    app = started(conversation_factory(customer=customer, channel="app:shop"), T0 - timedelta(days=1))
    customer_message_factory(app, "退货要多久？" * 40)
    customer_message_factory(app, "later message")
    started(today, T0)
    return {"first": first, "app": app, "today": today}


def test_a_verified_customers_panel_shows_their_signed_identity_and_conversations_newest_first(li_lei) -> None:
    panel = contacts.contact_for_conversation(conversation=li_lei["today"])
    assert (panel["anonymous"], panel["name"], panel["email"], panel["external_id"]) == (
        False, "李雷", "li@example.com", "u-42")
    assert panel["total"] == 3
    rows = [(c["id"], c["channel"], c["status"], c["csat_score"]) for c in panel["conversations"]]
    assert rows == [(li_lei["today"].pk, "web", "bot", None), (li_lei["app"].pk, "app:shop", "bot", None),
                    (li_lei["first"].pk, "web", "resolved", 4)]
    firsts = [c["first_message"] for c in panel["conversations"]]
    assert firsts == ["", ("退货要多久？" * 40)[:contacts.FIRST_MESSAGE_CHARS], "Where is my order 12345?"]
    assert panel["conversations"][2]["created_at"] == (T0 - timedelta(days=2)).isoformat()


def test_the_panel_lists_the_latest_conversations_and_counts_them_all(settings) -> None:
    today = signed_conversation(settings, "u-7", name="Ann", email="ann@example.com")
    for days in range(1, contacts.PANEL_CONVERSATIONS + 3):
        started(conversation_factory(customer=today.customer), T0 - timedelta(days=days))
    started(today, T0)
    panel = contacts.contact_for_conversation(conversation=today)
    assert panel["total"] == contacts.PANEL_CONVERSATIONS + 3
    assert len(panel["conversations"]) == contacts.PANEL_CONVERSATIONS
    assert panel["conversations"][0]["id"] == today.pk


def test_another_customers_conversations_are_not_listed(li_lei, settings) -> None:
    other = signed_conversation(settings, "u-99", name="韩梅梅", email="han@example.com")
    panel = contacts.contact_for_conversation(conversation=other)
    assert [c["id"] for c in panel["conversations"]] == [other.pk] and panel["name"] == "韩梅梅"


def test_an_anonymous_visitor_shows_nothing_but_that_they_are_anonymous() -> None:
    # The pre-chat form's name and email were typed by the visitor, not signed: not in the panel.
    conversation = conversation_factory(contact_name="Bob", contact_email="bob@example.com")
    customer_message_factory(conversation, "Hello")
    assert contacts.contact_for_conversation(conversation=conversation) == {"anonymous": True}


def test_the_console_gets_the_panel_with_the_conversation_it_opens(li_lei) -> None:
    detail = conversation_for_agents(conversation_id=li_lei["app"].pk)
    assert detail["contact"]["external_id"] == "u-42" and detail["contact"]["total"] == 3
    anonymous = conversation_factory()
    assert conversation_for_agents(conversation_id=anonymous.pk)["contact"] == {"anonymous": True}


def signed_with(settings, user_id: str, **extra: object) -> Conversation:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    ts = int(time.time())
    user = {"id": user_id, "name": "Ann", "ts": ts, **extra,
            "hash": identity.identity_hash(user_id=user_id, name="Ann", email="", ts=ts)}
    return identity.conversation_create(user=user)


def test_the_pages_attributes_are_kept_apart_as_unverified(settings) -> None:
    conversation = signed_with(settings, "u-5", attributes={"plan": "金卡", "seats": 12, "trial": False})
    panel = contacts.contact_for_conversation(conversation=conversation)
    assert panel["unverified_attributes"] == {"plan": "金卡", "seats": 12, "trial": False}
    assert (panel["name"], panel["external_id"]) == ("Ann", "u-5")


def test_a_visit_without_attributes_keeps_them_and_an_empty_object_clears_them(settings) -> None:
    signed_with(settings, "u-6", attributes={"plan": "gold"})
    again = signed_with(settings, "u-6")
    assert contacts.contact_for_conversation(conversation=again)["unverified_attributes"] == {"plan": "gold"}
    cleared = signed_with(settings, "u-6", attributes={})
    assert contacts.contact_for_conversation(conversation=cleared)["unverified_attributes"] == {}


def test_keys_beside_the_signed_fields_other_than_attributes_are_not_stored(settings) -> None:
    conversation = signed_with(settings, "u-7", plan="gold")
    panel = contacts.contact_for_conversation(conversation=conversation)
    assert "gold" not in str(panel) and panel["unverified_attributes"] == {}
