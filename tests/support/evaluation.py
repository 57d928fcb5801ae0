"""Two finished evaluation runs with a case that got worse and one that got better, stored in a live server's
database, and an agent who may apply a threshold: for the report's browser test and its screenshot."""

from __future__ import annotations

from typing import Any

from tests.browser import AGENT_PASSWORD, LiveServer, agent_create

SEED = """
import json
from django.contrib.auth.models import Permission, User
from conversations.models import EvalResult, EvalRun, EvalSet
from conversations.tests.evaluation_factories import summary
from helpdesk.tests.factories import canary_profile, default_profile
default, canary = default_profile(), canary_profile("qwen-canary", share=5, model="qwen2.5:7b")
shop, _ = EvalSet.objects.get_or_create(name="demo-shop", defaults={"is_default": True})
before = EvalRun.objects.create(eval_set=shop, profile=default, profile_name=default.name, model_name=default.model,
    status="done", knowledge_version=41, cases_total=20, cases_done=20, summary=summary(pass_rate=0.9, proposed=None))
after = EvalRun.objects.create(eval_set=shop, profile=canary, profile_name=canary.name, model_name=canary.model,
    status="done", knowledge_version=42, cases_total=20, cases_done=20, summary=summary(pass_rate=0.8, proposed=0.62))
rows = [
    ("delivery-time", "How long does delivery to Shanghai take?", "answer",
     (True, "Two to three working days [1].", 0.84, []),
     (False, "Usually a week, maybe more.", 0.47, ["cited no expected article", "missing: 2-3 days"])),
    ("weather", "What's the weather tomorrow?", "decline",
     (False, "Sunny, around 20 degrees.", 0.71, ["answered an out-of-scope question"]),
     (True, "", 0.18, [])),
    ("refund", "How do I get a refund?", "answer", (True, "Within 30 days [1].", 0.8, []),
     (True, "Within 30 days [1].", 0.81, [])),
]
for key, question, expectation, old, new in rows:
    for run, (passed, answer, confidence, failures) in ((before, old), (after, new)):
        EvalResult.objects.create(run=run, case_key=key, question=question, expectation=expectation, passed=passed,
                                  answer=answer, confidence=confidence, failures=failures)
EvalResult.objects.filter(run=after, case_key="weather").update(declined=True)
user = User.objects.get(username="curator")
user.user_permissions.add(Permission.objects.get(codename="change_modelprofile"))
print(json.dumps([before.pk, after.pk]))
"""


def evaluation_runs_seed(live: LiveServer) -> list[int]:
    """The two runs' ids, older first; the agent "curator" may change model profiles."""
    import json

    agent_create(live, "curator", "Curator")
    return json.loads(live.shell(SEED).strip().splitlines()[-1])


def evaluation_report_sign_in(driver: Any, live: LiveServer) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(live.url + "/console/login/?next=/console/evaluation/%3Flang%3Den")
    driver.find_element(By.NAME, "username").send_keys("curator")
    driver.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)
