"""Reads of the conversations app, shared by the consumer, the tasks, the API and the admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Case, DateTimeField, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Conversation, Message
from .presence_store import presence_count

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# Roles the customer sees; private notes never leave the agents' side.
CUSTOMER_VISIBLE_ROLES = [Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT, Message.Role.SYSTEM]
# Roles that make up the dialogue the model continues.
DIALOGUE_ROLES = [Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT]


def token_is_well_formed(token: str) -> bool:
    return bool(TOKEN_PATTERN.match(token or ""))


def widget_origin_allowed(*, origin: str, host: str) -> bool:
    """Whether a page at `origin` may use the widget: the server's own site or one in WIDGET_ALLOWED_ORIGINS.

    No Origin at all is allowed: browsers always send it across origins (and on websockets), so a request
    without one is the server's own page or not a browser, and cannot be a lure from another site.
    """
    origin = origin.rstrip("/")
    if not origin:
        return True
    allowed = settings.WIDGET_ALLOWED_ORIGINS
    if "*" in allowed or origin in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc == host


def conversation_get(*, conversation_id: int) -> Conversation:
    return Conversation.objects.get(pk=conversation_id)


def conversation_get_by_token(*, token: str) -> Conversation | None:
    if not token_is_well_formed(token):
        return None
    return Conversation.objects.filter(token=token).first()


def message_to_dict(message: Message) -> dict[str, Any]:
    """The customer-facing form of a message (DESIGN.md § Websocket protocol): no reasoning, no errors."""
    payload: dict[str, Any] = {
        "id": message.pk,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "created_at": message.created_at.isoformat(),
        "citations": message_citations(message),
    }
    if message.client_id:
        payload["client_id"] = message.client_id
    if message.reply_to_id:
        payload["reply_to"] = message.reply_to_id
    if message.role == Message.Role.AGENT and message.author_id:
        payload["agent"] = {"name": agent_name(message.author)}
    return payload


def agent_name(user: Any) -> str:
    """How customers and colleagues see an agent: first name, else the user name."""
    if user is None:
        return ""
    return (user.first_name or user.get_full_name() or user.get_username()).strip()


def message_to_agent_dict(message: Message) -> dict[str, Any]:
    """The agents' form of a message: everything the customer sees, and how the bot got there."""
    payload = message_to_dict(message)
    payload.update(
        {
            "reasoning": message.reasoning,
            "answer_source": message.answer_source,
            "confidence": message.confidence,
            "confidence_signals": message.confidence_signals,
            "sources": message.sources,
            "retrieval": message.retrieval,
            "model_name": message.model_name,
            "error": message.error,
            "author": agent_name(message.author) if message.author_id else "",
            "feedback": message_feedback(message),
        }
    )
    return payload


def message_feedback(message: Message) -> dict[str, Any] | None:
    """The customer's vote on a bot reply, with their comment, for agents (None when there is none)."""
    feedback = getattr(message, "feedback", None) if message.role == Message.Role.BOT else None
    if feedback is None:
        return None
    return {"rating": feedback.rating, "comment": feedback.comment}


def inbox_item(conversation: Conversation, *, last_message: Message | None = None) -> dict[str, Any]:
    """A conversation's line in the agents' inbox."""
    if last_message is None:
        last_message = (
            conversation.messages.filter(role__in=CUSTOMER_VISIBLE_ROLES).order_by("-id").first()
        )
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "handoff_reason": conversation.handoff_reason,
        "handoff_at": conversation.handoff_at.isoformat() if conversation.handoff_at else None,
        "agent": (
            {"id": conversation.agent_id, "name": agent_name(conversation.agent)} if conversation.agent_id else None
        ),
        "created_at": conversation.created_at.isoformat(),
        "last_message_at": (last_message.created_at.isoformat() if last_message else None),
        "last_message": (
            {"role": last_message.role, "excerpt": last_message.content[:140]} if last_message else None
        ),
        "contact_name": conversation.contact_name,
        "contact_email": conversation.contact_email,
        "csat_score": conversation.csat_score,
        "csat_comment": conversation.csat_comment,
    }


# The inbox's order, by rank: customers waiting for a person (longest waiting first), the requesting agent's
# own conversations, colleagues' conversations, then the bot's and resolved ones (most recent first).
INBOX_RANK_WAITING, INBOX_RANK_MINE, INBOX_RANK_HUMAN, INBOX_RANK_REST = 0, 1, 2, 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadCursor(ValueError):
    """An inbox cursor this server did not make (or made for another order)."""


