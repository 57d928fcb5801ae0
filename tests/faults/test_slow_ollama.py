"""A slow Ollama under the production stack (`manage.py serve`: Daphne, Celery workers, beat), with several
conversations at once: a node that takes too long for its first token, and one that then writes a token a second.

Issue 17 asks for a first token after 60 s and 1 token/s; here the timeouts are small to see it in seconds
(OLLAMA_FIRST_CHUNK_TIMEOUT_S 3 s against a first token after 6 s; REPLY_MAX_DURATION_S 8 s against a token a
second). What must hold: each reply ends as configured, failed, with what it had written kept; each customer is
told clearly, in their language, that a colleague will answer; each conversation waits for a person (reason
`model_error`); nothing is left `streaming`; and the workers are free again: the next customer is answered.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import uses_postgres
from tests.support.faults import FaultStack, fault_stack
from tests.support.sockets import frames_until

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]

FIRST_CHUNK_TIMEOUT_S = 3
MAX_DURATION_S = 8
QUESTIONS = ["Where is my parcel?", "Can I pay by invoice?", "我的订单什么时候发货？", "可以开发票吗？"]
LONG_ANSWER = " ".join(f"word{i}" for i in range(60))


@pytest.fixture(scope="module")
def stack(fake_ollama_server: FakeOllama, django_db_blocker: Any) -> Iterator[FaultStack]:
    """`manage.py serve` in production mode on its own PostgreSQL database and its own Redis server, with two
    generation slots for four customers at once."""
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    with fault_stack(
        "slowollama", ollama_url=fake_ollama_server.url,
        CELERY_GENERATION_CONCURRENCY="2", HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false",
        OLLAMA_FIRST_CHUNK_TIMEOUT_S=str(FIRST_CHUNK_TIMEOUT_S), REPLY_MAX_DURATION_S=str(MAX_DURATION_S),
        # The one node stays in rotation, so that the next customer shows the workers free (taking a failing
        # node out is helpdesk/tests/test_ollama.py's).
        OLLAMA_NODE_MAX_FAILURES="100",
    ) as stack:
        yield stack


def converse_all(stack: FaultStack, questions: list[str]) -> list[tuple[list[dict], float]]:
    """Each question from a customer of its own, all at once; each customer's frames until the conversation went to
    a person with a notice (or the reply completed), and how long that took."""
    import websockets

    async def customer(index: int, question: str) -> tuple[list[dict], float]:
        created = stack.conversation()
        frames: list[dict] = []
        async with websockets.connect(stack.websocket_url(created["websocket"]),
                                      additional_headers={"Origin": stack.url}) as ws:
            await frames_until(ws, {"history"}, frames)
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "message", "text": question, "client_id": f"s-{index}"}))
            done = await frames_until(ws, {"done"}, frames, timeout=120)
            if done["message"]["status"] != "complete":
                while not ({"status"} <= {f["type"] for f in frames}
                           and any(f["type"] == "message" and f["message"]["role"] == "system" for f in frames)):
                    await frames_until(ws, {"status", "message"}, frames, timeout=30)
            return frames, time.monotonic() - sent

    async def everyone() -> list[tuple[list[dict], float]]:
        return await asyncio.gather(*(customer(i, q) for i, q in enumerate(questions)))

    return asyncio.run(everyone())


def notice_for(question: str, notice: str) -> str:
    from conversations.notices import notice_in
    from helpdesk.llm.text import language_of

    return notice_in(language_of(question), notice)


def assert_handed_on_with_notice(frames: list[dict], question: str, notice: str) -> tuple[dict, str]:
    """The reply ended failed, the conversation went to a person for `model_error`, and the customer read `notice`
    in the language they wrote in. Returns the failed reply and the notice as the customer read it."""
    [done] = [f for f in frames if f["type"] == "done"]
    assert done["message"]["status"] == "failed", done
    [status] = [f for f in frames if f["type"] == "status"]
    assert (status["status"], status.get("reason")) == ("waiting_human", "model_error"), status
    notices = [f["message"]["content"] for f in frames if f["type"] == "message" and f["message"]["role"] == "system"]
    assert notices == [notice_for(question, notice)], notices
    return done["message"], notices[0]


def assert_nothing_streaming_and_next_customer_answered(stack: FaultStack, fake_ollama_server: FakeOllama) -> str:
    assert stack.query("SELECT count(*) FROM conversations_message WHERE status = 'streaming'") == [(0,)]
    fake_ollama_server.script(Reply(content="Yes, we ship worldwide."), Reply(content="Yes, we ship worldwide."))
    answered = converse_all(stack, ["Do you ship abroad?", "Do you ship to Canada?"])
    for frames, _ in answered:
        [done] = [f for f in frames if f["type"] == "done"]
        assert (done["message"]["status"], done["message"]["content"]) == ("complete", "Yes, we ship worldwide.")
    return "the next two customers were answered at once: " + ", ".join(f"{took:.1f} s" for _, took in answered)


def test_no_first_token_in_time_fails_each_reply_over_clearly_and_hands_it_on(
    stack: FaultStack, fake_ollama_server: FakeOllama
) -> None:
    from conversations.notices import UNAVAILABLE_NOTICE

    fake_ollama_server.reset()
    fake_ollama_server.script(*[Reply(content=LONG_ANSWER, ttft=FIRST_CHUNK_TIMEOUT_S * 2) for _ in QUESTIONS])
    seen = converse_all(stack, QUESTIONS)
    print(f"\nfirst token after {FIRST_CHUNK_TIMEOUT_S * 2} s, OLLAMA_FIRST_CHUNK_TIMEOUT_S={FIRST_CHUNK_TIMEOUT_S}, "
          f"{len(QUESTIONS)} customers on 2 generation slots:")
    for question, (frames, took) in zip(QUESTIONS, seen, strict=True):
        reply, notice = assert_handed_on_with_notice(frames, question, UNAVAILABLE_NOTICE)
        assert reply["content"] == "" and not [f for f in frames if f["type"] == "delta"]
        thinking = any(f["type"] == "typing" and f["who"] == "bot" and f["active"] for f in frames)
        assert thinking, "the customer saw the bot thinking while it waited"
        print(f"  {question!r}: the assistant thinking, then after {took:.1f} s: {notice!r} (waiting for a colleague)")
    print("  " + assert_nothing_streaming_and_next_customer_answered(stack, fake_ollama_server))


def test_a_reply_written_too_slowly_is_stopped_at_its_deadline_with_its_text_kept_and_handed_on(
    stack: FaultStack, fake_ollama_server: FakeOllama
) -> None:
    from conversations.notices import INTERRUPTED_NOTICE

    fake_ollama_server.reset()
    fake_ollama_server.script(*[Reply(content=LONG_ANSWER, ttft=0.2, per_token=1.0) for _ in QUESTIONS])
    seen = converse_all(stack, QUESTIONS)
    print(f"\na token a second, REPLY_MAX_DURATION_S={MAX_DURATION_S}, {len(QUESTIONS)} customers on 2 generation "
          f"slots:")
    for question, (frames, took) in zip(QUESTIONS, seen, strict=True):
        reply, notice = assert_handed_on_with_notice(frames, question, INTERRUPTED_NOTICE)
        shown = "".join(f["text"] for f in frames if f["type"] == "delta")
        assert reply["content"] and LONG_ANSWER.startswith(reply["content"]) and reply["content"] != LONG_ANSWER
        assert shown.strip() == reply["content"], "the text shown is the text kept"
        assert took < MAX_DURATION_S * 2 + 30, "stopped at the deadline, not after the whole reply"
        print(f"  {question!r}: {reply['content']!r} (marked interrupted), then after {took:.1f} s: {notice!r}")
    rows = stack.query("SELECT status, error FROM conversations_message WHERE role = 'bot' AND error LIKE %s",
                       ("%REPLY_MAX_DURATION_S%",))
    assert len(rows) == len(QUESTIONS) and {status for status, _ in rows} == {"failed"}, rows
    print("  " + assert_nothing_streaming_and_next_customer_answered(stack, fake_ollama_server))
