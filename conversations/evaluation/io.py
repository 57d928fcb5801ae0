"""A set's cases as JSONL or CSV, in and out: what curators keep in version control and edit in a spreadsheet.

JSONL, one case a line:
    {"key": "en-ship-cost-1", "question": "...", "language": "en", "expectation": "answer",
     "articles": ["Shipping & Delivery"], "faq": null, "history": [{"role": "customer", "content": "..."}],
     "must_include": ["48 hours"], "must_not_include": [], "held_out": false}
Articles are named by title and the FAQ entry by its question, so a file moves between installations. CSV has
the same columns, lists joined with " | " (so an item cannot itself hold " | ") and the history as a JSON
string. An import is all or nothing: any error imports nothing, and every error is reported with its line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from knowledge.selectors import article_ids_by_title, faq_ids_by_question

from ..models import EvalCase, EvalSet, Expectation

COLUMNS = ("key", "question", "language", "expectation", "articles", "faq", "history", "must_include",
           "must_not_include", "held_out")
LIST_SEPARATOR = " | "
FORMATS = ("jsonl", "csv")
_KEY = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
_ROLES = ("customer", "bot", "agent")
# " | " between items; a "|" without spaces around it (a fact such as "A|B") stays inside its item.
_LIST_SPLIT = re.compile(r"\s+\|\s+")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    article_ids: list[int] = field(default_factory=list)
    faq_id: int | None = None


def cases_import(*, eval_set: EvalSet, data: bytes | str, fmt: str, replace: bool = False) -> ImportReport:
    """Create or update (by key) the set's cases from a JSONL or CSV file; with `replace`, cases the file does
    not name are deleted. Nothing is written when any line has an error."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    report = ImportReport()
    if fmt not in FORMATS:
        report.errors.append(_("Unknown format %(format)s: jsonl or csv.") % {"format": fmt})
        return report
    rows = _jsonl_rows(text, report.errors) if fmt == "jsonl" else _csv_rows(text, report.errors)
    rows = [row for row in rows if _row_check(row, report.errors)]
    _duplicates_check(rows, report.errors)
    _knowledge_resolve(rows, report.errors)
    if report.errors:
        return report
    with transaction.atomic():
        existing = {case.key: case for case in EvalSet.objects.select_for_update().get(pk=eval_set.pk).cases.all()}
        for row in rows:
            _case_write(eval_set, row, existing.get(row.values["key"]))
            if row.values["key"] in existing:
                report.updated += 1
            else:
                report.created += 1
        if replace:
            eval_set.cases.exclude(key__in=[row.values["key"] for row in rows]).delete()
    return report


def _jsonl_rows(text: str, errors: list[str]) -> list[_Row]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(_line(number, _("not JSON (%(error)s)") % {"error": exc.msg}))
            continue
        if not isinstance(values, dict):
            errors.append(_line(number, _("not a JSON object")))
            continue
        rows.append(_Row(number, values))
    return rows


def _csv_rows(text: str, errors: list[str]) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in ("key", "question") if name not in (reader.fieldnames or [])]
    if missing:
        errors.append(_line(1, _("missing column(s) %(columns)s") % {"columns": ", ".join(missing)}))
        return []
    rows = []
    for record in reader:
        values: dict[str, Any] = {k: v for k, v in record.items() if k in COLUMNS and v not in (None, "")}
        for name in ("articles", "must_include", "must_not_include"):
            if name in values:
                values[name] = [part for part in _LIST_SPLIT.split(values[name].strip()) if part]
        if "history" in values:
            try:
                values["history"] = json.loads(values["history"])
            except json.JSONDecodeError:
                errors.append(_line(reader.line_num, _("history is not JSON")))
                continue
        if "held_out" in values:
            values["held_out"] = values["held_out"].strip().lower() in ("true", "1", "yes", "y")
        rows.append(_Row(reader.line_num, values))
    return rows


