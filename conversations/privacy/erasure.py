"""A customer's erasure: every registered holder's rows about them deleted or anonymised in one transaction,
then every store (the answer cache, Redis state) cleared once it has committed, and the request recorded.

Rows are found first, all of them, and changed after: deleting a message would otherwise cut the path by which
an evaluation result or an LLM call is found. Aggregate figures lose the deleted rows and nothing else; rows
others rely on (the audit log, LLM calls, evaluation results) are kept without what leads to the customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from helpdesk.privacy import DataSubject, PersonalDataHolder, stores

from ..models import PrivacyRequest
from .records import privacy_request_record
from .subjects import model_label, subject_rows


@dataclass(frozen=True)
class ErasurePlan:
    """What an erasure will do: per model, how many rows, and whether they go or are anonymised."""

    subject: DataSubject
    rows: list[tuple[PersonalDataHolder, list[int]]]

    @property
    def counts(self) -> dict[str, int]:
        return {model_label(holder.model): len(ids) for holder, ids in self.rows}

    def lines(self) -> list[dict[str, Any]]:
        return [
            {
                "model": holder.model._meta.verbose_name_plural,
                "label": model_label(holder.model),
                "count": len(ids),
                "erase": holder.erase,
            }
            for holder, ids in self.rows
            if ids
        ]


def erasure_plan(subject: DataSubject) -> ErasurePlan:
    return ErasurePlan(subject=subject, rows=subject_rows(subject))


def subject_erase(
    subject: DataSubject,
    *,
    channel: str,
    looked_up_by: str,
    value: str,
    user: Any = None,
) -> PrivacyRequest:
    """Erase everything about the subject; returns the request's record (its counts say what went)."""
    with transaction.atomic():
        plan = erasure_plan(subject)
        for holder, ids in plan.rows:  # anonymised first: they may point at rows about to go
            if ids and holder.erase == "anonymise" and holder.anonymise is not None:
                holder.anonymise(holder.model._default_manager.filter(pk__in=ids))
        for holder, ids in plan.rows:
            if ids and holder.erase == "delete":
                holder.model._default_manager.filter(pk__in=ids).delete()
        record = privacy_request_record(
            kind=PrivacyRequest.Kind.ERASE,
            channel=channel,
            looked_up_by=looked_up_by,
            value=value,
            user=user,
            counts={label: count for label, count in plan.counts.items() if count},
            completed=False,
        )
        transaction.on_commit(lambda: _stores_erase(subject, record.pk))
    record.refresh_from_db()
    return record


def _stores_erase(subject: DataSubject, record_id: int) -> None:
    """After the commit: a store cleared inside the transaction could be refilled from rows a rollback kept."""
    counts = {f"store:{store.name}": store.erase(subject) for store in stores()}
    record = PrivacyRequest.objects.get(pk=record_id)
    record.counts = {**record.counts, **{name: count for name, count in counts.items() if count}}
    record.completed_at = timezone.now()
    record.save(update_fields=["counts", "completed_at"])
