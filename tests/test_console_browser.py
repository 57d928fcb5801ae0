"""The console's inbox in real headless Chromium: waiting customers first, and "Load more" from the keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AGENT_PASSWORD, LiveServer, agent_create, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_app_env() -> dict[str, str]:
    return {"INBOX_PAGE_SIZE": "20"}


def test_waiting_customers_come_first_and_load_more_is_reachable_from_the_keyboard(
    live_app: LiveServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # 3 customers have waited for an hour; 30 bot conversations are newer.
    live_app.shell(
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from conversations.models import Conversation\n"
        "now = timezone.now()\n"
        "Conversation.objects.bulk_create([Conversation(status='waiting_human', handoff_at=now - timedelta(hours=1,"
        " minutes=n), last_message_at=now - timedelta(hours=1)) for n in range(3)])\n"
        "Conversation.objects.bulk_create([Conversation(status='bot', last_message_at=now - timedelta(seconds=n))"
        " for n in range(30)])\n"
    )
    agent_create(live_app, "mei", "Mei")
    browser.get(live_app.url + "/console/login/?next=/console/")
    browser.execute_script("localStorage.setItem('helpdesk-console-lang', 'zh-hans')")
    browser.find_element(By.NAME, "username").send_keys("mei")
    browser.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)

    def items() -> list[Any]:
        return browser.find_elements(By.CSS_SELECTOR, ".hc-item")

    wait_for(lambda: len(items()) == 20)
    assert [i.get_attribute("class").split()[-1] for i in items()[:3]] == ["hc-waiting_human"] * 3
    more = browser.find_element(By.ID, "hc-more")
    assert more.is_displayed() and more.text == "加载更多"

    # From the search box, Tab reaches the button (past the scrollable list) and Enter loads the next page.
    browser.find_element(By.ID, "hc-search").click()
    for _ in range(3):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("id") == "hc-more":
            break
    assert browser.switch_to.active_element.get_attribute("id") == "hc-more"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: len(items()) == 33)
    assert not browser.find_element(By.ID, "hc-more").is_displayed()
    assert not browser.find_elements(By.ID, "hc-open") or not browser.find_element(By.ID, "hc-open").is_displayed()

    browser.execute_script("localStorage.setItem('helpdesk-console-lang', 'en'); location.reload()")
    wait_for(lambda: browser.find_element(By.ID, "hc-more").text == "Load more")
