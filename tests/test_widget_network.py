"""The customer widget in real headless Chromium against a live `manage.py serve` and the fake Ollama: the network and
the server going away and coming back (network loss, a restart, the rate limit, a busy server, a reply generated
again).

Every test asserts what the customer sees and what the server stored (helpers: tests/support/widget.py).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.browser import (
    LAST_TURN_ANSWERED,
    LiveServer,
    agent_create,
    ask_in_widget,
    bot_texts,
    console,
    fresh_page,
    open_panel,
    texts,
    wait_for,
    widget,
)
from tests.fake_ollama import FakeOllama, Reply
from tests.support.faults import FaultProxy
from tests.support.widget import (
    by_css,
    conversation_of,
    live_app_env,  # noqa: F401 (a fixture: this module's server settings)
    pending,
    stored_count,
)

pytestmark = pytest.mark.browser


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


def test_a_message_written_offline_is_sent_once_when_the_network_is_back_and_a_reply_that_finished_shows_whole(
    live_app: LiveServer, browser: Any, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.keys import Keys

    stored = ("Keep Longjing sealed in its tin, away from light, heat and strong smells. Opened, it is best within "
              "two months; unopened, a cool cupboard keeps it fresh for a year.")
    later = "Yes: 100 g of Longjing makes about forty cups."
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=stored, ttft=0.1, per_token=0.08), Reply(content=later))
    network = FaultProxy(("127.0.0.1", live_app.port))  # a lost network when cut
    try:
        fresh_page(browser, network.url + "/")
        browser.execute_script(SPY)
        ask_in_widget(browser, "How should I store Longjing?")
        wait_for(lambda: any(status == "streaming" and text for status, text in bot_texts(browser)))

        network.cut()
        wait_for(lambda: texts(browser, ".hd-banner") == ["Connection lost — reconnecting…"])
        # The reply goes on being written on the server, and is stored whole, while the widget hears nothing.
        query = "SELECT status FROM conversations_message WHERE role = 'bot' AND plain(content) = ?"
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
