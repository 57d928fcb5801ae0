"""Writes of the conversations app.

Every change a client must hear about goes through one function here, which
stores it first and pushes it to the conversation's group after the
transaction commits; tasks are enqueued the same way, so a worker never
looks for a row that is not there yet.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk import metrics, profiles, ratelimits
from helpdesk.celery import enqueue

from . import events
from .models import Conversation, Customer, Feedback, LLMCall, Message, new_conversation_token
from .notices import INTERRUPTED_NOTICE, UNAVAILABLE_NOTICE, notice_in
from .outcome import ReplyOutcome
from .selectors import (
    DIALOGUE_ROLES,
    agents_online_count,
    conversations_unanswered,
    customer_language,
    customer_message_for_reply,
    message_to_agent_dict,
    message_to_dict,
    replies_stale,
    streaming_replies,
    support_open,
)

logger = logging.getLogger(__name__)

CANCEL_FLAG_TTL_S = 900


class MessageRejected(ValueError):
    """The customer's message cannot be accepted; `code` goes to the client."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def cancel_flag_key(message_id: int) -> str:
    return f"reply-cancel:{message_id}"


class IdentityRefused(MessageRejected):
    """The host site's identity for the customer is missing (when required) or not signed right."""


def identity_hash(*, user_id: str, name: str = "", email: str = "", ts: int) -> str:
    """What the host site computes on its server when it renders the page, in hex:
    HMAC-SHA256(WIDGET_IDENTITY_SECRET, f"{id}\\n{name}\\n{email}\\n{ts}"), `ts` in Unix seconds and absent
    fields as "". Signing the name, the email and the time means a hash seen once can neither be replayed later
    (past WIDGET_IDENTITY_MAX_AGE_S) nor with another email or name for the same user."""
    message = f"{user_id}\n{name}\n{email}\n{ts}"
    return hmac.new(settings.WIDGET_IDENTITY_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def identity_hash_legacy(user_id: str) -> str:
    """The first scheme, the id alone: accepted only with WIDGET_IDENTITY_ACCEPT_LEGACY_HASH, and then the
    name and email that come with it are not stored (nothing signs them)."""
    return hmac.new(settings.WIDGET_IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()


IDENTITY_RECIPE = 'sign id, name, email and ts: HMAC-SHA256(secret, id + "\\n" + name + "\\n" + email + "\\n" + ts)'


def _identity_verify(user: Any) -> tuple[str, str, str]:
    """The (id, name, email) the host site signed; raises IdentityRefused with what is wrong and how to fix it."""
    if not isinstance(user, dict) or not isinstance(user.get("id"), (str, int)) or isinstance(user.get("id"), bool):
        raise IdentityRefused("identity_invalid", "user must be an object with an id, a ts and a hash")
    user_id = str(user["id"])
    fields = {"name": user.get("name"), "email": user.get("email")}
    if any(value is not None and not isinstance(value, str) for value in fields.values()):
        raise IdentityRefused("identity_invalid", "user.name and user.email must be strings")
    name, email = fields["name"] or "", fields["email"] or ""
    if not user_id.strip() or len(user_id) > 255 or any("\n" in value for value in (user_id, name, email)):
        raise IdentityRefused("identity_invalid", "user.id must be 1 to 255 characters; no field may hold a newline")
    given = user.get("hash")
    if not settings.WIDGET_IDENTITY_SECRET:
        raise IdentityRefused("identity_not_configured", "identity verification is not configured on this server")
    given = given.strip().lower() if isinstance(given, str) and given.isascii() else ""  # compare_digest: ASCII only
    ts = user.get("ts")
    if isinstance(ts, str) and ts.isascii() and ts.isdigit():
        ts = int(ts)
    if not isinstance(ts, int) or isinstance(ts, bool):
        if settings.WIDGET_IDENTITY_ACCEPT_LEGACY_HASH and hmac.compare_digest(identity_hash_legacy(user_id), given):
            return user_id.strip(), "", ""
        problem = "is missing" if ts is None else "must be whole Unix seconds"
        raise IdentityRefused("identity_refused", f"user.ts {problem}: the identity hash must {IDENTITY_RECIPE}")
    if not hmac.compare_digest(identity_hash(user_id=user_id, name=name, email=email, ts=ts), given):
        raise IdentityRefused("identity_refused", f"the user's hash does not match: {IDENTITY_RECIPE}")
    age = int(time.time()) - ts
    if age > settings.WIDGET_IDENTITY_MAX_AGE_S:
        raise IdentityRefused(
            "identity_expired",
            f"the identity was signed {age} s ago; the limit is {settings.WIDGET_IDENTITY_MAX_AGE_S} s "
            "(WIDGET_IDENTITY_MAX_AGE_S): sign it when rendering the page, or pass a fresh one to Helpdesk.setUser",
        )
    if -age > settings.WIDGET_IDENTITY_CLOCK_SKEW_S:
        raise IdentityRefused(
            "identity_expired",
            f"user.ts is {-age} s in the future (more than WIDGET_IDENTITY_CLOCK_SKEW_S = "
            f"{settings.WIDGET_IDENTITY_CLOCK_SKEW_S} s): check the host server's clock",
        )
    return user_id.strip(), name, email


def conversation_create(*, user: Any = None) -> Conversation:
    """A new conversation, or for a verified customer their latest one, so it follows them across devices.

    `user` is the widget's `{id, name?, email?, ts, hash}` (see identity_hash). Without one, the conversation is
    bound to the browser that keeps its token (refused when ENFORCE_IDENTITY is on). Only a signed name and
    email are stored.
    """
    if user is None:
        if settings.ENFORCE_IDENTITY:
            raise IdentityRefused("identity_required", "this site requires a signed-in user (helpdeskSettings.user)")
        return _conversation_new()
    user_id, name, email = _identity_verify(user)
    email = email if len(email) <= 254 else ""
    with transaction.atomic():
        customer, _ = Customer.objects.get_or_create(external_id=user_id)
        changes = {k: v[:255] for k, v in (("name", name.strip()), ("email", email.strip())) if v and v.strip()}
        if changes:
            Customer.objects.filter(pk=customer.pk).update(**changes)
        latest = customer.conversations.order_by("-created_at").first()
        return latest or _conversation_new(customer=customer)


def _conversation_new(*, customer: Customer | None = None) -> Conversation:
    """A conversation with the model profile its token's canary bucket gives it, for its whole life."""
    token = new_conversation_token()
    profile = profiles.profile_for_new_conversation(key=token)
    return Conversation.objects.create(token=token, customer=customer, profile=profile)


def _validate_customer_text(text: Any) -> str:
    if not isinstance(text, str):
        raise MessageRejected("invalid_message", "text must be a string")
    text = text.strip()
    if not text:
        raise MessageRejected("empty_message", "the message is empty")
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise MessageRejected(
            "message_too_long",
            f"the message has {len(text)} characters; the limit is {settings.MESSAGE_MAX_CHARS}",
        )
    return text


def _validate_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not (1 <= len(client_id) <= 64) or not client_id.isprintable():
        raise MessageRejected("invalid_client_id", "client_id must be a string of 1 to 64 printable characters")
    return client_id


def message_post_customer(
    *, conversation: Conversation, text: Any, client_id: Any, client_ip: str = ""
) -> tuple[Message, bool]:
    """Store a customer message once per `client_id`; returns (message, created).

    The row is written before anything else happens, so a reply that fails
    later never loses what the customer wrote. A resend with a known
    `client_id` returns the stored message and triggers nothing.

    Raises ratelimits.RateLimited (nothing stored) when the conversation or the
    client's address has sent its share of messages. Past the model-call share,
    the message is stored but the model is not asked: the customer is told to
    wait (`reply.throttled`), and the next message after that is answered with
    this one in its history. Handing it to a human instead would let a flood
    reach the agents' inbox.
    """
    text = _validate_customer_text(text)
    client_id = _validate_client_id(client_id)
    ratelimits.message_check(conversation_id=conversation.pk, client_ip=client_ip)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation, role=Message.Role.CUSTOMER, content=text, client_id=client_id,
                profile_id=conversation.profile_id,
            )
            payload = message_to_dict(message)
            _message_count(message)
            if conversation.status == Conversation.Status.RESOLVED:
                _conversation_reopen(conversation)
            # The echo goes out before the reply is queued, so no delta can overtake it.
            transaction.on_commit(
                lambda: events.message_created(conversation_id=conversation.pk, message=payload)
            )
            direct_reply = None
            if conversation.status == Conversation.Status.BOT and customer_wants_human(text):
                conversation = conversation_request_human(conversation=conversation, reason="customer_request")
            elif conversation.status == Conversation.Status.BOT:
                direct_reply = _bot_reply_direct(message)
            if conversation.status == Conversation.Status.BOT and direct_reply is None:
                from .tasks import generate_reply

                try:
                    ratelimits.model_call_check(conversation_id=conversation.pk, client_ip=client_ip)
                except ratelimits.RateLimited as exc:
                    logger.warning("no model call for message %s: %s", message.pk, exc)
                    retry_after = exc.retry_after
                    transaction.on_commit(lambda: events.reply_throttled(
                        conversation_id=conversation.pk, message_id=message.pk, retry_after=retry_after))
                else:
                    transaction.on_commit(lambda: enqueue(generate_reply, message.pk))
            last = direct_reply or message
            first_message = conversation.last_message_at is None
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=last.completed_at or last.created_at
            )
            # Consoles hear of every message in conversations that need or have a human; of the
            # bot's own conversations only when they start (and when their status changes), so a
            # busy bot does not flood every agent's inbox.
            if first_message or conversation.status != Conversation.Status.BOT:
                _inbox_push(conversation, last)
    except IntegrityError:
        # A resend (or two tabs sending it at once): the unique constraint on
        # (conversation, client_id) answers without a look-up on the common path.
        return Message.objects.get(conversation=conversation, client_id=client_id), False
    return message, True


