"""conversations.evaluation.runner: a set run through the real reply pipeline against the fake Ollama."""

from __future__ import annotations

import pytest

from conversations.evaluation.services import cases_import, run_create, run_execute
from conversations.models import Conversation, EvalRun, EvalSet
from knowledge.tests.factories import article_create, faq_create
from tests.fake_ollama import Reply

pytestmark = pytest.mark.django_db(transaction=True)

CASES = """\
{"key": "en-ship", "question": "How long does delivery take?", "articles": ["Shipping and delivery"], "must_include": ["2-4 days"]}
{"key": "en-invoice", "question": "How do I get an invoice?", "expectation": "faq", "faq": "How do I get an invoice?"}
{"key": "en-person", "question": "I want to talk to a human please", "expectation": "person"}
{"key": "zh-person", "question": "我要找人工客服", "expectation": "person", "language": "zh-hans", "held_out": true}
{"key": "en-pay", "question": "Do you take Mastercard?", "articles": ["Payment methods"], "history": [{"role": "customer", "content": "Hi"}, {"role": "bot", "content": "Hello! How can I help?"}]}
"""


@pytest.fixture
def shop(fake_ollama):
    fake_ollama.state.default_reply = Reply(cite_first_source=True)
    for key in ("shipping", "returns", "payment"):
        article_create(key)
    faq_create("How do I get an invoice?", "Request it on the order page.")
    eval_set = EvalSet.objects.create(name="shop", is_default=True)
    report = cases_import(eval_set=eval_set, data=CASES, fmt="jsonl")
    assert not report.errors, report.errors
    return eval_set


def test_a_run_asks_every_case_through_the_pipeline(shop, fake_ollama) -> None:
    run = run_execute(run_create(eval_set=shop).pk)
    assert run.status == EvalRun.Status.DONE, run.error
    results = {r.case_key: r for r in run.results.all()}
    for r in results.values():
        print(r.case_key, r.passed, r.failures, r.answer, r.answer_source, r.confidence, r.handoff_reason, r.retrieved, r.cited, r.ttft_ms)
    print(run.summary)
    assert not Conversation.objects.exists()
