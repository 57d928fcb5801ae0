"""Two agents in two teams, each in their own headless Chromium: handoffs reach each automatically (a complaint
the complaints team's agent, a request for a person the default team's), with the SLA clocks on the lines; an agent
sets priority and labels from the keyboard, and saves, applies and deletes a view of the inbox's filters from it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import LiveServer, agent_create, chromium, wait_for
from tests.support.appclient import call
from tests.test_console_browser import console_sign_in

pytestmark = pytest.mark.browser


def teams_make(live: LiveServer) -> str:
    """Two agents, a team each with SLA targets, and an app to write from; returns the app's key."""
    for username, name in (("mei", "Mei"), ("sam", "Sam")):
        agent_create(live, username, name)
    return live.shell(
        "from django.contrib.auth.models import User\n"
        "from conversations.models import Conversation, Team, TeamMembership\n"
        "from conversations.services.apps import app_create\n"
        "Conversation.objects.all().delete()\n"
        "sla = {'normal': {'first_response': 30, 'resolution': 480}}\n"
        "after_sales = Team.objects.create(name='售后', is_default=True, sla=sla)\n"
        "complaints = Team.objects.create(name='complaints', intents=['complaint'], sla=sla)\n"
        "TeamMembership.objects.create(team=after_sales, agent=User.objects.get(username='mei'))\n"
        "TeamMembership.objects.create(team=complaints, agent=User.objects.get(username='sam'))\n"
        "app, key = app_create(name='shop')\n"
        "print(key)\n"
    ).strip().splitlines()[-1]


def customer_writes(live: LiveServer, key: str, text: str) -> None:
    answer = call(live.url, "POST", "/api/v1/app/conversations", key=key, body={})
    assert answer.status == 201, answer.body
    sent = call(live.url, "POST", "/api/v1/app/messages", key=key, token=answer.body["token"],
                body={"text": text, "client_id": "c-1"})
    assert sent.status in (200, 201, 202), sent.body


def line_of(browser: Any) -> Any:
    from selenium.webdriver.common.by import By

    items = browser.find_elements(By.CSS_SELECTOR, ".hc-item.hc-human")
    return items[0] if items else None


def test_two_agents_in_two_teams_each_get_a_handoff_with_its_sla_clock(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    key = teams_make(live_app)
    console_sign_in(browser, live_app, "mei", "Mei", language="zh-hans")
    wait_for(lambda: browser.find_element(By.ID, "hc-search"))
    with chromium() as second:
        console_sign_in(second, live_app, "sam", "Sam", language="en")
        wait_for(lambda: second.find_element(By.ID, "hc-search"))
        customer_writes(live_app, key, "I want to talk to a person please")
        customer_writes(live_app, key, "Fourth email and no answer. Unacceptable.")

        mei_line = wait_for(lambda: line_of(browser))
        assert mei_line.find_element(By.CSS_SELECTOR, ".hc-agent").text == "Mei"
        assert mei_line.find_element(By.CSS_SELECTOR, ".hc-team").text == "售后"
        assert mei_line.find_element(By.CSS_SELECTOR, ".hc-sla").text.startswith("首次响应剩余")

        sam_line = wait_for(lambda: line_of(second))
        assert sam_line.find_element(By.CSS_SELECTOR, ".hc-agent").text == "Sam"
        assert sam_line.find_element(By.CSS_SELECTOR, ".hc-team").text == "complaints"
        assert sam_line.find_element(By.CSS_SELECTOR, ".hc-sla").text.startswith("first response in ")

        # Sam, from the keyboard: open it, p for priority, l for labels (Enter saves).
        sam_line.click()
        wait_for(lambda: second.find_element(By.ID, "hc-open").is_displayed())
        second.find_element(By.TAG_NAME, "body").send_keys("p")
        assert second.switch_to.active_element.get_attribute("id") == "hc-set-priority"
        second.switch_to.active_element.send_keys("u")  # selects "Urgent"
        wait_for(lambda: line_of(second).find_elements(By.CSS_SELECTOR, ".hc-priority-urgent"))
        second.switch_to.active_element.send_keys(Keys.ESCAPE)
        second.find_element(By.TAG_NAME, "body").send_keys("l")
        assert second.switch_to.active_element.get_attribute("id") == "hc-set-labels"
        second.switch_to.active_element.send_keys("vip, 退款", Keys.ENTER)
        wait_for(lambda: [x.text for x in line_of(second).find_elements(By.CSS_SELECTOR, ".hc-label")] == [
            "vip", "退款"])

        # Mei filters her inbox to her own.
        browser.find_element(By.ID, "hc-mine").click()
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".hc-item")) == 1)
        assert browser.find_element(By.CSS_SELECTOR, ".hc-item .hc-agent").text == "Mei"

    # A conversation in 售后's queue past its first-response target: its line is marked, its clock in red.
    overdue = live_app.shell(
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from conversations.models import Conversation, Team\n"
        "now = timezone.now()\n"
        "c = Conversation.objects.create(status='waiting_human', handoff_at=now - timedelta(hours=2),"
        " team=Team.objects.get(name='售后'), first_response_due_at=now - timedelta(minutes=90))\n"
        "print(c.pk)\n"
    ).strip().splitlines()[-1]
    browser.get(live_app.url + "/console/")
    line = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, f'.hc-item.hc-breached[data-id="{overdue}"]'))[0]
    assert line.find_element(By.CSS_SELECTOR, ".hc-sla-breached").text == "首次响应已超时 2h"

    # From the keyboard, Mei saves "mine only" as a view, clears the filter, applies the view, then deletes it.
    def shown() -> int:
        return len(browser.find_elements(By.CSS_SELECTOR, ".hc-item"))

    wait_for(lambda: shown() > 1)
    everything = shown()
    browser.find_element(By.ID, "hc-mine").send_keys(Keys.SPACE)

    def only_meis() -> bool:
        agents = [x.text for x in browser.find_elements(By.CSS_SELECTOR, ".hc-item .hc-agent")]
        return 0 < len(agents) < everything and set(agents) == {"Mei"}

    wait_for(only_meis)
    meis = shown()
    browser.find_element(By.ID, "hc-view-name").send_keys("我的会话", Keys.ENTER)
    wait_for(lambda: browser.find_element(By.ID, "hc-view-status").text == "视图“我的会话”已保存。")
    browser.get(live_app.url + "/console/")  # the view is kept: the next hello lists it
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#hc-view option")) == 2)
    wait_for(lambda: shown() == everything)
    assert not browser.find_element(By.ID, "hc-mine").is_selected()
    views = browser.find_element(By.ID, "hc-view")
    views.send_keys(Keys.ARROW_DOWN)  # picks "我的会话": its filters are set and that inbox asked for
    wait_for(lambda: browser.find_element(By.ID, "hc-mine").is_selected() and only_meis() and shown() == meis)
    views.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "hc-view-delete"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: browser.find_element(By.ID, "hc-view-status").text == "视图已删除。")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#hc-view option")) == 1
