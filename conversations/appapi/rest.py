"""The app channel's REST API (README "App channel"): django-ninja operations over the same services as the
widget's socket (conversations.consumers), so an app's message is moderated, limited and answered as a widget's.

Every request carries the app's key (`Authorization: Bearer <key>`); every request about a conversation carries
its token in `X-Conversation-Token` (never in the URL, so no access log keeps it). The event stream is not here
but in conversations.appapi.stream (an ASGI consumer of its own: it must watch its socket's buffers).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import Field

from helpdesk.observability.logs import log_context
from helpdesk.web import ratelimits

from ..models import App, Conversation
from ..protocol.codes import ErrorCode, FrameError
from ..selectors.access import conversation_get_by_token
from ..selectors.history import conversation_to_dict
from ..selectors.messages import CUSTOMER_VISIBLE_ROLES, message_feedback, message_to_dict
from ..services import apps, feedback, handoff, identity, messages
from ..services.cancel import reply_stop
from . import access, cors
from .openapi import widget_paths

API_DESCRIPTION = """The helpdesk's HTTP API, version 1.

**App channel** (`/api/v1/app/...`): for mobile apps and other front ends. Authenticate with the app's key
(`Authorization: Bearer hdk_...`, made in admin under *Apps*); name the conversation with its token in the
`X-Conversation-Token` header. Replies stream as server-sent events from `GET /api/v1/app/events`
(`message`, `delta`, `done`, `status`, `typing`), resumable with `Last-Event-ID`. From a browser: a page on one
of the app's allowed origins may call it (CORS, the origin echoed; preflights answered for origins an app lists);
read the event stream with `fetch()`, since `EventSource` cannot send the key.

**Widget** (`/api/v1/widget`, `/api/v1/conversations`, `/api/v1/conversations/transcript`): what the website
widget calls, cross-origin, without a key; its chat itself runs over the websocket `/ws/chat/<token>/`.

Errors are JSON: `{"error": <code>, "detail": <text>}`, with `field` on a 400 and `retry_after` on a 429
(also in the `Retry-After` header).
"""

# Which field a service's refusal is about, for a 400 that names it.
_FIELD_OF_CODE = {
    ErrorCode.INVALID_MESSAGE: "text", ErrorCode.EMPTY_MESSAGE: "text", ErrorCode.MESSAGE_TOO_LONG: "text",
    ErrorCode.INVALID_CLIENT_ID: "client_id", ErrorCode.INVALID_FEEDBACK: "rating",
    ErrorCode.INVALID_CSAT: "score", ErrorCode.UNKNOWN_MESSAGE: "message_id", ErrorCode.IDENTITY_INVALID: "user",
    ErrorCode.INVALID_EMAIL: "email", ErrorCode.INVALID_NAME: "name", ErrorCode.BAD_CURSOR: "cursor",
}


class AppApi(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Ninja's schema of the app channel, with the widget's endpoints (plain Django views) described beside."""
        schema = super().get_openapi_schema(*args, **kwargs)
        schema["paths"].update(widget_paths())
        return schema


class AppKey(HttpBearer):
    """The app's key: unknown and revoked keys get the same 401. Then its origins and its rate limit."""

    openapi_description = "The app's key, made in admin (Apps) and shown once: `Authorization: Bearer hdk_...`"

    def authenticate(self, request: HttpRequest, token: str) -> App | None:
        app = apps.app_authenticate(token)
        if app is not None:
            origin = request.headers.get("Origin", "")
            access.app_origin_admit(app, origin=origin)
            setattr(request, cors.ADMITTED_ORIGIN, origin)  # its answers are readable there, a 429 included
            access.app_rate_admit(app)
        return app


api = AppApi(
    title="Helpdesk API", version="1", description=API_DESCRIPTION, urls_namespace="api-v1",
    openapi_url="/schema", docs_url="/docs", auth=AppKey(),
)


