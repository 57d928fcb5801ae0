"""Server -> client frames as the sockets send them (the `type` key first). Messages and inbox items are the
selectors' dicts (conversations.selectors.message_to_dict / message_to_agent_dict / inbox items)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, get_args, get_type_hints

Json = dict[str, Any]


class Error(TypedDict):
    """The answer to a frame that cannot be taken (codes.FrameError.frame()); more keys by code:
    `client_id`, `conversation_id`, `retry_after`, `limit`, `agent`, `frame_type`, `message_id`."""

    type: Literal["error"]
    code: str
    detail: str


# --- both sockets --------------------------------------------------------------------------------------


class Delta(TypedDict):
    type: Literal["delta"]
    conversation_id: NotRequired[int]  # console only, as in every console frame about a conversation
    message_id: int
    seq: int
    text: str


class Done(TypedDict):
    type: Literal["done"]
    conversation_id: NotRequired[int]
    message: Json


class MessageFrame(TypedDict):
    type: Literal["message"]
    conversation_id: NotRequired[int]
    message: Json


class Status(TypedDict):
    type: Literal["status"]
    conversation_id: NotRequired[int]
    status: str
    reason: NotRequired[str]
    agent: NotRequired[Json | None]
    offline: NotRequired[bool]  # customer only


class Typing(TypedDict):
    type: Literal["typing"]
    conversation_id: NotRequired[int]
    who: str
    active: bool


# --- the customer's socket -----------------------------------------------------------------------------


class History(TypedDict):
    type: Literal["history"]
    conversation: Json
    messages: list[Json]
    limits: Json
    prechat_form: bool


class FeedbackAck(TypedDict):
    type: Literal["feedback"]
    message_id: int
    rating: int
    comment: str


class CsatAck(TypedDict):
    type: Literal["csat"]
    score: int | None


class PrechatAck(TypedDict):
    type: Literal["prechat"]
    name: str
    email: str


class PrivacyNoticeAck(TypedDict):
    type: Literal["privacy_notice"]
    version: str


# --- the agents' console -------------------------------------------------------------------------------


class Hello(TypedDict):
    type: Literal["hello"]
    agent: Json
    agents: list[Json]
    canned: list[Json]
    views: list[Json]  # the agent's saved views: {id, name, filters} (agents.saved_views)


class Views(TypedDict, total=False):
    """The agent's saved views after a `view_save` (with `saved`: the saved one's id) or a `view_delete`."""

    type: Literal["views"]
    views: list[Json]
    saved: int


class Pong(TypedDict):
    type: Literal["pong"]


class Inbox(TypedDict):
    type: Literal["inbox"]
    items: list[Json]
    next: str | None
    cursor: str


class InboxItem(TypedDict):
    type: Literal["inbox_item"]
    item: Json


class ConversationDetail(TypedDict, total=False):
    """`type: "conversation"` and conversations.selectors.conversation_for_agents's keys."""

    type: Literal["conversation"]


class Note(TypedDict):
    type: Literal["note"]
    conversation_id: int
    message: Json


class DraftFrame(TypedDict, total=False):
    """`text` and `sources`, or `error` (pipeline.draft)."""

    type: Literal["draft"]
    conversation_id: int
    text: str
    sources: list[Json]
    error: str


# What each socket may send, for docs/architecture.md's protocol section (checked by a test against it).
CUSTOMER_FRAMES: tuple[type, ...] = (
    History, MessageFrame, Delta, Done, Status, Typing, FeedbackAck, CsatAck, PrechatAck, PrivacyNoticeAck, Error,
)
CONSOLE_FRAMES: tuple[type, ...] = (
    Hello, Pong, Inbox, InboxItem, ConversationDetail, MessageFrame, Delta, Done, Note, Status, Typing, DraftFrame,
    Views, Error,
)


def frame_type(frame: type) -> str:
    """The wire `type` a TypedDict declares (its `Literal`)."""
    return get_args(get_type_hints(frame)["type"])[0]
