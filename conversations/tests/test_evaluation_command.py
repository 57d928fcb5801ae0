"""`manage.py evaluate`: a run here with progress and a table, its JSON, and a set's cases in and out."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversations.models import EvalRun, EvalSet
from helpdesk.tests.factories import default_profile
from knowledge.services.demo import demo_load

from .test_evaluation_run import shop_set

pytestmark = pytest.mark.django_db(transaction=True)


def evaluate(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("evaluate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_runs_the_default_set_with_progress_and_prints_both_parts(fake_ollama) -> None:
    shop_set(fake_ollama)
    out, err = evaluate()
    assert "[1/5] en-invoice: pass" in err and "[5/5] zh-person: pass" in err
    header, *rows = out.splitlines()
    assert header.split() == ["all", "tuning", "held", "out"]
    assert any(row.startswith("retrieval hit@5") for row in rows)
    assert any(row.startswith("asked for a person: handed off") and row.split()[-3:] == ["100.0%"] * 3
               for row in rows)
    assert "Calibration: handoff threshold 0.5 ->" in out
    assert EvalRun.objects.get().trigger == EvalRun.Trigger.COMMAND


def test_the_command_prints_the_summary_as_json(fake_ollama) -> None:
    eval_set = shop_set(fake_ollama, name="other")
    eval_set.cases.exclude(key="en-person").delete()
    EvalSet.objects.filter(pk=eval_set.pk).update(is_default=False)
    profile = default_profile()  # stored (a transactional test starts from an empty database)
    out, _ = evaluate("--set", "other", "--profile", profile.name, "--json")
    summary = json.loads(out)
    assert summary["all"]["person_handed_off"] == 1.0 and summary["held_out"]["cases"] == 0


def test_the_command_says_what_is_missing() -> None:
    with pytest.raises(CommandError, match="no default evaluation set"):
        evaluate()
    with pytest.raises(CommandError, match="no evaluation set named 'nope'"):
        evaluate("--set", "nope")
    EvalSet.objects.create(name="empty", is_default=True)
    with pytest.raises(CommandError, match="no model profile named 'nope'"):
        evaluate("--profile", "nope")


def test_the_command_imports_and_exports_cases(fake_ollama, tmp_path) -> None:
    shop_set(fake_ollama)
    exported = tmp_path / "shop.csv"
    evaluate("--set", "shop", "--export", str(exported))
    out, _ = evaluate("--set", "copy", "--import", str(exported))
    assert out.strip() == "copy: 5 case(s) created, 0 updated"
    assert EvalSet.objects.get(name="copy").cases.count() == 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "x", "question": "Where?", "articles": ["Nope"]}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 1: unknown article 'Nope'"):
        evaluate("--set", "copy", "--import", str(bad))
    out, _ = evaluate("--set", "copy", "--export", "-")
    assert len(out.splitlines()) == 5 and json.loads(out.splitlines()[0])["key"] == "en-invoice"


def test_the_demo_set_is_loaded_once_and_only_beside_the_demo_knowledge_base(fake_ollama) -> None:
    out, _ = evaluate("--load-demo")
    assert out == "" and not EvalSet.objects.exists()  # the cases name demo articles that are not there
    demo_load()
    out, _ = evaluate("--load-demo")
    eval_set = EvalSet.objects.get()
    assert eval_set.is_default and eval_set.cases.count() >= 96 and f"{eval_set.cases.count()} cases" in out
    assert eval_set.cases.filter(held_out=True, language="zh-hans").exists()
    eval_set.cases.filter(held_out=True).delete()  # a curator's edit
    assert evaluate("--load-demo") == ("", "") and not eval_set.cases.filter(held_out=True).exists()
