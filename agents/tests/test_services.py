"""Agents' actions on the real database: races between agents, the audit log."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from agents import services
from agents.models import AuditEvent
from agents.tests.console import agent_create
from conversations.models import Conversation
from conversations.services.handoff import ConversationTaken, NotYourConversation
from conversations.tests.factories import conversation_factory

pytestmark = pytest.mark.django_db(transaction=True)


def race(agents: list, conversation_id: int) -> dict[str, str]:
    """Each agent takes the conversation over on its own thread, released at the same instant."""
    barrier = threading.Barrier(len(agents))
    outcomes: dict[str, str] = {}

    def take(agent) -> None:
        try:
            barrier.wait()
            services.conversation_take_over(agent=agent, conversation_id=conversation_id)
            outcomes[agent.username] = "won"
        except ConversationTaken as exc:
            outcomes[agent.username] = f"refused: {exc.agent_name}"
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return outcomes


def test_two_agents_taking_over_at_the_same_moment_exactly_one_wins() -> None:
    for attempt in range(5):
        agents = [agent_create(f"a{attempt}"), agent_create(f"b{attempt}")]
        conversation = conversation_factory(status=Conversation.Status.WAITING_HUMAN)
        outcomes = race(agents, conversation.pk)
        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, outcomes
        loser = next(name for name in outcomes if name not in winners)
        assert outcomes[loser] == f"refused: {winners[0]}"
        conversation.refresh_from_db()
        assert conversation.status == Conversation.Status.HUMAN and conversation.agent.username == winners[0]
        assert conversation.messages.filter(role="system").count() == 1  # one "joined" notice


def test_taking_over_again_is_harmless_and_hand_back_needs_the_holder() -> None:
    ann, bob = agent_create("ann"), agent_create("bob")
    conversation = conversation_factory()
    services.conversation_take_over(agent=ann, conversation_id=conversation.pk)
    services.conversation_take_over(agent=ann, conversation_id=conversation.pk)
    with pytest.raises(NotYourConversation):
        services.conversation_hand_back(agent=bob, conversation_id=conversation.pk)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["take_over", "take_over"]


def test_assign_moves_the_conversation_to_a_colleague() -> None:
    ann, bob = agent_create("ann"), agent_create("bob", first_name="Bob")
    conversation = conversation_factory()
    services.conversation_take_over(agent=ann, conversation_id=conversation.pk)
    services.conversation_assign(agent=ann, conversation_id=conversation.pk, to_agent=bob)
    conversation.refresh_from_db()
    assert conversation.agent == bob
    assert AuditEvent.objects.get(action="assign").details == {"to": "bob"}
    services.message_post_agent(agent=bob, conversation_id=conversation.pk, text="Bob here")
    with pytest.raises(NotYourConversation):
        services.message_post_agent(agent=ann, conversation_id=conversation.pk, text="Ann here")


def test_an_agent_reply_with_a_known_client_id_is_stored_once() -> None:
    ann = agent_create("ann")
    conversation = conversation_factory()
    services.conversation_take_over(agent=ann, conversation_id=conversation.pk)
    first = services.message_post_agent(agent=ann, conversation_id=conversation.pk, text="hi", client_id="x-1")
    second = services.message_post_agent(agent=ann, conversation_id=conversation.pk, text="hi", client_id="x-1")
    assert first.pk == second.pk and conversation.messages.filter(role="agent").count() == 1
