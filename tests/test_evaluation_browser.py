"""The evaluation report in real headless Chromium: two runs chosen from the keyboard, the case that got worse
listed first, and the calibrated threshold applied with one click."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import LiveServer, wait_for
from tests.support.evaluation import evaluation_report_sign_in, evaluation_runs_seed

pytestmark = pytest.mark.browser



def test_two_runs_side_by_side_show_what_got_worse_and_apply_the_threshold(
    live_app: LiveServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before, after = evaluation_runs_seed(live_app)
    evaluation_report_sign_in(browser, live_app)
    wait_for(lambda: browser.find_elements(By.ID, f"hc-run-{before}"))
    # Both runs ticked with the space bar, the form sent with Enter: no mouse needed.
    for run in (before, after):
        browser.find_element(By.ID, f"hc-run-{run}").send_keys(Keys.SPACE)
    browser.find_element(By.CSS_SELECTOR, ".hc-eval-choose button").send_keys(Keys.ENTER)
    cases = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".hc-eval-case"))
    assert [case.get_attribute("class").split()[-1] for case in cases] == ["hc-eval-worse", "hc-eval-better"]
    assert "How long does delivery to Shanghai take?" in cases[0].text and "missing: 2-3 days" in cases[0].text
    assert "refund" not in " ".join(case.text for case in cases)  # unchanged cases are not listed
    assert "Held-out part" in browser.find_element(By.TAG_NAME, "main").text

    button = browser.find_element(By.CSS_SELECTOR, ".hc-eval-proposal button")
    assert button.text == "Apply threshold 0.62 to profile qwen-canary"
    button.send_keys(Keys.ENTER)
    message = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".hc-messages li"))
    assert "Handoff threshold of qwen-canary set to 0.62." in message.text
    assert live_app.shell("from helpdesk.models import ModelProfile\n"
                          "print(ModelProfile.objects.get(name='qwen-canary').handoff_threshold)"
                          ).strip().splitlines()[-1] == "0.62"
    assert browser.find_elements(By.CSS_SELECTOR, ".hc-eval-case")  # back on the same comparison
