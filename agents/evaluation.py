"""The console's evaluation report: runs listed, two runs side by side, the cases whose outcome changed.

Like agents.reports: plain functions between the view and `conversations.evaluation.figures`, turning stored
run summaries into labelled, formatted cells in the page's language.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from conversations.evaluation.figures import PARTS, RunsDiff, part_figure
from conversations.models import EvalResult, EvalRun, Expectation

from . import charts
from .reports import ms, percent

PART_LABELS = {"all": gettext_noop("All cases"), "tuning": gettext_noop("Tuning part"),
               "held_out": gettext_noop("Held-out part")}
# (figure, label, kind): rates as percentages, counts as numbers, times in ms.
FIGURES = [
    ("pass_rate", gettext_noop("Cases passed"), "rate"),
    ("hit_at_k", gettext_noop("Expected article retrieved (hit@k)"), "rate"),
    ("cited_right", gettext_noop("Right article cited"), "rate"),
    ("in_scope_answered", gettext_noop("In scope: answered without handoff"), "rate"),
    ("out_of_scope_declined", gettext_noop("Out of scope: declined or handed off"), "rate"),
    ("person_handed_off", gettext_noop("Asking for a person: handed off"), "rate"),
    ("flagged_numbers", gettext_noop("Replies with unsupported numbers flagged"), "count"),
    ("auc", gettext_noop("Confidence AUC"), "auc"),
    ("ttft_ms_p50", gettext_noop("First token p50"), "ms"),
    ("ttft_ms_p95", gettext_noop("First token p95"), "ms"),
]
STATUS_LABELS = {"queued": gettext_noop("Queued"), "running": gettext_noop("Running"), "done": gettext_noop("Done"),
                 "failed": gettext_noop("Failed")}
EXPECTATION_LABELS = {
    Expectation.ANSWER: gettext_noop("answered from the knowledge base"),
    Expectation.FAQ: gettext_noop("answered by an FAQ entry"),
    Expectation.DECLINE: gettext_noop("declined or handed off"),
    Expectation.PERSON: gettext_noop("handed off: the customer asks for a person"),
}


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return _("no data")
    if kind == "rate":
        return percent(value)
    if kind == "ms":
        return ms(value)
    if kind == "auc":
        return f"{value:.2f}"
    return f"{value:,}"


def run_heading(run: EvalRun) -> dict[str, str]:
    """A run as a column heading: profile × knowledge-base version × date."""
    when = run.finished_at or run.created_at
    return {
        "id": str(run.pk), "set": run.eval_set.name, "profile": run.profile_name or _("settings"),
        "model": run.model_name, "knowledge": str(run.knowledge_version) if run.knowledge_version else "–",
        "date": f"{when:%Y-%m-%d %H:%M}", "status": status_label(run),
    }


def status_label(run: EvalRun) -> str:
    label = _(STATUS_LABELS.get(run.status, run.status))
    if run.status in (EvalRun.Status.QUEUED, EvalRun.Status.RUNNING):
        return f"{label} ({run.cases_done}/{run.cases_total})"
    return label


def runs_rows(*, runs: list[EvalRun], selected: set[int], lang: str) -> list[dict[str, Any]]:
    with translation.override(lang):
        return [{**run_heading(run), "pass_rate": _fmt(part_figure(run, "all", "pass_rate"), "rate"),
                 "selected": run.pk in selected} for run in runs]


def _change(before: Any, after: Any, kind: str) -> str:
    if before is None or after is None or kind == "count":
        return ""
    delta = after - before
    if kind == "rate":
        return f"{delta * 100:+.0f}" if round(delta * 100) else "±0"
    if kind == "ms":
        return f"{delta:+,.0f} ms"
    return f"{delta:+.2f}"


def figures_table(*, before: EvalRun, after: EvalRun, lang: str) -> dict[str, Any]:
    """Every figure (a row each) for all cases, the tuning part and the held-out part (three columns each: the
    older run, the newer run, the change), so the two runs sit next to each other in each part."""
    with translation.override(lang):
        rows = []
        for figure, label, kind in FIGURES:
            cells = []
            for part in PARTS:
                old, new = part_figure(before, part, figure), part_figure(after, part, figure)
                cells += [_fmt(old, kind), _fmt(new, kind), _change(old, new, kind)]
            detail = ""
            if figure == "pass_rate":
                detail = " / ".join(
                    _("%(passed)s of %(cases)s") % {"passed": part_figure(run, "all", "passed") or 0,
                                                    "cases": part_figure(run, "all", "cases") or 0}
                    for run in (before, after))
            rows.append({"key": figure, "label": _(label), "cells": cells, "detail": detail})
        return {"parts": [_(PART_LABELS[part]) for part in PARTS], "rows": rows}


def _buckets(run: EvalRun) -> list[dict[str, Any]]:
    return part_figure(run, "all", "reliability") or []


def reliability(*, before: EvalRun, after: EvalRun, lang: str) -> dict[str, Any]:
    """Confidence bucket against observed correctness (all cases), as rows and as a small bar chart."""
    old, new = _buckets(before), _buckets(after)
    count = max(len(old), len(new))

    def cell(buckets: list[dict[str, Any]], i: int) -> str:
        if i >= len(buckets) or not buckets[i].get("count"):
            return "–"
        b = buckets[i]
        return f"{b.get('correct', 0)}/{b['count']} · {percent(b['rate'])}" if b.get("rate") is not None else "–"

    edges = old or new
    labels = [f"{b['low']:.1f}–{b['high']:.1f}" for b in edges]
    with translation.override(lang):
        rows = [{"bucket": labels[i], "before": cell(old, i), "after": cell(new, i)} for i in range(count)]
        chart = charts.chart_build(
            chart_id="chart-reliability", kind="bar", title=_("Reliability: correct share by confidence"),
            x_label=_("Confidence"), y_label=_("Correct"), labels=labels, fmt=percent, y_max=1.0,
            series=[(_("Run %(id)s") % {"id": run.pk}, [b.get("rate") if b.get("count") else None for b in buckets])
                    for run, buckets in ((before, old), (after, new))],
            no_data=_("no data"),
        ) if labels else None
    return {"rows": rows, "chart": chart}


def calibration(*, run: EvalRun, can_apply: bool, lang: str) -> dict[str, Any]:
    """A run's threshold proposal, and whether (and to which profile) it can be applied here."""
    cal = (run.summary or {}).get("calibration") or {}
    proposed = cal.get("proposed_threshold")
    with translation.override(lang):
        return {
            "run_id": run.pk, "profile": run.profile.name if run.profile else run.profile_name or _("settings"),
            "target": _fmt(cal.get("target_wrong_rate"), "rate"),
            "current": f"{cal['current_threshold']:.2f}" if cal.get("current_threshold") is not None else "–",
            "proposed": f"{proposed:.2f}" if proposed is not None else "",
            "answered": _fmt(cal.get("answered_at_proposed"), "rate"),
            "wrong": _fmt(cal.get("wrong_rate_at_proposed"), "rate"),
            "applicable": proposed is not None and run.profile is not None,
            "can_apply": can_apply,
        }


