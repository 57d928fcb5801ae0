"""The app channel over real HTTP (README "App channel"): a served stack (`manage.py serve`: Daphne, and in the
production pass Celery workers, PostgreSQL and a Redis of its own; embedded: SQLite, the in-memory layer) and the
fake Ollama. A mobile app creates a conversation, sends a message, reads the reply's deltas on the event stream,
reconnects with Last-Event-ID and gets what it missed once; keys, limits, bodies and the schema are checked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings

from tests.fake_ollama import FakeOllama, Reply
from tests.support.appclient import EventStream, call
from tests.support.faults import wait_for

pytestmark = pytest.mark.timeout(300)

IDENTITY_SECRET = "app-channel-identity-secret"
# No digits: a number no source backs would hand the conversation on.
ANSWER = "Thanks for asking! " + " ".join(f"word{chr(97 + i % 26)}" for i in range(40)) + " Anything else?"
QUEUE_BOUND = 64 * 1024


@pytest.fixture(scope="module")
def stack(fake_ollama_server: FakeOllama) -> Iterator[Any]:
    """A stack in this pass's mode: embedded (LiveServer, SQLite) or production (its own PostgreSQL and Redis)."""
    env = {"WIDGET_IDENTITY_SECRET": IDENTITY_SECRET, "RATE_LIMITS_ENABLED": "true",
           "APP_SSE_MAX_QUEUED_BYTES": str(QUEUE_BOUND), "APP_SSE_KEEPALIVE_S": "2"}
    if settings.EMBEDDED:
        from tests.browser import running_server

        with running_server(fake_ollama_server.url, env) as server:
            yield server
    else:
        from tests.support.faults import fault_stack

        with fault_stack("appapi", ollama_url=fake_ollama_server.url, **env) as served:
            yield served


def app_key(stack: Any, name: str, rate_limit: str = "") -> str:
    script = ("from conversations.services.apps import app_create\n"
              f"app, key = app_create(name={name!r}, rate_limit={rate_limit!r})\nprint(key)")
    return stack.shell(script).strip().splitlines()[-1]


@pytest.fixture(scope="module")
def key(stack: Any) -> str:
    return app_key(stack, "ios")


@pytest.fixture
def fake(fake_ollama_server: FakeOllama) -> Iterator[FakeOllama]:
    fake_ollama_server.reset()
    yield fake_ollama_server
    fake_ollama_server.reset()


def new_conversation(stack: Any, key: str, **body: Any) -> str:
    answer = call(stack.url, "POST", "/api/v1/app/conversations", key=key, body=body)
    assert answer.status == 201, answer.body
    return answer.body["token"]


def send(stack: Any, key: str, token: str, text: str, client_id: str) -> Any:
    return call(stack.url, "POST", "/api/v1/app/messages", key=key, token=token,
                body={"text": text, "client_id": client_id})


@contextmanager
def stream(stack: Any, key: str, token: str, last_event_id: str | None = None) -> Iterator[EventStream]:
    events = EventStream(stack.url, key, token, last_event_id)
    try:
        yield events
    finally:
        events.close()


def bot_reply(events: EventStream, timeout: float = 30) -> Any:
    """The next finished bot reply: `done` after a stream, or a `message` when it was answered whole (an FAQ entry,
    the cache, or declined: the demo knowledge base does not cover every question)."""
    deadline = time.monotonic() + timeout
    while True:
        event = events.next(max(deadline - time.monotonic(), 0.1))
        assert event is not None, "the stream ended"
        message = event.data.get("message") or {}
        if event.event in ("message", "done") and message.get("role") == "bot" and message["status"] != "streaming":
            return event


