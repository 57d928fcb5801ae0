"""The writes of evaluation: a run created and queued, a run's proposed threshold applied, and (re-exported
from their modules) running a run and importing cases, so callers find every write in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.celery import enqueue
from helpdesk.llm import profiles
from helpdesk.models import ModelProfile
from knowledge.selectors import knowledge_version_current

from ..models import EvalRun, EvalSet
from .io import ImportReport, cases_export, cases_import
from .runner import run_execute

__all__ = ["ImportReport", "calibration_apply", "cases_export", "cases_import", "run_create", "run_execute",
           "run_queue"]


def run_create(
    *, eval_set: EvalSet, profile: ModelProfile | None = None, trigger: str = EvalRun.Trigger.MANUAL,
    requested_by: Any = None,
) -> EvalRun:
    """A queued run of `eval_set` with `profile` (default: the default profile), not yet sent to a worker.

    The profile's name, model and threshold and the knowledge base's version are copied now: what the
    run measured stays readable when the profile or the articles change later."""
    profile = profile or profiles.profile_default()
    return EvalRun.objects.create(
        eval_set=eval_set, profile=profile if profile.pk else None, profile_name=profile.name,
        model_name=profile.model, handoff_threshold=profile.handoff_threshold,
        knowledge_version=knowledge_version_current(), trigger=trigger, requested_by=requested_by,
        cases_total=eval_set.cases.count(),
    )


def run_queue(
    *, eval_set: EvalSet, profile: ModelProfile | None = None, trigger: str = EvalRun.Trigger.MANUAL,
    requested_by: Any = None,
) -> EvalRun:
    """Create a run (see run_create) and have a worker run it (the `conversations.evaluate` task, on the
    knowledge queue: minutes of replies must not hold up customers' ones) once the transaction commits."""
    with transaction.atomic():
        run = run_create(eval_set=eval_set, profile=profile, trigger=trigger, requested_by=requested_by)
        transaction.on_commit(lambda: enqueue("conversations.evaluate", run.pk))
    return run


def calibration_apply(*, run: EvalRun) -> float:
    """Set the run's profile's handoff threshold to the one the run proposes; returns it.

    Raises ValidationError when the run proposes none, or measured a profile that is not stored (the
    settings' own, or one deleted since)."""
    proposed = ((run.summary or {}).get("calibration") or {}).get("proposed_threshold")
    if proposed is None:
        raise ValidationError(_("This run proposes no handoff threshold."))
    if run.profile is None:
        raise ValidationError(_("This run's model profile is not stored: save a profile and run it again."))
    profiles.profile_save(profile=run.profile, handoff_threshold=proposed)
    return float(proposed)


DEMO_SET_NAME = "demo-shop"
DEMO_SET_PATH = Path(__file__).resolve().parent / "demo" / "demo_set.jsonl"


def demo_set_load() -> EvalSet | None:
    """The demo shop's evaluation set, next to the demo knowledge base it was written for (`make run` loads
    both), so a curator can run an evaluation on the first day; the default set when there is none yet.
    None when it is already there (its cases are left as a curator may have edited them)."""
    if EvalSet.objects.filter(name=DEMO_SET_NAME).exists():
        return None
    with transaction.atomic():
        eval_set = EvalSet.objects.create(
            name=DEMO_SET_NAME, is_default=not EvalSet.objects.filter(is_default=True).exists(),
            description=_("The demo shop's cases (English and Chinese, a third held out), for the demo knowledge "
                          "base."),
        )
        report = cases_import(eval_set=eval_set, data=DEMO_SET_PATH.read_text(encoding="utf-8"), fmt="jsonl")
        if report.errors:  # the demo knowledge base is not (all) there: no set rather than a half one
            transaction.set_rollback(True)
            return None
    return eval_set
