"""Evaluation sets, cases, and finished runs with the summary shape conversations.evaluation writes, made
directly (not by running the pipeline): for the admin, the console report, the gate and the figures."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from conversations.models import EvalCase, EvalResult, EvalRun, EvalSet, Expectation
from helpdesk.models import ModelProfile


def eval_set_factory(name: str = "demo", *, is_default: bool = False, **fields: object) -> EvalSet:
    return EvalSet.objects.create(name=name, is_default=is_default, **fields)


def eval_case_factory(eval_set: EvalSet, key: str, question: str = "How long does delivery take?",
                      **fields: object) -> EvalCase:
    return EvalCase.objects.create(eval_set=eval_set, key=key, question=question, **fields)


def part(cases: int = 10, passed: int = 8, **figures: object) -> dict:
    """One part of a run's summary (all / tuning / held_out), every figure present."""
    buckets = [{"low": i / 10, "high": (i + 1) / 10, "count": 0, "correct": 0, "rate": None} for i in range(10)]
    buckets[8] = {"low": 0.8, "high": 0.9, "count": cases, "correct": passed, "rate": passed / cases if cases else None}
    values = {
        "cases": cases, "passed": passed, "pass_rate": passed / cases if cases else None, "hit_at_k": 0.9,
        "cited_right": 0.85, "in_scope_answered": 0.88, "out_of_scope_declined": 0.95, "person_handed_off": 1.0,
        "flagged_numbers": 1, "auc": 0.91, "reliability": buckets, "ttft_ms_p50": 420.0, "ttft_ms_p95": 900.0,
    }
    values.update(figures)
    return values


def summary(*, pass_rate: float = 0.8, proposed: float | None = 0.62, **figures: object) -> dict:
    cases = 20
    passed = round(pass_rate * cases)
    return {
        "k": 5, "all": part(cases, passed, **figures), "tuning": part(14, min(passed, 14), **figures),
        "held_out": part(6, max(0, passed - 14), **figures),
        "calibration": {"target_wrong_rate": 0.05, "current_threshold": 0.5, "proposed_threshold": proposed,
                        "answered_at_proposed": 0.8 if proposed is not None else None,
                        "wrong_rate_at_proposed": 0.03 if proposed is not None else None},
    }


def eval_run_factory(eval_set: EvalSet, profile: ModelProfile | None = None, *, pass_rate: float = 0.8,
                     status: str = EvalRun.Status.DONE, finished_at: datetime | None = None,
                     **fields: object) -> EvalRun:
    done = status == EvalRun.Status.DONE
    fields.setdefault("summary", summary(pass_rate=pass_rate) if done else {})
    return EvalRun.objects.create(
        eval_set=eval_set, profile=profile, profile_name=profile.name if profile else "",
        model_name=profile.model if profile else "", handoff_threshold=profile.handoff_threshold if profile else None,
        status=status, cases_total=fields.pop("cases_total", 20),
        cases_done=fields.pop("cases_done", 20 if done else 0),
        finished_at=finished_at or (timezone.now() if done else None), **fields,
    )


def eval_result_factory(run: EvalRun, key: str, *, passed: bool, question: str = "How long does delivery take?",
                        expectation: str = Expectation.ANSWER, **fields: object) -> EvalResult:
    return EvalResult.objects.create(run=run, case_key=key, question=question, expectation=expectation,
                                     passed=passed, **fields)
