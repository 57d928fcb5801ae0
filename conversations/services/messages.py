"""Messages people write: the customer's (and what it sets off), an agent's reply, an agent's private note."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.llm import profiles
from helpdesk.llm.text import is_cjk, language_of
from helpdesk.runtime.versioned import versions_read_once
from helpdesk.web import ratelimits
from knowledge.selectors import direct_answer_find, knowledge_version_once, product_names

from .. import events
from ..intents import Classification, Intent, asks_for_person, classify
from ..mail.delivery import email_reply_queue
from ..models import Conversation, Message, ModerationHit
from ..moderation.lists import cached_answer_blocked, text_check
from ..notices import COMPLAINT_NOTICE, notice_in
from ..outcome import direct_outcome
from ..prompting import profile_cache_key
from ..protocol import fields
from ..protocol.codes import HandoffReason
from ..selectors.actions import actions_for_intent, proposal_pending
from ..selectors.replies import DIALOGUE_ROLES, customer_language
from .handoff import (
    conversation_held_by,
    conversation_reopen,
    conversation_request_human,
    handoff_first_response,
)
from .moderation import moderation_act, moderation_record
from .posting import message_publish
from .replies import reply_queue

logger = logging.getLogger(__name__)


def message_post_customer(
    *, conversation: Conversation, text: str, client_id: str, client_ip: str = ""
) -> tuple[Message, bool]:
    """Store a customer message once per `client_id`; returns (message, created).

    Before anything else the text is checked against the moderation lists (conversations.moderation): a
    blocked term whose category refuses or hands off is recorded, and the message is then neither classified
    nor answered; a flagged one goes on as usual.

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
    # The product names it is classified with and the FAQ and cache it is checked against: one knowledge version;
    # the actions, profiles, endpoints and labels kept per process: their versions read once (one MGET).
    with knowledge_version_once(), versions_read_once():
        return _message_post_customer(conversation=conversation, text=text, client_id=client_id, client_ip=client_ip)


def _message_post_customer(
    *, conversation: Conversation, text: str, client_id: str, client_ip: str
) -> tuple[Message, bool]:
    text = fields.message_text(text)
    client_id = fields.client_id(client_id)
    if not conversation.evaluation:  # an evaluation run's questions are the product's own, not a customer's
        ratelimits.message_check(conversation_id=conversation.pk, client_ip=client_ip)
    # Moderation first: a refused or handed-off message is neither classified nor answered.
    language = language_of(text)
    verdict = text_check(text, language=language)
    if verdict.stops:
        classification, wants_human = Classification(intent="", source=""), False  # type: ignore[arg-type]
    else:
        classification, wants_human = message_classify(text)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation, role=Message.Role.CUSTOMER, content=text, client_id=client_id,
                profile_id=conversation.profile_id, intent=classification.intent,
                intent_source=classification.source, entities=classification.entities,
            )
            if conversation.status == Conversation.Status.RESOLVED:
                conversation_reopen(conversation)
            acted = verdict.stops and conversation.status == Conversation.Status.BOT
            moderation_record(message=message, matches=verdict.matches, where=ModerationHit.Where.INBOUND,
                              acted=acted)
            # The echo goes out before the reply is queued, so no delta can overtake it.
            message_publish(message)
            if acted:
                conversation = moderation_act(conversation=conversation, action=verdict.action, language=language)
                direct_reply = None
            else:
                conversation, direct_reply = _customer_message_answer(
                    conversation, message, client_ip=client_ip, wants_human=wants_human
                )
            last = direct_reply or message
            first_message = conversation.last_message_at is None
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=last.completed_at or last.created_at
            )
            # Consoles hear of every message in conversations that need or have a human; of the
            # bot's own conversations only when they start (and when their status changes), so a
            # busy bot does not flood every agent's inbox.
            if first_message or conversation.status != Conversation.Status.BOT:
                events.inbox_changed_on_commit(conversation, last)
    except IntegrityError:
        # A resend (or two tabs sending it at once): the unique constraint on
        # (conversation, client_id) answers without a look-up on the common path.
        return Message.objects.get(conversation=conversation, client_id=client_id), False
    return message, True


