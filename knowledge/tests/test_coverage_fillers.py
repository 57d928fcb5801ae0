"""Words of telling (how often, how frankly, where at all, in which month) weigh nothing in what a source covers,
and still make a long message a story; a few phrasings of shop matters read as what they name ("keeps getting
declined", "a text with the tracking number", "a paper copy of the invoice", "提供哪些资料").

A small shop of its own (kettles and cups), so these cases are not the evaluation set's or the probes'.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from knowledge.retrieval.coverage import FILLER_WORDS, question_units
from knowledge.retrieval.heads import chinese_services, english_objects
from knowledge.retrieval.synonyms import synonyms_of
from knowledge.tests.factories import article_create
from knowledge.tests.retrieval_checks import covered_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(fake_ollama) -> None:
    article_create(
        title="Delivery and tracking", tags="delivery, tracking",
        body="## Tracking\n\nWhen your kettle leaves our warehouse we send the tracking number by SMS and email; it "
             "is also on the order page. Express delivery the next day costs ¥20. The courier calls before "
             "delivering: you can reschedule the delivery in the courier's app.",
    )
    article_create(
        title="Broken on arrival", tags="broken, damaged",
        body="## Report it\n\nA kettle or cup that arrives broken: report it within 48 hours of delivery with photos "
             "of the item and its packaging, and we send a new one.",
    )
    article_create(
        title="Paying for your order", tags="payment, card",
        body="## If a payment fails\n\nA card payment fails when the card has reached its daily limit or does not "
             "allow online payments. Try again or pay with Alipay.",
    )
    article_create(
        title="Receipts", tags="invoice, receipt",
        body="## Invoices\n\nEvery order gets an electronic invoice by email. We do not post paper invoices. "
             "Ask for it within 60 days of the order.",
    )
    article_create(
        title="发票", language="zh-hans", tags="发票",
        body="## 开票\n\n每笔订单都可开电子发票。开票需要提供抬头和税号，下单后 60 天内在订单页申请。",
    )
    article_create(
        title="物流查询", language="zh-hans", tags="物流",
        body="## 查询\n\n水壶发出后，我们用短信发送运单号，也可以在订单页查看。",
    )


@pytest.mark.parametrize(("question", "title"), [
    # the words of telling would have drowned the question
    ("honestly I never got any sms w the tracking number, is there somewhere else I can look?",
     "Delivery and tracking"),
    ("my card literally keeps failing at checkout but works everywhere else, what's up", "Paying for your order"),
    ("we only noticed in October that the invoice for our March order never came, can we still ask for it?",
     "Receipts"),
    ("其实我真的完全没收到短信，运单号到底去哪里看", "物流查询"),
    # how often, not what: the verb after it is asked about
    ("my Mastercard keeps getting rejected when I pay, why?", "Paying for your order"),
    ("我的卡付款一直被拒，怎么回事", "Paying for your order"),
    # a text message is an SMS
    ("will you text me the tracking number once the kettle ships?", "Delivery and tracking"),
    # the form a thing is sent in is not the thing
    ("can you post me a printed copy of the invoice for my accountant?", "Receipts"),
    # what to provide is asked, no service of the shop's
    ("开票需要提供哪些资料", "发票"),
    # one's chances and how long ago are words of asking: the story says what about
    ("my cup arrived broken. Thing is, that was five days ago and I only unpacked it today. Am I out of luck?",
     "Broken on arrival"),
    ("the kettle came smashed a week ago, any chance I still get a new one?", "Broken on arrival"),
    # another day for a delivery
    ("I won't be home when the courier comes, can I move the delivery to Saturday?", "Delivery and tracking"),
])
def test_the_question_is_covered_by_the_source_it_asks_about(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "honestly it literally never stops raining here in November, is it always like that?",
    "can you post me a paper copy of a novel?",  # the form goes, the thing stays: a novel no article names
    "其实我真的完全不懂股票，到底该怎么买基金",
])
def test_words_of_telling_cover_nothing_out_of_scope(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


def test_words_of_telling_weigh_nothing_but_are_words_of_the_message() -> None:
    units = question_units("honestly it never arrived in July")
    assert {unit.word: unit.weight for unit in units if unit.word in FILLER_WORDS} == {
        "honestly": 0.0, "never": 0.0, "july": 0.0}
    assert question_units("literally anywhere?") == []  # nothing to cover at all


def test_the_form_a_thing_is_sent_in_gives_way_to_the_thing() -> None:
    content = {"post", "paper", "copy", "invoice", "novel", "printout", "order"}
    assert english_objects("can you post me a paper copy of the invoice?", content=content) == {"invoice"}
    assert english_objects("could you send a printout of my order", content=content) == {"order"}
    assert english_objects("can you post me a paper copy of a novel", content=content) == {"novel"}


def test_a_question_of_what_to_provide_names_no_service() -> None:
    assert chinese_services("开票需要提供哪些资料", content={"开票", "提供", "资料"}) == set()
    assert chinese_services("可以提供刻字服务吗", content={"提供", "刻字"}) == {"刻字"}


def test_a_service_asked_among_several_ends_at_the_enumeration_comma() -> None:
    """"可以帮忙做礼品包装、不放价格单吗": two things asked together, the first ends at "、"."""
    content = {"帮忙", "礼品包装", "价格", "单"}
    assert chinese_services("这是送人的，可以帮忙做礼品包装、不放价格单吗？", content=content) == {"礼品包装"}
    assert chinese_services("能提供刻字、礼盒吗", content={"提供", "刻字", "礼盒"}) >= {"刻字"}


def test_how_often_is_no_word_of_the_subject() -> None:
    words = {unit.word for unit in question_units("my card keeps getting declined at checkout")}
    assert not words & {"keep", "keeps"} and "card" in words
    assert "keep" in {unit.word for unit in question_units("can I keep the gift box if I return the kettle?")}


def test_a_refused_payment_and_a_text_message_are_the_shops_words_for_them() -> None:
    assert {"fail", "failed"} <= synonyms_of("declined") and "失败" in synonyms_of("被拒")
    assert "sms" in synonyms_of("text") and "短信" in synonyms_of("text message")


def test_choosing_names_nothing_the_option_chosen_is_the_subject() -> None:
    """"can I pick the next-day option" asks about next-day delivery: picking is no service of its own."""
    for question in ("can I still pick the express option for a small order?", "how do I choose express delivery",
                     "how do I select next-day delivery at checkout"):
        assert not any(unit.head for unit in question_units(question)), question


@pytest.mark.parametrize(("told", "plain"), [
    # if, usually, rather, always, other, a lot: how it is said, not what about
    ("开发票的话一般要提供什么", "开发票要提供什么"),
    ("其他订单的单号一直查不到", "订单的单号查不到"),
])
def test_chinese_words_of_telling_weigh_nothing(shop, told, plain) -> None:
    assert {"的话", "一般", "一直", "其他", "很多", "比较"} <= FILLER_WORDS
    assert covered_by(told) == covered_by(plain)
