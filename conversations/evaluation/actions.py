"""What the admin, the console and the beat ask of evaluation runs, in one place: queue a run, apply a
calibrated threshold. The run itself and the calibration live in conversations.evaluation.services (imported
when called, so that the pages that only read runs load without it)."""

from __future__ import annotations

from typing import Any

from helpdesk.models import ModelProfile

from ..models import EvalRun, EvalSet


def evaluation_queue(*, eval_set: EvalSet, profile: ModelProfile | None = None,
                     trigger: str = EvalRun.Trigger.MANUAL, requested_by: Any = None) -> EvalRun:
    """Queue a run of `eval_set` with `profile` (None: the default profile); returns it, queued."""
    from .services import run_queue

    return run_queue(eval_set=eval_set, profile=profile, trigger=trigger, requested_by=requested_by)


def threshold_apply(*, run: EvalRun) -> float:
    """Set the run's profile's handoff threshold to the run's proposal; returns the threshold applied."""
    from .services import calibration_apply

    return calibration_apply(run=run)
