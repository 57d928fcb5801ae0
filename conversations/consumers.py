"""The customer's websocket (docs/architecture.md § Websocket protocol): validate, call services, forward events.

Nothing here waits on Ollama: a consumer handles one event at a time, and a
long await would hold back every delta and the disconnect.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings

from helpdesk.observability import metrics
from helpdesk.observability.logs import log_context
from helpdesk.runtime import aio
from helpdesk.web import dbbusy, ratelimits, redisdown
from helpdesk.web.clientip import scope_client_ip

from . import events
from .protocol import client
from .protocol.codes import CloseCode, ErrorCode, FrameError
from .protocol.fields import client_id_echo
from .selectors.access import conversation_get, conversation_get_by_token, widget_origin_allowed
from .selectors.history import history_frame
from .selectors.messages import message_to_dict
from .services import contact, feedback, handoff, messages, notice, presence
from .services.cancel import reply_stop
from .sockets import JsonSocketConsumer, frame_encode


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Browsers always send Origin on websockets: it must be the server itself or a configured widget origin.

    Clients without an Origin header are not browsers and cannot be lured by
    another site, so they pass; the token is what guards the conversation.
    """
    headers = dict(scope.get("headers") or [])
    return widget_origin_allowed(
        origin=headers.get(b"origin", b"").decode("latin-1"), host=headers.get(b"host", b"").decode("latin-1")
    )


