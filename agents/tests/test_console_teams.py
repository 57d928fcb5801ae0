"""The console with teams: an agent connecting gets their team's queue, sees team, labels, priority and SLA clock on
each line, sets labels and priority from the keyboard's frames, and filters the inbox by them."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import AuditEvent
from agents.tests.console import agent_create, open_console
from conversations.models import Conversation, Label, Team, TeamMembership
from conversations.services import handoff
from conversations.tests.factories import conversation_factory, customer_message_factory
from helpdesk.runtime import aio

pytestmark = pytest.mark.django_db(transaction=True)
Status = Conversation.Status


def waiting_in(team: Team, *, priority: str = "normal", labels: tuple[str, ...] = ()) -> Conversation:
    conversation = conversation_factory(priority=priority)
    customer_message_factory(conversation, "转人工", intent=(team.intents or [""])[0])  # routed to `team`
    conversation = handoff.conversation_request_human(conversation=conversation)
    for name in labels:
        conversation.labels.add(Label.objects.get_or_create(name=name)[0])
    return conversation


def teams_setup() -> dict[str, Any]:
    ann, bob = agent_create("ann", first_name="Ann"), agent_create("bob", first_name="Bob")
    billing = Team.objects.create(name="billing", is_default=True, max_per_agent=2,
                                  sla={"normal": {"first_response": 30, "resolution": 240}})
    complaints = Team.objects.create(name="投诉", intents=["complaint"])
    TeamMembership.objects.create(team=billing, agent=ann)
    TeamMembership.objects.create(team=complaints, agent=bob)
    return {"ann": ann, "bob": bob, "billing": billing, "complaints": complaints}


async def test_an_agent_opening_the_console_is_given_their_teams_waiting_conversations() -> None:
    setup = await aio.db_call(teams_setup)
    waiting = await aio.db_call(waiting_in, setup["billing"])
    console, hello = await open_console(setup["ann"])
    try:
        assert {team["name"] for team in hello["teams"]} == {"billing", "投诉"}
        # Which are hers: the console alerts her to their handoffs, not to the complaints team's.
        assert {team["name"]: team["mine"] for team in hello["teams"]} == {"billing": True, "投诉": False}
        item = await console.until("inbox_item", timeout=10)
        while item["item"]["status"] != "human":
            item = await console.until("inbox_item", timeout=10)
        line = item["item"]
        assert line["id"] == waiting.pk and line["agent"]["name"] == "Ann"
        assert line["team"] == {"id": setup["billing"].pk, "name": "billing"} and line["priority"] == "normal"
        assert line["sla"]["first_response_due_at"] and line["sla"]["breached"] == []
    finally:
        await console.close()


async def test_an_agent_sets_labels_and_priority_and_it_is_audited() -> None:
    setup = await aio.db_call(teams_setup)
    conversation = await aio.db_call(waiting_in, setup["complaints"])
    console, _ = await open_console(setup["bob"])
    try:
        await console.send({"type": "set_labels", "conversation_id": conversation.pk, "labels": ["vip", "退款"]})
        line = (await console.until("inbox_item"))["item"]
        while line["labels"] != ["vip", "退款"]:
            line = (await console.until("inbox_item"))["item"]
        await console.send({"type": "set_priority", "conversation_id": conversation.pk, "priority": "urgent"})
        line = (await console.until("inbox_item"))["item"]
        while line["priority"] != "urgent":
            line = (await console.until("inbox_item"))["item"]
        await console.send({"type": "set_priority", "conversation_id": conversation.pk, "priority": "whenever"})
        error = await console.until("error")
        assert error["code"] == "bad_frame"
    finally:
        await console.close()
    actions = await aio.db_call(lambda: list(AuditEvent.objects.order_by("id").values_list("action", flat=True)))
    assert actions == ["labels", "priority"]


def test_a_priority_change_counts_the_sla_again_with_that_priorities_targets() -> None:
    from conversations.services.triage import conversation_priority_set

    setup = teams_setup()
    setup["billing"].sla = {"normal": {"first_response": 30}, "urgent": {"first_response": 5}}
    setup["billing"].save()
    conversation = waiting_in(setup["billing"])
    conversation.refresh_from_db()
    assert conversation.team == setup["billing"]
    normal_due = conversation.first_response_due_at
    conversation = conversation_priority_set(conversation_id=conversation.pk, priority="urgent")
    assert conversation.first_response_due_at < normal_due
    assert (conversation.first_response_due_at - conversation.handoff_at).total_seconds() == pytest.approx(300, abs=1)


async def test_the_inbox_filters_by_team_label_priority_and_mine() -> None:
    def make() -> dict[str, Any]:
        setup = teams_setup()
        setup["a"] = waiting_in(setup["billing"], priority="high", labels=("vip",))
        setup["b"] = waiting_in(setup["complaints"], labels=("bug",))
        setup["c"] = conversation_factory(status=Status.HUMAN, agent=setup["bob"], team=setup["complaints"])
        return setup

    setup = await aio.db_call(make)
    console, _ = await open_console(setup["bob"])

    async def ids(**filters: Any) -> set[int]:
        await console.send({"type": "inbox", **filters})
        page = await console.until("inbox")
        return {item["id"] for item in page["items"]}

    try:
        await console.until("inbox")
        assert await ids(team=setup["billing"].pk) == {setup["a"].pk}
        assert await ids(team=setup["complaints"].pk) == {setup["b"].pk, setup["c"].pk}
        assert await ids(label="vip") == {setup["a"].pk}
        assert await ids(priority="high") == {setup["a"].pk}
        # bob's console connecting gave him b from his team's queue; a stays in billing's (ann is offline)
        assert await ids(mine=True) == {setup["b"].pk, setup["c"].pk}
        assert await ids() == {setup["a"].pk, setup["b"].pk, setup["c"].pk}
    finally:
        await console.close()
