"""Reads of finished evaluation runs for the console report, the dashboard card and /metrics.

Every figure comes from a run's stored `summary` (written by conversations.evaluation when the run ends) and its
results; nothing here runs the pipeline. Two runs compare case by case through the case key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import OuterRef, QuerySet, Subquery

from ..models import EvalResult, EvalRun, EvalSet

PARTS = ("all", "tuning", "held_out")
# The summary's rates, in the order the report shows them; and its other figures.
RATE_FIGURES = ("pass_rate", "hit_at_k", "cited_right", "in_scope_answered", "out_of_scope_declined",
                "person_handed_off", "auc")
COUNT_FIGURES = ("cases", "passed", "flagged_numbers")
TIME_FIGURES = ("ttft_ms_p50", "ttft_ms_p95")


def runs_recent(*, limit: int = 50) -> QuerySet[EvalRun]:
    """The latest runs of every set, newest first (the report's list)."""
    return EvalRun.objects.select_related("eval_set", "profile").order_by("-created_at", "-pk")[:limit]


def runs_pair(*, first_id: int, second_id: int) -> tuple[EvalRun, EvalRun] | None:
    """Two runs by id, older first (the "before" column), or None when either is missing."""
    runs = list(EvalRun.objects.select_related("eval_set", "profile").filter(pk__in=[first_id, second_id]))
    if len(runs) != 2:
        return None
    runs.sort(key=lambda run: (run.created_at, run.pk))
    return runs[0], runs[1]


@dataclass(frozen=True)
class CaseChange:
    key: str
    before: EvalResult
    after: EvalResult


@dataclass
class RunsDiff:
    worse: list[CaseChange] = field(default_factory=list)  # passed before, fails now
    better: list[CaseChange] = field(default_factory=list)  # failed before, passes now
    only_before: list[str] = field(default_factory=list)  # case keys one run has and the other not
    only_after: list[str] = field(default_factory=list)


def runs_diff(*, before: EvalRun, after: EvalRun) -> RunsDiff:
    """The cases whose pass or fail changed from `before` to `after`, by case key."""
    old = {result.case_key: result for result in before.results.all()}
    new = {result.case_key: result for result in after.results.all()}
    diff = RunsDiff(only_before=sorted(old.keys() - new.keys()), only_after=sorted(new.keys() - old.keys()))
    for key in sorted(old.keys() & new.keys()):
        change = CaseChange(key=key, before=old[key], after=new[key])
        if old[key].passed and not new[key].passed:
            diff.worse.append(change)
        elif new[key].passed and not old[key].passed:
            diff.better.append(change)
    return diff


def runs_done(eval_set: EvalSet) -> QuerySet[EvalRun]:
    """The set's finished runs, latest first."""
    return eval_set.runs.filter(status=EvalRun.Status.DONE).order_by("-finished_at", "-pk")


def latest_done_run(*, eval_set: EvalSet, profile_id: int | None) -> EvalRun | None:
    """The profile's most recent finished run of the set (None without one)."""
    return runs_done(eval_set).filter(profile_id=profile_id).first()


def part_figure(run: EvalRun, part: str, figure: str) -> float | None:
    return ((run.summary or {}).get(part) or {}).get(figure)


@dataclass(frozen=True)
class LatestCard:
    """The dashboard's card: the latest finished run of the default set, and the one before it with the same
    profile (None when there is none), and whether its pass rate fell."""

    run: EvalRun
    previous: EvalRun | None
    worse: bool


def latest_default_run() -> LatestCard | None:
    eval_set = EvalSet.objects.filter(is_default=True).first()
    if eval_set is None:
        return None
    runs = runs_done(eval_set).select_related("eval_set", "profile")
    latest = runs.first()
    if latest is None:
        return None
    previous = runs.filter(profile_id=latest.profile_id).exclude(pk=latest.pk).first()
    rate = part_figure(latest, "all", "pass_rate")
    old_rate = part_figure(previous, "all", "pass_rate") if previous else None
    worse = rate is not None and old_rate is not None and rate < old_rate
    return LatestCard(run=latest, previous=previous, worse=worse)


def latest_runs_by_set_and_profile() -> list[EvalRun]:
    """For each set and profile name, its latest finished run (what /metrics shows, at every scrape: only those
    rows are read, however many nightly runs have piled up; a subquery works on PostgreSQL and SQLite alike)."""
    done = EvalRun.objects.filter(status=EvalRun.Status.DONE)
    latest = done.filter(eval_set=OuterRef("eval_set"), profile_name=OuterRef("profile_name")).order_by(
        "-finished_at", "-pk").values("pk")[:1]
    return list(done.filter(pk=Subquery(latest)).select_related("eval_set"))


METRICS = (
    (RATE_FIGURES, "helpdesk_eval_rate", "Rates (0-1) of the latest finished evaluation run, per set and profile"),
    (COUNT_FIGURES, "helpdesk_eval_count", "Counts of the latest finished evaluation run, per set and profile"),
    (TIME_FIGURES, "helpdesk_eval_ttft_ms", "First-token times (ms) of the latest finished evaluation run"),
)


def metric_samples() -> Iterator[tuple[str, str, dict[str, str], float]]:
    """(metric name, help, labels, value) for every figure of every latest run: rates as
    helpdesk_eval_rate{set,profile,part,figure}, counts as helpdesk_eval_count, first-token times as
    helpdesk_eval_ttft_ms, and when the run finished as helpdesk_eval_finished_timestamp{set,profile}
    (registered in helpdesk.observability.metrics.gauge_providers)."""
    for run in latest_runs_by_set_and_profile():
        base = {"set": run.eval_set.name, "profile": run.profile_name or "settings"}
        if run.finished_at:
            yield ("helpdesk_eval_finished_timestamp", "When the latest finished evaluation run ended (Unix time)",
                   base, run.finished_at.timestamp())
        for part in PARTS:
            for names, metric, documentation in METRICS:
                for figure in names:
                    value = part_figure(run, part, figure)
                    if value is not None:
                        yield metric, documentation, {**base, "part": part, "figure": figure}, float(value)
