"""The customer widget in real headless Chromium against a live `manage.py serve` and the fake Ollama: which
conversation a page holds (signed-in users switching, a site not allowed, several tabs, a conversation created
once).

Every test asserts what the customer sees and what the server stored (helpers: tests/support/widget.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser import (
    LiveServer,
    ask_in_widget,
    bot_texts,
    fresh_page,
    host_site,
    open_panel,
    signed_user,
    texts,
    wait_for,
    widget,
)
from tests.fake_ollama import FakeOllama, Reply
from tests.support.widget import (
    GREETING,
    live_app_env,  # noqa: F401 (a fixture: this module's server settings)
    pending,
)

pytestmark = pytest.mark.browser


def conversations_count(live_app: LiveServer) -> int:
    return live_app.query("SELECT count(*) FROM conversations_conversation")[0][0]


def fresh_conversation_shown(driver: Any) -> bool:
    """Nothing in the list but the greeting: a conversation that has not started."""
    return texts(driver, ".hd-messages > li .hd-body") == [GREETING] and texts(driver, ".hd-system .hd-body") == [
        GREETING
    ]


def storage(driver: Any) -> list[tuple[str, str]]:
    """Every (key, value) the host page's localStorage and sessionStorage hold."""
    return [tuple(item) for item in driver.execute_script(
        "return [localStorage, sessionStorage].flatMap(s => Object.keys(s).map(k => [k, s.getItem(k)]));"
    )]


SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>
<p>A shop with accounts.</p>
<script>window.helpdeskSettings = {{user: {user}}};</script>
<script src="{base}/static/widget.js" data-helpdesk-url="{base}" async></script></body></html>"""


def test_set_user_switches_to_each_signed_in_users_own_conversation(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    ann = signed_user("ann-1", name="Ann")
    bob = signed_user("bob-2", name="Bob")
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Order 1001 left Hangzhou today."), Reply(content="Order 2002 is packed."))
    page = SHOP_PAGE.format(user=json.dumps(ann), base=live_app.url)
    signed_out = SHOP_PAGE.format(user="null", base=live_app.url)
    with host_site({"shop.html": page, "signed-out.html": signed_out}, live_app.second_port) as site:
        fresh_page(browser, site + "/shop.html")
        ask_in_widget(browser, "Where is order 1001?")
        wait_for(lambda: ("complete", "Order 1001 left Hangzhou today.") in bot_texts(browser))

        ann_key = f"helpdesk:{live_app.url}:token:u:ann-1"
        ann_token = wait_for(lambda: dict(storage(browser)).get(ann_key))

        browser.execute_script("Helpdesk.setUser(arguments[0])", bob)  # Ann signs out, Bob signs in
        wait_for(lambda: fresh_conversation_shown(browser))
        assert not [item for item in storage(browser) if ann_token in item[0] + item[1]]
        ask_in_widget(browser, "Where is order 2002?")
        wait_for(lambda: ("complete", "Order 2002 is packed.") in bot_texts(browser))
        assert texts(browser, ".hd-customer .hd-body") == ["Where is order 2002?"]

        browser.execute_script("Helpdesk.setUser(arguments[0])", ann)
        wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["Where is order 1001?"])
        ann_token = dict(storage(browser))[ann_key]  # the server found her conversation again from her identity
        browser.execute_script("Helpdesk.setUser(null)")  # signed out: a new anonymous conversation
        wait_for(lambda: fresh_conversation_shown(browser))
        # Nothing of Ann's is left in this browser for the next visitor: no key or value holds her token.
        anonymous = wait_for(lambda: dict(storage(browser)).get(f"helpdesk:{live_app.url}:token"))
        assert anonymous != ann_token
        assert not [item for item in storage(browser) if ann_token in item[0] + item[1] or "ann-1" in item[0]]

        # Signing out by rendering the next page without the user forgets her token too.
        browser.execute_script("Helpdesk.setUser(arguments[0])", ann)
        wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["Where is order 1001?"])
        assert dict(storage(browser))[ann_key] == ann_token
        browser.get(site + "/signed-out.html")
        wait_for(lambda: widget(browser))
        assert not [item for item in storage(browser) if ann_token in item[0] + item[1] or "ann-1" in item[0]]
    rows = live_app.query("""
        SELECT c.external_id, m.content FROM conversations_message m
        JOIN conversations_conversation v ON v.id = m.conversation_id
        JOIN conversations_customer c ON c.id = v.customer_id
        WHERE m.role = 'customer' AND plain(c.external_id) IN ('ann-1', 'bob-2') ORDER BY m.id""")
    assert rows == [("ann-1", "Where is order 1001?"), ("bob-2", "Where is order 2002?")]


FOREIGN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Not allowed</title></head><body>
<p>A site that is not in WIDGET_ALLOWED_ORIGINS.</p>
<script>
  window.__sockets = 0;
  const RealWebSocket = window.WebSocket;
  window.WebSocket = function (...args) {{ window.__sockets++; return new RealWebSocket(...args); }};
</script>
<script src="{base}/static/widget.js" data-helpdesk-url="{base}" async></script></body></html>"""