def _bot_reply_direct(customer_message: Message) -> Message | None:
    """Answer at once, without a task, when an FAQ entry or the answer cache already has the answer.

    Skipped when the customer's previous message is still unanswered: the
    reply task then answers both together.
    """
    from .pipeline import direct_answer_find, direct_outcome

    previous_role = (
        customer_message.conversation.messages.filter(role__in=DIALOGUE_ROLES, id__lt=customer_message.pk)
        .order_by("-id")
        .values_list("role", flat=True)
        .first()
    )
    if previous_role == Message.Role.CUSTOMER:
        return None
    profile = profiles.profile_in_force(profile_id=customer_message.conversation.profile_id)
    grounding = direct_answer_find(
        question=customer_message.content, has_history=previous_role is not None, profile=profile
    )
    if grounding is None:
        return None
    outcome = direct_outcome(grounding, handoff_threshold=profile.handoff_threshold)
    now = timezone.now()
    reply = Message.objects.create(
        conversation=customer_message.conversation,
        profile_id=profile.pk,
        role=Message.Role.BOT,
        status=outcome.status,
        reply_to=customer_message,
        content=outcome.content,
        answer_source=outcome.answer_source,
        sources=outcome.sources,
        retrieval=outcome.retrieval,
        confidence=outcome.confidence,
        confidence_signals=outcome.confidence_signals,
        model_name=outcome.model_name,
        total_ms=(now - customer_message.created_at).total_seconds() * 1000,
        completed_at=now,
    )
    payload = message_to_dict(reply)
    transaction.on_commit(lambda: events.message_created(conversation_id=reply.conversation_id, message=payload))
    _message_count(reply, profile_name=profile.name)
    return reply


