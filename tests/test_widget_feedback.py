"""The customer widget in real headless Chromium against a live `manage.py serve` and the fake Ollama: what the
customer writes and rates (the length limit, feedback and ratings, the pre-chat form, stopping a reply).

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
    console,
    fresh_page,
    in_widget,
    open_panel,
    texts,
    wait_for,
    widget,
)
from tests.fake_ollama import FakeOllama, Reply
from tests.support.widget import (
    MAX_CHARS,
    by_css,
    conversation_of,
    focused,
    keys,
    live_app_env,  # noqa: F401 (a fixture: this module's server settings)
    stored_count,
    stored_feedback,
)

pytestmark = pytest.mark.browser


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
