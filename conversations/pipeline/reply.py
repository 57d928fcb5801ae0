"""The bot's reply to a stored customer message: a direct answer or a generated one, judged and stored.

Generated replies are checked (conversations.verification: a number or link
that nothing given supports hands the conversation to a human), judged
(conversations.confidence: below the profile's threshold the conversation
goes to a human) and, when `cache_refusal` finds
nothing against it, put into the answer cache for the next customer who asks.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.conf import settings
from django.db import connection

from helpdesk.llm import profiles
from helpdesk.observability.logs import log_context
from helpdesk.runtime import aio
from helpdesk.runtime.versioned import versions_read_once
from knowledge import cache as answer_cache
from knowledge.retrieval.relevance import relevance_of
from knowledge.retrieval.search import Hit
from knowledge.selectors import (
    Grounding,
    knowledge_version_known,
    question_embedding_drop,
    question_embedding_start,
)

from .. import confidence, judge, scope, verification
from ..actions.step import ActionHit, ActionStep, action_step
from ..entities import entities_merge
from ..intents import small_talk_kind
from ..models import Message, ModerationAction, ModerationHit
from ..moderation.lists import matcher_current
from ..moderation.model import model_category
from ..moderation.stream import ModerationFilter
from ..notices import UNVERIFIED_NOTICE, notice_in
from ..outcome import ReplyOutcome, declined_outcome, direct_outcome, outcome_judge
from ..privacy.masking import masker_for
from ..protocol.codes import HandoffReason
from ..services import messages, replies
from ..services.moderation import moderation_model_hit, moderation_record
from .citations import CitationFilter, source_records
from .intent import intent_ask_model
from .preparation import Preparation, reply_prepare
from .streaming import MODERATED, PROMPT_LEAK, StreamTarget, stream_reply

PERSONAL_ENTITIES = ("order_number", "phone", "email")


def reply_generate(*, customer_message_id: int, retry_of: int | None = None) -> Message | None:
    """Answer one customer message (idempotent): from an FAQ, the cache, or Ollama grounded in the knowledge base."""
    # The actions, profiles and endpoints kept per process: their versions read once for the reply (one MGET).
    with versions_read_once():
        return _reply_generate(customer_message_id=customer_message_id, retry_of=retry_of)


def _reply_generate(*, customer_message_id: int, retry_of: int | None) -> Message | None:
    try:
        return _reply_claimed(customer_message_id=customer_message_id, retry_of=retry_of)
    finally:
        question_embedding_drop()  # started for the question and not taken (an FAQ answered it, or it failed)


def _question_embedding_start(customer_message: Message) -> None:
    """A conversation's first question is searched as it was written (masked as the prompt masks it): its
    embedding starts as the reply is claimed, beside the reply row's insert, and retrieval takes it. A follow-up's
    search text depends on the dialogue, not read yet: it is embedded when retrieval asks, as before."""
    if getattr(customer_message, "has_earlier_dialogue", True) is not False:
        return
    question = masker_for([customer_message.content]).mask(customer_message.content)
    question_embedding_start(question=question, version=getattr(customer_message, "knowledge_version", None))


def _reply_claimed(*, customer_message_id: int, retry_of: int | None) -> Message | None:
    bot_message = replies.bot_reply_start(customer_message_id=customer_message_id, retry_of=retry_of,
                                          on_claim=_question_embedding_start)
    if bot_message is None:
        return None
    # A new reply holds the customer message its claim read (its dialogue does not read it again) with the knowledge
    # base's version (retrieval reads it no more); a restarted one does not, and reads both as before.
    read = bot_message.reply_to if Message.reply_to.is_cached(bot_message) else None
    version = getattr(read, "knowledge_version", None)
    with log_context(conversation_id=bot_message.conversation_id, message_id=bot_message.pk), \
            (knowledge_version_known(version) if version is not None else nullcontext()):
        return _reply_answer(bot_message, customer_message_id=customer_message_id, read=read)


def _reply_answer(bot_message: Message, *, customer_message_id: int, read: Message | None) -> Message:
    profile = bot_message.profile or profiles.profile_default()
    prepared = reply_prepare(
        conversation=bot_message.conversation, up_to_message_id=customer_message_id, profile=profile, read=read,
    )
    if _stopped_by_moderation_model(prepared) or _handed_off_by_intent(prepared):
        # Nothing was generated: the reply closes cancelled and empty, and no model call is logged for it.
        outcome = ReplyOutcome(status=Message.Status.CANCELLED, answer_source="", retrieval=prepared.grounding.record())
        return replies.bot_reply_finish(message_id=bot_message.pk, outcome=outcome, attempt=bot_message.attempts)
    grounding = prepared.grounding
    actions = action_step(
        bot_message=bot_message, customer_message=prepared.customer_message, question=prepared.question,
        masked_question=prepared.model_question, restore=prepared.masker.restore, language=prepared.language,
        model=prepared.options.model, action_choice=prepared.profile.action_choice,
    )
    if actions.outcome is not None:  # sign in first, confirm a proposal, or a failed look-up handed off
        actions.outcome.retrieval = {**grounding.record(), **actions.outcome.retrieval}
        return replies.bot_reply_finish(message_id=bot_message.pk, outcome=actions.outcome,
                                        attempt=bot_message.attempts)
    prepared.action_sources = actions.sources
    if (grounding.faq or grounding.cached) and not actions.used:
        outcome = direct_outcome(grounding, handoff_threshold=profile.handoff_threshold)
        return replies.bot_reply_finish(message_id=bot_message.pk, outcome=outcome, attempt=bot_message.attempts)
    if not prepared.has_sources and not actions.used and grounding.searchable \
            and small_talk_kind(prepared.question) is None:
        # Nothing the knowledge base holds bears on it: never the model's general knowledge. (With nothing
        # published at all there is nothing to tell scope by: the model answers, told to say when it cannot.)
        outcome = declined_outcome(grounding, language=prepared.language,
                                   retrieval_extra=scope.set_aside_record(prepared.set_aside))
        if prepared.customer_message is not None:
            messages.message_out_of_scope(message_id=prepared.customer_message.pk)
        return replies.bot_reply_finish(message_id=bot_message.pk, outcome=outcome, attempt=bot_message.attempts)
    outcome, sources = _generated(bot_message, prepared, actions)
    refusal = cache_refusal(outcome=outcome, sources=sources, first_turn=prepared.first_turn)
    if refusal:
        outcome.retrieval["cache_refused"] = refusal  # for the agents (and tests): why later askings won't reuse it
    reply = replies.bot_reply_finish(message_id=bot_message.pk, outcome=outcome, attempt=bot_message.attempts)
    if not refusal and not bot_message.conversation.evaluation:  # a run measures the profile, it feeds nothing
        answer_cache.answer_cache_put(
            question=prepared.model_question,
            version=grounding.version,
            profile=prepared.cache_profile,
            answer=answer_cache.CachedAnswer(
                content=outcome.content, sources=outcome.sources, model_name=outcome.model_name,
                confidence=outcome.confidence,
            ),
        )
    return reply


def _stopped_by_moderation_model(prepared: Preparation) -> bool:
    """Ask the moderation model (when MODERATION_MODEL is set) about the message being answered; a category
    whose action refuses or hands off stops the reply here."""
    customer_message = prepared.customer_message
    if customer_message is None or customer_message.flagged:  # the lists have had their say
        return False
    category = model_category(customer_message.content)
    return bool(category) and moderation_model_hit(customer_message=customer_message, category=category,
                                                   language=prepared.language)


def _handed_off_by_intent(prepared: Preparation) -> bool:
    """Ask the intent model (when INTENT_MODEL is set) about the message being answered; its entities join
    the prompt's, and a request for a person or a complaint hands off instead of answering."""
    customer_message = prepared.customer_message
    refined = intent_ask_model(customer_message, masker=prepared.masker) if customer_message is not None else None
    if refined is None:
        return False
    prepared.entities = entities_merge([prepared.entities, refined.entities])
    customer_message.intent = refined.intent  # the action step reads it
    return messages.message_intent_refine(message_id=customer_message.pk, classification=refined)


