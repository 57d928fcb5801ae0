"""The operations dashboard in real headless Chromium: a channel picked with the keyboard restricts its figures."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AGENT_PASSWORD, LiveServer, agent_create, wait_for

pytestmark = pytest.mark.browser


def summary(browser: Any) -> dict[str, str]:
    """The summary's figures by label."""
    return browser.execute_script(
        "const out = {};"
        "document.querySelectorAll('#hc-summary-title ~ dl div').forEach(d => {"
        " out[d.querySelector('dt').textContent.trim()] = d.querySelector('dd').textContent.trim(); });"
        "return out;"
    )


def test_a_channel_picked_from_the_keyboard_restricts_the_dashboard(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    live_app.shell(
        "from conversations.models import Conversation, Message\n"
        "texts = (('web', 'Where is my order?'), ('web', '退货要多久？'), ('app:shop', '我的订单在哪里？'))\n"
        "for channel, text in texts:\n"
        "    c = Conversation.objects.create(channel=channel)\n"
        "    Message.objects.create(conversation=c, role='customer', content=text, client_id=f'b-{c.pk}')\n"
    )
    agent_create(live_app, "lan", "Lan")
    browser.get(live_app.url + "/console/login/?next=/console/dashboard/%3Frange%3Dday")
    browser.find_element(By.NAME, "username").send_keys("lan")
    browser.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)
    select = wait_for(lambda: browser.find_element(By.ID, "hc-channel"))
    assert [o.text for o in Select(select).options] == ["All channels", "Website", "App: shop"]
    assert summary(browser)["Conversations started"] == "3"

    # From the last range tab, Tab reaches the select; arrows pick the shop's app; Tab, Enter show it.
    browser.execute_script("arguments[0].focus()", browser.find_elements(By.CSS_SELECTOR, ".hc-tabs a")[-1])
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "hc-channel"
    for _ in range(3):
        if Select(browser.find_element(By.ID, "hc-channel")).first_selected_option.text == "App: shop":
            break
        browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.tag_name == "button"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: "channel=app%3Ashop" in browser.current_url)
    assert "range=day" in browser.current_url
    figures = summary(browser)
    assert figures["Conversations started"] == "1" and figures["Customer messages"] == "1"
    assert Select(browser.find_element(By.ID, "hc-channel")).first_selected_option.text == "App: shop"
    assert browser.find_element(By.CSS_SELECTOR, ".hc-channel-shown").text == "App: shop"

    # In Chinese the page keeps the channel.
    browser.find_element(By.CSS_SELECTOR, ".hc-langs a[hreflang='zh-hans']").click()
    wait_for(lambda: "lang=zh-hans" in browser.current_url)
    assert Select(browser.find_element(By.ID, "hc-channel")).first_selected_option.text == "应用：shop"
    assert summary(browser)["新会话数"] == "1"
    assert browser.find_element(By.ID, "hc-channels-title").text == "按渠道的会话"
