"""What the widget's browser tests share: the live server's settings, the widget's DOM, what the server stored.

A helper module, not a plugin: each widget test module imports `live_app_env` (its server's settings).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import LiveServer, in_widget

MAX_CHARS = 300
GREETING = "Hi! Ask us anything about your order, shipping or returns."


@pytest.fixture(scope="module")
def live_app_env() -> dict[str, str]:
    # A small limit, to see that the widget takes the server's; no knowledge base (with the demo's, a question it
    # does not cover is declined without the model: tests/test_browser.py), no low-confidence handoffs nor checks
    # of the numbers, so that every scripted reply is the bot's answer whatever it says.
    return {"MESSAGE_MAX_CHARS": str(MAX_CHARS), "HANDOFF_THRESHOLD": "0", "VERIFY_FACTS": "false",
            "LOAD_DEMO_KNOWLEDGE": "false"}


def by_css(root: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return root.find_element(By.CSS_SELECTOR, selector)


def keys(driver: Any, *sequence: str) -> None:
    """Type at whatever has the focus, as a keyboard does."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*sequence).perform()


def focused(driver: Any) -> str | None:
    """The class of the widget's element that has the focus."""
    return in_widget(driver, "return root && root.activeElement ? root.activeElement.className : null;")


def stored_count(live_app: LiveServer, content: str) -> int:
    return live_app.query("SELECT count(*) FROM conversations_message WHERE plain(content) = ?", (content,))[0][0]


def conversation_of(live_app: LiveServer, content: str) -> int:
    query = "SELECT conversation_id FROM conversations_message WHERE plain(content) = ?"
    return live_app.query(query, (content,))[0][0]


def stored_feedback(live_app: LiveServer, reply: str) -> list[tuple[int, str]]:
    """(rating, comment) stored for the bot reply `reply`."""
    query = ("SELECT f.rating, f.comment FROM conversations_feedback f JOIN conversations_message m "
             "ON m.id = f.message_id WHERE plain(m.content) = ?")
    return live_app.query(query, (reply,))


def pending(driver: Any) -> list[list[str]]:
    return in_widget(driver, """
      return [...root.querySelectorAll('.hd-customer.hd-pending')]
        .map(li => [li.querySelector('.hd-body').textContent, li.querySelector('.hd-note').textContent]);
    """)
