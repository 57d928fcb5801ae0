"""The demo page in real headless Chromium against a live `manage.py serve` (what `make run` starts)."""

from __future__ import annotations

import pytest

from tests.browser import (
    LAST_TURN_ANSWERED,
    LiveServer,
    ask_in_widget,
    bot_texts,
    fresh_page,
    host_site,
    signed_user,
    wait_for,
    widget,
)
from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import ROOT

pytestmark = pytest.mark.browser

ANSWER = "Our tea ships within 24 hours from Hangzhou, and delivery takes two to four days across mainland China."


def test_customer_chats_sees_streaming_and_keeps_history_after_reload(
    live_server_url: str, browser: object, fake_ollama_server: FakeOllama
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=ANSWER, thinking="PRIVATE-REASONING", ttft=0.2, per_token=0.06))
    fresh_page(browser, live_server_url + "/")
    assert "Lumen" in browser.title
    wait_for(lambda: widget(browser).find_elements(By.CSS_SELECTOR, ".hd-launcher"))
    widget(browser).find_element(By.CSS_SELECTOR, ".hd-launcher").click()
    box = wait_for(lambda: widget(browser).find_element(By.CSS_SELECTOR, ".hd-input"))
    wait_for(lambda: widget(browser).find_elements(By.CSS_SELECTOR, ".hd-system"))  # greeting after history
    box.send_keys("How long does shipping take?", Keys.ENTER)

    # While streaming, the bubble shows a growing prefix of the answer.
    partial = wait_for(lambda: [t for s, t in bot_texts(browser) if t and t != ANSWER and s != "complete"])
    assert ANSWER.startswith(partial[0]) and len(partial[0]) < len(ANSWER)
    wait_for(lambda: ("complete", ANSWER) in bot_texts(browser))
    page = browser.execute_script("return document.getElementById('helpdesk-widget-root').shadowRoot.innerHTML")
    assert "PRIVATE-REASONING" not in page

    browser.refresh()
    wait_for(lambda: ("complete", ANSWER) in bot_texts(browser))
    customer = [e.text for e in widget(browser).find_elements(By.CSS_SELECTOR, ".hd-customer .hd-body")]
    assert customer == ["How long does shipping take?"]


def test_html_typed_by_the_customer_is_shown_as_text(live_server_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    fresh_page(browser, live_server_url + "/")
    root = wait_for(lambda: widget(browser))
    if root.find_element(By.CSS_SELECTOR, ".hd-panel").get_attribute("hidden") is not None:
        root.find_element(By.CSS_SELECTOR, ".hd-launcher").click()
    payload = '<img src=x onerror="window.__pwned=1"><b>bold?</b>'
    wait_for(lambda: root.find_element(By.CSS_SELECTOR, ".hd-input")).send_keys(payload, Keys.ENTER)
    wait_for(lambda: payload in [e.text for e in root.find_elements(By.CSS_SELECTOR, ".hd-customer .hd-body")])
    assert browser.execute_script("return window.__pwned === undefined")
    assert not root.find_elements(By.CSS_SELECTOR, ".hd-messages img, .hd-messages b")
    # Let the bot finish answering, so its reply cannot take a reply scripted for the next test.
    wait_for(lambda: browser.execute_script(LAST_TURN_ANSWERED))


def sources_of_last_bot_reply(driver: object) -> list[list[str]]:
    """[tag, text, href] of each source under the bot's answer to the customer's newest message."""
    script = """
      const root = document.getElementById('helpdesk-widget-root').shadowRoot;
      const items = [...root.querySelectorAll('.hd-customer, .hd-bot')];
      const last = items[items.length - 1];
      if (!last || !last.classList.contains('hd-bot') || last.dataset.status !== 'complete') return null;
      return [...last.querySelectorAll('.hd-source')].map(s => [s.tagName, s.textContent, s.getAttribute('href')]);
    """
    return driver.execute_script(script)


def test_demo_knowledge_answers_show_their_sources_as_links(
    live_server_url: str, browser: object, fake_ollama_server: FakeOllama
) -> None:
    import json

    from selenium.webdriver.common.by import By

    demo = json.loads((ROOT / "knowledge" / "demo" / "demo.json").read_text(encoding="utf-8"))
    urls = {article["title"]: article["public_url"] for article in demo["articles"]}
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(cite_first_source=True, ttft=0.1, per_token=0.02))
    fresh_page(browser, live_server_url + "/")
    ask_in_widget(browser, "Is a cracked gaiwan covered by the warranty?")
    sources = wait_for(lambda: sources_of_last_bot_reply(browser))
    [(tag, title, href)] = sources
    assert tag == "A" and urls[title] == href
    # The reply can be rated; the server's acknowledgement marks the chosen thumb.
    thumbs_up = widget(browser).find_elements(By.CSS_SELECTOR, ".hd-bot .hd-thumb")[-2]
    thumbs_up.click()
    wait_for(lambda: thumbs_up.get_attribute("aria-pressed") == "true")


