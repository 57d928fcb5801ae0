"""The agents' websocket `/ws/console/`: a live inbox, and one open conversation at a time.

Thin like the customer's consumer: authorise, parse, call agents.services,
forward group events. The inbox comes from the `console` group; the open
conversation's stream (deltas, replies, status, typing) from the customer's
own group, and private notes from a console-only group.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from conversations import events
from conversations import services as conversation_services
from conversations.consumers import FrameError, client_id_echo, frame_decode
from conversations.models import Conversation, Message
from conversations.selectors.inbox import BadCursor, conversation_for_agents, inbox_page
from conversations.selectors.messages import agent_name, message_to_agent_dict
from helpdesk.observability import metrics
from helpdesk.runtime import aio
from helpdesk.web import ratelimits

from . import selectors, services

CLOSE_FORBIDDEN = 4403
MAX_FRAME_CHARS = 64_000


class AgentConsoleConsumer(AsyncJsonWebsocketConsumer):
    open_conversation_id: int | None = None
    agent: Any = None

    @classmethod
    async def encode_json(cls, content: dict[str, Any]) -> str:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"))

    async def connect(self) -> None:
        events.register_home_loop()
        await self.accept()
        user = self.scope.get("user")
        if not await self._still_allowed(user):
            return
        self.agent = await aio.db_call(lambda: get_user_model().objects.get(pk=user.pk))
        metrics.websocket_opened("console")
        await self.channel_layer.group_add(events.CONSOLE_GROUP, self.channel_name)
        await aio.db_call(conversation_services.agent_presence_set, agent_id=self.agent.pk, online=True)
        await self.send_json({
            "type": "hello",
            "agent": {"id": self.agent.pk, "name": agent_name(self.agent)},
            "agents": await aio.db_call(selectors.agents_list),
            "canned": await aio.db_call(selectors.canned_responses),
        })
        await self.on_inbox({})

    async def disconnect(self, code: int) -> None:
        if self.agent is None:
            return
        metrics.websocket_closed("console")
        await self.channel_layer.group_discard(events.CONSOLE_GROUP, self.channel_name)
        await self._leave_open_conversation()
        await aio.db_call(conversation_services.agent_presence_set, agent_id=self.agent.pk, online=False)

    async def send_error(self, code: str, detail: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})

    async def _still_allowed(self, user: Any) -> bool:
        """Whether `user` may use the console now (re-read from the database: checked on connect and before
        every frame; see selectors.console_allowed); if not, the socket is told why and closed."""
        if await aio.db_call(selectors.console_allowed, user=user, session=self.scope.get("session")):
            return True
        await self.send_error("forbidden", "sign in as an agent first")
        await self.close(code=CLOSE_FORBIDDEN)
        return False

    # --- agent -> server --------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.agent is None or not await self._still_allowed(self.agent):
            return
        try:  # every frame counts, invalid ones too
            await asyncio.to_thread(ratelimits.agent_frame_check, agent_id=self.agent.pk)
        except ratelimits.RateLimited as exc:
            await self.send_error("rate_limited", f"too many frames; wait {exc.retry_after} s",
                                  retry_after=exc.retry_after)
            return
        try:
            frame = frame_decode(text_data, max_chars=MAX_FRAME_CHARS,
                                 too_large=f"frames are limited to {MAX_FRAME_CHARS} characters")
        except FrameError as exc:
            await self.send_error(exc.code, exc.detail)
            return
        handler = self.handlers.get(frame["type"])
        if handler is None:
            await self.send_error("unknown_type", f"unknown frame type {frame['type'][:40]!r}")
            return
        conversation_id = frame.get("conversation_id")
        well_formed = isinstance(conversation_id, int) and not isinstance(conversation_id, bool)
        if handler in self.per_conversation and not well_formed:
            await self.send_error("bad_frame", "conversation_id must be a conversation's number")
            return
        try:
            await handler(self, frame)
        except conversation_services.ConversationTaken as exc:
            await self.send_error("taken", f"{exc.agent_name} has this conversation", agent=exc.agent_name,
                                  conversation_id=conversation_id)
        except conversation_services.NotYourConversation as exc:
            await self.send_error("not_yours", str(exc), conversation_id=conversation_id)
        except conversation_services.MessageRejected as exc:
            await self.send_error(exc.code, exc.detail, conversation_id=conversation_id, **client_id_echo(frame))
        except Conversation.DoesNotExist:
            await self.send_error("unknown_conversation", "no conversation has this number",
                                  conversation_id=conversation_id)
        except ratelimits.RateLimited as exc:
            await self.send_error("rate_limited", f"too many requests; wait {exc.retry_after} s",
                                  conversation_id=conversation_id, limit=exc.what, retry_after=exc.retry_after)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await aio.db_call(conversation_services.agent_presence_set, agent_id=self.agent.pk, online=True)
        await self.send_json({"type": "pong"})

    async def on_inbox(self, frame: dict[str, Any]) -> None:
        """A page of the inbox: the first without `cursor`, the next with the `next` of the page before."""
        status = frame.get("status") if isinstance(frame.get("status"), str) else ""
        search = frame.get("search") if isinstance(frame.get("search"), str) else ""
        cursor = frame.get("cursor") if isinstance(frame.get("cursor"), str) else ""
        try:
            page = await aio.db_call(inbox_page, agent_id=self.agent.pk, status=status[:20],
                                     search=search[:200], cursor=cursor[:200])
        except BadCursor:
            await self.send_error("bad_cursor", "cursor must be the `next` of an inbox page")
            return
        await self.send_json({"type": "inbox", "items": page["items"], "next": page["next"], "cursor": cursor})

    async def on_open(self, frame: dict[str, Any]) -> None:
        conversation_id = frame["conversation_id"]
        detail = await aio.db_call(conversation_for_agents, conversation_id=conversation_id)
        if detail is None:
            raise Conversation.DoesNotExist
        await self._leave_open_conversation()
        self.open_conversation_id = conversation_id
        await self.channel_layer.group_add(events.conversation_group(conversation_id), self.channel_name)
        await self.channel_layer.group_add(events.console_conversation_group(conversation_id), self.channel_name)
        await self.send_json({"type": "conversation", **detail})

    async def _leave_open_conversation(self) -> None:
        if self.open_conversation_id is not None:
            previous = self.open_conversation_id
            self.open_conversation_id = None
            await self.channel_layer.group_discard(events.conversation_group(previous), self.channel_name)
            await self.channel_layer.group_discard(events.console_conversation_group(previous), self.channel_name)

    async def on_take_over(self, frame: dict[str, Any]) -> None:
        await aio.db_call(services.conversation_take_over, agent=self.agent, conversation_id=frame["conversation_id"])

    async def on_hand_back(self, frame: dict[str, Any]) -> None:
        await aio.db_call(services.conversation_hand_back, agent=self.agent, conversation_id=frame["conversation_id"])

    async def on_resolve(self, frame: dict[str, Any]) -> None:
        await aio.db_call(services.conversation_resolve, agent=self.agent, conversation_id=frame["conversation_id"])

    async def on_assign(self, frame: dict[str, Any]) -> None:
        def assign() -> None:
            to_agent = get_user_model().objects.filter(pk=frame.get("agent_id")).first() if isinstance(
                frame.get("agent_id"), int) else None
            if to_agent is None or not selectors.user_is_agent(to_agent):
                raise conversation_services.MessageRejected("unknown_agent", "no agent has this number")
            services.conversation_assign(agent=self.agent, conversation_id=frame["conversation_id"], to_agent=to_agent)

        await aio.db_call(assign)

    async def on_reply(self, frame: dict[str, Any]) -> None:
        await aio.db_call(services.message_post_agent, agent=self.agent, conversation_id=frame["conversation_id"],
                          text=frame.get("text"), client_id=frame.get("client_id"))

    async def on_note(self, frame: dict[str, Any]) -> None:
        await aio.db_call(services.note_add, agent=self.agent, conversation_id=frame["conversation_id"],
                          text=frame.get("text"))

    async def on_draft(self, frame: dict[str, Any]) -> None:
        await aio.db_call(services.draft_request, agent=self.agent, conversation_id=frame["conversation_id"])

    async def on_typing(self, frame: dict[str, Any]) -> None:
        await aio.db_call(conversation_services.agent_typing, conversation_id=frame["conversation_id"],
                          active=bool(frame.get("active")))

    handlers = {
        "ping": on_ping,
        "inbox": on_inbox,
        "open": on_open,
        "take_over": on_take_over,
        "hand_back": on_hand_back,
        "resolve": on_resolve,
        "assign": on_assign,
        "reply": on_reply,
        "note": on_note,
        "typing": on_typing,
        "draft": on_draft,
    }
    per_conversation = {
        on_open, on_take_over, on_hand_back, on_resolve, on_assign, on_reply, on_note, on_typing, on_draft
    }

    # --- group events -> agent ------------------------------------------------------------------
    def _is_open(self, event: dict[str, Any]) -> bool:
        return event.get("conversation_id") == self.open_conversation_id

    async def inbox_item(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "inbox_item", "item": event["item"]})

    async def reply_delta(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            await self.send_json({"type": "delta", "conversation_id": event["conversation_id"],
                                  "message_id": event["message_id"], "seq": event["seq"], "text": event["text"]})

    async def _agent_view(self, message_id: int) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            message = Message.objects.select_related("author").filter(pk=message_id).first()
            return message_to_agent_dict(message) if message else None

        return await aio.db_call(load)

    async def reply_done(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            message = await self._agent_view(event["message"]["id"]) or event["message"]
            await self.send_json({"type": "done", "conversation_id": event["conversation_id"], "message": message})

    async def message_created(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            message = event["message"]
            if message["role"] == Message.Role.BOT:  # an FAQ or cached answer: agents see how it was made
                message = await self._agent_view(message["id"]) or message
            await self.send_json({"type": "message", "conversation_id": event["conversation_id"], "message": message})

    async def reply_throttled(self, event: dict[str, Any]) -> None:
        """The customer's model-call budget is spent: their message waits unanswered (shown as unanswered)."""

    async def note_created(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            await self.send_json({"type": "note", "conversation_id": event["conversation_id"],
                                  "message": event["message"]})

    async def message_reviewed(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            await self.send_json({"type": "message", "conversation_id": event["conversation_id"],
                                  "message": event["message"]})

    async def draft_ready(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            await self.send_json({"type": "draft", "conversation_id": event["conversation_id"], **event["draft"]})

    async def conversation_status(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            payload = {"type": "status", "conversation_id": event["conversation_id"], "status": event["status"]}
            for key in ("reason", "agent"):
                if key in event:
                    payload[key] = event[key]
            await self.send_json(payload)

    async def conversation_typing(self, event: dict[str, Any]) -> None:
        if self._is_open(event) and event["who"] != "agent":
            await self.send_json({"type": "typing", "conversation_id": event["conversation_id"],
                                  "who": event["who"], "active": event["active"]})
