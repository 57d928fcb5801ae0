"""Saved inbox views: an agent saves the console's filters under a name, applies one (its filters sent as an
`inbox` frame), deletes one; each agent's own, at most MAX_VIEWS_PER_AGENT, with filters checked."""

from __future__ import annotations

from typing import Any

import pytest

from agents import saved_views
from agents.models import SavedView
from agents.tests.console import agent_create, open_console
from agents.tests.test_console_teams import teams_setup, waiting_in
from conversations.protocol.codes import FrameError
from helpdesk.runtime import aio

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_agent_saves_applies_and_deletes_a_view() -> None:
    def make() -> dict[str, Any]:
        setup = teams_setup()
        setup["a"] = waiting_in(setup["billing"], priority="high", labels=("vip",))
        setup["b"] = waiting_in(setup["complaints"], labels=("退款",))
        return setup

    setup = await aio.db_call(make)
    console, hello = await open_console(setup["bob"])
    try:
        assert hello["views"] == []
        await console.until("inbox")
        filters = {"team": setup["complaints"].pk, "label": "退款", "status": "", "mine": False}
        await console.send({"type": "view_save", "name": " 投诉退款 ", "filters": filters})
        answer = await console.until("views")
        assert [(v["name"], v["filters"]) for v in answer["views"]] == [
            ("投诉退款", {"team": setup["complaints"].pk, "label": "退款"})]
        assert answer["saved"] == answer["views"][0]["id"]
        await console.send({"type": "view_save", "name": "VIP high", "filters": {"priority": "high", "label": "vip"}})
        views = {v["name"]: v for v in (await console.until("views"))["views"]}
        assert list(views) == ["VIP high", "投诉退款"]

        # applying a view: its filters, as listed, are an inbox frame's, and the inbox comes back filtered
        await console.send({"type": "inbox", **views["投诉退款"]["filters"]})
        assert [item["id"] for item in (await console.until("inbox"))["items"]] == [setup["b"].pk]
        await console.send({"type": "inbox", **views["VIP high"]["filters"]})
        assert [item["id"] for item in (await console.until("inbox"))["items"]] == [setup["a"].pk]

        # the same name replaces that view
        await console.send({"type": "view_save", "name": "VIP high", "filters": {"priority": "urgent"}})
        replaced = {v["name"]: v for v in (await console.until("views"))["views"]}
        assert len(replaced) == 2 and replaced["VIP high"]["filters"] == {"priority": "urgent"}

        await console.send({"type": "view_delete", "view_id": views["投诉退款"]["id"]})
        assert [v["name"] for v in (await console.until("views"))["views"]] == ["VIP high"]
    finally:
        await console.close()
    again, hello = await open_console(setup["bob"])
    await again.close()
    assert [(v["name"], v["filters"]) for v in hello["views"]] == [("VIP high", {"priority": "urgent"})]


async def test_another_agent_neither_sees_nor_deletes_your_views() -> None:
    setup = await aio.db_call(teams_setup)
    mine = await aio.db_call(saved_views.saved_view_save, agent=setup["ann"], name="mine", filters={"mine": True})
    console, hello = await open_console(setup["bob"])
    try:
        assert hello["views"] == []
        await console.send({"type": "view_delete", "view_id": mine.pk})
        error = await console.until("error")
        assert error["code"] == "unknown_view" and error["view_id"] == mine.pk
        # bob's view of the same name is his own
        await console.send({"type": "view_save", "name": "mine", "filters": {"status": "human"}})
        assert [v["filters"] for v in (await console.until("views"))["views"]] == [{"status": "human"}]
    finally:
        await console.close()
    assert await aio.db_call(lambda: SavedView.objects.get(pk=mine.pk).filters) == {"mine": True}
    assert await aio.db_call(lambda: SavedView.objects.filter(name="mine").count()) == 2


@pytest.mark.parametrize(("frame", "says"), [
    ({"name": "x", "filters": {"colour": "red"}}, "not colour"),
    ({"name": "x", "filters": {"search": "退" * 201}}, "search must be text of at most 200"),
    ({"name": "x", "filters": {"label": ["vip"]}}, "label must be text"),
    ({"name": "x", "filters": {"priority": "whenever"}}, "priority must be one of"),
    ({"name": "x", "filters": {"team": "billing"}}, "team must be a team's number"),
    ({"name": "x", "filters": {"mine": "yes"}}, "mine must be true or false"),
    ({"name": "x", "filters": ["status"]}, "filters must be an object"),
    ({"name": "   ", "filters": {}}, "name must be 1-60 characters"),
    ({"name": "名" * 61, "filters": {}}, "name must be 1-60 characters"),
])
async def test_bad_filters_and_names_are_refused_with_a_clear_error(frame: dict[str, Any], says: str) -> None:
    agent = await aio.db_call(agent_create, "ann")
    console, _ = await open_console(agent)
    try:
        await console.send({"type": "view_save", **frame})
        error = await console.until("error")
        assert error["code"] == "invalid_view" and says in error["detail"]
    finally:
        await console.close()
    assert await aio.db_call(SavedView.objects.count) == 0


async def test_an_agent_has_at_most_so_many_views() -> None:
    def fill() -> Any:
        agent = agent_create("ann")
        for n in range(saved_views.MAX_VIEWS_PER_AGENT):
            saved_views.saved_view_save(agent=agent, name=f"view {n}", filters={"search": str(n)})
        return agent

    agent = await aio.db_call(fill)
    console, hello = await open_console(agent)
    try:
        assert len(hello["views"]) == saved_views.MAX_VIEWS_PER_AGENT
        await console.send({"type": "view_save", "name": "one more", "filters": {}})
        error = await console.until("error")
        assert error["code"] == "too_many_views" and error["limit"] == saved_views.MAX_VIEWS_PER_AGENT
        assert "delete one first" in error["detail"]
        # replacing one of them is no new view
        await console.send({"type": "view_save", "name": "view 3", "filters": {"status": "resolved"}})
        views = (await console.until("views"))["views"]
        assert len(views) == saved_views.MAX_VIEWS_PER_AGENT
    finally:
        await console.close()


def test_the_service_checks_filters_too() -> None:
    agent = agent_create("ann")
    with pytest.raises(FrameError) as refused:
        saved_views.saved_view_save(agent=agent, name="x", filters={"cursor": "abc"})
    assert refused.value.code == "invalid_view"
    with pytest.raises(FrameError):
        saved_views.saved_view_delete(agent=agent, view_id=12345)
