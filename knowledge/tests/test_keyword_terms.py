"""Keyword search when the question and the article are cut into words differently (no vectors at all)."""

from __future__ import annotations

import importlib

import pytest

from knowledge.retrieval.search import search
from knowledge.retrieval.terms import QUERY_EXPANSION_WEIGHT, index_terms, query_terms, tokenize
from knowledge.tests.factories import article_create

pytestmark = pytest.mark.django_db

SHOP = {
    "battery": ("电池与续航", "## 电池保养\n\n电池充满后请拔下充电线，电池一般可以循环充电五百次。", ""),
    "coupon": ("优惠券使用规则", "## 叠加规则\n\n每笔订单只能使用一张优惠券，不能与满减活动叠加。", ""),
    "charger": ("无线充电器", "## 兼容机型\n\n支持 Qi 标准的机型都可以无线充电，输出功率 15W。", ""),
    "earbuds": (
        "蓝牙耳机配对",
        "## 配对步骤\n\n长按耳机充电盒按钮三秒，在手机蓝牙列表中选择 WH-1000XM5 即可。",
        "",
    ),
    "dispatch": ("发货时间", "## 发货\n\n付款后四十八小时内从杭州仓库发货。", "dispatch, shipping time, 发货"),
    "film": ("贴膜服务", "## 贴膜\n\n购买钢化玻璃膜可免费贴膜。", ""),
    "points": ("会员积分", "## 积分兑换\n\n每消费一元积一分，一百积分可以抵扣一元。", ""),
}


@pytest.fixture
def shop(fake_ollama) -> None:
    """A Chinese-only shop indexed with the embedding model missing: keyword search alone."""
    fake_ollama.state.models = ["deepseek-r1:7b"]
    for key, (title, body, tags) in SHOP.items():
        article_create(title=title, body=body, language="zh-hans", tags=tags, public_url=f"https://shop.example/{key}")


def _titles(question: str) -> list[str]:
    result = search(question)
    assert result.keyword_only
    return [hit.title for hit in result.hits]


def test_search_mode_adds_the_words_inside_a_compound() -> None:
    assert {"手机", "电池", "手机电池"} <= set(index_terms("手机电池掉电快"))
    terms = query_terms("手机电池掉电快")
    assert terms["手机电池"] == 1.0 and terms["电池"] == terms["手机"] == QUERY_EXPANSION_WEIGHT  # partial match
    # The plain reading is unchanged: one term per word (follow-ups are told by it).
    assert tokenize("手机电池掉电快") == ["手机电池", "掉电", "快"]


def test_glued_words_give_their_characters_and_compounds_their_head() -> None:
    assert "券" in index_terms("每笔订单只能使用一张优惠券")  # the head of 优惠券
    terms = query_terms("这张券能退吗")  # segmented "这 / 张券能 / 退 / 吗"
    assert terms["券"] == QUERY_EXPANSION_WEIGHT
    assert "能" not in terms and "吗" not in terms


def test_character_pairs_are_weighted_and_never_stop_words_or_punctuation() -> None:
    terms = query_terms("退货运费谁承担。")  # segmented "退 / 货运费 / 谁 / 承担"
    assert terms["退货"] == terms["运费"] == QUERY_EXPANSION_WEIGHT
    assert "。" not in terms and "。" not in index_terms("退货运费谁承担。")
    assert not [term for term in query_terms("你好，我想问一下这个") if len(term) == 2 and "我" in term]


def test_english_terms_and_model_numbers_are_unchanged() -> None:
    assert index_terms("How do I return my parcels?") == ["return", "parcel"]
    assert query_terms("WH-1000XM5 耳机") == {"wh": 1.0, "1000xm5": 1.0, "耳机": 1.0}


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("我的手机电池掉电很快怎么办", "电池与续航"),  # question compound, article short noun
        ("玻璃碎了怎么办", "贴膜服务"),  # question short noun, article compound (钢化玻璃)
        ("券怎么用", "优惠券使用规则"),  # the head noun of a compound alone
        ("这张券能退吗", "优惠券使用规则"),  # noun glued to its neighbour
        ("满减券能和别的一起用吗", "优惠券使用规则"),
        ("积分怎么抵扣", "会员积分"),
        ("WH-1000XM5怎么连手机", "蓝牙耳机配对"),  # model number inside Chinese
        ("充电器支持Qi吗", "无线充电器"),
    ],
)
def test_chinese_question_finds_the_article_cut_differently(shop, question, title) -> None:
    assert _titles(question)[0] == title


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("Does the WH-1000XM5 pair with my phone?", "蓝牙耳机配对"),  # a shared model number
        ("When do you dispatch my order?", "发货时间"),  # the curator's English tag
    ],
)
def test_english_question_finds_a_chinese_only_article_by_identifiers_and_tags(shop, question, title) -> None:
    assert _titles(question)[0] == title


@pytest.mark.parametrize(
    "question", ["今天天气怎么样", "推荐一首关于月亮的诗。", "明天上海下雨吗？", "What's the weather?"]
)
def test_unrelated_question_still_finds_nothing(shop, question) -> None:
    assert _titles(question) == []


def test_a_shared_word_outranks_a_shared_character(shop) -> None:
    # "券" alone would only tip the balance: the article sharing the word 积分 stays first.
    titles = _titles("这张券能换积分吗")
    assert titles[0] == "会员积分"
    assert "无线充电器" not in titles and "电池与续航" not in titles


def test_migration_recomputes_the_terms_of_chunks_indexed_before(fake_ollama) -> None:
    from django.apps import apps

    from knowledge.models import Chunk

    migration = importlib.import_module("knowledge.migrations.0002_search_terms_search_mode")
    article = article_create(title="优惠券使用规则", body="每笔订单只能使用一张优惠券。", language="zh-hans",
                             tags="coupon")
    Chunk.objects.filter(article=article).update(search_tokens="优惠券 使用 规则")  # as the old tokenizer stored
    migration.search_tokens_recompute(apps, None)
    stored = Chunk.objects.get(article=article).search_tokens.split()
    assert {"优惠", "券", "coupon"} <= set(stored)