def _customer_message_answer(
    conversation: Conversation, message: Message, *, client_ip: str, wants_human: bool
) -> tuple[Conversation, Message | None]:
    """What a customer message sets off while the bot has the conversation: a handoff when it asks for a
    person or complains, else a direct answer when one is known, else a reply queued (or refused past the
    model-call share). Returns the conversation as it now is, and the direct answer if there was one."""
    if conversation.status != Conversation.Status.BOT:
        return conversation, None
    if wants_human:
        return conversation_request_human(conversation=conversation, reason=HandoffReason.CUSTOMER_REQUEST), None
    if message.intent == Intent.COMPLAINT and settings.HANDOFF_COMPLAINTS:
        return complaint_handoff(conversation), None
    # A message an action may answer (the customer's own order) or that may confirm a proposal is never answered
    # from an FAQ entry or the cache: the reply task looks it up (conversations.actions). Evaluation runs measure
    # the knowledge base and never call actions.
    acting = not conversation.evaluation and (
        bool(actions_for_intent(message.intent)) or proposal_pending(conversation) is not None)
    direct_reply = None if acting else _bot_reply_direct(message)
    if direct_reply is not None:
        return conversation, direct_reply
    if conversation.evaluation:
        return conversation, None  # the evaluation run generates the reply itself, synchronously
    try:
        ratelimits.model_call_check(conversation_id=conversation.pk, client_ip=client_ip)
    except ratelimits.RateLimited as exc:
        logger.warning("no model call for message %s: %s", message.pk, exc)
        events.reply_throttled_on_commit(
            conversation_id=conversation.pk, message_id=message.pk, retry_after=exc.retry_after
        )
    else:
        reply_queue(message.pk, conversation_id=conversation.pk)
    return conversation, None


def message_classify(text: str) -> tuple[Classification, bool]:
    """A customer message's intent and entities by the rules (conversations.intents), with the knowledge
    base's product names; and whether it hands off as a request for a person (`customer_wants_human`, worked
    out from the same reading). A message that the operator's HANDOFF_PHRASES take as a request for a person
    is one, whatever the rules say."""
    classification = classify(text, product_names=product_names())
    by_rules = classification.intent == Intent.PERSON
    wants_human = (by_rules and settings.HANDOFF_REQUEST_RULES) or _handoff_phrase_in(text)
    if wants_human:
        classification.intent = Intent.PERSON
    return classification, wants_human


def message_intent_refine(*, message_id: int, classification: Classification) -> bool:
    """Store the intent model's classification of a customer message (consoles with the conversation open
    hear of it), and hand the conversation off when the model says the customer asks for a person or
    complains. Returns whether it was handed off (the reply being generated is then cancelled)."""
    with transaction.atomic():
        Message.objects.filter(pk=message_id).update(
            intent=classification.intent, intent_source=classification.source, entities=classification.entities
        )
        message = Message.objects.select_related("conversation").get(pk=message_id)
        events.message_reviewed_on_commit(message)
        conversation = message.conversation
        if conversation.status != Conversation.Status.BOT:
            return False
        if classification.intent == Intent.PERSON:
            conversation_request_human(conversation=conversation, reason=HandoffReason.CUSTOMER_REQUEST)
            return True
        if classification.intent == Intent.COMPLAINT and settings.HANDOFF_COMPLAINTS:
            complaint_handoff(conversation)
            return True
    return False


def message_out_of_scope(*, message_id: int) -> None:
    """Mark a customer message the knowledge base does not cover (the reply pipeline declined or handed it on):
    intent `out_of_scope`, which only retrieval can tell (conversations.intents), for the agents and the
    knowledge-gap reports."""
    with transaction.atomic():
        Message.objects.filter(pk=message_id).update(intent=Intent.OUT_OF_SCOPE, intent_source="pipeline")
        events.message_reviewed_on_commit(Message.objects.select_related("conversation").get(pk=message_id))


def complaint_handoff(conversation: Conversation) -> Conversation:
    """Hand a complaining customer to a person (reason `complaint`, first in the agents' inbox), telling
    them so in their language."""
    notice = notice_in(customer_language(conversation=conversation), COMPLAINT_NOTICE)
    return conversation_request_human(conversation=conversation, reason=HandoffReason.COMPLAINT, notice=notice)


