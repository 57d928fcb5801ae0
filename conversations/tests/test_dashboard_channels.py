"""The dashboard by channel (conversations.stats.dashboard): the channels side by side, and every figure restricted
to one channel, from the rows and from the daily summaries once the rows are gone."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conversations.models import Conversation, DailySummary, Message, ModerationHit
from conversations.services.summaries import summaries_fill
from conversations.stats import buckets as bucket_stats
from conversations.stats import dashboard as dashboard_stats
from conversations.stats.daily import day_bounds
from conversations.stats.moderation import moderation_counts
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db

CHANNELS = ["web", "app:shop", "app:kiosk"]
ChannelFigures = dashboard_stats.ChannelFigures


def at(row: Any, when: datetime) -> Any:
    type(row).objects.filter(pk=row.pk).update(created_at=when)
    row.created_at = when
    return row


def traffic(
    when: datetime, *, channel: str, text: str, ttft: float | None = None, handed: bool = False,
    csat: int | None = None,
) -> Conversation:
    """A conversation on `channel` at `when`: a customer message and, with `ttft`, a model reply and a cached one;
    handed to a person when asked; resolved five minutes later, rated `csat`."""
    conversation = at(conversation_factory(channel=channel, handoff_at=when if handed else None), when)
    at(customer_message_factory(conversation, text), when)
    if ttft is not None:
        at(bot_message_factory(conversation, answer_source=Message.AnswerSource.LLM, ttft_ms=ttft, total_ms=ttft * 10),
           when + timedelta(seconds=5))
        at(bot_message_factory(conversation, answer_source=Message.AnswerSource.CACHE), when + timedelta(seconds=9))
    Conversation.objects.filter(pk=conversation.pk).update(resolved_at=when + timedelta(minutes=5), csat_score=csat)
    return conversation


def earlier_today(now: datetime, *, minutes: int) -> datetime:
    """`minutes` before now, or as many seconds after today's (local) start when that would be yesterday: a row
    meant to be today's stays today's in the first minutes after midnight."""
    start = day_bounds(timezone.localdate(now))[0]
    return max(now - timedelta(minutes=minutes), min(start + timedelta(seconds=minutes), now))


def three_channels(now: datetime) -> list[Conversation]:
    """Web: 4 conversations (1 handed, 2 the bot answered alone, 1 never answered); the shop app: 2 (1 handed,
    1 alone); the kiosk app: 1, handed, five days ago only."""
    return [
        traffic(now - timedelta(days=3, hours=2), channel="web", text="Where is my order?", ttft=120.0, handed=True,
                csat=5),
        traffic(now - timedelta(days=2), channel="web", text="退货要多久？", ttft=250.0, csat=4),
        traffic(earlier_today(now, minutes=10), channel="web", text="Hi, 你好", ttft=50.0),
        traffic(earlier_today(now, minutes=12), channel="web", text="anyone there?"),
        traffic(now - timedelta(days=3, hours=1), channel="app:shop", text="我的订单在哪里？", ttft=480.0, csat=2),
        traffic(earlier_today(now, minutes=20), channel="app:shop", text="Refund please", ttft=900.0, handed=True),
        traffic(now - timedelta(days=5), channel="app:kiosk", text="能开发票吗？", ttft=700.0, handed=True),
    ]


def week(now: datetime) -> bucket_stats.Buckets:
    return bucket_stats.buckets_ending_now(now=now, size=timedelta(hours=6), count=28,
                                           tz=timezone.get_default_timezone())


def figures(series: dashboard_stats.DashboardSeries) -> dict[str, Any]:
    return {k: v for k, v in asdict(series).items() if k not in ("buckets", "channel")}


COUNTS = ["conversations", "customer_messages", "resolved_by_bot", "resolved_with_human", "bot_alone", "handed_off",
          "csat_count", "bot_replies", "cache_replies", "faq_replies"]


def test_the_breakdown_counts_each_channels_conversations_handoffs_and_deflections() -> None:
    now = timezone.now()
    three_channels(now)
    conversation_factory(channel="app:shop", evaluation=True)  # an evaluation run's: never counted
    compared = dashboard_stats.channels_compare(buckets=week(now))
    assert compared == [
        ChannelFigures(channel="web", conversations=4, handed_off=1, bot_alone=2),
        ChannelFigures(channel="app:shop", conversations=2, handed_off=1, bot_alone=1),
        ChannelFigures(channel="app:kiosk", conversations=1, handed_off=1, bot_alone=0),
    ]
    assert [(c.handoff_rate, c.deflection_rate) for c in compared] == [(0.25, 0.5), (0.5, 0.5), (1.0, 0.0)]
    # The breakdown covers the buckets only: the last hour holds web's two newest and the shop's newest.
    hour = bucket_stats.buckets_ending_now(now=now, size=timedelta(minutes=5), count=12, tz=UTC)
    assert [(c.channel, c.conversations) for c in dashboard_stats.channels_compare(buckets=hour)] == [
        ("web", 2), ("app:shop", 1)]


def test_a_channel_restricts_every_figure_and_the_channels_add_up_to_all() -> None:
    now = timezone.now()
    three_channels(now)
    everything = dashboard_stats.dashboard_series(buckets=week(now))
    by_channel = {c: dashboard_stats.dashboard_series(buckets=week(now), channel=c) for c in CHANNELS}
    for name in COUNTS:
        added = [sum(values) for values in zip(*(getattr(s, name) for s in by_channel.values()), strict=True)]
        assert added == getattr(everything, name), name
    assert sum(s.latency_samples for s in by_channel.values()) == everything.latency_samples == 6
    shop = by_channel["app:shop"]
    assert shop.channel == "app:shop" and shop.days_without_channels == 0
    assert shop.totals == {
        "conversations": 2, "customer_messages": 2, "handoff_rate": 0.5, "resolved_by_bot": 2,
        "resolved_with_human": 0, "bot_alone": 1, "csat_mean": 2.0, "csat_count": 1, "cache_rate": 0.5,
        "faq_rate": 0.0, "bot_replies": 4, "ttft_p50": 690.0, "total_p50": 6900.0,
    }
    web = by_channel["web"].totals
    assert (web["conversations"], web["customer_messages"], web["csat_mean"], web["ttft_p50"]) == (4, 4, 4.5, 120.0)
    assert by_channel["app:kiosk"].totals["handoff_rate"] == 1.0 and everything.totals["conversations"] == 7


def test_moderation_hits_of_one_channel() -> None:
    web = conversation_factory(channel="web")
    shop = conversation_factory(channel="app:shop")
    ModerationHit.objects.create(message=customer_message_factory(web, "刷单"), category="fraud", where="inbound",
                                 action="flag")
    ModerationHit.objects.create(message=bot_message_factory(shop, "…"), category="fraud", where="outbound",
                                 action="flag")
    start, end = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(minutes=1)
    assert [(r["inbound"], r["outbound"]) for r in moderation_counts(start=start, end=end)] == [(1, 1)]
    assert [(r["inbound"], r["outbound"]) for r in moderation_counts(start=start, end=end, channel="web")] == [(1, 0)]
    assert [(r["inbound"], r["outbound"]) for r in moderation_counts(start=start, end=end, channel="app:shop")] == [
        (0, 1)]
    assert moderation_counts(start=start, end=end, channel="app:none") == []


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def test_a_channels_past_days_survive_deleting_their_rows(settings, zone: str) -> None:
    settings.TIME_ZONE = zone
    timezone.activate(ZoneInfo(zone))
    try:
        now = timezone.now()
        rows = three_channels(now)
        live = {c: figures(dashboard_stats.dashboard_series(buckets=week(now), channel=c)) for c in CHANNELS}
        compared = dashboard_stats.channels_compare(buckets=week(now))
        assert summaries_fill() >= 3
        assert {c: figures(dashboard_stats.dashboard_series(buckets=week(now), channel=c)) for c in CHANNELS} == live
        today_start = day_bounds(timezone.localdate(now))[0]
        Conversation.objects.filter(pk__in=[c.pk for c in rows if c.created_at < today_start]).delete()
        assert not Conversation.objects.filter(channel="app:kiosk").exists()
        assert {c: figures(dashboard_stats.dashboard_series(buckets=week(now), channel=c)) for c in CHANNELS} == live
        assert dashboard_stats.channels_compare(buckets=week(now)) == compared
        # The kiosk's rows are gone; its summarized days still offer it in the filter.
        assert dashboard_stats.channels_seen(buckets=week(now)) == ["web", "app:kiosk", "app:shop"]
    finally:
        timezone.deactivate()


def test_a_summary_keeps_each_channels_hours() -> None:
    now = timezone.now()
    three_channels(now)
    summaries_fill()
    day = timezone.localdate(now - timedelta(days=5))
    summary = DailySummary.objects.get(day=day)
    assert set(summary.channels) == {"app:kiosk"}
    kiosk = summary.channels["app:kiosk"]
    assert sum(kiosk["hourly"]["conversations"]) == 1 and sum(kiosk["hourly"]["handed_off"]) == 1
    assert [pair for pairs in kiosk["latency"].values() for pair in pairs] == [[700.0, 7000.0]]
    assert kiosk["hourly"] == summary.hourly  # the only channel that day: its hours are the day's


def test_days_summarized_before_channels_were_counted_are_left_out_of_a_channel_and_said() -> None:
    """A day filled before migration 0026 has no per-channel figures: once its rows are gone, it cannot be split,
    so a channel's view leaves it out and counts it, and the breakdown shows its conversations apart."""
    now = timezone.now()
    rows = three_channels(now)
    everything = figures(dashboard_stats.dashboard_series(buckets=week(now)))
    summaries_fill()
    today = timezone.localdate(now)
    old = DailySummary.objects.filter(day__lt=today)
    old_days = old.count()
    assert old_days >= 3
    old.update(channels=None)
    Conversation.objects.filter(pk__in=[c.pk for c in rows if c.created_at < day_bounds(today)[0]]).delete()

    assert figures(dashboard_stats.dashboard_series(buckets=week(now))) == everything  # unfiltered: unchanged
    web = dashboard_stats.dashboard_series(buckets=week(now), channel="web")
    assert web.days_without_channels == old_days
    today_web = [c for c in rows if c.channel == "web" and c.created_at >= day_bounds(today)[0]]
    assert web.totals["conversations"] == len(today_web)
    compared = dashboard_stats.channels_compare(buckets=week(now))
    assert compared[-1].channel is None
    assert sum(c.conversations for c in compared) == 7
    assert compared[-1].conversations == 7 - sum(1 for c in rows if c.created_at >= day_bounds(today)[0])


