"""Who hears what (conversations.events): the customer's group, the open consoles, every console's inbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from conversations import events
from conversations.models import Conversation, Message
from conversations.notices import HANDOFF_NOTICE, notice_in
from conversations.services import handoff, messages

from .factories import bot_message_factory, conversation_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(group, event type) of every send, in order, once the test's transaction would commit."""
    sent: list[tuple[str, str]] = []

    async def record(conversation_id: int, event: dict[str, Any], *, group: str | None = None) -> None:
        sent.append((group or events.conversation_group(conversation_id), event["type"]))

    monkeypatch.setattr(events, "_group_send", record)
    return sent


def customer(conversation: Conversation) -> str:
    return events.conversation_group(conversation.pk)


def consoles_open(conversation: Conversation) -> str:
    return events.console_conversation_group(conversation.pk)


def agent() -> Any:
    return get_user_model().objects.create_user("mei", first_name="Mei")


def test_a_private_note_reaches_only_the_consoles_that_have_the_conversation_open(
    heard, django_capture_on_commit_callbacks
) -> None:
    conversation = conversation_factory()
    with django_capture_on_commit_callbacks(execute=True):
        messages.note_post(conversation_id=conversation.pk, agent=agent(), text="refund approved by finance")
    assert heard == [(consoles_open(conversation), "note.created")]


def test_an_agents_reply_reaches_the_customer_and_every_inbox(heard, django_capture_on_commit_callbacks) -> None:
    mei = agent()
    conversation = conversation_factory(status=Conversation.Status.HUMAN, agent=mei)
    with django_capture_on_commit_callbacks(execute=True):
        messages.message_post_agent(conversation_id=conversation.pk, agent=mei, text="On its way.")
    assert heard == [(customer(conversation), "message.created"), (events.CONSOLE_GROUP, "inbox.item")]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda c, a: handoff.conversation_request_human(conversation=c), Conversation.Status.WAITING_HUMAN),
        (lambda c, a: handoff.conversation_agent_join(conversation_id=c.pk, agent=a), Conversation.Status.HUMAN),
        (lambda c, a: handoff.conversation_resolve(conversation_id=c.pk, agent=a), Conversation.Status.RESOLVED),
    ],
)
def test_a_status_change_is_heard_once_then_its_notice_then_one_inbox_line(
    heard, django_capture_on_commit_callbacks, change, status
) -> None:
    conversation = conversation_factory()
    with django_capture_on_commit_callbacks(execute=True):
        changed = change(conversation, agent())
    assert changed.status == status
    assert heard == [
        (customer(conversation), "conversation.status"),
        (customer(conversation), "message.created"),
        (events.CONSOLE_GROUP, "inbox.item"),
    ]


def test_a_customer_writing_into_a_resolved_conversation_reopens_it_without_a_notice(
    heard, django_capture_on_commit_callbacks
) -> None:
    conversation = conversation_factory(status=Conversation.Status.RESOLVED)
    with django_capture_on_commit_callbacks(execute=True):
        messages.message_post_customer(conversation=conversation, text="human", client_id="r-1")
    assert heard[:2] == [(customer(conversation), "conversation.status"), (customer(conversation), "message.created")]
    notices = conversation.messages.filter(role=Message.Role.SYSTEM).values_list("content", flat=True)
    assert list(notices) == [notice_in("en", HANDOFF_NOTICE)]  # the handoff's, none for the reopening


@pytest.mark.parametrize(
    ("answer_source", "kind"),
    [
        (Message.AnswerSource.LLM, "reply.done"),
        ("", "reply.done"),  # failed before it finished: its stream ends all the same
        (Message.AnswerSource.FAQ, "message.created"),
        (Message.AnswerSource.CACHE, "message.created"),
    ],
)
def test_a_streamed_reply_ends_with_done_and_a_stored_answer_arrives_as_a_message(
    heard, django_capture_on_commit_callbacks, answer_source, kind
) -> None:
    conversation = conversation_factory()
    reply = bot_message_factory(conversation, "It ships today.", answer_source=answer_source)
    with django_capture_on_commit_callbacks(execute=True):
        events.message_on_commit(reply)
    assert heard == [(customer(conversation), kind)]