def _inbox_ordered(*, agent_id: int | None) -> QuerySet[Conversation]:
    """Every conversation with its sort key, ordered in the query itself so that no page can hide a waiting
    customer behind recent bot chatter: (rank, waiting since ↑, last activity ↓, id ↓).

    `wait_key` is set only for waiting conversations and `recent_key` only for the others (a constant
    elsewhere), so one lexicographic comparison of the four keys is the whole order and a keyset cursor
    stays exact while conversations change under it.
    """
    waiting = Q(status=Conversation.Status.WAITING_HUMAN)
    mine = Q(status=Conversation.Status.HUMAN, agent_id=agent_id) if agent_id else Q(pk__in=[])
    epoch = Value(_EPOCH, output_field=DateTimeField())
    return Conversation.objects.select_related("agent").annotate(
        rank=Case(
            When(waiting, then=Value(INBOX_RANK_WAITING)),
            When(mine, then=Value(INBOX_RANK_MINE)),
            When(status=Conversation.Status.HUMAN, then=Value(INBOX_RANK_HUMAN)),
            default=Value(INBOX_RANK_REST),
            output_field=IntegerField(),
        ),
        wait_key=Case(When(waiting, then=Coalesce("handoff_at", "created_at")), default=epoch,
                      output_field=DateTimeField()),
        recent_key=Case(When(waiting, then=epoch), default=Coalesce("last_message_at", "created_at"),
                        output_field=DateTimeField()),
    ).order_by("rank", "wait_key", "-recent_key", "-id")


def _cursor_encode(conversation: Any) -> str:
    return f"{conversation.rank}|{conversation.wait_key.isoformat()}|{conversation.recent_key.isoformat()}|" \
           f"{conversation.pk}"


def _cursor_after(cursor: str) -> Q:
    """The rows strictly after the cursor's row in the inbox order."""
    try:
        rank_text, wait_text, recent_text, id_text = cursor.split("|")
        rank, pk = int(rank_text), int(id_text)
        wait_key, recent_key = datetime.fromisoformat(wait_text), datetime.fromisoformat(recent_text)
    except ValueError as exc:
        raise BadCursor("not an inbox cursor") from exc
    if wait_key.tzinfo is None or recent_key.tzinfo is None:
        raise BadCursor("not an inbox cursor")
    same_rank = Q(rank=rank)
    return (
        Q(rank__gt=rank)
        | (same_rank & Q(wait_key__gt=wait_key))
        | (same_rank & Q(wait_key=wait_key, recent_key__lt=recent_key))
        | (same_rank & Q(wait_key=wait_key, recent_key=recent_key, pk__lt=pk))
    )


