"""The privacy notice in real headless Chromium against a live `manage.py serve`: shown at the start of the chat
with its link, in the customer's language, reachable from the keyboard, and recorded once on the conversation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import LiveServer, browser_language, fresh_page, in_widget, open_panel, texts, wait_for
from tests.fake_ollama import FakeOllama
from tests.support.widget import focused, keys, live_app_env  # noqa: F401 (a fixture: this module's server settings)

pytestmark = pytest.mark.browser

RECORDED = (
    "SELECT privacy_notice_version, privacy_notice_url, privacy_notice_shown_at FROM conversations_conversation "
    "WHERE privacy_notice_shown_at IS NOT NULL"
)
LINK = "const a = root.querySelector('.hd-notice-link'); return a && [a.href, a.target]"
ZH_NOTICE = "我们会保存本次对话，用于答复您并改进我们的服务。 我们如何处理您的数据"


def test_the_notice_is_shown_with_its_link_recorded_once_and_bilingual(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    fake_ollama_server.reset()
    fresh_page(browser, live_app.url + "/")
    open_panel(browser)
    wait_for(lambda: texts(browser, ".hd-system .hd-body"))
    assert texts(browser, ".hd-notice") == []  # off by default: nothing shown, nothing recorded
    assert live_app.query(RECORDED) == []

    # The first conversation forgotten, and its page left: a widget holding it (this page reconnecting, or
    # fresh_page's first load) would fetch the new config and rightly record the notice on it too (two rows where
    # this test counts one).
    browser.execute_script("localStorage.clear()")
    browser.get("about:blank")
    live_app.restart(WIDGET_PRIVACY_NOTICE_URL="/privacy/", WIDGET_PRIVACY_NOTICE_VERSION="2026-03")
    browser.execute_cdp_cmd("Network.clearBrowserCache", {})  # the widget's config is cached for 5 minutes
    try:
        fresh_page(browser, live_app.url + "/")
        open_panel(browser)
        notice = "We keep this conversation to answer you and to improve our service. How we handle your data"
        wait_for(lambda: texts(browser, ".hd-notice") == [notice])
        assert in_widget(browser, LINK) == [live_app.url + "/privacy/", "_blank"]
        assert in_widget(browser, "return root.querySelector('.hd-notice').getAttribute('role')") == "note"
        rows = wait_for(lambda: live_app.query(RECORDED))
        assert [(version, url) for version, url, _ in rows] == [("2026-03", "/privacy/")]

        # The keyboard reaches the link from the message box.
        wait_for(lambda: focused(browser) == "hd-input")
        for _ in range(8):
            if focused(browser) == "hd-notice-link":
                break
            keys(browser, Keys.SHIFT, Keys.TAB, Keys.SHIFT)
        assert focused(browser) == "hd-notice-link"

        # On the next page the notice shows again, and is not recorded again.
        browser.refresh()
        open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-notice") == [notice])
        assert live_app.query(RECORDED) == rows

        with browser_language(browser, "zh-CN"):
            fresh_page(browser, live_app.url + "/")
            open_panel(browser)
            wait_for(lambda: texts(browser, ".hd-notice") == [ZH_NOTICE])
            wait_for(lambda: len(live_app.query(RECORDED)) == 2)
    finally:
        live_app.restart(WIDGET_PRIVACY_NOTICE_URL="")
