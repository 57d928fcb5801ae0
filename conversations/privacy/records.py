"""The audit record of every export and erasure (PrivacyRequest), written by export and erasure alike."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from ..models import PrivacyRequest
from .subjects import subject_digest


def privacy_request_record(
    *,
    kind: str,
    channel: str,
    looked_up_by: str,
    value: str,
    user: Any = None,
    counts: dict[str, int] | None = None,
    completed: bool = True,
) -> PrivacyRequest:
    return PrivacyRequest.objects.create(
        kind=kind,
        channel=channel,
        looked_up_by=looked_up_by,
        subject_digest=subject_digest(looked_up_by, value),
        requested_by=user if user is not None and user.is_authenticated else None,
        counts=counts or {},
        completed_at=timezone.now() if completed else None,
    )
