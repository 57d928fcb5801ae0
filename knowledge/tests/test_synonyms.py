"""Synonyms: a customer's word finds the article's word (BM25) and covers it, in and across languages."""

from __future__ import annotations

import pytest

from knowledge.retrieval.search import search
from knowledge.retrieval.synonyms import single_word_synonyms, split_phrases, synonyms_of
from knowledge.retrieval.terms import query_terms
from knowledge.tests.factories import article_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("word", "other"), [
    ("postage", "shipping"), ("邮费", "运费"), ("质保", "保修"), ("voucher", "优惠券"), ("fapiao", "发票"),
    ("Saturday", "周末"), ("COD", "货到付款"), ("出库", "发货"), ("出仓", "dispatch"),
    ("运输费", "运费"), ("tax ID", "纳税人识别号"), ("税号", "taxpayer"), ("crushed", "broken"), ("dented", "破损"),
    ("service hours", "客服"), ("客服时间", "customer service"), ("PayPal", "payment"), ("Apple Pay", "付款"),
    ("engraving", "刻字"), ("定制", "personalisation"),
    # tea that got damp has gone off; an invoice's details set down wrong, and made out again
    ("damp", "受潮"), ("humid", "spoiled"), ("misspelled", "有误"), ("写错", "wrong"), ("redo", "重新开具"),
    ("重开", "corrected"), ("燃气灶", "明火"), ("gas stove", "open flame"),
])
def test_a_shop_word_has_its_synonyms_in_both_languages(word, other) -> None:
    assert other in synonyms_of(word)


def test_a_word_without_a_group_has_none_and_phrases_are_no_search_terms() -> None:
    assert synonyms_of("weather") == frozenset() and synonyms_of("咖啡") == frozenset()
    assert "credit card" in synonyms_of("visa") and "credit card" not in single_word_synonyms("visa")


def test_the_shop_adds_its_own_groups(settings) -> None:
    settings.SEARCH_SYNONYMS = "gaiwan, 盖碗, lidded bowl；oolong，乌龙\nmatcha, 抹茶"
    assert "盖碗" in synonyms_of("Gaiwan") and "乌龙" in synonyms_of("oolong") and "matcha" in synonyms_of("抹茶")
    settings.SEARCH_SYNONYMS = ""
    assert synonyms_of("gaiwan") == frozenset()


def test_synonyms_join_the_query_at_the_expansion_weight() -> None:
    terms = query_terms("how much is postage")
    assert terms["postage"] == 1.0 and 0 < terms["shipping"] < 1.0 and 0 < terms["运费"] < 1.0


@pytest.fixture
def shop(fake_ollama) -> None:
    article_create(title="Shipping", body="## Costs\n\nShipping is free from ¥199; below that it costs ¥12.")
    article_create(title="发票开具说明", language="zh-hans",
                   body="## 如何开发票\n\n在订单页申请电子发票，一个工作日内发送。")
    article_create(title="Returns", body="## Returns\n\nUnopened tea may be returned within 30 days.")


def test_a_customers_word_finds_and_covers_the_articles_word(shop) -> None:
    [best, *_] = search("what does postage cost", limit=3).hits
    assert best.title == "Shipping" and best.coverage >= 0.5


def test_without_the_embedding_model_an_english_question_reaches_a_chinese_only_article(shop, fake_ollama) -> None:
    fake_ollama.state.models.remove("bge-m3")  # keyword search only, as when the embedding model is missing
    hits = search("How do I get a fapiao?", limit=3).hits
    assert hits and hits[0].title == "发票开具说明" and hits[0].coverage > 0


@pytest.mark.parametrize(("question", "phrase", "rest"), [
    ("can i get my Money  Back?", "money back", "can i get my ?"),
    ("Do you take cash on delivery", "cash on delivery", "do you take"),
    ("I'd like to SEND\nBACK a teapot", "send back", "i'd like to a teapot"),
])
def test_a_groups_phrase_is_found_in_a_question_as_one_word(question, phrase, rest) -> None:
    found, left = split_phrases(question)
    assert found == [phrase] and left.split() == rest.split()


def test_a_phrase_is_searched_and_covered_by_its_groups_words(shop) -> None:
    article_create(title="Refunds", body="## When\n\nWe refund you within 3-5 working days of receiving it.")
    terms = query_terms("I want my money back")
    assert 0 < terms["refund"] < 1.0 and terms["money"] == 1.0
    assert split_phrases("the money is back on my card") == ([], "the money is back on my card")  # not "money back"
    for question in ("when do I get my money back?", "退款 and my money back"):
        [hit, *_] = search(question, limit=3, include_weak=True).hits
        assert hit.title == "Refunds" and hit.coverage == 1.0  # one word, "refund", not two the article lacks
