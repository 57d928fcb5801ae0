"""conversations.evaluation.metrics: a run's figures from results made by hand (no database)."""

from __future__ import annotations

import pytest

from conversations.evaluation.metrics import auc, calibration, reliability, run_summary
from conversations.models import EvalResult


def result(expectation: str = "answer", *, passed: bool = True, held_out: bool = False, **fields: object) -> EvalResult:
    fields.setdefault("expected", {"articles": [1], "faq": None})
    fields.setdefault("answer", "An answer." if expectation in ("answer", "faq") else "")
    return EvalResult(case_key="k", question="q", expectation=expectation, passed=passed, held_out=held_out,
                      **fields)


def given(confidence: float, correct: bool, *, held_out: bool = False) -> EvalResult:
    return result(confidence=confidence, reply_correct=correct, passed=correct, held_out=held_out, cited=[1])


def test_auc_ranks_right_replies_above_wrong_ones_and_counts_ties_half() -> None:
    assert auc([(0.9, True), (0.8, True), (0.3, False)]) == 1.0
    assert auc([(0.2, True), (0.9, False)]) == 0.0
    assert auc([(0.5, True), (0.5, False), (0.7, True)]) == 0.75
    assert auc([(0.9, True)]) is None


def test_reliability_puts_each_confidence_in_its_bucket_and_one_in_the_last() -> None:
    table = reliability([(0.05, False), (0.55, True), (0.59, False), (1.0, True), (0.9, True)])
    assert len(table) == 10 and (table[0]["low"], table[0]["high"], table[9]["high"]) == (0.0, 0.1, 1.0)
    assert (table[0]["count"], table[0]["correct"], table[0]["rate"]) == (1, 0, 0.0)
    assert (table[5]["count"], table[5]["correct"], table[5]["rate"]) == (2, 1, 0.5)
    assert (table[9]["count"], table[9]["rate"]) == (2, 1.0)
    assert table[3] == {"low": 0.3, "high": 0.4, "count": 0, "correct": 0, "rate": None}


def test_calibration_proposes_the_lowest_threshold_under_the_target_wrong_rate() -> None:
    results = [given(0.3, False), given(0.4, False), given(0.6, True), given(0.7, False), given(0.8, True),
               given(0.9, True), given(0.95, True)]
    proposal = calibration(results, threshold=0.5, target_wrong_rate=0.25)
    # from 0.6: one wrong in five (0.2); from 0.4: two in six (0.33)
    assert proposal == {"target_wrong_rate": 0.25, "current_threshold": 0.5, "proposed_threshold": 0.6,
                        "answered_at_proposed": round(5 / 7, 4), "wrong_rate_at_proposed": 0.2}


def test_calibration_proposes_nothing_when_even_the_surest_replies_are_wrong() -> None:
    proposal = calibration([given(0.9, False), given(0.5, True)], threshold=0.5, target_wrong_rate=0.05)
    assert proposal["proposed_threshold"] is None and proposal["answered_at_proposed"] is None


def test_replies_not_given_for_another_reason_than_confidence_are_left_out_of_calibration() -> None:
    results = [given(0.6, True), result(confidence=0.2, reply_correct=None, handoff_reason="customer_request")]
    assert calibration(results, threshold=0.5, target_wrong_rate=0.05)["proposed_threshold"] == 0.6


def test_held_out_results_never_move_the_proposed_threshold() -> None:
    tuning = [given(0.4, False), given(0.6, True), given(0.8, True)]
    held_out = [given(0.3, True, held_out=True), given(0.9, False, held_out=True), given(0.7, False, held_out=True)]
    alone = run_summary(tuning, k=5, threshold=0.5, target_wrong_rate=0.05)["calibration"]
    both = run_summary(tuning + held_out, k=5, threshold=0.5, target_wrong_rate=0.05)["calibration"]
    assert alone == both and both["proposed_threshold"] == 0.6


def test_each_part_counts_its_own_cases_and_rates_of_absent_kinds_are_none() -> None:
    results = [
        result(retrieved=[{"article_id": 2}, {"article_id": 1}], cited=[1], confidence=0.8, reply_correct=True,
               ttft_ms=100.0),
        result(passed=False, retrieved=[{"article_id": 3}], cited=[3], handoff_reason="low_confidence",
               confidence=0.3, reply_correct=False, unverified_facts=[{"kind": "price", "text": "¥5"}], ttft_ms=300.0),
        result("faq", expected={"articles": [], "faq": 4}, retrieved=[{"faq_id": 4}], answer_source="faq",
               confidence=1.0, reply_correct=True),
        result("decline", passed=True, handoff_reason="no_knowledge", held_out=True),
        result("decline", passed=False, answer="It's sunny.", held_out=True),
        result("person", passed=True, handoff_reason="customer_request", held_out=True),
    ]
    summary = run_summary(results, k=1, threshold=0.5, target_wrong_rate=0.05)
    assert summary["k"] == 1 and set(summary) == {"k", "all", "tuning", "held_out", "calibration"}
    everything, tuning, held_out = summary["all"], summary["tuning"], summary["held_out"]
    assert (everything["cases"], everything["passed"], everything["pass_rate"]) == (6, 4, pytest.approx(4 / 6))
    assert tuning["hit_at_k"] == pytest.approx(1 / 3)  # k=1: article 1 was second; the FAQ entry first
    assert tuning["cited_right"] == 0.5 and tuning["in_scope_answered"] == pytest.approx(2 / 3)
    assert tuning["out_of_scope_declined"] is None and tuning["person_handed_off"] is None
    assert held_out["out_of_scope_declined"] == 0.5 and held_out["person_handed_off"] == 1.0
    assert held_out["hit_at_k"] is None and held_out["auc"] is None and held_out["ttft_ms_p50"] is None
    assert tuning["flagged_numbers"] == 1 and tuning["auc"] == 1.0
    assert (tuning["ttft_ms_p50"], tuning["ttft_ms_p95"]) == (200.0, pytest.approx(290.0))
    assert sum(bucket["count"] for bucket in tuning["reliability"]) == 3
    wider = run_summary(results, k=2, threshold=0.5, target_wrong_rate=0.05)
    assert wider["tuning"]["hit_at_k"] == pytest.approx(2 / 3)
