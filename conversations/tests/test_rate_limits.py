"""Abuse limits on the customer's side: per client address and per conversation, across sockets.

These run in both configurations: counts in Redis (shared by every process) and in memory (embedded).
"""

from __future__ import annotations

import asyncio

import pytest

from conversations.models import Conversation, Message
from conversations.services.identity import conversation_create
from helpdesk.runtime import aio

from .factories import conversation_factory

pytestmark = pytest.mark.django_db(transaction=True)


def create(client, ip: str = "203.0.113.7", **headers: str):
    return client.post("/api/v1/conversations", REMOTE_ADDR=ip, headers=headers)


def test_conversation_creation_is_limited_per_address_with_429_and_retry_after(client, settings) -> None:
    settings.RATE_LIMIT_CONVERSATIONS_PER_IP = "3/minute"
    assert [create(client).status_code for _ in range(3)] == [201, 201, 201]
    refused = create(client)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"] == "rate_limited" and refused.json()["retry_after"] == int(refused["Retry-After"])
    assert create(client, ip="198.51.100.9").status_code == 201  # another address has its own budget
    assert Conversation.objects.count() == 4


def test_creations_without_an_origin_count_like_any_other(client, settings) -> None:
    settings.RATE_LIMIT_CONVERSATIONS_PER_IP = "2/minute"
    assert create(client).status_code == 201  # no Origin: a script, not a browser
    assert create(client, Origin="http://127.0.0.1:8000").status_code == 201
    assert create(client).status_code == 429


def test_rate_limits_disabled_let_the_burst_through(client, settings) -> None:
    settings.RATE_LIMIT_CONVERSATIONS_PER_IP = "2/minute"
    settings.RATE_LIMITS_ENABLED = False
    assert {create(client).status_code for _ in range(20)} == {201}


async def _drain(client, seconds: float) -> list[dict]:
    frames = []
    try:
        while True:
            frames.append(await client.receive(timeout=seconds))
            if frames[-1]["type"] == "__close__":
                return frames
    except TimeoutError:
        return frames


async def test_twelve_sockets_on_one_conversation_share_its_message_limit(chat, settings) -> None:
    settings.CHAT_MAX_SOCKETS_PER_CONVERSATION = 12
    conversation = await aio.db_call(lambda: conversation_factory(status="waiting_human"))  # no model calls
    clients = [(await chat(conversation.token, client=(f"203.0.113.{i}", 4000)))[0] for i in range(12)]

    async def flood(i: int, client) -> None:
        for n in range(20):
            await client.send({"type": "message", "text": f"spam {n}", "client_id": f"s{i}-{n}"})

    def stored() -> int:
        return conversation.messages.filter(role=Message.Role.CUSTOMER).count()

    await asyncio.gather(*(flood(i, c) for i, c in enumerate(clients)))
    counts = [-1]
    while counts[-1] != (count := await aio.db_call(stored)):  # until the consumers have handled them all
        counts.append(count)
        await asyncio.sleep(1)
    for c in clients:
        await c.close()
    assert count <= settings.CHAT_RATE_LIMIT  # 240 before: each socket had its own 20


async def test_two_sockets_share_the_frame_limit_and_invalid_frames_count(chat, settings) -> None:
    settings.CHAT_RATE_LIMIT = 3
    conversation = await aio.db_call(conversation_create)
    first, _ = await chat(conversation.token)
    second, _ = await chat(conversation.token, client=("198.51.100.2", 4000))
    await first.send("not json")
    await first.send({"type": "typing", "active": True})
    assert (await first.receive())["code"] == "invalid_json"
    await second.send({"type": "typing", "active": True})  # the third frame of the conversation
    await second.send({"type": "typing", "active": True})  # the fourth: over, though this socket sent one
    error = await second.until("error")
    await first.close()
    await second.close()
    assert error["code"] == "rate_limited" and error["retry_after"] >= 1


async def test_a_socket_that_keeps_flooding_is_closed_4429(chat, settings) -> None:
    settings.CHAT_RATE_LIMIT = 2
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    for _ in range(7):
        await client.send({"type": "typing", "active": True})
    frames = await _drain(client, 3)
    assert frames[-1] == {"type": "__close__", "code": 4429}
    assert frames[-2]["code"] == "rate_limited" and frames[-2]["retry_after"] >= 1


async def test_a_refused_message_names_its_client_id_and_is_not_stored(chat, settings) -> None:
    settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION = "1/minute"
    conversation = await aio.db_call(lambda: conversation_factory(status="waiting_human"))
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "one", "client_id": "m-1"})
    await client.until("message")
    await client.send({"type": "message", "text": "two", "client_id": "m-2"})
    error = await client.until("error")
    await client.close()
    assert error == {**error, "code": "rate_limited", "client_id": "m-2", "limit": "messages_per_conversation"}
    assert await aio.db_call(lambda: conversation.messages.count()) == 1


