"""Teams, routing by intent and automatic assignment of handoffs (conversations.services.assignment)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection

from conversations.models import Conversation, ConversationRule, Label, Team, TeamMembership
from conversations.protocol.codes import HandoffReason
from conversations.services import handoff, messages, presence
from conversations.services.handoff import team_queues_drain
from tests.support.environment import require, uses_postgres

from .factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)
Status = Conversation.Status


def agent(name: str) -> Any:
    return get_user_model().objects.create_user(name, password="pw")


def team(name: str, members: list[Any], **fields: Any) -> Team:
    made = Team.objects.create(name=name, **fields)
    for member in members:
        TeamMembership.objects.create(team=made, agent=member)
    return made


@pytest.fixture
def online() -> Iterator[Any]:
    """Mark agents online (as their console's pings do); all are dropped afterwards."""
    seen: list[int] = []

    def mark(*agents: Any) -> None:
        for one in agents:
            presence.agent_presence_set(agent_id=one.pk, online=True)
            seen.append(one.pk)

    yield mark
    for agent_id in seen:
        presence.agent_presence_set(agent_id=agent_id, online=False)


def hand_off(text: str = "I want to talk to a person", **fields: Any) -> Conversation:
    intent = fields.pop("intent", "")
    conversation = conversation_factory(**fields)
    customer_message_factory(conversation, text, intent=intent)
    return handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.CUSTOMER_REQUEST)


def post(text: str) -> Conversation:
    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text=text, client_id=f"c-{text[:20]}")
    return Conversation.objects.get(pk=conversation.pk)


def holders(conversations: list[Conversation]) -> list[str | None]:
    names = []
    for conversation in conversations:
        conversation.refresh_from_db()
        names.append(conversation.agent.username if conversation.agent_id else None)
    return names


def test_round_robin_gives_handoffs_to_online_members_in_turn(online) -> None:
    ann, bob, cid = agent("ann"), agent("bob"), agent("cid")
    team("售后", [ann, bob, cid], is_default=True, assignment=Team.Assignment.ROUND_ROBIN, max_per_agent=0)
    online(ann, cid)  # bob is offline
    conversations = [hand_off() for _ in range(4)]
    assert holders(conversations) == ["ann", "cid", "ann", "cid"]
    assert all(c.status == Status.HUMAN for c in conversations)


def test_least_busy_gives_the_handoff_to_the_member_with_fewest_conversations(online) -> None:
    ann, bob = agent("ann"), agent("bob")
    team("billing", [ann, bob], is_default=True, assignment=Team.Assignment.LEAST_BUSY, max_per_agent=5)
    online(ann, bob)
    for _ in range(2):
        conversation_factory(status=Status.HUMAN, agent=ann)
    conversation_factory(status=Status.HUMAN, agent=bob)
    first, second = hand_off(), hand_off()
    assert holders([first, second]) == ["bob", "ann"]  # bob had 1, then both have 2 and ann's turn is older


def test_nobody_online_leaves_the_handoff_waiting_in_the_team_queue(online) -> None:
    ann = agent("ann")
    billing = team("billing", [ann], is_default=True)
    conversation = hand_off()
    conversation.refresh_from_db()
    assert conversation.status == Status.WAITING_HUMAN and conversation.team == billing and conversation.agent is None


def test_at_the_cap_handoffs_queue_and_the_next_goes_out_when_a_slot_frees(online) -> None:
    ann, bob = agent("ann"), agent("bob")
    team("billing", [ann, bob], is_default=True, assignment=Team.Assignment.LEAST_BUSY, max_per_agent=1)
    online(ann, bob)
    first, second, third, fourth = (hand_off() for _ in range(4))
    assert holders([first, second, third, fourth]) == ["ann", "bob", None, None]
    assert third.status == Status.WAITING_HUMAN
    handoff.conversation_resolve(conversation_id=second.pk, agent=bob)
    assert holders([third, fourth]) == ["bob", None]  # the longest waiting goes first
    handoff.conversation_bot_resume(conversation_id=first.pk, agent=ann)
    assert holders([fourth]) == ["ann"]


def test_an_agent_coming_online_is_given_the_queue(online) -> None:
    ann = agent("ann")
    team("billing", [ann], is_default=True, max_per_agent=2)
    waiting = [hand_off() for _ in range(3)]
    assert holders(waiting) == [None, None, None]
    presence.agent_console_connected(agent_id=ann.pk)
    online(ann)  # dropped afterwards
    assert holders(waiting) == ["ann", "ann", None]


