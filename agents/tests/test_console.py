"""The agents' console socket, end to end with a customer socket: handoff, take over, reply, hand back, resolve."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.contrib.auth.models import Group

from agents.models import AuditEvent
from agents.tests.console import agent_create, new_conversation, open_console
from conversations.models import Conversation, Message
from helpdesk.runtime import aio
from tests.fake_ollama import FakeOllama, Reply
from tests.support.chat import ChatClient

pytestmark = pytest.mark.django_db(transaction=True)


def console_permission_give(user: Any, *, through_group: bool) -> None:
    from django.contrib.auth.models import Permission

    permission = Permission.objects.get(codename="use_console", content_type__app_label="agents")
    if through_group:
        group = Group.objects.create(name="night shift")
        group.permissions.add(permission)
        user.groups.add(group)
    else:
        user.user_permissions.add(permission)


@pytest.mark.parametrize("who", ["agents_group", "permission", "permission_through_group", "superuser"])
async def test_agents_get_the_inbox(who) -> None:
    def create() -> Any:
        user = agent_create("boss", in_group=who == "agents_group")
        if who.startswith("permission"):
            console_permission_give(user, through_group=who == "permission_through_group")
        if who == "superuser":
            user.is_superuser = True
            user.save()
        return user

    client, hello = await open_console(await aio.db_call(create))
    inbox = await client.until("inbox")
    await client.close()
    assert hello["type"] == "hello" and hello["agent"]["name"] == "boss"
    assert inbox["items"] == []


async def handed_off_for_lack_of_knowledge(
    chat: Any, fake_ollama: FakeOllama, console: ChatClient
) -> tuple[Conversation, ChatClient]:
    """The model says the knowledge does not cover it: the conversation is handed off, and the inbox hears
    of it without asking. (Settings changed here would not reach a Celery worker: the reply decides.)"""
    fake_ollama.script(Reply(content="[NO-ANSWER] I am not sure when it ships, a colleague will help."))
    conversation = await new_conversation()
    customer, _ = await chat(conversation.token)
    await customer.send({"type": "message", "text": "When does my order ship?", "client_id": "c-1"})
    await customer.until("done")
    handed = await customer.until("status")
    assert handed["status"] == "waiting_human" and handed["reason"] == "no_knowledge"
    item = await console.until("inbox_item", timeout=10)
    while item["item"]["status"] != "waiting_human":
        item = await console.until("inbox_item", timeout=10)
    assert item["item"]["id"] == conversation.pk and item["item"]["handoff_reason"] == "no_knowledge"
    return conversation, customer


async def agent_writes(console: ChatClient, customer: ChatClient, conversation: Conversation) -> None:
    """Agent typing and reply reach the customer; a private note does not."""
    await console.send({"type": "typing", "conversation_id": conversation.pk, "active": True})
    assert (await customer.until("typing")) == {"type": "typing", "who": "agent", "active": True}
    await console.send({"type": "note", "conversation_id": conversation.pk, "text": "PRIVATE: VIP customer"})
    note = await console.until("note")
    assert note["message"]["role"] == "note" and note["message"]["author"] == "Ann"
    await console.send({"type": "reply", "conversation_id": conversation.pk, "text": "<i>It ships today.</i>",
                        "client_id": "a-1"})
    reply = await customer.until("message")
    assert reply["message"]["role"] == "agent" and reply["message"]["content"] == "<i>It ships today.</i>"
    assert reply["message"]["agent"] == {"name": "Ann"}


async def test_handoff_take_over_reply_hand_back_and_resolve(chat, fake_ollama, reply_runner) -> None:
    ann = await aio.db_call(lambda: agent_create("ann", first_name="Ann"))
    console, _ = await open_console(ann)
    await console.until("inbox")
    conversation, customer = await handed_off_for_lack_of_knowledge(chat, fake_ollama, console)

    # The agent opens it: the bot's reply with its confidence and signals.
    await console.send({"type": "open", "conversation_id": conversation.pk})
    opened = await console.until("conversation")
    bot = next(m for m in opened["messages"] if m["role"] == "bot")
    assert bot["content"] == "I am not sure when it ships, a colleague will help."
    assert bot["confidence"] == 0.1 and bot["confidence_signals"]["no_answer_marker"] is True
    assert bot["reasoning"] == "" and bot["answer_source"] == "llm"

    # Take over: the customer sees who joined.
    await console.send({"type": "take_over", "conversation_id": conversation.pk})
    joined = await customer.until("status")
    assert joined == {"type": "status", "status": "human", "agent": {"name": "Ann"}}
    notice = await customer.until("message")
    assert notice["message"]["content"] == "Ann joined the conversation."

    await agent_writes(console, customer, conversation)

    # While a human has it, the bot stays quiet.
    await customer.send({"type": "message", "text": "thanks!", "client_id": "c-2"})
    await customer.until("message")
    await asyncio.sleep(0.3)
    assert len(fake_ollama.chat_requests()) == 1

    # Hand back: the bot answers the next question again.
    await console.send({"type": "hand_back", "conversation_id": conversation.pk})
    assert (await customer.until("status"))["status"] == "bot"
    fake_ollama.script(Reply(content="Here is the bot again."))
    await customer.send({"type": "message", "text": "one more question", "client_id": "c-3"})
    again = await customer.until("done")
    assert again["message"]["content"] == "Here is the bot again."

    # Resolve: the customer is told and may rate.
    await console.send({"type": "resolve", "conversation_id": conversation.pk})
    assert (await customer.until("status"))["status"] == "resolved"
    await customer.send({"type": "csat", "score": 5, "comment": "great"})
    assert (await customer.until("csat"))["score"] == 5
    await customer.close()
    await console.close()
    assert all("PRIVATE" not in json.dumps(frame) for frame in customer.frames)
    actions = await aio.db_call(lambda: list(AuditEvent.objects.order_by("id").values_list("action", flat=True)))
    assert actions == ["take_over", "note", "reply", "hand_back", "resolve"]
    stored = await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk))
    assert stored.csat_score == 5 and stored.csat_comment == "great"


async def test_the_second_agent_sees_who_has_the_conversation() -> None:
    ann = await aio.db_call(lambda: agent_create("ann", first_name="Ann"))
    bob = await aio.db_call(lambda: agent_create("bob", first_name="Bob"))
    conversation = await new_conversation()
    first, _ = await open_console(ann)
    second, _ = await open_console(bob)
    await first.send({"type": "take_over", "conversation_id": conversation.pk})
    await first.until("inbox_item")
    await second.send({"type": "take_over", "conversation_id": conversation.pk})
    refused = await second.until("error")
    await second.send({"type": "reply", "conversation_id": conversation.pk, "text": "hi"})
    not_yours = await second.until("error")
    await first.close()
    await second.close()
    assert refused["code"] == "taken" and refused["agent"] == "Ann"
    assert not_yours["code"] == "not_yours"
    actions = await aio.db_call(lambda: list(AuditEvent.objects.values_list("actor__username", "action")))
    assert sorted(actions) == [("ann", "take_over"), ("bob", "take_over_refused")]


async def test_bad_console_frames_get_clear_errors() -> None:
    ann = await aio.db_call(lambda: agent_create("ann"))
    console, _ = await open_console(ann)
    await console.until("inbox")
    for frame, code in [
        ("not json", "invalid_json"),
        ({"type": "nope"}, "unknown_type"),
        ({"type": "take_over"}, "bad_frame"),
        ({"type": "open", "conversation_id": 987654}, "unknown_conversation"),
        ({"type": "assign", "conversation_id": 1, "agent_id": "x"}, "unknown_agent"),
    ]:
        await console.send(frame)
        assert (await console.until("error"))["code"] == code
    await console.close()


async def test_take_over_stops_a_streaming_reply_at_once(chat, fake_ollama, reply_runner) -> None:
    ann = await aio.db_call(lambda: agent_create("ann", first_name="Ann"))
    fake_ollama.script(Reply(content=" ".join(f"w{i}" for i in range(300)), per_token=0.02))
    conversation = await new_conversation()
    customer, _ = await chat(conversation.token)
    await customer.send({"type": "message", "text": "tell me everything", "client_id": "c-1"})
    await customer.until("delta")
    console, _ = await open_console(ann)
    await console.send({"type": "take_over", "conversation_id": conversation.pk})
    done = await customer.until("done")
    await customer.close()
    await console.close()
    assert done["message"]["status"] == "cancelled" and 0 < len(done["message"]["content"].split()) < 300
    reply = await aio.db_call(lambda: Message.objects.get(pk=done["message"]["id"]))
    assert reply.status == Message.Status.CANCELLED and reply.content == done["message"]["content"]
    for _ in range(50):
        if fake_ollama.chat_requests()[-1].closed_by_client:
            break
        await asyncio.sleep(0.05)
    assert fake_ollama.chat_requests()[-1].closed_by_client
    stored = await aio.db_call(lambda: Conversation.objects.get(pk=conversation.pk))
    assert stored.status == "human" and stored.agent_id == ann.pk


async def test_a_draft_grounded_in_the_knowledge_base_goes_to_the_agent_only(chat, fake_ollama, reply_runner) -> None:
    from knowledge.tests.factories import knowledge_base_create

    await aio.db_call(knowledge_base_create)
    ann = await aio.db_call(lambda: agent_create("ann", first_name="Ann"))
    conversation = await new_conversation()
    customer, _ = await chat(conversation.token)
    await customer.send({"type": "message", "text": "转人工", "client_id": "c-1"})
    await customer.until("status")
    await customer.send({"type": "message", "text": "Do you take Mastercard?", "client_id": "c-2"})
    await customer.until("message")
    console, _ = await open_console(ann)
    await console.send({"type": "open", "conversation_id": conversation.pk})
    await console.until("conversation")
    fake_ollama.script(Reply(content="Yes, we accept Visa and Mastercard [1].", thinking="PRIVATE"))
    await console.send({"type": "draft", "conversation_id": conversation.pk})
    draft = await console.until("draft", timeout=20)
    await asyncio.sleep(0.2)
    await customer.close()
    await console.close()
    assert draft["text"] == "Yes, we accept Visa and Mastercard."
    assert draft["sources"][0]["title"] == "Payment methods" and draft["sources"][0]["cited"]
    assert all(f["type"] not in ("delta", "done") and "Visa" not in json.dumps(f) for f in customer.frames)
    messages = await aio.db_call(lambda: list(Message.objects.filter(conversation=conversation)
                                              .values_list("role", flat=True)))
    assert "bot" not in messages  # a draft is not a message until the agent sends it


async def test_a_customers_vote_and_comment_reach_the_open_console_at_once(chat) -> None:
    from conversations.tests.factories import bot_message_factory, customer_message_factory

    agent = await aio.db_call(lambda: agent_create("mei", first_name="Mei"))
    conversation = await new_conversation()
    reply_id = await aio.db_call(
        lambda: bot_message_factory(conversation, "Ships today.", reply_to=customer_message_factory(conversation)).pk
    )
    console, _ = await open_console(agent)
    await console.until("inbox")
    await console.send({"type": "open", "conversation_id": conversation.pk})
    opened = await console.until("conversation")
    customer, _ = await chat(conversation.token)
    await customer.send({"type": "feedback", "message_id": reply_id, "rating": -1, "comment": "Wrong tea"})
    update = await console.until("message")
    await customer.until("feedback")
    await customer.close()
    await console.close()
    assert [m["feedback"] for m in opened["messages"] if m["id"] == reply_id] == [None]
    assert update["message"]["id"] == reply_id
    assert update["message"]["feedback"] == {"rating": -1, "comment": "Wrong tea"}


async def test_an_agents_frames_and_drafts_are_limited_across_their_consoles(settings) -> None:
    settings.RATE_LIMIT_AGENT_FRAMES = "4/minute"
    settings.RATE_LIMIT_DRAFTS_PER_AGENT = "1/minute"
    ann = await aio.db_call(lambda: agent_create("ann"))
    first, _ = await open_console(ann)
    second, _ = await open_console(ann)
    # No such conversation, so no draft is queued; the first still counts, the second is refused before the look-up.
    await first.send({"type": "draft", "conversation_id": 10**9})
    assert (await first.until("error"))["code"] == "unknown_conversation"
    await first.send({"type": "draft", "conversation_id": 10**9})
    refused_draft = await first.until("error")
    await second.send("not json")  # the third frame of this agent: invalid, but counted
    assert (await second.until("error"))["code"] == "invalid_json"
    await second.send({"type": "ping"})
    await second.until("pong")
    await second.send({"type": "ping"})  # the fifth
    refused_frame = await second.until("error")
    await first.close()
    await second.close()
    assert refused_draft["code"] == "rate_limited" and refused_draft["limit"] == "drafts_per_agent"
    assert refused_frame["code"] == "rate_limited" and refused_frame["retry_after"] >= 1


async def test_the_inbox_pages_waiting_customers_first_and_loads_more_on_request(settings) -> None:
    from conversations.tests.test_selectors import conversations_bulk

    settings.INBOX_PAGE_SIZE = 20
    ann = await aio.db_call(lambda: agent_create("ann"))
    waiting = await aio.db_call(lambda: conversations_bulk(5, status="waiting_human", start_minutes_ago=60))
    await aio.db_call(lambda: conversations_bulk(30))
    console, _ = await open_console(ann)
    first = await console.until("inbox")
    await console.send({"type": "inbox", "cursor": first["next"]})
    second = await console.until("inbox")
    await console.send({"type": "inbox", "cursor": "forged"})
    error = await console.until("error")
    await console.close()
    assert [item["id"] for item in first["items"][:5]] == [c.pk for c in sorted(waiting, key=lambda c: c.handoff_at)]
    assert len(first["items"]) == 20 and first["next"] and first["cursor"] == ""
    assert len(second["items"]) == 15 and second["next"] is None and second["cursor"] == first["next"]
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert error["code"] == "bad_cursor"
