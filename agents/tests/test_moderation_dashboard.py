"""The dashboard's moderation card: hits of the period by category, customers' messages and bot replies apart."""

from __future__ import annotations

import pytest

from agents.tests.console import agent_create
from conversations.models import Message, ModerationHit
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(agent_create("mei"))
    return client


def _hit(message: Message, category: str, where: str) -> None:
    ModerationHit.objects.create(message=message, category=category, where=where, action="flag")


def test_the_card_counts_hits_by_category_and_leaves_evaluation_runs_out(agent_client) -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "刷单返利")
    _hit(question, "fraud", "inbound")
    _hit(customer_message_factory(conversation, "scam"), "fraud", "inbound")
    _hit(bot_message_factory(conversation, "…"), "fraud", "outbound")
    _hit(question, "ads", "inbound")
    _hit(customer_message_factory(conversation_factory(evaluation=True), "x"), "politics", "inbound")
    page = agent_client.get("/console/dashboard/").content.decode()
    card = page[page.index('id="hc-moderation-title"') :]
    card = card[: card.index("</section>")]
    assert '<th scope="row">fraud</th><td>2</td><td>1</td>' in card
    assert '<th scope="row">ads</th><td>1</td><td>0</td>' in card
    assert card.index("fraud") < card.index("ads") and "politics" not in card
    chinese = agent_client.get("/console/dashboard/?lang=zh-hans").content.decode()
    assert "内容审核命中" in chinese and '<th scope="row">诈骗</th>' in chinese


def test_no_card_without_hits(agent_client) -> None:
    assert "hc-moderation-title" not in agent_client.get("/console/dashboard/").content.decode()
