"""Each handoff is a row of its own (conversations.models.Handoff), written by conversation_transition and kept up to
date as the conversation moves on; the migration makes one for each conversation handed off before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from conversations.models import Conversation, Handoff, Team, TeamMembership
from conversations.pipeline.reply import reply_generate
from conversations.protocol.codes import HandoffReason
from conversations.services import handoff, messages, presence
from conversations.tests.test_reply_queries import by_table, queries_everywhere
from helpdesk.tests.factories import default_profile
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)
Status = Conversation.Status


def agent(name: str) -> Any:
    return get_user_model().objects.create_user(name)


def test_each_handoff_keeps_its_reason_question_team_agent_first_response_and_end() -> None:
    ann, bob = agent("ann"), agent("bob")
    billing = Team.objects.create(name="billing", is_default=True)
    TeamMembership.objects.create(team=billing, agent=ann)
    presence.agent_presence_set(agent_id=ann.pk, online=True)
    try:
        conversation = conversation_factory()
        first = customer_message_factory(conversation, "Can I pay by invoice?")
        bot_message_factory(conversation, "Maybe.", reply_to=first)
        handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.LOW_CONFIDENCE,
                                           question_id=first.pk)  # given to ann, who is online
        reply = messages.message_post_agent(conversation_id=conversation.pk, agent=ann, text="Yes, within 30 days.")
        messages.message_post_agent(conversation_id=conversation.pk, agent=ann, text="Anything else?")
        handoff.conversation_bot_resume(conversation_id=conversation.pk, agent=ann)
    finally:
        presence.agent_presence_set(agent_id=ann.pk, online=False)
    second = customer_message_factory(conversation, "发票可以改抬头吗")
    handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.NO_KNOWLEDGE)  # nobody online
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=bob)
    handoff.conversation_resolve(conversation_id=conversation.pk, agent=bob)

    one, two = conversation.handoffs.order_by("at", "pk")
    conversation.refresh_from_db()
    assert (one.reason, one.question_id, one.team, one.agent, one.responder) == (
        HandoffReason.LOW_CONFIDENCE, first.pk, billing, ann, ann)
    assert one.first_response_at == reply.created_at and one.at <= one.first_response_at
    assert one.outcome == Handoff.Outcome.HANDED_BACK and one.ended_at >= one.first_response_at
    # The second's question is the conversation's latest customer message; bob took it from the queue.
    assert (two.reason, two.question_id, two.team, two.agent, two.responder) == (
        HandoffReason.NO_KNOWLEDGE, second.pk, billing, bob, None)
    assert (two.outcome, two.ended_at, two.at) == (Handoff.Outcome.RESOLVED, conversation.resolved_at,
                                                   conversation.handoff_at)


def test_taking_over_from_the_bot_without_a_handoff_writes_no_handoff() -> None:
    conversation = conversation_factory()
    customer_message_factory(conversation, "Hi, is the blue kettle in stock?")
    ann = agent("ann")
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=ann)
    handoff.conversation_bot_resume(conversation_id=conversation.pk, agent=ann)
    handoff.conversation_resolve(conversation_id=conversation.pk, agent=ann)
    assert not Handoff.objects.exists()


def test_a_handoff_inside_a_reply_adds_one_insert_and_nothing_else(fake_ollama) -> None:
    default_profile(handoff_threshold=0.95)
    knowledge_base_create()
    fake_ollama.script(Reply(content="Maybe it ships free."))
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Is delivery free for big orders?")

    with queries_everywhere() as queries:
        reply = reply_generate(customer_message_id=question.pk)

    conversation.refresh_from_db()
    assert conversation.status == Status.WAITING_HUMAN and reply.confidence < 0.95
    assert [sql.split(None, 1)[0] for sql in queries if "conversations_handoff" in sql] == ["INSERT"]
    assert by_table(queries)["INSERT conversations_handoff"] == 1
    [row] = Handoff.objects.all()
    assert (row.reason, row.question_id, row.at) == (HandoffReason.LOW_CONFIDENCE, question.pk,
                                                     conversation.handoff_at)


BEFORE = [("conversations", "0030_message_search_indexes")]
AFTER = [("conversations", "0031_handoffs")]


def test_the_migration_makes_one_handoff_for_each_conversation_handed_off_before() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    conv_rows = old.get_model("conversations", "Conversation")
    msg_rows = old.get_model("conversations", "Message")
    mei = old.get_model("auth", "User").objects.create(username="mei")
    now = timezone.now()
    t = now - timedelta(hours=2)
    waiting = conv_rows.objects.create(token="w", status="waiting_human", handoff_reason="no_knowledge", handoff_at=t)
    asked = msg_rows.objects.create(conversation_id=waiting.pk, role="customer", content="运费多少")
    msg_rows.objects.create(conversation_id=waiting.pk, role="bot", content="…", reply_to_id=asked.pk)
    resolved = conv_rows.objects.create(token="r", status="resolved", handoff_reason="complaint", handoff_at=t,
                                        agent_id=mei.pk, resolved_at=t + timedelta(minutes=30))
    complaint = msg_rows.objects.create(conversation_id=resolved.pk, role="customer", content="This is unacceptable!")
    answer = msg_rows.objects.create(conversation_id=resolved.pk, role="agent", content="Sorry!", author_id=mei.pk)
    msg_rows.objects.filter(pk=answer.pk).update(created_at=t + timedelta(minutes=2))
    msg_rows.objects.filter(pk=complaint.pk).update(created_at=t - timedelta(seconds=5))
    msg_rows.objects.filter(pk=asked.pk).update(created_at=t - timedelta(seconds=9))
    conv_rows.objects.create(token="b", status="bot")  # never handed off
    try:
        MigrationExecutor(connection).migrate(AFTER)
        rows = {row.conversation_id: row for row in Handoff.objects.all()}
        assert set(rows) == {waiting.pk, resolved.pk}
        first, second = rows[waiting.pk], rows[resolved.pk]
        assert (first.reason, first.at, first.question_id, first.ended_at, first.agent_id) == (
            "no_knowledge", t, asked.pk, None, None)
        assert (second.reason, second.question_id, second.agent_id, second.responder_id) == (
            "complaint", complaint.pk, mei.pk, mei.pk)
        assert second.first_response_at == t + timedelta(minutes=2)
        assert (second.outcome, second.ended_at) == ("resolved", t + timedelta(minutes=30))
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
