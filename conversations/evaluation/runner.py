"""Running a set: every case through the real reply pipeline, in a conversation of its own, judged and stored.

A case is asked the way a customer asks: its earlier turns are stored, its question is posted through
`message_post_customer` (so a request for a person, an FAQ entry, intents and whatever else the product does
with a customer's message apply), and the reply is generated synchronously by `reply_generate`, the function
the reply task runs. Its conversation is flagged `evaluation`, which keeps it out of the inbox, the figures,
the Prometheus counters, the rate limits and the answer cache, and is deleted once the result is stored: the
result copies what it needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from knowledge.retrieval.relevance import relevance_of

from ..models import Conversation, EvalCase, EvalResult, EvalRun, Message
from ..pipeline.reply import reply_generate
from ..services.messages import message_post_customer
from .judging import Expected, Observed, case_failures, reply_correct, reply_declined
from .metrics import run_summary

logger = logging.getLogger(__name__)

Progress = Callable[[EvalRun, EvalResult], None]
_ROLES = {"customer": Message.Role.CUSTOMER, "bot": Message.Role.BOT, "agent": Message.Role.AGENT}


def run_execute(run_id: int, *, progress: Progress | None = None) -> EvalRun:
    """Run every case of the run's set in key order, then sum the results up (the `conversations.evaluate`
    task, and the `evaluate` command). Idempotent: cases already stored (a redelivered task) are not asked
    again, and a finished run is left as it is. Never leaves the run `running`: an error fails it, with
    the error, and the results so far are kept."""
    run = EvalRun.objects.select_related("eval_set", "profile").get(pk=run_id)
    if run.status in (EvalRun.Status.DONE, EvalRun.Status.FAILED):
        return run
    cases = list(run.eval_set.cases.order_by("key").prefetch_related("articles"))
    run.status, run.cases_total = EvalRun.Status.RUNNING, len(cases)
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["status", "cases_total", "started_at"])
    try:
        stored = set(run.results.values_list("case_key", flat=True))
        for case in cases:
            if case.key in stored:
                continue
            result = case_run(run=run, case=case)
            stored.add(case.key)
            EvalRun.objects.filter(pk=run.pk).update(cases_done=len(stored))
            if progress:
                progress(run, result)
        run.summary = summary_of(run)
        run.status, run.cases_done = EvalRun.Status.DONE, len(stored)
    except Exception as exc:
        logger.exception("evaluation run %s failed", run.pk)
        run.status, run.error = EvalRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
        run.cases_done = run.results.count()
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "summary", "error", "cases_done", "finished_at"])
    return run


def summary_of(run: EvalRun) -> dict[str, Any]:
    """The run's summary from its stored results (see metrics.run_summary)."""
    threshold = run.handoff_threshold if run.handoff_threshold is not None else settings.HANDOFF_THRESHOLD
    return run_summary(list(run.results.all()), k=settings.EVAL_HIT_K, threshold=threshold,
                       target_wrong_rate=settings.EVAL_TARGET_WRONG_RATE)


def case_run(*, run: EvalRun, case: EvalCase) -> EvalResult:
    """Ask one case in a conversation of its own, store its result, and delete the conversation."""
    conversation = Conversation.objects.create(evaluation=True, profile=run.profile)
    try:
        _history_store(conversation, case.history)
        question, _ = message_post_customer(
            conversation=conversation, text=case.question, client_id=f"eval-{run.pk}-{case.key}"[:64]
        )
        reply = _reply_to(question)
        conversation.refresh_from_db()
        question.refresh_from_db(fields=["intent"])  # the pipeline may have refined it (out_of_scope, the model)
        result = _result_store(run=run, case=case, reply=reply, conversation=conversation, intent=question.intent)
    finally:
        conversation.delete()
    return result


