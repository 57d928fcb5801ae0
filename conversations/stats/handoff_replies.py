"""The answer a handoff followed, read by time: the knowledge gaps (for a handoff whose question is not known) and
article health (for every handoff) both ask which bot reply came last before it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from ..models import Message


def last_replies_before(moments: Iterable[tuple[int, datetime]], replies: QuerySet[Message]
                        ) -> dict[tuple[int, datetime], int]:
    """For each (conversation id, moment): the id of that conversation's last message of `replies` at or before
    the moment, in one query for them all; a moment with none before it is left out."""
    moments = list(moments)
    if not moments:
        return {}
    latest = max(at for _conversation_id, at in moments)
    rows: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for pk, conversation_id, at in replies.filter(
            conversation_id__in={conversation_id for conversation_id, _at in moments},
            created_at__lte=latest).values_list("pk", "conversation_id", "created_at"):
        rows[conversation_id].append((at, pk))
    found = {}
    for conversation_id, moment in moments:
        last = max((row for row in rows[conversation_id] if row[0] <= moment), default=None)
        if last is not None:
            found[(conversation_id, moment)] = last[1]
    return found