def error(status: int, code: str, detail: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail, **extra}, status=status, json_dumps_params={
        "ensure_ascii": False})


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = error(401, "unauthorized", "missing, unknown or revoked API key")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own refusals; a 400 is a body that could not be parsed."""
    if exc.status_code == 400:
        return error(400, ErrorCode.INVALID_JSON, f"the body is not valid JSON: {exc}", field="body")
    return error(exc.status_code, "http_error", str(exc))


@api.exception_handler(access.OriginRefused)
def _origin_refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(403, ErrorCode.ORIGIN_NOT_ALLOWED, str(exc))


@api.exception_handler(ratelimits.RateLimited)
def _rate_limited(request: HttpRequest, exc: ratelimits.RateLimited) -> HttpResponse:
    response = error(429, ErrorCode.RATE_LIMITED, f"too many requests; retry after {exc.retry_after} s",
                     limit=exc.what, retry_after=exc.retry_after)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Ninja's 422 with a list of pydantic errors, as one 400 naming the first field."""
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "payload", "query", "header")]
    field = ".".join(location) or "body"
    detail = first.get("msg", "invalid request")
    if first.get("type") == "json_invalid" or field == "body":
        return error(400, ErrorCode.INVALID_JSON, f"the body is not a valid JSON object: {detail}", field="body")
    return error(400, "invalid_request", f"{field}: {detail}", field=field)


@api.exception_handler(FrameError)
def _refused(request: HttpRequest, exc: FrameError) -> HttpResponse:
    if exc.code == ErrorCode.UNKNOWN_CONVERSATION:
        return error(404, exc.code, exc.detail)
    if exc.code in (ErrorCode.IDENTITY_REFUSED, ErrorCode.IDENTITY_EXPIRED, ErrorCode.IDENTITY_REQUIRED,
                    ErrorCode.IDENTITY_NOT_CONFIGURED):
        return error(403, exc.code, exc.detail)
    if exc.code == ErrorCode.NOT_RESOLVED:
        return error(409, exc.code, exc.detail)
    field = "comment" if "comment" in exc.detail else _FIELD_OF_CODE.get(exc.code, "body")
    return error(400, exc.code, exc.detail, field=field, **exc.extra)


def conversation_of(request: HttpRequest) -> Conversation:
    """The conversation named by the X-Conversation-Token header; raises a 404's FrameError."""
    conversation = conversation_get_by_token(token=request.headers.get("X-Conversation-Token", ""))
    if conversation is None:
        raise FrameError(ErrorCode.UNKNOWN_CONVERSATION, "no conversation has this X-Conversation-Token")
    return conversation


# --- bodies -----------------------------------------------------------------------------------------------


class Identity(Schema):
    """A signed-in customer, signed by the company's server as for the widget: hash = hex HMAC-SHA256(
    WIDGET_IDENTITY_SECRET, id + "\\n" + name + "\\n" + email + "\\n" + ts)."""

    id: str | int
    name: str | None = None
    email: str | None = None
    ts: int | str
    hash: str


class ConversationIn(Schema):
    user: Identity | None = None


class MessageIn(Schema):
    text: str = Field(description="The customer's message (at most MESSAGE_MAX_CHARS characters).")
    client_id: str = Field(description="The app's own id for this message (1-64 characters): a resend with the "
                                       "same client_id is stored once.")


class FeedbackIn(Schema):
    message_id: int
    rating: int = Field(description="1 (helpful) or -1 (not helpful)")
    comment: str = ""


class CsatIn(Schema):
    score: int = Field(description="1 to 5, once the conversation is resolved")
    comment: str = ""


# --- operations ---------------------------------------------------------------------------------------------