def test_an_faq_question_is_answered_at_once_in_the_widget(
    live_server_url: str, browser: object, fake_ollama_server: FakeOllama
) -> None:
    import json

    demo = json.loads((ROOT / "knowledge" / "demo" / "demo.json").read_text(encoding="utf-8"))
    faq = next(f for f in demo["faqs"] if f["question"] == "How much is shipping?")
    fake_ollama_server.reset()
    fresh_page(browser, live_server_url + "/")
    ask_in_widget(browser, "how much is shipping")
    wait_for(lambda: ("complete", faq["answer"]) in bot_texts(browser))
    assert fake_ollama_server.chat_requests() == []


def test_hostile_source_titles_and_links_stay_inert(
    live_app: LiveServer, browser: object, fake_ollama_server: FakeOllama
) -> None:
    hostile = '<img src=x onerror="window.__pwned2=1">Kettle care'
    script = (
        "from knowledge.models import Article\n"
        "from knowledge.services.indexing import article_index\n"
        "from knowledge.services.version import knowledge_version_bump\n"
        f"a = Article.objects.create(title={hostile!r}, body='## Descaling\\n\\nDescale the kettle with citric acid "
        "every month.', public_url='javascript:window.__pwned3=1', status='published')\n"
        "knowledge_version_bump(); article_index(article_id=a.pk)\n"
    )
    live_app.shell(script)
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(cite_first_source=True))
    fresh_page(browser, live_app.url + "/")
    ask_in_widget(browser, "How do I descale the kettle?")
    sources = wait_for(lambda: sources_of_last_bot_reply(browser))
    assert sources == [["SPAN", hostile, None]]  # shown as text, and no link for a javascript: address
    assert browser.execute_script("return window.__pwned2 === undefined && window.__pwned3 === undefined")


def agent_signed_in_to_the_console(live_app: LiveServer, browser: object) -> str:
    """Mei, an agent, signs in and opens the console; returns its window."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    script = (
        "from django.contrib.auth.models import Group, User\n"
        "u, _ = User.objects.get_or_create(username='mei', defaults={'first_name': 'Mei'})\n"
        "u.set_password('console-pass-1'); u.save(); u.groups.add(Group.objects.get_or_create(name='agents')[0])\n"
    )
    live_app.shell(script)
    browser.get(live_app.url + "/console/")  # not signed in: sent to the console's own sign-in page
    browser.find_element(By.NAME, "username").send_keys("mei")
    browser.find_element(By.NAME, "password").send_keys("console-pass-1", Keys.ENTER)
    wait_for(lambda: browser.find_elements(By.ID, "hc-list"))
    return browser.current_window_handle


def take_over_and_write_from_the_keyboard(browser: object, text: str) -> None:
    """From the keyboard only: j moves down the inbox, Enter opens, t takes over, r writes (Enter will send)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = browser.find_element(By.TAG_NAME, "body")
    for _ in range(20):
        page.send_keys("j")
        selected = browser.find_elements(By.CSS_SELECTOR, '.hc-item[aria-selected="true"]')
        if selected and "customer asked" in selected[0].text:
            break
    page.send_keys(Keys.ENTER)
    wait_for(lambda: "转人工" in browser.find_element(By.ID, "hc-messages").text)
    page.send_keys("t")
    wait_for(lambda: browser.find_element(By.ID, "hc-back").is_displayed())
    page.send_keys("r")
    browser.switch_to.active_element.send_keys(text)