def test_a_manual_team_only_queues(online) -> None:
    ann = agent("ann")
    team("vip", [ann], is_default=True, assignment=Team.Assignment.MANUAL)
    online(ann)
    conversation = hand_off()
    assert holders([conversation]) == [None]


def test_without_teams_a_handoff_waits_in_the_shared_queue_as_before(online) -> None:
    online(agent("ann"))
    conversation = hand_off()
    conversation.refresh_from_db()
    assert conversation.status == Status.WAITING_HUMAN and conversation.team is None


@pytest.mark.parametrize("text", [
    "Frankly your delivery service is a disgrace, two weeks late",
    "Fourth email and no answer. Unacceptable.",
    "包装烂透了，茶叶撒了一箱子",
    "你们这种服务我要打12315",
])
def test_a_complaint_goes_to_the_complaints_team(online, text: str) -> None:
    carol, dan = agent("carol"), agent("dan")
    team("售后", [dan], is_default=True)
    complaints = team("complaints", [carol], intents=["complaint"])
    online(carol, dan)
    conversation = post(text)
    assert conversation.team == complaints and conversation.agent == carol and conversation.status == Status.HUMAN


@pytest.mark.parametrize("text", ["I want my money back for this kettle", "我要退款"])
def test_a_handoff_goes_to_the_team_of_the_customers_intent(online, text: str) -> None:
    general = team("general", [], is_default=True)
    refunds = team("refunds", [], intents=["refund", "order_status"])
    conversation = conversation_factory()
    messages.message_post_customer(conversation=conversation, text=text, client_id="c-1")
    conversation = handoff.conversation_request_human(conversation=conversation)
    assert conversation.team == refunds
    other = hand_off("你好，能找个人工吗")
    other.refresh_from_db()
    assert other.team == general


def test_rules_set_labels_and_priority_by_intent_channel_and_customer(online) -> None:
    from conversations.models import Customer

    vip, refund, app = Label.objects.create(name="vip"), Label.objects.create(name="退款"), Label.objects.create(
        name="app")
    ConversationRule.objects.create(name="VIPs", customer_ids=["v-1"], label=vip, priority="high")
    ConversationRule.objects.create(name="refunds", intent="refund", label=refund)
    ConversationRule.objects.create(name="app users", channel="app:shop", label=app, priority="urgent")
    ConversationRule.objects.create(name="off", active=False, intent="refund", priority="low")
    customer = Customer.objects.create(external_id="v-1", name="Vera")
    first = hand_off("I want a refund", customer=customer, intent="refund")
    second = hand_off("转人工", channel="app:shop")
    third = hand_off("转人工")
    first.refresh_from_db(), second.refresh_from_db(), third.refresh_from_db()
    assert (sorted(first.labels.values_list("name", flat=True)), first.priority) == (["vip", "退款"], "high")
    assert (list(second.labels.values_list("name", flat=True)), second.priority) == (["app"], "urgent")
    assert (list(third.labels.values_list("name", flat=True)), third.priority) == ([], "normal")


@pytest.mark.production
def test_two_handoffs_at_once_never_both_take_an_agents_last_slot(online) -> None:
    require(uses_postgres(), "PostgreSQL (DATABASE_URL)")
    ann, bob = agent("ann"), agent("bob")
    team("billing", [ann, bob], is_default=True, assignment=Team.Assignment.LEAST_BUSY, max_per_agent=1)
    online(ann, bob)
    conversation_factory(status=Status.HUMAN, agent=ann)  # ann is at the cap: bob has the one free slot
    rounds = 6
    for _ in range(rounds):
        pending = []
        for _ in range(2):
            conversation = conversation_factory()
            customer_message_factory(conversation, "转人工")
            pending.append(conversation)
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def request(conversation: Conversation, start: threading.Barrier = start,
                    errors: list[BaseException] = errors) -> None:
            try:
                start.wait(timeout=10)
                handoff.conversation_request_human(conversation=conversation)
            except BaseException as exc:
                errors.append(exc)
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=request, args=(c,)) for c in pending]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors
        assert sorted(map(str, holders(pending))) == ["None", "bob"]
        assert Conversation.objects.filter(status=Status.HUMAN, agent=bob).count() == 1
        Conversation.objects.filter(agent=bob).update(status=Status.RESOLVED)  # frees bob without draining
        Conversation.objects.filter(status=Status.WAITING_HUMAN).update(status=Status.RESOLVED)


def test_draining_a_queue_with_nobody_free_assigns_nothing(online) -> None:
    ann = agent("ann")
    team("billing", [ann], is_default=True, max_per_agent=1)
    online(ann)
    hand_off(), hand_off()
    assert team_queues_drain(agent_id=ann.pk) == 0
