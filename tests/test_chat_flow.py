"""A customer's message, end to end: websocket -> service -> reply task -> fake Ollama -> channel layer -> socket.

Runs in whichever configuration the environment gives: with PostgreSQL and
Redis, replies come from a real prefork Celery worker in another process; in
the embedded pass, from in-process worker threads on SQLite and the
in-memory channel layer.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from conversations import notices
from conversations.models import Conversation, LLMCall, Message
from conversations.services.identity import conversation_create
from helpdesk.runtime import aio
from tests.fake_ollama import FakeOllama, Reply
from tests.processes import children
from tests.support.stack import celery_worker_idle

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "您好！Your order #1042 left our warehouse this morning and should arrive in 2 days."
REASONING = "SECRET-REASONING: the customer asks about order 1042; check shipping."


async def new_conversation() -> Conversation:
    return await aio.db_call(conversation_create)


async def stored(model: Any, **filters: Any) -> Any:
    return await aio.db_call(lambda: model.objects.get(**filters))


async def converse_and_check(chat: Any, fake: FakeOllama) -> None:
    fake.script(Reply(content=ANSWER, thinking=REASONING, ttft=0.05, per_token=0.01))
    conversation = await new_conversation()
    client, history = await chat(conversation.token)
    assert history == {
        "type": "history",
        "conversation": {"status": "bot"},
        "messages": [],
        "limits": {"message_max_chars": 4000},
        "prechat_form": False,
    }

    await client.send({"type": "message", "text": "我的订单 1042 到哪了?", "client_id": "m-1"})
    echo = await client.until("message")
    assert echo["message"]["role"] == "customer" and echo["message"]["client_id"] == "m-1"
    done = await client.until("done")
    await client.close()

    # Order: echo first, then deltas numbered from 0 without gaps, then done.
    types = [f["type"] for f in client.frames]
    assert types.index("message") < types.index("delta") < types.index("done")
    deltas = [f for f in client.frames if f["type"] == "delta"]
    assert [d["seq"] for d in deltas] == list(range(len(deltas)))
    assert {d["message_id"] for d in deltas} == {done["message"]["id"]}
    assert "".join(d["text"] for d in deltas) == ANSWER
    assert done["message"]["content"] == ANSWER and done["message"]["status"] == "complete"
    # Coalescing: fewer frames than the fake's tokens.
    assert len(deltas) < len(fake.chat_requests()[-1].body["messages"][-1]["content"]) + len(ANSWER.split())
    # The reasoning reached the database, never the socket.
    assert all("SECRET-REASONING" not in str(frame) for frame in client.frames)
    reply = await stored(Message, pk=done["message"]["id"])
    assert reply.reasoning == REASONING
    assert reply.status == Message.Status.COMPLETE and reply.content == ANSWER
    assert reply.model_name == "deepseek-r1:7b" and reply.ollama_host == fake.url
    assert reply.ttft_ms is not None and reply.ttft_ms > 0 and reply.total_ms >= reply.ttft_ms
    assert reply.prompt_tokens == 42 and reply.reply_tokens and reply.done_reason == "stop"
    question = await stored(Message, pk=echo["message"]["id"])
    assert question.content == "我的订单 1042 到哪了?" and reply.reply_to_id == question.pk

    async def logged() -> LLMCall:
        for _ in range(200):
            calls = await aio.db_call(lambda: list(LLMCall.objects.filter(message_id=reply.pk)))
            if calls:
                return calls[0]
            await asyncio.sleep(0.05)
        raise AssertionError("log_turn did not record the call")

    call = await logged()
    assert call.outcome == "ok" and call.reply_tokens == reply.reply_tokens


@pytest.mark.production
async def test_reply_streams_from_a_real_celery_worker(chat, fake_ollama_server, celery_worker_process) -> None:
    fake_ollama_server.reset()
    await converse_and_check(chat, fake_ollama_server)


@pytest.mark.embedded
async def test_reply_streams_in_embedded_mode(chat, fake_ollama) -> None:
    await converse_and_check(chat, fake_ollama)


async def test_history_survives_a_reconnect(chat, fake_ollama, reply_runner) -> None:
    fake_ollama.script(Reply(content="First answer."))
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "first question", "client_id": "h-1"})
    await client.until("done")
    await client.close()
    again, history = await chat(conversation.token)
    await again.close()
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("customer", "first question"),
        ("bot", "First answer."),
    ]


async def test_a_resend_is_stored_once_and_answered_once(chat, fake_ollama, reply_runner) -> None:
    fake_ollama.script(Reply(content="Only once."))
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    frame = {"type": "message", "text": "hello?", "client_id": "dup-1"}
    await client.send(frame)
    first = await client.until("message")
    await client.until("done")
    await client.send(frame)
    second = await client.until("message")
    await client.close()
    assert first["message"]["id"] == second["message"]["id"]
    count = await aio.db_call(lambda: conversation.messages.filter(role="customer").count())
    assert count == 1
    assert len(fake_ollama.chat_requests()) == 1


FAILURES = {
    "refused": (None, notices.UNAVAILABLE_NOTICE),
    "model_missing": (Reply(status=404, error="model 'deepseek-r1:7b' not found"), notices.UNAVAILABLE_NOTICE),
    "busy_503": (Reply(status=503, error="server busy"), notices.UNAVAILABLE_NOTICE),
    "error_line": (Reply(content="Partial answer then", error_after_tokens=2), notices.INTERRUPTED_NOTICE),
    "dropped": (Reply(content="Partial answer then", drop_after_tokens=2), notices.INTERRUPTED_NOTICE),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_ollama_failure_tells_the_customer_and_loses_nothing(
    chat, fake_ollama_server, fake_ollama, reply_runner, failure
) -> None:
    script, notice = FAILURES[failure]
    if script:
        fake_ollama.script(script)
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    if failure == "refused":
        with fake_ollama_server.refusing_connections():
            await client.send({"type": "message", "text": "anyone there?", "client_id": "f-1"})
            done = await client.until("done")
    else:
        await client.send({"type": "message", "text": "anyone there?", "client_id": "f-1"})
        done = await client.until("done")
    system = await client.until("message")
    await client.close()
    assert done["message"]["status"] == "failed"
    assert system["message"]["role"] == "system" and system["message"]["content"] == notice
    if notice == notices.INTERRUPTED_NOTICE:
        assert done["message"]["content"] == "Partial answer"
    question = await stored(Message, conversation=conversation, role="customer")
    assert question.content == "anyone there?"
    reply = await stored(Message, conversation=conversation, role="bot")
    assert reply.status == Message.Status.FAILED and reply.error


async def test_stop_cancels_the_reply_and_keeps_the_partial_text(chat, fake_ollama, reply_runner) -> None:
    fake_ollama.script(Reply(content=" ".join(f"w{i}" for i in range(300)), per_token=0.02))
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "tell me everything", "client_id": "s-1"})
    await client.until("delta")
    await client.send({"type": "stop"})
    done = await client.until("done")
    await client.close()
    assert done["message"]["status"] == "cancelled"
    assert done["message"]["content"].startswith("w0") and len(done["message"]["content"].split()) < 300
    reply = await stored(Message, pk=done["message"]["id"])
    assert reply.status == Message.Status.CANCELLED and reply.content == done["message"]["content"]
    for _ in range(50):
        if fake_ollama.chat_requests()[-1].closed_by_client:
            break
        await asyncio.sleep(0.05)
    assert fake_ollama.chat_requests()[-1].closed_by_client, "Ollama's stream was not closed"


async def test_stop_while_the_model_is_still_reasoning_cancels_before_any_text(
    chat, fake_ollama, reply_runner
) -> None:
    # The stop flag is read once per coalescing interval, not per chunk: reasoning chunks must count too,
    # or a stop during a long think would wait for the first visible word.
    fake_ollama.script(Reply(thinking=" ".join(f"t{i}" for i in range(300)), content="never shown", per_token=0.02))
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "think hard", "client_id": "s-1"})
    await client.until("typing", who="bot", active=True)
    await asyncio.sleep(0.3)
    await client.send({"type": "stop"})
    done = await client.until("done")
    await client.close()
    assert done["message"]["status"] == "cancelled" and done["message"]["content"] == ""
    assert not any(f["type"] == "delta" for f in client.frames)
    reply = await stored(Message, pk=done["message"]["id"])
    assert reply.status == Message.Status.CANCELLED and reply.reasoning.startswith("t0")
    assert len(reply.reasoning.split()) < 300
    for _ in range(50):
        if fake_ollama.chat_requests()[-1].closed_by_client:
            break
        await asyncio.sleep(0.05)
    assert fake_ollama.chat_requests()[-1].closed_by_client, "Ollama's stream was not closed"


async def test_request_human_stops_the_bot_answering(chat, fake_ollama, reply_runner) -> None:
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "request_human"})
    status = await client.until("status")
    notice = await client.until("message")
    await client.send({"type": "message", "text": "are you a person?", "client_id": "r-1"})
    await client.until("message", timeout=10)
    await asyncio.sleep(0.5)
    await client.close()
    assert status["status"] == "waiting_human" and status["reason"] == "customer_request"
    assert notice["message"]["role"] == "system"
    assert not any(f["type"] in ("delta", "done") for f in client.frames)
    assert fake_ollama.chat_requests() == []


@pytest.mark.production
async def test_a_worker_killed_mid_reply_is_redelivered_and_the_reply_completes(
    chat, fake_ollama_server, celery_worker_process
) -> None:
    fake_ollama_server.reset()
    text = " ".join(f"t{i}" for i in range(150))
    fake_ollama_server.script(Reply(content=text, per_token=0.04), Reply(content=text, per_token=0.005))
    conversation = await new_conversation()
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "long answer please", "client_id": "k-1"})
    await client.until("delta")

    async def saved_text() -> str:
        """The reply's text as stored while it streams (every REPLY_SAVE_INTERVAL_S)."""
        for _ in range(400):
            content = await aio.db_call(
                lambda: conversation.messages.filter(role="bot").values_list("content", flat=True).first())
            if content:
                return content
            await asyncio.sleep(0.02)
        raise AssertionError("the partial text was not saved while the reply streamed")

    partial = await saved_text()
    assert text.startswith(partial) and len(partial) < len(text)
    for child in children(celery_worker_process.pid):
        os.kill(child, signal.SIGKILL)
    done = await client.until("done", timeout=60)
    await client.close()
    assert done["message"]["status"] == "complete" and done["message"]["content"] == text
    deltas = [f for f in client.frames if f["type"] == "delta"]
    restarts = [i for i, f in enumerate(deltas) if f["seq"] == 0]
    assert len(restarts) == 2, "the redelivered task streams the reply again from seq 0"
    # From its restart the text is whole, once: what the widget shows, replacing the partial text.
    assert "".join(f["text"] for f in deltas[restarts[1]:]) == text
    replies = await aio.db_call(lambda: list(conversation.messages.filter(role="bot")))
    assert len(replies) == 1 and replies[0].content == text and replies[0].attempts == 2
    # The redelivered task and its bookkeeping may still be writing: let them finish before the
    # test database is flushed (a flush racing a worker's transaction deadlocks).
    await asyncio.to_thread(celery_worker_idle)