def _message_count(message: Message, *, profile_name: str = "") -> None:
    """Count a stored message (and a bot reply's timings) in the metrics, once its transaction commits."""
    def record() -> None:
        metrics.message_stored(message.role)
        if message.role == Message.Role.BOT:
            metrics.reply_recorded(
                profile=profile_name or "settings", node=message.ollama_host, answer_source=message.answer_source,
                complete=message.status == Message.Status.COMPLETE, ttft_ms=message.ttft_ms,
                total_ms=message.total_ms, reply_tokens=message.reply_tokens,
            )

    transaction.on_commit(record)


def _conversation_reopen(conversation: Conversation) -> None:
    """A customer writing into a resolved conversation starts over with the bot."""
    conversation.status = Conversation.Status.BOT
    conversation.handoff_reason = ""
    conversation.agent = None
    conversation.save(update_fields=["status", "handoff_reason", "agent", "updated_at"])
    transaction.on_commit(lambda: events.status_changed(conversation_id=conversation.pk, status=conversation.status))


def system_message_post(*, conversation: Conversation, text: str) -> Message:
    message = Message.objects.create(
        conversation=conversation, role=Message.Role.SYSTEM, content=text, profile_id=conversation.profile_id
    )
    _message_count(message)
    payload = message_to_dict(message)
    transaction.on_commit(lambda: events.message_created(conversation_id=conversation.pk, message=payload))
    return message


