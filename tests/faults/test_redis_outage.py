"""Redis goes away under the production stack (`manage.py serve`: Daphne, Celery workers, beat): unreachable for
30 s (a TCP proxy of the test's own in front of a Redis server of the test's own refuses every connection), and
restarted (stopped and started again, its data lost: it saves nothing).

What must hold, with idle customer sockets open, a reply streaming and a customer sending:
- Daphne stays up (/livez) and no client gets a traceback or a 1011: a socket is kept, or closed with a code the
  widget reconnects on; after Redis returns every customer gets the history and can chat again.
- The reply streaming at the cut ends sane: complete in the database (or failed and handed on), the customer's
  history shows the whole stored text, and nothing stays `streaming`.
- Every message a customer sends during the outage is stored exactly once (and answered, or handed to a person
  after UNANSWERED_TIMEOUT_S), or refused with `busy` and `retry_after`, which the widget resends (same client_id:
  stored once). A `stop` and a `request_human` sent meanwhile are done, or refused visibly: never silently lost.
- An app's event stream is told (`error` busy) and ends, and its client resumes with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama, Reply
from tests.support.appclient import EventStream, call
from tests.support.environment import uses_postgres
from tests.support.faults import QUICK_RECOVERY, FaultProxy, FaultStack, RedisServer, wait_for
from tests.support.serve import own_database, serve_env
from tests.support.sockets import conversation_post

pytestmark = [pytest.mark.production, pytest.mark.timeout(240)]

OUTAGE_S = 30
# No digits: a number the sources do not back would hand the conversation on (fact verification).
LONG_ANSWER = " ".join(["your parcel travels on"] * 30)
# Close codes a widget reconnects on by itself (static/widget.js: all but 4403, 4404 and 4429).
RECONNECTS_ON = {1000, 1001, 1006, 4503}


class Stack(FaultStack):
    proxy: FaultProxy


@pytest.fixture(scope="module")
def stack(fake_ollama_server: FakeOllama) -> Iterator[Stack]:
    """`manage.py serve` in production mode on its own PostgreSQL database, and on its own Redis server reached
    through a fault proxy (cut: the port refuses, as a Redis that is down)."""
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    redis = RedisServer()
    redis.start()
    proxy = FaultProxy(("127.0.0.1", redis.port))
    try:
        with own_database("redisfault") as database:
            env = serve_env(
                database_url=database.url, redis_url=f"redis://127.0.0.1:{proxy.port}/0",
                ollama_url=fake_ollama_server.url,
                CELERY_GENERATION_CONCURRENCY="2", HANDOFF_THRESHOLD="0", RATE_LIMITS_ENABLED="false",
                # 20 s: the first reply after the outage, on a loaded machine, has taken over 10 s to begin, and
                # the sweep then handed "hello after the outage" on as unanswered (CI, 2026-12-05, load from other
                # runs on the same two cores); the messages held during the outage are still handed on in time.
                DATABASE_BUSY_RETRY_AFTER_S="1", **{**QUICK_RECOVERY, "UNANSWERED_TIMEOUT_S": "20"},
            )
            with Stack(env, redis, database.dsn, keep_log_as="redisfault-stack.log") as stack:
                stack.proxy = proxy
                stack.migrate()
                stack.start()
                wait_for(lambda: stack.workers("generation"), timeout=60)
                # Until a reply comes: the workers consume (on a loaded machine they take a while to start).
                assert asyncio.run(chat(Customer(stack, "warm-up"), "hello", "warm-1")) == Reply().content
                yield stack
    finally:
        proxy.close()
        redis.stop()


class Customer:
    """One customer's socket on a conversation, every frame it gets read into `frames` as it comes."""

    def __init__(self, stack: Stack, name: str, created: dict[str, Any] | None = None) -> None:
        self.stack, self.name = stack, name
        self.created = created or stack.conversation()
        self.frames: list[dict] = []
        self.closes: list[int | None] = []
        self.ws: Any = None
        self.reader: asyncio.Task | None = None

    async def connect(self) -> dict:
        """Open the socket (again) and return its history frame."""
        import websockets

        self.ws = await websockets.connect(self.stack.websocket_url(self.created["websocket"]),
                                           additional_headers={"Origin": self.stack.url})
        start = len(self.frames)
        self.reader = asyncio.create_task(self._read(self.ws))
        return await self.wait(lambda f: f["type"] == "history", start)

    async def _read(self, ws: Any) -> None:
        import websockets

        try:
            async for raw in ws:
                self.frames.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        self.closes.append(ws.close_code)

    def open(self) -> bool:
        return self.reader is not None and not self.reader.done()

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def wait(self, match: Any, start: int = 0, timeout: float = 60, or_closed: bool = False) -> dict | None:
        """The first frame from index `start` on that `match`es (None once the socket is closed, with `or_closed`);
        fails after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.frames[start:]:
                if match(frame):
                    return frame
            if or_closed and not self.open():
                return None
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no such frame in {timeout} s; got {self.summary()}")
            await asyncio.sleep(0.05)

    async def connect_refused(self, seen: list[str]) -> None:
        """Open a socket that is expected to be refused; what came (an error frame, the close code, or the HTTP
        answer to the handshake) is appended to `seen`."""
        import websockets

        try:
            async with websockets.connect(self.stack.websocket_url(self.created["websocket"]),
                                          additional_headers={"Origin": self.stack.url}) as ws:
                frames: list[dict] = []
                try:
                    async for raw in ws:
                        frames.append(json.loads(raw))
                except websockets.ConnectionClosed:
                    pass
                seen.append(" ".join(f"{f['type']}({f.get('code', '')})" for f in frames)
                            + f" close {ws.close_code}")
        except websockets.InvalidStatus as exc:
            body = exc.response.body or b""
            assert b"Traceback" not in body, body
            seen.append(f"HTTP {exc.response.status_code}")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader

    def summary(self) -> str:
        """What the customer saw, frame by frame (a run of deltas as one)."""
        out: list[str] = []
        for frame in self.frames:
            kind = frame["type"]
            if kind == "delta":
                if out and out[-1].startswith("delta"):
                    count = int(out[-1].split("×")[1]) + 1 if "×" in out[-1] else 2
                    out[-1] = f"delta×{count}"
                else:
                    out.append("delta")
            elif kind == "history":
                out.append(f"history({len(frame['messages'])}, {frame['conversation']['status']})")
            elif kind in ("message", "done"):
                message = frame["message"]
                out.append(f"{kind}({message['role']}, {message.get('status', '')}, {message['content'][:24]!r})")
            elif kind == "error":
                out.append(f"error({frame['code']}, {frame.get('client_id', '')}, retry {frame.get('retry_after')})")
            elif kind == "status":
                out.append(f"status({frame['status']}, {frame.get('reason', '')})")
            else:
                out.append(kind)
        return " ".join(out) + (f" | closed {self.closes}" if self.closes else "")


async def wait_until_closed(customer: Customer, timeout: float = 10) -> None:
    """Until the server closes the customer's socket, or `timeout` s (a socket left open is checked later)."""
    assert customer.reader is not None
    await asyncio.wait([customer.reader], timeout=timeout)


