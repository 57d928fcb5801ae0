"""Writes of FAQ suggestions: made from a resolved conversation (the task's work), published, dismissed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.celery import enqueue
from helpdesk.llm.text import language_of
from knowledge import selectors as knowledge_selectors
from knowledge.services import faq as knowledge_faq

from ..models import Conversation, FAQSuggestion, Message
from ..privacy.masking import personal_data_redact
from .exchange import Turn, exchange_find
from .tidy import suggestion_tidy

TASK = "conversations.faq_suggest"
Status = FAQSuggestion.Status


def faq_suggestion_queue(conversation: Conversation) -> None:
    """After the commit, queue the suggestion from a conversation an agent resolved, if an agent wrote in it.

    Called in the resolving transaction; the task does the reading, the embedding and the model call, off the
    request path.
    """
    if not settings.FAQ_SUGGESTIONS_ENABLED or conversation.evaluation:
        return
    if not Message.objects.filter(conversation=conversation, role=Message.Role.AGENT).exists():
        return
    conversation_id = conversation.pk
    transaction.on_commit(lambda: enqueue(TASK, conversation_id))


def _turns(conversation: Conversation) -> list[Turn]:
    messages = conversation.messages.filter(
        role__in=(Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT)
    ).order_by("pk")
    return [Turn(pk=message.pk, role=message.role, text=message.content, intent=message.intent,
                 flagged=message.flagged) for message in messages]


def faq_suggestion_create(*, conversation_id: int) -> FAQSuggestion | None:
    """The suggestion from a resolved conversation's question and the agent's answer, or None: not resolved, an
    evaluation conversation, no exchange by `exchange`'s rule, or already suggested (idempotent: anchored on the
    agent's answer)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if (conversation is None or conversation.status != Conversation.Status.RESOLVED or conversation.evaluation
            or not settings.FAQ_SUGGESTIONS_ENABLED):
        return None
    exchange = exchange_find(_turns(conversation), min_answer_chars=settings.FAQ_SUGGESTION_MIN_ANSWER_CHARS)
    if exchange is None or FAQSuggestion.objects.filter(source_message_id=exchange.answer_message_id).exists():
        return None
    question, answer = personal_data_redact(exchange.question), personal_data_redact(exchange.answer)
    language = language_of(question)
    tidied = suggestion_tidy(question=question, answer=answer, language=language)
    # The model saw no personal data, but what it writes is checked as the customer's words were.
    final_question, final_answer = personal_data_redact(tidied.question), personal_data_redact(tidied.answer)
    similar = knowledge_selectors.faq_similar_find(question=final_question, language=language)
    try:
        with transaction.atomic():
            return FAQSuggestion.objects.create(
                question=final_question, answer=final_answer, language=language, conversation=conversation,
                source_message_id=exchange.answer_message_id, original_question=question, original_answer=answer,
                tidied_by=tidied.model, faq_id=similar.faq_id if similar else None,
                similarity=similar.score if similar else None, similarity_how=similar.how if similar else "",
            )
    except IntegrityError:  # the same task ran twice at once
        return None


def faq_suggestions_publish(*, suggestion_ids: list[int], user: Any = None) -> int:
    """Publish each pending suggestion: its question as an alternative phrasing of its existing entry, or a new
    published entry with its question and answer. Returns how many were published."""
    published = 0
    for pk in suggestion_ids:
        with transaction.atomic():
            suggestion = FAQSuggestion.objects.select_for_update().filter(pk=pk, status=Status.PENDING).first()
            if suggestion is None:
                continue
            if suggestion.faq_id:
                faq = knowledge_faq.faq_phrasing_add(faq_id=suggestion.faq_id, phrasing=suggestion.question,
                                                     editor=user)
            else:
                faq = knowledge_faq.faq_add(question=suggestion.question, answer=suggestion.answer,
                                            language=suggestion.language, editor=user)
            _decide(suggestion, status=Status.PUBLISHED, user=user, published_faq=faq)
            published += 1
    return published


def faq_suggestions_dismiss(*, suggestion_ids: list[int], user: Any = None) -> int:
    """Dismiss pending suggestions (kept, with who dismissed them, so the same answer is not suggested again)."""
    dismissed = 0
    with transaction.atomic():
        for suggestion in FAQSuggestion.objects.select_for_update().filter(pk__in=suggestion_ids,
                                                                            status=Status.PENDING):
            _decide(suggestion, status=Status.DISMISSED, user=user)
            dismissed += 1
    return dismissed


def _decide(suggestion: FAQSuggestion, *, status: str, user: Any, published_faq: Any = None) -> None:
    suggestion.status = status
    suggestion.decided_by = user if getattr(user, "is_authenticated", False) else None
    suggestion.decided_at = timezone.now()
    suggestion.published_faq = published_faq
    suggestion.save(update_fields=["status", "decided_by", "decided_at", "published_faq"])