async def test_messages_are_limited_per_address_across_conversations(chat, settings) -> None:
    settings.RATE_LIMIT_MESSAGES_PER_IP = "2/minute"
    first, second, third = [await aio.db_call(lambda: conversation_factory(status="waiting_human")) for _ in "abc"]
    for n, conversation in enumerate((first, second)):
        client, _ = await chat(conversation.token)
        await client.send({"type": "message", "text": "hello", "client_id": f"ip-{n}"})
        await client.until("message")
        await client.close()
    client, _ = await chat(third.token)
    await client.send({"type": "message", "text": "hello", "client_id": "ip-2"})
    error = await client.until("error")
    await client.close()
    other, _ = await chat(third.token, client=("198.51.100.2", 4000))
    await other.send({"type": "message", "text": "hello", "client_id": "ip-3"})
    echo = await other.until("message")
    await other.close()
    assert error["code"] == "rate_limited" and error["limit"] == "messages_per_ip"
    assert echo["message"]["content"] == "hello"


async def test_sockets_per_conversation_are_capped_across_sockets(chat, settings) -> None:
    settings.CHAT_MAX_SOCKETS_PER_CONVERSATION = 2
    conversation = await aio.db_call(conversation_create)
    first, _ = await chat(conversation.token)
    second, _ = await chat(conversation.token)
    third, refusal = await chat(conversation.token)
    closed = await third.receive()
    assert refusal["code"] == "too_many_sockets" and closed == {"type": "__close__", "code": 4429}
    await first.close()
    await asyncio.sleep(0.2)  # the release runs in the closed socket's disconnect
    fourth, history = await chat(conversation.token)
    assert history["type"] == "history"
    await second.close()
    await fourth.close()


async def test_model_calls_past_the_limit_store_the_message_and_tell_the_customer_to_wait(
    chat, settings, fake_ollama, reply_runner
) -> None:
    settings.RATE_LIMIT_MODEL_CALLS_PER_CONVERSATION = "1/minute"
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "first question", "client_id": "q-1"})
    await client.until("done", timeout=30)
    await client.send({"type": "message", "text": "second question", "client_id": "q-2"})
    notice = await client.until("error", code="reply_rate_limited")
    await client.close()

    def stored() -> tuple[int, int]:
        return (conversation.messages.filter(role=Message.Role.CUSTOMER).count(),
                conversation.messages.filter(role=Message.Role.BOT).count())

    assert await aio.db_call(stored) == (2, 1)
    assert notice["retry_after"] >= 1 and len(fake_ollama.chat_requests()) == 1


def test_a_frame_is_counted_against_its_four_limits_in_one_round_trip_and_after_redis_forgot_the_script(
    settings,
) -> None:
    """The frame limits are counted together (one pipeline on Redis); should Redis have lost its scripts (a
    restart), they are still counted, and the hard limit still closes."""
    from helpdesk.web import ratelimits

    settings.CHAT_RATE_LIMIT = 2
    ratelimits.reset()
    if settings.REDIS_URL:
        ratelimits._redis().script_flush()
    results = [ratelimits.frame_check(conversation_id=987654, client_ip="198.51.100.9") for _ in range(7)]
    assert [refused is not None for refused, _ in results] == [False, False, True, True, True, True, True]
    assert [close for _, close in results] == [False] * 6 + [True]
    assert {refused.what for refused, _ in results[2:6]} == {"frames_per_conversation"}
    assert results[6][0].what == "frames_hard" and results[6][0].retry_after >= 1
    ratelimits.reset()


@pytest.mark.parametrize("script_lost", [False, True])
def test_a_message_is_counted_against_both_its_limits_or_neither_in_one_round_trip(settings, script_lost) -> None:
    """The address's and the conversation's message limits are counted together (one script on Redis): a message
    refused by one is counted by neither, and the address is named first; should Redis have lost the script (a
    restart), it is loaded again."""
    from helpdesk.web import ratelimits
    from tests.support.redis_traffic import redis_traffic

    settings.RATE_LIMITS_ENABLED = True
    settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION = "2/minute"
    settings.RATE_LIMIT_MESSAGES_PER_IP = "3/minute"
    ratelimits.reset()
    ratelimits.message_check(conversation_id=987000, client_ip="198.51.100.6")  # the script known to Redis
    if settings.REDIS_URL and script_lost:
        ratelimits._redis().script_flush()
    with redis_traffic() as traffic:
        ratelimits.message_check(conversation_id=987001, client_ip="198.51.100.7")
    if settings.REDIS_URL:
        assert traffic.round_trips == (3 if script_lost else 1)  # lost: EVALSHA refused, SCRIPT LOAD, EVALSHA
    ratelimits.message_check(conversation_id=987001, client_ip="198.51.100.7")
    with pytest.raises(ratelimits.RateLimited) as refused:
        ratelimits.message_check(conversation_id=987001, client_ip="198.51.100.7")
    assert refused.value.what == "messages_per_conversation" and refused.value.retry_after >= 1
    # The refused message took none of the address's share: one more conversation gets its third.
    ratelimits.message_check(conversation_id=987002, client_ip="198.51.100.7")
    with pytest.raises(ratelimits.RateLimited) as refused:
        ratelimits.message_check(conversation_id=987003, client_ip="198.51.100.7")
    assert refused.value.what == "messages_per_ip"
    # Nor of the new conversation's: refused by the address, it was counted nowhere.
    settings.RATE_LIMIT_MESSAGES_PER_IP = "10/minute"
    ratelimits.message_check(conversation_id=987003, client_ip="198.51.100.7")
    ratelimits.message_check(conversation_id=987003, client_ip="198.51.100.7")
    with pytest.raises(ratelimits.RateLimited):
        ratelimits.message_check(conversation_id=987003, client_ip="198.51.100.7")
    ratelimits.reset()
