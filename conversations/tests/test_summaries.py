"""Daily summaries: they count what the dashboard counts, and its past days survive the rows being deleted."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conversations.models import Conversation, DailySummary, Feedback, LLMCall, Message
from conversations.services.summaries import summaries_fill, summaries_finalize
from conversations.stats import buckets as bucket_stats
from conversations.stats import dashboard as dashboard_stats
from conversations.stats import profiles as profile_stats
from conversations.stats.daily import day_bounds
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
from helpdesk.tests.factories import canary_profile, default_profile

pytestmark = pytest.mark.django_db


def at(row: Any, when: datetime) -> Any:
    type(row).objects.filter(pk=row.pk).update(created_at=when)
    row.created_at = when
    return row


def traffic(when: datetime, *, text: str, ttft: float, handed: bool = False, csat: int | None = None) -> Conversation:
    """A conversation at `when`: a customer message, a model reply (with its latencies and a thumbs up) and a
    cached one; handed to a person and resolved an hour later, rated, when asked."""
    conversation = at(conversation_factory(handoff_at=when if handed else None), when)
    at(customer_message_factory(conversation, text), when)
    reply = at(
        bot_message_factory(conversation, answer_source=Message.AnswerSource.LLM, ttft_ms=ttft, total_ms=ttft * 10),
        when + timedelta(seconds=5),
    )
    at(bot_message_factory(conversation, answer_source=Message.AnswerSource.CACHE), when + timedelta(seconds=9))
    at(Feedback.objects.create(conversation=conversation, message=reply, rating=1), when + timedelta(seconds=20))
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=when + timedelta(seconds=9),
        resolved_at=when + timedelta(hours=1),
        csat_score=csat,
    )
    return conversation


def week(now: datetime) -> bucket_stats.Buckets:
    return bucket_stats.buckets_ending_now(
        now=now, size=timedelta(hours=6), count=28, tz=timezone.get_default_timezone()
    )


def figures(series: dashboard_stats.DashboardSeries) -> dict[str, Any]:
    return {k: v for k, v in asdict(series).items() if k != "buckets"}


def _past_traffic(now: datetime) -> list[Conversation]:
    return [
        traffic(now - timedelta(days=3, hours=2), text="Where is my order?", ttft=120.0, handed=True, csat=5),
        traffic(now - timedelta(days=3, hours=1), text="我的订单在哪里？", ttft=480.0, csat=2),
        traffic(now - timedelta(days=2), text="退货要多久？", ttft=250.0),
        traffic(now - timedelta(days=5), text="Can I pay by invoice?", ttft=900.0, handed=True),
    ]


@pytest.fixture
def local_zone(settings):
    """Days are local: set the deployment's time zone (and the request's clock) to each zone in turn."""

    def use(zone: str) -> None:
        settings.TIME_ZONE = zone
        timezone.activate(ZoneInfo(zone))

    yield use
    timezone.deactivate()


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def test_past_days_on_the_dashboard_survive_deleting_their_rows(local_zone, zone: str) -> None:
    local_zone(zone)
    now = timezone.now()
    past = _past_traffic(now)
    live = dashboard_stats.dashboard_series(buckets=week(now))
    assert live.conversations and sum(live.conversations) == 4

    assert summaries_fill() >= 3  # the days with traffic, from the oldest conversation's through today
    # Summarized days count exactly what the rows did, latencies included.
    assert figures(dashboard_stats.dashboard_series(buckets=week(now))) == figures(live)

    today_start, _ = day_bounds(timezone.localdate(now))
    gone = [c.pk for c in past if c.created_at < today_start]
    assert len(gone) == 4
    Conversation.objects.filter(pk__in=gone).delete()  # as retention or erasure would
    assert not Message.objects.filter(conversation_id__in=gone).exists()
    assert figures(dashboard_stats.dashboard_series(buckets=week(now))) == figures(live)

    # Today is read live: a conversation started now counts at once, without another fill.
    traffic(now, text="Hi, 你好", ttft=50.0)
    assert sum(dashboard_stats.dashboard_series(buckets=week(now)).conversations) == 5


def test_without_summaries_the_deleted_days_would_be_lost() -> None:
    """The counterpart of the test above: the figures come from the summaries, not from rows left behind."""
    now = timezone.now()
    past = _past_traffic(now)
    Conversation.objects.filter(pk__in=[c.pk for c in past]).delete()
    assert sum(dashboard_stats.dashboard_series(buckets=week(now)).conversations) == 0


def test_a_summary_holds_the_days_totals() -> None:
    now = timezone.now()
    _past_traffic(now)
    summaries_fill()
    day = timezone.localdate(now - timedelta(days=3, hours=2))
    summary = DailySummary.objects.get(day=day)
    # Each row counts on its own day: the second conversation, or a reply seconds after one, may fall on the next
    # day when the test runs just after midnight (local).
    starts = [now - timedelta(days=3, hours=2), now - timedelta(days=3, hours=1)]

    def on_the_day(seconds_after: int) -> int:
        return sum(timezone.localdate(start + timedelta(seconds=seconds_after)) == day for start in starts)

    assert summary.conversations == on_the_day(0) and summary.customer_messages == on_the_day(0)
    assert summary.bot_replies == on_the_day(5) + on_the_day(9)
    assert summary.feedback_up == on_the_day(20) and summary.feedback_down == 0
    assert summary.answers_by_source == {"llm": on_the_day(5), "cache": on_the_day(9)}
    assert summary.handoffs_by_reason == {"agent_took_over": 1}  # handed, no reason recorded
    assert summary.ttft_p50 is not None and not summary.final
    assert len(summary.hourly["conversations"]) == summary.hours == 24


def test_filling_again_recounts_today_and_yesterday_but_never_a_final_day() -> None:
    now = timezone.now()
    _past_traffic(now)
    traffic(now, text="今天的订单", ttft=75.0)
    summaries_fill()
    filled = dict(DailySummary.objects.values_list("day", "filled_at"))
    today = timezone.localdate(now)
    yesterday = today - timedelta(days=1)
    # Today and yesterday are counted again (late resolutions and ratings still change them); yesterday has a row
    # only when something happened on it, e.g. two days ago's conversation resolved after midnight when the test
    # runs late in the day. The days before are never counted again.
    recent = {today, yesterday} & filled.keys()
    assert today in recent
    assert summaries_fill() == len(recent)
    refilled = dict(DailySummary.objects.values_list("day", "filled_at"))
    assert refilled.keys() == filled.keys() and all(refilled[day] > filled[day] for day in recent)
    assert {d: t for d, t in refilled.items() if d < yesterday} == {d: t for d, t in filled.items() if d < yesterday}

    three_days_ago = timezone.localdate(now - timedelta(days=3, hours=2))
    summaries_finalize(through=three_days_ago)
    assert DailySummary.objects.filter(day__lte=three_days_ago, final=False).count() == 0
    assert not DailySummary.objects.filter(day=timezone.localdate(now), final=True).exists()
    before = DailySummary.objects.get(day=three_days_ago).conversations
    Conversation.objects.filter(created_at__lt=day_bounds(three_days_ago)[1]).delete()
    summaries_finalize(through=three_days_ago)
    summaries_fill()
    assert DailySummary.objects.get(day=three_days_ago).conversations == before > 0


def test_the_beat_fills_the_summaries_periodically(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["summaries-fill"]
    assert entry["task"] == "conversations.summaries_fill" and float(entry["schedule"]) <= 3600
    assert settings.CELERY_BEAT_SCHEDULE["retention-enforce"]["task"] == "conversations.retention_enforce"
    # Minutes on a long history: never on the queue of the reply sweeper.
    for task in ("conversations.summaries_fill", "conversations.retention_enforce"):
        assert settings.CELERY_TASK_ROUTES[task] == {"queue": "knowledge"}


def _profile_traffic(now: datetime) -> None:
    """Two profiles' conversations on three past days: ratings, model replies with tokens, votes, a failure."""
    default, canary = default_profile(), canary_profile("r1-14b", share=10.0, model="deepseek-r1:14b")
    for days, profile, ttft, csat in ((4, default, 100.0, 5), (3, default, 300.0, 2), (2, canary, 700.0, None)):
        when = now - timedelta(days=days)
        conversation = at(conversation_factory(profile=profile, csat_score=csat), when)
        at(customer_message_factory(conversation, "能开发票吗？" if days % 2 else "Can I get an invoice?"), when)
        reply = at(
            bot_message_factory(
                conversation,
                answer_source=Message.AnswerSource.LLM,
                profile=profile,
                ttft_ms=ttft,
                total_ms=ttft * 10,
                reply_tokens=int(ttft // 10),
            ),
            when,
        )
        Feedback.objects.create(conversation=conversation, message=reply, rating=1 if csat != 2 else -1)
        call = LLMCall.objects.create(
            conversation=conversation,
            profile=profile,
            model_name=profile.model,
            outcome=LLMCall.Outcome.FAILED,
            error_kind="unavailable",
        )
        at(call, when)


def test_profiles_compared_over_past_days_survive_deleting_their_rows(local_zone) -> None:
    local_zone("Asia/Shanghai")
    now = timezone.now()
    _profile_traffic(now)
    today_start = day_bounds(timezone.localdate(now))[0]
    periods = [
        (today_start - timedelta(days=6), today_start),
        (now - timedelta(days=30), now),
        (now - timedelta(days=3, minutes=1), now),
    ]  # whole days; a month; a part day (holding the default profile's day-3 conversation) first
    live = [profile_stats.profiles_compare(start=start, end=end) for start, end in periods]
    assert [c.conversations for c in live[0]] == [2, 1] and live[0][0].csat_mean == 3.5

    summaries_fill()
    assert [profile_stats.profiles_compare(start=start, end=end) for start, end in periods] == live
    Conversation.objects.all().delete()
    LLMCall.objects.all().delete()
    assert [profile_stats.profiles_compare(start=start, end=end) for start, end in periods[:2]] == live[:2]
    # The part day at the start of the last period was read from rows, which are gone: only whole days survive.
    part_day = timezone.localdate(periods[2][0]) == timezone.localdate(now - timedelta(days=3))
    columns = {c.name: c.conversations for c in profile_stats.profiles_compare(start=periods[2][0], end=now)}
    assert columns == {"default": 0 if part_day else 1, "r1-14b": 1}
