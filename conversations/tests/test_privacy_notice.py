"""The privacy notice: off by default, offered in the widget's config in the customer's language, and recorded on
the conversation (when, which version, which link) when the widget says it showed it."""

from __future__ import annotations

import pytest

from conversations.models import Conversation
from conversations.services.identity import conversation_create
from helpdesk.runtime import aio

pytestmark = pytest.mark.django_db(transaction=True)

URL = "https://shop.example/privacy"


@pytest.fixture
def notice(settings):
    settings.WIDGET_PRIVACY_NOTICE_URL = URL
    settings.WIDGET_PRIVACY_NOTICE_VERSION = "2026-03"
    return settings


def test_the_config_has_no_notice_by_default(client) -> None:
    config = client.get("/api/v1/widget?lang=en").json()
    assert "privacy_notice" not in config


@pytest.mark.parametrize(("lang", "text"), [("en", "We record chats. 我们记录。"), ("zh-CN", "我们会记录聊天内容。")])
def test_the_config_offers_the_notice_in_the_customers_language(client, notice, lang, text) -> None:
    notice.WIDGET_PRIVACY_NOTICE_TEXT = "We record chats. 我们记录。"
    notice.WIDGET_PRIVACY_NOTICE_TEXT_ZH = "我们会记录聊天内容。"
    config = client.get(f"/api/v1/widget?lang={lang}").json()
    assert config["privacy_notice"] == {"url": URL, "version": "2026-03", "text": text}


def test_without_its_own_wording_a_language_gets_the_widgets_translated_default(client, notice) -> None:
    notice.WIDGET_PRIVACY_NOTICE_TEXT = "We record chats."
    assert client.get("/api/v1/widget?lang=zh-hans").json()["privacy_notice"]["text"] == ""  # never the English
    catalog = client.get("/api/v1/widget?lang=zh-hans").json()["catalog"]
    assert "我们如何处理您的数据" in catalog.values()


async def test_showing_the_notice_is_recorded_once_per_version(chat, notice) -> None:
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    await client.send({"type": "privacy_notice", "version": "2026-03"})
    ack = await client.until("privacy_notice")
    first = await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk))
    await client.send({"type": "privacy_notice", "version": "2026-03"})
    await client.until("privacy_notice")
    again = await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk))
    # A new notice: its showing is recorded in turn.
    notice.WIDGET_PRIVACY_NOTICE_VERSION = "2026-09"
    notice.WIDGET_PRIVACY_NOTICE_URL = URL + "?v=2"
    await client.send({"type": "privacy_notice", "version": "2026-09"})
    await client.until("privacy_notice")
    await client.close()
    newer = await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk))
    assert ack == {"type": "privacy_notice", "version": "2026-03"}
    assert first.privacy_notice_shown_at is not None and first.privacy_notice_url == URL
    assert again.privacy_notice_shown_at == first.privacy_notice_shown_at
    assert newer.privacy_notice_version == "2026-09" and newer.privacy_notice_url == URL + "?v=2"
    assert newer.privacy_notice_shown_at > first.privacy_notice_shown_at


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "privacy_notice", "version": "1999"},  # not the notice configured now
        {"type": "privacy_notice", "version": ""},
        {"type": "privacy_notice", "version": ["2026-03"]},
        {"type": "privacy_notice"},
    ],
)
async def test_a_wrong_notice_frame_is_refused_and_nothing_is_recorded(chat, notice, frame) -> None:
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    await client.send(frame)
    error = await client.until("error")
    await client.close()
    assert error["code"] == "bad_frame"
    stored = await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk))
    assert stored.privacy_notice_shown_at is None and stored.privacy_notice_version == ""


async def test_with_no_notice_configured_the_frame_is_refused(chat, settings) -> None:
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    await client.send({"type": "privacy_notice", "version": "1"})
    error = await client.until("error")
    await client.close()
    assert error["code"] == "bad_frame" and "no privacy notice" in error["detail"]