def _generated(
    bot_message: Message, prepared: Preparation, actions: ActionStep | None = None,
) -> tuple[ReplyOutcome, list[tuple[Hit, str]]]:
    """A reply streamed from Ollama and judged, with the sources it was given (an action's result first)."""
    chat_messages, sources = prepared.prompt()
    target = StreamTarget(
        conversation_id=bot_message.conversation_id, message_id=bot_message.pk, language=prepared.language,
        attempt=bot_message.attempts,
    )
    citations = CitationFilter(len(sources))
    moderation = ModerationFilter(matcher_current(), language=prepared.language,
                                  pattern_hold=settings.MODERATION_PATTERN_HOLD_CHARS)
    # The stream takes seconds and needs no database: hand the connection back
    # rather than hold one idle per reply being generated. It runs on the process's stream loop, beside the
    # process's other streams; this thread waits, holding nothing.
    connection.close()
    outcome = aio.run_shared(stream_reply(target, chat_messages, prepared.options, citations, moderation=moderation,
                                   masker=prepared.masker))
    moderation_record(message=bot_message, matches=moderation.matches, where=ModerationHit.Where.OUTBOUND)
    outcome.sources = source_records(sources, citations.cited)
    outcome.retrieval = {**prepared.grounding.record(), **scope.set_aside_record(prepared.set_aside),
                         **(actions.record if actions else {})}
    # Of the customer's own, who they are and the order numbers, phones and emails they gave go into the prompt
    # (those replies are never cached for others), and so does any personal data masked in the dialogue
    # (conversations.privacy.masking); so does an action's result (the customer's own orders).
    outcome.personal = outcome.personal or bot_message.conversation.customer_id is not None \
        or bool(prepared.action_sources) \
        or any(entity.get("kind") in PERSONAL_ENTITIES for entity in prepared.entities) or prepared.masker.masked
    moderated = outcome.error_kind == MODERATED
    checked = settings.VERIFY_FACTS and outcome.status == Message.Status.COMPLETE and not citations.no_answer \
        and not moderated
    if checked:
        outcome.unverified_facts = unverified_facts(outcome.content, sources=sources, prepared=prepared)
    signals = generated_signals(
        outcome=outcome, sources=sources, citations=citations, grounding=prepared.grounding
    )
    signals.unverified_facts = len(outcome.unverified_facts) if checked else None
    if not sources:
        signals.small_talk = small_talk_kind(prepared.question)
        signals.empty_knowledge_base = not prepared.grounding.searchable or None
    elif settings.JUDGE_MODEL and outcome.status == Message.Status.COMPLETE and outcome.content \
            and not citations.no_answer and not moderated:
        judge_signals(signals, aio.run(judge.reply_judge(
            reply=prepared.masker.mask(outcome.content), sources=[t for _, t in sources]
        )))
    outcome_judge(outcome, signals, threshold=prepared.profile.handoff_threshold)
    if outcome.handoff_reason == HandoffReason.UNVERIFIED_FACT and settings.VERIFY_FACTS_NOTICE:
        outcome.customer_notice = notice_in(prepared.language, UNVERIFIED_NOTICE)
    if outcome.error_kind == PROMPT_LEAK:
        outcome.handoff_reason = PROMPT_LEAK
    if moderated:  # the notice replaced the reply: a person takes over only when the category says so
        handoff = moderation.tripped is not None and moderation.tripped.term.action == ModerationAction.HANDOFF
        outcome.handoff_reason = HandoffReason.MODERATION if handoff else ""
    return outcome, sources


