"""Evaluation cases suggested from real traffic, for a curator to accept into a set or dismiss.

Two kinds: a resolved conversation where an agent answered after the bot handed it off (the customer's question
and the agent's answer: the bot should have answered, or, when the customer asked for a person, handed off),
and a reply the customer gave a thumbs down (the question it answered). A suggestion is anchored on that
message (the agent's answer, the bad reply): accepted ones (EvalCase.suggested_from) and dismissed ones
(EvalSuggestionDismissal) never come back; evaluation conversations are never suggested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from helpdesk.llm.text import language_of

from ..models import (
    Conversation,
    EvalCase,
    EvalSet,
    EvalSuggestionDismissal,
    Expectation,
    Feedback,
    Message,
)
from ..protocol.codes import HandoffReason

AGENT_ANSWER = "agent_answer"
THUMBS_DOWN = "thumbs_down"


@dataclass(frozen=True)
class Suggestion:
    message_id: int  # the anchor: the agent's answer or the bot's bad reply
    conversation_id: int
    kind: str  # AGENT_ANSWER or THUMBS_DOWN
    question: str
    answer: str  # the agent's answer, or the reply the customer disliked
    expectation: str
    language: str
    created_at: datetime


def _taken_ids() -> set[int]:
    accepted = EvalCase.objects.filter(suggested_from__isnull=False).values_list("suggested_from_id", flat=True)
    dismissed = EvalSuggestionDismissal.objects.values_list("message_id", flat=True)
    return set(accepted) | set(dismissed)


def _question_before(message: Message) -> Message | None:
    return (Message.objects.filter(conversation_id=message.conversation_id, role=Message.Role.CUSTOMER,
                                   pk__lt=message.pk).order_by("-pk").first())


def _agent_suggestion(answer: Message) -> Suggestion | None:
    question = _question_before(answer)
    if question is None:
        return None
    person = answer.conversation.handoff_reason == HandoffReason.CUSTOMER_REQUEST
    return Suggestion(
        message_id=answer.pk, conversation_id=answer.conversation_id, kind=AGENT_ANSWER, question=question.content,
        answer=answer.content, expectation=Expectation.PERSON if person else Expectation.ANSWER,
        language=language_of(question.content), created_at=answer.created_at,
    )


def _agent_answers(*, taken: set[int], limit: int) -> list[Suggestion]:
    """The first agent answer of each recent resolved conversation an agent took over."""
    conversations = (Conversation.objects.filter(status=Conversation.Status.RESOLVED, evaluation=False,
                                                 messages__role=Message.Role.AGENT)
                     .distinct().order_by("-resolved_at", "-pk")[:limit])
    found = []
    for conversation in conversations:
        answer = conversation.messages.filter(role=Message.Role.AGENT).exclude(content="").order_by("pk").first()
        if answer is not None and answer.pk not in taken and (suggestion := _agent_suggestion(answer)):
            found.append(suggestion)
    return found


def _thumbs_down_suggestion(item: Feedback) -> Suggestion | None:
    reply = item.message
    question = reply.reply_to or _question_before(reply)
    if question is None:
        return None
    return Suggestion(
        message_id=reply.pk, conversation_id=item.conversation_id, kind=THUMBS_DOWN, question=question.content,
        answer=reply.content, expectation=Expectation.ANSWER, language=language_of(question.content),
        created_at=item.updated_at,
    )


def _thumbs_down(*, taken: set[int], limit: int) -> list[Suggestion]:
    feedback = (Feedback.objects.filter(rating=-1, conversation__evaluation=False)
                .exclude(message_id__in=taken).select_related("message__reply_to").order_by("-updated_at")[:limit])
    return [suggestion for item in feedback if (suggestion := _thumbs_down_suggestion(item))]


def _suggestions_for(message_ids: set[int]) -> list[Suggestion]:
    """The suggestions anchored on these messages, if they are still suggested."""
    found = []
    messages = Message.objects.filter(pk__in=message_ids - _taken_ids(), conversation__evaluation=False)
    for message in messages.select_related("conversation", "reply_to"):
        if message.role == Message.Role.AGENT and message.conversation.status == Conversation.Status.RESOLVED:
            suggestion = _agent_suggestion(message)
        elif item := Feedback.objects.filter(message=message, rating=-1).select_related("message__reply_to").first():
            suggestion = _thumbs_down_suggestion(item)
        else:
            suggestion = None
        if suggestion is not None:
            found.append(suggestion)
    return found


def suggestions_list(*, limit: int = 100) -> list[Suggestion]:
    """Suggested cases not yet accepted or dismissed, newest first."""
    taken = _taken_ids()
    found = _agent_answers(taken=taken, limit=limit) + _thumbs_down(taken=taken, limit=limit)
    return sorted(found, key=lambda s: s.created_at, reverse=True)[:limit]


def _unique_key(eval_set: EvalSet, question: str, message_id: int) -> str:
    base = (slugify(question)[:40].strip("-") or "case") + f"-m{message_id}"
    key, n = base, 1
    while EvalCase.objects.filter(eval_set=eval_set, key=key).exists():
        n += 1
        key = f"{base}-{n}"
    return key


def suggestions_accept(*, eval_set: EvalSet, message_ids: list[int]) -> list[EvalCase]:
    """Make a case of each suggestion anchored on `message_ids` (those still suggested), in `eval_set`."""
    cases = []
    for suggestion in _suggestions_for(set(message_ids)):
        fields: dict[str, Any] = {"question": suggestion.question, "language": suggestion.language,
                                  "expectation": suggestion.expectation, "suggested_from_id": suggestion.message_id}
        for _attempt in range(3):  # another curator may take the same key at the same moment
            try:
                with transaction.atomic():
                    cases.append(EvalCase.objects.create(
                        eval_set=eval_set, key=_unique_key(eval_set, suggestion.question, suggestion.message_id),
                        **fields))
                break
            except IntegrityError:
                continue
    return cases


def suggestions_dismiss(*, message_ids: list[int], user: Any = None) -> int:
    """Never suggest these messages again; returns how many were newly dismissed."""
    existing = set(EvalSuggestionDismissal.objects.filter(message_id__in=message_ids)
                   .values_list("message_id", flat=True))
    valid = set(Message.objects.filter(pk__in=message_ids).values_list("pk", flat=True)) - existing
    EvalSuggestionDismissal.objects.bulk_create(
        [EvalSuggestionDismissal(message_id=pk, dismissed_by=user) for pk in valid], ignore_conflicts=True)
    return len(valid)
