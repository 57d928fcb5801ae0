"""SLA due times count business hours only (conversations.selectors.sla), and breaches are counted on /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from conversations.models import Conversation, Team
from conversations.selectors.sla import business_time_add, sla_breached, sla_due_times
from conversations.services import handoff

from .factories import conversation_factory, customer_message_factory

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = {"SUPPORT_HOURS": "Mon-Fri 09:00-18:00", "SUPPORT_TIME_ZONE": "Asia/Shanghai"}


def at(text: str) -> datetime:
    """A Shanghai wall-clock time, e.g. "2026-12-02 17:50" (a Wednesday)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    ("2026-12-02 10:00", 30, "2026-12-02 10:30"),  # inside the day
    ("2026-12-02 17:50", 30, "2026-12-03 09:20"),  # just before closing: the clock pauses overnight
    ("2026-12-02 20:00", 30, "2026-12-03 09:30"),  # after closing: starts at the next opening
    ("2026-12-02 07:00", 60, "2026-12-02 10:00"),  # before opening
    ("2026-12-04 17:00", 120, "2026-12-07 10:00"),  # Friday afternoon: over the weekend to Monday
    ("2026-12-05 12:00", 15, "2026-12-07 09:15"),  # on a Saturday
    ("2026-12-02 10:00", 9 * 60 + 30, "2026-12-03 10:30"),  # longer than a working day
])
def test_business_time_skips_closed_hours(settings, start: str, minutes: int, due: str) -> None:
    settings.SUPPORT_HOURS, settings.SUPPORT_TIME_ZONE = HOURS["SUPPORT_HOURS"], HOURS["SUPPORT_TIME_ZONE"]
    assert business_time_add(at(start).astimezone(UTC), minutes) == at(due)


def test_without_support_hours_the_clock_always_runs(settings) -> None:
    settings.SUPPORT_HOURS = ""
    assert business_time_add(at("2026-12-05 23:50"), 30) == at("2026-12-06 00:20")


def test_hours_that_close_before_they_open_never_stop_the_clock(settings) -> None:
    settings.SUPPORT_HOURS, settings.SUPPORT_TIME_ZONE = "Mon-Fri 18:00-09:00", "Asia/Shanghai"
    assert business_time_add(at("2026-12-02 12:00"), 30) == at("2026-12-02 12:30")


def test_due_times_come_from_the_teams_targets_for_the_priority(settings) -> None:
    settings.SUPPORT_HOURS = ""
    team = Team(name="billing", sla={"high": {"first_response": 10, "resolution": 60}, "normal": {"resolution": 240}})
    since = at("2026-12-02 10:00")
    assert sla_due_times(team=team, priority="high", since=since) == {
        "first_response": at("2026-12-02 10:10"), "resolution": at("2026-12-02 11:00")}
    assert sla_due_times(team=team, priority="normal", since=since) == {
        "first_response": None, "resolution": at("2026-12-02 14:00")}
    assert sla_due_times(team=None, priority="high", since=since) == {"first_response": None, "resolution": None}


def test_a_target_is_breached_when_done_late_or_overdue_and_not_done() -> None:
    due, now = at("2026-12-02 10:00"), at("2026-12-02 11:00")
    assert sla_breached(due=due, done=None, now=now)
    assert sla_breached(due=due, done=at("2026-12-02 10:01"), now=now)
    assert not sla_breached(due=due, done=at("2026-12-02 09:59"), now=now)
    assert not sla_breached(due=None, done=None, now=now)
    assert not sla_breached(due=due, done=None, now=at("2026-12-02 09:00"))


def _zone_where_it_is_about_noon() -> str:
    """A fixed-offset time zone where it is now between 11:00 and 13:00, so a closing time ten minutes from now
    is on the same day whenever the test runs."""
    offset = (12 - timezone.now().astimezone(UTC).hour + 12) % 24 - 12  # -12..11 hours ahead of UTC
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.mark.django_db(transaction=True)
def test_a_handoff_just_before_closing_is_due_after_the_next_opening(settings) -> None:
    zone = ZoneInfo(_zone_where_it_is_about_noon())
    closing = timezone.now().astimezone(zone) + timedelta(minutes=10)
    settings.SUPPORT_TIME_ZONE = str(zone)
    settings.SUPPORT_HOURS = f"Mon-Sun 08:00-{closing:%H:%M}"
    Team.objects.create(name="billing", is_default=True, sla={"normal": {"first_response": 30, "resolution": 120}})
    conversation = conversation_factory()
    customer_message_factory(conversation, "转人工")
    handoff.conversation_request_human(conversation=conversation)
    conversation.refresh_from_db()
    handed_off = conversation.handoff_at.astimezone(zone)
    left_today = closing.replace(second=0, microsecond=0) - handed_off
    next_opening = datetime.combine(handed_off.date() + timedelta(days=1), datetime.min.time(), zone) \
        + timedelta(hours=8)
    assert conversation.first_response_due_at == next_opening + timedelta(minutes=30) - left_today
    assert conversation.resolution_due_at == next_opening + timedelta(minutes=120) - left_today


@pytest.mark.django_db(transaction=True)
def test_the_first_agent_reply_stops_the_first_response_clock() -> None:
    from django.contrib.auth import get_user_model

    from conversations.services import messages

    ann = get_user_model().objects.create_user("ann", password="pw")
    conversation = conversation_factory()
    customer_message_factory(conversation, "转人工")
    handoff.conversation_request_human(conversation=conversation)
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=ann)
    first = messages.message_post_agent(conversation_id=conversation.pk, agent=ann, text="Hello, I'm Ann")
    messages.message_post_agent(conversation_id=conversation.pk, agent=ann, text="Let me look")
    conversation.refresh_from_db()
    assert conversation.first_response_at == first.created_at
    handoff.conversation_bot_resume(conversation_id=conversation.pk, agent=ann)
    customer_message_factory(conversation, "again, a person please")
    handoff.conversation_request_human(conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.first_response_at is None  # a new handoff, a new clock
    assert Conversation.objects.filter(pk=conversation.pk, handoff_at__lte=timezone.now()).exists()


def _scrape(client, settings) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    text = client.get("/metrics").content.decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


@pytest.mark.django_db
def test_breaches_of_open_conversations_are_counted_on_metrics(client, settings) -> None:
    billing, complaints = Team.objects.create(name="billing"), Team.objects.create(name="投诉")
    now = timezone.now()
    late, soon = now - timedelta(minutes=5), now + timedelta(minutes=5)
    status = Conversation.Status
    conversation_factory(status=status.WAITING_HUMAN, team=billing, first_response_due_at=late)  # overdue
    conversation_factory(status=status.HUMAN, team=billing, first_response_due_at=late - timedelta(minutes=5),
                         first_response_at=late)  # answered, but late
    conversation_factory(status=status.HUMAN, team=billing, first_response_due_at=late,
                         first_response_at=late - timedelta(minutes=1), resolution_due_at=late)  # in time, unresolved
    conversation_factory(status=status.WAITING_HUMAN, team=complaints, first_response_due_at=soon)  # not yet due
    conversation_factory(status=status.RESOLVED, team=complaints, first_response_due_at=late)  # closed: not counted
    conversation_factory(status=status.WAITING_HUMAN, team=complaints, first_response_due_at=late, evaluation=True)
    samples = _scrape(client, settings)["helpdesk_sla_breached_conversations"].samples
    counts = {(s.labels["team"], s.labels["target"]): s.value for s in samples}
    assert counts == {("billing", "first_response"): 2, ("billing", "resolution"): 1,
                      ("投诉", "first_response"): 0, ("投诉", "resolution"): 0}