HANDOFF_NOTICE = {
    "en": "A colleague will join this conversation shortly. You can keep writing in the meantime.",
    "zh-hans": "客服同事马上就来，您可以继续留言。",
}
OFF_HOURS_NOTICE = {
    "en": "Our team is away right now; we are here {hours}. Leave your email address and we will write back, "
    "or keep writing: a colleague will read this conversation first thing.",
    "zh-hans": "客服同事现在不在线（服务时间：{hours}）。留下您的邮箱，我们会回信给您；"
    "也可以继续留言，同事上班后会第一时间查看。",
}
HANDOFF_REASONS = (
    "low_confidence", "customer_request", "no_knowledge", "model_error", "negative_feedback", "rule", "prompt_leak",
    "unanswered",
)


def conversation_request_human(
    *, conversation: Conversation, reason: str = "customer_request", notice: str = ""
) -> Conversation:
    """Move a bot conversation to the human queue with a reason, stop the bot and tell the customer.

    `notice` replaces the usual "a colleague will join" message (a failed
    reply explains what happened instead); it is written in the customer's
    language otherwise.
    """
    if reason not in HANDOFF_REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status != Conversation.Status.BOT:
            return conversation
        conversation.status = Conversation.Status.WAITING_HUMAN
        conversation.handoff_reason = reason
        conversation.handoff_at = timezone.now()
        conversation.save(update_fields=["status", "handoff_reason", "handoff_at", "updated_at"])
        transaction.on_commit(lambda: metrics.handed_off(reason))
        replies_cancel(conversation=conversation)
        # Outside working hours with nobody at a console, the customer is told when to expect a
        # reply and (the `offline` flag) offered to leave an email address.
        offline = not support_open() and not agents_online_count()
        transaction.on_commit(
            lambda: events.status_changed(
                conversation_id=conversation.pk, status=conversation.status, reason=reason, offline=offline
            )
        )
        language = customer_language(conversation=conversation)
        system_message_post(conversation=conversation, text=notice or HANDOFF_NOTICE[language])
        if offline:
            hours = f"{settings.SUPPORT_HOURS} ({settings.SUPPORT_TIME_ZONE})"
            system_message_post(conversation=conversation, text=OFF_HOURS_NOTICE[language].format(hours=hours))
        _inbox_push(conversation)
    return conversation


FEEDBACK_COMMENT_MAX_CHARS = 2000


def feedback_record(*, conversation: Conversation, message_id: Any, rating: Any, comment: Any = "") -> Feedback:
    """Store a customer's vote on a bot reply; two thumbs-down in a row hand the conversation to a human."""
    if rating not in (1, -1) or isinstance(rating, bool):
        raise MessageRejected("invalid_feedback", "rating must be 1 or -1")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > FEEDBACK_COMMENT_MAX_CHARS:
        limit = FEEDBACK_COMMENT_MAX_CHARS
        raise MessageRejected("invalid_feedback", f"comment must be text of at most {limit} characters")
    message = (
        Message.objects.filter(pk=message_id, conversation=conversation, role=Message.Role.BOT).first()
        if isinstance(message_id, int) and not isinstance(message_id, bool)
        else None
    )
    if message is None:
        raise MessageRejected("unknown_message", "no bot reply with this id in this conversation")
    with transaction.atomic():
        feedback, _ = Feedback.objects.update_or_create(
            message=message, defaults={"conversation": conversation, "rating": rating, "comment": comment.strip()}
        )
        # Agents with the conversation open see the vote and its comment under the reply at once.
        reviewed = message_to_agent_dict(message)
        transaction.on_commit(lambda: events.message_reviewed(conversation_id=conversation.pk, message=reviewed))
        newest_first = Feedback.objects.filter(conversation=conversation).order_by("-message_id")
        latest = list(newest_first.values_list("rating", flat=True)[:2])
        if latest == [-1, -1] and conversation.status == Conversation.Status.BOT:
            conversation_request_human(conversation=conversation, reason="negative_feedback")
    return feedback


def customer_wants_human(text: str) -> bool:
    """Whether a customer's message asks for a person (HANDOFF_PHRASES: short ones must be the whole
    message, longer ones may appear anywhere in it)."""
    from knowledge.retrieval import normalise_question

    whole = normalise_question(text)
    lowered = " ".join(text.lower().split())
    for phrase in settings.HANDOFF_PHRASES:
        if normalise_question(phrase) == whole:
            return True
        cjk = any("\u4e00" <= ch <= "\u9fff" for ch in phrase)
        long_enough = len(phrase) >= 3 if cjk else " " in phrase
        if long_enough and phrase.lower() in lowered:
            return True
    return False


def replies_cancel(*, conversation: Conversation) -> list[int]:
    """Ask every reply being generated in this conversation to stop after its current chunk."""
    streaming = streaming_replies(conversation=conversation)
    for message_id in streaming:
        cache.set(cancel_flag_key(message_id), True, CANCEL_FLAG_TTL_S)
    return streaming