def inbox_page(
    *, agent_id: int | None = None, status: str = "", search: str = "", cursor: str = "", limit: int | None = None
) -> dict[str, Any]:
    """One page of the console's inbox, in `_inbox_ordered`'s order, filtered by status and by text in the
    messages; `next` is the cursor of the following page (None on the last). Raises BadCursor."""
    limit = max(1, min(limit or settings.INBOX_PAGE_SIZE, 500))
    conversations = _inbox_ordered(agent_id=agent_id)
    if status:
        conversations = conversations.filter(status=status)
    else:
        conversations = conversations.exclude(status=Conversation.Status.RESOLVED)
    if search:
        query = search.strip()
        matches = Message.objects.filter(content__icontains=query).values("conversation_id")
        conversations = conversations.filter(pk__in=matches) if not query.isdigit() else conversations.filter(
            Q(pk=int(query)) | Q(pk__in=matches)
        )
    if cursor:
        conversations = conversations.filter(_cursor_after(cursor))
    rows = list(conversations[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    latest = _latest_visible_messages([row.pk for row in rows])
    return {
        "items": [inbox_item(row, last_message=latest.get(row.pk)) for row in rows],
        "next": _cursor_encode(rows[-1]) if more else None,
    }


def _latest_visible_messages(conversation_ids: list[int]) -> dict[int, Message]:
    """Each conversation's latest customer-visible message, in two queries for the whole page."""
    if not conversation_ids:
        return {}
    newest = (
        Message.objects.filter(conversation_id=OuterRef("pk"), role__in=CUSTOMER_VISIBLE_ROLES)
        .order_by("-id").values("pk")[:1]
    )
    ids = Conversation.objects.filter(pk__in=conversation_ids).annotate(latest=Subquery(newest)) \
        .values_list("latest", flat=True)
    return {m.conversation_id: m for m in Message.objects.filter(pk__in=[i for i in ids if i is not None])}


def inbox(*, status: str = "", search: str = "", agent_id: int | None = None) -> list[dict[str, Any]]:
    """The inbox's first page (see inbox_page)."""
    return inbox_page(agent_id=agent_id, status=status, search=search)["items"]


def conversation_for_agents(*, conversation_id: int) -> dict[str, Any] | None:
    """A conversation as the console opens it: its line, and every message including private notes."""
    conversation = Conversation.objects.select_related("agent").filter(pk=conversation_id).first()
    if conversation is None:
        return None
    messages = conversation.messages.select_related("author", "feedback").order_by("id")
    return {"conversation": inbox_item(conversation), "messages": [message_to_agent_dict(m) for m in messages]}


def message_citations(message: Message) -> list[dict[str, str]]:
    """The articles a reply cited, once each, as the customer sees them: a title and, if public, a link."""
    citations: list[dict[str, str]] = []
    seen: set[object] = set()
    for source in message.sources or []:
        if not source.get("cited"):
            continue
        key = source.get("article_id") or source.get("title")
        if key in seen:
            continue
        seen.add(key)
        citation = {"title": str(source.get("title", ""))}
        if source.get("url"):
            citation["url"] = str(source["url"])
        citations.append(citation)
    return citations


def conversation_history(*, conversation: Conversation, limit: int | None = None) -> list[dict[str, Any]]:
    """The latest customer-visible messages, oldest first."""
    limit = limit or settings.HISTORY_LIMIT
    newest = (
        conversation.messages.filter(role__in=CUSTOMER_VISIBLE_ROLES)
        .select_related("author", "feedback")
        .order_by("-id")[:limit]
    )
    history = []
    for message in reversed(list(newest)):
        payload = message_to_dict(message)
        feedback = message_feedback(message)
        if feedback:  # the customer's own vote, shown again after a reload
            payload["feedback"] = feedback["rating"]
        history.append(payload)
    return history


def history_frame(*, conversation: Conversation) -> dict[str, Any]:
    """What a customer's socket is sent on connect (all of it read in one trip to the database thread)."""
    return {
        "conversation": conversation_to_dict(conversation),
        "messages": conversation_history(conversation=conversation),
        "limits": {"message_max_chars": settings.MESSAGE_MAX_CHARS},
        "prechat_form": prechat_form_wanted(conversation=conversation),
    }


def prechat_form_wanted(*, conversation: Conversation) -> bool:
    """Whether the widget asks for a name and email before the first message (WIDGET_PRECHAT_FORM).

    Only for a conversation that has not started and whose customer is unknown: a verified user of the
    host site is known already, and one who gave either field, or wrote, is past the form.
    """
    if not settings.WIDGET_PRECHAT_FORM or conversation.customer_id is not None:
        return False
    if conversation.contact_name or conversation.contact_email:
        return False
    return not conversation.messages.filter(role=Message.Role.CUSTOMER).exists()


def conversation_to_dict(conversation: Conversation) -> dict[str, Any]:
    """The conversation as the widget's `history` frame carries it, with what it still asks of the customer
    (a rating once resolved; an email address while nobody is there), so a reload loses neither."""
    payload: dict[str, Any] = {"status": conversation.status}
    if conversation.status == Conversation.Status.HUMAN and conversation.agent_id:
        payload["agent"] = {"name": agent_name(conversation.agent)}
    if conversation.status == Conversation.Status.RESOLVED and conversation.csat_score is None:
        payload["rate"] = True
    if (
        conversation.status == Conversation.Status.WAITING_HUMAN
        and not conversation.contact_email
        and not support_open()
        and not agents_online_count()
    ):
        payload["offline"] = True
    return payload


_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def support_hours() -> tuple[set[int], tuple[int, int], tuple[int, int]] | None:
    """SUPPORT_HOURS parsed: (ISO weekdays 0=Mon, opening (h, m), closing (h, m)); None means always open."""
    text = settings.SUPPORT_HOURS.strip().lower()
    if not text:
        return None
    match = re.fullmatch(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if not match or match.group(1) not in _DAYS or (match.group(2) and match.group(2) not in _DAYS):
        raise ValueError(f"SUPPORT_HOURS {settings.SUPPORT_HOURS!r} is not like 'Mon-Fri 09:00-18:00'")
    first = _DAYS.index(match.group(1))
    last = _DAYS.index(match.group(2)) if match.group(2) else first
    days = {(first + offset) % 7 for offset in range((last - first) % 7 + 1)}
    return days, (int(match.group(3)), int(match.group(4))), (int(match.group(5)), int(match.group(6)))


def support_open(*, at: Any = None) -> bool:
    """Whether `at` (default now) falls in SUPPORT_HOURS, in SUPPORT_TIME_ZONE."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    hours = support_hours()
    if hours is None:
        return True
    days, opening, closing = hours
    local = (at or datetime.now(tz=ZoneInfo("UTC"))).astimezone(ZoneInfo(settings.SUPPORT_TIME_ZONE))
    return local.weekday() in days and opening <= (local.hour, local.minute) < closing


def agents_online_count() -> int:
    """Agents whose console pinged within the presence window."""
    return presence_count()


def customer_language(*, conversation: Conversation) -> str:
    """The language of the customer's latest message ("en" when they have not written yet)."""
    from helpdesk.text import language_of

    latest = (
        conversation.messages.filter(role=Message.Role.CUSTOMER).order_by("-id").values_list("content", flat=True)
    ).first()
    return language_of(latest or "")


def dialogue_before(*, conversation: Conversation, up_to_message_id: int, limit: int = 50) -> list[Message]:
    """The latest dialogue turns up to and including a message, oldest first, for the prompt."""
    turns = (
        conversation.messages.filter(role__in=DIALOGUE_ROLES, id__lte=up_to_message_id)
        .exclude(role=Message.Role.BOT, status=Message.Status.FAILED)
        .exclude(content="")
        .order_by("-id")[:limit]
    )
    return list(reversed(list(turns)))


def customer_message_for_reply(*, message_id: int) -> Message | None:
    """A customer message with what deciding on its reply needs, in one query (it is on the first-token path).

    Annotations: `has_newer` (the customer wrote again since: one reply then
    answers both), `reply_id` and `reply_status` (the bot reply already claimed, if any).
    """
    replies = Message.objects.filter(reply_to=OuterRef("pk"), role=Message.Role.BOT)
    newer = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), role=Message.Role.CUSTOMER, id__gt=OuterRef("pk")
    )
    return (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, role=Message.Role.CUSTOMER)
        .annotate(
            has_newer=Exists(newer),
            reply_id=Subquery(replies.values("pk")[:1]),
            reply_status=Subquery(replies.values("status")[:1]),
        )
        .first()
    )