@pytest.mark.parametrize("channel", ["app:nowhere", "WEB", "app:shop ", "应用:商店", "x" * 300])
def test_an_unknown_channel_counts_nothing(channel: str) -> None:
    now = timezone.now()
    three_channels(now)
    summaries_fill()
    series = dashboard_stats.dashboard_series(buckets=week(now), channel=channel)
    assert not series.has_data and series.latency_samples == 0
    assert all(not any(getattr(series, name)) for name in COUNTS)
    assert series.totals["conversations"] == 0 and series.totals["handoff_rate"] is None
    assert channel not in dashboard_stats.channels_seen(buckets=week(now))


def test_the_fill_splits_by_channel_the_days_summarized_before_but_not_the_final_ones() -> None:
    """After migration 0026, days not yet final get their per-channel figures from the rows they still have;
    a final day is left as it is (its rows may be gone), and no day's own figures change."""
    now = timezone.now()
    three_channels(now)
    summaries_fill()
    counted = {s.day: (s.channels, s.hourly) for s in DailySummary.objects.all()}
    today = timezone.localdate(now)
    frozen = timezone.localdate(now - timedelta(days=5))
    DailySummary.objects.update(channels=None)
    DailySummary.objects.filter(day=frozen).update(final=True)
    summaries_fill()
    after = {s.day: (s.channels, s.hourly) for s in DailySummary.objects.all()}
    assert after.keys() == counted.keys() and after[frozen] == (None, counted[frozen][1])
    assert {d: v for d, v in after.items() if d != frozen} == {d: v for d, v in counted.items() if d != frozen}
    assert today in after and len(after) >= 4
    web = dashboard_stats.dashboard_series(buckets=week(now), channel="web")
    assert web.days_without_channels == 1 and web.totals["conversations"] == 4
