"""Make the widget's screenshots in this folder: desktop and phone, English and Simplified Chinese, and the
citations and agent-joined pictures of the README.

    .venv/bin/python docs/screenshots/make_screenshots.py [widget] [evaluation] [knowledge] [team]

(all scenes when none is named; each named one runs on the same fresh server, in that order).

It runs what the browser tests run (tests/browser.py): the product on a fresh SQLite file with the demo shop's
knowledge base, the test suite's fake Ollama (so the replies are scripted, the sources and FAQ answers real),
and headless Chromium. Each picture is one conversation: a question answered from an article, with its source
linked, then a question an FAQ entry answers at once. Chinese text needs a CJK font on the machine
(Debian: `apt-get install fonts-wqy-microhei`, or fonts-noto-cjk).

The evaluation report's picture (evaluation-report-en.png) is two real runs of the demo shop's evaluation set
against the fake model (quoting the first source it is given): one on the demo knowledge base, one after the
English returns article was unpublished, so the report shows what that change broke.

The knowledge pages (knowledge-gaps-en.png, knowledge-gaps-zh.png, article-health-en.png) come from customers
of an app (the app API) asking what the demo knowledge base does not cover, which the bot declines, and rating
the answers it gave, one with a thumbs-down. The team's pictures (console-teams-en.png, agents-report-en.png,
faq-suggestions-en.png) come from two agents in two teams signed in to their consoles while customers ask for a
person (one from the widget as a signed-in user of the shop's site), answering and resolving; see team_scene for
the one timestamp moved by hand.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

# The server and this script (reading what the server stored, tests.browser.LiveServer.query) encrypt and decrypt
# messages with the same keys: without them in the environment each would make its own key file.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("LOOKUP_HASH_KEY", secrets.token_urlsafe(32))

from tests.browser import (  # noqa: E402
    agent_create,
    ask_in_widget,
    bot_texts,
    browser_language,
    chromium,
    console,
    fresh_page,
    in_widget,
    phone,
    running_server,
    wait_for,
)
from tests.fake_ollama import FakeOllama, Reply  # noqa: E402

CONVERSATIONS = {
    "en": [
        ("Is a cracked gaiwan covered?",
         "Sorry about that! **Breakage in transit is covered** [1]:\n\n"
         "- send us a photo within 48 hours\n"
         "- we ship a new one for free"),
        ("How much is shipping?", None),
    ],
    "zh-hans": [
        ("盖碗运输途中破损，能免费补发吗？",
         "很抱歉给您添麻烦了！**运输破损可以免费补发** [1]：\n\n"
         "- 签收后 48 小时内发来照片\n"
         "- 我们免费补发，无需寄回"),
        ("运费多少钱?", None),
    ],
}
DESKTOP = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
REPORT = {**DESKTOP, "width": 1100}  # the console's report pages, shown 640 wide in the README


def converse(driver: object, language: str) -> None:
    """Ask each question and wait for its answer to be complete; rate the first answer."""
    for question, _ in CONVERSATIONS[language]:
        answered = len(bot_texts(driver))
        ask_in_widget(driver, question)
        wait_for(lambda answered=answered: len(bot_texts(driver)) > answered
                 and bot_texts(driver)[-1][0] == "complete")
    in_widget(driver, "root.querySelector('.hd-bot .hd-thumb').click()")
    wait_for(lambda: in_widget(driver, "return !!root.querySelector('.hd-thumb[aria-pressed=true]')"))
    blur(driver)


def desktop(driver: object) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)


def blur(driver: object) -> None:
    """The picture shows the conversation, not a caret blinking in a focused box."""
    in_widget(driver, "root.activeElement && root.activeElement.blur(); "
                      "const list = root.querySelector('.hd-messages'); list.scrollTop = list.scrollHeight;")


def citations_scene(driver: object, fake: FakeOllama, live: object) -> None:
    """widget-citations-en.png: an answer in the knowledge base's own words with its source, then an FAQ answer."""
    fake.reset()
    fake.script(Reply(cite_first_source=True))
    fresh_page(driver, live.url + "/")
    for question in ("Is a cracked gaiwan covered by the warranty?", "How much is shipping?"):
        answered = len(bot_texts(driver))
        ask_in_widget(driver, question)
        wait_for(lambda answered=answered: len(bot_texts(driver)) > answered and bot_texts(driver)[-1][0] == "complete")
    blur(driver)
    driver.save_screenshot(str(HERE / "widget-citations-en.png"))


