"""conversations.evaluation.io: a set's cases in and out as JSONL and CSV, all or nothing."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from conversations.evaluation.services import cases_export, cases_import
from conversations.models import EvalCase, EvalSet
from knowledge.tests.factories import article_create, faq_create

pytestmark = pytest.mark.django_db

LINES = [
    {"key": "en-ship-cost-1", "question": "What does shipping cost?", "language": "en", "expectation": "answer",
     "articles": ["Shipping & Delivery"], "faq": None,
     "history": [{"role": "customer", "content": "Hi"}, {"role": "bot", "content": "Hello!"}],
     "must_include": ["¥12", "48 hours"], "must_not_include": ["free|always", "¥ 0"], "held_out": False},
    {"key": "zh-invoice", "question": "怎么开发票？", "language": "zh-hans", "expectation": "faq",
     "articles": [], "faq": "怎么开发票", "history": [], "must_include": [], "must_not_include": [], "held_out": True},
    {"key": "zh-person", "question": "转人工，谢谢", "language": "zh-hans", "expectation": "person",
     "articles": ["Shipping & Delivery", "退货与退款"], "faq": None, "history": [], "must_include": [],
     "must_not_include": [], "held_out": False},
]


@pytest.fixture
def eval_set() -> EvalSet:
    article_create(title="Shipping & Delivery", body="Ships in 48 hours.", index=False)
    article_create(title="退货与退款", body="三十天内退货。", language="zh-hans", index=False)
    faq_create("怎么开发票", "在订单页面申请。", language="zh-hans", index=False)
    return EvalSet.objects.create(name="shop")


def jsonl(lines: list[dict]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_cases_round_trip(eval_set, fmt) -> None:
    assert cases_import(eval_set=eval_set, data=jsonl(LINES), fmt="jsonl").created == 3
    exported = cases_export(eval_set=eval_set, fmt=fmt)
    other = EvalSet.objects.create(name="copy")
    report = cases_import(eval_set=other, data=exported.encode(), fmt=fmt)
    assert (report.created, report.updated, report.errors) == (3, 0, [])
    assert cases_export(eval_set=other, fmt="jsonl") == jsonl(sorted(LINES, key=lambda line: line["key"]))
    case = other.cases.get(key="en-ship-cost-1")
    assert [a.title for a in case.articles.all()] == ["Shipping & Delivery"] and case.history[1]["role"] == "bot"


def test_csv_joins_lists_and_holds_the_history_as_json(eval_set) -> None:
    cases_import(eval_set=eval_set, data=jsonl(LINES[:1]), fmt="jsonl")
    header, row = cases_export(eval_set=eval_set, fmt="csv").splitlines()
    assert header == "key,question,language,expectation,articles,faq,history,must_include,must_not_include,held_out"
    assert "¥12 | 48 hours" in row and '""role"": ""customer""' in row


def test_missing_optional_keys_take_their_defaults(eval_set) -> None:
    cases_import(eval_set=eval_set, data='{"key": "bare", "question": "Hello?"}\n', fmt="jsonl")
    case = eval_set.cases.get(key="bare")
    assert (case.language, case.expectation, case.history, case.must_include, case.held_out) == (
        "en", "answer", [], [], False)
    cases_import(eval_set=eval_set, data="key,question\nbare-csv,你好\n", fmt="csv")
    assert eval_set.cases.get(key="bare-csv").question == "你好"


def test_any_error_imports_nothing_and_every_error_names_its_line(eval_set) -> None:
    bad = [
        LINES[0],
        {"key": "x1", "question": "Where?", "articles": ["No Such Article"]},
        {"key": "x2", "question": "", "expectation": "maybe"},
        {"key": "en-ship-cost-1", "question": "Again?", "faq": "unknown entry"},
    ]
    data = jsonl(bad) + "not json\n"
    report = cases_import(eval_set=eval_set, data=data, fmt="jsonl")
    assert report.created == 0 and not EvalCase.objects.exists()
    assert report.errors == [
        "line 5: not JSON (Expecting value)",
        "line 3: question is missing",
        "line 3: unknown expectation 'maybe' (answer, faq, decline, person)",
        "line 4: key 'en-ship-cost-1' already used on line 1",
        "line 2: unknown article 'No Such Article'",
        "line 4: unknown FAQ entry 'unknown entry'",
    ]


def test_csv_errors_name_the_file_line_even_after_a_multiline_question(eval_set) -> None:
    data = ('key,question,articles,history\nok,"two\nlines",Shipping & Delivery,\n'
            'bad,Where?,Nope,"[{""role"": ""x""}]"\n')
    report = cases_import(eval_set=eval_set, data=data, fmt="csv")
    assert report.errors == [
        'line 4: history must be a list of {"role": customer|bot|agent, "content": text}',
    ]
    assert not EvalCase.objects.exists()


def test_an_import_updates_cases_by_key_and_replace_deletes_the_others(eval_set) -> None:
    cases_import(eval_set=eval_set, data=jsonl(LINES), fmt="jsonl")
    changed = {**LINES[0], "question": "How much is shipping?", "articles": []}
    report = cases_import(eval_set=eval_set, data=jsonl([changed]), fmt="jsonl")
    assert (report.created, report.updated) == (0, 1)
    case = eval_set.cases.get(key="en-ship-cost-1")
    assert case.question == "How much is shipping?" and not case.articles.exists()
    assert eval_set.cases.count() == 3
    cases_import(eval_set=eval_set, data=jsonl([changed]), fmt="jsonl", replace=True)
    assert list(eval_set.cases.values_list("key", flat=True)) == ["en-ship-cost-1"]


def test_errors_read_in_the_curators_language(eval_set) -> None:
    data = jsonl([{"key": "x1", "question": "运费多少？", "articles": ["不存在的文章"]}])
    with translation.override("zh-hans"):
        report = cases_import(eval_set=eval_set, data=data, fmt="jsonl")
    assert report.errors == ["第 1 行：未知文章 '不存在的文章'"]
