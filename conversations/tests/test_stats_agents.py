"""The agents' report figures (conversations.stats.agents) on rows set at known times; the percentiles are
worked out by hand in the comments (linear interpolation: index q/100 * (n - 1) into the sorted values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from conversations.models import Conversation, Handoff, Message
from conversations.protocol.codes import HandoffReason
from conversations.services import handoff, messages
from conversations.services.handoff import handoff_first_response
from conversations.stats import agents as agent_stats
from conversations.tests.factories import (
    bot_message_factory,
    conversation_factory,
    customer_message_factory,
    handoff_factory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
S = timedelta(seconds=1)
H = timedelta(hours=1)


def at(row: Any, when: datetime) -> Any:
    type(row).objects.filter(pk=row.pk).update(created_at=when)
    return row


def reply(conversation: Conversation, author: Any, when: datetime, text: str = "Let me check.") -> Message:
    """An agent's reply at `when`, and its handoff's first response if it is the first (as the service records it)."""
    message = Message.objects.create(conversation=conversation, role=Message.Role.AGENT, content=text, author=author)
    handoff_first_response(conversation_id=conversation.pk, agent=author, at=when)
    return at(message, when)


def handed(when: datetime, **fields: Any) -> Conversation:
    conversation = conversation_factory(handoff_at=when, **fields)
    at(conversation, when - 10 * S)
    question = customer_message_factory(conversation, "我要找人工")
    handoff_factory(conversation, at=when, question=question, agent=fields.get("agent"))
    return conversation


@pytest.fixture
def team() -> dict[str, Any]:
    """mei: c1 (first reply 60 s after the handoff, resolved at 600 s, CSAT 5), c2 (180 s, 1800 s, CSAT 3),
    c4 (600 s, 3600 s, CSAT 4), and a reply in c3 after li's; li: c3 (first reply 300 s, not resolved) and c5
    (taken over without a handoff: no first-response or resolution time; resolved, CSAT 2). Left out: a
    conversation before the period and an evaluation conversation. The bot: b1 resolved alone (CSAT 5), b2
    resolved alone (no rating), b3 answered only; c1 also has a bot reply."""
    users = get_user_model().objects
    mei, li = users.create_user("mei"), users.create_user("li")
    c1 = handed(T0 + H, agent=mei, resolved_at=T0 + H + 600 * S, csat_score=5, status="resolved")
    at(bot_message_factory(c1), T0 + H - 5 * S)
    reply(c1, mei, T0 + H + 60 * S)
    reply(c1, mei, T0 + H + 120 * S)
    c2 = handed(T0 + 2 * H, agent=mei, resolved_at=T0 + 2 * H + 1800 * S, csat_score=3, status="resolved")
    reply(c2, mei, T0 + 2 * H + 180 * S)
    c3 = handed(T0 + 3 * H, agent=li, status="human")
    reply(c3, li, T0 + 3 * H + 300 * S)
    reply(c3, mei, T0 + 3 * H + 400 * S)
    c4 = handed(T0 + 4 * H, agent=mei, resolved_at=T0 + 4 * H + 3600 * S, csat_score=4, status="resolved")
    reply(c4, mei, T0 + 4 * H + 600 * S)
    c5 = conversation_factory(agent=li, resolved_at=T0 + 6 * H, csat_score=2, status="resolved")
    reply(c5, li, T0 + 5 * H)
    before = handed(T0 - 2 * 24 * H, agent=mei, resolved_at=T0 - 24 * H, csat_score=1, status="resolved")
    reply(before, mei, T0 - 2 * 24 * H + 30 * S)
    evaluation = handed(T0 + H, agent=mei, resolved_at=T0 + 2 * H, csat_score=1, status="resolved", evaluation=True)
    reply(evaluation, mei, T0 + H + 5 * S)
    for resolved_at, csat in ((T0 + 24 * H, 5), (T0 + 25 * H, None), (None, None)):
        bot = conversation_factory(resolved_at=resolved_at, csat_score=csat,
                                   status="resolved" if resolved_at else "bot")
        at(bot_message_factory(bot), T0 + 23 * H)
    return {"mei": mei, "li": li}


def test_each_agents_counts_times_and_ratings(team) -> None:
    report = agent_stats.agents_figures(start=T0, end=T0 + WEEK)
    mei, li = report.agents[team["mei"].pk], report.agents[team["li"].pk]
    assert (mei.handled, mei.resolved, li.handled, li.resolved) == (4, 3, 2, 1)
    # mei's first responses 60, 180, 600: p50 180; p95 at index 1.9: 180 + 0.9 * 420 = 558.
    assert (mei.first_response_p50, mei.first_response_p95, mei.first_responses) == pytest.approx((180, 558, 3))
    # mei's resolutions 600, 1800, 3600: p50 1800; p95 at index 1.9: 1800 + 0.9 * 1800 = 3420.
    assert (mei.resolution_p50, mei.resolution_p95) == pytest.approx((1800, 3420))
    assert (mei.csat_mean, mei.csat_count) == (4.0, 3)
    # li: c3's first reply is theirs (mei's reply after it is no first response); c5 had no handoff.
    assert (li.first_response_p50, li.first_response_p95, li.first_responses) == (300, 300, 1)
    assert (li.resolution_p50, li.resolutions_timed, li.csat_mean, li.csat_count) == (None, 0, 2.0, 1)


def test_all_agents_together_pool_the_values_rather_than_average_the_averages(team) -> None:
    together = agent_stats.agents_figures(start=T0, end=T0 + WEEK).together
    # First responses 60, 180, 300, 600: p50 (180 + 300) / 2 = 240; p95 at index 2.85: 300 + 0.85 * 300 = 555.
    assert (together.first_response_p50, together.first_response_p95) == pytest.approx((240, 555))
    assert (together.handled, together.resolved, together.csat_mean, together.csat_count) == (5, 4, 3.5, 4)


def test_a_set_of_agent_ids_such_as_a_team_keeps_only_them_and_lists_the_idle(team) -> None:
    idle = get_user_model().objects.create_user("wang")
    report = agent_stats.agents_figures(start=T0, end=T0 + WEEK, agent_ids={team["li"].pk, idle.pk})
    assert set(report.agents) == {team["li"].pk, idle.pk}
    assert report.agents[idle.pk] == agent_stats.AgentFigures.empty()
    assert (report.together.handled, report.together.first_response_p50, report.together.csat_mean) == (2, 300, 2.0)


def test_the_period_bounds_what_counts(team) -> None:
    # From T0 + 2 h: c1's replies, first response and resolution fall before it.
    mei = agent_stats.agents_figures(start=T0 + 2 * H, end=T0 + WEEK).agents[team["mei"].pk]
    assert (mei.handled, mei.resolved, mei.first_responses, mei.csat_mean) == (3, 2, 2, 3.5)
    assert agent_stats.agents_figures(start=T0 + WEEK, end=T0 + 2 * WEEK).agents == {}


def test_the_bots_line_counts_what_it_resolved_without_a_person(team) -> None:
    bot = agent_stats.agents_figures(start=T0, end=T0 + WEEK).bot
    # Resolved in the period: c1, c2, c4, c5 (people) and b1, b2 (the bot alone): deflection 2 / 6.
    assert (bot.answered, bot.resolved_alone, bot.resolved_all) == (4, 2, 6)
    assert bot.deflection == pytest.approx(1 / 3)
    assert (bot.csat_mean, bot.csat_count) == (5.0, 1)


def test_nothing_in_the_period_gives_no_data_rather_than_zeros() -> None:
    report = agent_stats.agents_figures(start=T0, end=T0 + WEEK)
    assert report.agents == {} and report.together.first_response_p50 is None
    assert report.bot.deflection is None and report.bot.csat_mean is None


def test_a_conversation_handed_off_twice_has_two_first_responses_and_counts_twice() -> None:
    """Handed off at T0 + 1 h (mei answers in 60 s, hands it back), again at T0 + 3 h (li answers in 120 s, and
    mei in the same handoff later), through the services, their times then set as the test's."""
    users = get_user_model().objects
    mei, li = users.create_user("mei"), users.create_user("li")
    conversation = conversation_factory()
    customer_message_factory(conversation, "Do you ship to Iceland?")
    handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.LOW_CONFIDENCE)
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=mei)
    first_reply = messages.message_post_agent(conversation_id=conversation.pk, agent=mei, text="Yes, in 5 days.")
    handoff.conversation_bot_resume(conversation_id=conversation.pk, agent=mei)
    customer_message_factory(conversation, "运费多少？")
    handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.NO_KNOWLEDGE)
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=li)
    second_reply = messages.message_post_agent(conversation_id=conversation.pk, agent=li, text="二十元。")
    handoff.conversation_agent_assign(conversation_id=conversation.pk, to_agent=mei)
    third_reply = messages.message_post_agent(conversation_id=conversation.pk, agent=mei, text="还有别的吗？")
    one, two = conversation.handoffs.order_by("at", "pk")
    Handoff.objects.filter(pk=one.pk).update(at=T0 + H, first_response_at=T0 + H + 60 * S)
    Handoff.objects.filter(pk=two.pk).update(at=T0 + 3 * H, first_response_at=T0 + 3 * H + 120 * S)
    at(first_reply, T0 + H + 60 * S)
    at(second_reply, T0 + 3 * H + 120 * S)
    at(third_reply, T0 + 3 * H + 600 * S)

    report = agent_stats.agents_figures(start=T0, end=T0 + WEEK)

    mine, lis = report.agents[mei.pk], report.agents[li.pk]
    assert (mine.first_response_p50, mine.first_responses, lis.first_response_p50, lis.first_responses) == (
        60, 1, 120, 1)
    assert (mine.handled, lis.handled, report.together.handled) == (2, 1, 2)  # mei wrote in both handoffs
    assert report.together.first_responses == 2