@pytest.mark.production
async def test_a_delta_and_the_progress_it_ends_go_out_in_one_round_trip_progress_first() -> None:
    """A socket joining mid-reply reads the progress and hears the deltas after it: the progress is written with
    the delta, before it, in the same Redis pipeline (conversations.reply_progress)."""
    import asyncio

    from channels.layers import get_channel_layer

    from conversations.reply_progress import reply_progress, reply_progress_forget
    from tests.support.redis_traffic import redis_traffic

    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(events.conversation_group(987654), listener)
    try:
        with redis_traffic() as traffic:
            await events.reply_delta(conversation_id=987654, message_id=123456, seq=3, text=" world",
                                     sent="Hello world")
        assert traffic.round_trips == 1 and dict(traffic.commands) == {"SET": 1, "PUBLISH": 1}
        assert traffic.calls[0].startswith("SET ")  # the progress before the delta
        heard = await asyncio.wait_for(layer.receive(listener), 5)
        assert heard == {"type": "reply.delta", "message_id": 123456, "seq": 3, "text": " world",
                         "conversation_id": 987654}
        assert reply_progress(123456) == (3, "Hello world")
    finally:
        await layer.group_discard(events.conversation_group(987654), listener)
        reply_progress_forget([123456])


@pytest.mark.production
async def test_deltas_of_several_streams_in_one_turn_of_the_loop_share_one_round_trip_in_order() -> None:
    """A worker's stream loop carries many replies: the deltas they flush in the same turn go out in one pipeline,
    each progress before its delta, and each stream's deltas in the order it sent them."""
    import asyncio

    from channels.layers import get_channel_layer

    from conversations.reply_progress import reply_progress, reply_progress_forget
    from tests.support.redis_traffic import redis_traffic

    layer = get_channel_layer()
    conversations = (987661, 987662, 987663)
    listeners = {}
    for conversation_id in conversations:
        listeners[conversation_id] = await layer.new_channel()
        await layer.group_add(events.conversation_group(conversation_id), listeners[conversation_id])

    async def stream(conversation_id: int) -> None:
        message_id = conversation_id + 1000
        await events.reply_delta(conversation_id=conversation_id, message_id=message_id, seq=0, text="a",
                                 sent="a")
        await events.reply_delta(conversation_id=conversation_id, message_id=message_id, seq=1, text="b",
                                 sent="ab")

    try:
        with redis_traffic() as traffic:
            await asyncio.gather(*(stream(conversation_id) for conversation_id in conversations))
        assert traffic.round_trips == 2 and dict(traffic.commands) == {"SET": 6, "PUBLISH": 6}
        assert [call.split()[0] for call in traffic.calls[:6]] == ["SET", "PUBLISH"] * 3
        for conversation_id in conversations:
            heard = [await asyncio.wait_for(layer.receive(listeners[conversation_id]), 5) for _ in range(2)]
            assert [(event["seq"], event["text"]) for event in heard] == [(0, "a"), (1, "b")]
            assert reply_progress(conversation_id + 1000) == (1, "ab")
    finally:
        for conversation_id in conversations:
            await layer.group_discard(events.conversation_group(conversation_id), listeners[conversation_id])
        reply_progress_forget([conversation_id + 1000 for conversation_id in conversations])


@pytest.mark.production
async def test_a_delta_without_the_shared_redis_writes_its_progress_then_sends(settings) -> None:
    """A channel layer on another Redis than the cache's (here, as far as the settings say: another address): the
    two writes go apart, the progress first."""
    from channels.layers import channel_layers, get_channel_layer

    from conversations.reply_progress import reply_progress, reply_progress_forget

    layer_config = settings.CHANNEL_LAYERS["default"]
    elsewhere = settings.CACHES["default"]["LOCATION"].replace("127.0.0.1", "localhost")
    hosts = [{**layer_config["CONFIG"]["hosts"][0], "address": elsewhere}]
    settings.CHANNEL_LAYERS = {"default": {**layer_config, "CONFIG": {**layer_config["CONFIG"], "hosts": hosts}}}
    channel_layers.backends.clear()
    assert not events._layer_shares_the_cache()
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(events.conversation_group(987655), listener)
    try:
        await events.reply_delta(conversation_id=987655, message_id=123457, seq=0, text="Hi", sent="Hi")
        heard = await layer.receive(listener)
        assert heard["text"] == "Hi" and reply_progress(123457) == (0, "Hi")
    finally:
        await layer.group_discard(events.conversation_group(987655), listener)
        reply_progress_forget([123457])
