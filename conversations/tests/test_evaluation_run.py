"""conversations.evaluation.runner and services: a set run through the real reply pipeline (fake Ollama)."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError

from conversations.evaluation.services import calibration_apply, cases_import, run_create, run_execute, run_queue
from conversations.models import Conversation, EvalCase, EvalRun, EvalSet, Message
from helpdesk.llm import profiles
from helpdesk.models import ModelProfile
from helpdesk.tests.factories import canary_profile, default_profile
from knowledge.models import Article
from knowledge.tests.factories import article_create, faq_create
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)

CASES = """\
{"key": "en-invoice", "question": "How do I get an invoice?", "expectation": "faq", "faq": "How do I get an invoice?"}
{"key": "en-pay", "question": "Do you take Mastercard?", "articles": ["Payment methods"], \
"history": [{"role": "customer", "content": "Hi"}, {"role": "bot", "content": "Hello! How can I help?"}]}
{"key": "en-person", "question": "I want to talk to a human please", "expectation": "person"}
{"key": "en-ship", "question": "How long does delivery take?", "articles": ["Shipping and delivery"], \
"must_include": ["2-4 days"]}
{"key": "zh-person", "question": "我要找人工客服", "expectation": "person", "language": "zh-hans", "held_out": true}
"""


def shop_set(fake_ollama, name: str = "shop", cases: str = CASES) -> EvalSet:
    """A few articles and an FAQ entry of the demo shop, and a default set of five cases about them."""
    fake_ollama.state.default_reply = Reply(cite_first_source=True)
    if not Article.objects.exists():
        for key in ("shipping", "returns", "payment"):
            article_create(key)
        faq_create("How do I get an invoice?", "Request it on the order page.")
    eval_set = EvalSet.objects.create(name=name, is_default=True)
    report = cases_import(eval_set=eval_set, data=cases, fmt="jsonl")
    assert not report.errors, report.errors
    return eval_set


@pytest.fixture
def shop(fake_ollama) -> EvalSet:
    return shop_set(fake_ollama)


def test_a_run_asks_every_case_through_the_pipeline_and_keeps_what_it_did(shop, fake_ollama) -> None:
    run = run_execute(run_create(eval_set=shop).pk)
    assert (run.status, run.error, run.cases_total, run.cases_done) == (EvalRun.Status.DONE, "", 5, 5)
    assert run.started_at and run.finished_at and run.knowledge_version
    assert run.profile_name == profiles.profile_default().name
    results = {r.case_key: r for r in run.results.all()}
    assert all(r.passed for r in results.values()), {k: r.failures for k, r in results.items()}
    shipping = Article.objects.get(title="Shipping and delivery")
    ship = results["en-ship"]
    assert ship.answer_source == "llm" and "2-4 days" in ship.answer and ship.cited == [shipping.pk]
    assert ship.retrieved[0]["article_id"] == shipping.pk and ship.confidence > 0.5 and ship.ttft_ms is not None
    assert ship.signals["cited"] is True and ship.expected["articles"] == [shipping.pk] and ship.reply_correct
    invoice = results["en-invoice"]
    assert invoice.answer_source == "faq" and invoice.retrieved[0]["faq_id"] == invoice.expected["faq"]
    person = results["zh-person"]
    assert (person.handoff_reason, person.answer, person.confidence, person.held_out) == (
        "customer_request", "", None, True)
    assert (person.intent, results["en-ship"].intent) == ("person", "shipping")  # the question's, as stored
    # The earlier turns were sent as the dialogue before the question.
    pay_prompt = next(r.body for r in fake_ollama.chat_requests() if "Mastercard" in str(r.body["messages"][-1]))
    assert "Hello! How can I help?" in [m["content"] for m in pay_prompt["messages"]]
    assert run.summary["all"]["cases"] == 5 and run.summary["held_out"]["person_handed_off"] == 1.0
    assert run.summary["calibration"]["current_threshold"] == 0.5
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_run_measures_its_own_profile_even_one_without_traffic(shop, fake_ollama) -> None:
    shop.cases.exclude(key="en-ship").delete()
    fake_ollama.state.models.append("qwen3:8b")
    candidate = canary_profile("candidate", share=0.0, model="qwen3:8b", handoff_threshold=0.9)
    run = run_execute(run_create(eval_set=shop, profile=candidate).pk)
    assert (run.profile_name, run.model_name, run.handoff_threshold) == ("candidate", "qwen3:8b", 0.9)
    assert [r.body["model"] for r in fake_ollama.chat_requests()] == ["qwen3:8b"]
    [result] = run.results.all()
    assert result.handoff_reason == "low_confidence" and result.failures == ["handed off: low_confidence"]
    assert result.reply_correct is True  # right, but for its threshold: what the calibration weighs


def test_a_redelivered_run_asks_only_the_cases_not_yet_stored(shop, fake_ollama) -> None:
    run = run_execute(run_create(eval_set=shop).pk)
    kept = run.results.get(case_key="en-pay")
    run.results.filter(case_key="en-ship").delete()
    EvalRun.objects.filter(pk=run.pk).update(status=EvalRun.Status.RUNNING, cases_done=4)
    asked = len(fake_ollama.chat_requests())
    again = run_execute(run.pk)
    assert again.status == EvalRun.Status.DONE and again.results.count() == again.cases_done == 5
    assert len(fake_ollama.chat_requests()) == asked + 1
    assert again.results.get(case_key="en-pay").pk == kept.pk
    assert run_execute(run.pk).finished_at == again.finished_at  # a finished run is left as it is


def test_a_run_that_raises_is_failed_with_its_error_and_keeps_its_results(shop, fake_ollama, settings) -> None:
    EvalCase.objects.create(eval_set=shop, key="zz-too-long", question="x" * (settings.MESSAGE_MAX_CHARS + 1))
    run = run_execute(run_create(eval_set=shop).pk)
    assert run.status == EvalRun.Status.FAILED and "the limit is" in run.error
    assert run.finished_at and run.results.count() == run.cases_done == 5 and run.summary == {}
    assert EvalRun.objects.get(pk=run.pk).status == EvalRun.Status.FAILED
    assert not Conversation.objects.exists()


def test_a_queued_run_is_run_by_a_worker(shop, fake_ollama, reply_runner) -> None:
    shop.cases.exclude(key="en-ship").delete()
    run = run_queue(eval_set=shop)
    assert run.trigger == EvalRun.Trigger.MANUAL and run.cases_total == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (EvalRun.Status.DONE, EvalRun.Status.FAILED):
            break
        time.sleep(0.1)
    assert run.status == EvalRun.Status.DONE, run.error
    assert run.results.get().passed


def test_calibration_apply_sets_the_profiles_threshold_to_the_proposal(shop, fake_ollama) -> None:
    profile = default_profile(handoff_threshold=0.3)
    run = run_execute(run_create(eval_set=shop, profile=profile).pk)
    proposed = run.summary["calibration"]["proposed_threshold"]
    assert proposed is not None and proposed != 0.3
    assert calibration_apply(run=run) == proposed
    assert ModelProfile.objects.get(pk=profile.pk).handoff_threshold == proposed


def test_calibration_apply_refuses_without_a_proposal_or_a_stored_profile(shop) -> None:
    run = run_create(eval_set=shop)
    run.summary = {"calibration": {"proposed_threshold": None}}
    with pytest.raises(ValidationError, match="proposes no"):
        calibration_apply(run=run)
    run.summary, run.profile = {"calibration": {"proposed_threshold": 0.6}}, None
    with pytest.raises(ValidationError, match="not stored"):
        calibration_apply(run=run)
