"""The contact page (/console/contacts/<id>/): a verified customer's signed identity and conversations, for
console staff only, gone with the customer's erasure."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model

from agents.tests.console import agent_create
from conversations.models import Conversation
from conversations.privacy.erasure import subject_erase
from conversations.privacy.subjects import subject_find
from conversations.services import identity
from conversations.tests.factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_conversation(settings) -> Conversation:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    ts = int(time.time())
    user = {"id": "u-42", "name": "李雷", "email": "li@example.com", "ts": ts, "attributes": {"plan": "金卡"},
            "hash": identity.identity_hash(user_id="u-42", name="李雷", email="li@example.com", ts=ts)}
    conversation = identity.conversation_create(user=user)
    customer_message_factory(conversation, "我的订单 12345 到哪里了？")
    older = conversation_factory(customer=conversation.customer, status="resolved", csat_score=4, channel="app:shop")
    customer_message_factory(older, "Can I return shoes?")
    return conversation


def test_an_agent_sees_the_customers_identity_and_conversations(client, customer_conversation) -> None:
    client.force_login(agent_create("mei"))
    html = client.get(f"/console/contacts/{customer_conversation.customer_id}/?lang=en").content.decode()
    for shown in ("李雷", "li@example.com", "u-42", "2 conversations", "我的订单 12345 到哪里了？",
                  "Can I return shoes?", "app:shop", "Resolved", "With the bot", "Website",
                  "From the site's page, not signed (unverified)", "金卡"):
        assert shown in html, shown


def test_the_contact_page_reads_in_chinese(client, customer_conversation) -> None:
    client.force_login(agent_create("mei"))
    html = client.get(f"/console/contacts/{customer_conversation.customer_id}/?lang=zh-hans").content.decode()
    for shown in ("联系人", "网站用户 ID", "2 个会话", "已解决", "机器人处理中", "第一条消息",
                  "来自网站页面，未经签名（未验证）"):
        assert shown in html, shown


def test_only_console_staff_see_a_contact(client, customer_conversation) -> None:
    url = f"/console/contacts/{customer_conversation.customer_id}/"
    assert client.get(url).status_code == 302
    client.force_login(agent_create("clerk", staff=True, in_group=False))
    assert client.get(url).status_code == 403
    client.force_login(get_user_model().objects.create_user("shopper"))
    assert client.get(url).status_code == 403


def test_an_erased_customers_page_is_gone(client, customer_conversation) -> None:
    client.force_login(agent_create("mei"))
    url = f"/console/contacts/{customer_conversation.customer_id}/"
    assert client.get(url).status_code == 200
    subject_erase(subject_find(external_id="u-42"), channel="admin", looked_up_by="external_id", value="u-42")
    assert client.get(url).status_code == 404
