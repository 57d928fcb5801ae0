"""The agents' inbox: a conversation's line, the ranked keyset-paged list, one conversation as the console opens it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, DateTimeField, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from ..models import Conversation, Message
from ..protocol.codes import HandoffReason
from .contacts import contact_for_conversation
from .messages import CUSTOMER_VISIBLE_ROLES, agent_name, customer_details, message_to_agent_dict
from .search import conversations_matching
from .sla import sla_state
from .teams import conversation_labels

# What a line's excerpt is taken from: what the customer needs. System notices ("A colleague will join shortly",
# "Mei joined") say nothing of it and are passed over; while the conversation waits for a person, only the
# customer's own messages count (the bot's "I can't answer that" would hide the question an agent is to answer).
EXCERPT_ROLES = [Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT]
WAITING_EXCERPT_ROLES = [Message.Role.CUSTOMER]


def _excerpt_roles(conversation: Conversation) -> list[str]:
    return WAITING_EXCERPT_ROLES if conversation.status == Conversation.Status.WAITING_HUMAN else EXCERPT_ROLES


def inbox_item(conversation: Conversation, *, last_message: Message | None = None,
               excerpt_message: Message | None = None) -> dict[str, Any]:
    """A conversation's line in the agents' inbox: its latest customer-visible message's time, and an excerpt of
    what the customer needs (see EXCERPT_ROLES)."""
    if last_message is None:
        last_message = (
            conversation.messages.filter(role__in=CUSTOMER_VISIBLE_ROLES).order_by("-id").first()
        )
    if excerpt_message is None:
        roles = _excerpt_roles(conversation)
        excerpt_message = last_message if last_message is not None and last_message.role in roles else (
            conversation.messages.filter(role__in=roles).order_by("-id").first()
        )
    return _line(conversation, last_message=last_message, excerpt_message=excerpt_message)


def _line(conversation: Conversation, *, last_message: Message | None, excerpt_message: Message | None
          ) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "channel": conversation.channel,
        "handoff_reason": conversation.handoff_reason,
        "handoff_at": conversation.handoff_at.isoformat() if conversation.handoff_at else None,
        "agent": (
            {"id": conversation.agent_id, "name": agent_name(conversation.agent)} if conversation.agent_id else None
        ),
        "created_at": conversation.created_at.isoformat(),
        "last_message_at": (last_message.created_at.isoformat() if last_message else None),
        "last_message": (
            {"role": excerpt_message.role, "excerpt": excerpt_message.content[:140]} if excerpt_message else None
        ),
        "contact_name": conversation.contact_name,
        "contact_email": conversation.contact_email,
        "csat_score": conversation.csat_score,
        "csat_comment": conversation.csat_comment,
        "team": {"id": conversation.team_id, "name": conversation.team.name} if conversation.team_id else None,
        "labels": conversation_labels(conversation),
        "priority": conversation.priority,
        "sla": sla_state(conversation),
    }


# The inbox's order, by rank: customers waiting for a person after a complaint, then the others waiting (each
# longest waiting first: an angry customer left waiting is the costliest wait), the requesting agent's own
# conversations, colleagues' conversations, then the bot's and resolved ones (most recent first).
INBOX_RANK_COMPLAINT, INBOX_RANK_WAITING, INBOX_RANK_MINE, INBOX_RANK_HUMAN, INBOX_RANK_REST = 0, 1, 2, 3, 4
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
    return Conversation.objects.filter(evaluation=False).select_related("agent", "team").prefetch_related(
        "labels").annotate(
        rank=Case(
            When(waiting & Q(handoff_reason=HandoffReason.COMPLAINT), then=Value(INBOX_RANK_COMPLAINT)),
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
    *, agent_id: int | None = None, status: str = "", search: str = "", cursor: str = "", limit: int | None = None,
    channel: str = "", team: int | None = None, label: str = "", priority: str = "", mine: bool = False,
) -> dict[str, Any]:
    """One page of the console's inbox, in `_inbox_ordered`'s order, filtered by status and by text in the
    messages, by channel ("web", "app:<name>", or "app" for every app), by team (0: no team), label, priority,
    and to the requesting agent's own (`mine`); `next` is the cursor of the following page (None on the last).
    Raises BadCursor."""
    limit = max(1, min(limit or settings.INBOX_PAGE_SIZE, 500))
    conversations = _inbox_ordered(agent_id=agent_id)
    if status:
        conversations = conversations.filter(status=status)
    else:
        conversations = conversations.exclude(status=Conversation.Status.RESOLVED)
    if channel == "app":
        conversations = conversations.filter(channel__startswith="app:")
    elif channel:
        conversations = conversations.filter(channel=channel)
    if team is not None:
        conversations = conversations.filter(team_id=team or None)
    if label:
        conversations = conversations.filter(labels__name=label)
    if priority:
        conversations = conversations.filter(priority=priority)
    if mine:
        conversations = conversations.filter(agent_id=agent_id)
    if search:
        query = search.strip()
        matches = conversations_matching(query=query)  # encrypted messages too (selectors.search)
        conversations = conversations.filter(matches if not query.isdigit() else Q(pk=int(query)) | matches)
    if cursor:
        conversations = conversations.filter(_cursor_after(cursor))
    rows = list(conversations[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    latest = _latest_messages([row.pk for row in rows])
    return {
        "items": [_line(row, last_message=latest.get(row.pk, (None, None))[0],
                        excerpt_message=latest.get(row.pk, (None, None))[1]) for row in rows],
        "next": _cursor_encode(rows[-1]) if more else None,
    }


def _latest_messages(conversation_ids: list[int]) -> dict[int, tuple[Message | None, Message | None]]:
    """Each conversation's latest customer-visible message and the message of its excerpt (see EXCERPT_ROLES),
    in two queries for the whole page."""
    if not conversation_ids:
        return {}

    def newest(roles: list[str]) -> Subquery:
        return Subquery(Message.objects.filter(conversation_id=OuterRef("pk"), role__in=roles)
                        .order_by("-id").values("pk")[:1])

    rows = Conversation.objects.filter(pk__in=conversation_ids).annotate(
        latest=newest(CUSTOMER_VISIBLE_ROLES),
        excerpt=Case(When(status=Conversation.Status.WAITING_HUMAN, then=newest(WAITING_EXCERPT_ROLES)),
                     default=newest(EXCERPT_ROLES), output_field=IntegerField()),
    ).values_list("pk", "latest", "excerpt")
    rows = list(rows)
    messages = Message.objects.in_bulk([i for _pk, *ids in rows for i in ids if i is not None])
    return {pk: (messages.get(latest), messages.get(excerpt)) for pk, latest, excerpt in rows}


def inbox(*, status: str = "", search: str = "", agent_id: int | None = None) -> list[dict[str, Any]]:
    """The inbox's first page (see inbox_page)."""
    return inbox_page(agent_id=agent_id, status=status, search=search)["items"]


def conversation_for_agents(*, conversation_id: int) -> dict[str, Any] | None:
    """A conversation as the console opens it: its line, and every message including private notes."""
    conversation = Conversation.objects.select_related("agent", "team").filter(pk=conversation_id).first()
    if conversation is None:
        return None
    messages = list(conversation.messages.select_related("author", "feedback", "email_delivery").order_by("id"))
    return {
        "conversation": inbox_item(conversation), "messages": [message_to_agent_dict(m) for m in messages],
        "details": customer_details(messages),
        "contact": contact_for_conversation(conversation=conversation),
    }

