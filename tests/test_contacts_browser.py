"""The console's contact panel in real headless Chromium: a verified customer's past conversations beside the
open one, their contact page from it, and an anonymous visitor shown as such."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import LiveServer, wait_for
from tests.test_console_browser import console_sign_in

pytestmark = pytest.mark.browser

CUSTOMER = (
    "import json\n"
    "from datetime import timedelta\n"
    "from django.utils import timezone\n"
    "from conversations.models import Conversation, Customer, Message\n"
    "from helpdesk.encrypted_fields import derived_columns\n"
    "now = timezone.now()\n"
    "Conversation.objects.all().delete()\n"
    "Customer.objects.all().delete()\n"
    "li = Customer.objects.create(**derived_columns(Customer, {'external_id': 'u-42', 'name': '李雷',"
    " 'email': 'li@example.com', 'attributes': json.dumps({'plan': '金卡'})}))\n"
    "old = Conversation.objects.create(customer=li, status='resolved', csat_score=4, channel='app:shop',"
    " resolved_at=now - timedelta(days=3))\n"
    "Conversation.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=3))\n"
    "Message.objects.create(conversation=old, role='customer', content='退货要多久？', client_id='old-1')\n"
    "c = Conversation.objects.create(customer=li, status='waiting_human', handoff_at=now, last_message_at=now)\n"
    "Message.objects.create(conversation=c, role='customer', content='Where is my order?', client_id='new-1')\n"
    "print(old.pk, c.pk)\n"
)


def test_a_verified_customers_past_conversations_are_beside_the_open_one(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    old_id, new_id = live_app.shell(CUSTOMER).strip().splitlines()[-1].split()
    console_sign_in(browser, live_app, "mei", "Mei", language="en")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-item"))
    browser.find_elements(By.CSS_SELECTOR, ".hc-item")[0].click()
    panel = browser.find_element(By.ID, "hc-contact")
    wait_for(lambda: panel.is_displayed() and "李雷" in panel.text)
    assert "li@example.com" in panel.text and "u-42" in panel.text and "Conversations (2)" in panel.text
    history = panel.find_elements(By.CSS_SELECTOR, ".hc-contact-history li")
    assert [li.find_element(By.CSS_SELECTOR, ".hc-contact-open").text for li in history] == [
        f"#{new_id}", f"#{old_id}"]
    assert "this conversation" in history[0].text
    unverified = panel.find_element(By.CSS_SELECTOR, ".hc-contact-unverified-title")
    assert unverified.text == "From the site's page, not signed (unverified)" and "plan\n金卡" in panel.text
    assert "退货要多久？" in history[1].text and "CSAT 4/5" in history[1].text and "Resolved" in history[1].text

    # The past conversation opens from the keyboard; then the contact page, in the console's language.
    history[1].find_element(By.CSS_SELECTOR, ".hc-contact-open").send_keys(Keys.ENTER)
    wait_for(lambda: browser.find_element(By.ID, "hc-title").text == f"Conversation #{old_id}")
    browser.execute_script("localStorage.setItem('helpdesk-console-lang', 'zh-hans'); location.reload()")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-item"))
    browser.find_elements(By.CSS_SELECTOR, ".hc-item")[0].click()
    panel = browser.find_element(By.ID, "hc-contact")
    wait_for(lambda: panel.is_displayed() and "会话（2）" in panel.text)
    panel.find_element(By.CSS_SELECTOR, ".hc-contact-page").send_keys(Keys.ENTER)
    wait_for(lambda: "/console/contacts/" in browser.current_url)
    assert "网站用户 ID" in browser.page_source and "退货要多久？" in browser.page_source


def test_an_anonymous_visitor_is_shown_as_such_and_nothing_else(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    live_app.shell(
        "from django.utils import timezone\n"
        "from conversations.models import Conversation, Message\n"
        "Conversation.objects.all().delete()\n"
        "c = Conversation.objects.create(status='waiting_human', handoff_at=timezone.now(),"
        " last_message_at=timezone.now(), contact_email='typed@example.com')\n"
        "Message.objects.create(conversation=c, role='customer', content='Hello', client_id='a-1')\n"
    )
    console_sign_in(browser, live_app, "lin", "Lin", language="en")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-item"))
    browser.find_elements(By.CSS_SELECTOR, ".hc-item")[0].click()
    panel = browser.find_element(By.ID, "hc-contact")
    wait_for(lambda: panel.is_displayed() and panel.text)
    assert panel.find_element(By.ID, "hc-contact-body").text == "Anonymous visitor"
    # What the visitor typed in the pre-chat form stays on the conversation's own line (once a duplicate key
    # in console.js's strings broke that line, and the panel with it).
    assert "typed@example.com" in browser.find_element(By.ID, "hc-state").text
