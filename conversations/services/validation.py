"""What a client sends, checked before anything is stored: the refusals every write module shares."""

from __future__ import annotations

from typing import Any

from django.conf import settings

FEEDBACK_COMMENT_MAX_CHARS = 2000


class MessageRejected(ValueError):
    """The customer's message cannot be accepted; `code` goes to the client."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def validate_customer_text(text: Any) -> str:
    """A message's text, stripped (a customer's, and an agent's reply or note alike); refused when empty or too long."""
    if not isinstance(text, str):
        raise MessageRejected("invalid_message", "text must be a string")
    text = text.strip()
    if not text:
        raise MessageRejected("empty_message", "the message is empty")
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise MessageRejected(
            "message_too_long",
            f"the message has {len(text)} characters; the limit is {settings.MESSAGE_MAX_CHARS}",
        )
    return text


def validate_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not (1 <= len(client_id) <= 64) or not client_id.isprintable():
        raise MessageRejected("invalid_client_id", "client_id must be a string of 1 to 64 printable characters")
    return client_id


def validate_comment(comment: Any, *, code: str) -> str:
    """The optional comment of a vote or a rating, stripped ("" when none); refused with `code`."""
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > FEEDBACK_COMMENT_MAX_CHARS:
        limit = FEEDBACK_COMMENT_MAX_CHARS
        raise MessageRejected(code, f"comment must be text of at most {limit} characters")
    return comment.strip()
