"""The console in real headless Chromium: an agent approves the action the bot proposed, from the keyboard, and
reads the outcome live (issue 19: "sent to an agent for approval"). The action is the demo shop's order look-up
on the live server's own order API, set to need an agent's approval."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AGENT_PASSWORD, LiveServer, agent_create, wait_for

pytestmark = pytest.mark.browser

SETUP = """
from django.conf import settings
from django.utils import timezone
from conversations.actions.demo import demo_action_ensure
from conversations.models import ActionCall, Conversation, Customer, Message
from conversations.selectors.customers import customer_hash
Conversation.objects.all().delete()
action = demo_action_ensure(base_url={url!r})
action.read_only, action.confirmation = False, 'agent'
action.save()
customer_id = settings.DEMO_CUSTOMER_ID
customer = Customer.objects.filter(external_id_hash=customer_hash('external_id', customer_id)).first() or \\
    Customer.objects.create(external_id=customer_id, external_id_hash=customer_hash('external_id', customer_id))
now = timezone.now()
c = Conversation.objects.create(customer=customer, status='waiting_human', handoff_reason='action_approval',
                                handoff_at=now, last_message_at=now)
Message.objects.create(conversation=c, role='customer', content='Where is my order 10234?', client_id='b-1')
bot = Message.objects.create(conversation=c, role='bot', answer_source='action', content='I have passed your '
                             'request (order_lookup) to a colleague, who will check and confirm it shortly.')
call = ActionCall.objects.create(action=action, action_name=action.name, conversation=c, message=bot,
                                 arguments={{'order_number': '10234'}}, status='proposed')
bot.retrieval = {{'actions': [call.pk]}}
bot.save()
print(c.pk)
"""


@pytest.fixture(scope="module")
def live_app_env() -> dict[str, str]:
    return {"DEMO_CUSTOMER_ID": "demo-customer-1"}


def test_an_agent_approves_a_proposed_action_from_the_keyboard_and_sees_the_outcome_live(
    live_app: LiveServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    conversation_id = live_app.shell(SETUP.format(url=live_app.url)).strip().splitlines()[-1]
    agent_create(live_app, "mei", "Mei")
    browser.get(live_app.url + "/console/login/?next=/console/")
    browser.execute_script("localStorage.setItem('helpdesk-console-lang', 'zh-hans')")
    browser.find_element(By.NAME, "username").send_keys("mei")
    browser.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, f'.hc-item[data-id="{conversation_id}"]'))[0].click()

    # Waiting for a person: the proposal says to take it over first, and offers no buttons yet.
    hint = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".hc-action-proposed .hc-approval-hint"))
    assert hint.is_displayed() and hint.text == "接管对话后才能批准或拒绝此操作。"
    approve = browser.find_element(By.CSS_SELECTOR, ".hc-action-proposed button.hc-approve")
    assert not approve.is_displayed()

    browser.find_element(By.ID, "hc-take").click()
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".hc-action-proposed button.hc-approve").is_displayed())
    assert not browser.find_element(By.CSS_SELECTOR, ".hc-action-proposed .hc-approval-hint").is_displayed()
    buttons = browser.find_elements(By.CSS_SELECTOR, ".hc-action-proposed .hc-approval button")
    assert [b.text for b in buttons] == ["批准", "拒绝"]
    assert buttons[0].get_attribute("aria-label") == "批准 order_lookup"

    # From the keyboard: Tab from the page to the button, Enter approves.
    browser.execute_script("arguments[0].focus()", buttons[1])
    browser.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
    assert "hc-approve" in browser.switch_to.active_element.get_attribute("class")
    browser.switch_to.active_element.send_keys(Keys.ENTER)

    # The customer is told, in the agent's name and the customer's language, with the shop's key facts; the call
    # beside the proposal now reads OK, with no buttons left.
    told = wait_for(lambda: [m for m in browser.find_elements(By.CSS_SELECTOR, "#hc-messages .hc-role-agent")
                             if "SF1400238855" in m.text])
    assert "Done: your request (order_lookup) has been carried out." in told[0].text
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-action-ok"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".hc-approval")
    assert live_app.query("SELECT status, response_status FROM conversations_actioncall") == [("ok", 200)]
    assert [row[0] for row in live_app.query("SELECT action FROM agents_auditevent ORDER BY id")] == [
        "take_over", "action_approve"]