def handoff_scene(driver: object, fake: FakeOllama, live: object) -> None:
    """widget-agent-joined.png: the customer asks for a person; Mei takes over from the console and replies."""
    fake.reset()
    fake.script(Reply(content="Not PayPal, sorry: we take **Alipay, WeChat Pay, UnionPay, Visa** and Mastercard [1]."))
    fresh_page(driver, live.url + "/")
    ask_in_widget(driver, "Do you accept PayPal?")
    wait_for(lambda: bot_texts(driver) and bot_texts(driver)[-1][0] == "complete")
    ask_in_widget(driver, "Can I talk to a person?")
    wait_for(lambda: in_widget(driver, "return root.querySelector('.hd-banner').textContent.includes('colleague')"))
    conversation = live.query("SELECT conversation_id FROM conversations_message WHERE plain(content) = ?",
                              ("Can I talk to a person?",))[0][0]
    agent_create(live, "agent", "Mei")  # the demo's agent account
    with console(driver, live, "agent", conversation):
        driver.find_element("id", "hc-take").click()
        wait_for(lambda: driver.find_element("id", "hc-back").is_displayed())
        driver.find_element("id", "hc-text").send_keys(
            "Hi, I'm Mei! For a company order we can also take a bank transfer. Shall I send the details?\n")
        wait_for(lambda: "Hi, I'm Mei" in driver.find_element("id", "hc-messages").text)
    wait_for(lambda: in_widget(driver, "return !!root.querySelector('.hd-agent')"))
    blur(driver)
    driver.save_screenshot(str(HERE / "widget-agent-joined.png"))


EVALUATE_TWICE = """
import json
from conversations.evaluation.services import run_create, run_execute
from conversations.models import EvalSet
from knowledge.models import Article
from knowledge.services.articles import articles_unpublish
shop = EvalSet.objects.get(is_default=True)
before = run_execute(run_create(eval_set=shop).pk)
articles_unpublish(article_ids=[Article.objects.get(title="Returns & Refunds").pk])
from helpdesk.celery import embedded_tasks_wait
embedded_tasks_wait(timeout=60)
after = run_execute(run_create(eval_set=shop).pk)
print(json.dumps([before.pk, after.pk]))
"""


def evaluation_scene(driver: object, fake: FakeOllama, live: object) -> None:
    """evaluation-report-en.png: the demo set run before and after a knowledge change, side by side."""
    import json

    from selenium.webdriver.common.by import By

    from tests.support.evaluation import evaluation_report_sign_in

    fake.reset()
    fake.state.default_reply = Reply(cite_first_source=True)
    before, after = json.loads(live.shell(EVALUATE_TWICE, timeout=300).strip().splitlines()[-1])
    agent_create(live, "curator", "Curator")
    live.shell("from django.contrib.auth.models import Permission, User\n"
               "User.objects.get(username='curator').user_permissions.add("
               "Permission.objects.get(codename='change_modelprofile'))")
    evaluation_report_sign_in(driver, live)
    wait_for(lambda: driver.find_elements(By.ID, f"hc-run-{before}"))
    driver.get(f"{live.url}/console/evaluation/?run={before}&run={after}&lang=en")
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".hc-eval-case"))
    height = min(driver.execute_script("return document.documentElement.scrollHeight"), 2600)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**DESKTOP, "height": height})
    driver.save_screenshot(str(HERE / "evaluation-report-en.png"))


# --- the knowledge and team pages -----------------------------------------------------------------------------

# Questions the demo shop's knowledge base has no answer to: declined (conversations.scope), so they are gaps.
# Chosen among those the fake model's word-hash embeddings do not find a source for: with them a few others
# ("Do you offer gift wrapping?") pass the relevance test by meaning, which a real embedding model would not let.
GAP_QUESTIONS = (
    "Do you offer gift wrapping for a teapot?",
    "Is gift wrapping available for a teapot?",
    "Can you gift wrap my teapot order?",
    "Is there a student discount?",
    "Do you have a student discount?",
    "Do students get a discount?",
    "茶壶可以定制刻字吗？",
    "可以在壶底刻名字吗？",
)
# Questions it answers (the fake model quotes the first source): the articles' citations, and thumbs on them.
ANSWERED = (
    ("Is a cracked gaiwan covered by the warranty?", 1),
    ("How long does a refund take after I send a teapot back?", -1),  # a thumbs-down: a gap, and a bad answer
    ("Can I pay with Alipay?", 1),
    ("Which courier do you ship with?", 0),
    ("退货后多久能收到退款？", 1),
)
CURATOR = "lin"


