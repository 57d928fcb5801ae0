"""An evaluation run's traffic is the product measuring itself: never in the agents' inbox, the figures, the
Prometheus counters of real traffic, the customers' rate limits, or the answer cache."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from conversations import events
from conversations.evaluation.services import run_create, run_execute
from conversations.models import Conversation, EvalRun, LLMCall, Message
from conversations.prompting import profile_cache_key
from conversations.selectors.inbox import inbox
from conversations.stats import buckets as bucket_stats
from conversations.stats import dashboard as dashboard_stats
from conversations.stats import profiles as profile_stats
from helpdesk.llm import profiles
from helpdesk.tests.factories import default_profile
from knowledge import cache as answer_cache
from knowledge.selectors import knowledge_version_current

from .factories import bot_message_factory, conversation_factory, customer_message_factory
from .test_evaluation_run import shop_set

pytestmark = pytest.mark.django_db(transaction=True)


def run_shop(fake_ollama, *, keep: tuple[str, ...] = ()) -> EvalRun:
    eval_set = shop_set(fake_ollama)
    if keep:
        eval_set.cases.exclude(key__in=keep).delete()
    run = run_execute(run_create(eval_set=eval_set).pk)
    assert run.status == EvalRun.Status.DONE, run.error
    return run


def test_a_run_pushes_nothing_to_the_consoles_inboxes(fake_ollama, monkeypatch) -> None:
    heard: list[str] = []

    async def record(conversation_id: int, event: dict[str, Any], *, group: str | None = None) -> None:
        heard.append(group or "")

    monkeypatch.setattr(events, "_group_send", record)
    run = run_shop(fake_ollama, keep=("en-ship", "en-person"))
    assert run.results.get(case_key="en-person").handoff_reason == "customer_request"
    assert heard and events.CONSOLE_GROUP not in heard


def test_evaluation_conversations_are_not_listed_in_the_inbox() -> None:
    for evaluation in (True, False):
        conversation = conversation_factory(evaluation=evaluation, status=Conversation.Status.WAITING_HUMAN,
                                            handoff_reason="customer_request", handoff_at=timezone.now())
        customer_message_factory(conversation, "I want a person")
    assert [item["id"] for item in inbox()] == [conversation.pk]


def test_evaluation_conversations_count_in_neither_the_dashboard_nor_the_profiles_figures() -> None:
    profile = default_profile()
    for evaluation in (True, False):
        conversation = conversation_factory(evaluation=evaluation, profile=profile, handoff_at=timezone.now())
        customer_message_factory(conversation, "Where is my parcel?")
        bot_message_factory(conversation, answer_source=Message.AnswerSource.LLM, profile=profile, ttft_ms=50.0,
                            total_ms=100.0)
    now = timezone.now()
    buckets = bucket_stats.buckets_ending_now(now=now, size=timedelta(hours=1), count=2)
    totals = dashboard_stats.dashboard_series(buckets=buckets).totals
    assert (totals["conversations"], totals["customer_messages"], totals["bot_replies"]) == (1, 1, 1)
    [column] = profile_stats.profiles_compare(start=now - timedelta(hours=1), end=now + timedelta(minutes=1))
    assert (column.conversations, column.bot_replies, column.latency_samples) == (1, 1, 1)


def counted() -> dict[str, float]:
    samples = {
        "customer": ("helpdesk_messages_total", {"role": "customer"}),
        "bot": ("helpdesk_messages_total", {"role": "bot"}),
        "llm": ("helpdesk_bot_answers_total", {"source": "llm"}),
        "faq": ("helpdesk_bot_answers_total", {"source": "faq"}),
        "asked": ("helpdesk_handoffs_total", {"reason": "customer_request"}),
    }
    return {key: REGISTRY.get_sample_value(name, labels) or 0.0 for key, (name, labels) in samples.items()}


def test_a_run_moves_none_of_the_counters_of_real_traffic(fake_ollama) -> None:
    before = counted()
    run = run_shop(fake_ollama)
    assert {r.answer_source for r in run.results.all()} >= {"llm", "faq"}
    assert counted() == before


def test_a_run_leaves_no_model_call_records_behind(fake_ollama, reply_runner) -> None:
    from helpdesk.celery import embedded_tasks_wait
    from tests.support.stack import celery_queues_drained

    run_shop(fake_ollama, keep=("en-ship", "en-pay"))
    embedded_tasks_wait() if reply_runner == "embedded" else celery_queues_drained()
    assert not LLMCall.objects.exists()


def test_a_run_is_not_rate_limited_like_a_customer(fake_ollama, settings) -> None:
    settings.RATE_LIMIT_MESSAGES_PER_IP = "1/minute"
    settings.RATE_LIMIT_MODEL_CALLS_PER_IP = "1/minute"
    run = run_shop(fake_ollama)
    assert run.results.filter(passed=True).count() == 5


def test_a_run_neither_reads_nor_fills_the_answer_cache(fake_ollama) -> None:
    eval_set = shop_set(fake_ollama)
    eval_set.cases.exclude(key="en-ship").delete()
    question = eval_set.cases.get().question
    cache_profile = profile_cache_key(profiles.profile_default(), question=question)
    stale = answer_cache.CachedAnswer(content="Delivery takes a month.", sources=[], model_name="old",
                                      confidence=0.9)
    answer_cache.answer_cache_put(question=question, version=knowledge_version_current(), profile=cache_profile,
                                  answer=stale)
    run = run_execute(run_create(eval_set=eval_set).pk)
    result = run.results.get()
    assert result.answer_source == "llm" and "2-4 days" in result.answer and result.passed
    answer_cache.answer_cache_purge()
    run_execute(run_create(eval_set=eval_set).pk)
    assert answer_cache.answer_cache_get(question=question, version=knowledge_version_current(),
                                         profile=cache_profile) is None
