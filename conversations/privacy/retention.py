"""Retention: rows of personal data older than their category's period (settings.RETENTION_DAYS) are deleted,
in short batches, after the days they fall on are summarized for the dashboard.

What expires is whatever the personal-data registry (helpdesk.privacy) lists with a `retention` category, so a
model another app registers later is covered by naming its category. Rows of open conversations stay: one
waiting for a person or held by one (an agent would find it emptied under them), or with a reply streaming.
Such a conversation's rows expire once it is resolved or back with the bot and idle past its period.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import transaction
from django.db.models import Exists, Min, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from helpdesk.privacy import PersonalDataHolder, holders

from ..models import Conversation, Message
from ..services.summaries import summaries_finalize

logger = logging.getLogger(__name__)

# The channels a conversation can come from; a period can be set for one ("web.messages=90"). Only the web
# widget exists today, so its periods are the ones applied.
CHANNELS = ("web",)
OPEN_STATUSES = (Conversation.Status.WAITING_HUMAN, Conversation.Status.HUMAN)


def retention_periods(*, channel: str = "web") -> dict[str, int]:
    """Each category's period in days for `channel`: the channel's own ("web.messages") before the general one;
    0 (keep forever) is left out."""
    periods: dict[str, int] = {}
    for key, days in settings.RETENTION_DAYS.items():
        scope, _, category = key.rpartition(".")
        if scope in ("", channel) and (scope or category not in periods):
            periods[category] = days
    return {category: days for category, days in periods.items() if days > 0}


def retention_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A category or channel in RETENTION_DAYS that nothing knows is a typo that would keep data forever."""
    known = {h.retention for h in holders() if h.retention}
    errors = []
    for key in settings.RETENTION_DAYS:
        scope, _, category = key.rpartition(".")
        if category not in known or (scope and scope not in CHANNELS):
            errors.append(
                checks.Error(
                    f'RETENTION_DAYS names "{key}", which is no retention category'
                    + (f" of a channel ({', '.join(CHANNELS)})" if scope else ""),
                    hint=f"Known categories: {', '.join(sorted(known))}.",
                    id="conversations.E301",
                )
            )
    return errors


@dataclass(frozen=True)
class Expiry:
    """One registered model's rows that one period expires."""

    category: str
    holder: PersonalDataHolder
    days: int
    cutoff: datetime

    @property
    def label(self) -> str:
        return self.holder.model._meta.label

    def rows(self) -> QuerySet[Any]:
        """The rows older than the cutoff, less those of open conversations (see the module docstring)."""
        model, moment = self.holder.model, self.holder.time_field
        older = Q(**{f"{moment}__lt": self.cutoff})
        if moment != "created_at" and model._meta.get_field(moment).null and _has_field(model, "created_at"):
            older |= Q(**{f"{moment}__isnull": True, "created_at__lt": self.cutoff})  # never set: by creation
        rows = model._default_manager.filter(older)
        streaming = Message.objects.filter(conversation=OuterRef("pk"), status=Message.Status.STREAMING)
        busy = Conversation.objects.filter(Q(status__in=OPEN_STATUSES) | Q(Exists(streaming)))
        if lookup := self.holder.conversation_lookup:
            rows = rows.exclude(**{f"{lookup}__in": busy.values("pk")})
        elif lookup := self.holder.customer_lookup:  # a customer record: kept while one of their chats is open
            rows = rows.exclude(**{f"{lookup}__in": busy.filter(customer__isnull=False).values("customer_id")})
        return rows