def app_key(live: object) -> str:
    """The key of a mobile app writing to the helpdesk (the app API), made as an admin makes one."""
    return live.shell(
        "from conversations.services.apps import app_create\n"
        "app, key = app_create(name='shop')\nprint(key)\n"
    ).strip().splitlines()[-1]


def app_say(live: object, key: str, text: str, *, token: str | None = None, user: dict | None = None) -> str:
    """A customer's message through the app API (in a new conversation unless `token` is given), once the
    bot has answered it or handed the conversation to a person; returns the conversation's token."""
    from tests.support.appclient import call

    if token is None:
        started = call(live.url, "POST", "/api/v1/app/conversations", key=key, body={"user": user} if user else {})
        assert started.status == 201, started.body
        token = started.body["token"]
    sent = call(live.url, "POST", "/api/v1/app/messages", key=key, token=token,
                body={"text": text, "client_id": f"shot-{abs(hash(text))}"})
    assert sent.status in (200, 201), sent.body
    asked = sent.body["message"]["id"]

    def answered() -> bool:
        state = call(live.url, "GET", "/api/v1/app/conversation", key=key, token=token).body["conversation"]
        rows = call(live.url, "GET", "/api/v1/app/messages", key=key, token=token).body["messages"]
        later = [m for m in rows if m["id"] > asked and m["role"] != "customer"]
        return state["status"] != "bot" or bool(later and later[-1]["status"] != "streaming")

    wait_for(answered, timeout=90, interval=0.2)
    return token


def last_bot_reply(live: object, key: str, token: str) -> int:
    from tests.support.appclient import call

    rows = call(live.url, "GET", "/api/v1/app/messages", key=key, token=token).body["messages"]
    return [m for m in rows if m["role"] == "bot"][-1]["id"]


def conversation_of(live: object, text: str) -> int:
    return live.query("SELECT conversation_id FROM conversations_message WHERE plain(content) = ?", (text,))[0][0]


def sign_in(driver: object, live: object, username: str, path: str) -> None:
    """`username` signed in to the console (whoever was signed in before signed out), at `path`."""
    from urllib.parse import quote

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.browser import AGENT_PASSWORD

    driver.get(live.url + "/console/login/")
    driver.delete_all_cookies()
    driver.get(f"{live.url}/console/login/?next={quote(path)}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)
    wait_for(lambda: "/login/" not in driver.current_url)


def curator_create(live: object) -> None:
    """Lin, an agent who also curates the knowledge base (a superuser here: the admin and "write an article")."""
    agent_create(live, CURATOR, "Lin")
    live.shell("from django.contrib.auth.models import User\n"
               f"User.objects.filter(username={CURATOR!r}).update(is_staff=True, is_superuser=True)\n")


def full_page(driver: object, live: object, path: str, name: str, *, ready: str, most: int = 1500) -> None:
    """Save the page at `path` as tall as its content (up to `most` pixels), once `ready` (a CSS selector) shows."""
    from selenium.webdriver.common.by import By

    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", REPORT)
    driver.get(live.url + path)
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ready))
    height = min(driver.execute_script("return document.documentElement.scrollHeight"), most)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**REPORT, "height": height})
    driver.save_screenshot(str(HERE / name))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def knowledge_scene(driver: object, fake: FakeOllama, live: object, key: str) -> None:
    """knowledge-gaps-en.png (and -zh), article-health-en.png: customers of the shop's app ask what the demo
    knowledge base does not cover (declined), and rate answers it gave, one with a thumbs-down."""
    from tests.support.appclient import call

    fake.reset()
    fake.state.default_reply = Reply(cite_first_source=True)
    for question in GAP_QUESTIONS:
        app_say(live, key, question)
    for question, rating in ANSWERED:
        token = app_say(live, key, question)
        if rating:
            voted = call(live.url, "POST", "/api/v1/app/feedback", key=key, token=token,
                         body={"message_id": last_bot_reply(live, key, token), "rating": rating,
                               "comment": "It doesn't say how many days." if rating < 0 else ""})
            assert voted.status == 200, voted.body
    curator_create(live)
    sign_in(driver, live, CURATOR, "/console/gaps/?lang=en")
    full_page(driver, live, "/console/gaps/?lang=en", "knowledge-gaps-en.png", ready=".hc-gap")
    full_page(driver, live, "/console/gaps/?lang=zh-hans", "knowledge-gaps-zh.png", ready=".hc-gap")
    full_page(driver, live, "/console/articles/?lang=en", "article-health-en.png", ready="table")


