"""Everyday phrasings read as the shop matter they name, and words of telling that weigh nothing: delivery time
asked by comparison ("will it take longer to get there?", "到她那儿要多几天"), a parcel redirected ("change where
it's delivered", "send it to my office address"), dispatch as the parcel having "left you", a lid that "won't sit
flat"; how many months ago, number words, "once" and "Great." are the telling, not the subject.

A small shop of its own (kettles and cups), so these cases are not the evaluation set's or the probes'.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from knowledge.retrieval.coverage import FILLER_WORDS, question_units
from knowledge.retrieval.synonyms import concepts_in
from knowledge.tests.factories import article_create
from knowledge.tests.retrieval_checks import covered_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(fake_ollama) -> None:
    article_create(
        title="Delivery", tags="delivery, shipping",
        body="## Delivery times\n\nWe dispatch within one working day and deliver in 2-3 days. Remote areas such as "
             "Tibet and Xinjiang may take a few extra days.\n\n## Tracking\n\nThe courier texts you the tracking "
             "number; you can reschedule or redirect the parcel in the courier's app.",
    )
    article_create(
        title="Kettle warranty", tags="warranty, kettle",
        body="## Two-year warranty\n\nKettles and cups have a two-year warranty against defects, such as a lid that "
             "does not fit or a base that leaks. Drops and knocks are not covered.",
    )
    article_create(
        title="Returns", tags="returns, refund",
        body="## Returning an item\n\nYou can return a kettle within 14 days. Change of mind: it must be unused and "
             "you pay the postage. We refund within 5 days once the return arrives.",
    )
    article_create(
        title="配送", language="zh-hans", tags="配送, 物流",
        body="## 送达时间\n\n工作日一天内发货，一般 2-3 天送达，西藏、新疆等偏远地区需多几天。可在快递 App 中改约时间或改地址。",
    )


@pytest.mark.parametrize(("question", "title"), [
    # delivery time, compared: the place is the story's, the time it takes is what is asked
    ("My sister lives in Lhasa. Will her kettle take longer to get there than it would to Beijing?", "Delivery"),
    ("does it take extra days to reach Urumqi?", "Delivery"),
    ("would the cups take any longer to arrive in Xinjiang?", "Delivery"),
    ("我姐在乌鲁木齐，水壶到她那儿要比到北京多几天吗？", "配送"),
    ("杯子寄到我家那边要几天，会比到上海慢吗", "配送"),
    # the parcel sent somewhere else: what the courier's app does
    ("Can I change where it's being delivered after it's on its way?", "Delivery"),
    ("could you send it to my office address instead?", "Delivery"),
    ("I need to update my delivery address, the order shipped already", "Delivery"),
    # "left you": dispatched
    ("Great. How will I know once it has left you?", "Delivery"),
    # a lid that does not sit as it should does not fit; how many months ago is the telling
    ("The lid of my kettle wobbles and won't sit flat. I bought it five months ago.", "Kettle warranty"),
    ("the lid never sat right on the cup, had it for two months now", "Kettle warranty"),
])
def test_the_everyday_phrasing_is_covered_by_the_source_it_names(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "Will the train take longer to get there than the bus?",  # a journey, not a parcel
    "Five months ago I bought a bicycle. Can you recommend a good bike shop?",
    "我姐在乌鲁木齐，那边冬天比北京冷多少度？",
])
def test_the_phrasings_do_not_make_other_matters_the_shops(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("text", "concept", "found"), [
    ("can I change where it's delivered?", "redirect", True),
    ("please send them to a different address", "redirect", True),
    ("can I change the address on my invoice?", "redirect", False),
    ("will it take longer to get there?", "delivery", True),
    ("will the flight take longer to get there?", "delivery", False),
    ("once it's left you, how do I follow it?", "dispatch", True),
    ("I left you a message yesterday", "dispatch", False),
    ("水壶到她那儿要多几天", "送达", True),
    ("比到上海慢多少", "送达", True),
    ("我收到那边的消息了", "送达", False),
])
def test_each_phrasing_is_its_concept_and_no_other(text, concept, found) -> None:
    assert (concept in concepts_in(text)[0]) is found


def test_how_long_ago_number_words_and_interjections_weigh_nothing_but_are_words_of_the_message() -> None:
    assert {"month", "months", "five", "twelve", "once", "great"} <= FILLER_WORDS
    units = question_units("Great. The lid broke once, five months ago")
    assert {unit.word: unit.weight for unit in units if unit.word in FILLER_WORDS} == {
        "great": 0.0, "once": 0.0, "five": 0.0, "month": 0.0}
    assert {unit.word for unit in units if unit.weight} == {"lid", "broke"}