def test_handoff_appears_in_the_console_and_the_agents_reply_reaches_the_widget(
    live_app: LiveServer, browser: object, fake_ollama_server: FakeOllama
) -> None:
    """Two windows: the customer on the demo page, an agent in the console."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    live_server_url = live_app.url
    fake_ollama_server.reset()
    console_window = agent_signed_in_to_the_console(live_app, browser)

    # The customer, in another window, asks for a person.
    browser.switch_to.new_window("window")
    customer_window = browser.current_window_handle
    fresh_page(browser, live_server_url + "/")
    ask_in_widget(browser, "转人工")
    wait_for(lambda: any("客服同事" in text for text in
                         [e.text for e in widget(browser).find_elements(By.CSS_SELECTOR, ".hd-system .hd-body")]))

    # Without a reload, the console lists it as waiting; the agent opens it and takes over.
    browser.switch_to.window(console_window)
    item = wait_for(lambda: [i for i in browser.find_elements(By.CSS_SELECTOR, ".hc-item.hc-waiting_human")
                             if "customer asked" in i.text])[0]
    assert "转人工" in item.text
    assert browser.title.startswith("●")  # the visible notification of a new handoff

    take_over_and_write_from_the_keyboard(browser, "<b>您好</b>，我是 Mei，马上帮您处理。")

    # While she writes, the customer sees who is typing.
    browser.switch_to.window(customer_window)
    wait_for(lambda: widget(browser).find_element(By.CSS_SELECTOR, ".hd-typing").text == "Mei is typing…")
    browser.switch_to.window(console_window)
    browser.find_element(By.ID, "hc-text").send_keys(Keys.ENTER)

    # The customer sees who joined and the reply, as text.
    browser.switch_to.window(customer_window)
    wait_for(lambda: "<b>您好</b>，我是 Mei，马上帮您处理。" in
             [e.text for e in widget(browser).find_elements(By.CSS_SELECTOR, ".hd-agent .hd-body")])
    systems = [e.text for e in widget(browser).find_elements(By.CSS_SELECTOR, ".hd-system .hd-body")]
    assert "客服 Mei 已加入对话。" in systems
    assert not widget(browser).find_elements(By.CSS_SELECTOR, ".hd-messages b")

    # The agent resolves; the customer rates the conversation, and the agent sees the rating.
    browser.switch_to.window(console_window)
    browser.find_element(By.ID, "hc-resolve").click()
    browser.switch_to.window(customer_window)
    stars = wait_for(lambda: widget(browser).find_elements(By.CSS_SELECTOR, ".hd-star"))
    stars[4].click()
    widget(browser).find_element(By.CSS_SELECTOR, ".hd-card .hd-send").click()
    wait_for(lambda: "感谢您的评分" in widget(browser).find_element(By.CSS_SELECTOR, ".hd-card").text or
             "Thank you" in widget(browser).find_element(By.CSS_SELECTOR, ".hd-card").text)
    browser.close()
    browser.switch_to.window(console_window)
    wait_for(lambda: "CSAT 5/5" in browser.find_element(By.ID, "hc-state").text)


def test_markdown_in_replies_is_rendered_safely(
    live_server_url: str, browser: object, fake_ollama_server: FakeOllama
) -> None:
    reply = (
        "**Free shipping** over ¥199:\n\n- orders *above* ¥199\n- use code `TEA10`\n\n"
        "See [our guide](https://lumenleaf.example/help) or [this](javascript:window.__pwned5=1).\n\n"
        '<img src=x onerror="window.__pwned4=1"><script>window.__pwned6=1</script>'
    )
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=reply))
    fresh_page(browser, live_server_url + "/")
    ask_in_widget(browser, "Tell me about shipping offers")
    wait_for(lambda: browser.execute_script(LAST_TURN_ANSWERED))
    rendered = browser.execute_script("""
      const root = document.getElementById('helpdesk-widget-root').shadowRoot;
      const bots = [...root.querySelectorAll('.hd-bot .hd-body')];
      const body = bots[bots.length - 1];
      return {
        strong: [...body.querySelectorAll('strong')].map(n => n.textContent),
        items: [...body.querySelectorAll('ul li')].map(n => n.textContent),
        em: [...body.querySelectorAll('em')].map(n => n.textContent),
        code: [...body.querySelectorAll('code')].map(n => n.textContent),
        links: [...body.querySelectorAll('a')].map(n => [n.textContent, n.getAttribute('href')]),
        elements: [...body.querySelectorAll('img, script')].length,
        text: body.textContent,
      };
    """)
    assert rendered["strong"] == ["Free shipping"]
    assert rendered["items"] == ["orders above ¥199", "use code TEA10"]
    assert rendered["em"] == ["above"] and rendered["code"] == ["TEA10"]
    assert rendered["links"] == [["our guide", "https://lumenleaf.example/help"]]
    assert rendered["elements"] == 0
    assert "[this](javascript:window.__pwned5=1)" in rendered["text"] and "<img src=x" in rendered["text"]
    assert browser.execute_script(
        "return window.__pwned4 === undefined && window.__pwned5 === undefined && window.__pwned6 === undefined"
    )


HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Another shop</title>
<style>* {{ all: unset !important; }} li, div, button {{ display: none !important; }}</style></head>
<body><p>Another site, with hostile CSS.</p>
<script>window.helpdeskSettings = {{locale: "zh-hans", title: "小店客服", position: "left",
  primaryColor: "rgb(178, 34, 34)", user: {user}}};</script>
<script src="{base}/static/widget.js" data-helpdesk-url="{base}" async></script></body></html>"""


