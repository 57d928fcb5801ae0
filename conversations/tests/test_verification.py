"""Numbers and identifiers of a reply checked against its sources: copied or reformatted facts pass, changed or
invented ones are found, in English and Chinese alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from conversations.verification import chinese_number, extract, narrow, unsupported_facts

SHIPPING = (
    "Orders over ¥199 ship free; smaller orders pay ¥12. Delivery takes 3-5 business days. "
    "Call 400-820-8820 or mail help@shop.example, or see https://shop.example/help/returns. "
    "The X200 headset costs 1,299元 and is 30% off until 2024-03-15. Support is open 9:00-18:00."
)
RETURNS_ZH = (
    "退货须在收货后7天内申请，运费10元由买家承担。退款3到5个工作日到账。客服热线 021-6888 1234，24小时在线。"
    "订单号形如 SN-2024-001，可在 www.shop.example/orders 查询。会员享受百分之五的折扣。"
)
SOURCES = [SHIPPING, RETURNS_ZH]
# A shop's policy in digits, which replies written in words are checked against.
POLICY = ("Warranty: 1 year. Refunds take 3-5 business days. We ship within 24 hours. Shipping costs ¥12. "
          "Returns within 7 days.")


def flagged(reply: str, sources: list[str] = SOURCES) -> list[str]:
    return [fact.text for fact in unsupported_facts(reply, sources)]


@pytest.mark.parametrize(
    "reply",
    [
        "Orders over ¥199 ship free [1]; smaller ones pay ¥12 [1].",
        "Orders over 199元 ship free, otherwise shipping is 12 yuan [1].",
        "Orders above RMB 199 ship free. Delivery takes 3 to 5 days.",
        "Delivery usually takes 3–5 working days [1][2].",
        "Call +86 400 820 8820 or mail HELP@shop.example.",
        "You can call (400) 820-8820.",
        "See https://shop.example/help/returns or shop.example for details.",
        "The X200 costs CNY 1299, 30 percent off until March 15, 2024.",
        "The X200 costs 1299 RMB until 15 March.",
        "We are open from 9am to 6pm.",
        "我们的服务时间是上午9点到下午6点。",
        "X200 售价 ￥１２９９，优惠至2024年3月15日，３０％折扣。",
        "收货后七天内可申请退货，运费十元。",
        "退款会在3-5个工作日内到账 [2]。",
        "热线 021 6888 1234 全天24小时服务。",
        "We answer 24 hours a day.",
        "您的订单 SN-2024-001 可以在 https://www.shop.example/orders 查询。",
        "会员可享受5%的折扣。",
        "1. Open the app\n2. Tap Orders\n3. Choose the order",
        "步骤：1、打开应用 2、点击订单 第3步 选择订单",
        "Step 4: wait for the refund (usually three to five business days).",
        "",
        "Hello! How can I help you today?",
    ],
)
def test_a_reply_that_copies_or_reformats_its_facts_is_not_flagged(reply: str) -> None:
    assert flagged(reply) == []


@pytest.mark.parametrize(
    ("reply", "wrong"),
    [
        ("Orders over ¥189 ship free [1].", ["¥189"]),
        ("Orders over $199 ship free [1].", ["$199"]),
        ("Delivery takes 3-7 business days.", ["3-7 business days"]),
        ("Delivery takes 3-5 weeks.", ["3-5 weeks"]),
        ("Call 400-820-8821 for help.", ["400-820-8821"]),
        ("Call us on 010-5555 6666.", ["010-5555 6666"]),
        ("Mail support@shop.example.", ["support@shop.example"]),
        ("See https://shop-help.example/refund now.", ["https://shop-help.example/refund"]),
        ("See https://shop.example/help/returns/secret-form.", ["https://shop.example/help/returns/secret-form"]),
        ("The X300 headset is on sale.", ["X300"]),
        ("The X200 costs 1,399元.", ["1,399元"]),
        ("It is 40% off.", ["40%"]),
        ("The offer ends on 2024-03-16.", ["2024-03-16"]),
        ("The offer ends March 25.", ["March 25"]),
        ("Support is open until 8pm.", ["8pm"]),
        ("退货须在收货后15天内申请。", ["15天"]),
        ("退款三到七个工作日到账。", ["三到七个工作日"]),
        ("运费１５元。", ["１５元"]),
        ("您的订单 SN-2024-002 正在处理。", ["SN-2024-002"]),
        ("我们晚上10点前回复。", ["晚上10点"]),
        ("会员享受百分之十的折扣。", ["百分之十"]),
    ],
)
def test_a_changed_or_invented_fact_is_flagged(reply: str, wrong: list[str]) -> None:
    assert flagged(reply) == wrong


@pytest.mark.parametrize(
    ("source", "reply", "wrong"),
    [
        # A numeral inside a word ("周五" Friday, "一般" usually, "no one") is no quantity: it supports nothing with
        # a unit, or a reply changing "1 年" into "5 年" passes because the source's hours say "周一至周五".
        ("客服周一至周五在线。所有茶具享受 1 年保修。", "所有茶具享受 5 年保修。", ["5 年"]),
        ("一般 24 小时内发货，统一走顺丰。", "一般 1 小时内发货。", ["1 小时"]),
        ("星期六、星期日休息，退款 3 个工作日内原路退回。", "退款 6 个工作日内原路退回。", ["6 个工作日"]),
        ("万一出了问题，请在 48 小时内联系我们。", "请在 1 小时内联系我们。", ["1 小时"]),
        ("No one answers on Sundays; the warranty runs for two years.", "The warranty runs for 1 year.",
         ["1 year"]),
        ("We are open five days a week, and refunds take 3 days.", "Refunds take 5 weeks.", ["5 weeks"]),
        ("Our one-year warranty covers defects.", "The warranty lasts 1 month.", ["1 month"]),
    ],
)
def test_a_numeral_that_is_no_quantity_supports_no_number_with_a_unit(
    source: str, reply: str, wrong: list[str],
) -> None:
    assert flagged(reply, [source]) == wrong


@pytest.mark.parametrize(
    ("source", "reply"),
    [
        ("每位顾客限购两件。", "每位顾客限购 2 件。"),
        ("新品五折。", "新品 5 折。"),
        ("退款三至五天到账。", "退款 3-5 天到账。"),
        ("Refunds reach your card within three business days.", "Refunds take 3 business days."),
        ("Our one-year warranty covers defects.", "The warranty lasts 1 year."),
        ("We are open five days a week.", "We are open 5 days a week."),
        ("订单满一百九十九元包邮。", "订单满 199 元包邮。"),
        ("工作日两点前付款当天发货。", "2 点前付款当天发货。"),
    ],
)
def test_a_numeral_with_its_unit_or_none_still_supports_its_number(source: str, reply: str) -> None:
    assert flagged(reply, [source]) == []


@pytest.mark.parametrize(
    ("reply", "wrong"),
    [
        # A number written in words is a fact like one in digits: a model writes "five years" as often as "5 years".
        ("The warranty lasts five years.", ["five years"]),
        ("Refunds take three to seven business days.", ["three to seven business days"]),
        ("We ship within twenty-four hours and answer within forty-eight hours.", ["forty-eight hours"]),
        ("You get a two-year warranty.", ["two-year"]),
        ("Shipping costs fifteen yuan.", ["fifteen yuan"]),
        ("Returns are accepted for thirty days.", ["thirty days"]),
    ],
)
def test_a_number_in_words_is_checked_like_one_in_digits(reply: str, wrong: list[str]) -> None:
    assert flagged(reply, [POLICY]) == wrong


@pytest.mark.parametrize(
    "reply",
    [
        "The warranty lasts one year.",
        "Refunds take three to five business days.",
        "We ship within twenty-four hours.",
        "You get a one-year warranty.",
        "Shipping costs twelve yuan.",
        "Returns are accepted within seven days.",
        "One of our colleagues will check the two photos you sent.",
        "Most orders leave within twenty four hours, and you have seven days to send a return.",
    ],
)
def test_a_number_in_words_copied_from_its_source_is_not_flagged(reply: str) -> None:
    assert flagged(reply, [POLICY]) == []


@pytest.mark.parametrize(
    ("reply", "wrong"),
    [
        # A discount in 折 (八折: you pay 80 %) is a fact of its own kind: "8折" is not supported by a source's 8:00.
        ("会员全场八折。", ["八折"]),
        ("会员全场 8 折，营业时间 8:00 开始。", ["8 折"]),
        ("满 300 元打八折。", ["八折"]),
        ("满 300 元打 8.8 折。", ["8.8 折"]),
    ],
)
def test_a_discount_in_zhe_is_checked(reply: str, wrong: list[str]) -> None:
    source = "会员全场九折，满 300 元打 85 折。客服 8:00-20:00 在线。"
    assert flagged(reply, [source]) == wrong


@pytest.mark.parametrize("reply", ["会员全场 9 折。", "会员全场九折。", "满 300 元打八五折。", "满300元打8.5折。"])
def test_a_discount_in_zhe_copied_or_rewritten_is_not_flagged(reply: str) -> None:
    assert flagged(reply, ["会员全场九折，满 300 元打 85 折。客服 8:00-20:00 在线。"]) == []


@pytest.mark.parametrize(
    ("source", "reply"),
    [
        # A measure in the other language's spelling is the same measure (an English question answered from a
        # Chinese article, or the other way round)
        ("净含量 250 克，保质期 18 个月。", "Each tin holds 250 g and keeps for 18 months."),
        ("包裹不超过 5 公斤。", "Parcels of up to 5 kg."),
        ("Parcels of up to 5 kg.", "包裹不超过 5 千克。"),
        ("茶盘长 40 厘米，宽 2.5 米的桌子也放得下。", "The tray is 40 cm long and fits a 2.5 m table."),
        # the same span in another unit
        ("保修 1 年。", "The warranty lasts 12 months."),
        ("Returns within 2 weeks.", "退货期限 14 天。"),
        # a discount in 折 and as a percentage off
        ("会员九五折，新客八折。", "Members get 5% off and new customers 20% off."),
        ("Members get 5% off.", "会员九五折。"),
    ],
)
def test_the_same_quantity_in_another_unit_is_supported(source: str, reply: str) -> None:
    assert flagged(reply, [source]) == []


@pytest.mark.parametrize(
    ("source", "reply", "wrong"),
    [
        ("净含量 250 克。", "Each tin holds 250 kg.", ["250 kg"]),
        ("茶盘长 40 厘米。", "The tray is 40 m long.", ["40 m"]),
        ("保修 1 年。", "The warranty lasts 6 months.", ["6 months"]),
        ("请在签收后 48 小时内联系我们。", "Please contact us within 2 days.", ["2 days"]),  # days are not hours
        ("Returns within 2 weeks.", "退货期限 15 天。", ["15 天"]),
        ("会员九五折。", "Members get 10% off.", ["10%"]),
        ("Members get 5% off.", "会员九折。", ["九折"]),
    ],
)
def test_a_quantity_changed_in_another_unit_is_flagged(source: str, reply: str, wrong: list[str]) -> None:
    assert flagged(reply, [source]) == wrong


@pytest.mark.parametrize(
    ("reply", "wrong"),
    [("The warranty lasts 1 year and returns take 30 days.", []), ("保修一年，30 天内可退货。", []),
     ("The warranty lasts 1 month.", ["1 month"]), ("退货期限是一个月。", ["一个月"]),
     ("Returns within 30 weeks.", ["30 weeks"])],
)
def test_a_number_hyphenated_to_its_unit_has_that_unit(reply: str, wrong: list[str]) -> None:
    # "1-year" and "30-day" are a year and days, not unitless numbers that would support any unit.
    assert flagged(reply, ["Every gaiwan has a 1-year warranty, and we offer 30-day returns."]) == wrong


@pytest.mark.parametrize(
    ("source", "reply", "wrong"),
    [
        # half a unit is a quantity too (半年, 半小时, 一个半小时, "half an hour"), and says what 6 months or 30
        # minutes say
        ("所有茶具保修 1 年。", "所有茶具保修半年。", ["半年"]),
        ("所有茶具保修 6 个月。", "所有茶具保修半年。", []),
        ("所有茶具保修 1 年。", "所有茶具保修一年半。", ["一年半"]),
        ("所有茶具保修 18 个月。", "所有茶具保修一年半。", []),
        ("请在 30 分钟内付款。", "请在半小时内付款。", []),
        ("请在 30 分钟内付款。", "请在一个半小时内付款。", ["一个半小时"]),
        ("请在 90 分钟内付款。", "请在一个半小时内付款。", []),
        ("Please pay within 30 minutes.", "Please pay within half an hour.", []),
        ("Please pay within 30 minutes.", "Please pay within half a day.", ["half a day"]),
        # an amount after 满 (spend at least) is money, with or without 元
        ("订单满 ¥199 包邮。", "订单满两百包邮。", ["两百"]),
        ("订单满 ¥199 包邮。", "订单满一百九十九包邮。", []),
        ("订单满 3 件包邮。", "订单满三件包邮。", []),  # a count, not an amount
        ("订单满 3 件包邮。", "订单满五件包邮，满两百也包邮。", ["两百"]),
    ],
)
def test_half_a_unit_and_a_threshold_without_its_unit_are_checked(source: str, reply: str, wrong: list[str]) -> None:
    assert flagged(reply, [source]) == wrong


def test_a_fact_the_customer_gave_is_supported_by_their_message() -> None:
    reply = "I have noted your order ORD-88123 and your number 138 0013 8000."
    assert flagged(reply) == ["ORD-88123", "138 0013 8000"]
    assert flagged(reply, [*SOURCES, "my order is ORD-88123, call me on 13800138000"]) == []


def test_the_positions_point_into_the_reply_as_written() -> None:
    reply = "运费：￥１５，请拨打 400-820-8821。"
    for fact in unsupported_facts(reply, SOURCES):
        assert reply[fact.start:fact.end] == fact.text
    assert [fact.as_dict()["kind"] for fact in unsupported_facts(reply, SOURCES)] == ["quantity", "phone"]


def test_citations_and_list_numbers_are_not_facts() -> None:
    assert extract("Yes [1]. See [2, 3] and 【4】.") == []
    assert extract("1. first\n2. second\n  3. third") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("三", 3), ("十", 10), ("十五", 15), ("二十", 20), ("两千", 2000), ("一万二千", 12000), ("一百零五", 105),
     ("二零二四", 2024), ("些", None)],
)
def test_chinese_numerals_are_read(text: str, value: float | None) -> None:
    assert chinese_number(text) == value


def test_full_width_text_keeps_its_length_and_its_clause_commas() -> None:
    assert narrow("１２９９，７天 ＡＢＣ％") == "1299，7天 ABC%"


def demo_sentences() -> list[tuple[str, str]]:
    """(article, sentence) for every sentence of the demo knowledge base that states a number."""
    demo = json.loads((Path(settings.BASE_DIR) / "knowledge" / "demo" / "demo.json").read_text())
    texts = [a["title"] + "\n" + a["body"] for a in demo["articles"]]
    texts += [f["question"] + "\n" + f["answer"] for f in demo["faqs"]]
    return [(text, sentence.strip()) for text in texts for sentence in re.split(r"(?<=[.!?。！？])\s*|\n+", text)
            if re.search(r"\d|[一二三四五六七八九十两]", sentence)]


def test_every_sentence_of_the_demo_knowledge_quoted_is_supported_and_with_a_digit_changed_is_not() -> None:
    sentences = demo_sentences()
    assert len(sentences) > 40
    assert [sentence for text, sentence in sentences if unsupported_facts(sentence, [text])] == []
    missed = []
    for text, sentence in sentences:
        for fact in extract(sentence):
            digits = [i for i, char in enumerate(fact.text) if char.isdigit()]
            for digit in {digits[0], digits[-1]} if digits else ():  # "9:00" to "0:00" and to "9:01"
                changed = fact.text[:digit] + str((int(fact.text[digit]) + 1) % 10) + fact.text[digit + 1:]
                reply = sentence[:fact.start] + changed + sentence[fact.end:]
                if not unsupported_facts(reply, [text]):
                    missed.append(reply)
    assert missed == []


def test_the_knowledge_bases_facts_are_read_once_and_no_customers_are_kept() -> None:
    from conversations.verification import _knowledge_facts

    _knowledge_facts.cache_clear()
    source = "Standard delivery takes 2-4 days; orders over ¥199 ship free."
    customer = "My number is 13800138000, can you call me?"
    for _ in range(3):
        assert [fact.text for fact in unsupported_facts("It takes 2-4 days, free over ¥199.", [customer],
                                                        knowledge=[source])] == []
    info = _knowledge_facts.cache_info()
    assert info.misses == 1 and info.hits == 2 and info.currsize == 1  # the source alone, read once
    # A reply quoting the customer's number is supported by the conversation, not by a cache.
    assert unsupported_facts("We will call 13800138000.", [customer], knowledge=[source]) == []
    assert _knowledge_facts.cache_info().currsize == 1
