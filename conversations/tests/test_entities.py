"""The details a message gives: order numbers, phones, emails, amounts, product names, in both languages."""

from __future__ import annotations

import pytest

from conversations.entities import entities_merge, extract


def found(text: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(entity["kind"], entity["value"]) for entity in extract(text, **kwargs)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("my order number is 20240612553", "20240612553"),
        ("Order no. ab-99812 never came", "AB99812"),
        ("re: order #883201", "883201"),
        ("the one with #55120 on the receipt", "55120"),
        ("订单号：E202406120031，麻烦看下", "E202406120031"),
        ("订单编号为 SH20240612", "SH20240612"),
        ("我的订单778899010怎么样了", "778899010"),
    ],
)
def test_order_numbers_the_customer_labels_are_found(text: str, value: str) -> None:
    assert found(text) == [("order_number", value)]


@pytest.mark.parametrize("text", ["I ordered 2 teapots", "order 123 of them?", "rank #1 seller", "我订了3个"])
def test_small_or_unlabelled_numbers_are_no_order_numbers(text: str) -> None:
    assert ("order_number" not in {kind for kind, _ in found(text)})


def test_the_shops_own_order_pattern_replaces_the_built_in_ones() -> None:
    pattern = r"\b(TS-\d{6})\b"
    assert found("my parcel TS-004512 and order 99887766", order_pattern=pattern) == [("order_number", "TS004512")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("call me on 139 8765 4321", "+8613987654321"),
        ("我的手机：186-0000-1234", "+8618600001234"),
        ("电话+86 15012345678", "+8615012345678"),
        ("reach me at 0086 17712345678 after six", "+8617712345678"),
        ("UK number +44 7700 900123", "+447700900123"),
        ("手机号１３５１２３４５６７８", "+8613512345678"),
    ],
)
def test_phone_numbers_are_found_and_normalised(text: str, value: str) -> None:
    assert found(text) == [("phone", value)]


@pytest.mark.parametrize("text", ["call 12345678901 now", "serial 23456789012", "it weighs 139 grams"])
def test_numbers_that_are_no_mobile_numbers_are_not_phones(text: str) -> None:
    assert ("phone" not in {kind for kind, _ in found(text)})


def test_an_eleven_digit_order_number_stays_an_order_number() -> None:
    assert found("order 13912345678 is late") == [("order_number", "13912345678")]


def test_emails_are_found_lowercased_and_their_digits_are_no_phone() -> None:
    assert found("write to Zhang.San13812345678@Mail.example.cn pls") == [
        ("email", "zhang.san13812345678@mail.example.cn")
    ]
    assert found("邮箱是 kefu_test@163.com") == [("email", "kefu_test@163.com")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("I was charged ¥88.00", "88 CNY"),
        ("paid ￥１２．５ for it", "12.5 CNY"),
        ("it cost $42.99", "42.99 USD"),
        ("about 1,250 RMB in total", "1250 CNY"),
        ("refund me 30 dollars", "30 USD"),
        ("EUR 15 shipping?", "15 EUR"),
        ("花了258元", "258 CNY"),
        ("才九十九块", "99 CNY"),
        ("两千零五元太贵了", "2005 CNY"),
        ("差价是五十块钱", "50 CNY"),
    ],
)
def test_amounts_with_a_currency_are_found(text: str, value: str) -> None:
    assert found(text) == [("amount", value)]


def test_plain_numbers_are_no_amounts() -> None:
    assert found("I need 3 of them, size 42") == []


def test_product_names_match_whatever_the_case_longest_first() -> None:
    names = ["Gaiwan", "Gaiwan Travel Set", "紫砂壶"]
    assert found("is the gaiwan   travel set in stock, or just the GAIWAN?", product_names=names) == [
        ("product", "Gaiwan Travel Set"), ("product", "Gaiwan"),
    ]
    assert found("这把紫砂壶能用多久", product_names=names) == [("product", "紫砂壶")]
    assert found("gaiwans-like cups", product_names=names) == []


def test_each_value_is_given_once_in_order_of_kind() -> None:
    text = "order #440011, #440011 again; mail a@b.co; 138-1234-5678 / 13812345678"
    assert found(text) == [("email", "a@b.co"), ("order_number", "440011"), ("phone", "+8613812345678")]


def test_merging_keeps_the_first_of_each_value() -> None:
    first = [{"kind": "phone", "text": "138 1234 5678", "value": "+8613812345678"}]
    second = [{"kind": "phone", "text": "13812345678", "value": "+8613812345678"}, {"kind": "amount", "text": "$3",
                                                                                    "value": "3 USD"}]
    assert entities_merge([first, second]) == first + second[1:]


@pytest.mark.parametrize("text", ["1" * 4000, "十" * 3999 + "元", "order " + "1-" * 1997, "a." * 2000 + "@"])
def test_a_long_adversarial_message_is_read_in_linear_time(text: str) -> None:
    """Every customer message goes through these patterns before it is stored: none may start over at each
    position of a long run (4000 digits took 1.9 s before numbers were read only from their start)."""
    import time

    started = time.perf_counter()
    extract(text, product_names=["Gaiwan"])
    assert time.perf_counter() - started < 0.5