def test_create_send_and_stream_a_reply_then_a_resend_is_stored_once(stack: Any, key: str, fake: FakeOllama) -> None:
    fake.script(Reply(content=ANSWER, ttft=0.05, per_token=0.01))
    token = new_conversation(stack, key)
    with stream(stack, key, token) as events:
        assert events.status == 200
        assert events.until("status").data == {"type": "status", "status": "bot"}
        sent = send(stack, key, token, "How long does shipping take?", "a-1")
        assert sent.status == 201 and sent.body["message"]["client_id"] == "a-1"
        echo = events.until("message")
        assert echo.data["message"]["id"] == sent.body["message"]["id"]
        done = events.until("done")
    deltas = [e.data for e in events.events if e.event == "delta"]
    assert [d["seq"] for d in deltas] == list(range(len(deltas))) and deltas
    assert "".join(d["text"] for d in deltas) == ANSWER == done.data["message"]["content"]
    assert {d["message_id"] for d in deltas} == {done.data["message"]["id"]}
    assert done.data["message"]["status"] == "complete"
    carrying = [e.id for e in events.events if e.event in ("message", "delta", "done")]
    assert len(set(carrying)) == len(carrying)  # each one moves the client's state on

    again = send(stack, key, token, "How long does shipping take?", "a-1")
    assert again.status == 200 and again.body["message"]["id"] == sent.body["message"]["id"]
    listed = call(stack.url, "GET", "/api/v1/app/messages", key=key, token=token)
    assert listed.status == 200
    assert [(m["role"], m["content"]) for m in listed.body["messages"]] == [
        ("customer", "How long does shipping take?"), ("bot", ANSWER)]
    assert listed.body["next_cursor"] is None
    placeholder = "?" if settings.EMBEDDED else "%s"
    rows = stack.query(f"SELECT channel FROM conversations_conversation WHERE token = {placeholder}", (token,))
    assert rows == [("app:ios",)]


def test_messages_page_with_a_cursor(stack: Any, key: str, fake: FakeOllama) -> None:
    fake.script(*[Reply(content=f"Answer {chr(97 + i)}.") for i in range(3)])
    token = new_conversation(stack, key)
    with stream(stack, key, token) as events:
        for i in range(3):
            send(stack, key, token, f"question {chr(97 + i)}", f"p-{i}")
            bot_reply(events)
    whole = call(stack.url, "GET", "/api/v1/app/messages", key=key, token=token).body["messages"]
    assert [m["role"] for m in whole] == ["customer", "bot"] * 3
    assert [m["content"] for m in whole[::2]] == ["question a", "question b", "question c"]
    first = call(stack.url, "GET", "/api/v1/app/messages?limit=4", key=key, token=token).body
    older = call(stack.url, "GET", f"/api/v1/app/messages?limit=4&cursor={first['next_cursor']}", key=key,
                 token=token).body
    assert len(first["messages"]) == 4 and older["messages"] + first["messages"] == whole
    assert older["next_cursor"] is None
    bad = call(stack.url, "GET", "/api/v1/app/messages?cursor=nonsense", key=key, token=token)
    assert bad.status == 400 and bad.body["field"] == "cursor"


def test_a_reconnect_with_last_event_id_gets_what_it_missed_once(stack: Any, key: str, fake: FakeOllama) -> None:
    fake.script(Reply(content=ANSWER, ttft=0.05, per_token=0.08), Reply(content="The second answer."))
    token = new_conversation(stack, key)
    with stream(stack, key, token) as first:
        send(stack, key, token, "How long does shipping take to Oslo?", "r-1")
        first.until("message")
        first.until("delta")
        first.until("delta")
    seen = [e.data for e in first.events if e.event == "delta"]
    text = "".join(d["text"] for d in seen)
    time.sleep(0.5)  # deltas go out while nobody listens
    with stream(stack, key, token, first.last_id) as second:
        done = second.until("done")
    later = second.events
    assert later[0].event == "status"
    assert not [e for e in later if e.event == "message" and e.data["message"]["role"] == "customer"]
    reply_id, last_seq = done.data["message"]["id"], seen[-1]["seq"]
    for event in later[1:]:
        if event.event == "message":  # the reply so far, when deltas went out meanwhile: it replaces the text
            assert event.data["message"]["id"] == reply_id and event.data["message"]["seq"] > last_seq
            text, last_seq = event.data["message"]["content"], event.data["message"]["seq"]
        elif event.event == "delta":
            assert event.data["seq"] == last_seq + 1  # no delta twice, none skipped
            text, last_seq = text + event.data["text"], event.data["seq"]
    assert text == ANSWER == done.data["message"]["content"]

    # Up to date: nothing but the status again.
    with stream(stack, key, token, second.last_id) as third:
        assert third.until("status").event == "status"
        send(stack, key, token, "and another thing", "r-2")
        echo = third.until("message")
        bot_reply(third)
    assert len([e for e in third.events if e.event in ("message", "done")]) == 2
    assert echo.data["message"]["client_id"] == "r-2"

    # Missed while disconnected: a message and its whole reply, each once, no deltas.
    send(stack, key, token, "one more", "r-3")
    wait_for(lambda: len(call(stack.url, "GET", "/api/v1/app/messages", key=key, token=token).body["messages"]) == 6,
             timeout=30)
    bot = call(stack.url, "GET", "/api/v1/app/messages", key=key, token=token).body["messages"][-1]
    wait_for(lambda: call(stack.url, "GET", "/api/v1/app/messages", key=key, token=token)
             .body["messages"][-1]["status"] == "complete", timeout=30)
    with stream(stack, key, token, third.last_id) as fourth:
        fourth.until("status")
        bot_reply(fourth)
    kinds = [(e.event, e.data["message"]["role"], e.data["message"]["id"]) for e in fourth.events
             if e.event != "status"]
    assert kinds[0][:2] == ("message", "customer") and kinds[1][1:] == ("bot", bot["id"]) and len(kinds) == 2


