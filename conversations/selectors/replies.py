"""What the reply pipeline and its sweeps read: the dialogue, the message being answered, replies in flight,
replies gone stale and messages left unanswered."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from knowledge.selectors import knowledge_version_column

from ..models import Conversation, Message
from .messages import CUSTOMER_VISIBLE_ROLES

# Roles that make up the dialogue the model continues.
DIALOGUE_ROLES = [Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT]


def customer_language(*, conversation: Conversation) -> str:
    """The language of the customer's latest message ("en" when they have not written yet)."""
    from helpdesk.llm.text import language_of

    latest = (
        conversation.messages.filter(role=Message.Role.CUSTOMER).order_by("-id").values_list("content", flat=True)
    ).first()
    return language_of(latest or "")


def _dialogue_turns(turns: QuerySet[Message]) -> QuerySet[Message]:
    """The messages of `turns` that are the dialogue: the customer's, the bot's (failed replies left out) and the
    agents', with text."""
    return (
        turns.filter(role__in=DIALOGUE_ROLES)
        .exclude(role=Message.Role.BOT, status=Message.Status.FAILED)
        .exclude(content="")
    )


def dialogue_before(*, conversation: Conversation, up_to_message_id: int, limit: int = 50) -> list[Message]:
    """The latest dialogue turns up to and including a message, oldest first, for the prompt."""
    turns = _dialogue_turns(conversation.messages.filter(id__lte=up_to_message_id)).order_by("-id")[:limit]
    return list(reversed(list(turns)))


def dialogue_ending_with(*, message: Message, limit: int = 50) -> list[Message]:
    """`dialogue_before` up to a customer message already read, which is not read (nor decrypted) again: the turns
    before it, then it. A message read by `customer_message_for_reply` knows whether any turn comes before it: a
    conversation's first question (most are) reads nothing."""
    if getattr(message, "has_earlier_dialogue", True) is False:
        return [message]
    turns = _dialogue_turns(message.conversation.messages.filter(id__lt=message.pk)).order_by("-id")[:limit - 1]
    return [*reversed(list(turns)), message]


def customer_message_for_reply(*, message_id: int) -> Message | None:
    """A customer message with what deciding on its reply needs, in one query (it is on the first-token path).

    Annotations: `has_newer` (the customer wrote again since: one reply then
    answers both), `has_earlier_dialogue` (a turn of the dialogue comes before it: without one,
    `dialogue_ending_with` reads nothing), `reply_id` and `reply_status` (the bot reply already claimed, if any),
    `knowledge_version` (the knowledge base's, as retrieval would read it next: the reply holds it, one query fewer).
    """
    replies = Message.objects.filter(reply_to=OuterRef("pk"), role=Message.Role.BOT)
    newer = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), role=Message.Role.CUSTOMER, id__gt=OuterRef("pk")
    )
    earlier = _dialogue_turns(
        Message.objects.filter(conversation_id=OuterRef("conversation_id"), id__lt=OuterRef("pk"))
    )
    return (
        Message.objects.select_related("conversation")
        .filter(pk=message_id, role=Message.Role.CUSTOMER)
        .annotate(
            has_newer=Exists(newer),
            has_earlier_dialogue=Exists(earlier),
            knowledge_version=knowledge_version_column(),
            reply_id=Subquery(replies.values("pk")[:1]),
            reply_status=Subquery(replies.values("status")[:1]),
        )
        .first()
    )


def customer_message_awaiting_reply(*, conversation: Conversation) -> Message | None:
    """The customer's latest message when the bot owes it a reply not yet begun (its task waits for a worker);
    None when it has one, or the bot does not have the conversation."""
    if conversation.status != Conversation.Status.BOT:
        return None
    latest = conversation.messages.filter(role=Message.Role.CUSTOMER).order_by("-id").first()
    if latest is None or Message.objects.filter(reply_to=latest, role=Message.Role.BOT).exists():
        return None
    return latest


def streaming_replies(*, conversation: Conversation) -> list[int]:
    return list(
        conversation.messages.filter(role=Message.Role.BOT, status=Message.Status.STREAMING).values_list(
            "id", flat=True
        )
    )


def replies_stale(*, timeout_s: float) -> list[int]:
    """Streaming bot replies whose worker has written nothing (no heartbeat) for `timeout_s`: it is gone.

    By the database's clock, which stamps the heartbeats (services.replies): the app hosts' clocks may step
    (NTP) between a heartbeat and the sweep, and a reply must neither look dead after a forward step nor
    stay alive for the step's length after a backward one.
    """
    cutoff = Now() - timedelta(seconds=timeout_s)
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
    waited = Now() - timedelta(seconds=timeout_s)  # by the database's clock, as `stored_at` is stamped
    lookback = timezone.now() - timedelta(seconds=timeout_s + UNANSWERED_LOOKBACK_S)  # the index's coarse bound
    later_turn = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"), role__in=CUSTOMER_VISIBLE_ROLES, id__gt=OuterRef("pk")
    )
    reply = Message.objects.filter(reply_to=OuterRef("pk"), role=Message.Role.BOT)
    return list(
        Message.objects.filter(
            role=Message.Role.CUSTOMER,
            conversation__status=Conversation.Status.BOT,
            stored_at__lt=waited,
            created_at__gte=lookback,
        )
        .filter(~Exists(later_turn), ~Exists(reply))
        .order_by("conversation_id")
        .values_list("conversation_id", flat=True)
        .distinct()
    )