def _row_check(row: _Row, errors: list[str]) -> bool:
    """Fill in the defaults of the optional keys; False (with the errors) when the row is not a valid case."""
    values, problems = row.values, []
    values.setdefault("language", "en")
    values.setdefault("expectation", Expectation.ANSWER)
    for name in ("articles", "history", "must_include", "must_not_include"):
        values[name] = values.get(name) or []
    values.setdefault("faq", None)
    values.setdefault("held_out", False)
    if not isinstance(values.get("key"), str) or not _KEY.match(values["key"]):
        problems.append(_("key must be 1-64 letters, digits, - or _"))
    if not isinstance(values.get("question"), str) or not values["question"].strip():
        problems.append(_("question is missing"))
    if values["language"] not in dict(settings.LANGUAGES):
        problems.append(_("unknown language %(language)r") % {"language": values["language"]})
    if values["expectation"] not in Expectation.values:
        problems.append(_("unknown expectation %(expectation)r (%(choices)s)") % {
            "expectation": values["expectation"], "choices": ", ".join(Expectation.values)})
    for name in ("articles", "must_include", "must_not_include"):
        if not isinstance(values[name], list) or not all(isinstance(v, str) for v in values[name]):
            problems.append(_("%(name)s must be a list of strings") % {"name": name})
    if not isinstance(values["held_out"], bool):
        problems.append(_("held_out must be true or false"))
    if values["faq"] is not None and not isinstance(values["faq"], str):
        problems.append(_("faq must be an FAQ entry's question"))
    if values["expectation"] == Expectation.FAQ and not values["faq"]:
        problems.append(_("an faq case names its FAQ entry"))
    if not _history_valid(values["history"]):
        problems.append(_('history must be a list of {"role": customer|bot|agent, "content": text}'))
    errors += [_line(row.line, problem) for problem in problems]
    return not problems


def _line(number: int, problem: str) -> str:
    return _("line %(line)s: %(problem)s") % {"line": number, "problem": problem}


def _history_valid(history: Any) -> bool:
    return isinstance(history, list) and all(
        isinstance(turn, dict) and turn.get("role") in _ROLES and isinstance(turn.get("content"), str)
        for turn in history
    )


def _duplicates_check(rows: list[_Row], errors: list[str]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        key = row.values["key"]
        if key in first:
            errors.append(_line(row.line, _("key %(key)r already used on line %(first)s") % {
                "key": key, "first": first[key]}))
        first.setdefault(key, row.line)


def _knowledge_resolve(rows: list[_Row], errors: list[str]) -> None:
    """Articles by title and FAQ entries by question, each exactly one."""
    articles = article_ids_by_title(sorted({title for row in rows for title in row.values["articles"]}))
    faqs = faq_ids_by_question(sorted({row.values["faq"] for row in rows if row.values["faq"]}))
    for row in rows:
        for title in row.values["articles"]:
            ids = articles.get(title, [])
            if len(ids) != 1:
                problem = _("unknown article %(title)r") if not ids else _("ambiguous article %(title)r")
                errors.append(_line(row.line, problem % {"title": title}))
            else:
                row.article_ids.append(ids[0])
        if row.values["faq"]:
            ids = faqs.get(row.values["faq"], [])
            if len(ids) != 1:
                problem = _("unknown FAQ entry %(question)r") if not ids else _("ambiguous FAQ entry %(question)r")
                errors.append(_line(row.line, problem % {"question": row.values["faq"]}))
            else:
                row.faq_id = ids[0]


def _case_write(eval_set: EvalSet, row: _Row, case: EvalCase | None) -> None:
    values = row.values
    case = case or EvalCase(eval_set=eval_set, key=values["key"])
    case.question, case.language, case.expectation = values["question"], values["language"], values["expectation"]
    case.history = [{"role": turn["role"], "content": turn["content"]} for turn in values["history"]]
    case.must_include, case.must_not_include = values["must_include"], values["must_not_include"]
    case.faq_id, case.held_out = row.faq_id, values["held_out"]
    case.save()
    case.articles.set(row.article_ids)


def case_record(case: EvalCase) -> dict[str, Any]:
    """One case as the files write it."""
    return {
        "key": case.key, "question": case.question, "language": case.language, "expectation": case.expectation,
        "articles": sorted(article.title for article in case.articles.all()),
        "faq": case.faq.question if case.faq_id else None, "history": case.history,
        "must_include": case.must_include, "must_not_include": case.must_not_include, "held_out": case.held_out,
    }


def cases_export(*, eval_set: EvalSet, fmt: str) -> str:
    """The set's cases, in key order, as JSONL or CSV (what cases_import reads back)."""
    records = [case_record(case) for case in
               eval_set.cases.order_by("key").select_related("faq").prefetch_related("articles")]
    if fmt == "jsonl":
        return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r}: jsonl or csv")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({
            **record,
            **{name: LIST_SEPARATOR.join(record[name]) for name in ("articles", "must_include", "must_not_include")},
            "faq": record["faq"] or "",
            "history": json.dumps(record["history"], ensure_ascii=False) if record["history"] else "",
            "held_out": "true" if record["held_out"] else "false",
        })
    return out.getvalue()