def stored(stack: Stack, client_id: str) -> int:
    return stack.query("SELECT count(*) FROM conversations_message WHERE client_id = %s", (client_id,))[0][0]


def conversation_row(stack: Stack, customer: Customer) -> tuple[str, str]:
    [row] = stack.query("SELECT status, handoff_reason FROM conversations_conversation WHERE token = %s",
                        (customer.created["token"],))
    return row


def bot_replies(stack: Stack, customer: Customer) -> list[tuple[str, str]]:
    return stack.query(
        "SELECT m.status, m.content FROM conversations_message m JOIN conversations_conversation c ON "
        "c.id = m.conversation_id WHERE c.token = %s AND m.role = 'bot' ORDER BY m.id", (customer.created["token"],))


async def resend_until_stored(customer: Customer, text: str, client_id: str, tries: int = 30) -> int:
    """What the widget does with a message it holds: send it (same client_id) until the server echoes it back,
    waiting retry_after after each `busy`; reconnecting and sending again when the socket was closed meanwhile.
    Returns the index from which the reply can be seen: the first send's, or the history frame's of the socket
    reopened meanwhile (which may hold the reply already)."""
    since = len(customer.frames)
    for _ in range(tries):
        if not customer.open():
            try:
                since = len(customer.frames)
                await customer.connect()
            except Exception:
                await asyncio.sleep(1)
                continue
        start = len(customer.frames)
        await customer.send(type="message", text=text, client_id=client_id)
        answer = await customer.wait(
            lambda f: (f["type"] == "message" and f["message"].get("client_id") == client_id)
            or (f["type"] == "error" and f.get("client_id") == client_id), start, timeout=30, or_closed=True)
        if answer is None:
            continue
        if answer["type"] == "message":
            return since
        assert answer["code"] == "busy", answer
        await asyncio.sleep(answer.get("retry_after") or 1)
    raise AssertionError(f"{client_id} never stored")


