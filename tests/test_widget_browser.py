"""The customer widget, complete: real headless Chromium against a live `manage.py serve` and the fake Ollama.

Network loss, a server restart, the keyboard, both languages, a phone, signed-in users switching, a site that is
not allowed, the length limit, feedback and ratings, the pre-chat form, hostile names. Every test asserts what
the customer sees and what the server stored.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.browser import (
    LAST_TURN_ANSWERED,
    LiveServer,
    NetworkCut,
    agent_create,
    ask_in_widget,
    bot_texts,
    browser_language,
    console,
    fresh_page,
    host_site,
    in_widget,
    open_panel,
    phone,
    signed_user,
    texts,
    wait_for,
    widget,
)
from tests.fake_ollama import FakeOllama, Reply

pytestmark = pytest.mark.browser

MAX_CHARS = 300
GREETING = "Hi! Ask us anything about your order, shipping or returns."


@pytest.fixture(scope="module")
def live_app_env() -> dict[str, str]:
    # A small limit, to see that the widget takes the server's; and no low-confidence handoffs, so that every
    # scripted reply is the bot's answer whatever the retrieval scored.
    return {"MESSAGE_MAX_CHARS": str(MAX_CHARS), "HANDOFF_THRESHOLD": "0"}


def by_css(root: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return root.find_element(By.CSS_SELECTOR, selector)


def keys(driver: Any, *sequence: str) -> None:
    """Type at whatever has the focus, as a keyboard does."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*sequence).perform()


def back_tab(driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()


def focused(driver: Any) -> str | None:
    """The class of the widget's element that has the focus."""
    return in_widget(driver, "return root && root.activeElement ? root.activeElement.className : null;")


def stored_count(live_app: LiveServer, content: str) -> int:
    return live_app.query("SELECT count(*) FROM conversations_message WHERE content = ?", (content,))[0][0]


def conversation_of(live_app: LiveServer, content: str) -> int:
    return live_app.query("SELECT conversation_id FROM conversations_message WHERE content = ?", (content,))[0][0]


def stored_feedback(live_app: LiveServer, reply: str) -> list[tuple[int, str]]:
    """(rating, comment) stored for the bot reply `reply`."""
    query = ("SELECT f.rating, f.comment FROM conversations_feedback f JOIN conversations_message m "
             "ON m.id = f.message_id WHERE m.content = ?")
    return live_app.query(query, (reply,))


def conversations_count(live_app: LiveServer) -> int:
    return live_app.query("SELECT count(*) FROM conversations_conversation")[0][0]


def answered_on_a_fresh_page(
    live_app: LiveServer, browser: Any, fake_ollama: FakeOllama, question: str, answer: str, page_script: str = ""
) -> Any:
    """A new visitor asks `question` and reads the bot's whole `answer`; `page_script` runs on the page first.
    Returns the widget's shadow root."""
    fake_ollama.reset()
    fake_ollama.script(Reply(content=answer))
    fresh_page(browser, live_app.url + "/")
    if page_script:
        browser.execute_script(page_script)
    ask_in_widget(browser, question)
    wait_for(lambda: ("complete", answer) in bot_texts(browser))
    return widget(browser)


PRESSED_THUMBS = "return [...root.querySelectorAll('.hd-bot .hd-thumb[aria-pressed=true]')].map(b => b.dataset.rating)"

SPY = """
  if (!window.__sent) {
    window.__sent = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) { window.__sent.push(data); return send.call(this, data); };
  }
"""


def sent_texts(driver: Any) -> list[str]:
    """The text of every `message` frame the page sent on any socket since SPY was installed."""
    frames = [json.loads(raw) for raw in driver.execute_script("return window.__sent || []")]
    return [frame["text"] for frame in frames if frame.get("type") == "message"]


def pending(driver: Any) -> list[list[str]]:
    return in_widget(driver, """
      return [...root.querySelectorAll('.hd-customer.hd-pending')]
        .map(li => [li.querySelector('.hd-body').textContent, li.querySelector('.hd-note').textContent]);
    """)


def test_a_message_written_offline_is_sent_once_when_the_network_is_back_and_a_reply_that_finished_shows_whole(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    stored = ("Keep Longjing sealed in its tin, away from light, heat and strong smells. Opened, it is best within "
              "two months; unopened, a cool cupboard keeps it fresh for a year.")
    later = "Yes: 100 g of Longjing makes about forty cups."
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=stored, ttft=0.1, per_token=0.08), Reply(content=later))
    network = NetworkCut(live_app.port)
    try:
        fresh_page(browser, network.url + "/")
        browser.execute_script(SPY)
        ask_in_widget(browser, "How should I store Longjing?")
        wait_for(lambda: any(status == "streaming" and text for status, text in bot_texts(browser)))

        network.cut()
        wait_for(lambda: texts(browser, ".hd-banner") == ["Connection lost — reconnecting…"])
        # The reply goes on being written on the server, and is stored whole, while the widget hears nothing.
        query = "SELECT status FROM conversations_message WHERE role = 'bot' AND content = ?"
        wait_for(lambda: live_app.query(query, (stored,)) == [("complete",)])
        assert ("complete", stored) not in bot_texts(browser)

        # Written while offline: shown as pending, stored nowhere yet.
        by_css(widget(browser), ".hd-input").send_keys("Is 100 g enough for a month?", Keys.ENTER)
        assert wait_for(lambda: pending(browser)) == [["Is 100 g enough for a month?", "Sending…"]]
        assert stored_count(live_app, "Is 100 g enough for a month?") == 0

        network.restore()
        wait_for(lambda: ("complete", later) in bot_texts(browser), timeout=45)
        assert bot_texts(browser) == [("complete", stored), ("complete", later)]
        assert texts(browser, ".hd-customer .hd-body") == [
            "How should I store Longjing?", "Is 100 g enough for a month?"
        ]
        assert pending(browser) == [] and texts(browser, ".hd-banner") == [""]
        assert sent_texts(browser).count("Is 100 g enough for a month?") == 1
        assert stored_count(live_app, "Is 100 g enough for a month?") == 1
    finally:
        network.close()