def judge_signals(signals: confidence.Signals, verdict: judge.Verdict) -> None:
    """The judge's verdict as signals: the share supported and the sentences not, or why there is none."""
    if verdict.error:
        signals.judge_error = verdict.error
        return
    signals.judge_supported = verdict.supported
    signals.judge_unsupported = verdict.unsupported


def unverified_facts(content: str, *, sources: list[tuple[Hit, str]], prepared: Preparation) -> list[dict]:
    """The facts of a reply found neither in the sources it was given nor in the conversation: the customer's
    messages, the agents', and the bot's earlier replies that were themselves verified."""
    knowledge = [part for hit, text in sources for part in (text, hit.title, hit.url) if part]
    supporting = [prepared.question]
    supporting += [turn.content for turn in prepared.earlier
                   if turn.role != Message.Role.BOT or not turn.unverified_facts]
    return [fact.as_dict() for fact in verification.unsupported_facts(content, supporting, knowledge=knowledge)]


def cache_refusal(*, outcome: ReplyOutcome, sources: list[tuple[Hit, str]], first_turn: bool) -> str:
    """Why a generated reply must not go into the answer cache (which answers every later customer), or "".

    Only a complete, confident, grounded answer to a conversation's very first message, made from nothing
    but the knowledge base: an answer shaped by earlier turns (an instruction the customer gave first) or
    by who the customer is (their details, anything conversations.privacy.masking masked) would otherwise be
    served to everyone, and so would links, addresses or numbers the model was talked into writing that no
    source contains.
    """
    if outcome.error_kind == MODERATED:
        return "replaced by moderation"
    if any(isinstance(hit, ActionHit) for hit, _ in sources):
        return "used an action's result"
    if not first_turn:
        return "dialogue before the question"
    if outcome.personal:
        return "built from customer-specific data"
    if not sources:
        return "no sources"
    if outcome.status != Message.Status.COMPLETE or outcome.done_reason not in ("stop", "") or not outcome.content:
        return "not a complete reply"
    unsourced = answer_cache.unsourced_material(
        outcome.content, [text for _, text in sources] + [hit.url for hit, _ in sources if hit.url]
    )
    if unsourced:
        return "not in its sources: " + ", ".join(unsourced)
    if outcome.handoff_reason:
        return "handed off"
    return ""


def generated_signals(
    *, outcome: ReplyOutcome, sources: list[tuple[Hit, str]], citations: CitationFilter, grounding: Grounding,
) -> confidence.Signals:
    """What the confidence of a generated reply rests on."""
    relevances = [relevance_of(vector_score=hit.vector_score, keyword_score=hit.keyword_score)
                  for hit, _ in sources]
    ranked = sorted(relevances, reverse=True)
    gap = ranked[0] - ranked[1] if len(ranked) > 1 else (ranked[0] if ranked else None)
    return confidence.Signals(
        answer_source=Message.AnswerSource.LLM,
        status=outcome.status,
        sources_given=len(sources),
        cited=bool(citations.cited),
        relevance=round(ranked[0], 3) if ranked else None,
        relevance_gap=None if gap is None else round(gap, 3),
        coverage=max((scope.source_coverage(hit) or 0.0 for hit, _ in sources), default=None),
        keyword_only=bool(grounding.result and grounding.result.keyword_only),
        no_answer_marker=citations.no_answer,
        truncated=outcome.done_reason == "length",
        empty=not outcome.content,
    )
