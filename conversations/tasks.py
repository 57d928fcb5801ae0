"""Celery tasks of the conversations app: thin, named, idempotent, ids only."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from helpdesk.observability.logs import log_context

from .evaluation.runner import run_execute
from .evaluation.schedule import evaluation_nightly_queue
from .faq_suggestions.services import faq_suggestion_create
from .mail.delivery import email_attempt
from .outbound_sweep import outbound_stale_resend
from .pipeline.draft import draft_generate
from .pipeline.reply import reply_generate
from .privacy import retention
from .services import summaries
from .services.drafts import draft_deliver
from .services.replies import llm_call_record, replies_sweep
from .webhooks.delivery import delivery_attempt


@shared_task(name="conversations.generate_reply", acks_late=True, reject_on_worker_lost=True)
def generate_reply(message_id: int, retry_of: int | None = None, **kwargs: Any) -> int | None:
    """Answer the customer message `message_id`; a reply already finished is not generated again.

    `retry_of`: the sweeper's new attempt at a reply whose worker died in attempt `retry_of`."""
    with log_context(customer_message_id=message_id):
        reply = reply_generate(customer_message_id=message_id, retry_of=retry_of)
    return reply.pk if reply else None


@shared_task(name="conversations.log_turn", ignore_result=True)
def log_turn(message_id: int, error_kind: str = "", **kwargs: Any) -> None:
    """Record the Ollama call behind a finished reply (model, host, timings, tokens, outcome)."""
    with log_context(message_id=message_id):
        llm_call_record(message_id=message_id, error_kind=error_kind)


@shared_task(name="conversations.draft_reply", ignore_result=True)
def draft_reply(conversation_id: int, **kwargs: Any) -> None:
    """Write a grounded draft for the agents looking at this conversation (never sent to the customer)."""
    with log_context(conversation_id=conversation_id):
        draft = draft_generate(conversation_id=conversation_id)
        draft_deliver(conversation_id=conversation_id, draft=draft)


@shared_task(name="conversations.sweep_replies", ignore_result=True)
def sweep_replies(**kwargs: Any) -> None:
    """Start over replies whose worker died, hand on customers left unanswered (beat, every SWEEP_INTERVAL_S)."""
    replies_sweep()


@shared_task(name="conversations.evaluate", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def evaluate(run_id: int, **kwargs: Any) -> None:
    """Run an evaluation run's cases (idempotent: a redelivered task goes on from the cases not yet stored)."""
    with log_context(eval_run_id=run_id):
        run_execute(run_id)


@shared_task(name="conversations.evaluation_nightly", ignore_result=True)
def evaluation_nightly(**kwargs: Any) -> None:
    """Queue tonight's evaluation run of the default set when it is due (the beat asks every 10 minutes)."""
    evaluation_nightly_queue()


@shared_task(name="conversations.summaries_fill", ignore_result=True)
def summaries_fill(**kwargs: Any) -> None:
    """Count today and the days since the last fill into the daily summaries (beat, every SUMMARIES_INTERVAL_S)."""
    summaries.summaries_fill()


@shared_task(name="conversations.retention_enforce", ignore_result=True)
def retention_enforce(**kwargs: Any) -> None:
    """Delete what RETENTION_DAYS expires, in batches (beat, every RETENTION_INTERVAL_S; off with
    RETENTION_ENABLED=false)."""
    if settings.RETENTION_ENABLED:
        retention.retention_enforce()


@shared_task(name="conversations.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int, **kwargs: Any) -> None:
    """One try of a webhook delivery (conversations.webhooks.delivery queues the next one after its backoff)."""
    delivery_attempt(delivery_id)


@shared_task(name="conversations.email_reply_send", ignore_result=True)
def email_reply_send(delivery_id: int, **kwargs: Any) -> None:
    """One try of an agent's reply by email (conversations.mail.delivery queues the next one after its backoff)."""
    email_attempt(delivery_id)


@shared_task(name="conversations.outbound_sweep", ignore_result=True)
def outbound_sweep(**kwargs: Any) -> dict[str, int]:
    """Beat, every OUTBOUND_SWEEP_S: webhook deliveries and emails whose task was lost are queued again."""
    return outbound_stale_resend(older_than_s=settings.OUTBOUND_STALE_S)


@shared_task(name="conversations.faq_suggest", acks_late=True, ignore_result=True)
def faq_suggest(conversation_id: int, **kwargs: Any) -> None:
    """Suggest an FAQ entry from the agent's answer in a conversation just resolved (once per answer)."""
    with log_context(conversation_id=conversation_id):
        faq_suggestion_create(conversation_id=conversation_id)
