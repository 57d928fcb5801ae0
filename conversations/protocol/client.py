"""Client -> server frames as typed values: `parse` checks a decoded frame (fields.py) and builds one.

A consumer parses, then hands the fields to a service: services never see a
raw frame. The `type` of each class is the frame's "type"; the consumer's
handler for it is `on_<type>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from . import fields
from .codes import ErrorCode, FrameError, Priority

PRIORITIES = tuple(Priority.values)


@dataclass(frozen=True)
class ClientFrame:
    type: ClassVar[str]

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        """The frames that carry nothing but their type."""
        return cls()


# --- the customer's socket (/ws/chat/<token>/) --------------------------------------------------------


@dataclass(frozen=True)
class ChatMessage(ClientFrame):
    type = "message"
    text: str
    client_id: str

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        with fields.errors_with(**fields.client_id_echo(frame)):  # the widget marks that message not delivered
            return cls(text=fields.message_text(frame.get("text")), client_id=fields.client_id(frame.get("client_id")))


@dataclass(frozen=True)
class RequestHuman(ClientFrame):
    type = "request_human"


@dataclass(frozen=True)
class Stop(ClientFrame):
    type = "stop"


@dataclass(frozen=True)
class Typing(ClientFrame):
    type = "typing"
    active: bool

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        return cls(active=bool(frame.get("active")))


@dataclass(frozen=True)
class Feedback(ClientFrame):
    type = "feedback"
    message_id: int
    rating: int
    comment: str

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        rating = fields.rating(frame.get("rating"))
        comment = fields.comment(frame.get("comment", ""), code=ErrorCode.INVALID_FEEDBACK)
        return cls(message_id=fields.bot_message_id(frame.get("message_id")), rating=rating, comment=comment)


@dataclass(frozen=True)
class Csat(ClientFrame):
    type = "csat"
    score: int
    comment: str

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        score = fields.csat_score(frame.get("score"))
        return cls(score=score, comment=fields.comment(frame.get("comment", ""), code=ErrorCode.INVALID_CSAT))


@dataclass(frozen=True)
class Contact(ClientFrame):
    type = "contact"
    email: str

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        return cls(email=fields.contact_email(frame.get("email"), required=True))


@dataclass(frozen=True)
class Prechat(ClientFrame):
    type = "prechat"
    name: str
    email: str

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        name = fields.contact_name(frame.get("name", ""))
        return cls(name=name, email=fields.contact_email(frame.get("email", ""), required=False))


@dataclass(frozen=True)
class PrivacyNotice(ClientFrame):
    """The widget showed the privacy notice (WIDGET_PRIVACY_NOTICE_URL) of this version."""

    type = "privacy_notice"
    version: str

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        version = frame.get("version")
        if not isinstance(version, str) or not 0 < len(version) <= 64:
            raise FrameError(ErrorCode.BAD_FRAME, "version must be the notice's version, 1-64 characters")
        return cls(version=version)


CUSTOMER_FRAMES: dict[str, type[ClientFrame]] = {
    frame.type: frame
    for frame in (ChatMessage, RequestHuman, Stop, Typing, Feedback, Csat, Contact, Prechat, PrivacyNotice)
}


# --- the agents' console (/ws/console/) --------------------------------------------------------------


@dataclass(frozen=True)
class Ping(ClientFrame):
    type = "ping"


@dataclass(frozen=True)
class InboxPage(ClientFrame):
    """A page of the inbox: the first without `cursor`, the next with the `next` of the page before."""

    type = "inbox"
    status: str = ""
    search: str = ""
    cursor: str = ""
    channel: str = ""  # "web", "app:<name>", or "app" for every app's
    team: int | None = None  # a team's id; 0: conversations of no team; None: every team's
    label: str = ""
    priority: str = ""
    mine: bool = False  # only the requesting agent's own

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        team = frame.get("team")
        return cls(status=fields.text_of_str(frame.get("status"))[:20],
                   search=fields.text_of_str(frame.get("search"))[:200],
                   cursor=fields.text_of_str(frame.get("cursor"))[:200],
                   channel=fields.text_of_str(frame.get("channel"))[:64],
                   team=team if isinstance(team, int) and not isinstance(team, bool) and team >= 0 else None,
                   label=fields.text_of_str(frame.get("label"))[:48],
                   priority=fields.text_of_str(frame.get("priority"))[:8],
                   mine=frame.get("mine") is True)


# An inbox frame's filters as a saved view keeps them (agents.saved_views): each key and its longest text.
INBOX_FILTER_TEXTS = {"status": 20, "search": 200, "channel": 64, "label": 48, "priority": 8}
INBOX_FILTERS = (*INBOX_FILTER_TEXTS, "team", "mine")


def inbox_filters(value: Any) -> dict[str, Any]:
    """`value` checked as an inbox frame's filters, empty ones left out; refused (invalid_view) rather than cut
    short, since a saved view that silently differs from what the agent saw would be worse than none."""
    if not isinstance(value, dict):
        raise FrameError(ErrorCode.INVALID_VIEW, "filters must be an object")
    unknown = sorted(set(value) - set(INBOX_FILTERS))
    if unknown:
        raise FrameError(ErrorCode.INVALID_VIEW, f"filters may only be {', '.join(INBOX_FILTERS)}, not "
                                                 f"{', '.join(unknown)[:100]}")
    kept: dict[str, Any] = {}
    for key, longest in INBOX_FILTER_TEXTS.items():
        text = value.get(key)
        if text is None or text == "":
            continue
        if not isinstance(text, str) or len(text) > longest:
            raise FrameError(ErrorCode.INVALID_VIEW, f"{key} must be text of at most {longest} characters")
        kept[key] = text
    if kept.get("priority", "") not in ("", *PRIORITIES):
        raise FrameError(ErrorCode.INVALID_VIEW, f"priority must be one of {', '.join(PRIORITIES)}")
    team = value.get("team")
    if team is not None:
        if not isinstance(team, int) or isinstance(team, bool) or team < 0:
            raise FrameError(ErrorCode.INVALID_VIEW, "team must be a team's number (0: no team)")
        kept["team"] = team
    mine = value.get("mine", False)
    if not isinstance(mine, bool):
        raise FrameError(ErrorCode.INVALID_VIEW, "mine must be true or false")
    if mine:
        kept["mine"] = True
    return kept


def view_name(value: Any) -> str:
    """A saved view's name: 1-60 characters once stripped."""
    name = value.strip() if isinstance(value, str) else ""
    if not 0 < len(name) <= 60:
        raise FrameError(ErrorCode.INVALID_VIEW, "name must be 1-60 characters")
    return name