def bot_reply_start(*, customer_message_id: int, retry_of: int | None = None) -> Message | None:
    """Claim the bot reply to a customer message; None when there is nothing to generate.

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
    profile = profiles.profile_in_force(profile_id=conversation.profile_id)
    try:
        with transaction.atomic():
            return Message.objects.create(
                conversation=conversation,
                role=Message.Role.BOT,
                status=Message.Status.STREAMING,
                reply_to=customer_message,
                profile_id=profile.pk,
                model_name=profile.model,
                attempts=1,
                heartbeat_at=timezone.now(),
            )
    except IntegrityError:
        return None  # another worker claimed it


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
            existing.heartbeat_at = timezone.now()
            existing.save(update_fields=["attempts", "content", "reasoning", "heartbeat_at"])
    if exhausted:
        logger.warning("reply %s lost its worker %s time(s): handed to a person", message_id, existing.attempts)
        reply_abandon(message_id=message_id, error="the worker generating this reply stopped, again")
        return None
    cache.delete(cancel_flag_key(message_id))
    return existing


def reply_progress_save(*, message_id: int, attempt: int, content: str) -> bool:
    """Store a streaming reply's text so far and its heartbeat; False when the reply is no longer this
    attempt's to write (finished, failed by the sweeper, or taken over by a newer attempt): stop then.

    The partial text survives a crash, and the heartbeat is how the sweeper
    tells a dead worker from a slow model.
    """
    return bool(
        Message.objects.filter(pk=message_id, status=Message.Status.STREAMING, attempts=attempt).update(
            content=content, heartbeat_at=timezone.now()
        )
    )


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
        _message_count(message, profile_name=message.profile.name if message.profile_id else "")
        conversation = message.conversation
        payload = message_to_dict(message)
        transaction.on_commit(lambda: events.reply_done(conversation_id=conversation.pk, message=payload))
        language = customer_language(conversation=conversation)
        notice = notice_in(language, INTERRUPTED_NOTICE)
        conversation_request_human(conversation=conversation, reason="model_error", notice=notice)
        from .tasks import log_turn

        transaction.on_commit(lambda: enqueue(log_turn, message.pk, error_kind="worker_lost"))
    cache.delete(cancel_flag_key(message_id))
    return True


def bot_reply_finish(*, message_id: int, outcome: ReplyOutcome, attempt: int | None = None) -> Message:
    """Store the final reply with its metrics, tell the customer, log the LLM call.

    With `attempt`, only while the reply is still that attempt's: a worker
    the sweeper took for dead, or a reply failed meanwhile, changes nothing,
    so a reply completes once.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if attempt is not None and (message.status != Message.Status.STREAMING or message.attempts != attempt):
            logger.warning("reply %s attempt %s finished after it was taken over: dropped", message_id, attempt)
            return message
        message.content = outcome.content
        message.reasoning = outcome.reasoning
        message.status = outcome.status
        message.answer_source = outcome.answer_source
        message.sources = outcome.sources
        message.retrieval = outcome.retrieval
        message.confidence = outcome.confidence
        message.confidence_signals = outcome.confidence_signals
        if outcome.model_name or outcome.answer_source == Message.AnswerSource.LLM:
            message.model_name = outcome.model_name or message.model_name
        else:
            message.model_name = ""
        message.ollama_host = outcome.ollama_host
        message.ttft_ms = outcome.ttft_ms
        message.total_ms = outcome.total_ms
        message.prompt_tokens = outcome.prompt_tokens
        message.reply_tokens = outcome.reply_tokens
        message.done_reason = outcome.done_reason
        message.error = outcome.error
        message.completed_at = timezone.now()
        message.save()
        _message_count(message, profile_name=message.profile.name if message.profile_id else "")
        conversation = message.conversation
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.completed_at)
        payload = message_to_dict(message)
        if outcome.answer_source == Message.AnswerSource.LLM:
            transaction.on_commit(lambda: events.reply_done(conversation_id=conversation.pk, message=payload))
        else:  # a stored answer, not a stream: sent like any stored message (DESIGN.md § Websocket protocol)
            transaction.on_commit(lambda: events.message_created(conversation_id=conversation.pk, message=payload))
        if outcome.handoff_reason:
            conversation_request_human(
                conversation=conversation, reason=outcome.handoff_reason, notice=outcome.customer_notice
            )
        elif outcome.customer_notice:
            system_message_post(conversation=conversation, text=outcome.customer_notice)
        if outcome.answer_source == Message.AnswerSource.LLM:
            from .tasks import log_turn

            error_kind = outcome.error_kind
            transaction.on_commit(lambda: enqueue(log_turn, message.pk, error_kind=error_kind))
    cache.delete(cancel_flag_key(message_id))
    return message


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
    from .tasks import generate_reply

    with transaction.atomic():
        reply = Message.objects.select_for_update().filter(pk=message_id, status=Message.Status.STREAMING).first()
        if reply is None:
            return ""
        bot_in_charge = reply.conversation.status == Conversation.Status.BOT  # else nobody would generate it
        if reply.attempts <= settings.REPLY_MAX_RETRIES and reply.reply_to_id is not None and bot_in_charge:
            # Not picked again by the next sweeps while the new attempt waits for a worker.
            Message.objects.filter(pk=reply.pk).update(heartbeat_at=timezone.now())
            logger.warning("reply %s lost its worker in attempt %s: generating it again", reply.pk, reply.attempts)
            transaction.on_commit(lambda: enqueue(generate_reply, reply.reply_to_id, retry_of=reply.attempts))
            return "retried"
    abandoned = reply_abandon(message_id=message_id, error="the worker generating this reply stopped")
    return "failed" if abandoned else ""


