"""What a run says overall (`EvalRun.summary`): per part of the set, and the handoff threshold it proposes.

Every figure is computed from the stored results alone, so a summary can be recomputed from an old run. The
calibration looks at the tuning part only: the held-out part is there to tell whether what was tuned holds
for questions nobody tuned on, and a threshold proposed from it would make that test worthless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import EvalResult, Expectation
from ..protocol.codes import HandoffReason
from ..stats.measures import percentiles, rate

BUCKETS = 10
_IN_SCOPE = (Expectation.ANSWER, Expectation.FAQ)


def run_summary(results: list[EvalResult], *, k: int, threshold: float, target_wrong_rate: float) -> dict[str, Any]:
    """The run's figures for all cases, the tuning part and the held-out part, and the calibration."""
    tuning = [r for r in results if not r.held_out]
    return {
        "k": k,
        "all": part_figures(results, k=k),
        "tuning": part_figures(tuning, k=k),
        "held_out": part_figures([r for r in results if r.held_out], k=k),
        "calibration": calibration(tuning, threshold=threshold, target_wrong_rate=target_wrong_rate),
    }


def _share(results: Sequence[EvalResult], met: Any) -> float | None:
    return rate(sum(1 for r in results if met(r)), len(results))


def answered(result: EvalResult) -> bool:
    """The bot gave an answer: it neither handed the conversation on nor declined."""
    return bool(result.answer) and not result.handoff_reason and not result.declined


def retrieval_hit(result: EvalResult, *, k: int) -> bool:
    """An expected article (or, for an FAQ case, the expected entry) among the first k things retrieved."""
    expected = result.expected or {}
    articles, faq = set(expected.get("articles") or []), expected.get("faq")
    for item in (result.retrieved or [])[:k]:
        if item.get("article_id") in articles or (faq is not None and item.get("faq_id") == faq):
            return True
    return False


def cites_expected(result: EvalResult) -> bool:
    return bool(set((result.expected or {}).get("articles") or []) & set(result.cited or []))


def part_figures(results: Sequence[EvalResult], *, k: int) -> dict[str, Any]:
    """One part's figures (see the shape in the issue): rates are None when the part has no case of that kind."""
    in_scope = [r for r in results if r.expectation in _IN_SCOPE]
    with_target = [r for r in in_scope if (r.expected or {}).get("articles") or (r.expected or {}).get("faq")]
    citing = [r for r in results if r.expectation == Expectation.ANSWER and (r.expected or {}).get("articles")]
    declining = [r for r in results if r.expectation == Expectation.DECLINE]
    person = [r for r in results if r.expectation == Expectation.PERSON]
    ttft = [r.ttft_ms for r in results if r.ttft_ms is not None]
    p50, p95 = percentiles(ttft)
    return {
        "cases": len(results),
        "passed": sum(1 for r in results if r.passed),
        "pass_rate": _share(results, lambda r: r.passed),
        "hit_at_k": _share(with_target, lambda r: retrieval_hit(r, k=k)),
        "cited_right": _share(citing, cites_expected),
        "in_scope_answered": _share(in_scope, answered),
        "out_of_scope_declined": _share(declining, lambda r: bool(r.handoff_reason) or r.declined),
        "person_handed_off": _share(person, lambda r: r.handoff_reason == HandoffReason.CUSTOMER_REQUEST),
        "flagged_numbers": sum(1 for r in results if r.unverified_facts),
        "auc": auc(_judged(results)),
        "reliability": reliability(_judged(results)),
        "ttft_ms_p50": None if p50 is None else round(p50, 1),
        "ttft_ms_p95": None if p95 is None else round(p95, 1),
    }


def _judged(results: Sequence[EvalResult]) -> list[tuple[float, bool]]:
    """(confidence, correct) of every reply that was given or withheld only for its low confidence."""
    return [(r.confidence, r.reply_correct) for r in results
            if r.confidence is not None and r.reply_correct is not None]


def auc(scored: Sequence[tuple[float, bool]]) -> float | None:
    """How well the confidence ranks right replies above wrong ones: the chance that a random right reply
    scores higher than a random wrong one (ties count half). None without both kinds."""
    right = [score for score, correct in scored if correct]
    wrong = [score for score, correct in scored if not correct]
    if not right or not wrong:
        return None
    wins = sum((r > w) + 0.5 * (r == w) for r in right for w in wrong)
    return round(wins / (len(right) * len(wrong)), 4)


def reliability(scored: Sequence[tuple[float, bool]]) -> list[dict[str, Any]]:
    """Predicted confidence against observed correctness, in ten buckets of 0.1 (1.0 goes in the last)."""
    table = []
    for i in range(BUCKETS):
        low, high = i / BUCKETS, (i + 1) / BUCKETS
        inside = [correct for score, correct in scored
                  if low <= score < high or (i == BUCKETS - 1 and score >= high)]
        table.append({"low": round(low, 1), "high": round(high, 1), "count": len(inside),
                      "correct": sum(inside), "rate": rate(sum(inside), len(inside))})
    return table


def calibration(tuning: Sequence[EvalResult], *, threshold: float, target_wrong_rate: float) -> dict[str, Any]:
    """The lowest handoff threshold, among the confidences observed, that keeps wrong replies among those given
    at or below the target rate; None when even the most confident replies are wrong too often."""
    scored = _judged(tuning)
    proposal: dict[str, Any] = {"target_wrong_rate": target_wrong_rate, "current_threshold": threshold,
                                "proposed_threshold": None, "answered_at_proposed": None,
                                "wrong_rate_at_proposed": None}
    for candidate in sorted({score for score, _ in scored}):
        given = [correct for score, correct in scored if score >= candidate]
        wrong_rate = (len(given) - sum(given)) / len(given)
        if wrong_rate <= target_wrong_rate:
            proposal.update(proposed_threshold=candidate, answered_at_proposed=round(len(given) / len(scored), 4),
                            wrong_rate_at_proposed=round(wrong_rate, 4))
            break
    return proposal
