"""The agents' websocket `/ws/console/`: a live inbox, and one open conversation at a time.

Thin like the customer's consumer: authorise, parse, call agents.services,
forward group events. The inbox comes from the `console` group; the open
conversation's stream (deltas, replies, status, typing) from the customer's
own group, and private notes from a console-only group.
"""

from __future__ import annotations

import asyncio
from typing import Any

from conversations import events
from conversations.actions.approval import ApprovalRefused
from conversations.models import Conversation, Message
from conversations.protocol import client
from conversations.protocol.codes import CloseCode, ErrorCode, FrameError
from conversations.protocol.fields import client_id_echo
from conversations.selectors import inbox as inbox_selectors
from conversations.selectors import messages as message_selectors
from conversations.selectors import teams as team_selectors
from conversations.selectors.messages import agent_name
from conversations.services import handoff, presence
from conversations.sockets import JsonSocketConsumer
from helpdesk.observability import metrics
from helpdesk.runtime import aio
from helpdesk.web import ratelimits

from . import saved_views, selectors, services

MAX_FRAME_CHARS = 64_000


class AgentConsoleConsumer(JsonSocketConsumer):
    open_conversation_id: int | None = None
    agent: Any = None
    frames = client.CONSOLE_FRAMES

    def frame_limits(self) -> tuple[int, str]:
        return MAX_FRAME_CHARS, f"frames are limited to {MAX_FRAME_CHARS} characters"

    async def connect(self) -> None:
        events.register_home_loop()
        await self.accept()
        user = self.scope.get("user")
        if not await self._still_allowed(user):
            return
        self.agent = await aio.db_call(selectors.user_get, user_id=user.pk)
        metrics.websocket_opened("console")
        await self.channel_layer.group_add(events.CONSOLE_GROUP, self.channel_name)
        await aio.db_call(presence.agent_console_connected, agent_id=self.agent.pk)
        await self.send_json({
            "type": "hello",
            "agent": {"id": self.agent.pk, "name": agent_name(self.agent)},
            "agents": await aio.db_call(selectors.agents_list),
            "canned": await aio.db_call(selectors.canned_responses),
            "teams": await aio.db_call(team_selectors.teams_list, agent_id=self.agent.pk),
            "labels": await aio.db_call(team_selectors.labels_list),
            "views": await aio.db_call(saved_views.saved_views_list, agent_id=self.agent.pk),
        })
        await self.on_inbox(client.InboxPage())

    async def disconnect(self, code: int) -> None:
        if self.agent is None:
            return
        metrics.websocket_closed("console")
        await self.channel_layer.group_discard(events.CONSOLE_GROUP, self.channel_name)
        await self._leave_open_conversation()
        await aio.db_call(presence.agent_presence_set, agent_id=self.agent.pk, online=False)

    async def _still_allowed(self, user: Any) -> bool:
        """Whether `user` may use the console now (re-read from the database: checked on connect and before
        every frame; see selectors.console_allowed); if not, the socket is told why and closed."""
        if await aio.db_call(selectors.console_allowed, user=user, session=self.scope.get("session")):
            return True
        await self.refuse(CloseCode.FORBIDDEN, ErrorCode.FORBIDDEN, "sign in as an agent first")
        return False

    # --- agent -> server --------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.agent is None or not await self._still_allowed(self.agent):
            return
        try:  # every frame counts, invalid ones too
            await asyncio.to_thread(ratelimits.agent_frame_check, agent_id=self.agent.pk)
        except ratelimits.RateLimited as exc:
            await self.send_error(ErrorCode.RATE_LIMITED, f"too many frames; wait {exc.retry_after} s",
                                  retry_after=exc.retry_after)
            return
        try:
            raw = self.frame_decode(text_data)
            frame = self.frame_parse(raw)
        except FrameError as exc:
            await self.send_frame_error(exc)
            return
        try:
            await self.frame_handle(frame)
        except Exception as exc:
            await self._refused(exc, conversation_id=raw.get("conversation_id"), echo=client_id_echo(raw))

    async def _refused(self, exc: Exception, *, conversation_id: Any, echo: dict[str, Any]) -> None:
        """The error frame for what a service refused; anything else is raised again."""
        match exc:
            case handoff.ConversationTaken():
                await self.send_error(ErrorCode.TAKEN, f"{exc.agent_name} has this conversation",
                                      agent=exc.agent_name, conversation_id=conversation_id)
            case handoff.NotYourConversation():
                await self.send_error(ErrorCode.NOT_YOURS, str(exc), conversation_id=conversation_id)
            case FrameError():
                await self.send_frame_error(exc, conversation_id=conversation_id, **echo)
            case Conversation.DoesNotExist():
                await self.send_error(ErrorCode.UNKNOWN_CONVERSATION, "no conversation has this number",
                                      conversation_id=conversation_id)
            case ApprovalRefused():
                await self.send_error(ErrorCode.NOT_PROPOSED, str(exc), conversation_id=conversation_id,
                                      call_id=exc.call_id, status=exc.status)
            case ratelimits.RateLimited():
                await self.send_error(ErrorCode.RATE_LIMITED, f"too many requests; wait {exc.retry_after} s",
                                      conversation_id=conversation_id, limit=exc.what, retry_after=exc.retry_after)
            case _:
                raise exc

    async def on_ping(self, frame: client.Ping) -> None:
        await aio.db_call(presence.agent_console_connected, agent_id=self.agent.pk)
        await self.send_json({"type": "pong"})

    async def on_inbox(self, frame: client.InboxPage) -> None:
        """A page of the inbox: the first without `cursor`, the next with the `next` of the page before."""
        try:
            page = await aio.db_call(inbox_selectors.inbox_page, agent_id=self.agent.pk, status=frame.status,
                                     search=frame.search, cursor=frame.cursor, channel=frame.channel,
                                     team=frame.team, label=frame.label, priority=frame.priority, mine=frame.mine)
        except inbox_selectors.BadCursor:
            await self.send_error(ErrorCode.BAD_CURSOR, "cursor must be the `next` of an inbox page")
            return
        await self.send_json({"type": "inbox", "items": page["items"], "next": page["next"], "cursor": frame.cursor})

    async def on_open(self, frame: client.Open) -> None:
        conversation_id = frame.conversation_id
        groups = (events.conversation_group(conversation_id), events.console_conversation_group(conversation_id))
        # Joined before the conversation is read: a reply streaming meanwhile is in what is read (its text so far
        # and last seq) or comes in deltas after it, never in neither (the console would wait for its `done`).
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        detail = await aio.db_call(inbox_selectors.conversation_for_agents, conversation_id=conversation_id)
        if detail is None:
            if conversation_id != self.open_conversation_id:
                for group in groups:
                    await self.channel_layer.group_discard(group, self.channel_name)
            raise Conversation.DoesNotExist
        if conversation_id != self.open_conversation_id:
            await self._leave_open_conversation()
        self.open_conversation_id = conversation_id
        await self.send_json({"type": "conversation", **detail})

    async def _leave_open_conversation(self) -> None:
        if self.open_conversation_id is not None:
            previous = self.open_conversation_id
            self.open_conversation_id = None
            await self.channel_layer.group_discard(events.conversation_group(previous), self.channel_name)
            await self.channel_layer.group_discard(events.console_conversation_group(previous), self.channel_name)

    async def on_take_over(self, frame: client.TakeOver) -> None:
        await aio.db_call(services.conversation_take_over, agent=self.agent, conversation_id=frame.conversation_id)

    async def on_hand_back(self, frame: client.HandBack) -> None:
        await aio.db_call(services.conversation_hand_back, agent=self.agent, conversation_id=frame.conversation_id)

    async def on_resolve(self, frame: client.Resolve) -> None:
        await aio.db_call(services.conversation_resolve, agent=self.agent, conversation_id=frame.conversation_id)

    async def on_assign(self, frame: client.Assign) -> None:
        def assign() -> None:
            to_agent = selectors.agent_find(agent_id=frame.agent_id)
            if to_agent is None:
                raise FrameError(ErrorCode.UNKNOWN_AGENT, "no agent has this number")
            services.conversation_assign(agent=self.agent, conversation_id=frame.conversation_id, to_agent=to_agent)

        await aio.db_call(assign)

    async def on_set_labels(self, frame: client.SetLabels) -> None:
        await aio.db_call(services.conversation_labels_set, agent=self.agent, conversation_id=frame.conversation_id,
                          labels=list(frame.labels))

    async def on_set_priority(self, frame: client.SetPriority) -> None:
        await aio.db_call(services.conversation_priority_set, agent=self.agent,
                          conversation_id=frame.conversation_id, priority=frame.priority)

    async def on_view_save(self, frame: client.ViewSave) -> None:
        view = await aio.db_call(saved_views.saved_view_save, agent=self.agent, name=frame.name,
                                 filters=frame.filters)
        await self._send_views(saved=view.pk)

    async def on_view_delete(self, frame: client.ViewDelete) -> None:
        await aio.db_call(saved_views.saved_view_delete, agent=self.agent, view_id=frame.view_id)
        await self._send_views()

    async def _send_views(self, **extra: Any) -> None:
        """The agent's views, all of them, after a change (only to this socket: another console of the same
        agent sees them on its next `hello`)."""
        views = await aio.db_call(saved_views.saved_views_list, agent_id=self.agent.pk)
        await self.send_json({"type": "views", "views": views, **extra})

    async def on_reply(self, frame: client.AgentReply) -> None:
        await aio.db_call(services.message_post_agent, agent=self.agent, conversation_id=frame.conversation_id,
                          text=frame.text, client_id=frame.client_id)

    async def on_note(self, frame: client.Note) -> None:
        await aio.db_call(services.note_add, agent=self.agent, conversation_id=frame.conversation_id, text=frame.text)

    async def on_draft(self, frame: client.Draft) -> None:
        await aio.db_call(services.draft_request, agent=self.agent, conversation_id=frame.conversation_id)

    async def on_action_approve(self, frame: client.ActionApprove) -> None:
        await aio.db_call(services.action_approve, agent=self.agent, conversation_id=frame.conversation_id,
                          call_id=frame.call_id)

    async def on_action_decline(self, frame: client.ActionDecline) -> None:
        await aio.db_call(services.action_decline, agent=self.agent, conversation_id=frame.conversation_id,
                          call_id=frame.call_id)

    async def on_typing(self, frame: client.AgentTyping) -> None:
        await aio.db_call(presence.agent_typing, conversation_id=frame.conversation_id, active=frame.active)

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
        return await aio.db_call(message_selectors.message_for_agents, message_id=message_id)

    async def reply_done(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            message = await self._agent_view(event["message"]["id"]) or event["message"]
            await self.send_json({"type": "done", "conversation_id": event["conversation_id"], "message": message})

    async def message_created(self, event: dict[str, Any]) -> None:
        if self._is_open(event):
            message = event["message"]
            # An FAQ or cached answer: agents see how it was made; a customer's message: its intent and details.
            if message["role"] in (Message.Role.BOT, Message.Role.CUSTOMER):
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
