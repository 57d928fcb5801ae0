"""The agents' report page (/console/agents/): each agent's line, the team's, the bot's; agents only; English
and Chinese."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from agents import performance, services
from agents.tests.console import agent_create
from conversations.models import Conversation, Message, Team, TeamMembership
from conversations.services.handoff import handoff_first_response
from conversations.tests.factories import (
    bot_message_factory,
    conversation_factory,
    customer_message_factory,
    handoff_factory,
)

pytestmark = pytest.mark.django_db


def reply(conversation: Conversation, author: Any, when: Any) -> None:
    """An agent's reply at `when`, and its handoff's first response if it is the first (as the service records it)."""
    message = Message.objects.create(conversation=conversation, role=Message.Role.AGENT, content="ok", author=author)
    Message.objects.filter(pk=message.pk).update(created_at=when)
    handoff_first_response(conversation_id=conversation.pk, agent=author, at=when)


def handed(at: Any, **fields: Any) -> Conversation:
    """A conversation handed off at `at`, with its handoff's row."""
    conversation = conversation_factory(handoff_at=at, **fields)
    handoff_factory(conversation, at=at, agent=fields.get("agent"))
    return conversation


@pytest.fixture
def week() -> dict[str, Any]:
    """mei answers a handoff 45 s after it and resolves it at 30 min (CSAT 5), and one 20 days ago (only in the
    30-day report); li takes a handed-off conversation over and hands it back to the bot (a handback); the bot
    resolves one alone (CSAT 4)."""
    now = timezone.now()
    mei, li = agent_create("mei", first_name="Mei"), agent_create("li", first_name="Li")
    handoff = now - timedelta(hours=3)
    c1 = handed(handoff, agent=mei, status="resolved", resolved_at=handoff + timedelta(minutes=30), csat_score=5)
    customer_message_factory(c1, "我要退款")
    reply(c1, mei, handoff + timedelta(seconds=45))
    old = now - timedelta(days=20)
    c0 = handed(old, agent=mei, status="resolved", resolved_at=old + timedelta(hours=2))
    reply(c0, mei, old + timedelta(seconds=30))
    c2 = handed(now - timedelta(hours=1), status="waiting_human")
    services.conversation_take_over(agent=li, conversation_id=c2.pk)
    services.conversation_hand_back(agent=li, conversation_id=c2.pk)
    bot = conversation_factory(status="resolved", resolved_at=now - timedelta(hours=2), csat_score=4)
    bot_message_factory(bot)
    return {"mei": mei, "li": li}


def cells(html: str, row_name: str) -> list[str]:
    """The text of the row headed `row_name`: its cells, tags removed."""
    row = re.search(r"<tr class=\"hc-row-\w+\">\s*<th scope=\"row\">" + re.escape(row_name) + r"</th>(.*?)</tr>",
                    html, re.S)
    assert row, f"no row {row_name!r}"
    return [re.sub(r"<[^>]+>", " ", cell).split() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1),
                                                                         re.S)]


def test_each_agent_has_a_line_and_the_bot_its_own(client, week) -> None:
    client.force_login(week["mei"])
    html = client.get("/console/agents/?lang=en").content.decode()
    handled, resolved, first, resolution, csat, handbacks = cells(html, "Mei")
    assert (handled, resolved, csat, handbacks) == (["1"], ["1"], ["5.0", "1", "rating"], ["0"])
    assert first == ["45", "s", "·", "45", "s", "of", "1", "handoff"]
    assert resolution[:6] == ["30.0", "min", "·", "30.0", "min", "of"]
    assert cells(html, "Li")[5] == ["1"] and cells(html, "Li")[0] == ["0"]
    assert cells(html, "All agents")[5] == ["1"]
    assert re.search(r'hc-bot-deflection">50 %<', html)  # the bot resolved 1 of the 2 resolved
    assert re.search(r'hc-bot-csat">4.0 <small>1 rating', html)


def test_a_longer_period_reaches_further_back(client, week) -> None:
    client.force_login(week["mei"])
    html = client.get("/console/agents/?period=30d&lang=en").content.decode()
    assert cells(html, "Mei")[:2] == [["2"], ["2"]]
    assert 'aria-current="page">Last 30 days' in html


def test_the_report_reads_in_chinese(client, week) -> None:
    client.force_login(week["li"])
    html = client.get("/console/agents/?lang=zh-hans").content.decode()
    assert "客服报表" in html and "首次响应（p50 · p95）" in html and "分流率" in html
    assert cells(html, "Mei")[2] == ["45", "秒", "·", "45", "秒", "基于", "1", "次转人工"]
    assert cells(html, "全部客服")[5] == ["1"]