@dataclass(frozen=True)
class ViewSave(ClientFrame):
    """Save the inbox's filters under a name (the same name again replaces that view)."""

    type = "view_save"
    name: str
    filters: dict[str, Any]

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        return cls(name=view_name(frame.get("name")), filters=inbox_filters(frame.get("filters")))


@dataclass(frozen=True)
class ViewDelete(ClientFrame):
    type = "view_delete"
    view_id: int

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        view_id = frame.get("view_id")
        if not isinstance(view_id, int) or isinstance(view_id, bool) or view_id <= 0:
            raise FrameError(ErrorCode.INVALID_VIEW, "view_id must be the number of one of your saved views")
        return cls(view_id=view_id)


@dataclass(frozen=True)
class ConversationFrame(ClientFrame):
    """A console frame about one conversation; its field errors name the conversation (and echo a client_id)."""

    conversation_id: int

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Self:
        conversation_id = fields.conversation_id(frame)
        with fields.errors_with(conversation_id=conversation_id, **fields.client_id_echo(frame)):
            return cls(conversation_id=conversation_id, **cls.parse_fields(frame))

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class Open(ConversationFrame):
    type = "open"


@dataclass(frozen=True)
class TakeOver(ConversationFrame):
    type = "take_over"


@dataclass(frozen=True)
class HandBack(ConversationFrame):
    type = "hand_back"


@dataclass(frozen=True)
class Resolve(ConversationFrame):
    type = "resolve"


@dataclass(frozen=True)
class Draft(ConversationFrame):
    type = "draft"


@dataclass(frozen=True)
class Assign(ConversationFrame):
    type = "assign"
    agent_id: int | None  # None: not a number (refused as an unknown agent)

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        agent_id = frame.get("agent_id")
        return {"agent_id": agent_id if isinstance(agent_id, int) else None}


@dataclass(frozen=True)
class AgentReply(ConversationFrame):
    type = "reply"
    text: str
    client_id: str | None  # None: the console sent none (older consoles)

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        text = fields.message_text(frame.get("text"))
        client_id = frame.get("client_id")
        return {"text": text, "client_id": None if client_id is None else fields.client_id(client_id)}


@dataclass(frozen=True)
class Note(ConversationFrame):
    type = "note"
    text: str

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        return {"text": fields.message_text(frame.get("text"))}


@dataclass(frozen=True)
class AgentTyping(ConversationFrame):
    type = "typing"
    active: bool

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        return {"active": bool(frame.get("active"))}


@dataclass(frozen=True)
class ActionApprove(ConversationFrame):
    """Run a proposed action call of this conversation (conversations.actions.approval)."""

    type = "action_approve"
    call_id: int

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        call_id = frame.get("call_id")
        if not isinstance(call_id, int) or isinstance(call_id, bool) or call_id <= 0:
            raise FrameError(ErrorCode.BAD_FRAME, "call_id must be the number of a proposed action call")
        return {"call_id": call_id}


@dataclass(frozen=True)
class ActionDecline(ActionApprove):
    type = "action_decline"


@dataclass(frozen=True)
class SetLabels(ConversationFrame):
    """The conversation's labels, all of them (conversations.services.triage)."""

    type = "set_labels"
    labels: tuple[str, ...]

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        labels = frame.get("labels")
        if not isinstance(labels, list) or not all(isinstance(name, str) for name in labels) or len(labels) > 10:
            raise FrameError(ErrorCode.BAD_FRAME, "labels must be a list of at most 10 names")
        return {"labels": tuple(name[:48] for name in labels)}


@dataclass(frozen=True)
class SetPriority(ConversationFrame):
    type = "set_priority"
    priority: str

    @classmethod
    def parse_fields(cls, frame: dict[str, Any]) -> dict[str, Any]:
        priority = frame.get("priority")
        if priority not in PRIORITIES:
            raise FrameError(ErrorCode.BAD_FRAME, f"priority must be one of {', '.join(PRIORITIES)}")
        return {"priority": priority}


CONSOLE_FRAMES: dict[str, type[ClientFrame]] = {
    frame.type: frame
    for frame in (Ping, InboxPage, Open, TakeOver, HandBack, Resolve, Assign, AgentReply, Note, Draft, AgentTyping,
                  ActionApprove, ActionDecline, SetLabels, SetPriority, ViewSave, ViewDelete)
}
