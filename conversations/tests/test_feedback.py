"""The customer's vote on a reply and rating of a resolved conversation, and who sees them."""

from __future__ import annotations

import pytest

from conversations.models import Conversation
from conversations.services import feedback

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def test_a_thumbs_down_with_a_comment_is_shown_to_agents_under_the_reply(django_capture_on_commit_callbacks) -> None:
    from conversations.selectors import inbox as inbox_selectors
    from conversations.selectors import messages as messages_selectors

    conversation = conversation_factory()
    reply = bot_message_factory(conversation, "It ships today.", reply_to=customer_message_factory(conversation))
    with django_capture_on_commit_callbacks() as pushed:
        feedback.feedback_record(conversation=conversation, message_id=reply.pk, rating=-1, comment=" wrong size ")
    assert pushed, "open consoles are told at once"
    detail = inbox_selectors.conversation_for_agents(conversation_id=conversation.pk)
    [shown] = [m for m in detail["messages"] if m["id"] == reply.pk]
    assert shown["feedback"] == {"rating": -1, "comment": "wrong size"}
    assert "feedback" not in messages_selectors.message_to_dict(reply)  # customers' own view does not carry it


def test_history_carries_the_customers_vote_and_a_resolved_conversation_asks_for_a_rating_until_given() -> None:
    from conversations.selectors import history as history_selectors

    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Is it organic?")
    reply = bot_message_factory(conversation, "Yes.", reply_to=question)
    feedback.feedback_record(conversation=conversation, message_id=reply.pk, rating=-1)
    history = history_selectors.conversation_history(conversation=conversation)
    assert [m.get("feedback") for m in history] == [None, -1]
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)
    conversation.refresh_from_db()
    assert history_selectors.conversation_to_dict(conversation) == {"status": "resolved", "rate": True}
    feedback.csat_record(conversation=conversation, score=5)
    assert history_selectors.conversation_to_dict(conversation) == {"status": "resolved"}