def _unanswered_hand_off(*, conversation_id: int) -> bool:

    conversation = Conversation.objects.get(pk=conversation_id)
    language = customer_language(conversation=conversation)
    notice = notice_in(language, UNAVAILABLE_NOTICE)
    logger.warning("conversation %s: a customer message had no reply: handed to a person", conversation_id)
    conversation = conversation_request_human(conversation=conversation, reason="unanswered", notice=notice)
    return conversation.status == Conversation.Status.WAITING_HUMAN


def llm_call_record(*, message_id: int, error_kind: str = "") -> LLMCall | None:
    """Record the Ollama call behind a finished bot reply, once."""
    message = Message.objects.filter(pk=message_id, role=Message.Role.BOT).first()
    if message is None or message.status == Message.Status.STREAMING:
        return None
    outcome = {
        Message.Status.COMPLETE: LLMCall.Outcome.OK,
        Message.Status.CANCELLED: LLMCall.Outcome.CANCELLED,
    }.get(message.status, LLMCall.Outcome.FAILED)
    try:
        with transaction.atomic():
            return LLMCall.objects.create(
                conversation_id=message.conversation_id,
                message=message,
                profile_id=message.profile_id,
                model_name=message.model_name,
                ollama_host=message.ollama_host,
                outcome=outcome,
                error_kind=error_kind,
                error=message.error,
                done_reason=message.done_reason,
                ttft_ms=message.ttft_ms,
                total_ms=message.total_ms,
                prompt_tokens=message.prompt_tokens,
                reply_tokens=message.reply_tokens,
            )
    except IntegrityError:
        return None  # already recorded: one record per reply (unique), whichever delivery came first


# --- the agents' side ------------------------------------------------------------------------
# Called by agents.services, which checks who may act and writes the audit log.

AGENT_JOINED = {"en": "{name} joined the conversation.", "zh-hans": "客服 {name} 已加入对话。"}
BOT_RESUMED = {"en": "You are chatting with our assistant again.", "zh-hans": "已转回智能助手为您服务。"}
RESOLVED_NOTICE = {
    "en": "This conversation is resolved. How did we do? You can write again any time.",
    "zh-hans": "本次对话已解决。欢迎为我们的服务评分，有问题随时留言。",
}


class ConversationTaken(Exception):
    """Another agent has this conversation."""

    def __init__(self, agent_name: str) -> None:
        super().__init__(f"{agent_name} has this conversation")
        self.agent_name = agent_name


class NotYourConversation(Exception):
    """Only the agent who has the conversation may reply in it."""


def _inbox_push(conversation: Conversation, last_message: Message | None = None) -> None:
    from .selectors import inbox_item

    item = inbox_item(conversation, last_message=last_message)
    transaction.on_commit(lambda: events.inbox_changed(item=item))


def _status_push(conversation: Conversation, **extra: Any) -> None:
    from .selectors import agent_name

    status = conversation.status
    agent = {"name": agent_name(conversation.agent)} if status == Conversation.Status.HUMAN else None
    transaction.on_commit(
        lambda: events.status_changed(conversation_id=conversation.pk, status=status, agent=agent, **extra)
    )


