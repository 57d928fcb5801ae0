"""Issue 15's targets, measured by the product's own evaluation on the demo shop's set with the fake model.

The set (conversations/evaluation/demo/demo_set.jsonl) was written apart from the rules and thresholds; a third
of it is held out and never tuned on. Both parts must meet every target. The fake model never writes
[NO-ANSWER] (it answers from whatever first source it is given), so declining what the knowledge base does not
cover is the product's doing. A second run with a fake that changes one number of the source it quotes shows
the fact check flags changed numbers, and the first run shows it leaves right ones alone.

The tuning part meets every target. The held-out part meets those for handing off requests for a person and for
answering in-scope questions, not those for citing the right article and declining what is out of scope: its misses
are stories and paraphrases sharing few words with the article (a cat that swept a cup off the table for the
warranty, a finance department asking for a fapiao months later) and out-of-scope questions made of the shop's own
words whose subject is a word the rules do not read. Where a part is below a target the
test holds the figure measured when the rules were last changed (HELD_OUT_FLOOR), so a change that makes it worse
fails, and issue 15 stays open for the gap. The figures and the run's time are printed
(`pytest -s tests/test_evaluation_targets.py`) for the README.
"""

from __future__ import annotations

import json
import time

import pytest

from conversations.evaluation.services import demo_set_load, run_create, run_execute
from conversations.models import EvalRun, EvalSet, Expectation
from knowledge.tests.factories import demo_knowledge_base_create
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)

PARTS = ("tuning", "held_out")
TARGETS = {  # figure: the least it may be, on each part
    "cited_right": 0.85,
    "in_scope_answered": 0.85,
    "out_of_scope_declined": 0.95,
    "person_handed_off": 0.95,
}
# Below the targets, as measured on the held-out part of the 378 cases: 51 of 64 cases cite an expected article
# (48 before the sixth round of development probes' rules), 35 of 41 out-of-scope questions are declined (34 before
# the eighth round's). Floors, not targets: raise them as the product gets better, never lower them to pass.
# In-scope answered reached its target (60 of 70, 0.857) with the rules the fifth round of development probes led
# to, and is held to the target since (62 of 70 after the sixth round's). The seventh round's rules left the
# held-out part unchanged; the eleventh round's cite one more (51 of 64), and the twenty-third and twenty-fourth
# rounds' one more again (52 of 64; 63 of 70 answered). The twenty-ninth and thirtieth rounds' rules decline one
# more out-of-scope question (36 of 41); the thirty-first to thirty-fourth rounds' rules left the held-out part
# unchanged, and so did the thirty-fifth and thirty-sixth rounds' on the default settings (with PRICE_MUST_BE_STATED,
# off by default, one fewer in-scope question is cited and answered and one more out-of-scope one declined), and the
# thirty-seventh to forty-first rounds'. The forty-second to forty-eighth rounds' rules cite one more (53 of 64, 0.83;
# 64 of 70 answered), the first held-out figure to move since the twenty-sixth round; the forty-ninth to fifty-first
# rounds' left it so.
TUNING_FLOOR: dict[str, float] = {}
HELD_OUT_FLOOR = {"cited_right": 0.82, "out_of_scope_declined": 0.87}
FLOORS = {"tuning": TUNING_FLOOR, "held_out": HELD_OUT_FLOOR}
# CI evaluates the whole set within this (issue 15: under two minutes).
RUN_SECONDS_AT_MOST = 120
CHANGED_FLAGGED_AT_LEAST = 0.95
RIGHT_FLAGGED_AT_MOST = 0.05


@pytest.fixture
def demo_set(fake_ollama) -> EvalSet:
    demo_knowledge_base_create()
    eval_set = demo_set_load()
    assert eval_set is not None
    return eval_set


def _run(eval_set: EvalSet) -> EvalRun:
    run = run_execute(run_create(eval_set=eval_set).pk)
    assert run.status == EvalRun.Status.DONE, run.error
    return run


def _failures(run: EvalRun, figure_kinds: tuple[str, ...]) -> list[str]:
    """The tuning part's failed cases, for the assertion message: the held-out part's are never printed, so that a
    failing run does not show the questions nobody may tune on."""
    return [f"{r.case_key}: {'; '.join(r.failures)} | {r.answer[:80]!r}"
            for r in run.results.filter(expectation__in=figure_kinds, passed=False, held_out=False)]


def test_each_part_meets_the_targets_or_holds_its_measured_figures(demo_set, fake_ollama) -> None:
    fake_ollama.state.default_reply = Reply(cite_first_source=True)
    started = time.monotonic()
    run = _run(demo_set)
    seconds = time.monotonic() - started
    print("\n" + json.dumps({part: run.summary[part] for part in ("all", *PARTS)}, indent=1))
    print("calibration:", run.summary["calibration"])
    print(f"{run.results.count()} cases evaluated in {seconds:.1f} s")
    assert seconds < RUN_SECONDS_AT_MOST
    wanted = {(part, figure): FLOORS[part].get(figure, least) for part in PARTS for figure, least in TARGETS.items()}
    failing = {key: run.summary[key[0]][key[1]] for key, least in wanted.items()
               if run.summary[key[0]][key[1]] is None or run.summary[key[0]][key[1]] < least}
    assert not failing, (failing, _failures(run, (Expectation.ANSWER, Expectation.DECLINE, Expectation.PERSON)))
    right = run.results.filter(expectation=Expectation.ANSWER, passed=True).exclude(answer_source="faq")
    flagged = [r.case_key for r in right if r.unverified_facts]
    assert len(flagged) <= RIGHT_FLAGGED_AT_MOST * right.count(), flagged


def test_a_changed_number_in_a_quoted_source_is_flagged(demo_set, fake_ollama) -> None:
    demo_set.cases.exclude(expectation=Expectation.ANSWER).delete()
    fake_ollama.state.default_reply = Reply(change_number=True)
    run = _run(demo_set)
    generated = [r for r in run.results.all() if r.answer_source == "llm" and r.cited and any(
        ch.isdigit() for ch in r.answer)]
    flagged = [r for r in generated if r.unverified_facts]
    print(f"\nchanged numbers flagged: {len(flagged)}/{len(generated)}")
    assert generated and len(flagged) >= CHANGED_FLAGGED_AT_LEAST * len(generated), [
        (r.case_key, r.answer[:100]) for r in generated if not r.unverified_facts and not r.held_out]
    assert all(r.handoff_reason == "unverified_fact" for r in flagged)
