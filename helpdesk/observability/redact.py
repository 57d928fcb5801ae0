"""Conversation tokens out of logs and error reports.

The token is the only key to a conversation: whoever reads it in a log line
(the access log's `WSCONNECT /ws/chat/<token>/`), a log collector or an
error report can read and write that conversation. Every log record passes
through `record_redact` as it is made (helpdesk.observability.logs' record
factory: every handler sees it clean, a log collector's or an error tracker's
too, not only ours), and again through `RedactTokensFilter` (installed on every
handler in settings.LOGGING) for the extra fields set after; Django's error
reports go through `TokenRedactingReporterFilter`. All keep the first few
characters, which is enough to match lines of one conversation.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

KEEP = 6
# The websocket path, a `token` query or form field, and a JSON "token" member. Tokens are
# token_urlsafe(32): 43 URL-safe characters; anything of 16 or more is treated as one.
_PATTERNS = (
    re.compile(r"(/ws/chat/)([A-Za-z0-9_\-]{16,})"),
    re.compile(r"((?:^|[?&;\s])token=)([A-Za-z0-9_\-%.~]{16,})", re.IGNORECASE),
    re.compile(r"""(["']token["']\s*:\s*["'])([A-Za-z0-9_\-]{16,})""", re.IGNORECASE),
)
_TOKEN_NAME = re.compile(r"token", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every conversation token cut to its first characters and an ellipsis."""
    # A lazy object wrapping a str passes isinstance(value, str) but is not one to `re` (settings such as
    # django-otp's are lazy): work on the real string.
    text = str(text)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)[:KEEP]}…", text)
    return text


# Attributes every LogRecord has; the rest came from `extra=` and may carry a path or a token.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


# Libraries whose debug records are the payloads they carry: redis-py's "push_response" logs every pub/sub
# message (the channel layer's: customers' words, tokens), the websockets library every frame. Their records keep
# their level and time, never their text.
PAYLOAD_LOGGERS = ("push_response", "websockets")
WITHHELD = "(a payload, withheld: helpdesk.observability.redact)"


def record_redact(record: logging.LogRecord) -> None:
    """A record's message (its arguments merged into it where they held a token), traceback, stack and string
    extras through redact(); the records of PAYLOAD_LOGGERS withheld whole."""
    logger = record.name or ""
    if any(logger == name or logger.startswith(name + ".") for name in PAYLOAD_LOGGERS):
        record.msg, record.args = WITHHELD, None
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the formatter to report
        return
    cleaned = redact(message)
    if cleaned != message:  # else the template and its arguments stay apart (a collector groups by the template)
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    for name, value in list(vars(record).items()):
        if name not in _STANDARD and isinstance(value, str):
            setattr(record, name, redact(value))


class RedactTokensFilter(logging.Filter):
    """Runs record_redact on every record a handler gets (the extras given with `extra=` are set after the record
    is made, so after helpdesk.observability.logs' record factory redacted it); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record_redact(record)
        return True


class TokenRedactingReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (DEBUG pages, mailed 500s) without tokens: in the request's path and data,
    and in the local variables of every frame (a variable named like `token` is hidden whole)."""

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        value = super().cleanse_setting(key, value)
        return redact(value) if isinstance(value, str) else value

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        cleansed = []
        for name, value in variables:
            if isinstance(name, str) and _TOKEN_NAME.search(name):
                value = self.cleansed_substitute
            elif isinstance(value, str):
                value = redact(value)
            else:
                value = _redacted_repr(value)
            cleansed.append((name, value))
        return cleansed

    def get_post_parameters(self, request: Any) -> Any:
        parameters = super().get_post_parameters(request)
        if not parameters:
            return parameters
        parameters = parameters.copy()
        for key in list(parameters):
            if _TOKEN_NAME.search(key):
                parameters[key] = self.cleansed_substitute
            else:
                parameters.setlist(key, [redact(v) if isinstance(v, str) else v for v in parameters.getlist(key)])
        return parameters

    def get_safe_request_meta(self, request: Any) -> dict[str, Any]:
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in super().get_safe_request_meta(request).items()}


class _Redacted:
    """A variable shown by its redacted repr (an object whose repr holds a path, a dict with a token...)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _redacted_repr(value: Any) -> Any:
    try:
        text = repr(value)
    except Exception:
        return value
    cleaned = redact(text)
    return value if cleaned == text else _Redacted(cleaned)
