"""Logs and metrics never carry what a customer wrote, their contact data or their conversation's token.

A whole conversation (the widget's API, the websocket, a bot reply, a handoff, an agent's answer) runs with every
logger at DEBUG and a handler at the root that keeps each record as it reaches the root, before any handler's
filter: a log collector, an error tracker or a test's capture sees records, not formatted lines. Nothing secret
may be in a record's message, arguments, extra fields or traceback, nor in /metrics (nor, on the production
stack, in the Celery worker's log, where the reply is made).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import AsyncClient

from agents.services import conversation_take_over, message_post_agent
from conversations.models import Conversation
from conversations.services import identity
from helpdesk.asgi import application  # noqa: F401 - set up (and its logging configured) before the capture
from helpdesk.runtime import aio
from helpdesk.webserver import AccessLog
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply
from tests.support.environment import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

NAME, EMAIL, PHONE = "Quentin Zabriskie", "quentin.zabriskie@example.org", "139 8765 4321"
WORDS = ["marmalade-walrus", "蓝色长颈鹿"]  # distinctive words of the customer's messages
QUESTION = f"How long does a refund take? Call me on {PHONE}"
SECOND = f"I am {NAME}: my marmalade-walrus kettle and the 蓝色长颈鹿 mug need a refund, mail {EMAIL}"
BOT_ANSWER = "Refunds of the quixotic-pelican kind take 3-5 working days [1]."
AGENT_ANSWER = "I have refunded the zygomorphic-teapot order myself."
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class Keep(logging.Handler):
    """Each record's text as the record is when it reaches the root, before any handler's filter."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record_text(record)))

    def handle(self, record: logging.LogRecord) -> bool:
        self.emit(record)
        return True


def record_text(record: logging.LogRecord) -> str:
    """All a record says: its message, its arguments, its extra fields, its traceback and stack."""
    parts = [str(record.msg), repr(record.args)]
    try:
        parts.append(record.getMessage())
    except Exception:
        pass
    parts += [f"{name}={value!r}" for name, value in vars(record).items() if name not in _STANDARD]
    # What a formatter writes: the record's exc_text when it has one, else its exception formatted.
    if record.exc_text:
        parts.append(record.exc_text)
    elif record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts.append(record.stack_info or "")
    return "\n".join(parts)


@pytest.fixture
def every_record() -> Iterator[Keep]:
    """Every logger at DEBUG (those the settings quieten too: httpx, daphne, channels...), kept at the root."""
    keep = Keep()
    root = logging.getLogger()
    loggers = [root] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    root.setLevel(logging.DEBUG)
    root.handlers.insert(0, keep)
    try:
        yield keep
    finally:
        root.handlers.remove(keep)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


async def message_from(client: Any, role: str) -> dict[str, Any]:
    while True:
        frame = await client.until("message")
        if frame["message"]["role"] == role:
            return frame


def secrets_in(text: str, secrets: list[str]) -> list[str]:
    folded = text.casefold()
    return [secret for secret in secrets if secret.casefold() in folded]


async def test_a_whole_conversation_leaves_no_personal_data_in_logs_or_metrics(
    chat, fake_ollama, reply_runner, every_record, settings
) -> None:
    settings.WIDGET_IDENTITY_SECRET = "site-secret"
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["127.0.0.1"]
    await aio.db_call(knowledge_base_create)
    fake_ollama.script(Reply(content=BOT_ANSWER))
    ts = int(time.time())
    user = {
        "id": "cust-7731",
        "name": NAME,
        "email": EMAIL,
        "ts": ts,
        "hash": identity.identity_hash(user_id="cust-7731", name=NAME, email=EMAIL, ts=ts),
    }
    http = AsyncClient()
    created = await http.post("/api/v1/conversations", {"user": user}, content_type="application/json")
    assert created.status_code == 201
    token = created.json()["token"]
    access = AccessLog()  # the lines Daphne's access log writes for this conversation's requests
    access(
        "http",
        "complete",
        {
            "client": "203.0.113.7:5123",
            "method": "POST",
            "path": "/api/v1/conversations",
            "status": 201,
            "size": 120,
            "time_taken": 0.01,
        },
    )
    access("websocket", "connected", {"client": "203.0.113.7:5124", "path": f"/ws/chat/{token}/"})

    client, _ = await chat(token)
    await client.send({"type": "message", "text": QUESTION, "client_id": "q-1"})
    done = await client.until("done")
    assert "quixotic-pelican" in done["message"]["content"]
    await client.send({"type": "request_human"})
    await client.until("status")
    await client.send({"type": "message", "text": SECOND, "client_id": "q-2"})
    await message_from(client, "customer")
    conversation = await aio.db_call(Conversation.objects.get, token=token)
    agent = await aio.db_call(get_user_model().objects.create_user, "agent-li", password="pw", is_staff=True)
    await aio.db_call(conversation_take_over, agent=agent, conversation_id=conversation.pk)
    await aio.db_call(message_post_agent, agent=agent, conversation_id=conversation.pk, text=AGENT_ANSWER)
    await message_from(client, "agent")
    await client.send("not json at all, says " + WORDS[0])  # a malformed frame: its refusal is logged, its text not
    await client.close()
    access("websocket", "disconnected", {"client": "203.0.113.7:5124", "path": f"/ws/chat/{token}/"})
    metrics = (await http.get("/metrics")).content.decode()

    secrets = [
        token,
        NAME,
        EMAIL,
        PHONE,
        PHONE.replace(" ", ""),
        *WORDS,
        "quixotic-pelican",
        "zygomorphic-teapot",
        QUESTION,
        SECOND,
    ]
    assert len(every_record.records) > 10, "the capture sees the conversation's records"
    leaks = {
        f"{name}: {text[:300]}": secrets_in(text, secrets)
        for name, text in every_record.records
        if secrets_in(text, secrets)
    }
    assert leaks == {}
    assert secrets_in(metrics, secrets) == []
    if reply_runner == "celery":  # the reply was made in the worker's process: its log lines, as written
        assert secrets_in((ROOT / ".pytest_cache" / "celery-worker.log").read_text(), secrets) == []
    assert token[:6] in "\n".join(text for _, text in every_record.records), (
        "the token's first characters still tie a conversation's lines together"
    )


def test_a_token_in_a_records_arguments_or_traceback_is_cut_as_the_record_is_made(every_record) -> None:
    token = "Qw3rTy-abcdefghijklmnopqrstuvwxyz0123456789AB"
    logger = logging.getLogger("conversations.test")
    try:
        raise ValueError(f"could not route /ws/chat/{token}/")
    except ValueError:
        logger.exception("websocket %s failed", f"/ws/chat/{token}/")
    logger.info("connected to %s", f"/ws/chat/{token}/")
    texts = [text for name, text in every_record.records if name == "conversations.test"]
    assert texts and not any(token in text for text in texts)
    assert all("Qw3rTy…" in text for text in texts)


def test_libraries_that_log_their_payloads_have_them_withheld(every_record) -> None:
    """redis-py logs each pub/sub message the channel layer receives (this is its own line), websockets each frame."""
    payload = [b"message", b"helpdesk.__group__conv.4", b"content: call me on 139 8765 4321"]
    logging.getLogger("push_response").debug("Push response: " + str(payload))
    logging.getLogger("websockets.server").debug("< TEXT %r [%d bytes]", '{"text": "蓝色长颈鹿"}', 24)
    texts = [text for name, text in every_record.records if name in ("push_response", "websockets.server")]
    assert len(texts) == 2 and not secrets_in("\n".join(texts), ["139 8765 4321", "蓝色长颈鹿"])
