"""The customer widget in real headless Chromium against a live `manage.py serve` and the fake Ollama: how it reads and
is used (the keyboard alone, both languages, a phone, the brand colour, hostile names staying text).

Every test asserts what the customer sees and what the server stored (helpers: tests/support/widget.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import (
    LiveServer,
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
    texts,
    wait_for,
    widget,
)
from tests.fake_ollama import FakeOllama, Reply
from tests.support.widget import (
    GREETING,
    by_css,
    conversation_of,
    focused,
    keys,
    live_app_env,  # noqa: F401 (a fixture: this module's server settings)
    stored_feedback,
)

pytestmark = pytest.mark.browser


def back_tab(driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()


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
        assert [b.text for b in root.find_elements(By.CSS_SELECTOR, ".hd-header button")] == ["转人工", "⤓", "×"]
        assert by_css(root, ".hd-close").get_attribute("aria-label") == "关闭对话"
        assert by_css(root, ".hd-download").get_attribute("aria-label") == "下载此会话"

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


def test_while_no_word_comes_the_assistant_is_thinking_then_says_the_reply_is_coming_a_reload_too(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    # A backed-up generation queue or a slow model: the first word comes late (tests/faults/ has both). The page
    # reloaded meanwhile got no "thinking" frame: it tells from the history that a reply is due.
    answer = "Refunds reach your card within a week of the parcel's return."
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=answer, ttft=14))
    fresh_page(browser, live_app.url + "/")
    root = open_panel(browser)
    ask_in_widget(browser, "When do I get my refund?")
    wait_for(lambda: by_css(root, ".hd-typing").text == "The assistant is thinking…")
    browser.refresh()
    root = open_panel(browser)
    wait_for(lambda: texts(browser, ".hd-customer .hd-body") == ["When do I get my refund?"])
    assert not [text for _, text in bot_texts(browser) if text], "no word of the reply yet"
    wait_for(lambda: by_css(root, ".hd-typing").text == "The assistant is thinking…")
    wait_for(lambda: by_css(root, ".hd-typing").text == "One moment please — your reply is coming…", timeout=15)
    wait_for(lambda: ("complete", answer) in bot_texts(browser), timeout=20)
    assert not by_css(root, ".hd-typing").is_displayed()


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
    assert texts(browser, ".hd-header button") == ["Talk to a human", "⤓", "×"]
    chrome = in_widget(browser, CHROME_TEXTS)
    assert not [text for text in chrome if any("\u4e00" <= ch <= "\u9fff" for ch in text)], chrome


# The page keeps what the widget would save as a file: the transcript's text, once read from its blob.
CAPTURE_DOWNLOADS = """
  const made = URL.createObjectURL.bind(URL);
  URL.createObjectURL = blob => { blob.text().then(text => { window.__transcript = text; }); return made(blob); };
"""


def test_the_customer_downloads_their_conversation_as_a_transcript(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    answer = "Keep Longjing in its sealed tin, away from light."
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=answer))
    fresh_page(browser, live_app.url + "/")
    browser.execute_script(CAPTURE_DOWNLOADS)
    ask_in_widget(browser, "How do I store Longjing tea?")
    wait_for(lambda: ("complete", answer) in bot_texts(browser))
    root = widget(browser)
    download = by_css(root, ".hd-download")
    assert download.get_attribute("aria-label") == "Download this conversation"
    download.send_keys(Keys.ENTER)  # the keyboard reaches it like every header button
    transcript = wait_for(lambda: browser.execute_script("return window.__transcript"))
    assert "How do I store Longjing tea?" in transcript and answer in transcript
    assert "Your conversations with our customer service" in transcript


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