def _bot_reply_direct(customer_message: Message) -> Message | None:
    """Answer at once, without a task, when an FAQ entry or the answer cache already has the answer.

    Skipped when the customer's previous message is still unanswered: the
    reply task then answers both together.
    """
    previous_role = (
        customer_message.conversation.messages.filter(role__in=DIALOGUE_ROLES, id__lt=customer_message.pk)
        .order_by("-id")
        .values_list("role", flat=True)
        .first()
    )
    if previous_role == Message.Role.CUSTOMER:
        return None
    conversation = customer_message.conversation
    profile = profiles.profile_in_force(profile_id=conversation.profile_id, pinned=conversation.evaluation)
    grounding = direct_answer_find(
        question=customer_message.content, has_history=previous_role is not None,
        profile=profile_cache_key(profile, question=customer_message.content), use_cache=not conversation.evaluation,
    )
    if grounding is None or cached_answer_blocked(grounding):
        return None
    outcome = direct_outcome(grounding, handoff_threshold=profile.handoff_threshold)
    now = timezone.now()
    columns = outcome.reply_columns()
    columns["total_ms"] = (now - customer_message.created_at).total_seconds() * 1000
    reply = Message.objects.create(
        conversation=customer_message.conversation, profile_id=profile.pk, role=Message.Role.BOT,
        reply_to=customer_message, completed_at=now, **columns,
    )
    message_publish(reply, profile_name=profile.name)
    return reply


def customer_wants_human(text: str) -> bool:
    """Whether a customer's message asks for a person: shaped like such a request (conversations.intents,
    unless HANDOFF_REQUEST_RULES is off), or one of the operator's HANDOFF_PHRASES (short ones must be the
    whole message, longer ones may appear anywhere in it)."""
    return (settings.HANDOFF_REQUEST_RULES and asks_for_person(text)) or _handoff_phrase_in(text)


def _handoff_phrase_in(text: str) -> bool:
    """Whether one of the operator's HANDOFF_PHRASES is the message (short ones) or in it (longer ones)."""
    from knowledge.retrieval.terms import normalise_question

    whole = normalise_question(text)
    lowered = " ".join(text.lower().split())
    for phrase in settings.HANDOFF_PHRASES:
        if normalise_question(phrase) == whole:
            return True
        cjk = any(is_cjk(ch) for ch in phrase)
        long_enough = len(phrase) >= 3 if cjk else " " in phrase
        if long_enough and phrase.lower() in lowered:
            return True
    return False


def message_post_agent(*, conversation_id: int, agent: Any, text: str, client_id: str | None = None) -> Message:
    """An agent's reply: stored, then shown to the customer at once."""
    text = fields.message_text(text)
    if client_id is not None:
        client_id = fields.client_id(client_id)
    with transaction.atomic():
        conversation = conversation_held_by(conversation_id, agent)
        existing = (
            Message.objects.filter(conversation=conversation, client_id=client_id).first() if client_id else None
        )
        if existing is not None:
            return existing
        return agent_message_store(conversation=conversation, agent=agent, text=text, client_id=client_id)


def agent_message_store(*, conversation: Conversation, agent: Any, text: str, client_id: str | None = None) -> Message:
    """Store a message from `agent` to the customer and send it, in the caller's transaction, whoever checked
    that the agent may write (their reply, or what their approval of an action did: conversations.actions)."""
    message = Message.objects.create(
        conversation=conversation, role=Message.Role.AGENT, content=text, author=agent, client_id=client_id,
        profile_id=conversation.profile_id,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    # The SLA's first response: the first agent message since the handoff (conversations.selectors.sla), and
    # the handoff's own (the agents' report), only then: later replies add no query.
    if Conversation.objects.filter(pk=conversation.pk, handoff_at__isnull=False, first_response_at__isnull=True) \
            .update(first_response_at=message.created_at):
        handoff_first_response(conversation_id=conversation.pk, agent=agent, at=message.created_at)
    message_publish(message)
    events.inbox_changed_on_commit(conversation, message)
    # Not in the chat to read it, but left an address: the reply goes by email too (conversations.mail).
    email_reply_queue(message)
    return message


def note_post(*, conversation_id: int, agent: Any, text: str) -> Message:
    """A private note for colleagues: stored with the conversation, never sent to the customer
    (events.message_on_commit sends notes to the consoles only)."""
    text = fields.message_text(text)
    with transaction.atomic():
        conversation = Conversation.objects.get(pk=conversation_id)
        note = Message.objects.create(
            conversation=conversation, role=Message.Role.NOTE, content=text, author=agent,
            profile_id=conversation.profile_id,
        )
        message_publish(note)
    return note
