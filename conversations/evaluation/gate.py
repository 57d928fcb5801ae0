"""The evaluation gate on promoting a model profile, registered in helpdesk.llm.profiles.promotion_gates.

A canary that answered the default set worse than the default profile must not take over: made the default,
or given more than EVAL_GATE_FREE_SHARE of new conversations, it needs a done run of the default set whose
pass rate (all cases) is at most EVAL_GATE_TOLERANCE below the default profile's latest. With no default set
there is nothing to measure by, and no gate; nor for the first
profile stored, which has no default to be compared with.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from helpdesk.models import ModelProfile

from ..models import EvalRun, EvalSet
from .figures import latest_done_run


def pass_rate(run: EvalRun) -> float | None:
    return ((run.summary or {}).get("all") or {}).get("pass_rate")


def _run_label(run: EvalRun, rate: float | None) -> str:
    when = run.finished_at or run.created_at
    shown = f"{rate * 100:.1f} %" if rate is not None else _("no pass rate")
    return _("run %(id)s of %(date)s: %(rate)s") % {"id": run.pk, "date": f"{when:%Y-%m-%d %H:%M}", "rate": shown}


def evaluation_gate(profile: ModelProfile, context: dict) -> str:
    """Why `profile` may not be promoted, or "" when it may (see the module's docstring)."""
    if not settings.EVAL_GATE_ENABLED:
        return ""
    eval_set = EvalSet.objects.filter(is_default=True).first()
    default = ModelProfile.objects.filter(is_default=True).exclude(pk=profile.pk).first()
    if eval_set is None or default is None:
        return ""  # nothing to measure by, or no default yet to protect (the first profile stored)
    candidate = latest_done_run(eval_set=eval_set, profile_id=profile.pk) if profile.pk else None
    if candidate is None:
        return _("%(profile)s has no finished run of the default evaluation set %(set)s: run it first.") % {
            "profile": profile.name, "set": eval_set.name}
    reference = latest_done_run(eval_set=eval_set, profile_id=default.pk)
    candidate_rate = pass_rate(candidate)
    if reference is None:
        return "" if candidate_rate is not None else _("%(run)s has no pass rate.") % {
            "run": _run_label(candidate, None)}
    reference_rate = pass_rate(reference)
    if reference_rate is None:
        return ""
    if candidate_rate is None or candidate_rate < reference_rate - settings.EVAL_GATE_TOLERANCE:
        return _(
            "%(profile)s did worse than the default %(default)s on the evaluation set %(set)s: "
            "%(candidate)s against %(reference)s (at most %(tolerance)s points lower is allowed)."
        ) % {
            "profile": profile.name, "default": default.name, "set": eval_set.name,
            "candidate": _run_label(candidate, candidate_rate), "reference": _run_label(reference, reference_rate),
            "tolerance": f"{settings.EVAL_GATE_TOLERANCE * 100:g}",
        }
    return ""
