"""Logs that say which conversation and message they are about.

Work on a conversation (a consumer's service call, a reply task) runs inside
`log_context`, and every log record made meanwhile carries `conversation_id`
and `message_id` as attributes: plain logs ignore them, JSON logs
(LOG_FORMAT=json, one object per line for collectors) include them.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .redact import record_redact

_ids: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("helpdesk_log_ids", default={})  # noqa: B039


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Records made inside carry these ids (and those of enclosing contexts); all are dropped on exit."""
    token = _ids.set({**_ids.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _ids.reset(token)


def install_record_factory() -> None:
    """Every record, whoever logs it, gets the ids of the context it was made in, and has conversation tokens
    cut out of its message, arguments and traceback before any handler sees it (helpdesk.observability.redact)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "helpdesk_ids", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record_redact(record)
        for key, value in _ids.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return record

    factory.helpdesk_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