def _history_store(conversation: Conversation, history: list[dict[str, str]]) -> None:
    """The case's earlier turns, as complete messages (nothing is generated for them)."""
    Message.objects.bulk_create([
        Message(conversation=conversation, role=_ROLES.get(turn.get("role", ""), Message.Role.CUSTOMER),
                content=turn.get("content", ""), status=Message.Status.COMPLETE, profile_id=conversation.profile_id)
        for turn in history
    ])


def _reply_to(question: Message) -> Message | None:
    """The bot's reply to the question: one answered at once (an FAQ entry) as the question was posted, else
    generated now; None when the conversation was handed on before any reply (a request for a person)."""
    direct = Message.objects.filter(reply_to=question, role=Message.Role.BOT).first()
    if direct is not None:
        return direct
    if Conversation.objects.filter(pk=question.conversation_id, status=Conversation.Status.BOT).exists():
        return reply_generate(customer_message_id=question.pk)
    return None


def expected_of(case: EvalCase) -> Expected:
    return Expected(
        expectation=case.expectation, articles=sorted(article.pk for article in case.articles.all()),
        faq=case.faq_id, must_include=list(case.must_include), must_not_include=list(case.must_not_include),
    )


def observed_of(reply: Message | None, conversation: Conversation) -> Observed:
    handoff = conversation.handoff_reason if conversation.status == Conversation.Status.WAITING_HUMAN else ""
    if reply is None:
        return Observed(handoff_reason=handoff)
    faq = (reply.retrieval or {}).get("faq") if reply.answer_source == Message.AnswerSource.FAQ else None
    return Observed(
        replied=reply.status == Message.Status.COMPLETE,
        answer=reply.content,
        answer_source=reply.answer_source,
        cited=_unique(source["article_id"] for source in reply.sources or [] if source.get("cited")),
        faq_id=faq["id"] if faq else None,
        confidence=reply.confidence,
        handoff_reason=handoff,
        declined=reply_declined(retrieval=reply.retrieval or {}, signals=reply.confidence_signals or {}),
    )


def retrieved_of(reply: Message | None) -> list[dict[str, Any]]:
    """What the knowledge lookup found, best first, one line per article (or the FAQ entry that answered)."""
    if reply is None:
        return []
    faq = (reply.retrieval or {}).get("faq")
    if faq:
        return [{"faq_id": faq["id"], "title": faq.get("question", ""), "relevance": faq.get("score")}]
    retrieved, seen = [], set()
    for source in reply.sources or []:
        if source.get("article_id") in seen:
            continue
        seen.add(source.get("article_id"))
        relevance = relevance_of(vector_score=source.get("vector_score"),
                                 keyword_score=source.get("keyword_score") or 0.0)
        retrieved.append({"article_id": source.get("article_id"), "title": source.get("title", ""),
                          "relevance": round(relevance, 3)})
    return retrieved


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))


def _result_store(
    *, run: EvalRun, case: EvalCase, reply: Message | None, conversation: Conversation, intent: str
) -> EvalResult:
    expected, observed = expected_of(case), observed_of(reply, conversation)
    failures = case_failures(expected, observed)
    columns: dict[str, Any] = {
        "case": case, "question": case.question, "expectation": case.expectation, "held_out": case.held_out,
        "retrieved": retrieved_of(reply), "cited": observed.cited, "answer": observed.answer,
        "answer_source": observed.answer_source, "confidence": observed.confidence,
        "handoff_reason": observed.handoff_reason, "declined": observed.declined,
        "passed": not failures, "failures": failures, "expected": expected.as_dict(),
        "reply_correct": reply_correct(expected, observed), "intent": intent,
    }
    if reply is not None:
        columns.update(signals=reply.confidence_signals or {}, unverified_facts=reply.unverified_facts or [],
                       ttft_ms=reply.ttft_ms)
    try:
        with transaction.atomic():
            return EvalResult.objects.create(run=run, case_key=case.key, **columns)
    except IntegrityError:  # the same case stored meanwhile by another delivery of the task
        return EvalResult.objects.get(run=run, case_key=case.key)