class CustomerChatConsumer(JsonSocketConsumer):
    conversation_id: int | None = None
    admitted = False  # counted among the conversation's open sockets (ratelimits.socket_admit)
    frames = client.CUSTOMER_FRAMES

    def frame_limits(self) -> tuple[int, str]:
        return (settings.MESSAGE_MAX_CHARS * 4 + 1024,
                f"frames are limited to {settings.MESSAGE_MAX_CHARS} characters of text")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """A socket opened while Redis is away fails before connect(): its channel cannot subscribe, the one thing
        done before. Answered like a busy database, 4503 after an error frame, so the widget says so and
        reconnects; not a 500."""
        try:
            await super().__call__(scope, receive, send)
        except Exception as exc:
            if getattr(self, "channel_name", None):
                raise
            redisdown.unavailable_record(exc, "websocket")
            if (await receive())["type"] != "websocket.connect":
                return
            await send({"type": "websocket.accept"})
            busy = {"type": "error", "code": ErrorCode.BUSY.value, "detail": dbbusy.BUSY_DETAIL}
            await send({"type": "websocket.send", "text": await self.encode_json(busy)})
            await send({"type": "websocket.close", "code": int(CloseCode.TRY_AGAIN_LATER)})

    async def connect(self) -> None:
        events.register_home_loop()
        self.client_ip = scope_client_ip(self.scope)
        await self.accept()
        if not origin_allowed(self.scope):
            await self.refuse(CloseCode.FORBIDDEN, ErrorCode.ORIGIN_NOT_ALLOWED, "this site may not open the chat")
            return
        token = self.scope["url_route"]["kwargs"].get("token", "")
        try:
            conversation = await aio.db_call(conversation_get_by_token, token=token)
        except Exception as exc:
            await self._refuse_if_busy(exc)
            return
        if conversation is None:
            await self.refuse(CloseCode.NOT_FOUND, ErrorCode.UNKNOWN_CONVERSATION, "no conversation has this token")
            return
        self.admitted = await asyncio.to_thread(
            ratelimits.socket_admit, conversation_id=conversation.pk, socket_id=self.channel_name
        )
        if not self.admitted:
            limit = settings.CHAT_MAX_SOCKETS_PER_CONVERSATION
            await self.refuse(CloseCode.RATE_LIMITED, ErrorCode.TOO_MANY_SOCKETS,
                              f"this conversation is open in {limit} windows already; close one", retry_after=60)
            return
        self.group = events.conversation_group(conversation.pk)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
            history = await aio.db_call(history_frame, conversation=conversation)
        except Exception as exc:
            await redisdown.tolerate("websocket", self.channel_layer.group_discard(self.group, self.channel_name))
            await asyncio.to_thread(ratelimits.socket_release, conversation_id=conversation.pk,
                                    socket_id=self.channel_name)
            self.admitted = False
            await self._refuse_if_busy(exc)
            return
        self.conversation_id = conversation.pk
        await asyncio.to_thread(presence.customer_socket_set, conversation_id=conversation.pk,
                                socket_id=self.channel_name, open=True)
        metrics.websocket_opened("chat")
        redisdown.watch.register(self)
        await self.send_json({"type": "history", **history})

    async def _refuse_if_busy(self, exc: Exception) -> None:
        """No connection in time, or no database at all (helpdesk.web.dbbusy), or no Redis to join the
        conversation's group (helpdesk.web.redisdown): close with 4503, and the widget reconnects; else
        re-raise."""
        if not _outage_recorded(exc):
            raise exc
        await self.refuse(CloseCode.TRY_AGAIN_LATER, ErrorCode.BUSY, dbbusy.BUSY_DETAIL)

    async def lost(self) -> None:
        """Redis went away or restarted (redisdown.RedisWatch): the events of the meantime are lost to this socket,
        so it is closed with 4503; the widget says "busy" and reconnects, reading its history afresh."""
        await self.refuse(CloseCode.TRY_AGAIN_LATER, ErrorCode.BUSY, dbbusy.BUSY_DETAIL)

    async def disconnect(self, code: int) -> None:
        redisdown.watch.unregister(self)
        if self.conversation_id is not None:
            metrics.websocket_closed("chat")
            await asyncio.to_thread(presence.customer_socket_set, conversation_id=self.conversation_id,
                                    socket_id=self.channel_name, open=False)
            await redisdown.tolerate("websocket", self.channel_layer.group_discard(self.group, self.channel_name))
        if self.admitted and self.conversation_id is not None:
            await asyncio.to_thread(ratelimits.socket_release, conversation_id=self.conversation_id,
                                    socket_id=self.channel_name)

    # --- client -> server -----------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.conversation_id is None:
            return
        frame: dict[str, Any] | None = None
        invalid: FrameError | None = None
        try:
            frame = self.frame_decode(text_data)
        except FrameError as exc:
            invalid = exc
        # Every frame counts, invalid ones too, for the conversation (all its sockets, every process)
        # and for the client's address; with the limits off, without a hop to a thread for nothing.
        refused, close = None, False
        if ratelimits.enabled():
            refused, close = await asyncio.to_thread(
                ratelimits.frame_check, conversation_id=self.conversation_id, client_ip=self.client_ip
            )
        if close:
            await self.refuse(CloseCode.RATE_LIMITED, ErrorCode.RATE_LIMITED, "too many frames; wait, then reconnect",
                              retry_after=refused.retry_after if refused else 60)
            return
        if refused is not None:
            await self._rate_limited(refused, **client_id_echo(frame))
            return
        if invalid is not None:
            await self.send_frame_error(invalid)
            return
        assert frame is not None
        try:
            await self.frame_handle(self.frame_parse(frame))
        except FrameError as exc:
            await self.send_frame_error(exc)
        except Exception as exc:
            # The database: nothing was stored. Redis: the message may be stored, its reply not queued (the sweeper
            # hands it to a person). Either way the widget keeps the message and resends it (same client_id: stored
            # once) after retry_after.
            if not _outage_recorded(exc):
                raise
            await self.send_error(ErrorCode.BUSY, dbbusy.BUSY_DETAIL,
                                  retry_after=settings.DATABASE_BUSY_RETRY_AFTER_S, frame_type=frame["type"],
                                  **client_id_echo(frame))

    async def _rate_limited(self, exc: ratelimits.RateLimited, **echo: Any) -> None:
        await self.send_error(ErrorCode.RATE_LIMITED, f"too many messages; wait {exc.retry_after} s",
                              limit=exc.what, retry_after=exc.retry_after, **echo)

    async def on_message(self, frame: client.ChatMessage) -> None:
        try:
            message, created = await self._call(
                messages.message_post_customer, text=frame.text, client_id=frame.client_id, client_ip=self.client_ip
            )
        except FrameError as exc:
            await self.send_frame_error(exc, client_id=frame.client_id)
            return
        except ratelimits.RateLimited as exc:
            await self._rate_limited(exc, client_id=frame.client_id)
            return
        if not created:
            # A resend: the first copy was already broadcast; this socket gets it again.
            await self.send_json({"type": "message", "message": message_to_dict(message)})

    async def on_request_human(self, frame: client.RequestHuman) -> None:
        await self._call(handoff.conversation_request_human)

    async def on_stop(self, frame: client.Stop) -> None:
        await self._call(reply_stop)

    async def on_typing(self, frame: client.Typing) -> None:
        """Shown to the agent who has the conversation open."""
        await self._call(presence.customer_typing, active=frame.active)

    async def on_feedback(self, frame: client.Feedback) -> None:
        vote = await self._call(feedback.feedback_record, message_id=frame.message_id, rating=frame.rating,
                                comment=frame.comment)
        # The comment as stored: the widget thanks for it on this acknowledgement, not on the thumb's before it.
        await self.send_json({"type": "feedback", "message_id": vote.message_id, "rating": vote.rating,
                              "comment": vote.comment})

    async def on_csat(self, frame: client.Csat) -> None:
        conversation = await self._call(feedback.csat_record, score=frame.score, comment=frame.comment)
        await self.send_json({"type": "csat", "score": conversation.csat_score})

    async def on_contact(self, frame: client.Contact) -> None:
        await self._call(contact.contact_record, email=frame.email)

    async def on_prechat(self, frame: client.Prechat) -> None:
        """The pre-chat form: an optional name and email, acknowledged with what was stored."""
        conversation = await self._call(contact.conversation_contact_set, name=frame.name, email=frame.email)
        await self.send_json(
            {"type": "prechat", "name": conversation.contact_name, "email": conversation.contact_email}
        )

    async def on_privacy_notice(self, frame: client.PrivacyNotice) -> None:
        """The widget showed the privacy notice: recorded once per version, acknowledged so it is not sent again."""
        conversation = await self._call(notice.privacy_notice_record, version=frame.version)
        await self.send_json({"type": "privacy_notice", "version": conversation.privacy_notice_version})

    async def _call(self, service: Any, **kwargs: Any) -> Any:
        """Run a service on this socket's conversation, loaded fresh in the same thread hop."""

        def call() -> Any:
            with log_context(conversation_id=self.conversation_id):
                conversation = conversation_get(conversation_id=self.conversation_id)
                return service(conversation=conversation, **kwargs)

        return await aio.db_call(call)

    # --- group events -> client -------------------------------------------------------
    async def reply_delta(self, event: dict[str, Any]) -> None:
        """The hot path: ~100 per streamed reply, so one encoding and one send, no other await."""
        await self.send_text(
            frame_encode({"type": "delta", "message_id": event["message_id"], "seq": event["seq"],
                          "text": event["text"]})
        )

    async def reply_done(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "done", "message": event["message"]})

    async def message_created(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def reply_throttled(self, event: dict[str, Any]) -> None:
        await self.send_error(ErrorCode.REPLY_RATE_LIMITED,
                              f"the assistant answers again in {event['retry_after']} s; please wait, then ask again",
                              message_id=event["message_id"], retry_after=event["retry_after"])

    async def inbox_item(self, event: dict[str, Any]) -> None:
        """Console events never reach customer sockets; ignored should one ever be routed here."""

    async def conversation_erased(self, event: dict[str, Any]) -> None:
        await self.refuse(CloseCode.NOT_FOUND, ErrorCode.UNKNOWN_CONVERSATION, "this conversation was erased")

    async def conversation_status(self, event: dict[str, Any]) -> None:
        payload = {"type": "status", "status": event["status"]}
        for key in ("reason", "agent", "offline"):
            if key in event:
                payload[key] = event[key]
        await self.send_json(payload)

    async def conversation_typing(self, event: dict[str, Any]) -> None:
        if event["who"] != "customer":  # the customer's own typing is for the agents
            await self.send_json({"type": "typing", "who": event["who"], "active": event["active"]})


def _outage_recorded(exc: BaseException) -> bool:
    """Whether `exc` means the database or Redis could not be reached; counted and logged as such when it does (the
    socket then answers "busy" instead of failing)."""
    if dbbusy.database_unavailable(exc):
        dbbusy.unavailable_record(exc, "websocket")
    elif redisdown.redis_unavailable(exc):
        redisdown.unavailable_record(exc, "websocket")
    else:
        return False
    return True
