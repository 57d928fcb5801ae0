"""Structured logs: records carry the conversation and message they are about; JSON lines when asked."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from conversations.pipeline.reply import reply_generate
from conversations.tests.factories import conversation_factory, customer_message_factory
from helpdesk.observability.logs import log_context


def json_handler(settings) -> tuple[logging.Handler, io.StringIO]:
    """The console handler exactly as LOG_FORMAT=json configures it, writing to a buffer."""
    stream = io.StringIO()
    formatter = logging.config.DictConfigurator({}).configure_formatter(settings.LOGGING["formatters"]["json"])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    return handler, stream


def test_json_lines_carry_the_ids_of_the_context(settings) -> None:
    handler, stream = json_handler(settings)
    logger = logging.getLogger("helpdesk.test")
    logger.addHandler(handler)
    try:
        with log_context(conversation_id=7):
            with log_context(message_id=42):
                logger.warning("reply %s failed", 42)
            logger.warning("outside the message")
        logger.warning("outside everything")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "reply 42 failed" and lines[0]["level"] == "WARNING"
    assert lines[0]["conversation_id"] == 7 and lines[0]["message_id"] == 42 and lines[0]["logger"] == "helpdesk.test"
    assert lines[1]["conversation_id"] == 7 and "message_id" not in lines[1]
    assert "conversation_id" not in lines[2] and "time" in lines[2]


@pytest.mark.django_db(transaction=True)
def test_a_failing_reply_logs_its_conversation_and_message(settings, dead_ollama_url, caplog) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "Where is my parcel?")
    with log_context(customer_message_id=question.pk), caplog.at_level(logging.WARNING):
        reply = reply_generate(customer_message_id=question.pk)
    failure = [r for r in caplog.records if "failed on Ollama host" in r.getMessage()]
    assert failure and failure[0].conversation_id == conversation.pk and failure[0].message_id == reply.pk
    assert failure[0].customer_message_id == question.pk
