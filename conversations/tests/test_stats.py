"""The reports' statistics, on factory-made rows whose expected figures are worked out by hand below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from conversations.models import Conversation, Feedback, LLMCall, Message
from conversations.stats import buckets as bucket_stats
from conversations.stats import dashboard as dashboard_stats
from conversations.stats import measures as measure_stats
from conversations.stats import profiles as profile_stats
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
from helpdesk.tests.factories import canary_profile, default_profile

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(row: Conversation | Message | LLMCall, when: datetime) -> Any:
    """Move a row's creation time (auto_now_add ignores a value given to create)."""
    type(row).objects.filter(pk=row.pk).update(created_at=when)
    row.created_at = when
    return row


def started(when: datetime, **fields: Any) -> Conversation:
    return at(conversation_factory(**fields), when)


def llm_reply(conversation: Conversation, when: datetime, **fields: Any) -> Message:
    fields.setdefault("profile", conversation.profile)
    fields.setdefault("status", Message.Status.COMPLETE)
    return at(bot_message_factory(conversation, answer_source=Message.AnswerSource.LLM, **fields), when)


# --- shared pieces --------------------------------------------------------------------------------


def test_percentiles_interpolate_between_the_values() -> None:
    # p50 of 100..400: halfway between 200 and 300; p95: index 0.95 * 3 = 2.85, so 300 + 0.85 * 100.
    assert measure_stats.percentiles([400, 100, 300, 200]) == pytest.approx((250.0, 385.0))


def test_percentiles_of_one_value_are_that_value_and_of_none_are_none() -> None:
    assert measure_stats.percentiles([7]) == (7.0, 7.0)
    assert measure_stats.percentiles([]) == (None, None)


def test_rate_of_nothing_is_none_not_zero() -> None:
    assert measure_stats.rate(1, 4) == 0.25
    assert measure_stats.rate(0, 0) is None


def test_buckets_end_on_the_next_clock_boundary_after_now() -> None:
    now = datetime(2026, 1, 5, 10, 7, 30, tzinfo=UTC)
    buckets = bucket_stats.buckets_ending_now(now=now, size=timedelta(minutes=5), count=12, tz=UTC)
    assert buckets.end == datetime(2026, 1, 5, 10, 10, tzinfo=UTC)
    assert buckets.start == datetime(2026, 1, 5, 9, 10, tzinfo=UTC)
    assert buckets.index(now) == 11 and buckets.index(buckets.start) == 0 and buckets.index(buckets.end) is None


def test_six_hour_buckets_align_on_the_local_clock() -> None:
    # 03:00 UTC is 11:00 in Shanghai (UTC+8): the bucket holding it is 06:00-12:00 local, 22:00-04:00 UTC.
    now = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    buckets = bucket_stats.buckets_ending_now(now=now, size=timedelta(hours=6), count=28, tz=ZoneInfo("Asia/Shanghai"))
    assert buckets.end == datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
    assert buckets.start == buckets.end - timedelta(hours=6 * 28)


# --- profiles side by side ------------------------------------------------------------------------


@pytest.fixture
def two_profiles() -> tuple[Any, Any]:
    return default_profile(), canary_profile("r1-14b", share=10.0, model="deepseek-r1:14b")


def test_profiles_compare_counts_a_handoff_rate_of_one_in_four(two_profiles) -> None:
    default, _ = two_profiles
    handed = started(T0 + HOUR, profile=default, handoff_at=T0 + 2 * HOUR, handoff_reason="low_confidence")
    for _ in range(3):
        started(T0 + HOUR, profile=default)
    started(T0 - HOUR, profile=default, handoff_at=T0)  # before the period: not counted
    column = profile_stats.profiles_compare(start=T0, end=T0 + 24 * HOUR)[0]
    assert column.name == default.name and handed.profile_id == column.profile_id
    assert (column.conversations, column.handed_off, column.handoff_rate) == (4, 1, 0.25)


def test_a_conversation_an_agent_wrote_in_counts_as_handed_off_even_when_handed_back(two_profiles) -> None:
    default, _ = two_profiles
    agent = get_user_model().objects.create_user("mei")
    conversation = started(T0 + HOUR, profile=default)  # taken over without a handoff, then handed back: agent None
    at(Message.objects.create(conversation=conversation, role=Message.Role.AGENT, content="Hi", author=agent),
       T0 + HOUR)
    started(T0 + HOUR, profile=default)
    column = profile_stats.profiles_compare(start=T0, end=T0 + 24 * HOUR)[0]
    assert (column.conversations, column.handed_off) == (2, 1)