def no_traceback_reached_a_client(customers: list[Customer]) -> None:
    for customer in customers:
        for frame in customer.frames:
            assert "Traceback" not in json.dumps(frame), frame
        assert all(code in RECONNECTS_ON for code in customer.closes), (customer.name, customer.closes)


async def reconnect(customer: Customer, timeout: float = 90) -> dict:
    """The widget's reconnecting: try again (backing off) until the socket opens with its history."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await customer.connect()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def chat(customer: Customer, text: str, client_id: str) -> str:
    """Send a message on the customer's socket (reopened if it was closed) and return the reply as the customer
    sees it: from its `done`, or from the history a reconnect brings when the socket was closed meanwhile."""

    def answered(frame: dict) -> bool:
        return frame["type"] == "done" or (frame["type"] == "history" and history_reply(frame, client_id) is not None)

    for _ in range(5):
        after = await resend_until_stored(customer, text, client_id)
        frame = await customer.wait(answered, after, timeout=60, or_closed=True)
        if frame is not None:
            return frame["message"]["content"] if frame["type"] == "done" else history_reply(frame, client_id)
        await reconnect(customer)
        frame = await customer.wait(answered, len(customer.frames) - 1, timeout=60, or_closed=True)
        if frame is not None:
            return frame["message"]["content"] if frame["type"] == "done" else history_reply(frame, client_id)
    raise AssertionError(f"{customer.name}: {client_id} never answered; saw {customer.summary()}")


def history_reply(history: dict, client_id: str) -> str | None:
    """The complete bot reply after the customer's message `client_id` in a history frame, if there is one."""
    messages = history["messages"]
    mine = [i for i, m in enumerate(messages) if m.get("client_id") == client_id]
    replies = [m for m in messages[mine[0] + 1:] if m["role"] == "bot" and m["status"] == "complete"] if mine else []
    return replies[0]["content"] if replies else None


