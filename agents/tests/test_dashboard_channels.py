"""The dashboard's channel breakdown and filter (?channel=), as an agent's browser gets the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.tests.console import agent_create
from conversations.models import Conversation, Message
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(agent_create("mei"))
    return client


def _started(channel: str, *, handed: bool = False, replied: bool = True, text: str = "Where is my order?") -> None:
    now = timezone.now()
    conversation = conversation_factory(channel=channel, handoff_at=now if handed else None)
    customer_message_factory(conversation, text)
    if replied:
        bot_message_factory(conversation, answer_source=Message.AnswerSource.LLM, ttft_ms=300.0, total_ms=3000.0)


@pytest.fixture
def three_channels() -> None:
    """Web: 3 conversations (1 handed, 2 the bot answered alone); the shop app: 2 (1 handed, 1 unanswered);
    the kiosk app: 1, answered alone."""
    _started("web", handed=True)
    _started("web", text="退货要多久？")
    _started("web")
    _started("app:shop", handed=True, text="我的订单在哪里？")
    _started("app:shop", replied=False)
    _started("app:kiosk")


def _section(page: str, heading_id: str) -> str:
    part = page[page.index(f'id="{heading_id}"'):]
    return part[: part.index("</section>")]


def _summary(page: str) -> str:
    return _section(page, "hc-summary-title")


def test_the_breakdown_shows_each_channel_and_links_to_it(agent_client, three_channels) -> None:
    page = agent_client.get("/console/dashboard/?range=day").content.decode()
    card = _section(page, "hc-channels-title")
    assert (
        '<th scope="row"><a href="?range=day&amp;lang=en&amp;channel=web">Website</a></th>'
        "<td>3</td><td>50 %</td><td>33 %</td><td>67 %</td>"
    ) in card
    assert (
        '<th scope="row"><a href="?range=day&amp;lang=en&amp;channel=app%3Ashop">App: shop</a></th>'
        "<td>2</td><td>33 %</td><td>50 %</td><td>0 %</td>"
    ) in card
    assert ">App: kiosk</a></th><td>1</td><td>17 %</td><td>0 %</td><td>100 %</td>" in card
    assert card.index("Website") < card.index("App: shop") < card.index("App: kiosk")
    # The select offers every channel seen, "All channels" chosen.
    assert '<option value="" selected>All channels</option>' in page
    for value, label in (("web", "Website"), ("app:shop", "App: shop"), ("app:kiosk", "App: kiosk")):
        assert f'<option value="{value}">{label}</option>' in page
    assert '<label for="hc-channel">Channel</label>' in page and '<select id="hc-channel" name="channel">' in page
    assert "<dd>6</dd>" in _summary(page)


def test_a_channel_restricts_the_pages_figures_and_its_links_keep_it(agent_client, three_channels) -> None:
    page = agent_client.get("/console/dashboard/?range=day&channel=app:shop").content.decode()
    summary = _summary(page)
    # 2 conversations, 2 customer messages, 1 of 2 handed to a human.
    assert summary.count("<dd>2</dd>") == 2 and "<dd>50 %</dd>" in summary and "<dd>6</dd>" not in summary
    assert '<option value="app:shop" selected>App: shop</option>' in page
    assert '<strong class="hc-channel-shown">App: shop</strong>' in page
    assert 'href="?channel=app%3Ashop&amp;range=week&amp;lang=en"' in page  # the ranges keep the channel
    assert 'href="?range=day&amp;channel=app%3Ashop&amp;lang=zh-hans"' in page  # and so does the language
    assert 'name="range" value="day"' in page and "hc-channel-notice" not in page
    # The breakdown still shows every channel.
    assert ">App: kiosk</a></th>" in _section(page, "hc-channels-title")


def test_an_unknown_channel_gives_an_empty_page_that_says_so(agent_client, three_channels) -> None:
    response = agent_client.get("/console/dashboard/", {"channel": "app:<b>nowhere</b>", "range": "week"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "No conversations or replies in this period." in page
    notice = (
        "No conversation on the channel “app:&lt;b&gt;nowhere&lt;/b&gt;” is stored, nor counted in this range: its"
        " figures are empty."
    )
    assert notice in page and "<b>nowhere" not in page
    assert '<option value="app:&lt;b&gt;nowhere&lt;/b&gt;" selected>App: &lt;b&gt;nowhere&lt;/b&gt;</option>' in page
    assert "<dd>0</dd>" in _summary(page)
    # A blank channel is every channel.
    assert "<dd>6</dd>" in _summary(agent_client.get("/console/dashboard/?channel=+").content.decode())


def test_the_channels_in_chinese(agent_client, three_channels) -> None:
    page = agent_client.get("/console/dashboard/?lang=zh-hans&channel=app:kiosk").content.decode()
    assert "按渠道的会话" in page and "全部渠道" in page and '<label for="hc-channel">渠道</label>' in page
    assert '<option value="app:kiosk" selected>应用：kiosk</option>' in page and ">网站</a></th>" in page
    unknown = agent_client.get("/console/dashboard/?lang=zh-hans&channel=app:无").content.decode()
    assert "渠道“app:无”没有已存储的会话，此范围内也没有统计：其数据为空。" in unknown


def test_days_summarized_before_channels_were_counted_are_named_on_a_channels_page(agent_client) -> None:
    from conversations.models import DailySummary
    from conversations.services.summaries import summaries_fill

    two_days_ago = timezone.now() - timedelta(days=2)
    conversation = conversation_factory(channel="web")
    Conversation.objects.filter(pk=conversation.pk).update(created_at=two_days_ago)
    summaries_fill()
    DailySummary.objects.filter(day__lt=timezone.localdate()).update(channels=None)
    conversation.delete()
    page = agent_client.get("/console/dashboard/?range=week&channel=web").content.decode()
    assert "1 day of this range was summarized before conversations were counted by channel" in page
    assert ">Not counted by channel</th><td>1</td>" in page
    chinese = agent_client.get("/console/dashboard/?range=week&channel=web&lang=zh-hans").content.decode()
    assert "此范围内有 1 天在按渠道统计会话之前已汇总" in chinese and ">未按渠道统计</th>" in chinese
