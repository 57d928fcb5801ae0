"""Bad input on the customer's socket: a clear error or close code, and nothing stored is lost."""

from __future__ import annotations

import json

import pytest

from conversations.models import Conversation, Message
from conversations.services.identity import conversation_create
from helpdesk.runtime import aio

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)


async def new_conversation() -> Conversation:
    return await aio.db_call(conversation_create)


async def message_count(conversation: Conversation) -> int:
    return await aio.db_call(lambda: conversation.messages.count())


async def test_history_holds_visible_messages_without_reasoning(chat) -> None:
    def seed() -> Conversation:
        conversation = conversation_factory()
        question = customer_message_factory(conversation, "hello", client_id="h-1")
        bot_message_factory(conversation, "Hi!", reply_to=question, reasoning="PRIVATE THOUGHTS")
        Message.objects.create(conversation=conversation, role=Message.Role.NOTE, content="PRIVATE NOTE")
        return conversation

    conversation = await aio.db_call(seed)
    client, history = await chat(conversation.token)
    await client.close()
    assert [(m["role"], m["content"]) for m in history["messages"]] == [("customer", "hello"), ("bot", "Hi!")]
    assert history["messages"][0]["client_id"] == "h-1"
    assert "PRIVATE" not in json.dumps(history)


async def test_reconnecting_to_a_conversation_an_agent_has_names_the_agent(chat) -> None:
    def seed() -> Conversation:
        from django.contrib.auth import get_user_model

        agent = get_user_model().objects.create_user("mei", first_name="Mei")
        return conversation_factory(status=Conversation.Status.HUMAN, agent=agent)

    conversation = await aio.db_call(seed)
    client, history = await chat(conversation.token)
    await client.close()
    assert history["type"] == "history"
    assert history["conversation"] == {"status": "human", "agent": {"name": "Mei"}}


@pytest.mark.parametrize("token", ["x" * 43, "short", "bad token!", "A" * 129])
async def test_unknown_or_malformed_token_closes_4404(chat, token: str) -> None:
    await new_conversation()
    client, frame = await chat(token)
    assert frame["type"] == "error" and frame["code"] == "unknown_conversation"
    assert (await client.receive())["code"] == 4404


async def test_origin_not_allowed_closes_4403(chat) -> None:
    conversation = await new_conversation()
    client, frame = await chat(conversation.token, origin="https://evil.example")
    assert frame["code"] == "origin_not_allowed"
    assert (await client.receive())["code"] == 4403


async def test_configured_widget_origin_is_allowed(chat, settings) -> None:
    settings.WIDGET_ALLOWED_ORIGINS = ["https://shop.example"]
    conversation = await new_conversation()
    client, frame = await chat(conversation.token, origin="https://shop.example")
    await client.close()
    assert frame["type"] == "history"


async def test_same_origin_page_is_allowed_without_configuration(chat, settings) -> None:
    settings.WIDGET_ALLOWED_ORIGINS = []
    conversation = await new_conversation()
    client, frame = await chat(conversation.token, origin="http://127.0.0.1:8000")
    await client.close()
    assert frame["type"] == "history"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "bad_frame"),
        ('{"text": "no type"}', "bad_frame"),
        ('{"type": "launch_rockets"}', "unknown_type"),
        ('{"type": "message", "text": "", "client_id": "e-1"}', "empty_message"),
        ('{"type": "message", "text": "hi"}', "invalid_client_id"),
        ('{"type": "message", "text": ["hi"], "client_id": "e-2"}', "invalid_message"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_survives(chat, raw: str, code: str) -> None:
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send(raw)
    error = await client.receive()
    assert error["type"] == "error" and error["code"] == code and error["detail"]
    await client.send({"type": "typing", "active": True})  # still open and listening
    await client.send('{"type": "nope"}')
    assert (await client.receive())["code"] == "unknown_type"
    await client.close()
    assert await message_count(conversation) == 0


async def test_overlong_message_is_refused_with_its_client_id(chat, settings) -> None:
    settings.MESSAGE_MAX_CHARS = 50
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "x" * 51, "client_id": "long-1"})
    error = await client.receive()
    await client.close()
    assert error["code"] == "message_too_long" and error["client_id"] == "long-1"
    assert await message_count(conversation) == 0


async def test_oversized_frame_is_refused_before_parsing(chat, settings) -> None:
    settings.MESSAGE_MAX_CHARS = 10
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send("x" * 5000)
    error = await client.receive()
    await client.close()
    assert error["code"] == "frame_too_large"


async def test_binary_frames_are_refused(chat) -> None:
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.communicator.send_to(bytes_data=b"\x00\x01")
    error = await client.receive()
    await client.close()
    assert error["code"] == "bad_frame"


async def test_flooding_is_rate_limited(chat, settings) -> None:
    settings.CHAT_RATE_LIMIT = 3
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    for _ in range(4):
        await client.send({"type": "typing", "active": True})
    error = await client.receive()
    await client.close()
    assert error["code"] == "rate_limited"


