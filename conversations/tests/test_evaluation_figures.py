"""What finished runs say outside the report: /metrics gauges and the dashboard's card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from conversations.evaluation.figures import latest_default_run, runs_diff
from helpdesk.tests.factories import canary_profile, default_profile

from .evaluation_factories import eval_result_factory, eval_run_factory, eval_set_factory

pytestmark = pytest.mark.django_db


def _scrape(client, settings) -> dict:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    text = client.get("/metrics").content.decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_show_the_latest_done_run_per_set_and_profile(client, settings) -> None:
    eval_set = eval_set_factory("shop", is_default=True)
    profile = default_profile()
    eval_run_factory(eval_set, profile, pass_rate=0.5, finished_at=timezone.now() - timedelta(days=1))
    eval_run_factory(eval_set, profile, pass_rate=0.9)
    eval_run_factory(eval_set, profile, status="running")
    eval_run_factory(eval_set, canary_profile(share=5), pass_rate=0.7)
    rates = _scrape(client, settings)["helpdesk_eval_rate"].samples
    pass_rates = {(s.labels["profile"], s.labels["part"]): s.value for s in rates if s.labels["figure"] == "pass_rate"}
    assert pass_rates[(profile.name, "all")] == pytest.approx(0.9)
    assert pass_rates[("canary", "all")] == pytest.approx(0.7)
    assert {s.labels["set"] for s in rates} == {"shop"}


def test_metrics_without_runs_still_answer(client, settings) -> None:
    assert "helpdesk_eval_rate" not in _scrape(client, settings)


def test_the_latest_default_run_is_worse_than_the_one_before_with_the_same_profile() -> None:
    eval_set = eval_set_factory("shop", is_default=True)
    profile = default_profile()
    previous = eval_run_factory(eval_set, profile, pass_rate=0.9, finished_at=timezone.now() - timedelta(days=1))
    eval_run_factory(eval_set, canary_profile(share=5), pass_rate=0.95, finished_at=timezone.now() - timedelta(hours=1))
    eval_run_factory(eval_set, profile, pass_rate=0.75)
    card = latest_default_run()
    assert card is not None and card.worse and card.previous == previous


def test_the_dashboard_card_is_quiet_when_the_run_did_as_well() -> None:
    eval_set = eval_set_factory("shop", is_default=True)
    profile = default_profile()
    eval_run_factory(eval_set, profile, pass_rate=0.8, finished_at=timezone.now() - timedelta(days=1))
    eval_run_factory(eval_set, profile, pass_rate=0.85)
    assert not latest_default_run().worse


def test_no_default_set_no_card() -> None:
    eval_run_factory(eval_set_factory("other"), None)
    assert latest_default_run() is None


def test_the_diff_pairs_cases_by_key() -> None:
    eval_set = eval_set_factory("shop")
    before, after = eval_run_factory(eval_set, None), eval_run_factory(eval_set, None)
    for key, old, new in (("a", True, False), ("b", False, True), ("c", True, True)):
        eval_result_factory(before, key, passed=old)
        eval_result_factory(after, key, passed=new)
    eval_result_factory(before, "gone", passed=True)
    diff = runs_diff(before=before, after=after)
    assert [c.key for c in diff.worse] == ["a"] and [c.key for c in diff.better] == ["b"]
    assert diff.only_before == ["gone"]