def test_a_signed_in_user_on_another_site_keeps_one_conversation_and_a_wrong_hash_is_refused(
    live_app: LiveServer, browser: object, fake_ollama_server: FakeOllama
) -> None:
    import json

    from selenium.webdriver.common.by import By

    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content="您好，李雷！"))
    user = json.dumps(signed_user("shop-user-7", name="李雷"))
    forged = json.dumps({**signed_user("shop-user-7", name="李雷"), "name": "Mallory"})
    pages = {"shop.html": HOST_PAGE.format(user=user, base=live_app.url),
             "forged.html": HOST_PAGE.format(user=forged, base=live_app.url)}
    with host_site(pages, live_app.second_port) as site:
        fresh_page(browser, site + "/shop.html")
        root = wait_for(lambda: widget(browser))
        assert root.find_element(By.CSS_SELECTOR, ".hd-title").get_attribute("textContent") == "小店客服"
        launcher = root.find_element(By.CSS_SELECTOR, ".hd-launcher")
        assert launcher.value_of_css_property("background-color") == "rgba(178, 34, 34, 1)"
        assert launcher.location["x"] < 100  # on the left, as the host asked
        ask_in_widget(browser, "我想查一下订单")
        wait_for(lambda: ("complete", "您好，李雷！") in bot_texts(browser))
        # Another device: nothing in localStorage, the same user, the same conversation.
        fresh_page(browser, site + "/shop.html")
        wait_for(lambda: widget(browser)).find_element(By.CSS_SELECTOR, ".hd-launcher").click()
        wait_for(lambda: ("complete", "您好，李雷！") in bot_texts(browser))

        # A forged signature: refused, with a clear message, and nothing shown of the real user's chat.
        fresh_page(browser, site + "/forged.html")
        root = wait_for(lambda: widget(browser))
        wait_for(lambda: root.find_element(By.CSS_SELECTOR, ".hd-launcher")).click()
        wait_for(lambda: "无法确认您的身份" in root.find_element(By.CSS_SELECTOR, ".hd-banner").text)
        assert not bot_texts(browser)
    script = (
        "from conversations.selectors.customers import customer_find\n"
        "(c,) = customer_find(external_id='shop-user-7'); print(c.name, c.conversations.count())\n"
    )
    out = live_app.shell(script).split()
    assert out[-2:] == ["李雷", "1"]