def streaming_replies(*, conversation: Conversation) -> list[int]:
    return list(
        conversation.messages.filter(role=Message.Role.BOT, status=Message.Status.STREAMING).values_list(
            "id", flat=True
        )
    )


def replies_stale(*, timeout_s: float) -> list[int]:
    """Streaming bot replies whose worker has written nothing (no heartbeat) for `timeout_s`: it is gone."""
    cutoff = timezone.now() - timedelta(seconds=timeout_s)
    return list(
        Message.objects.filter(role=Message.Role.BOT, status=Message.Status.STREAMING)
        .annotate(last_sign=Coalesce("heartbeat_at", "created_at"))
        .filter(last_sign__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
    )


# Unanswered messages are looked for this far back: older ones were dealt with by earlier sweeps.
UNANSWERED_LOOKBACK_S = 24 * 3600


def conversations_unanswered(*, timeout_s: float) -> list[int]:
    """Bot conversations whose last word is a customer message written over `timeout_s` ago with no reply
    at all: its reply task was lost (a reply being generated has its row from the start).

    Anything the customer saw after it counts as an answer, a notice too: an agent who handed the
    conversation back to the bot ("the bot answers the next message") left that message to them on purpose.
    """
    now = timezone.now()
    later_turn = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), role__in=CUSTOMER_VISIBLE_ROLES, id__gt=OuterRef("pk")
    )
    reply = Message.objects.filter(reply_to=OuterRef("pk"), role=Message.Role.BOT)
    return list(
        Message.objects.filter(
            role=Message.Role.CUSTOMER,
            conversation__status=Conversation.Status.BOT,
            created_at__lt=now - timedelta(seconds=timeout_s),
            created_at__gte=now - timedelta(seconds=timeout_s + UNANSWERED_LOOKBACK_S),
        )
        .filter(~Exists(later_turn), ~Exists(reply))
        .order_by("conversation_id")
        .values_list("conversation_id", flat=True)
        .distinct()
    )


def message_for_agents(*, message_id: int) -> dict[str, Any] | None:
    """A message as the console shows it (how the bot made it, the customer's vote), or None when gone."""
    message = Message.objects.select_related("author").filter(pk=message_id).first()
    return message_to_agent_dict(message) if message else None