def test_a_team_is_the_same_table_over_its_agents(week) -> None:
    now = timezone.now()
    table = performance.performance_table(start=now - timedelta(days=7), end=now, lang="en",
                                          agent_ids={week["li"].pk})
    assert [row["name"] for row in table["rows"]] == ["Li"] and table["together"]["handbacks"] == "1"
    assert table["together"]["handled"] == "0"


@pytest.mark.parametrize("url", ["/console/agents/", "/console/agents/?period=90d"])
def test_only_console_staff_see_the_report(client, url) -> None:
    assert client.get(url).status_code == 302
    client.force_login(agent_create("clerk", staff=True, in_group=False))
    assert client.get(url).status_code == 403
    client.force_login(get_user_model().objects.create_user("shopper"))
    assert client.get(url).status_code == 403


def test_durations_read_in_the_unit_that_fits() -> None:
    assert [performance.duration(s) for s in (45, 210, 2 * 3600 + 360, 3 * 86400)] == [
        "45 s", "3.5 min", "2.1 h", "3.0 d"]


@pytest.fixture
def team_of_two(week) -> dict[str, Any]:
    """售后 is mei and li; zoe, a third agent, answers a handoff in 2 min and resolves it (CSAT 3), outside it."""
    now = timezone.now()
    zoe = agent_create("zoe", first_name="Zoe")
    handoff = now - timedelta(hours=2)
    c = handed(handoff, agent=zoe, status="resolved",
                             resolved_at=handoff + timedelta(hours=1), csat_score=3)
    reply(c, zoe, handoff + timedelta(minutes=2))
    team = Team.objects.create(name="售后")
    for agent in (week["mei"], week["li"]):
        TeamMembership.objects.create(team=team, agent=agent)
    Team.objects.create(name="billing")
    return {**week, "zoe": zoe, "team": team}


def row_names(html: str) -> list[str]:
    return re.findall(r"<tr class=\"hc-row-agent\">\s*<th scope=\"row\">(.*?)</th>", html)


def test_a_teams_report_has_only_its_members_and_pools_them(client, team_of_two) -> None:
    client.force_login(team_of_two["zoe"])
    everyone = client.get("/console/agents/?lang=en").content.decode()
    assert row_names(everyone) == ["Li", "Mei", "Zoe"] and cells(everyone, "All agents")[0] == ["2"]
    team = team_of_two["team"].pk
    html = client.get(f"/console/agents/?team={team}&period=30d&lang=en").content.decode()
    assert row_names(html) == ["Li", "Mei"]
    handled, resolved, _, _, csat, handbacks = cells(html, "All of 售后")
    assert (handled, resolved, handbacks) == (["2"], ["2"], ["1"])  # mei's two (30 days), li's handback
    assert csat[:3] == ["5.0", "1", "rating"]  # zoe's 3 is not the team's
    assert 'class="hc-team-shown">售后<' in html
    assert re.search(rf'<option value="{team}" selected>售后</option>', html)
    # the period tabs keep the team; the language links keep team and period
    assert f'href="?team={team}&amp;period=7d&amp;lang=en"' in html
    assert f"team={team}&amp;period=30d&amp;lang=zh-hans" in html
    # the form keeps the period and the language
    assert '<input type="hidden" name="period" value="30d">' in html
    assert '<input type="hidden" name="lang" value="en">' in html


def test_a_teams_report_reads_in_chinese(client, team_of_two) -> None:
    client.force_login(team_of_two["mei"])
    html = client.get(f"/console/agents/?team={team_of_two['team'].pk}&lang=zh-hans").content.decode()
    assert row_names(html) == ["Li", "Mei"]
    assert cells(html, "售后 全体")[0] == ["1"] and cells(html, "售后 全体")[5] == ["1"]
    assert '<label for="hc-team">团队</label>' in html and '<option value="">全部客服</option>' in html


@pytest.mark.parametrize("team", ["999999", "abc", "²", "99999999999999999999"])
def test_an_unknown_team_is_a_clear_empty_page(client, team_of_two, team) -> None:
    client.force_login(team_of_two["mei"])
    answer = client.get(f"/console/agents/?team={team}&lang=en")
    html = answer.content.decode()
    assert answer.status_code == 404
    assert "No team has this number" in html and row_names(html) == []
    assert cells(html, "All agents")[0] == ["0"]
    chinese = client.get(f"/console/agents/?team={team}&lang=zh-hans").content.decode()
    assert "没有这个编号的团队" in chinese
