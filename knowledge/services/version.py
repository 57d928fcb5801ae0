"""The knowledge-base version: bumped in the transaction of every change to published knowledge."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from helpdesk.signals import knowledge_published

from ..models import KnowledgeState


def knowledge_version_bump() -> int:
    """Call inside the transaction that changes published knowledge.

    The new version is at least the current time in milliseconds, so a number
    is never used twice, not even after a rolled-back transaction or a
    restored backup: a process's snapshot or a cached answer keyed on an old
    number can never pass for the new knowledge.
    """
    now_ms = int(time.time() * 1000)
    updated = KnowledgeState.objects.filter(pk=1).update(
        version=Greatest(F("version") + 1, Value(now_ms)), changed_at=timezone.now()
    )
    if not updated:
        # The row is gone (a flushed database).
        KnowledgeState.objects.get_or_create(pk=1, defaults={"version": now_ms})
    version = KnowledgeState.objects.values_list("version", flat=True).get(pk=1)
    transaction.on_commit(lambda: _published_announce(version))
    return version


def _published_announce(version: int) -> None:
    """Tell the apps that follow publishes (an evaluation run): their failure never undoes the publish."""
    for receiver, result in knowledge_published.send_robust(sender=KnowledgeState, version=version):
        if isinstance(result, Exception):
            logging.getLogger(__name__).error("after publishing version %s, %r failed: %r", version, receiver, result)


def rows_delete(rows: QuerySet, **published: Any) -> int:
    """Delete `rows` (articles or FAQ entries), bumping the version in the same transaction when any of
    them was published (`published` filters those); returns what Django's delete() counts."""
    with transaction.atomic():
        was_published = rows.filter(**published).exists()
        count, _ = rows.delete()
        if was_published:
            knowledge_version_bump()
    return count
