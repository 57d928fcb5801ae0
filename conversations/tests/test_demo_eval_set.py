"""The demo shop's evaluation set is well formed: every case names articles and FAQ entries that exist in the demo
knowledge base, its facts are in those articles, and its mix (languages, kinds, held-out part) is what the figures
printed from it claim.

Plain file checks, no database: a typo in a title would otherwise only show as a case that can never pass.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SET_PATH = ROOT / "conversations" / "evaluation" / "demo" / "demo_set.jsonl"
DEMO_PATH = ROOT / "knowledge" / "demo" / "demo.json"

FIELDS = {"key", "question", "language", "expectation", "articles", "faq", "history", "must_include",
          "must_not_include", "held_out"}
EXPECTATIONS = {"answer", "faq", "decline", "person"}
LANGUAGES = {"en", "zh-hans"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def cases() -> tuple[dict[str, Any], ...]:
    lines = SET_PATH.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


@cache
def demo() -> dict[str, Any]:
    return json.loads(DEMO_PATH.read_text(encoding="utf-8"))


def articles_by_title() -> dict[str, str]:
    return {article["title"]: article["body"] for article in demo()["articles"]}


def normalised(text: str) -> str:
    """Case, spacing and punctuation (ASCII or full-width) do not make a question another question."""
    return re.sub(r"[\s?？!！.。,，]+", "", text.lower())


def faq_phrasings() -> dict[str, set[str]]:
    return {faq["question"]: {normalised(q) for q in [faq["question"], *faq["alternatives"]]} for faq in demo()["faqs"]}


def test_every_line_is_a_case_object_with_exactly_the_importers_fields() -> None:
    for number, line in enumerate(SET_PATH.read_text(encoding="utf-8").splitlines(), start=1):
        case = json.loads(line)
        assert isinstance(case, dict) and set(case) == FIELDS, f"line {number}"
        assert isinstance(case["question"], str) and case["question"].strip(), f"line {number}"
        assert all(isinstance(case[name], list) for name in ("articles", "history", "must_include", "must_not_include"))
        assert isinstance(case["held_out"], bool) and (case["faq"] is None or isinstance(case["faq"], str))


def test_keys_are_unique_slugs_that_fit_the_case_table() -> None:
    keys = [case["key"] for case in cases()]
    assert len(keys) == len(set(keys)), [key for key, n in Counter(keys).items() if n > 1]
    assert all(re.fullmatch(r"[a-z0-9-]{1,64}", key) for key in keys)


def test_expectations_and_languages_are_known_and_the_language_is_the_questions() -> None:
    for case in cases():
        assert case["expectation"] in EXPECTATIONS and case["language"] in LANGUAGES, case["key"]
        assert bool(CJK.search(case["question"])) == (case["language"] == "zh-hans"), case["key"]


def test_named_articles_and_faq_entries_exist_in_the_demo_knowledge_base() -> None:
    titles = set(articles_by_title())
    faqs = faq_phrasings()
    for case in cases():
        assert set(case["articles"]) <= titles, (case["key"], set(case["articles"]) - titles)
        assert case["faq"] is None or case["faq"] in faqs, case["key"]


def test_each_expectation_carries_what_it_is_judged_on() -> None:
    for case in cases():
        if case["expectation"] in ("answer", "faq"):
            assert case["articles"], case["key"]
        else:
            assert not case["articles"] and not case["must_include"], case["key"]
        assert (case["faq"] is not None) == (case["expectation"] == "faq"), case["key"]


def test_faq_cases_copy_their_entry_and_answer_cases_are_in_customers_own_words() -> None:
    faqs = faq_phrasings()
    every_phrasing = set().union(*faqs.values())
    for case in cases():
        if case["expectation"] == "faq":
            assert normalised(case["question"]) in faqs[case["faq"]], case["key"]
        else:
            assert normalised(case["question"]) not in every_phrasing, case["key"]


def test_must_include_facts_are_single_short_facts_found_in_the_cases_articles() -> None:
    bodies = articles_by_title()
    with_facts = [case for case in cases() if case["must_include"]]
    assert 10 <= len(with_facts) <= 30
    for case in with_facts:
        [fact] = case["must_include"]
        assert len(fact) <= 20 and any(fact in bodies[title] for title in case["articles"]), case["key"]


def test_follow_ups_carry_earlier_turns_ending_with_the_bots_reply() -> None:
    follow_ups = [case for case in cases() if case["history"]]
    assert len(follow_ups) >= 8
    assert {case["language"] for case in follow_ups} == LANGUAGES
    for case in follow_ups:
        assert all(turn.keys() == {"role", "content"} and turn["content"].strip() for turn in case["history"])
        assert [turn["role"] for turn in case["history"]][-1] == "bot", case["key"]
        assert {turn["role"] for turn in case["history"]} <= {"customer", "bot"}, case["key"]


def test_the_set_is_large_enough_and_half_chinese() -> None:
    languages = Counter(case["language"] for case in cases())
    assert len(cases()) >= 96
    assert languages["zh-hans"] / len(cases()) >= 0.40


@pytest.mark.parametrize("expectation", sorted(EXPECTATIONS))
def test_every_expectation_has_cases_in_both_languages(expectation: str) -> None:
    languages = Counter(case["language"] for case in cases() if case["expectation"] == expectation)
    assert languages["en"] >= 5 and languages["zh-hans"] >= 5


def test_a_third_is_held_out_across_every_expectation_and_both_languages() -> None:
    held_out = [case for case in cases() if case["held_out"]]
    assert 0.30 <= len(held_out) / len(cases()) <= 0.37
    assert {(case["expectation"], case["language"]) for case in held_out} == {
        (expectation, language) for expectation in EXPECTATIONS for language in LANGUAGES
    }
    assert any(case["history"] for case in held_out)
