"""What the customer thinks: a vote on a bot reply, a rating of a resolved conversation."""

from __future__ import annotations

from django.db import transaction

from helpdesk.observability import metrics

from .. import events
from ..models import Conversation, Feedback, Message, WebhookEvent
from ..protocol import fields
from ..protocol.codes import ErrorCode, FrameError, HandoffReason
from ..webhooks.emit import webhook_on_commit
from .handoff import conversation_request_human


def feedback_record(*, conversation: Conversation, message_id: int, rating: int, comment: str = "") -> Feedback:
    """Store a customer's vote on a bot reply; two thumbs-down in a row hand the conversation to a human."""
    rating = fields.rating(rating)
    comment = fields.comment(comment, code=ErrorCode.INVALID_FEEDBACK)
    message_id = fields.bot_message_id(message_id)
    message = Message.objects.filter(pk=message_id, conversation=conversation, role=Message.Role.BOT).first()
    if message is None:
        raise FrameError(ErrorCode.UNKNOWN_MESSAGE, "no bot reply with this id in this conversation")
    with transaction.atomic():
        feedback, _ = Feedback.objects.update_or_create(
            message=message, defaults={"conversation": conversation, "rating": rating, "comment": comment}
        )
        # Agents with the conversation open see the vote and its comment under the reply at once.
        events.message_reviewed_on_commit(message)
        webhook_on_commit(WebhookEvent.FEEDBACK, conversation=conversation, message=message,
                          extra={"feedback": {"rating": rating, "comment": comment}})
        newest_first = Feedback.objects.filter(conversation=conversation).order_by("-message_id")
        latest = list(newest_first.values_list("rating", flat=True)[:2])
        if latest == [-1, -1] and conversation.status == Conversation.Status.BOT:
            conversation_request_human(conversation=conversation, reason=HandoffReason.NEGATIVE_FEEDBACK)
    return feedback


def csat_record(*, conversation: Conversation, score: int, comment: str = "") -> Conversation:
    """The customer's rating of a resolved conversation (1-5, with an optional comment)."""
    score = fields.csat_score(score)
    comment = fields.comment(comment, code=ErrorCode.INVALID_CSAT)
    if conversation.status != Conversation.Status.RESOLVED:
        raise FrameError(ErrorCode.NOT_RESOLVED, "a rating is asked for once the conversation is resolved")
    Conversation.objects.filter(pk=conversation.pk).update(csat_score=score, csat_comment=comment)
    metrics.csat_rated(score)
    conversation.refresh_from_db()
    with transaction.atomic():
        events.inbox_changed_on_commit(conversation)
        webhook_on_commit(WebhookEvent.CSAT, conversation=conversation)
    return conversation