def conversation_agent_join(*, conversation_id: int, agent: Any) -> Conversation:
    """An agent takes the conversation: the bot stops at once (its partial reply is kept, cancelled) and the
    customer sees who joined. Exactly one of two agents taking it at the same moment wins."""
    from .selectors import agent_name

    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status == Conversation.Status.HUMAN and conversation.agent_id:
            if conversation.agent_id == agent.pk:
                return conversation
            raise ConversationTaken(agent_name(conversation.agent))
        _agent_seat(conversation, agent)
    return conversation


def _agent_seat(conversation: Conversation, agent: Any) -> None:
    """Give a locked conversation to `agent`: the bot stops at once, the customer is told who joined."""
    from .selectors import agent_name

    replies_cancel(conversation=conversation)
    conversation.status = Conversation.Status.HUMAN
    conversation.agent = agent
    conversation.save(update_fields=["status", "agent", "updated_at"])
    _status_push(conversation)
    language = customer_language(conversation=conversation)
    system_message_post(conversation=conversation, text=AGENT_JOINED[language].format(name=agent_name(agent)))
    _inbox_push(conversation)


def conversation_agent_assign(*, conversation_id: int, to_agent: Any) -> Conversation:
    """Give the conversation to another agent (whoever had it)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.agent_id == to_agent.pk and conversation.status == Conversation.Status.HUMAN:
            return conversation
        _agent_seat(conversation, to_agent)
    return conversation


def _held_by(conversation_id: int, agent: Any) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if conversation.status != Conversation.Status.HUMAN or conversation.agent_id != agent.pk:
        raise NotYourConversation("take the conversation over first")
    return conversation


def conversation_bot_resume(*, conversation_id: int, agent: Any) -> Conversation:
    """Hand the conversation back to the bot, which answers the customer's next message."""
    with transaction.atomic():
        conversation = _held_by(conversation_id, agent)
        conversation.status = Conversation.Status.BOT
        conversation.agent = None
        conversation.handoff_reason = ""
        conversation.save(update_fields=["status", "agent", "handoff_reason", "updated_at"])
        _status_push(conversation)
        system_message_post(conversation=conversation, text=BOT_RESUMED[customer_language(conversation=conversation)])
        _inbox_push(conversation)
    return conversation