def test_a_site_not_allowed_gets_a_clear_console_error_and_no_connection(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    conversations_before = live_app.query("SELECT count(*) FROM conversations_conversation")
    browser.get_log("browser")  # what earlier tests logged
    with host_site({"page.html": FOREIGN_PAGE.format(base=live_app.url)}, live_app.foreign_port) as site:
        browser.get(site + "/page.html")
        logged: list[dict] = []

        def refusal() -> list[dict]:
            logged.extend(browser.get_log("browser"))
            return [entry for entry in logged if "WIDGET_ALLOWED_ORIGINS" in entry["message"]]

        [error] = wait_for(refusal)
        assert error["level"] == "SEVERE" and site in error["message"]
        assert browser.execute_script("return typeof Helpdesk") == "object"  # the script did run
        assert browser.execute_script("return window.__sockets") == 0
        assert browser.find_elements(By.ID, "helpdesk-widget-root") == []
    assert live_app.query("SELECT count(*) FROM conversations_conversation") == conversations_before


def test_another_tab_continues_the_same_conversation_live(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="The Yunnan cake weighs 357 g."), Reply(content="It keeps for years."))
    fresh_page(browser, live_app.url + "/")
    ask_in_widget(browser, "How heavy is the Pu-erh cake?")
    wait_for(lambda: ("complete", "The Yunnan cake weighs 357 g.") in bot_texts(browser))
    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        browser.get(live_app.url + "/")
        open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["How heavy is the Pu-erh cake?"])
        ask_in_widget(browser, "How long does it keep?")
        wait_for(lambda: ("complete", "It keeps for years.") in bot_texts(browser))
    finally:
        browser.close()
        browser.switch_to.window(first_tab)
    wait_for(lambda: ("complete", "It keeps for years.") in bot_texts(browser))
    assert texts(browser, ".hd-customer .hd-body") == ["How heavy is the Pu-erh cake?", "How long does it keep?"]


# The page holds back every creation of a conversation (POST /api/v1/conversations) until the test releases them,
# counting them: a slow server, made deterministic.
HOLD_CREATION = """
  window.__creations = 0;
  const fetchNow = window.fetch, gate = new Promise(resolve => { window.__releaseCreation = resolve; });
  window.fetch = function (url, options) {
    if (!String(url).endsWith('/api/v1/conversations')) return fetchNow.apply(this, arguments);
    window.__creations++;
    return gate.then(() => fetchNow(url, options));
  };
"""


def test_opening_the_chat_and_sending_at_once_create_one_conversation(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    # Both connect, while the conversation is still being created: two creations split the customer's
    # conversation (the socket on the first, a reload or reconnect on the second).
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="The tin holds 100 g."))
    before = conversations_count(live_app)
    fresh_page(browser, live_app.url + "/")
    browser.execute_script(HOLD_CREATION)
    ask_in_widget(browser, "How much does the tin hold?")
    wait_for(lambda: pending(browser))
    assert browser.execute_script("return window.__creations") == 1
    browser.execute_script("window.__releaseCreation()")
    wait_for(lambda: ("complete", "The tin holds 100 g.") in bot_texts(browser))
    assert conversations_count(live_app) == before + 1
    browser.refresh()
    open_panel(browser)
    wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["How much does the tin hold?"])


def test_a_tab_opened_after_another_started_the_conversation_joins_it(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Oolong likes 95 degrees."))
    fresh_page(browser, live_app.url + "/")
    wait_for(lambda: widget(browser))  # mounted before the conversation exists, the panel closed
    browser.execute_script(HOLD_CREATION)
    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        browser.get(live_app.url + "/")
        ask_in_widget(browser, "How hot for oolong?")
        wait_for(lambda: ("complete", "Oolong likes 95 degrees.") in bot_texts(browser))
    finally:
        browser.close()
        browser.switch_to.window(first_tab)
    open_panel(browser)
    wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["How hot for oolong?"])
    assert browser.execute_script("return window.__creations") == 0


def test_a_conversation_another_tab_stored_while_this_one_was_creating_wins(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Sencha keeps three months."), Reply(content="Yes, in the fridge."))
    fresh_page(browser, live_app.url + "/")
    browser.execute_script(HOLD_CREATION)
    open_panel(browser)
    wait_for(lambda: browser.execute_script("return window.__creations") == 1)
    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        browser.get(live_app.url + "/")  # opens by itself (the first tab's panel is open) and creates its own
        ask_in_widget(browser, "How long does sencha keep?")
        wait_for(lambda: ("complete", "Sencha keeps three months.") in bot_texts(browser))
        browser.switch_to.window(first_tab)
        browser.execute_script("window.__releaseCreation()")
        wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["How long does sencha keep?"])
        ask_in_widget(browser, "Can it go in the fridge?")
        wait_for(lambda: ("complete", "Yes, in the fridge.") in bot_texts(browser))
        browser.switch_to.window(browser.window_handles[-1])
        wait_for(lambda: ("complete", "Yes, in the fridge.") in bot_texts(browser))  # both tabs, one conversation
    finally:
        browser.switch_to.window(browser.window_handles[-1])
        browser.close()
        browser.switch_to.window(first_tab)
