"""`manage.py evaluate`: run an evaluation set through the reply pipeline here, in this process, and print what
the run says; or import and export a set's cases.

    manage.py evaluate [--set NAME] [--profile NAME] [--json]
    manage.py evaluate --set NAME --import cases.jsonl [--replace]
    manage.py evaluate [--set NAME] --export cases.csv
    manage.py evaluate --load-demo            (the demo shop's set, for the demo knowledge base; `make run` does it)

A progress line per case goes to stderr, the summary to stdout (a table, or JSON with --json). The run is
stored like one started from the admin (trigger "command").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.evaluation.services import cases_export, cases_import, demo_set_load, run_create, run_execute
from conversations.models import EvalResult, EvalRun, EvalSet
from helpdesk.models import ModelProfile

ROWS = (  # (summary key, label, kind): "rate" as a percentage, "count", "score", "ms"
    ("cases", "cases", "count"),
    ("passed", "passed", "count"),
    ("pass_rate", "pass rate", "rate"),
    ("hit_at_k", "retrieval hit@k", "rate"),
    ("cited_right", "right article cited", "rate"),
    ("in_scope_answered", "in scope: answered", "rate"),
    ("out_of_scope_declined", "out of scope: declined or handed off", "rate"),
    ("person_handed_off", "asked for a person: handed off", "rate"),
    ("flagged_numbers", "replies with unverified facts", "count"),
    ("auc", "confidence AUC", "score"),
    ("ttft_ms_p50", "first token p50", "ms"),
    ("ttft_ms_p95", "first token p95", "ms"),
)
PARTS = (("all", "all"), ("tuning", "tuning"), ("held_out", "held out"))


class Command(BaseCommand):
    help = "Run an evaluation set against a model profile and print the figures; or import/export its cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--set", dest="set_name", help="the evaluation set (default: the default set)")
        parser.add_argument("--profile", help="the model profile to evaluate (default: the default profile)")
        parser.add_argument("--import", dest="import_file", help="import cases from a .jsonl or .csv file")
        parser.add_argument("--replace", action="store_true", help="with --import: delete cases the file lacks")
        parser.add_argument("--export", dest="export_file", help="write the set's cases to a .jsonl or .csv file "
                                                                 "(- for stdout, as JSONL)")
        parser.add_argument("--json", action="store_true", help="print the run's summary as JSON")
        parser.add_argument("--load-demo", action="store_true",
                            help="create the demo shop's set (for the demo knowledge base) if it is not there")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["load_demo"]:
            eval_set = demo_set_load()
            if eval_set is not None:
                self.stdout.write(f"Loaded the demo evaluation set {eval_set.name}: {eval_set.cases.count()} cases.")
            return
        if options["import_file"]:
            self._import(options["import_file"], set_name=options["set_name"], replace=options["replace"])
            return
        eval_set = _eval_set(options["set_name"])
        if options["export_file"]:
            self._export(eval_set, options["export_file"])
            return
        run = run_create(eval_set=eval_set, profile=_profile(options["profile"]), trigger=EvalRun.Trigger.COMMAND)
        self.stderr.write(f"Run {run.pk}: {run.cases_total} case(s) of {eval_set.name} with {run.profile_name} "
                          f"({run.model_name}), knowledge version {run.knowledge_version}")
        run = run_execute(run.pk, progress=self._progress)
        if run.status != EvalRun.Status.DONE:
            raise CommandError(f"run {run.pk} failed: {run.error}")
        if options["json"]:
            self.stdout.write(json.dumps(run.summary, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(summary_table(run.summary))

    def _progress(self, run: EvalRun, result: EvalResult) -> None:
        done = run.results.count()
        verdict = "pass" if result.passed else "FAIL: " + "; ".join(result.failures)
        self.stderr.write(f"[{done}/{run.cases_total}] {result.case_key}: {verdict}")

    def _import(self, path: str, *, set_name: str | None, replace: bool) -> None:
        if not set_name:
            raise CommandError("--import needs --set NAME (the set is created if it does not exist)")
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        eval_set, _ = EvalSet.objects.get_or_create(name=set_name)
        report = cases_import(eval_set=eval_set, data=data, fmt=_format(file), replace=replace)
        if report.errors:
            raise CommandError(f"nothing imported, {len(report.errors)} error(s):\n" + "\n".join(report.errors))
        self.stdout.write(f"{eval_set.name}: {report.created} case(s) created, {report.updated} updated")

    def _export(self, eval_set: EvalSet, path: str) -> None:
        if path == "-":
            self.stdout.write(cases_export(eval_set=eval_set, fmt="jsonl"), ending="")
            return
        file = Path(path)
        file.write_text(cases_export(eval_set=eval_set, fmt=_format(file)), encoding="utf-8")
        self.stderr.write(f"{eval_set.cases.count()} case(s) of {eval_set.name} written to {path}")


def _format(path: Path) -> str:
    return "csv" if path.suffix.lower() == ".csv" else "jsonl"


def _eval_set(name: str | None) -> EvalSet:
    if name:
        eval_set = EvalSet.objects.filter(name=name).first()
        if eval_set is None:
            raise CommandError(f"no evaluation set named {name!r}")
        return eval_set
    eval_set = EvalSet.objects.filter(is_default=True).first()
    if eval_set is None:
        raise CommandError("no default evaluation set: name one with --set, or mark one as the default in the admin")
    return eval_set


def _profile(name: str | None) -> ModelProfile | None:
    if not name:
        return None
    profile = ModelProfile.objects.filter(name=name).first()
    if profile is None:
        raise CommandError(f"no model profile named {name!r}")
    return profile


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    return {"rate": f"{value:.1%}", "count": str(value), "score": f"{value:.3f}", "ms": f"{value:.0f} ms"}[kind]


def summary_table(summary: dict[str, Any]) -> str:
    """The summary as a table, the parts side by side, then the reliability table and the calibration."""
    label_width = max(len(label) for _, label, _ in ROWS) + 2
    lines = [f"{'':<{label_width}}" + "".join(f"{title:>12}" for _, title in PARTS)]
    for key, label, kind in ROWS:
        label = label.replace("@k", f"@{summary['k']}")
        lines.append(f"{label:<{label_width}}" + "".join(
            f"{_cell(summary[part][key], kind):>12}" for part, _ in PARTS))
    lines += ["", f"{'confidence':<10}   {'replies':>7}   {'right':>6}   (all cases)"]
    for bucket in summary["all"]["reliability"]:
        if bucket["count"]:
            span = f"{bucket['low']:.1f}-{bucket['high']:.1f}"
            lines.append(f"{span:<10}   {bucket['count']:>7}   {_cell(bucket['rate'], 'rate'):>6}")
    calibration = summary["calibration"]
    lines.append("")
    if calibration["proposed_threshold"] is None:
        lines.append(f"Calibration: no threshold keeps wrong answers at or below "
                     f"{calibration['target_wrong_rate']:.1%} (tuning part)")
    else:
        lines.append(
            f"Calibration: handoff threshold {calibration['current_threshold']} -> "
            f"{calibration['proposed_threshold']} answers {_cell(calibration['answered_at_proposed'], 'rate')} "
            f"of the replies with {_cell(calibration['wrong_rate_at_proposed'], 'rate')} wrong "
            f"(target {calibration['target_wrong_rate']:.1%}, tuning part)"
        )
    return "\n".join(lines)
