"""A bot reply's life: claimed, started over, saved as it streams, finished or abandoned, and logged.

A reply is one Message row from its start: a worker writes it only while the
row still carries its attempt number, so of a dead worker's attempt and the
sweeper's new one exactly one completes. The periodic sweep finds replies
whose worker died and customers nobody answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Now
from django.utils import timezone

from helpdesk.celery import enqueue
from helpdesk.encrypted_fields import derived_columns
from helpdesk.llm import profiles

from .. import events
from ..models import Conversation, LLMCall, Message
from ..notices import INTERRUPTED_NOTICE, UNAVAILABLE_NOTICE, notice_in
from ..outcome import ReplyOutcome, llm_call_columns
from ..protocol.codes import HandoffReason
from ..selectors.replies import conversations_unanswered, customer_language, customer_message_for_reply, replies_stale
from .cancel import reply_state_clear
from .handoff import conversation_request_human
from .posting import message_publish, system_message_post

logger = logging.getLogger(__name__)


def reply_queue(customer_message_id: int, *, conversation_id: int, retry_of: int | None = None) -> None:
    """Generate the reply to a customer message on a worker, once the transaction that stored it commits.

    The customer sees the bot "thinking" from the moment the task is queued, not only once a worker takes it:
    behind a backed-up queue that may be a while, and the widget then says that the reply is coming."""
    kwargs = {} if retry_of is None else {"retry_of": retry_of}

    def queued() -> None:
        # Before the task: a worker that takes it at once never has its own "thinking" overtaken by this one.
        events.typing(conversation_id=conversation_id, who="bot", active=True)
        enqueue("conversations.generate_reply", customer_message_id, **kwargs)

    transaction.on_commit(queued)


def _call_record(reply: Message, *, error_kind: str) -> None:
    """Record the model call behind a finished reply in the transaction that finishes it: one INSERT where a task on
    the logging queue cost a publish, a delivery, a read of the reply and its insert (issue 18's per-reply cost).
    Not an evaluation run's (its calls would outlive its conversations in the profiles' figures). A record already
    there (a restarted attempt's, or a log_turn task queued by an earlier version) is kept: one per reply."""
    if reply.conversation.evaluation:
        return
    LLMCall.objects.bulk_create([_call_row(reply, error_kind=error_kind)], ignore_conflicts=True)


def _call_row(reply: Message, *, error_kind: str) -> LLMCall:
    """The LLMCall of a finished bot reply: its columns, and its status as the call's outcome."""
    outcome = {
        Message.Status.COMPLETE: LLMCall.Outcome.OK,
        Message.Status.CANCELLED: LLMCall.Outcome.CANCELLED,
    }.get(reply.status, LLMCall.Outcome.FAILED)
    return LLMCall(**llm_call_columns(reply), outcome=outcome, error_kind=error_kind)


def bot_reply_start(
    *, customer_message_id: int, retry_of: int | None = None, on_claim: Callable[[Message], None] | None = None,
) -> Message | None:
    """Claim the bot reply to a customer message; None when there is nothing to generate. `on_claim` is called with
    the customer message (as read, with `customer_message_for_reply`'s annotations) once a new reply is to be
    claimed, before its row is written: work that needs only the message can start there and run beside it.

    Idempotent: a reply already finished is not generated again; one left
    `streaming` by a worker that died (the broker redelivers the task, or the
    sweeper enqueues it again with `retry_of`, the attempt it found dead) is
    started over as a new attempt, from empty text: the customer's widget
    replaces the partial text when the deltas start again from seq 0. A
    reply that has used up its REPLY_MAX_RETRIES is failed and handed on.
    """
    customer_message = customer_message_for_reply(message_id=customer_message_id)
    if customer_message is None:
        logger.warning("generate_reply: customer message %s does not exist", customer_message_id)
        return None
    conversation = customer_message.conversation
    if conversation.status != Conversation.Status.BOT:
        return None
    if customer_message.reply_id is not None:
        if customer_message.reply_status != Message.Status.STREAMING:
            return None
        return _bot_reply_restart(customer_message.reply_id, retry_of=retry_of)
    if customer_message.has_newer:
        return None  # the newer message's reply answers this one too
    if on_claim is not None:
        on_claim(customer_message)
    profile = profiles.profile_in_force(profile_id=conversation.profile_id, pinned=conversation.evaluation)
    try:
        with transaction.atomic():
            reply = Message.objects.create(
                conversation=conversation,
                role=Message.Role.BOT,
                status=Message.Status.STREAMING,
                reply_to=customer_message,
                profile_id=profile.pk,
                model_name=profile.model,
                attempts=1,
                heartbeat_at=Now(),
            )
    except IntegrityError:
        return None  # another worker claimed it
    if profile.pk is not None:
        reply.profile = profile  # as it was just read: the pipeline's use of it reads nothing again
    # A reply that did not exist cannot have been asked to stop: a flag under its id is another's (SQLite hands a
    # rolled-back insert's id out again), and would stop this one before its first word.
    reply_state_clear(reply.pk)
    return reply


def _bot_reply_restart(message_id: int, *, retry_of: int | None) -> Message | None:
    """A new attempt at a reply whose worker died; None when another attempt already took it over or the
    retries are used up (then the reply is failed, its partial text kept, and the conversation handed on)."""
    with transaction.atomic():
        existing = Message.objects.select_for_update().get(pk=message_id)
        if existing.status != Message.Status.STREAMING:
            return None
        if retry_of is not None and existing.attempts != retry_of:
            return None  # a second retry of the same dead attempt (two sweeps): the first one has it
        if existing.attempts > settings.REPLY_MAX_RETRIES:
            exhausted = True
        else:
            exhausted = False
            existing.attempts += 1
            existing.content = ""
            existing.reasoning = ""
            existing.heartbeat_at = Now()
            existing.save(update_fields=["attempts", "content", "search_index", "reasoning", "heartbeat_at"])
    if exhausted:
        logger.warning("reply %s lost its worker %s time(s): handed to a person", message_id, existing.attempts)
        reply_abandon(message_id=message_id, error="the worker generating this reply stopped, again")
        return None
    reply_state_clear(message_id)
    return existing


def reply_progress_save(*, message_id: int, attempt: int, content: str) -> bool:
    """Store a streaming reply's text so far and its heartbeat; False when the reply is no longer this
    attempt's to write (finished, failed by the sweeper, or taken over by a newer attempt): stop then.

    The partial text survives a crash, and the heartbeat is how the sweeper
    tells a dead worker from a slow model. Heartbeats are stamped by the
    database's clock, which the sweeper reads too (selectors.replies_stale):
    a step of a worker's clock neither ages a live reply nor keeps a dead one.
    """
    return bool(
        Message.objects.filter(pk=message_id, status=Message.Status.STREAMING, attempts=attempt).update(
            **derived_columns(Message, {"content": content}), heartbeat_at=Now()
        )
    )


def _profile_name(reply: Message) -> str:
    return reply.profile.name if reply.profile_id else ""


def reply_abandon(*, message_id: int, error: str) -> bool:
    """Fail a reply whose worker is gone, keeping its partial text, and hand the conversation to a person.

    The customer's widget gets the reply's `done` (it stops showing it as
    streaming) and a notice that a colleague will answer. False when the
    reply was no longer streaming.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id, status=Message.Status.STREAMING).first()
        if message is None:
            return False
        message.status = Message.Status.FAILED
        message.error = error
        message.completed_at = timezone.now()
        message.save(update_fields=["status", "error", "completed_at"])
        message_publish(message, profile_name=_profile_name(message))
        conversation = message.conversation
        notice = notice_in(customer_language(conversation=conversation), INTERRUPTED_NOTICE)
        conversation_request_human(conversation=conversation, reason=HandoffReason.MODEL_ERROR, notice=notice,
                                   question_id=message.reply_to_id)
        _call_record(message, error_kind="worker_lost")
    reply_state_clear(message_id)
    return True


def bot_reply_finish(*, message_id: int, outcome: ReplyOutcome, attempt: int | None = None) -> Message:
    """Store the final reply with its metrics, tell the customer, log the LLM call.

    With `attempt`, only while the reply is still that attempt's: a worker
    the sweeper took for dead, or a reply failed meanwhile, changes nothing,
    so a reply completes once.
    """
    with transaction.atomic():
        # With its conversation and profile in the same query (the lock is the reply row's alone).
        message = Message.objects.select_for_update(of=("self",)).select_related("conversation", "profile").get(
            pk=message_id
        )
        if attempt is not None and (message.status != Message.Status.STREAMING or message.attempts != attempt):
            logger.warning("reply %s attempt %s finished after it was taken over: dropped", message_id, attempt)
            return message
        for column, value in outcome.reply_columns(claimed_model=message.model_name).items():
            setattr(message, column, value)
        message.completed_at = timezone.now()
        message.save()
        message_publish(message, profile_name=_profile_name(message))
        conversation = message.conversation
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.completed_at)
        if outcome.handoff_reason:
            conversation_request_human(
                conversation=conversation, reason=outcome.handoff_reason, notice=outcome.customer_notice,
                question_id=message.reply_to_id,
            )
        elif outcome.customer_notice:
            system_message_post(conversation=conversation, text=outcome.customer_notice)
        if outcome.answer_source == Message.AnswerSource.LLM:
            _call_record(message, error_kind=outcome.error_kind)
    reply_state_clear(message_id)
    return message


def llm_call_record(*, message_id: int, error_kind: str = "") -> LLMCall | None:
    """Record the Ollama call behind a finished bot reply, once (the log_turn task of replies finished by an
    earlier version, which queued it; bot_reply_finish now records its own)."""
    message = Message.objects.filter(pk=message_id, role=Message.Role.BOT).first()
    if message is None or message.status == Message.Status.STREAMING:
        return None
    try:
        with transaction.atomic():
            call = _call_row(message, error_kind=error_kind)
            call.save(force_insert=True)
            return call
    except IntegrityError:
        return None  # already recorded: one record per reply (unique), whichever came first


# --- the sweep --------------------------------------------------------------------------------------------


def replies_abandoned_fail(*, stale_only: bool = False) -> int:
    """Fail the replies left `streaming` by a stop of everything, and hand their conversations to a person.

    Run as the server starts. Their tasks died with the workers (in embedded
    mode, with the process): each reply is closed as failed with its partial
    text kept, and the customer is told a colleague will answer. With
    `stale_only` (production, where a worker on another host may still be
    streaming), only replies whose heartbeat is older than REPLY_HEARTBEAT_TIMEOUT_S.
    """
    abandoned = Message.objects.filter(role=Message.Role.BOT, status=Message.Status.STREAMING)
    if stale_only:
        abandoned = abandoned.filter(pk__in=replies_stale(timeout_s=settings.REPLY_HEARTBEAT_TIMEOUT_S))
    error = "the server stopped while this reply was generated"
    return sum(
        _safely(reply_abandon, message_id=message_id, error=error) is True
        for message_id in abandoned.values_list("pk", flat=True)
    )


def _safely(action: Any, **kwargs: Any) -> Any:
    """One item of a sweep: its failure (Redis still down, say) is logged and the sweep goes on."""
    try:
        return action(**kwargs)
    except Exception:
        logger.exception("%s(%s) failed", action.__name__, kwargs)
        return None


@dataclass
class SweepResult:
    retried: int = 0
    failed: int = 0
    handed_off: int = 0


def replies_sweep() -> SweepResult:
    """Find customers the bot left hanging, and deal with each (the periodic sweeper; idempotent).

    - A streaming reply whose heartbeat is older than REPLY_HEARTBEAT_TIMEOUT_S lost
      its worker (killed, its host gone): its generation is enqueued again, as a new
      attempt, or once its retries are used up it is failed and handed on.
      The broker would redeliver it only after its visibility timeout (an hour).
    - A customer message in a bot conversation still without a reply after
      UNANSWERED_TIMEOUT_S (its task was lost, e.g. sent while Redis was down)
      hands the conversation to a person.
    """
    result = SweepResult()
    for message_id in replies_stale(timeout_s=settings.REPLY_HEARTBEAT_TIMEOUT_S):
        done = _safely(_reply_retry_or_fail, message_id=message_id)
        result.retried += done == "retried"
        result.failed += done == "failed"
    for conversation_id in conversations_unanswered(timeout_s=settings.UNANSWERED_TIMEOUT_S):
        result.handed_off += _safely(_unanswered_hand_off, conversation_id=conversation_id) is True
    return result


def _reply_retry_or_fail(*, message_id: int) -> str:
    """A reply that lost its worker: enqueued again as a new attempt ("retried"), or, its retries used up,
    failed and handed on ("failed")."""
    with transaction.atomic():
        reply = Message.objects.select_for_update().filter(pk=message_id, status=Message.Status.STREAMING).first()
        if reply is None:
            return ""
        bot_in_charge = reply.conversation.status == Conversation.Status.BOT  # else nobody would generate it
        if reply.attempts <= settings.REPLY_MAX_RETRIES and reply.reply_to_id is not None and bot_in_charge:
            # Not picked again by the next sweeps while the new attempt waits for a worker.
            Message.objects.filter(pk=reply.pk).update(heartbeat_at=Now())
            logger.warning("reply %s lost its worker in attempt %s: generating it again", reply.pk, reply.attempts)
            reply_queue(reply.reply_to_id, conversation_id=reply.conversation_id, retry_of=reply.attempts)
            return "retried"
    abandoned = reply_abandon(message_id=message_id, error="the worker generating this reply stopped")
    return "failed" if abandoned else ""


def _unanswered_hand_off(*, conversation_id: int) -> bool:
    conversation = Conversation.objects.get(pk=conversation_id)
    language = customer_language(conversation=conversation)
    notice = notice_in(language, UNAVAILABLE_NOTICE)
    logger.warning("conversation %s: a customer message had no reply: handed to a person", conversation_id)
    conversation = conversation_request_human(conversation=conversation, reason=HandoffReason.UNANSWERED, notice=notice)
    return conversation.status == Conversation.Status.WAITING_HUMAN