def test_thirty_seconds_without_redis_loses_no_message_and_every_socket_recovers(
    stack: Stack, fake_ollama_server: FakeOllama
) -> None:
    fake_ollama_server.reset()
    fake_ollama_server.script(Reply(content=LONG_ANSWER, per_token=0.1), Reply(content=LONG_ANSWER, per_token=0.1))
    idle = [Customer(stack, f"idle-{i}") for i in range(3)]
    streaming, stopping = Customer(stack, "streaming"), Customer(stack, "stopping")
    sending, asking = Customer(stack, "sending"), Customer(stack, "asking")
    everyone = [*idle, streaming, stopping, sending, asking]
    texts = {f"s-{i}": f"written while Redis is away, number {i}" for i in range(1, 4)}
    new_visitor: list[int] = []
    sent_during: dict[str, bool] = {}  # what was sent on an open socket during the outage (else the widget held it)
    during: list[str] = []  # what a widget reconnecting during the outage got

    async def scenario() -> None:
        for customer in everyone:
            await customer.connect()
        await streaming.send(type="message", text="Tell me everything", client_id="r-1")
        await stopping.send(type="message", text="Tell me everything too", client_id="t-1")
        for customer in (streaming, stopping):
            await customer.wait(lambda f: f["type"] == "delta")

        stack.proxy.cut()  # Redis unreachable: every connection dropped, new ones refused
        cut_at = time.monotonic()
        for customer, frame in ((stopping, {"type": "stop"}), (asking, {"type": "request_human"})):
            sent_during[frame["type"]] = customer.open()
            if customer.open():
                await customer.send(**frame)
        for client_id, text in texts.items():
            sent_during[client_id] = sending.open()
            if sent_during[client_id]:
                await sending.send(type="message", text=text, client_id=client_id)
            await asyncio.sleep(4)
        # A widget reconnecting meanwhile: told "busy" and closed with 4503 (it tries again), not an HTTP 500.
        await wait_until_closed(idle[0])
        await idle[0].connect_refused(during)
        while time.monotonic() - cut_at < OUTAGE_S:
            assert await asyncio.to_thread(stack.live), "Daphne answers /livez while Redis is away"
            await asyncio.sleep(1)
        # A new visitor meanwhile: served, or told to come back (503 with Retry-After), never a 500.
        status, headers, body = await asyncio.to_thread(conversation_post, stack.url)
        new_visitor.append(status)
        assert status == 201 or (status == 503 and headers.get("Retry-After")), (status, body[:300])
        stack.proxy.restore()

        # Back: every socket still open, or reopened as the widget does, and the held messages resent.
        for customer in everyone:
            if not customer.open():
                await reconnect(customer)
        for client_id, text in texts.items():
            await resend_until_stored(sending, text, client_id)
        for customer in idle:
            await chat(customer, "hello after the outage", f"{customer.name}-after")

    asyncio.run(scenario())
    for customer in everyone:
        print(f"\n{customer.name}: {customer.summary()}")
    print(f"sent on an open socket during the outage: {sent_during}; a new visitor got HTTP {new_visitor}; a widget "
          f"reconnecting during it got {during}")
    assert during == ["error(busy) close 4503"], during
    no_traceback_reached_a_client(everyone)
    assert stack.live() and stack.process.poll() is None
    # A reply stored during the outage: its task ends well too (the record of its model call is what is skipped).
    assert "generate_reply" not in "".join(line for line in stack.log().splitlines() if "raised unexpected" in line)

    # Every message sent (or held and resent) is stored once, and answered or handed to a person.
    for client_id in texts:
        assert stored(stack, client_id) == 1, client_id
    unanswered = ("SELECT count(*) FROM conversations_message m WHERE m.role = 'customer' AND m.client_id = %s "
                  "AND NOT EXISTS (SELECT 1 FROM conversations_message r WHERE r.reply_to_id >= m.id "
                  "AND r.conversation_id = m.conversation_id AND r.role = 'bot' AND r.status = 'complete')")
    wait_for(lambda: conversation_row(stack, sending)[0] == "waiting_human"
             or not any(stack.query(unanswered, (c,))[0][0] for c in texts), timeout=60)

    # The reply streaming at the cut: nothing stays `streaming`; complete, or failed and handed on.
    wait_for(lambda: all(status != "streaming" for status, _ in bot_replies(stack, streaming)), timeout=60)
    [*_, (status, content)] = bot_replies(stack, streaming)
    print(f"the reply streaming at the cut: {status}, {len(content.split())} words; conversation "
          f"{conversation_row(stack, streaming)}; stopped one: {bot_replies(stack, stopping)[-1][0]}, "
          f"{conversation_row(stack, stopping)}")
    assert status == "complete" or conversation_row(stack, streaming)[0] == "waiting_human", (status, content)

    again = Customer(stack, "streaming, reopened", streaming.created)
    shown = asyncio.run(reconnect(again))
    [*_, last_bot] = [m for m in shown["messages"] if m["role"] == "bot"]
    assert (last_bot["status"], last_bot["content"]) == (status, content), "the history shows the reply as stored"
    if status == "complete":
        assert content == LONG_ANSWER
    # And the screen of the customer who watched it stream ends on it too: its `done`, or a history after a
    # reconnect; never the partial text of a stream whose end was lost with Redis.
    [*_, last_seen] = [f for f in streaming.frames if f["type"] in ("done", "history")]
    seen = last_seen["message"] if last_seen["type"] == "done" else \
        [m for m in last_seen["messages"] if m["role"] == "bot"][-1]
    assert (seen["status"], seen["content"]) == (status, content), streaming.summary()

    # The stop and the request for a person: done, or refused where the customer sees it.
    def refused(customer: Customer, frame_type: str) -> bool:
        return any(f["type"] == "error" and f["code"] == "busy" and f.get("frame_type") == frame_type
                   for f in customer.frames)

    wait_for(lambda: all(status != "streaming" for status, _ in bot_replies(stack, stopping)), timeout=60)
    [*_, (stop_status, _)] = bot_replies(stack, stopping)
    # Sent on an open socket, but the server may have closed it (4503: "busy, reconnecting") before reading it.
    closed_first = {customer.name: not any(f["type"] == "error" and f.get("frame_type") for f in customer.frames)
                    and customer.closes[:1] == [4503] for customer in (stopping, asking)}
    print(f"stop: reply {stop_status}; request_human: conversation {conversation_row(stack, asking)}; socket closed "
          f"before either was answered: {closed_first}")
    if sent_during["stop"]:
        assert stop_status == "cancelled" or refused(stopping, "stop") or closed_first["stopping"], stopping.summary()
    if sent_during["request_human"]:
        assert conversation_row(stack, asking)[0] == "waiting_human" or refused(asking, "request_human") \
            or closed_first["asking"], asking.summary()


