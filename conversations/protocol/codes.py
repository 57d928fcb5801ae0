"""Every code the customer's and the agents' sockets (and the widget's HTTP API) answer with, and the one error.

The widget and the console read some of these: `manage.py protocol_js` writes
them into static/widget.js and static/console.js (see `javascript.py`), so no
code is spelled twice by hand.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class ErrorCode(models.TextChoices):
    """`code` of an `error` frame (`error` of an HTTP answer): stable, clients branch on them."""

    # the frame itself
    BAD_FRAME = "bad_frame"
    FRAME_TOO_LARGE = "frame_too_large"
    INVALID_JSON = "invalid_json"
    UNKNOWN_TYPE = "unknown_type"
    # who may talk, and how much
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    FORBIDDEN = "forbidden"
    UNKNOWN_CONVERSATION = "unknown_conversation"
    TOO_MANY_SOCKETS = "too_many_sockets"
    RATE_LIMITED = "rate_limited"
    REPLY_RATE_LIMITED = "reply_rate_limited"
    BUSY = "busy"
    # what the customer or agent wrote
    INVALID_MESSAGE = "invalid_message"
    EMPTY_MESSAGE = "empty_message"
    MESSAGE_TOO_LONG = "message_too_long"
    INVALID_CLIENT_ID = "invalid_client_id"
    INVALID_EMAIL = "invalid_email"
    INVALID_NAME = "invalid_name"
    INVALID_FEEDBACK = "invalid_feedback"
    UNKNOWN_MESSAGE = "unknown_message"
    INVALID_CSAT = "invalid_csat"
    NOT_RESOLVED = "not_resolved"
    # the console's
    TAKEN = "taken"
    NOT_YOURS = "not_yours"
    BAD_CURSOR = "bad_cursor"
    UNKNOWN_AGENT = "unknown_agent"
    NOT_PROPOSED = "not_proposed"
    INVALID_VIEW = "invalid_view"
    TOO_MANY_VIEWS = "too_many_views"
    UNKNOWN_VIEW = "unknown_view"
    # the host site's signed identity (HTTP)
    IDENTITY_INVALID = "identity_invalid"
    IDENTITY_NOT_CONFIGURED = "identity_not_configured"
    IDENTITY_REFUSED = "identity_refused"
    IDENTITY_EXPIRED = "identity_expired"
    IDENTITY_REQUIRED = "identity_required"


class Priority(models.TextChoices):
    """A conversation's priority (`Conversation.priority`): its SLA targets are per team and priority."""

    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class HandoffReason(models.TextChoices):
    """Why a conversation waits for a human (`Conversation.handoff_reason`); the labels are the console's."""

    LOW_CONFIDENCE = "low_confidence", "low confidence"
    CUSTOMER_REQUEST = "customer_request", "customer asked"
    NO_KNOWLEDGE = "no_knowledge", "no knowledge"
    MODEL_ERROR = "model_error", "model error"
    NEGATIVE_FEEDBACK = "negative_feedback", "thumbs down"
    RULE = "rule", "rule"
    PROMPT_LEAK = "prompt_leak", "reply withheld (leaked its instructions)"
    UNANSWERED = "unanswered", "no reply in time"
    UNVERIFIED_FACT = "unverified_fact", "unverified number or link"
    COMPLAINT = "complaint", "complaint"
    UNSUPPORTED_CLAIM = "unsupported_claim", "claim its sources do not support"
    MODERATION = "moderation", "moderation"
    ACTION_FAILED = "action_failed", "look-up in the company's system failed"
    ACTION_APPROVAL = "action_approval", "action awaits an agent's approval"


class CloseCode(models.IntegerChoices):
    """Websocket close codes: bad frames get an error frame and the socket stays open; these close it."""

    # The web process is stopping (a deploy): helpdesk/webserver.py closes every socket so, and the widget and the
    # console reconnect to the next one with backoff.
    GOING_AWAY = 1001
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    RATE_LIMITED = 4429
    # Busy or no database: the widget reconnects with backoff. RFC 6455 has 1013 for this, but Daphne's websocket
    # library lets a server send only 1000 and 3000-4999 (it answered 1011 instead), so the HTTP status it means.
    TRY_AGAIN_LATER = 4503


class FrameError(ValueError):
    """What a client sent cannot be accepted: `code`, `detail` and `extra` go back in its error frame.

    Raised by the frame parsers and by the services alike (a service called with
    a value no parser checked, as the admin and the tests call them).
    """

    def __init__(self, code: ErrorCode, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra

    def frame(self) -> dict[str, Any]:
        """The error frame a socket sends for it."""
        return {"type": "error", "code": self.code, "detail": self.detail, **self.extra}
