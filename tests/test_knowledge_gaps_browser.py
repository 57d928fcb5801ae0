"""Knowledge gaps in real headless Chromium: a curator sees a topic of unanswered questions and, from the keyboard,
follows "Write an article" to the admin's add form, prefilled with the topic's questions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import AGENT_PASSWORD, LiveServer, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_app_env() -> dict[str, str]:
    return {"GAPS_EMBED_SIMILARITY": "0.25"}  # the fake Ollama's hashed word vectors are sparser than a model's


def test_a_curator_turns_a_topic_into_a_prefilled_article_draft(live_app: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    live_app.shell(
        "from django.contrib.auth.models import Group, User\n"
        "from conversations.models import Message, Conversation\n"
        "u = User.objects.create_superuser('curator', password=" + repr(AGENT_PASSWORD) + ")\n"
        "u.groups.add(Group.objects.get_or_create(name='agents')[0])\n"
        "for text in ['电子发票在哪里下载', '电子发票可以改抬头吗', 'Do you offer gift wrapping?']:\n"
        "    c = Conversation.objects.create()\n"
        "    q = Message.objects.create(conversation=c, role='customer', content=text, client_id='q')\n"
        "    Message.objects.create(conversation=c, role='bot', content='…', reply_to=q, answer_source='declined')\n"
    )
    browser.get(live_app.url + "/console/login/?next=/console/gaps/%3Flang%3Dzh-hans")
    browser.find_element(By.NAME, "username").send_keys("curator")
    browser.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)

    topics = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-gap"))
    assert len(topics) == 2
    assert "按语义分组" in browser.find_element(By.CSS_SELECTOR, ".hc-gaps-summary").text  # the fake's embeddings
    first = topics[0]
    assert "2 个问题" in first.find_element(By.CSS_SELECTOR, ".hc-gap-count").text
    examples = [li.text for li in first.find_elements(By.CSS_SELECTOR, ".hc-gap-examples li")]
    assert sorted(examples) == ["电子发票可以改抬头吗", "电子发票在哪里下载"]
    link = first.find_element(By.CSS_SELECTOR, ".hc-gap-write")
    assert link.text.startswith("写一篇文章")

    link.send_keys(Keys.ENTER)  # a link is followed from the keyboard

    title = wait_for(lambda: browser.find_element(By.ID, "id_title"))
    assert title.get_attribute("value") in examples
    body = browser.find_element(By.ID, "id_body").get_attribute("value")
    assert "- 电子发票在哪里下载" in body and "- 电子发票可以改抬头吗" in body
    assert browser.find_element(By.ID, "id_language").get_attribute("value") == "zh-hans"
    assert browser.find_element(By.ID, "id_status").get_attribute("value") == "draft"