def _has_field(model: type[Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def expiries(*, now: datetime | None = None) -> list[Expiry]:
    """What each registered model loses now: one entry per model with a category that has a period, messages
    before conversations (a conversation's deletion then has little left to cascade to)."""
    now = now or timezone.now()
    periods = retention_periods()
    found = [
        Expiry(
            category=h.retention, holder=h, days=periods[h.retention], cutoff=now - timedelta(days=periods[h.retention])
        )
        for h in holders()
        if h.retention in periods
    ]
    return sorted(found, key=lambda e: (e.holder.model is Conversation, e.category, e.label))


@dataclass(frozen=True)
class PlanRow:
    category: str
    model: str
    days: int
    cutoff: datetime
    count: int
    oldest: datetime | None


def retention_plan(*, now: datetime | None = None) -> list[PlanRow]:
    """The dry run: per model, how many rows would go now and when the oldest was written."""
    plan = []
    for expiry in expiries(now=now):
        rows = expiry.rows()
        oldest = rows.aggregate(oldest=Min(expiry.holder.time_field))["oldest"]
        plan.append(
            PlanRow(
                category=expiry.category,
                model=expiry.label,
                days=expiry.days,
                cutoff=expiry.cutoff,
                count=rows.count(),
                oldest=oldest,
            )
        )
    return plan


@dataclass
class RetentionReport:
    """What a run deleted: rows per model, and each batch's seconds (the benchmark's figures)."""

    deleted: dict[str, int] = field(default_factory=dict)
    batch_seconds: list[float] = field(default_factory=list)
    summarized_days: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def retention_enforce(*, now: datetime | None = None, batch_size: int | None = None) -> RetentionReport:
    """Delete what has expired, `batch_size` rows (default RETENTION_BATCH_SIZE) per transaction.

    First the days the rows fall on are summarized and frozen, so the dashboard keeps their figures. Each batch
    commits on its own: a run stopped halfway leaves whole batches done, and the next run goes on from what is
    left (the rows are found afresh each time). Logs counts, never content."""
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    report = RetentionReport()
    found = expiries(now=now)
    if not found:
        return report
    latest_cutoff = max(e.cutoff for e in found)
    report.summarized_days = summaries_finalize(
        through=timezone.localdate(latest_cutoff, timezone.get_default_timezone())
    )
    for expiry in found:
        if expiry.holder.model is Conversation:
            count = _conversations_delete(expiry, batch_size=batch_size, report=report)
        else:
            count = _delete_in_batches(expiry.rows(), batch_size=batch_size, report=report)
        report.deleted[expiry.label] = report.deleted.get(expiry.label, 0) + count
        logger.info(
            "retention: rows deleted",
            extra={"category": expiry.category, "model": expiry.label, "rows": count, "days": expiry.days},
        )
    return report


def _delete_in_batches(rows: QuerySet[Any], *, batch_size: int, report: RetentionReport) -> int:
    """Delete `rows` a batch at a time, each in its own transaction; the batch is re-filtered by `rows` inside
    it, so a row that stopped expiring meanwhile (a conversation taken by an agent) stays."""
    deleted = 0
    while ids := list(rows.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        started = time.perf_counter()
        with transaction.atomic():
            # Only the ids: the collector would otherwise read every column of the batch (the texts among them).
            _, per_model = rows.filter(pk__in=ids).only("pk").delete()
        report.batch_seconds.append(time.perf_counter() - started)
        count = per_model.get(rows.model._meta.label, 0)
        if not count:
            break  # none of them expires any more: the next look would find the same ones
        deleted += count
    return deleted


def _conversations_delete(expiry: Expiry, *, batch_size: int, report: RetentionReport) -> int:
    """Conversations a batch at a time, their messages first in batches of their own, so a long conversation's
    cascade never makes one huge transaction."""
    rows, deleted = expiry.rows(), 0
    while ids := list(rows.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        messages = Message.objects.filter(conversation__in=rows.filter(pk__in=ids))  # still expired, batch by batch
        cascaded = _delete_in_batches(messages, batch_size=batch_size, report=report)
        label = Message._meta.label
        report.deleted[label] = report.deleted.get(label, 0) + cascaded
        count = _delete_in_batches(rows.filter(pk__in=ids), batch_size=batch_size, report=report)
        if not count:
            break
        deleted += count
    return deleted