TEAMS = """
from django.contrib.auth.models import User
from conversations.models import ConversationRule, Team, TeamMembership
sla = {'urgent': {'first_response': 10, 'resolution': 120}, 'high': {'first_response': 15, 'resolution': 240},
       'normal': {'first_response': 30, 'resolution': 480}}
after_sales = Team.objects.create(name='After-sales', is_default=True, sla=sla)
complaints = Team.objects.create(name='Complaints', intents=['complaint'], sla=sla)
TeamMembership.objects.create(team=after_sales, agent=User.objects.get(username='agent'))
TeamMembership.objects.create(team=complaints, agent=User.objects.get(username='sam'))
ConversationRule.objects.create(name='Complaints first', intent='complaint', priority='urgent')
"""
# Made after an agent's first label: the server keeps "no label exists" per process (conversations.selectors
# .teams), and in embedded mode a label saved from this shell does not tell it otherwise.
VIP_RULE = """
from conversations.models import ConversationRule, Label
vip = Label.objects.create(name='vip', color='#b45309')
ConversationRule.objects.create(name='Tea Club members', customer_ids=['shop-1042'], label=vip, priority='high')
"""

SHOP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Tea shop</title></head><body>
<p>The tea shop, signed in as Emma.</p>
<script>window.helpdeskSettings = {{user: {user}}};</script>
<script src="{base}/static/widget.js" data-helpdesk-url="{base}" async></script></body></html>"""

# Each conversation the agents answer: (the customer's text, or the line the agent's answer follows) and the
# agent's answer; how many minutes before the screenshot its handoff is dated; the customer's rating.
WHOLESALE_Q = "Do you give a discount on a wholesale order of 20 teapots?"
INVOICE = "Can I speak to a human? My invoice has the wrong company name."
COMPLAINT = "Fourth email about my broken kettle and still no answer. Unacceptable."
EMMA_Q = "My order #1042 still hasn't arrived after 9 days."


def console_line(driver: object, conversation_id: int) -> object:
    from selenium.webdriver.common.by import By

    return wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f'.hc-item[data-id="{conversation_id}"]'))[0]


def line_open(driver: object, conversation_id: int) -> None:
    """Open a conversation from the inbox (its line is drawn again whenever a conversation changes: retried)."""
    from selenium.webdriver.common.by import By

    def click() -> bool:
        driver.find_element(By.CSS_SELECTOR, f'.hc-item[data-id="{conversation_id}"]').click()
        return True

    wait_for(click)
    wait_for(lambda: driver.find_element(By.ID, "hc-title").text.endswith(f"#{conversation_id}"))


def agent_answers(driver: object, live: object, conversation_id: int, text: str, *, resolve: bool) -> None:
    """The signed-in agent opens the conversation from the inbox, writes `text` and may resolve it."""
    from selenium.webdriver.common.by import By

    line_open(driver, conversation_id)
    if driver.find_element(By.ID, "hc-take").is_displayed():
        driver.find_element(By.ID, "hc-take").click()
        wait_for(lambda: not driver.find_element(By.ID, "hc-take").is_displayed())
    driver.find_element(By.ID, "hc-text").send_keys(text + "\n")
    wait_for(lambda: text in driver.find_element(By.ID, "hc-messages").text)
    if resolve:
        driver.find_element(By.ID, "hc-resolve").click()
        wait_for(lambda: live.query("SELECT status FROM conversations_conversation WHERE id = ?",
                                    (conversation_id,))[0][0] == "resolved")


def team_scene(driver: object, fake: FakeOllama, live: object, key: str) -> None:
    """console-teams-en.png, agents-report-en.png, faq-suggestions-en.png.

    Mei (After-sales) and Sam (Complaints) are signed in, each in their own browser; Emma, a signed-in customer
    of the shop's site (its signed helpdeskSettings.user), asks for a person from the widget, and three of the
    app's customers write: each handoff goes to the online agent of its team, the rules label Emma's
    conversation vip and make the complaint urgent. Mei labels one herself; then the inbox with Emma's contact
    beside it. Then the agents answer and resolve, the customers rate, and a manager reads the agents' report;
    Mei's answer to the wholesale question is an FAQ suggestion in the admin.

    The one thing not done through the product: the resolved conversations' handoff times and their agents'
    answers are moved minutes back (an UPDATE), so the report's times read as a team's would rather than as the
    seconds this script takes.
    """
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.browser import host_site, signed_user
    from tests.support.appclient import call
    from tests.test_console_browser import console_sign_in

    fake.reset()
    fake.state.default_reply = Reply(cite_first_source=True)
    for username, name in (("agent", "Mei"), ("sam", "Sam")):  # Mei: the demo's agent account
        agent_create(live, username, name)
    live.shell(TEAMS)
    with chromium() as second:
        second.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
        console_sign_in(second, live, "sam", "Sam", language="en")
        wait_for(lambda: second.find_element(By.ID, "hc-search"))
        driver.get(live.url + "/console/login/")
        driver.delete_all_cookies()
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
        console_sign_in(driver, live, "agent", "Mei", language="en")
        wait_for(lambda: driver.find_element(By.ID, "hc-search"))
        console_window = driver.current_window_handle

        # The app's customers write: each handoff goes to its team's online agent.
        wholesale = app_say(live, key, WHOLESALE_Q)  # declined: the knowledge base has no word on it
        app_say(live, key, "I'd like to talk to a person about it.", token=wholesale)
        complaint = app_say(live, key, COMPLAINT)
        invoice = app_say(live, key, INVOICE)
        ids = {text: conversation_of(live, text) for text in (WHOLESALE_Q, COMPLAINT, INVOICE)}

        # Mei labels the wholesale question (the first label: made as she types it).
        line_open(driver, ids[WHOLESALE_Q])
        labels = driver.find_element(By.ID, "hc-set-labels")
        labels.clear()
        labels.send_keys("wholesale", Keys.ENTER)
        wait_for(lambda: console_line(driver, ids[WHOLESALE_Q]).find_elements(By.CSS_SELECTOR, ".hc-label"))
        live.shell(VIP_RULE)

        # Emma, signed in on the shop's site, asks from the widget; then Mei reads it with her contact beside it.
        emma = {**signed_user("shop-1042", name="Emma Clark", email="emma@example.com"),
                "attributes": {"plan": "Tea Club", "orders": 12, "city": "Hangzhou"}}
        page = SHOP_PAGE.format(user=json.dumps(emma), base=live.url)
        driver.switch_to.new_window("window")
        with host_site({"shop.html": page}, live.second_port) as site:
            fresh_page(driver, site + "/shop.html")
            ask_in_widget(driver, EMMA_Q)
            wait_for(lambda: bot_texts(driver) and bot_texts(driver)[-1][0] == "complete", timeout=60)
            ask_in_widget(driver, "Can I talk to a person?")
            emma_id = conversation_of(live, EMMA_Q)
            wait_for(lambda: live.query("SELECT agent_id FROM conversations_conversation WHERE id = ?",
                                        (emma_id,))[0][0])
        driver.close()
        driver.switch_to.window(console_window)

        line_open(driver, emma_id)
        panel = driver.find_element(By.ID, "hc-contact")
        wait_for(lambda: panel.is_displayed() and "Emma Clark" in panel.text)
        driver.execute_script("document.activeElement && document.activeElement.blur()")
        driver.save_screenshot(str(HERE / "console-teams-en.png"))
        print("console-teams-en.png")

        # The agents answer and resolve; the customers rate.
        agent_answers(driver, live, emma_id, "Hi Emma, I'm Mei. Your parcel was held at customs in Shanghai; it "
                      "is on its way again and reaches you on Friday.", resolve=True)
        agent_answers(driver, live, ids[WHOLESALE_Q], "Yes: on 20 teapots or more we take 15% off the list "
                      "price and ship for free. Write to wholesale@example.com with the models you want.",
                      resolve=True)
        agent_answers(driver, live, ids[INVOICE], "Done: I reissued the invoice with your company's name; "
                      "you'll find it under My orders.", resolve=True)
        agent_answers(second, live, ids[COMPLAINT], "I'm so sorry. A new kettle left today by express, and "
                      "I refunded the shipping of the first one.", resolve=True)
    for token, score in ((wholesale, 5), (invoice, 4), (complaint, 3)):
        rated = call(live.url, "POST", "/api/v1/app/csat", key=key, token=token, body={"score": score})
        assert rated.status == 200, rated.body
    # (minutes from the handoff to the agent's answer, then to the resolution), as a working day spreads them
    minutes = {emma_id: (8, 30), ids[WHOLESALE_Q]: (7, 88), ids[INVOICE]: (3, 19), ids[COMPLAINT]: (6, 55)}
    live.shell(
        "from datetime import timedelta\n"
        "from django.db.models import F\n"
        "from conversations.models import Conversation, Message\n"
        f"for pk, (answer, resolve) in {minutes!r}.items():\n"
        "    Conversation.objects.filter(pk=pk).update(\n"
        "        handoff_at=F('handoff_at') - timedelta(minutes=answer + resolve))\n"
        "    Message.objects.filter(conversation_id=pk, role='agent').update(\n"
        "        created_at=F('created_at') - timedelta(minutes=resolve))\n"
    )
    if not live.query("SELECT id FROM auth_user WHERE username = ?", (CURATOR,)):
        curator_create(live)
    sign_in(driver, live, CURATOR, "/console/agents/?lang=en")
    full_page(driver, live, "/console/agents/?lang=en", "agents-report-en.png", ready="table")
    print("agents-report-en.png")
    wait_for(lambda: live.query("SELECT count(*) FROM conversations_faqsuggestion")[0][0], timeout=60)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**DESKTOP, "height": 600})
    driver.get(live.url + "/admin/conversations/faqsuggestion/")
    driver.execute_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")  # the list, wider
    driver.get(live.url + "/admin/conversations/faqsuggestion/")
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#result_list"))
    driver.save_screenshot(str(HERE / "faq-suggestions-en.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print("faq-suggestions-en.png")


def widget_scenes(driver: object, fake: FakeOllama, live: object) -> None:
    """The widget's pictures: desktop and phone in English and Chinese, citations, an agent joining."""
    for language, suffix in (("en", "en"), ("zh-hans", "zh")):
        for device in ("desktop", "mobile"):
            fake.reset()
            fake.script(*[Reply(content=answer) for _, answer in CONVERSATIONS[language] if answer])
            browser_tongue = "zh-CN" if language == "zh-hans" else "en-US"
            with browser_language(driver, browser_tongue):
                if device == "mobile":
                    with phone(driver):
                        fresh_page(driver, live.url + "/")
                        converse(driver, language)
                        driver.save_screenshot(str(HERE / f"widget-{device}-{suffix}.png"))
                else:
                    desktop(driver)
                    try:
                        fresh_page(driver, live.url + "/")
                        converse(driver, language)
                        driver.save_screenshot(str(HERE / f"widget-{device}-{suffix}.png"))
                    finally:
                        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            print(f"widget-{device}-{suffix}.png")
    desktop(driver)
    try:
        citations_scene(driver, fake, live)
        handoff_scene(driver, fake, live)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print("widget-citations-en.png, widget-agent-joined.png")


SCENES = ("widget", "evaluation", "knowledge", "team")


def main(scenes: tuple[str, ...] = SCENES) -> None:
    env = {"HANDOFF_THRESHOLD": "0", "GAPS_EMBED_SIMILARITY": "0.25"}  # the fake's word vectors are sparse
    with FakeOllama() as fake, running_server(fake.url, env) as live, chromium() as driver:
        if "widget" in scenes:
            widget_scenes(driver, fake, live)
        if "evaluation" in scenes:
            evaluation_scene(driver, fake, live)
            print("evaluation-report-en.png")
        if {"knowledge", "team"} & set(scenes):
            key = app_key(live)
        if "knowledge" in scenes:
            knowledge_scene(driver, fake, live, key)
            print("knowledge-gaps-en.png, knowledge-gaps-zh.png, article-health-en.png")
        if "team" in scenes:
            team_scene(driver, fake, live, key)


if __name__ == "__main__":
    chosen = tuple(sys.argv[1:]) or SCENES
    unknown = set(chosen) - set(SCENES)
    if unknown:
        sys.exit(f"unknown scenes {sorted(unknown)}: choose from {', '.join(SCENES)}")
    main(chosen)
