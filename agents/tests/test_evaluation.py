"""The console's evaluation report: runs listed, two side by side, the cases that changed, applying a threshold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from agents.tests.console import agent_create
from conversations.tests.evaluation_factories import (
    eval_result_factory,
    eval_run_factory,
    eval_set_factory,
    summary,
)
from helpdesk.tests.factories import canary_profile, default_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(agent_create("mei"))
    return client


def _two_runs():
    eval_set = eval_set_factory("shop", is_default=True)
    before = eval_run_factory(eval_set, default_profile(), pass_rate=0.9, knowledge_version=41)
    after = eval_run_factory(eval_set, canary_profile(share=5), pass_rate=0.7, knowledge_version=42)
    eval_result_factory(before, "delivery-time", passed=True, answer="Three to five days.", confidence=0.82)
    eval_result_factory(after, "delivery-time", passed=False, answer="Next week maybe.", confidence=0.41,
                        failures=["cited no expected article"])
    eval_result_factory(before, "weather", passed=False, question="明天天气怎么样?", expectation="decline",
                        answer="晴天。", confidence=0.7)
    eval_result_factory(after, "weather", passed=True, question="明天天气怎么样?", expectation="decline",
                        answer="", declined=True, confidence=0.2)
    eval_result_factory(before, "same", passed=True)
    eval_result_factory(after, "same", passed=True)
    eval_result_factory(after, "gift-wrap", passed=True, question="Do you gift-wrap?")
    return before, after


def test_the_report_lists_runs_with_status_progress_and_pass_rate(agent_client) -> None:
    eval_set = eval_set_factory("shop")
    eval_run_factory(eval_set, default_profile(), pass_rate=0.85)
    eval_run_factory(eval_set, None, status="running", cases_total=80, cases_done=12)
    page = agent_client.get("/console/evaluation/").content.decode()
    assert "85 %" in page and "Running (12/80)" in page and "shop" in page


def test_two_runs_side_by_side_show_every_part_and_the_change(agent_client) -> None:
    before, after = _two_runs()
    page = agent_client.get(f"/console/evaluation/?run={after.pk}&run={before.pk}").content.decode()
    for label in ("All cases", "Tuning part", "Held-out part", "Right article cited", "Confidence AUC",
                  "First token p95", "Reliability"):
        assert label in page
    assert "90 %" in page and "70 %" in page and "-20" in page


def test_the_case_diff_lists_what_got_worse_before_what_got_better(agent_client) -> None:
    before, after = _two_runs()
    page = agent_client.get(f"/console/evaluation/?run={before.pk}&run={after.pk}").content.decode()
    worse, better = page.index("delivery-time"), page.index("明天天气怎么样?")
    assert worse < better
    assert "Next week maybe." in page and "cited no expected article" in page and "0.41" in page
    assert page.count('class="hc-eval-case') == 2  # the unchanged case is not listed
    assert "(declined)" in page and f"Only in run #{after.pk}: gift-wrap" in page


def test_the_report_is_in_chinese_when_asked(agent_client) -> None:
    before, after = _two_runs()
    page = agent_client.get(f"/console/evaluation/?run={before.pk}&run={after.pk}&lang=zh-hans").content.decode()
    assert "变差" in page and "保留" in page


def test_choosing_one_run_says_two_are_needed(agent_client) -> None:
    run = eval_run_factory(eval_set_factory("shop"), default_profile())
    page = agent_client.get(f"/console/evaluation/?run={run.pk}").content.decode()
    assert "Choose exactly two runs" in page


def test_the_apply_button_needs_the_permission_to_change_profiles(agent_client) -> None:
    before, after = _two_runs()
    page = agent_client.get(f"/console/evaluation/?run={before.pk}&run={after.pk}").content.decode()
    assert "Apply threshold 0.62" not in page and "Only those who may change model profiles" in page
    assert agent_client.post("/console/evaluation/apply/", {"run": after.pk}).status_code == 403


def test_an_agent_with_the_permission_sees_the_apply_button(client) -> None:
    before, after = _two_runs()
    agent = agent_create("lin")
    agent.user_permissions.add(Permission.objects.get(codename="change_modelprofile"))
    client.force_login(agent)
    page = client.get(f"/console/evaluation/?run={before.pk}&run={after.pk}").content.decode()
    assert "Apply threshold 0.62 to profile canary" in page


def test_applying_sets_the_profiles_threshold(client) -> None:
    before, after = _two_runs()
    after.summary = summary(pass_rate=0.7, proposed=0.62)
    after.save()
    agent = agent_create("lin")
    agent.user_permissions.add(Permission.objects.get(codename="change_modelprofile"))
    client.force_login(agent)
    response = client.post("/console/evaluation/apply/", {"run": after.pk, "back_run": [before.pk, after.pk]},
                           follow=True)
    after.profile.refresh_from_db()
    assert after.profile.handoff_threshold == pytest.approx(0.62)
    assert "set to 0.62" in response.content.decode()


def test_staff_who_are_not_agents_cannot_open_the_report(client) -> None:
    client.force_login(agent_create("admin-clerk", staff=True, in_group=False))
    assert client.get("/console/evaluation/").status_code == 403


def test_the_dashboard_card_shows_the_latest_default_run_and_that_it_got_worse(agent_client) -> None:
    eval_set = eval_set_factory("shop", is_default=True)
    profile = default_profile()
    eval_run_factory(eval_set, profile, pass_rate=0.9, finished_at=timezone.now() - timedelta(days=1))
    eval_run_factory(eval_set, profile, pass_rate=0.75)
    page = agent_client.get("/console/dashboard/").content.decode()
    assert "Latest evaluation of the default set" in page and "75 %" in page and "88 %" in page
    assert "Worse than the previous run" in page


def test_the_dashboard_has_no_card_without_a_default_set(agent_client) -> None:
    eval_run_factory(eval_set_factory("other"), default_profile())
    assert "Latest evaluation" not in agent_client.get("/console/dashboard/").content.decode()


def test_the_dashboard_card_in_chinese(agent_client) -> None:
    eval_run_factory(eval_set_factory("shop", is_default=True), default_profile())
    page = agent_client.get("/console/dashboard/?lang=zh-hans").content.decode()
    assert "默认集合的最近一次评估" in page and "范围外：拒答或转人工" in page


def test_applying_an_unknown_run_is_not_found(client) -> None:
    agent = agent_create("lin")
    agent.user_permissions.add(Permission.objects.get(codename="change_modelprofile"))
    client.force_login(agent)
    assert client.post("/console/evaluation/apply/", {"run": "x"}).status_code == 404
    assert client.get("/console/evaluation/apply/").status_code == 405