def test_after_a_server_restart_mid_conversation_the_widget_reconnects_by_itself_and_nothing_is_lost(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    fake_ollama_server.reset()
    fake_ollama_server.script(
        Reply(content="Our gaiwans hold 150 ml."), Reply(content="Yes, they are dishwasher safe.")
    )
    fresh_page(browser, live_app.url + "/")
    ask_in_widget(browser, "How big is the porcelain gaiwan?")
    wait_for(lambda: ("complete", "Our gaiwans hold 150 ml.") in bot_texts(browser))

    live_app.stop()
    try:
        wait_for(lambda: texts(browser, ".hd-banner") == ["Connection lost — reconnecting…"])
        by_css(widget(browser), ".hd-input").send_keys("Can it go in the dishwasher?", Keys.ENTER)
        wait_for(lambda: pending(browser))
    finally:
        live_app.start()
    wait_for(lambda: ("complete", "Yes, they are dishwasher safe.") in bot_texts(browser), timeout=60)
    assert texts(browser, ".hd-customer .hd-body") == [
        "How big is the porcelain gaiwan?", "Can it go in the dishwasher?"
    ]
    assert [text for _, text in bot_texts(browser)] == ["Our gaiwans hold 150 ml.", "Yes, they are dishwasher safe."]
    assert stored_count(live_app, "Can it go in the dishwasher?") == 1


def test_the_widget_works_from_the_keyboard_alone(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Our oolong is roasted over charcoal for twelve hours."))
    fresh_page(browser, live_app.url + "/")
    wait_for(lambda: by_css(widget(browser), ".hd-launcher"))
    for _ in range(20):  # Tab through the page until the chat button has the focus
        keys(browser, Keys.TAB)
        if focused(browser) == "hd-launcher":
            break
    assert focused(browser) == "hd-launcher"

    keys(browser, Keys.ENTER)  # opens, with the focus in the message box
    wait_for(lambda: focused(browser) == "hd-input")
    keys(browser, "How is the oolong roasted?", Keys.ENTER)
    wait_for(lambda: ("complete", "Our oolong is roasted over charcoal for twelve hours.") in bot_texts(browser))
    assert focused(browser) == "hd-input"

    # Back from the message box: the reply's thumbs. "Not helpful" asks what was missing, in a box that has the focus.
    back_tab(browser)
    assert in_widget(browser, "return root.activeElement.textContent") == "✗ Not helpful"
    keys(browser, Keys.ENTER)
    wait_for(lambda: focused(browser) == "hd-card-input")
    keys(browser, "Which charcoal?", Keys.ENTER)
    wait_for(lambda: "Thank you for your feedback!" in texts(browser, ".hd-bot .hd-note"))

    # Escape closes and gives the focus back to the chat button; Enter opens again.
    keys(browser, Keys.ESCAPE)
    wait_for(lambda: focused(browser) == "hd-launcher")
    assert by_css(widget(browser), ".hd-panel").get_attribute("hidden") is not None
    assert by_css(widget(browser), ".hd-launcher").get_attribute("aria-expanded") == "false"
    keys(browser, Keys.ENTER)
    wait_for(lambda: focused(browser) == "hd-input")

    # "Talk to a human" is a few Shift+Tabs away.
    for _ in range(10):
        back_tab(browser)
        if focused(browser) == "hd-human":
            break
    keys(browser, Keys.ENTER)
    wait_for(lambda: texts(browser, ".hd-banner") == ["Waiting for a colleague — they will join shortly."])
    reply = "Our oolong is roasted over charcoal for twelve hours."
    assert stored_feedback(live_app, reply) == [(-1, "Which charcoal?")]


ZH_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>小店</title></head><body>
<p>一个嵌入了客服的中文网站。</p>
<script>window.helpdeskSettings = {{locale: "zh-hans"}};</script>
<script src="{base}/static/widget.js" data-helpdesk-url="{base}" async></script></body></html>"""

# Every text of the widget's own chrome: buttons, placeholders, labels, greeting, banner, typing line, notes.
CHROME_TEXTS = """
  const own = [...root.querySelectorAll('button, .hd-system .hd-body, .hd-banner, .hd-typing, .hd-note, .hd-card-title,'
    + ' .hd-sources-label, .hd-visually-hidden, .hd-launcher-label')].map(n => n.textContent);
  const labels = [...root.querySelectorAll('[aria-label], [placeholder]')]
    .flatMap(n => [n.getAttribute('aria-label'), n.getAttribute('placeholder')]);
  return own.concat(labels).filter(Boolean);
"""


def test_zh_hans_from_the_sites_settings_every_string_and_the_bot_thinking(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.by import By

    answer = "龙井请密封避光、冷藏保存，开封后两个月内喝完最好。"
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=answer, ttft=1.5, per_token=0.05))
    with host_site({"zh.html": ZH_PAGE.format(base=live_app.url)}, live_app.second_port) as site:
        fresh_page(browser, site + "/zh.html")
        root = wait_for(lambda: widget(browser))
        assert by_css(root, ".hd-launcher").text == "联系客服"
        root = open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-system .hd-body") == ["您好！关于订单、配送或退换货，都可以问我。"])
        assert by_css(root, ".hd-input").get_attribute("placeholder") == "请输入您的问题…"
        assert [b.text for b in root.find_elements(By.CSS_SELECTOR, ".hd-header button")] == ["转人工", "×"]
        assert by_css(root, ".hd-close").get_attribute("aria-label") == "关闭对话"

        ask_in_widget(browser, "龙井茶怎么保存？")
        # Before the first word: the bot is thinking, and can be stopped.
        wait_for(lambda: by_css(root, ".hd-typing").text == "智能助手正在思考…")
        assert by_css(root, ".hd-stop").text == "停止" and not [text for _, text in bot_texts(browser) if text]
        wait_for(lambda: ("complete", answer) in bot_texts(browser))
        assert not by_css(root, ".hd-typing").is_displayed()
        assert texts(browser, ".hd-thumb") == ["✓ 有帮助", "✗ 没帮助"]

        by_css(root, ".hd-human").click()
        wait_for(lambda: texts(browser, ".hd-banner") == ["正在为您转接人工客服，请稍候。"])
        chrome = in_widget(browser, CHROME_TEXTS)
        assert chrome and not [text for text in chrome if any("a" <= ch.lower() <= "z" for ch in text)], chrome


def test_zh_hans_from_the_browsers_language_and_english_otherwise(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    with browser_language(browser, "zh-CN"):
        fresh_page(browser, live_app.url + "/")
        open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-system .hd-body") == ["您好！关于订单、配送或退换货，都可以问我。"])
        assert texts(browser, ".hd-launcher-label") == ["联系客服"]
        assert texts(browser, ".hd-send") == ["发送"]
    fresh_page(browser, live_app.url + "/")
    open_panel(browser)
    wait_for(lambda: texts(browser, ".hd-system .hd-body") == [GREETING])
    assert texts(browser, ".hd-launcher-label") == ["Chat with us"]
    assert texts(browser, ".hd-header button") == ["Talk to a human", "×"]
    chrome = in_widget(browser, CHROME_TEXTS)
    assert not [text for text in chrome if any("\u4e00" <= ch <= "\u9fff" for ch in text)], chrome


def test_on_a_phone_the_panel_fills_the_screen_and_inputs_do_not_zoom(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    with phone(browser, 390, 844):
        fresh_page(browser, live_app.url + "/")
        root = open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-system .hd-body"))
        box = """
          const r = root.querySelector('.hd-panel').getBoundingClientRect();
          return [r.left, r.top, r.width, r.height, innerWidth, innerHeight];
        """
        wait_for(lambda: in_widget(browser, box) == [0, 0, 390, 844, 390, 844])  # once the stylesheet is in
        assert not by_css(root, ".hd-launcher").is_displayed()  # the panel covers it; × closes
        font_px = in_widget(browser, "return parseFloat(getComputedStyle(root.querySelector('.hd-input')).fontSize)")
        assert font_px >= 16  # below 16 px, iOS Safari zooms into the page on focus
        by_css(root, ".hd-close").click()
        wait_for(lambda: by_css(root, ".hd-launcher").is_displayed())


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
        WHERE m.role = 'customer' AND c.external_id IN ('ann-1', 'bob-2') ORDER BY m.id""")
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


def test_the_length_limit_is_the_servers_with_a_counter(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Thank you for the details."))
    text = ("My order of Pu-erh arrived with a cracked wrapper and the cake is broken into pieces; " * 4)[: MAX_CHARS]
    text = text[:-1] + "!"  # 300 characters, none of them space at either end
    fresh_page(browser, live_app.url + "/")
    root = open_panel(browser)
    wait_for(lambda: texts(browser, ".hd-system .hd-body"))  # the history, and the server's limit with it
    box = by_css(root, ".hd-input")
    box.send_keys(text + "?")
    assert texts(browser, ".hd-counter") == [f"Too long: {MAX_CHARS + 1} / {MAX_CHARS} characters"]
    assert by_css(root, ".hd-send").get_attribute("disabled") is not None
    assert box.get_attribute("aria-invalid") == "true"
    box.send_keys(Keys.ENTER)  # refused in the widget: nothing is sent
    assert texts(browser, ".hd-customer .hd-body") == []

    box.send_keys(Keys.BACKSPACE)
    assert texts(browser, ".hd-counter") == [f"{MAX_CHARS} / {MAX_CHARS}"]
    assert by_css(root, ".hd-send").get_attribute("disabled") is None
    box.send_keys(Keys.ENTER)
    wait_for(lambda: ("complete", "Thank you for the details.") in bot_texts(browser))
    assert texts(browser, ".hd-customer .hd-body") == [text]
    assert stored_count(live_app, text) == 1


def test_feedback_with_a_comment_and_the_rating_after_resolve_are_stored(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    answer = "Returns are free within 30 days."
    root = answered_on_a_fresh_page(live_app, browser, fake_ollama_server, "Can I send back an opened tin?", answer)
    root.find_elements(By.CSS_SELECTOR, ".hd-bot .hd-thumb")[-1].click()  # not helpful
    wait_for(lambda: by_css(root, ".hd-why .hd-card-input")).send_keys("It did not say opened tins", Keys.ENTER)
    wait_for(lambda: "Thank you for your feedback!" in texts(browser, ".hd-bot .hd-note"))
    wait_for(lambda: stored_feedback(live_app, answer) == [(-1, "It did not say opened tins")])
    browser.refresh()  # the customer's vote is still shown after a reload
    open_panel(browser)
    wait_for(lambda: in_widget(browser, PRESSED_THUMBS) == ["-1"])

    conversation_id = conversation_of(live_app, "Can I send back an opened tin?")
    agent_create(live_app, "lin", "Lin")
    with console(browser, live_app, "lin", conversation_id):
        browser.find_element(By.ID, "hc-resolve").click()
        wait_for(lambda: not browser.find_element(By.ID, "hc-resolve").is_displayed())
    wait_for(lambda: widget(browser).find_elements(By.CSS_SELECTOR, ".hd-star"))
    browser.refresh()  # the rating is still asked for after a reload
    root = open_panel(browser)
    stars = wait_for(lambda: root.find_elements(By.CSS_SELECTOR, ".hd-star"))
    assert texts(browser, ".hd-banner") == ["This conversation is resolved. Write again any time."]
    stars[3].click()
    by_css(root, ".hd-card .hd-card-input").send_keys("Quick and kind")
    by_css(root, ".hd-card .hd-send").click()
    wait_for(lambda: texts(browser, ".hd-card .hd-card-title") == ["Thank you for your feedback!"])
    csat = "SELECT csat_score, csat_comment FROM conversations_conversation WHERE id = ?"
    assert live_app.query(csat, (conversation_id,)) == [(4, "Quick and kind")]


# The page holds back the server's acknowledgements of feedback, to let them in one at a time: under load, the
# thumb-down's own can arrive after the customer sent their comment.
HOLD_FEEDBACK_ACKS = """
  window.__acks = [];
  const property = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
  Object.defineProperty(WebSocket.prototype, 'onmessage', {
    configurable: true,
    get: property.get,
    set(handler) {
      property.set.call(this, event =>
        JSON.parse(event.data).type === 'feedback' ? window.__acks.push(() => handler(event)) : handler(event));
    },
  });
"""


def test_the_thanks_for_a_comment_wait_for_the_comment_itself_to_be_stored(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    answer = "Our tins are airtight."
    root = answered_on_a_fresh_page(live_app, browser, fake_ollama_server, "Are the tins airtight?", answer,
                                    page_script=HOLD_FEEDBACK_ACKS)
    root.find_elements(By.CSS_SELECTOR, ".hd-bot .hd-thumb")[-1].click()  # not helpful
    wait_for(lambda: browser.execute_script("return window.__acks.length") == 1)
    by_css(root, ".hd-why .hd-card-input").send_keys("Which tins?", Keys.ENTER)
    wait_for(lambda: browser.execute_script("return window.__acks.length") == 2)

    browser.execute_script("window.__acks[0]()")  # the thumb-down's, after the comment was sent
    assert in_widget(browser, PRESSED_THUMBS) == ["-1"]
    assert texts(browser, ".hd-bot .hd-note") == [] and texts(browser, ".hd-why .hd-send") == ["Send"]
    browser.execute_script("window.__acks[1]()")  # the comment's
    assert texts(browser, ".hd-bot .hd-note") == ["Thank you for your feedback!"]
    assert stored_feedback(live_app, answer) == [(-1, "Which tins?")]


def test_the_pre_chat_form_asks_name_and_email_once_and_can_be_skipped(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    live_app.restart(WIDGET_PRECHAT_FORM="true")
    try:
        fake_ollama_server.reset()
        fake_ollama_server.script(Reply(content="Hello Li Lei, the Longjing is in stock."))
        fresh_page(browser, live_app.url + "/")
        root = open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-card-title") == ["Before we start — who are you? Both are optional."])
        assert by_css(root, ".hd-form").get_attribute("hidden") is not None  # the message box waits for the form
        wait_for(lambda: in_widget(browser, "return root.activeElement.placeholder") == "Your name")
        keys(browser, "Li Lei", Keys.TAB, "li@", Keys.ENTER)  # not an address: the browser keeps the form
        assert in_widget(browser, "return root.querySelector('input[type=email]').checkValidity()") is False
        keys(browser, "example.com", Keys.ENTER)
        contact = "SELECT contact_name, contact_email FROM conversations_conversation WHERE contact_email <> ''"
        wait_for(lambda: live_app.query(contact) == [("Li Lei", "li@example.com")])
        wait_for(lambda: focused(browser) == "hd-input")
        assert texts(browser, ".hd-card") == []
        keys(browser, "Is the Longjing in stock?", Keys.ENTER)
        wait_for(lambda: ("complete", "Hello Li Lei, the Longjing is in stock.") in bot_texts(browser))
        browser.refresh()
        open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["Is the Longjing in stock?"])
        assert texts(browser, ".hd-card") == []  # answered once: not asked again

        # Another visitor skips it; it is not asked again on the next page either.
        fresh_page(browser, live_app.url + "/")
        root = open_panel(browser)
        wait_for(lambda: by_css(root, ".hd-skip")).click()
        wait_for(lambda: focused(browser) == "hd-input")
        browser.refresh()
        open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-system .hd-body"))
        assert texts(browser, ".hd-card") == [] and by_css(widget(browser), ".hd-form").get_attribute("hidden") is None
        assert live_app.query(contact) == [("Li Lei", "li@example.com")]
    finally:
        live_app.restart(WIDGET_PRECHAT_FORM="false")


def test_a_hostile_agent_name_and_agent_text_stay_text(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    name = '<img src=x onerror="window.__pwnedName=1">Mallory'
    text = '<script>window.__pwnedText=1</script><img src=x onerror="window.__pwnedText=1">Hello'
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="One moment please."))
    fresh_page(browser, live_app.url + "/")
    ask_in_widget(browser, "Who packs the orders?")
    wait_for(lambda: ("complete", "One moment please.") in bot_texts(browser))
    agent_create(live_app, "mallory", name)
    with console(browser, live_app, "mallory", conversation_of(live_app, "Who packs the orders?")):
        browser.find_element(By.ID, "hc-take").click()
        wait_for(lambda: browser.find_element(By.ID, "hc-back").is_displayed())
        browser.find_element(By.ID, "hc-text").send_keys(text, Keys.ENTER)
        wait_for(lambda: text in browser.find_element(By.ID, "hc-messages").text)
    wait_for(lambda: texts(browser, ".hd-agent .hd-body") == [text])
    assert texts(browser, ".hd-author") == [name]
    assert texts(browser, ".hd-banner") == [f"You are chatting with {name}."]
    assert in_widget(browser, "return root.querySelectorAll('.hd-messages img, .hd-messages script').length") == 0
    assert browser.execute_script("return window.__pwnedName === undefined && window.__pwnedText === undefined")


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


def test_a_reply_can_be_stopped_and_says_so(live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama) -> None:
    words = "Green tea wants water at about eighty degrees, never boiling, " * 6
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=words, ttft=0.8, per_token=0.1))
    fresh_page(browser, live_app.url + "/")
    ask_in_widget(browser, "What water temperature for green tea?")
    root = widget(browser)
    wait_for(lambda: by_css(root, ".hd-typing").text == "The assistant is thinking…")
    wait_for(lambda: any(text for _, text in bot_texts(browser)))
    assert not by_css(root, ".hd-typing").is_displayed()  # the words themselves show it is writing now
    by_css(root, ".hd-stop").click()
    wait_for(lambda: [status for status, _ in bot_texts(browser)] == ["cancelled"])
    assert texts(browser, ".hd-bot .hd-note") == ["Stopped"]
    [(_, partial)] = bot_texts(browser)
    assert partial and words.startswith(partial.strip()) and len(partial) < len(words.strip())
    query = "SELECT status FROM conversations_message WHERE role = 'bot' AND conversation_id = ?"
    assert live_app.query(query, (conversation_of(live_app, "What water temperature for green tea?"),)) == [
        ("cancelled",)
    ]
    assert not by_css(root, ".hd-stop").is_displayed()


BRAND_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Sunny shop</title></head><body>
<script>window.helpdeskSettings = {{primaryColor: "{colour}"}};</script>
<script src="{base}/static/widget.js" data-helpdesk-url="{base}" async></script></body></html>"""


def test_text_on_the_brand_colour_stays_readable(live_app: LiveServer, browser: Any) -> None:
    pages = {"light.html": BRAND_PAGE.format(colour="#ffd54f", base=live_app.url),
             "dark.html": BRAND_PAGE.format(colour="#2f4a3a", base=live_app.url)}
    colours = """
      const style = (selector, property) => getComputedStyle(root.querySelector(selector))[property];
      return [style('.hd-launcher', 'backgroundColor'), style('.hd-launcher', 'color'), style('.hd-header', 'color')];
    """
    with host_site(pages, live_app.second_port) as site:
        fresh_page(browser, site + "/light.html")
        wait_for(lambda: widget(browser))
        # Yellow is too light for white text (1.4:1): the widget writes on it in near-black (12:1).
        light = ["rgb(255, 213, 79)", "rgb(29, 36, 48)", "rgb(29, 36, 48)"]
        wait_for(lambda: in_widget(browser, colours) == light)  # the stylesheet loads after the script
        fresh_page(browser, site + "/dark.html")
        wait_for(lambda: widget(browser))
        dark = ["rgb(47, 74, 58)", "rgb(255, 255, 255)", "rgb(255, 255, 255)"]
        wait_for(lambda: in_widget(browser, colours) == dark)


def test_a_customer_over_the_limit_is_told_to_wait_and_the_widget_reconnects_only_after(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    # One frame per 3 s for the conversation: the fourth within the window closes the socket (4429).
    live_app.restart(RATE_LIMITS_ENABLED="true", CHAT_RATE_LIMIT="1", CHAT_RATE_WINDOW_S="3")
    try:
        fake_ollama_server.reset()
        fake_ollama_server.script(Reply(content="First answered."), Reply(content="Last answered."))
        fresh_page(browser, live_app.url + "/")
        open_panel(browser)
        wait_for(lambda: texts(browser, ".hd-system .hd-body"))
        path = live_app.workdir / "serve.log"
        start = len(path.read_text())  # the module's earlier tests wrote there too

        def log() -> str:
            return path.read_text()[start:]

        for n in range(4):
            ask_in_widget(browser, f"spam {n}")
        wait_for(lambda: "WSDISCONNECT /ws/chat/" in log())
        wait_for(lambda: any("Too many messages: please wait" in text for text in texts(browser, ".hd-banner")))
        connects = log().count("WSCONNECT /ws/chat/")
        time.sleep(0.5)  # no hammering: the widget waits retry_after (1-3 s) before its next try
        assert log().count("WSCONNECT /ws/chat/") == connects
        # Then it reconnects and sends what the close cut off (the two refused before it were told so).
        wait_for(lambda: ("complete", "Last answered.") in bot_texts(browser), timeout=15)
        assert [stored_count(live_app, f"spam {n}") for n in range(4)] == [1, 0, 0, 1]
    finally:
        live_app.restart(RATE_LIMITS_ENABLED="false")


SOCKET_SPY = """
  if (!window.__sockets) {
    window.__sockets = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      if (!window.__sockets.includes(this)) window.__sockets.push(this);
      return send.call(this, data);
    };
  }