def test_profiles_compare_latency_speed_feedback_csat_and_errors(two_profiles) -> None:
    default, canary = two_profiles
    first = started(T0 + HOUR, profile=default, csat_score=5)
    started(T0 + HOUR, profile=default, csat_score=3)
    replies = [
        llm_reply(first, T0 + 2 * HOUR, ttft_ms=ttft, total_ms=ttft * 10, reply_tokens=ttft // 10)
        for ttft in (100, 200, 300, 400)
    ]
    failed = llm_reply(first, T0 + 2 * HOUR, status=Message.Status.FAILED, ttft_ms=None, total_ms=50.0)
    call = LLMCall.objects.create(conversation=first, message=failed, profile=default, model_name=default.model,
                                  outcome=LLMCall.Outcome.FAILED, error_kind="unavailable")
    at(call, T0 + 2 * HOUR)
    at(bot_message_factory(first, answer_source=Message.AnswerSource.FAQ, total_ms=0.0, profile=default),
       T0 + 2 * HOUR)
    for message, rating in zip(replies, (1, 1, -1), strict=False):
        Feedback.objects.create(conversation=first, message=message, rating=rating)
    other = started(T0 + HOUR, profile=canary)
    llm_reply(other, T0 + 3 * HOUR, ttft_ms=500.0, total_ms=2000.0, reply_tokens=50)

    columns = {c.name: c for c in profile_stats.profiles_compare(start=T0, end=T0 + 24 * HOUR)}
    column = columns[default.name]
    # ttft 100..400 -> p50 250, p95 385; total 1000..4000 -> p50 2500, p95 3850.
    latency = (column.ttft_p50, column.ttft_p95, column.total_p50, column.total_p95)
    assert latency == pytest.approx((250, 385, 2500, 3850))
    assert column.latency_samples == 4
    # 10 + 20 + 30 + 40 = 100 tokens over 1 + 2 + 3 + 4 = 10 s; the failed and FAQ replies are left out.
    assert column.tokens_per_second == pytest.approx(10.0)
    assert (column.bot_replies, column.llm_replies, column.failed_replies) == (6, 5, 1)
    assert column.errors_by_kind == {"unavailable": 1}
    assert (column.thumbs_up, column.thumbs_down) == (2, 1)
    assert column.thumbs_up_share == pytest.approx(2 / 3)
    assert (column.csat_mean, column.csat_count) == (4.0, 2)
    canary_column = columns["r1-14b"]
    assert (canary_column.ttft_p50, canary_column.ttft_p95, canary_column.tokens_per_second) == (500, 500, 25.0)
    assert canary_column.canary_share == 10.0 and canary_column.model == "deepseek-r1:14b"


def test_profile_percentiles_read_at_most_the_cap_of_latest_replies(two_profiles, monkeypatch) -> None:
    default, _ = two_profiles
    conversation = started(T0 + HOUR, profile=default)
    for ttft in (100, 200, 300, 400):
        llm_reply(conversation, T0 + HOUR, ttft_ms=ttft, total_ms=1000.0)
    monkeypatch.setattr(profile_stats, "PROFILE_SAMPLE_CAP", 2)
    column = profile_stats.profiles_compare(start=T0, end=T0 + 24 * HOUR)[0]
    assert column.latency_samples == 2 and column.ttft_p50 == 350.0  # the latest two: 300 and 400


def test_an_empty_period_lists_the_live_profiles_without_data(two_profiles) -> None:
    default, canary = two_profiles
    canary_profile("rolled-back", share=0.0)
    columns = profile_stats.profiles_compare(start=T0, end=T0 + 24 * HOUR)
    assert [c.name for c in columns] == [default.name, canary.name]
    assert not any(c.has_data for c in columns)
    assert columns[0].handoff_rate is None and columns[0].ttft_p50 is None and columns[0].thumbs_up_share is None


def test_a_rolled_back_canary_with_data_in_the_period_keeps_its_column(two_profiles) -> None:
    _, canary = two_profiles
    old = canary_profile("rolled-back", share=0.0)
    started(T0 + HOUR, profile=old)
    names = [c.name for c in profile_stats.profiles_compare(start=T0, end=T0 + 24 * HOUR)]
    assert names[-1] == "rolled-back" and canary.name in names


# --- the dashboard --------------------------------------------------------------------------------


def test_dashboard_series_per_bucket() -> None:
    buckets = bucket_stats.Buckets(start=T0, size=HOUR, count=3)
    agent = get_user_model().objects.create_user("mei")
    # Bucket 0: two conversations; one handed off, one the bot handled alone.
    handed = started(T0 + timedelta(minutes=5), handoff_at=T0 + timedelta(minutes=6))
    alone = started(T0 + timedelta(minutes=10))
    at(customer_message_factory(alone), T0 + timedelta(minutes=10))
    at(customer_message_factory(handed), T0 + timedelta(minutes=5))
    llm_reply(alone, T0 + timedelta(minutes=11), ttft_ms=100.0, total_ms=1000.0)
    llm_reply(alone, T0 + timedelta(minutes=12), ttft_ms=300.0, total_ms=3000.0)
    at(bot_message_factory(alone, answer_source=Message.AnswerSource.CACHE), T0 + timedelta(minutes=13))
    at(bot_message_factory(handed, answer_source=Message.AnswerSource.FAQ), T0 + timedelta(minutes=14))
    # Bucket 1: one conversation without a bot reply (not "bot alone"); the handed-off one resolved by the bot
    # side (no agent ever), rated 4.
    started(T0 + HOUR + timedelta(minutes=1))
    Conversation.objects.filter(pk=handed.pk).update(resolved_at=T0 + HOUR + timedelta(minutes=30), csat_score=4)
    # Bucket 2: a conversation from before the window, with an agent, resolved and rated 2.
    earlier = started(T0 - HOUR, agent=agent)
    Conversation.objects.filter(pk=earlier.pk).update(resolved_at=T0 + 2 * HOUR + timedelta(minutes=1), csat_score=2)

    series = dashboard_stats.dashboard_series(buckets=buckets)
    assert series.conversations == [2, 1, 0]
    assert series.customer_messages == [2, 0, 0]
    assert series.handed_off == [1, 0, 0] and series.handoff_rate == [0.5, 0.0, None]
    assert series.bot_alone == [1, 0, 0]
    assert series.resolved_by_bot == [0, 1, 0] and series.resolved_with_human == [0, 0, 1]
    # ttft 100 and 300: p50 200, p95 100 + 0.95 * 200 = 290.
    assert series.ttft_p50 == [200.0, None, None]
    assert series.ttft_p95[0] == pytest.approx(290.0) and series.ttft_p95[1:] == [None, None]
    assert series.total_p50 == [2000.0, None, None]
    assert series.bot_replies == [4, 0, 0]
    assert series.cache_rate == [0.25, None, None] and series.faq_rate == [0.25, None, None]
    assert series.csat_mean == [None, 4.0, 2.0] and series.csat_count == [0, 1, 1]
    assert series.totals["csat_mean"] == 3.0 and series.totals["handoff_rate"] == pytest.approx(1 / 3)
    assert series.has_data


def test_dashboard_series_of_an_empty_window_has_no_data() -> None:
    series = dashboard_stats.dashboard_series(buckets=bucket_stats.Buckets(start=T0, size=HOUR, count=4))
    assert not series.has_data
    assert series.conversations == [0, 0, 0, 0] and series.ttft_p50 == [None] * 4
    assert series.handoff_rate == [None] * 4 and series.totals["csat_mean"] is None


def test_dashboard_latency_cap_gives_every_bucket_a_share(monkeypatch) -> None:
    conversation = started(T0)
    for minute in (1, 2, 3):
        llm_reply(conversation, T0 + timedelta(minutes=minute), ttft_ms=100.0 * minute, total_ms=1000.0)
    llm_reply(conversation, T0 + HOUR, ttft_ms=700.0, total_ms=1000.0)
    monkeypatch.setattr(dashboard_stats, "DASHBOARD_SAMPLE_CAP", 3)  # 4 replies > 3: one per bucket
    series = dashboard_stats.dashboard_series(buckets=bucket_stats.Buckets(start=T0, size=HOUR, count=3))
    assert series.latency_samples == 2
    assert series.ttft_p50 == [300.0, 700.0, None]  # bucket 0 keeps its latest reply


def test_dashboard_buckets_follow_the_local_clock_in_a_half_hour_time_zone() -> None:
    # Kolkata is UTC+05:30: its 6-hour buckets start at 00:30, 06:30, ... UTC.
    kolkata = ZoneInfo("Asia/Kolkata")
    buckets = bucket_stats.buckets_ending_now(now=datetime(2026, 1, 5, 3, 0, tzinfo=UTC), size=timedelta(hours=6),
                                              count=2, tz=kolkata)
    assert buckets.start == datetime(2026, 1, 4, 18, 30, tzinfo=UTC)
    started(datetime(2026, 1, 5, 0, 40, tzinfo=UTC))  # 06:10 in Kolkata: the second bucket
    started(datetime(2026, 1, 5, 0, 20, tzinfo=UTC))  # 05:50 in Kolkata: the first
    assert dashboard_stats.dashboard_series(buckets=buckets, tz=kolkata).conversations == [1, 1]