async def test_html_in_a_message_is_stored_and_echoed_as_plain_text(chat, settings) -> None:
    conversation = await aio.db_call(lambda: conversation_factory(status="waiting_human"))
    client, _ = await chat(conversation.token)
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await client.send({"type": "message", "text": payload, "client_id": "x-1"})
    echo = await client.until("message")
    await client.close()
    assert echo["message"]["content"] == payload  # text, untouched; the widget renders it with textContent


async def test_a_flood_far_over_the_limit_closes_4429(chat, settings) -> None:
    settings.CHAT_RATE_LIMIT = 2
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    for _ in range(7):
        await client.send({"type": "typing", "active": True})
    frames = [await client.receive() for _ in range(6)]
    assert frames[-1] == {"type": "__close__", "code": 4429}


async def test_feedback_is_stored_and_two_thumbs_down_hand_off(chat) -> None:
    def seed() -> tuple[Conversation, list[int]]:
        conversation = conversation_factory()
        replies = []
        for text in ("first", "second"):
            question = customer_message_factory(conversation, text)
            replies.append(bot_message_factory(conversation, f"answer to {text}", reply_to=question).pk)
        return conversation, replies

    conversation, replies = await aio.db_call(seed)
    client, _ = await chat(conversation.token)
    await client.send({"type": "feedback", "message_id": replies[0], "rating": -1, "comment": "wrong"})
    ack = await client.until("feedback")
    assert ack == {"type": "feedback", "message_id": replies[0], "rating": -1, "comment": "wrong"}
    await client.send({"type": "feedback", "message_id": replies[1], "rating": -1})
    status = await client.until("status")
    await client.close()
    assert status["status"] == "waiting_human" and status["reason"] == "negative_feedback"
    votes = conversation.feedback.order_by("message_id")
    stored = await aio.db_call(lambda: list(votes.values_list("rating", "comment")))
    assert stored == [(-1, "wrong"), (-1, "")]


async def test_a_thumbs_up_in_between_keeps_the_bot(chat) -> None:
    def seed() -> tuple[Conversation, list[int]]:
        conversation = conversation_factory()
        return conversation, [bot_message_factory(conversation, f"answer {i}").pk for i in range(3)]

    conversation, replies = await aio.db_call(seed)
    client, _ = await chat(conversation.token)
    for message_id, rating in zip(replies, (-1, 1, -1), strict=True):
        await client.send({"type": "feedback", "message_id": message_id, "rating": rating})
        await client.until("feedback")
    await client.close()
    assert (await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk).status)) == "bot"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "feedback", "message_id": 999999, "rating": 1}, "unknown_message"),
        ({"type": "feedback", "message_id": "1", "rating": 1}, "unknown_message"),
        ({"type": "feedback", "message_id": 1, "rating": 5}, "invalid_feedback"),
        ({"type": "feedback", "message_id": 1, "rating": True}, "invalid_feedback"),
        ({"type": "feedback", "message_id": 1, "rating": -1, "comment": "x" * 3000}, "invalid_feedback"),
    ],
)
async def test_bad_feedback_gets_a_clear_error(chat, frame, code) -> None:
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send(frame)
    error = await client.until("error")
    await client.close()
    assert error["code"] == code


async def test_feedback_on_another_conversations_reply_is_refused(chat) -> None:
    other_reply = await aio.db_call(lambda: bot_message_factory(conversation_factory(), "elsewhere").pk)
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "feedback", "message_id": other_reply, "rating": -1})
    error = await client.until("error")
    await client.close()
    assert error["code"] == "unknown_message"


async def test_history_asks_for_the_pre_chat_form_when_it_is_on(chat, settings) -> None:
    conversation = await new_conversation()
    client, history = await chat(conversation.token)
    await client.close()
    assert history["prechat_form"] is False
    settings.WIDGET_PRECHAT_FORM = True
    client, history = await chat(conversation.token)
    await client.close()
    assert history["prechat_form"] is True


async def test_the_pre_chat_frame_stores_name_and_email_and_is_acknowledged(chat, settings) -> None:
    settings.WIDGET_PRECHAT_FORM = True
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "prechat", "name": "李雷", "email": "li@example.com"})
    ack = await client.until("prechat")
    await client.close()
    assert ack == {"type": "prechat", "name": "李雷", "email": "li@example.com"}
    stored = await aio.db_call(lambda: Conversation.objects.values_list("contact_name", "contact_email").get(
        pk=conversation.pk))
    assert stored == ("李雷", "li@example.com")
    client, history = await chat(conversation.token)
    await client.close()
    assert history["prechat_form"] is False  # answered: not asked again on the next visit


async def test_a_bad_pre_chat_email_gets_a_clear_error_and_the_socket_survives(chat) -> None:
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "prechat", "name": "Li", "email": "li@"})
    error = await client.until("error")
    await client.send({"type": "prechat", "name": "Li", "email": ""})
    ack = await client.until("prechat")
    await client.close()
    assert error["code"] == "invalid_email"
    assert ack["name"] == "Li" and ack["email"] == ""