"""
INJECT = "const ws = window.__sockets[window.__sockets.length - 1]; ws.onmessage({data: arguments[0]});"


def test_a_reply_generated_again_after_its_worker_died_replaces_its_partial_text_in_widget_and_console(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    """A redelivered reply streams again from seq 0: the widget and the console show the new text in place of
    the partial one, never both (the frames are the server's, replayed into the page's own socket)."""
    from selenium.webdriver.common.by import By

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Tea ships tomorrow."))
    fresh_page(browser, live_app.url + "/")
    browser.execute_script(SOCKET_SPY)
    ask_in_widget(browser, "When does my tea ship?")
    wait_for(lambda: browser.execute_script(LAST_TURN_ANSWERED))
    conversation_id = conversation_of(live_app, "When does my tea ship?")
    reply_id = 10**9  # a reply of this conversation's that the page has not seen yet
    restarted = [(0, "Partial "), (1, "answer of the dead worker"), (0, "Whole"), (1, " new"), (2, " answer.")]

    def replay(conversation: int) -> None:
        for seq, text in restarted:
            frame = {"type": "delta", "conversation_id": conversation, "message_id": reply_id, "seq": seq,
                     "text": text}
            browser.execute_script(INJECT, json.dumps(frame))

    replay(conversation_id)
    assert bot_texts(browser)[-1] == ("streaming", "Whole new answer.")
    agent_create(live_app, "rosa", "Rosa")
    with console(browser, live_app, "rosa", conversation_id):
        browser.execute_script(SOCKET_SPY)
        search = browser.find_element(By.ID, "hc-search")
        search.send_keys(" ")  # the console sends its next frame: the spy learns its socket
        wait_for(lambda: browser.execute_script("return (window.__sockets || []).length"))
        replay(conversation_id)
        shown = browser.find_element(By.ID, "hc-messages").text
        assert "Whole new answer." in shown and "dead worker" not in shown


# The server's side of "busy" is tested for real in tests/test_connections.py (a pool with no connection free in
# time answers 503 + Retry-After, and the socket an error frame "busy"). Here the page itself answers that way once,
# before the widget loads, to see what the widget does with it: the first conversation creation gets a 503, the
# first message frame a "busy" error, as a crowd on a small database would.
BUSY_ONCE = """
  window.__busy = {posts: 0, frames: 0, sent: []};
  const realFetch = window.fetch;
  window.fetch = function (url, options) {
    if (String(url).endsWith('/api/v1/conversations') && window.__busy.posts++ === 0) {
      return Promise.resolve(new Response('{"error": "busy", "detail": "the service is busy; retry shortly"}',
        {status: 503, headers: {'Retry-After': '1', 'Content-Type': 'application/json'}}));
    }
    return realFetch.apply(this, arguments);
  };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const frame = JSON.parse(data);
    if (frame.type === 'message') window.__busy.sent.push([frame.client_id, performance.now()]);
    if (frame.type === 'message' && window.__busy.frames++ === 0) {
      const socket = this;
      setTimeout(() => socket.onmessage({data: JSON.stringify({type: 'error', code: 'busy', client_id: frame.client_id,
        detail: 'the service is busy; retry shortly', retry_after: 1, frame_type: 'message'})}), 0);
      return;
    }
    return send.call(this, data);
  };