def conversation_resolve(*, conversation_id: int, agent: Any) -> Conversation:
    """Close the conversation; the customer is asked for a rating (the widget's CSAT prompt)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.status == Conversation.Status.RESOLVED:
            return conversation
        if conversation.status == Conversation.Status.HUMAN and conversation.agent_id not in (None, agent.pk):
            raise NotYourConversation("another agent has this conversation")
        replies_cancel(conversation=conversation)
        conversation.status = Conversation.Status.RESOLVED
        conversation.resolved_at = timezone.now()
        conversation.save(update_fields=["status", "resolved_at", "updated_at"])
        _status_push(conversation)
        text = RESOLVED_NOTICE[customer_language(conversation=conversation)]
        system_message_post(conversation=conversation, text=text)
        _inbox_push(conversation)
    return conversation


def message_post_agent(*, conversation_id: int, agent: Any, text: Any, client_id: Any = None) -> Message:
    """An agent's reply: stored, then shown to the customer at once."""
    text = _validate_customer_text(text)
    if client_id is not None:
        client_id = _validate_client_id(client_id)
    with transaction.atomic():
        conversation = _held_by(conversation_id, agent)
        existing = (
            Message.objects.filter(conversation=conversation, client_id=client_id).first() if client_id else None
        )
        if existing is not None:
            return existing
        message = Message.objects.create(
            conversation=conversation, role=Message.Role.AGENT, content=text, author=agent, client_id=client_id,
            profile_id=conversation.profile_id,
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
        _message_count(message)
        payload = message_to_dict(message)
        transaction.on_commit(lambda: events.message_created(conversation_id=conversation.pk, message=payload))
        _inbox_push(conversation, message)
    return message


def note_post(*, conversation_id: int, agent: Any, text: Any) -> Message:
    """A private note for colleagues: stored with the conversation, never sent to the customer."""
    from .selectors import message_to_agent_dict

    text = _validate_customer_text(text)
    with transaction.atomic():
        conversation = Conversation.objects.get(pk=conversation_id)
        note = Message.objects.create(
            conversation=conversation, role=Message.Role.NOTE, content=text, author=agent,
            profile_id=conversation.profile_id,
        )
        _message_count(note)
        payload = message_to_agent_dict(note)
        transaction.on_commit(lambda: events.note_created(conversation_id=conversation.pk, message=payload))
    return note


PRESENCE_KEY = "console:presence"
PRESENCE_TTL_S = 90


def agent_presence_set(*, agent_id: int, online: bool) -> None:
    """Record that an agent's console is connected (refreshed by its pings) or gone."""
    import time as _time

    seen = cache.get(PRESENCE_KEY) or {}
    now = _time.time()
    seen = {key: at for key, at in seen.items() if now - at < PRESENCE_TTL_S and key != agent_id}
    if online:
        seen[agent_id] = now
    cache.set(PRESENCE_KEY, seen, PRESENCE_TTL_S * 10)


def customer_typing(*, conversation: Conversation, active: bool) -> None:
    events.typing(conversation_id=conversation.pk, who="customer", active=bool(active))


def agent_typing(*, conversation_id: int, active: bool) -> None:
    events.typing(conversation_id=conversation_id, who="agent", active=bool(active))


def csat_record(*, conversation: Conversation, score: Any, comment: Any = "") -> Conversation:
    """The customer's rating of a resolved conversation (1-5, with an optional comment)."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise MessageRejected("invalid_csat", "score must be a whole number from 1 to 5")
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > FEEDBACK_COMMENT_MAX_CHARS:
        limit = FEEDBACK_COMMENT_MAX_CHARS
        raise MessageRejected("invalid_csat", f"comment must be text of at most {limit} characters")
    if conversation.status != Conversation.Status.RESOLVED:
        raise MessageRejected("not_resolved", "a rating is asked for once the conversation is resolved")
    Conversation.objects.filter(pk=conversation.pk).update(csat_score=score, csat_comment=comment.strip())
    metrics.csat_rated(score)
    conversation.refresh_from_db()
    with transaction.atomic():
        _inbox_push(conversation)
    return conversation


CONTACT_NAME_MAX_CHARS = 255


def _validate_contact_email(email: Any, *, required: bool) -> str:
    """An address a colleague can write back to; "" when not given and not `required`."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = "" if email is None else email
    if not isinstance(email, str):
        raise MessageRejected("invalid_email", "email must be text")
    email = email.strip()
    if not email and not required:
        return ""
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise MessageRejected("invalid_email", "this does not look like an email address") from None
    return email


def _validate_contact_name(name: Any) -> str:
    """A name as the customer wrote it, on one line; "" when not given."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise MessageRejected("invalid_name", "name must be text")
    name = " ".join(name.split())
    if len(name) > CONTACT_NAME_MAX_CHARS or not name.isprintable():
        raise MessageRejected("invalid_name", f"name must be at most {CONTACT_NAME_MAX_CHARS} printable characters")
    return name


def conversation_contact_set(*, conversation: Conversation, name: Any = "", email: Any = "") -> Conversation:
    """Who the customer is, as they said in the widget's pre-chat form: both optional.

    Fields left empty keep what is stored (a customer who skips the email is not
    forgotten by an earlier answer). Nothing is posted to the conversation: the
    form comes before it starts. Agents see both on the conversation's inbox line.
    """
    name = _validate_contact_name(name)
    email = _validate_contact_email(email, required=False)
    if name or email:
        with transaction.atomic():
            _contact_save(conversation, name=name, email=email)
            _inbox_push(conversation)
    return conversation


def _contact_save(conversation: Conversation, *, name: str = "", email: str = "") -> None:
    changes = {key: value for key, value in (("contact_name", name), ("contact_email", email)) if value}
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    conversation.refresh_from_db()


def contact_record(*, conversation: Conversation, email: Any) -> Conversation:
    """An address for a colleague to write back to (asked for outside working hours); the customer is thanked."""
    email = _validate_contact_email(email, required=True)
    with transaction.atomic():
        _contact_save(conversation, email=email)
        system_message_post(
            conversation=conversation,
            text={"en": "Thanks, we will write to {email}.", "zh-hans": "谢谢，我们会发邮件到 {email}。"}[
                customer_language(conversation=conversation)
            ].format(email=email),
        )
        _inbox_push(conversation)
    return conversation


def draft_request(*, conversation_id: int) -> None:
    """Queue a draft reply for the agents (the console shows it in the composer when it is ready)."""
    from .tasks import draft_reply

    if not Conversation.objects.filter(pk=conversation_id).exists():
        raise Conversation.DoesNotExist
    enqueue(draft_reply, conversation_id)


def draft_deliver(*, conversation_id: int, draft: dict[str, Any]) -> None:
    events.draft_ready(conversation_id=conversation_id, draft=draft)
