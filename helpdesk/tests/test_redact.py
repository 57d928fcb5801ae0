"""Conversation tokens out of every log line and error report (helpdesk/observability/redact.py)."""

from __future__ import annotations

import io
import logging
import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from conversations.models import new_conversation_token
from helpdesk.observability.redact import RedactTokensFilter, redact

TOKEN = new_conversation_token()


def test_redact_keeps_a_prefix_of_tokens_in_paths_queries_and_json() -> None:
    assert redact(f'"WSCONNECT /ws/chat/{TOKEN}/"') == f'"WSCONNECT /ws/chat/{TOKEN[:6]}…/"'
    assert TOKEN not in redact(f"GET /x?token={TOKEN}&a=1")
    assert TOKEN not in redact(f'{{"token": "{TOKEN}", "status": "bot"}}')
    assert redact("GET /api/v1/widget 200") == "GET /api/v1/widget 200"


def test_the_logging_config_redacts_messages_arguments_extras_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokensFilter())
    logger = logging.getLogger("helpdesk.tests.redact")
    logger.addHandler(handler)
    try:
        logger.warning("socket %s closed", f"/ws/chat/{TOKEN}/", extra={"path": f"/ws/chat/{TOKEN}/"})
        try:
            raise ValueError(f"no conversation at /ws/chat/{TOKEN}/")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert TOKEN not in stream.getvalue() and TOKEN[:6] in stream.getvalue()


def test_settings_put_the_filter_on_every_handler() -> None:
    from django.conf import settings

    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_tokens" in handler.get("filters", []), name


def test_error_reports_hide_tokens_in_variables_and_the_request(settings) -> None:
    settings.DEBUG = True
    request = RequestFactory().post("/api/v1/conversations", {"token": TOKEN, "note": f"/ws/chat/{TOKEN}/"})

    def failing(token: str) -> None:
        websocket = f"/ws/chat/{token}/"  # noqa: F841 - a local the report shows
        raise RuntimeError("boom")

    try:
        failing(TOKEN)
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    assert TOKEN not in reporter.get_traceback_text()
    assert TOKEN not in reporter.get_traceback_html()