def test_a_redis_restart_under_idle_sockets_is_recovered_from(stack: Stack, fake_ollama_server: FakeOllama) -> None:
    fake_ollama_server.reset()
    idle = [Customer(stack, f"restart-{i}") for i in range(3)]

    async def scenario() -> list[dict]:
        for customer in idle:
            await customer.connect()
        stack.redis.stop()  # its data goes with it: it saves nothing
        stack.redis.start()
        return [await chat(customer, "are you there?", f"{customer.name}-1") for customer in idle]

    done = asyncio.run(scenario())
    for customer in idle:
        print(f"\n{customer.name}: {customer.summary()}")
    no_traceback_reached_a_client(idle)
    assert done == [Reply().content] * len(idle)
    assert stack.live()


def test_an_app_event_stream_ends_busy_on_a_redis_restart_and_resumes_with_what_it_missed(
    stack: Stack, fake_ollama_server: FakeOllama
) -> None:
    """The app channel's event stream lost its subscription with Redis as a socket does: without being told, its
    client would wait for ever for a reply published to nobody. It is told (`error` busy) and the stream ends; the
    client reconnects with its Last-Event-ID and gets the messages of the meantime from the database, each once."""
    fake_ollama_server.reset()
    key = stack.shell("from conversations.services.apps import app_create\n"
                      "print(app_create(name='redis-restart')[1])").split()[-1]
    token = call(stack.url, "POST", "/api/v1/app/conversations", key=key, body={}).body["token"]
    events = EventStream(stack.url, key, token)
    try:
        events.until("status")
        time.sleep(1)  # the web process's watch has looked at Redis once (it starts with its first listener)
        stack.redis.stop()  # its data and subscriptions go with it
        stack.redis.start()
        busy = events.until("error", timeout=30)
        assert busy.data["code"] == "busy" and busy.data["retry_after"] >= 1, busy
        assert events.next(timeout=10) is None, "the stream ended"
    finally:
        events.close()

    def send() -> Any:  # refused `busy` while the web process still counts Redis as away: resent, as apps do
        answer = call(stack.url, "POST", "/api/v1/app/messages", key=key, token=token,
                      body={"text": "are you there?", "client_id": "sse-restart-1"})
        return answer if answer.status in (200, 201) else None

    sent = wait_for(send, timeout=60, interval=1)
    resumed = EventStream(stack.url, key, token, last_event_id=busy.id)
    try:
        done = resumed.until("done", timeout=60)
    finally:
        resumed.close()
    print(f"event stream: {[e.event for e in events.events]} | resumed: {[e.event for e in resumed.events]}")
    assert done.data["message"]["content"] == Reply().content
    mine = [e for e in resumed.events if e.event == "message" and e.data["message"]["role"] == "customer"]
    assert [e.data["message"]["id"] for e in mine] == [sent.body["message"]["id"]], "the message of the meantime, once"
