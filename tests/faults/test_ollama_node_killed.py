"""An Ollama node dies under the production stack (`manage.py serve`: Daphne, Celery workers, beat) with two
nodes configured, each a fake Ollama HTTP server of the test's own: killed means its port stops listening and
every connection it holds is dropped, as when the process or its host dies.

What must hold:
- killed before the first token: the reply fails over to the other node and the customer gets it whole, once,
  with no notice and no handoff;
- killed mid-stream: the partial text stays on the customer's screen and in the database, followed by the
  clear "interrupted" notice, and the conversation waits for a person (reason `model_error`); nothing is left
  `streaming`; the next customer is served by the node that is left.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import uses_postgres
from tests.support.faults import FaultStack, fault_stack, wait_for
from tests.support.sockets import frames_until

pytestmark = [pytest.mark.production, pytest.mark.timeout(300)]

LONG_ANSWER = " ".join(f"part{i}" for i in range(120))
SHORT_ANSWER = "Orders leave our warehouse after payment is confirmed. 付款确认后订单即从仓库发出。"


class Nodes:
    """Two fake Ollama nodes; whichever the stack sends a chat to can be killed, and comes back afterwards."""

    def __init__(self) -> None:
        self.fakes = (FakeOllama().start(), FakeOllama().start())

    @property
    def hosts(self) -> str:
        return ",".join(fake.url for fake in self.fakes)

    def answering(self, reply: Reply) -> None:
        for fake in self.fakes:
            fake.reset()
            fake.state.default_reply = reply

    def serving_a_chat(self) -> tuple[FakeOllama, FakeOllama]:
        """(the node that received the chat, the other one), once one has."""
        victim = wait_for(lambda: next((f for f in self.fakes if f.chat_requests()), None), timeout=30, interval=0.05)
        return victim, next(f for f in self.fakes if f is not victim)

    def close(self) -> None:
        for fake in self.fakes:
            fake.stop()


@pytest.fixture(scope="module")
def nodes() -> Iterator[Nodes]:
    two = Nodes()
    try:
        yield two
    finally:
        two.close()


@pytest.fixture(scope="module")
def stack(nodes: Nodes) -> Iterator[FaultStack]:
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    with fault_stack("nodekill", ollama_url=nodes.hosts, HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false",
                     CELERY_GENERATION_CONCURRENCY="2", REPLY_SAVE_INTERVAL_S="0.3",
                     OLLAMA_FIRST_CHUNK_TIMEOUT_S="60") as stack:
        yield stack


def ask(stack: FaultStack, text: str, during: Any) -> tuple[list[dict], dict]:
    """A customer's question on a new conversation; `during(frames)` runs in a thread once it is sent. Returns the
    frames the customer saw and the conversation as the history frame of a fresh socket shows it afterwards."""
    import websockets

    created = stack.conversation()
    url, origin = stack.websocket_url(created["websocket"]), {"Origin": stack.url}
    frames: list[dict] = []

    async def converse() -> dict:
        async with websockets.connect(url, additional_headers=origin) as ws:
            await frames_until(ws, {"history"}, frames)
            await ws.send(json.dumps({"type": "message", "text": text, "client_id": "q-1"}))
            # The fault is made while the customer's socket goes on reading.
            await asyncio.gather(frames_until(ws, {"done"}, frames, timeout=90), asyncio.to_thread(during, frames))
            # A notice or a status change may follow the reply's end.
            try:
                while True:
                    frames.append(json.loads(await asyncio.wait_for(ws.recv(), 2)))
            except TimeoutError:
                pass
        async with websockets.connect(url, additional_headers=origin) as ws:
            return await frames_until(ws, {"history"}, [])

    history = asyncio.run(converse())
    return frames, history


def shown(frames: list[dict]) -> str:
    """What the customer saw, one line per frame kind."""
    deltas = "".join(f["text"] for f in frames if f["type"] == "delta")
    lines = [f"  streamed: {deltas[:60]!r}… ({len(deltas)} chars)"]
    for frame in frames:
        if frame["type"] == "done":
            lines.append(f"  done: status {frame['message']['status']}, {len(frame['message']['content'])} chars")
        elif frame["type"] == "message" and frame["message"]["role"] != "customer":
            lines.append(f"  {frame['message']['role']}: {frame['message']['content'][:100]!r}")
        elif frame["type"] == "status":
            lines.append(f"  status: {frame.get('status')}")
    return "\n".join(lines)


def test_a_node_killed_before_the_first_token_fails_over_and_the_customer_gets_the_whole_reply(
    stack: FaultStack, nodes: Nodes
) -> None:
    nodes.answering(Reply(content=SHORT_ANSWER, ttft=30))

    def kill_the_node_it_went_to(frames: list[dict]) -> None:
        victim, survivor = nodes.serving_a_chat()
        survivor.state.default_reply = Reply(content=SHORT_ANSWER)
        assert not any(f["type"] == "delta" for f in frames), "killed before the first token"
        with victim.refusing_connections():  # dead: its connections dropped, its port refusing
            wait_for(lambda: survivor.chat_requests(), timeout=30, interval=0.05)
            wait_for(lambda: "done" in [f["type"] for f in frames] or stack.query(
                "SELECT 1 FROM conversations_message WHERE role = 'bot' AND status = 'complete'"), 30)

    frames, history = ask(stack, "When does my order ship? 什么时候发货？", kill_the_node_it_went_to)
    print("\nkilled before the first token, the customer saw:\n" + shown(frames))
    [done] = [f for f in frames if f["type"] == "done"]
    assert (done["message"]["status"], done["message"]["content"]) == ("complete", SHORT_ANSWER)
    assert "".join(f["text"] for f in frames if f["type"] == "delta") == SHORT_ANSWER, "streamed once, whole"
    reasons = stack.query("SELECT handoff_reason FROM conversations_conversation WHERE status = 'waiting_human'")
    assert history["conversation"]["status"] == "bot", f"no handoff: {reasons} {history['messages']}"
    assert [m["role"] for m in history["messages"]] == ["customer", "bot"], "no notice"


def test_a_node_killed_mid_stream_keeps_the_partial_text_says_so_and_hands_the_conversation_on(
    stack: FaultStack, nodes: Nodes
) -> None:
    nodes.answering(Reply(content=LONG_ANSWER, per_token=0.1))
    partial: list[str] = []

    def kill_mid_stream(frames: list[dict]) -> None:
        victim, _ = nodes.serving_a_chat()
        # Some text on the customer's screen, and saved: then the node dies.
        saved = "SELECT content FROM conversations_message WHERE role = 'bot' AND status = 'streaming' " \
                "AND length(content) > 20"
        wait_for(lambda: stack.query(saved), timeout=30, interval=0.05)
        with victim.refusing_connections():
            wait_for(lambda: any(f["type"] == "done" for f in frames), timeout=60, interval=0.05)
        partial.append("".join(f["text"] for f in frames if f["type"] == "delta"))

    frames, history = ask(stack, "Tell me everything about shipping. 运费怎么算？", kill_mid_stream)
    print("\nkilled mid-stream, the customer saw:\n" + shown(frames))
    [done] = [f for f in frames if f["type"] == "done"]
    streamed = partial[0]
    assert streamed and LONG_ANSWER.startswith(streamed.strip()) and streamed.strip() != LONG_ANSWER
    assert done["message"]["status"] == "failed"
    assert LONG_ANSWER.startswith(done["message"]["content"]) and done["message"]["content"], "partial text kept"
    assert history["conversation"]["status"] == "waiting_human"
    bot = [m for m in history["messages"] if m["role"] == "bot"]
    assert [m["status"] for m in bot] == ["failed"] and bot[0]["content"] == done["message"]["content"]
    notice = history["messages"][-1]
    assert notice["role"] == "system" and notice["content"], "the clear message after the partial text"
    [(reason,)] = stack.query("SELECT handoff_reason FROM conversations_conversation WHERE status = 'waiting_human'")
    assert reason == "model_error"
    assert not stack.query("SELECT id FROM conversations_message WHERE status = 'streaming'"), "nothing streaming"

    # The next customer is served by the node that is left.
    nodes.answering(Reply(content=SHORT_ANSWER))
    frames, history = ask(stack, "And returns? 退货呢？", lambda frames: None)
    [done] = [f for f in frames if f["type"] == "done"]
    assert (done["message"]["status"], done["message"]["content"]) == ("complete", SHORT_ANSWER)
