"""The rules for what a client sends: a frame as JSON, and each field's type and bounds.

The frame parsers (`client.py`) apply them to build typed frames; the services
apply them again to what they are given, because the admin, the tasks and the
tests call services without a frame. One rule, one function, one error code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from .codes import ErrorCode, FrameError

COMMENT_MAX_CHARS = 2000
CONTACT_NAME_MAX_CHARS = 255
CONTACT_EMAIL_MAX_CHARS = 254


def frame_decode(text_data: str | None, *, max_chars: int, too_large: str) -> dict[str, Any]:
    """Check and parse one client frame, before anything else looks at it (both sockets use it)."""
    if text_data is None:
        raise FrameError(ErrorCode.BAD_FRAME, "frames must be JSON text")
    if len(text_data) > max_chars:
        raise FrameError(ErrorCode.FRAME_TOO_LARGE, too_large)
    try:
        frame = json.loads(text_data)
    except ValueError:
        raise FrameError(ErrorCode.INVALID_JSON, "the frame is not valid JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError(ErrorCode.BAD_FRAME, 'a frame is a JSON object with a "type"')
    return frame


def client_id_echo(frame: dict[str, Any] | None) -> dict[str, Any]:
    """The frame's `client_id`, for an error about it: the client marks that message as not delivered."""
    return {"client_id": frame["client_id"]} if frame and isinstance(frame.get("client_id"), str) else {}


@contextmanager
def errors_with(**extra: Any) -> Iterator[None]:
    """Add `extra` (a client_id echo, the conversation's number) to the FrameError raised inside."""
    try:
        yield
    except FrameError as exc:
        exc.extra = {**extra, **exc.extra}
        raise


def is_whole_number(value: Any) -> bool:
    """JSON's numbers without fractions; true and false are no numbers here, though Python's bool is an int."""
    return isinstance(value, int) and not isinstance(value, bool)


def text_of_str(value: Any) -> str:
    """An optional text field ("" when absent or not text): the inbox's filters."""
    return value if isinstance(value, str) else ""


def message_text(text: Any) -> str:
    """A message's text, stripped (a customer's, and an agent's reply or note alike); refused when empty or too long."""
    if not isinstance(text, str):
        raise FrameError(ErrorCode.INVALID_MESSAGE, "text must be a string")
    text = text.strip()
    if not text:
        raise FrameError(ErrorCode.EMPTY_MESSAGE, "the message is empty")
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise FrameError(
            ErrorCode.MESSAGE_TOO_LONG,
            f"the message has {len(text)} characters; the limit is {settings.MESSAGE_MAX_CHARS}",
        )
    return text


def client_id(value: Any) -> str:
    """The client's own id for a message, which makes a resend harmless."""
    if not isinstance(value, str) or not (1 <= len(value) <= 64) or not value.isprintable():
        raise FrameError(ErrorCode.INVALID_CLIENT_ID, "client_id must be a string of 1 to 64 printable characters")
    return value


def comment(value: Any, *, code: ErrorCode) -> str:
    """The optional comment of a vote or a rating, stripped ("" when none); refused with `code`."""
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > COMMENT_MAX_CHARS:
        raise FrameError(code, f"comment must be text of at most {COMMENT_MAX_CHARS} characters")
    return value.strip()


def rating(value: Any) -> int:
    """A vote on a bot reply: thumbs up (1) or down (-1)."""
    if value not in (1, -1) or isinstance(value, bool):
        raise FrameError(ErrorCode.INVALID_FEEDBACK, "rating must be 1 or -1")
    return value


def csat_score(value: Any) -> int:
    """A rating of a resolved conversation, 1 to 5."""
    if not is_whole_number(value) or not 1 <= value <= 5:
        raise FrameError(ErrorCode.INVALID_CSAT, "score must be a whole number from 1 to 5")
    return value


def bot_message_id(value: Any) -> int:
    """The number of the bot reply a vote is about (whether it is one of this conversation's: the service's)."""
    if not is_whole_number(value):
        raise FrameError(ErrorCode.UNKNOWN_MESSAGE, "no bot reply with this id in this conversation")
    return value


def contact_email(email: Any, *, required: bool) -> str:
    """An address a colleague can write back to; "" when not given and not `required`."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = "" if email is None else email
    if not isinstance(email, str):
        raise FrameError(ErrorCode.INVALID_EMAIL, "email must be text")
    email = email.strip()
    if not email and not required:
        return ""
    try:
        if len(email) > CONTACT_EMAIL_MAX_CHARS:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise FrameError(ErrorCode.INVALID_EMAIL, "this does not look like an email address") from None
    return email


def contact_name(name: Any) -> str:
    """A name as the customer wrote it, on one line; "" when not given."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise FrameError(ErrorCode.INVALID_NAME, "name must be text")
    name = " ".join(name.split())
    if len(name) > CONTACT_NAME_MAX_CHARS or not name.isprintable():
        raise FrameError(ErrorCode.INVALID_NAME, f"name must be at most {CONTACT_NAME_MAX_CHARS} printable characters")
    return name


def conversation_id(frame: dict[str, Any]) -> int:
    """The console's frames about one conversation name it by number."""
    value = frame.get("conversation_id")
    if not is_whole_number(value):
        raise FrameError(ErrorCode.BAD_FRAME, "conversation_id must be a conversation's number")
    return value