@api.post("/app/conversations", tags=["app"], summary="Start a conversation", response={201: dict})
def conversation_create(request: HttpRequest, body: ConversationIn | None = None) -> tuple[int, dict[str, Any]]:
    """A new conversation for this app (channel `app:<name>`), anonymous or for a verified customer (then their
    latest conversation, from whichever channel, so it follows them across devices). Keep the token: it is the
    only key to the conversation."""
    app: App = request.auth
    user = body.user.model_dump() if body is not None and body.user is not None else None
    conversation = identity.conversation_create(user=user, channel=app.channel)
    return 201, {"token": conversation.token, "channel": conversation.channel,
                 "conversation": conversation_to_dict(conversation), "events": "/api/v1/app/events"}


@api.get("/app/conversation", tags=["app"], summary="The conversation's state")
def conversation_read(request: HttpRequest) -> dict[str, Any]:
    conversation = conversation_of(request)
    return {"channel": conversation.channel, "conversation": conversation_to_dict(conversation),
            "limits": {"message_max_chars": settings.MESSAGE_MAX_CHARS}}


@api.post("/app/messages", tags=["app"], summary="Send a message", response={200: dict, 201: dict})
def message_send(request: HttpRequest, body: MessageIn) -> tuple[int, dict[str, Any]]:
    """Stored once per `client_id` (201; a resend answers 200 with the stored message and sets nothing off), then
    answered as the widget's messages are: the reply streams on the event stream."""
    conversation = conversation_of(request)
    with log_context(conversation_id=conversation.pk):
        message, created = messages.message_post_customer(
            conversation=conversation, text=body.text, client_id=body.client_id,
            client_ip=request.META.get("REMOTE_ADDR", ""),
        )
    return (201 if created else 200), {"message": message_to_dict(message)}


@api.get("/app/messages", tags=["app"], summary="List messages, newest page first")
def message_list(request: HttpRequest, cursor: str = "", limit: int = 0) -> dict[str, Any]:
    """A page of the conversation's messages, oldest first within the page; `next_cursor` pages to older ones
    (null on the last page)."""
    conversation = conversation_of(request)
    limit = max(1, min(limit or settings.APP_API_PAGE_SIZE, 200))
    rows = conversation.messages.filter(role__in=CUSTOMER_VISIBLE_ROLES).select_related("author", "feedback")
    if cursor:
        rows = rows.filter(id__lt=_cursor_decode(cursor))
    page = list(rows.order_by("-id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    items = []
    for message in reversed(page):
        payload = message_to_dict(message)
        if vote := message_feedback(message):
            payload["feedback"] = vote["rating"]
        items.append(payload)
    return {"messages": items, "next_cursor": _cursor_encode(page[-1].pk) if more else None}


def _cursor_encode(message_id: int) -> str:
    return base64.urlsafe_b64encode(f"before:{message_id}".encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind == "before" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise FrameError(ErrorCode.BAD_CURSOR, "cursor is not one this API gave")


@api.post("/app/request-human", tags=["app"], summary="Ask for a person")
def request_human(request: HttpRequest) -> dict[str, Any]:
    conversation = handoff.conversation_request_human(conversation=conversation_of(request))
    return {"conversation": conversation_to_dict(conversation)}


@api.post("/app/stop", tags=["app"], summary="Stop the reply being written")
def stop(request: HttpRequest) -> dict[str, Any]:
    return {"stopped": reply_stop(conversation=conversation_of(request))}


@api.post("/app/feedback", tags=["app"], summary="Rate a bot reply")
def feedback_send(request: HttpRequest, body: FeedbackIn) -> dict[str, Any]:
    vote = feedback.feedback_record(conversation=conversation_of(request), message_id=body.message_id,
                                    rating=body.rating, comment=body.comment)
    return {"message_id": vote.message_id, "rating": vote.rating, "comment": vote.comment}


@api.post("/app/csat", tags=["app"], summary="Rate the resolved conversation")
def csat_send(request: HttpRequest, body: CsatIn) -> dict[str, Any]:
    conversation = feedback.csat_record(conversation=conversation_of(request), score=body.score,
                                        comment=body.comment)
    return {"score": conversation.csat_score}