def test_keys_limits_and_bodies_are_refused_clearly(stack: Any, key: str) -> None:
    unknown = call(stack.url, "POST", "/api/v1/app/conversations", key="hdk_" + "x" * 43, body={})
    missing = call(stack.url, "POST", "/api/v1/app/conversations", body={})
    revoked_key = app_key(stack, "android-old")
    assert new_conversation(stack, revoked_key)
    stack.shell("from conversations.models import App\nfrom conversations.services.apps import app_revoke\n"
                "app_revoke(App.objects.get(name='android-old'))")
    revoked = call(stack.url, "POST", "/api/v1/app/conversations", key=revoked_key, body={})
    assert unknown.status == missing.status == revoked.status == 401
    assert unknown.body == missing.body == revoked.body == {
        "error": "unauthorized", "detail": "missing, unknown or revoked API key"}
    token = new_conversation(stack, key)
    sse = EventStream(stack.url, revoked_key, token)
    assert sse.status == 401
    sse.close()

    def bad(body: Any = None, raw: bytes | None = None) -> Any:
        answer = call(stack.url, "POST", "/api/v1/app/messages", key=key, token=token, body=body, raw=raw)
        assert answer.status == 400, answer.body
        return answer.body

    assert bad({"text": 5, "client_id": "b-1"})["field"] == "text"
    assert bad({"text": "hello"})["field"] == "client_id"
    assert bad({"text": "   ", "client_id": "b-2"})["field"] == "text"
    assert bad({"text": "x" * 5000, "client_id": "b-3"})["field"] == "text"
    assert bad({"text": "hello", "client_id": "x" * 65})["field"] == "client_id"
    assert bad(raw=b"{not json")["field"] == "body"
    assert call(stack.url, "POST", "/api/v1/app/feedback", key=key, token=token,
                body={"message_id": 1, "rating": 7}).body["field"] == "rating"
    assert call(stack.url, "POST", "/api/v1/app/messages", key=key, token="no-such-token" * 3,
                body={"text": "hi", "client_id": "b-4"}).status == 404
    events = EventStream(stack.url, key, token, last_event_id="garbage")
    assert events.status == 400 and json.loads(events.response.read())["field"] == "Last-Event-ID"
    events.close()

    limited = app_key(stack, "limited", rate_limit="3/minute")
    answers = [call(stack.url, "POST", "/api/v1/app/conversations", key=limited, body={}) for _ in range(4)]
    assert [a.status for a in answers] == [201, 201, 201, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].body["error"] == "rate_limited" and answers[-1].body["retry_after"] >= 1
    sse = EventStream(stack.url, limited, token)
    assert sse.status == 429 and int(sse.response.headers["Retry-After"]) >= 1
    sse.close()


def test_a_verified_customer_gets_their_conversation_on_every_channel(stack: Any, key: str) -> None:
    ts = int(time.time())
    signed = hmac.new(IDENTITY_SECRET.encode(), f"cust-7\nAda\nada@example.com\n{ts}".encode(),
                      hashlib.sha256).hexdigest()
    user = {"id": "cust-7", "name": "Ada", "email": "ada@example.com", "ts": ts, "hash": signed}
    first = new_conversation(stack, key, user=user)
    assert new_conversation(stack, key, user=user) == first
    forged = call(stack.url, "POST", "/api/v1/app/conversations", key=key, body={"user": {**user, "name": "Eve"}})
    assert forged.status == 403 and forged.body["error"] == "identity_refused"
    wrong = call(stack.url, "POST", "/api/v1/app/conversations", key=key, body={"user": {"id": "x"}})
    assert wrong.status == 400 and wrong.body["field"].startswith("user")