def _case(result: EvalResult) -> dict[str, Any]:
    answer = result.answer
    if result.handoff_reason:
        answer = (answer + "\n" if answer else "") + _("(handed off: %(reason)s)") % {"reason": result.handoff_reason}
    elif result.declined and not answer:
        answer = _("(declined)")
    return {"answer": answer or "–", "failures": result.failures or [],
            "confidence": f"{result.confidence:.2f}" if result.confidence is not None else "–",
            "passed": result.passed}


def diff_unmatched(*, diff: RunsDiff) -> dict[str, str]:
    """Case keys only one of the two runs has (a case added or removed between them)."""
    return {"before": ", ".join(diff.only_before), "after": ", ".join(diff.only_after)}


def diff_rows(*, diff: RunsDiff, lang: str) -> list[dict[str, Any]]:
    """The changed cases, "got worse" first, then "got better"."""
    with translation.override(lang):
        rows = []
        for changes, direction, label in ((diff.worse, "worse", _("got worse")),
                                          (diff.better, "better", _("got better"))):
            for change in changes:
                rows.append({
                    "key": change.key, "direction": direction, "direction_label": label,
                    "question": change.after.question,
                    "expectation": _(EXPECTATION_LABELS.get(change.after.expectation, change.after.expectation)),
                    "held_out": change.after.held_out, "before": _case(change.before), "after": _case(change.after),
                })
        return rows


def dashboard_card(*, card: Any, lang: str) -> dict[str, Any] | None:
    """The dashboard's evaluation card (a conversations.evaluation.figures.LatestCard, or None without a
    finished run of the default set)."""
    if card is None:
        return None
    run = card.run
    with translation.override(lang):
        figures = [
            (_("Cases passed"), _fmt(part_figure(run, "all", "pass_rate"), "rate")),
            (_("In scope: answered without handoff"), _fmt(part_figure(run, "all", "in_scope_answered"), "rate")),
            (_("Out of scope: declined or handed off"),
             _fmt(part_figure(run, "all", "out_of_scope_declined"), "rate")),
        ]
        worse = _("Worse than the previous run (%(rate)s, run %(id)s)") % {
            "rate": _fmt(part_figure(card.previous, "all", "pass_rate"), "rate"), "id": card.previous.pk,
        } if card.worse else ""
        return {"heading": run_heading(run), "figures": figures, "worse": worse,
                "query": f"run={card.previous.pk}&run={run.pk}" if card.previous else f"run={run.pk}"}
