"""What the customer thinks: a vote on a bot reply, a rating of a resolved conversation."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from helpdesk.observability import metrics

from .. import events
from ..models import Conversation, Feedback, Message
from .handoff import conversation_request_human
from .validation import MessageRejected, validate_comment


def feedback_record(*, conversation: Conversation, message_id: Any, rating: Any, comment: Any = "") -> Feedback:
    """Store a customer's vote on a bot reply; two thumbs-down in a row hand the conversation to a human."""
    if rating not in (1, -1) or isinstance(rating, bool):
        raise MessageRejected("invalid_feedback", "rating must be 1 or -1")
    comment = validate_comment(comment, code="invalid_feedback")
    message = (
        Message.objects.filter(pk=message_id, conversation=conversation, role=Message.Role.BOT).first()
        if isinstance(message_id, int) and not isinstance(message_id, bool)
        else None
    )
    if message is None:
        raise MessageRejected("unknown_message", "no bot reply with this id in this conversation")
    with transaction.atomic():
        feedback, _ = Feedback.objects.update_or_create(
            message=message, defaults={"conversation": conversation, "rating": rating, "comment": comment}
        )
        # Agents with the conversation open see the vote and its comment under the reply at once.
        events.message_reviewed_on_commit(message)
        newest_first = Feedback.objects.filter(conversation=conversation).order_by("-message_id")
        latest = list(newest_first.values_list("rating", flat=True)[:2])
        if latest == [-1, -1] and conversation.status == Conversation.Status.BOT:
            conversation_request_human(conversation=conversation, reason="negative_feedback")
    return feedback


def csat_record(*, conversation: Conversation, score: Any, comment: Any = "") -> Conversation:
    """The customer's rating of a resolved conversation (1-5, with an optional comment)."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise MessageRejected("invalid_csat", "score must be a whole number from 1 to 5")
    comment = validate_comment(comment, code="invalid_csat")
    if conversation.status != Conversation.Status.RESOLVED:
        raise MessageRejected("not_resolved", "a rating is asked for once the conversation is resolved")
    Conversation.objects.filter(pk=conversation.pk).update(csat_score=score, csat_comment=comment)
    metrics.csat_rated(score)
    conversation.refresh_from_db()
    with transaction.atomic():
        events.inbox_changed_on_commit(conversation)
    return conversation