def test_request_a_person_stop_and_rate(stack: Any, key: str, fake: FakeOllama) -> None:
    fake.script(Reply(content=ANSWER, ttft=0.05, per_token=0.3))
    token = new_conversation(stack, key)
    with stream(stack, key, token) as events:
        send(stack, key, token, "How long does shipping take to Lisbon?", "s-1")
        events.until("delta")
        assert call(stack.url, "POST", "/api/v1/app/stop", key=key, token=token).status == 200
        done = events.until("done")
        assert done.data["message"]["status"] == "cancelled"
        vote = call(stack.url, "POST", "/api/v1/app/feedback", key=key, token=token,
                    body={"message_id": done.data["message"]["id"], "rating": -1, "comment": "too slow"})
        assert vote.status == 200 and vote.body == {"message_id": done.data["message"]["id"], "rating": -1,
                                                   "comment": "too slow"}
        early = call(stack.url, "POST", "/api/v1/app/csat", key=key, token=token, body={"score": 5})
        assert early.status == 409 and early.body["error"] == "not_resolved"
        person = call(stack.url, "POST", "/api/v1/app/request-human", key=key, token=token)
        assert person.status == 200 and person.body["conversation"]["status"] == "waiting_human"
        assert events.until("status", status="waiting_human")


def test_the_schema_and_its_documentation_are_served(stack: Any) -> None:
    answer = call(stack.url, "GET", "/api/v1/schema")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("application/json")
    schema = answer.body
    assert schema["openapi"].startswith("3.") and schema["info"]["version"] == "1"
    for path in ("/api/v1/app/conversations", "/api/v1/app/messages", "/api/v1/app/events",
                 "/api/v1/app/request-human", "/api/v1/app/stop", "/api/v1/app/feedback", "/api/v1/app/csat",
                 "/api/v1/widget", "/api/v1/conversations", "/api/v1/conversations/transcript"):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/app/messages"]) == {"get", "post"}
    message_in = schema["components"]["schemas"]["MessageIn"]
    assert set(message_in["required"]) == {"text", "client_id"}
    assert any("bearer" == s.get("scheme") for s in schema["components"]["securitySchemes"].values())
    docs = call(stack.url, "GET", "/api/v1/docs")
    assert docs.status == 200 and "/api/v1/schema" in docs.body
    widget = call(stack.url, "GET", "/api/v1/widget")  # the widget's own endpoint still answers as before
    assert widget.status == 200 and "origin_allowed" in widget.body


def test_a_client_that_does_not_read_is_dropped_past_its_bound(stack: Any, key: str, fake: FakeOllama) -> None:
    """Daphne takes every write into its buffer: the stream must notice its socket is full and stop queueing."""
    words = " ".join(f"word{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}" for i in range(60000))
    fake.script(Reply(content=words, chunks=tuple(words[i:i + 2000] for i in range(0, len(words), 2000)),
                      per_token=0.002))
    token = new_conversation(stack, key)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", stack.port))
    sock.sendall(f"GET /api/v1/app/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                 f"X-Conversation-Token: {token}\r\n\r\n".encode())
    sent = send(stack, key, token, "How long does shipping take to Madrid?", "big-1")
    assert sent.status == 201

    def replied() -> bool:
        last = call(stack.url, "GET", "/api/v1/app/messages", key=key, token=token).body["messages"][-1]
        return last["role"] == "bot" and last["status"] == "complete"

    wait_for(replied, timeout=90)  # the whole reply went out while the client read nothing
    sock.settimeout(10)
    received, closed, deadline = b"", False, time.monotonic() + 30
    try:
        while time.monotonic() < deadline and b"event: done" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            received += chunk
    except ConnectionResetError:
        closed = True
    finally:
        sock.close()
    assert closed, "the stream was not closed"
    assert b"event: done" not in received  # dropped before the end
    assert len(received) < len(words) * 2
    # It resumes from what it read last, and gets the finished reply whole.
    ids = [line[4:] for line in received.decode(errors="replace").splitlines() if line.startswith("id: ")]
    with stream(stack, key, token, ids[-1] if ids else None) as resumed:
        done = resumed.until("done")
    assert done.data["message"]["content"] == words