"""


def test_when_the_server_is_busy_the_widget_says_so_retries_after_the_wait_and_the_message_is_stored_once(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="Green tea ships within two days."))
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": BUSY_ONCE})
    try:
        fresh_page(browser, live_app.url + "/")
        ask_in_widget(browser, "When does green tea ship?")
        # The conversation's creation was answered 503: the customer is told, and the widget tries again.
        wait_for(lambda: texts(browser, ".hd-banner") == ["We are very busy right now — retrying…"])
        wait_for(lambda: browser.execute_script("return window.__busy.posts") >= 2)
        # Then the message frame is answered busy: kept as sending, not failed, while it waits.
        wait_for(lambda: browser.execute_script("return window.__busy.frames") >= 1)
        assert texts(browser, ".hd-banner") == ["We are very busy right now — retrying…"]
        assert pending(browser) == [["When does green tea ship?", "Sending…"]]
        wait_for(lambda: ("complete", "Green tea ships within two days.") in bot_texts(browser), timeout=30)
        sent = browser.execute_script("return window.__busy.sent")
        assert len(sent) == 2 and sent[0][0] == sent[1][0]  # the same client_id again
        assert sent[1][1] - sent[0][1] >= 1000  # not sooner than retry_after
        assert pending(browser) == [] and texts(browser, ".hd-banner") == [""]
        assert stored_count(live_app, "When does green tea ship?") == 1
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
