"""Make the widget's screenshots in this folder: desktop and phone, English and Simplified Chinese, and the
citations and agent-joined pictures of the README.

    .venv/bin/python docs/screenshots/make_screenshots.py

It runs what the browser tests run (tests/browser.py): the product on a fresh SQLite file with the demo shop's
knowledge base, the test suite's fake Ollama (so the replies are scripted, the sources and FAQ answers real),
and headless Chromium. Each picture is one conversation: a question answered from an article, with its source
linked, then a question an FAQ entry answers at once. Chinese text needs a CJK font on the machine
(Debian: `apt-get install fonts-wqy-microhei`, or fonts-noto-cjk).

The evaluation report's picture (evaluation-report-en.png) is two real runs of the demo shop's evaluation set
against the fake model (quoting the first source it is given): one on the demo knowledge base, one after the
English returns article was unpublished, so the report shows what that change broke.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

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
    agent_create(live, "mei", "Mei")
    with console(driver, live, "mei", conversation):
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


def main() -> None:
    with FakeOllama() as fake, running_server(fake.url, {"HANDOFF_THRESHOLD": "0"}) as live, chromium() as driver:
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
        evaluation_scene(driver, fake, live)
        print("evaluation-report-en.png")


if __name__ == "__main__":
    main()
