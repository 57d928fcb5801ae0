"""Evaluation runs nobody asks for by hand: the nightly run of the default set with the default profile
(EVAL_NIGHTLY, from EVAL_NIGHTLY_HOUR local time), and one after knowledge is published (EVAL_ON_PUBLISH).

Both are idempotent: the beat looks every few minutes whether tonight's run is queued yet, and a burst of
publishes (an import of fifty articles) queues one run while one is still waiting.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.models import ModelProfile

from ..models import EvalRun, EvalSet
from . import services


def evaluation_nightly_queue(*, now: datetime | None = None) -> EvalRun | None:
    """Queue tonight's run of the default set if it is due and not queued yet; returns it, or None."""
    if not settings.EVAL_NIGHTLY:
        return None
    local = timezone.localtime(now or timezone.now())
    if local.hour < settings.EVAL_NIGHTLY_HOUR:
        return None
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        # Locked: two beats (or a beat and a retry) never both queue tonight's run.
        eval_set = EvalSet.objects.select_for_update().filter(is_default=True).first()
        if eval_set is None or eval_set.runs.filter(trigger=EvalRun.Trigger.NIGHTLY,
                                                    created_at__gte=day_start).exists():
            return None
        return services.run_queue(eval_set=eval_set, profile=ModelProfile.objects.filter(is_default=True).first(),
                                        trigger=EvalRun.Trigger.NIGHTLY)


def evaluation_after_publish(*, version: int | None = None) -> EvalRun | None:
    """With EVAL_ON_PUBLISH, queue a run of the default set with the default profile after knowledge changed,
    unless one queued after a publish is still waiting (it will see this version too)."""
    if not settings.EVAL_ON_PUBLISH:
        return None
    with transaction.atomic():
        eval_set = EvalSet.objects.select_for_update().filter(is_default=True).first()
        if eval_set is None or eval_set.runs.filter(trigger=EvalRun.Trigger.PUBLISH,
                                                    status=EvalRun.Status.QUEUED).exists():
            return None
        return services.run_queue(eval_set=eval_set, profile=ModelProfile.objects.filter(is_default=True).first(),
                                        trigger=EvalRun.Trigger.PUBLISH)
