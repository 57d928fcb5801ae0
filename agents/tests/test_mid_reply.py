"""Joining a conversation while its reply streams: the customer's socket (a widget reconnecting, after a Daphne
restart say) and an agent opening it in the console are sent the reply's text as new as its last delta, with that
delta's seq, and go on from the next delta."""

from __future__ import annotations

import asyncio

import pytest

from conversations.tests.factories import conversation_factory, customer_message_factory
from helpdesk.runtime import aio
from tests.fake_ollama import Reply
from tests.support.chat import ChatClient
from tests.support.stack import reply_generate_in_background

from .console import agent_create, open_console


async def _continued(socket: ChatClient, reply: dict) -> tuple[str, bool]:
    """The text a widget (or console) shows after joining mid-reply: the message as it came, then the deltas
    that continue its `seq`, until `done`; and whether it grew before `done` (not frozen until then)."""
    shown, seq, grew = reply["content"], reply["seq"], False
    while (frame := await socket.receive(30))["type"] != "done":
        if frame["type"] == "delta" and frame["message_id"] == reply["id"]:
            assert frame["seq"] <= seq + 1, f"a delta after the saved text was missed: {frame['seq']} after {seq}"
            if frame["seq"] == seq + 1:
                shown, seq, grew = shown + frame["text"], frame["seq"], True
    assert frame["message"]["id"] == reply["id"]
    return shown, grew


@pytest.mark.django_db(transaction=True)
async def test_a_customer_and_an_agent_joining_mid_reply_go_on_from_its_text_so_far_not_waiting_for_done(
    fake_ollama, settings, chat
) -> None:
    """After a Daphne restart every customer whose reply was streaming joins mid-reply. The reply's text in the
    database is a few seconds old (REPLY_SAVE_INTERVAL_S): the message they are sent is as new as the last
    delta, with its seq, so the widget and the console go on from the next delta instead of freezing."""
    settings.REPLY_SAVE_INTERVAL_S = 5  # the database's copy lags far behind the deltas
    text = " ".join(f"w{i}" for i in range(150))
    fake_ollama.script(Reply(content=text, per_token=0.03))
    conversation = await aio.db_call(conversation_factory)
    question = await aio.db_call(customer_message_factory, conversation)
    agent = await aio.db_call(agent_create, "mid-reply-agent")
    thread, _ = reply_generate_in_background(question.pk)
    try:
        await asyncio.sleep(1)  # some 30 words sent, none of them saved yet
        customer, history = await chat(conversation.token)
        console, _ = await open_console(agent)
        await console.send({"type": "open", "conversation_id": conversation.pk})
        opened = await console.until("conversation")
        for socket, messages in ((customer, history["messages"]), (console, opened["messages"])):
            [reply] = [m for m in messages if m["role"] == "bot"]
            assert reply["status"] == "streaming" and reply["seq"] >= 1 and text.startswith(reply["content"]), reply
            shown, grew = await _continued(socket, reply)
            assert shown.strip() == text and grew
    finally:
        await asyncio.to_thread(thread.join, 30)
