"""The customer's websocket (DESIGN.md § Websocket protocol): validate, call services, forward events.

Nothing here waits on Ollama: a consumer handles one event at a time, and a
long await would hold back every delta and the disconnect.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from helpdesk.observability import metrics
from helpdesk.observability.logs import log_context
from helpdesk.runtime import aio
from helpdesk.web import dbbusy, ratelimits
from helpdesk.web.clientip import scope_client_ip

from . import events, services
from .selectors.access import conversation_get, conversation_get_by_token, widget_origin_allowed
from .selectors.history import history_frame
from .selectors.messages import message_to_dict

# Bad frames get an error frame and the socket stays open; these close it.
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_RATE_LIMITED = 4429
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: the server is overloaded; the widget reconnects with backoff


class FrameError(ValueError):
    """A frame that is not a JSON object with a "type"; `code` and `detail` go back to the client."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def frame_decode(text_data: str | None, *, max_chars: int, too_large: str) -> dict[str, Any]:
    """Check and parse one client frame, before anything else looks at it (both sockets use it)."""
    if text_data is None:
        raise FrameError("bad_frame", "frames must be JSON text")
    if len(text_data) > max_chars:
        raise FrameError("frame_too_large", too_large)
    try:
        frame = json.loads(text_data)
    except ValueError:
        raise FrameError("invalid_json", "the frame is not valid JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError("bad_frame", 'a frame is a JSON object with a "type"')
    return frame


def client_id_echo(frame: dict[str, Any] | None) -> dict[str, Any]:
    """The frame's `client_id`, for an error about it: the client marks that message as not delivered."""
    return {"client_id": frame["client_id"]} if frame and isinstance(frame.get("client_id"), str) else {}


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Browsers always send Origin on websockets: it must be the server itself or a configured widget origin.

    Clients without an Origin header are not browsers and cannot be lured by
    another site, so they pass; the token is what guards the conversation.
    """
    headers = dict(scope.get("headers") or [])
    return widget_origin_allowed(
        origin=headers.get(b"origin", b"").decode("latin-1"), host=headers.get(b"host", b"").decode("latin-1")
    )


class CustomerChatConsumer(AsyncJsonWebsocketConsumer):
    conversation_id: int | None = None
    admitted = False  # counted among the conversation's open sockets (ratelimits.socket_admit)

    @classmethod
    async def encode_json(cls, content: dict[str, Any]) -> str:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"))

    async def connect(self) -> None:
        events.register_home_loop()
        self.client_ip = scope_client_ip(self.scope)
        await self.accept()
        if not origin_allowed(self.scope):
            await self._refuse(CLOSE_FORBIDDEN, "origin_not_allowed", "this site may not open the chat")
            return
        token = self.scope["url_route"]["kwargs"].get("token", "")
        try:
            conversation = await aio.db_call(conversation_get_by_token, token=token)
        except Exception as exc:
            await self._refuse_if_busy(exc)
            return
        if conversation is None:
            await self._refuse(CLOSE_NOT_FOUND, "unknown_conversation", "no conversation has this token")
            return
        self.admitted = await asyncio.to_thread(
            ratelimits.socket_admit, conversation_id=conversation.pk, socket_id=self.channel_name
        )
        if not self.admitted:
            limit = settings.CHAT_MAX_SOCKETS_PER_CONVERSATION
            await self._refuse(CLOSE_RATE_LIMITED, "too_many_sockets",
                               f"this conversation is open in {limit} windows already; close one",
                               retry_after=60)
            return
        self.group = events.conversation_group(conversation.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        try:
            history = await aio.db_call(history_frame, conversation=conversation)
        except Exception as exc:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await asyncio.to_thread(ratelimits.socket_release, conversation_id=conversation.pk,
                                    socket_id=self.channel_name)
            self.admitted = False
            await self._refuse_if_busy(exc)
            return
        self.conversation_id = conversation.pk
        metrics.websocket_opened("chat")
        await self.send_json({"type": "history", **history})

    async def _refuse_if_busy(self, exc: Exception) -> None:
        """No connection in time (helpdesk.web.dbbusy): close with 1013, and the widget reconnects; else re-raise."""
        if not dbbusy.database_busy(exc):
            raise exc
        metrics.database_busy_count("websocket")
        await self._refuse(CLOSE_TRY_AGAIN_LATER, "busy", dbbusy.BUSY_DETAIL)

    async def disconnect(self, code: int) -> None:
        if self.conversation_id is not None:
            metrics.websocket_closed("chat")
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.admitted and self.conversation_id is not None:
            await asyncio.to_thread(ratelimits.socket_release, conversation_id=self.conversation_id,
                                    socket_id=self.channel_name)

    async def _refuse(self, code: int, error: str, detail: str, **extra: Any) -> None:
        await self.send_error(error, detail, **extra)
        await self.close(code=code)

    async def send_error(self, code: str, detail: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})

    # --- client -> server -----------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.conversation_id is None:
            return
        frame: dict[str, Any] | None = None
        invalid: FrameError | None = None
        try:
            frame = frame_decode(
                text_data,
                max_chars=settings.MESSAGE_MAX_CHARS * 4 + 1024,
                too_large=f"frames are limited to {settings.MESSAGE_MAX_CHARS} characters of text",
            )
        except FrameError as exc:
            invalid = exc
        # Every frame counts, invalid ones too, for the conversation (all its sockets, every process)
        # and for the client's address.
        refused, close = await asyncio.to_thread(
            ratelimits.frame_check, conversation_id=self.conversation_id, client_ip=self.client_ip
        )
        if close:
            await self._refuse(CLOSE_RATE_LIMITED, "rate_limited", "too many frames; wait, then reconnect",
                               retry_after=refused.retry_after if refused else 60)
            return
        if refused is not None:
            await self._rate_limited(refused, frame)
            return
        if invalid is not None:
            await self.send_error(invalid.code, invalid.detail)
            return
        assert frame is not None
        handler = self.handlers.get(frame["type"])
        if handler is None:
            await self.send_error("unknown_type", f"unknown frame type {frame['type'][:40]!r}")
            return
        try:
            await handler(self, frame)
        except Exception as exc:
            if not dbbusy.database_busy(exc):
                raise
            # Nothing was stored: the widget keeps the message and resends it (same client_id) after retry_after.
            metrics.database_busy_count("websocket")
            await self.send_error("busy", dbbusy.BUSY_DETAIL, retry_after=settings.DATABASE_BUSY_RETRY_AFTER_S,
                                  frame_type=frame["type"], **client_id_echo(frame))

    async def _rate_limited(self, exc: ratelimits.RateLimited, frame: dict[str, Any] | None) -> None:
        await self.send_error("rate_limited", f"too many messages; wait {exc.retry_after} s", limit=exc.what,
                              retry_after=exc.retry_after, **client_id_echo(frame))

    async def on_message(self, frame: dict[str, Any]) -> None:
        try:
            message, created = await self._call(
                services.message_post_customer, text=frame.get("text"), client_id=frame.get("client_id"),
                client_ip=self.client_ip,
            )
        except services.MessageRejected as exc:
            await self.send_error(exc.code, exc.detail, **client_id_echo(frame))
            return
        except ratelimits.RateLimited as exc:
            await self._rate_limited(exc, frame)
            return
        if not created:
            # A resend: the first copy was already broadcast; this socket gets it again.
            await self.send_json({"type": "message", "message": message_to_dict(message)})

    async def on_request_human(self, frame: dict[str, Any]) -> None:
        await self._call(services.conversation_request_human)

    async def on_stop(self, frame: dict[str, Any]) -> None:
        await self._call(services.replies_cancel)

    async def on_typing(self, frame: dict[str, Any]) -> None:
        """Shown to the agent who has the conversation open."""
        await self._call(services.customer_typing, active=frame.get("active"))

    async def on_feedback(self, frame: dict[str, Any]) -> None:
        try:
            feedback = await self._call(
                services.feedback_record,
                message_id=frame.get("message_id"),
                rating=frame.get("rating"),
                comment=frame.get("comment", ""),
            )
        except services.MessageRejected as exc:
            await self.send_error(exc.code, exc.detail)
            return
        # The comment as stored: the widget thanks for it on this acknowledgement, not on the thumb's before it.
        await self.send_json({"type": "feedback", "message_id": feedback.message_id, "rating": feedback.rating,
                              "comment": feedback.comment})

    async def on_csat(self, frame: dict[str, Any]) -> None:
        try:
            conversation = await self._call(services.csat_record, score=frame.get("score"),
                                            comment=frame.get("comment", ""))
        except services.MessageRejected as exc:
            await self.send_error(exc.code, exc.detail)
            return
        await self.send_json({"type": "csat", "score": conversation.csat_score})

    async def on_contact(self, frame: dict[str, Any]) -> None:
        try:
            await self._call(services.contact_record, email=frame.get("email"))
        except services.MessageRejected as exc:
            await self.send_error(exc.code, exc.detail)

    async def on_prechat(self, frame: dict[str, Any]) -> None:
        """The pre-chat form: an optional name and email, acknowledged with what was stored."""
        try:
            conversation = await self._call(
                services.conversation_contact_set, name=frame.get("name", ""), email=frame.get("email", "")
            )
        except services.MessageRejected as exc:
            await self.send_error(exc.code, exc.detail)
            return
        await self.send_json(
            {"type": "prechat", "name": conversation.contact_name, "email": conversation.contact_email}
        )

    handlers = {
        "message": on_message,
        "request_human": on_request_human,
        "stop": on_stop,
        "typing": on_typing,
        "feedback": on_feedback,
        "csat": on_csat,
        "contact": on_contact,
        "prechat": on_prechat,
    }

    async def _call(self, service: Any, **kwargs: Any) -> Any:
        """Run a service on this socket's conversation, loaded fresh in the same thread hop."""

        def call() -> Any:
            with log_context(conversation_id=self.conversation_id):
                conversation = conversation_get(conversation_id=self.conversation_id)
                return service(conversation=conversation, **kwargs)

        return await aio.db_call(call)

    # --- group events -> client -------------------------------------------------------
    async def reply_delta(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "delta", "message_id": event["message_id"], "seq": event["seq"], "text": event["text"]}
        )

    async def reply_done(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "done", "message": event["message"]})

    async def message_created(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def reply_throttled(self, event: dict[str, Any]) -> None:
        await self.send_error("reply_rate_limited",
                              f"the assistant answers again in {event['retry_after']} s; please wait, then ask again",
                              message_id=event["message_id"], retry_after=event["retry_after"])

    async def inbox_item(self, event: dict[str, Any]) -> None:
        """Console events never reach customer sockets; ignored should one ever be routed here."""

    async def conversation_status(self, event: dict[str, Any]) -> None:
        payload = {"type": "status", "status": event["status"]}
        for key in ("reason", "agent", "offline"):
            if key in event:
                payload[key] = event[key]
        await self.send_json(payload)

    async def conversation_typing(self, event: dict[str, Any]) -> None:
        if event["who"] != "customer":  # the customer's own typing is for the agents
            await self.send_json({"type": "typing", "who": event["who"], "active": event["active"]})
