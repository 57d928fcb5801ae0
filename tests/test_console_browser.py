"""The console in real headless Chromium: waiting customers first, "Load more" from the keyboard, signals in words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AGENT_PASSWORD, LiveServer, agent_create, wait_for

pytestmark = pytest.mark.browser


def console_sign_in(browser: Any, live: LiveServer, username: str, name: str, *, language: str) -> None:
    """A new agent signed in to the console, which speaks `language`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    agent_create(live, username, name)
    browser.get(live.url + "/console/login/?next=/console/")
    browser.execute_script(f"localStorage.setItem('helpdesk-console-lang', '{language}')")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)


def open_the_only_conversation(live: LiveServer, browser: Any, username: str, messages: str) -> None:
    """One conversation waiting for a person (the others' tests left theirs: deleted), with the messages that
    `messages` creates for `c`, opened in the console of a new agent who reads Chinese."""
    from selenium.webdriver.common.by import By

    live.shell(
        "from django.utils import timezone\n"
        "from conversations.models import Conversation, Message\n"
        "Conversation.objects.all().delete()\n"
        "c = Conversation.objects.create(status='waiting_human', handoff_at=timezone.now(),"
        " last_message_at=timezone.now())\n" + messages
    )
    console_sign_in(browser, live, username, username.title(), language="zh-hans")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-item"))
    browser.find_elements(By.CSS_SELECTOR, ".hc-item")[0].click()


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
    console_sign_in(browser, live_app, "mei", "Mei", language="zh-hans")

    def items() -> list[Any]:
        return browser.find_elements(By.CSS_SELECTOR, ".hc-item")

    wait_for(lambda: len(items()) == 20)
    assert [i.get_attribute("class").split()[-1] for i in items()[:3]] == ["hc-waiting_human"] * 3
    more = browser.find_element(By.ID, "hc-more")
    assert more.is_displayed() and more.text == "加载更多"

    # From the search box, Tab reaches the button (past the saved views' controls and the scrollable list) and
    # Enter loads the next page.
    browser.find_element(By.ID, "hc-search").click()
    for _ in range(8):
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


def test_a_complaint_comes_first_and_its_header_shows_what_the_customer_gave(
    live_app: LiveServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    # An hour-old request for a person, and a complaint of a minute ago with an order number given twice.
    token = live_app.shell(
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from conversations.intents import classify\n"
        "from conversations.models import Conversation, Message\n"
        "now = timezone.now()\n"
        "Conversation.objects.all().delete()\n"
        "Conversation.objects.create(status='waiting_human', handoff_reason='customer_request',"
        " handoff_at=now - timedelta(hours=1), last_message_at=now)\n"
        "c = Conversation.objects.create(status='waiting_human', handoff_reason='complaint',"
        " handoff_at=now - timedelta(minutes=1), last_message_at=now)\n"
        "for n, text in enumerate(['Where is order 31415926? call 138 0013 8000',"
        " 'Order 31415926 charged ¥99 twice, this is a scam']):\n"
        "    found = classify(text)\n"
        "    Message.objects.create(conversation=c, role='customer', content=text, client_id=f'b-{n}',"
        " intent=found.intent, intent_source='rules', entities=found.entities)\n"
        "print(c.token)\n"
    ).strip().splitlines()[-1]
    console_sign_in(browser, live_app, "lin", "Lin", language="en")

    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".hc-item")) == 2)
    first = browser.find_elements(By.CSS_SELECTOR, ".hc-item")[0]
    assert first.find_element(By.CSS_SELECTOR, ".hc-reason").text == "complaint"
    first.click()

    def chips() -> list[str]:
        return [chip.text for chip in browser.find_elements(By.CSS_SELECTOR, "#hc-details .hc-entity")]

    wait_for(lambda: len(chips()) == 3)
    assert chips() == ["order: 31415926", "phone: 138 0013 8000", "amount: ¥99"]
    assert browser.find_element(By.CSS_SELECTOR, "#hc-details .hc-intent").text == "intent: complaint"

    # A new message from the customer (on the customer's socket, from the same page) adds what it gives, live.
    browser.execute_script(
        "var ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws/chat/' + arguments[0] + '/');"
        "ws.onopen = function () { ws.send(JSON.stringify({type: 'message', client_id: 'b-live',"
        " text: 'also write to me at lin.customer@example.com'})); };",
        token,
    )
    wait_for(lambda: len(chips()) == 4)
    assert chips()[-1] == "email: lin.customer@example.com"
    assert browser.find_element(By.CSS_SELECTOR, "#hc-details .hc-intent").text == "intent: question"


def test_the_scope_and_judge_signals_read_in_words(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    open_the_only_conversation(
        live_app, browser, "lin",
        "Message.objects.create(conversation=c, role='customer', content='Is delivery free?')\n"
        "Message.objects.create(conversation=c, role='bot', content='Orders ship free. Returns are free too.',"
        " answer_source='llm', confidence=0.3, confidence_signals={'answer_source': 'llm', 'status': 'complete',"
        " 'coverage': 0.67, 'judge_supported': 0.5, 'judge_unsupported': ['Returns are free too.']})\n"
        "Message.objects.create(conversation=c, role='customer', content='明天杭州天气怎么样')\n"
        "Message.objects.create(conversation=c, role='bot', content='这里没法帮您处理这个问题',"
        " answer_source='declined', confidence=0.2,"
        " confidence_signals={'answer_source': 'declined', 'status': 'complete', 'declined': True})\n",
    )
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-unsupported"))
    assert "评审模型认为以下内容没有资料支持" in browser.find_element(By.CSS_SELECTOR, ".hc-unsupported").text
    assert "Returns are free too." in browser.find_element(By.CSS_SELECTOR, ".hc-unsupported li").text
    notes = [n.get_attribute("textContent") for n in browser.find_elements(By.CSS_SELECTOR, ".hc-signal-notes li")]
    assert notes == ["覆盖问题的 67%", "评审模型：50% 的句子有资料支持", "已婉拒：没有资料涵盖这个问题"]


def test_a_flagged_message_is_marked_with_its_category(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    open_the_only_conversation(
        live_app, browser, "yu",
        "Message.objects.create(conversation=c, role='customer', content='有人让我刷单返利', flagged='fraud')\n"
        "Message.objects.create(conversation=c, role='customer', content='Where is my parcel?')\n",
    )
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#hc-messages .hc-msg")) == 2)
    flagged, plain = browser.find_elements(By.CSS_SELECTOR, "#hc-messages .hc-msg")
    assert "hc-flagged" in flagged.get_attribute("class") and "hc-flagged" not in plain.get_attribute("class")
    assert flagged.find_element(By.CSS_SELECTOR, ".hc-flag").text == "已标记：诈骗"
    assert not plain.find_elements(By.CSS_SELECTOR, ".hc-flag")
