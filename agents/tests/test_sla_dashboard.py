"""The dashboard's SLA card: open conversations past a target now, per team, in English and Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.tests.console import agent_create
from conversations.models import Conversation, Team
from conversations.tests.factories import conversation_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(agent_create("mei"))
    return client


def card(page: str) -> str:
    part = page[page.index('id="hc-sla-title"'):]
    return part[: part.index("</section>")]


def test_the_card_counts_each_teams_breaches(agent_client) -> None:
    billing, _ = Team.objects.create(name="billing"), Team.objects.create(name="售后")
    late = timezone.now() - timedelta(minutes=1)
    conversation_factory(status=Conversation.Status.WAITING_HUMAN, team=billing, first_response_due_at=late)
    conversation_factory(status=Conversation.Status.HUMAN, team=billing, resolution_due_at=late,
                         first_response_due_at=late, first_response_at=late - timedelta(minutes=1))
    english = card(agent_client.get("/console/dashboard/").content.decode())
    assert '<th scope="row">billing</th><td>1</td><td>1</td>' in english
    assert '<th scope="row">售后</th><td>0</td><td>0</td>' in english
    chinese = agent_client.get("/console/dashboard/?lang=zh-hans").content.decode()
    assert "当前 SLA 超时" in chinese and "首次响应超时" in card(chinese)


def test_no_card_without_teams(agent_client) -> None:
    assert "hc-sla-title" not in agent_client.get("/console/dashboard/").content.decode()
