"""conversations.privacy.masking: personal data replaced by placeholders before the model, put back in its reply."""

from __future__ import annotations

import re

import pytest

from conversations.pipeline.citations import CitationFilter
from conversations.privacy.masking import (
    UNKNOWN,
    Masker,
    id_card_valid,
    luhn_valid,
    masker_for,
    personal_data,
    personal_data_redact,
)

_PLACEHOLDER_LABEL = re.compile(r"\[(?:PHONE|EMAIL|ID|CARD|ADDRESS)\]")

# (text, the personal data in it as written), English and Chinese, in the formats customers use.
MASKED = [
    ("Call me on 138 1234 5678 please", ["138 1234 5678"]),
    ("my number is +86-139-8765-4321.", ["+86-139-8765-4321"]),
    ("reach me at 0086 15012345678 or 13912345678", ["0086 15012345678", "13912345678"]),
    (
        "UK mobile +44 20 7946 0958, US (415) 555-0132 or 212-555-0199",
        ["+44 20 7946 0958", "(415) 555-0132", "212-555-0199"],
    ),
    ("办公室电话010-12345678，家里(0755) 8765 4321", ["010-12345678", "(0755) 8765 4321"]),
    ("我的手机号是１３８１２３４５６７８", ["１３８１２３４５６７８"]),
    ("Email me: Li.Wei+shop@Example.co.uk!", ["Li.Wei+shop@Example.co.uk"]),
    ("邮箱是zhang_san@mail.example.cn，谢谢", ["zhang_san@mail.example.cn"]),
    ("身份证号11010519491231002X", ["11010519491231002X"]),
    ("my ID is 440305199003072319 and hers 310115198511223417", ["440305199003072319", "310115198511223417"]),
    ("身份证：510107197806150027。", ["510107197806150027"]),
    ("银行卡 6222 0212 3456 7890 128 退款", ["6222 0212 3456 7890 128"]),
    ("refund to card 4111-1111-1111-1111 or 5500000000000004", ["4111-1111-1111-1111", "5500000000000004"]),
    ("Amex 3782 822463 10005", ["3782 822463 10005"]),
    (
        "地址：广东省深圳市南山区科技园路1号阳光小区3栋2单元501室",
        ["广东省深圳市南山区科技园路1号阳光小区3栋2单元501室"],
    ),
    ("我住在北京市朝阳区建国路88号，明天在家", ["北京市朝阳区建国路88号"]),
    ("寄到杭州市西湖区文三路 477 号", ["杭州市西湖区文三路 477 号"]),
    ("送到翠苑小区5幢1单元302室吧", ["翠苑小区5幢1单元302室"]),
    ("Ship to 221B Baker Street, London NW1 6XE please", ["221B Baker Street, London NW1 6XE"]),
    ("I moved to 12 Oak Ave, Apt 4, Springfield, IL 62704 last week", ["12 Oak Ave, Apt 4, Springfield, IL 62704"]),
    ("deliver to 1600 Pennsylvania Avenue or PO Box 4521", ["1600 Pennsylvania Avenue", "PO Box 4521"]),
    ("my postcode SW1A 1AA, 邮编 100020", ["postcode SW1A 1AA", "邮编 100020"]),
]

# Not personal data: order numbers (the bot needs them), prices, dates, model numbers, numbers whose check fails.
KEPT = [
    "Where is order 13812345678?",
    "我的订单号：E2024051200017，订单12345678还没到",
    "order #4111111111111111 was charged twice",
    "The RTX 4090 costs $1599.99, the iPhone 15 Pro ¥7999 on 2024-05-12",
    "身份证号110105194912310021",  # 18 digits, wrong check digit
    "ID 440305199003072318 is it valid?",  # the same, one digit off
    "card 4111 1111 1111 1112 was declined",  # not Luhn
    "卡号6212261202011584349",  # not Luhn
    "ThinkPad X1 2TB SSD, model A2337, size 42 mm, 2 days road trip",
    "退货请在7天内寄回，运费12元，客服热线400-820-8820",
    "It arrived at 10:30 on 12/05/2024, tracking SF1234567890123",
    "我买了3件，共计299.00元",
]


@pytest.mark.parametrize(("text", "personal"), MASKED)
def test_personal_data_is_masked_and_restored(text: str, personal: list[str], settings) -> None:
    masker = Masker()
    masked = masker.mask(text)
    for value in personal:
        assert value not in masked
    assert [text[found.start : found.end] for found in personal_data(text)] == personal
    assert masker.restore(masked) == text
    assert sorted(masker.originals.values()) == sorted(personal)


@pytest.mark.parametrize("text", KEPT)
def test_what_is_not_personal_data_stays(text: str) -> None:
    masker = Masker()
    assert masker.mask(text) == text and not masker.masked


def test_the_checks() -> None:
    assert id_card_valid("11010519491231002X") and id_card_valid("11010519491231002x")
    assert not id_card_valid("110105194912310021") and not id_card_valid("1101051949123100")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_the_same_value_keeps_its_placeholder_across_turns_and_formats() -> None:
    masker = masker_for(
        [
            "My phone is 138 1234 5678 and my email a.b@example.com",
            "我的电话是+86 13812345678，另一个是13987654321",
        ]
    )
    assert masker.mask("call 13812345678 or A.B@example.com") == "call [PHONE_1] or [EMAIL_1]"
    assert masker.mask("或者 139-8765-4321") == "或者 [PHONE_2]"
    assert masker.restore("We will call [PHONE_1] and write to [EMAIL_1].") == (
        "We will call 138 1234 5678 and write to a.b@example.com."
    )


def test_a_placeholder_the_conversation_does_not_have_is_never_shown() -> None:
    masker = masker_for(["my number is 13812345678"])
    assert masker.restore("Call [PHONE_1] or [PHONE_7], 【EMAIL_2】") == f"Call 13812345678 or {UNKNOWN}, {UNKNOWN}"
    assert masker.restore("see [1] and [NO-ANSWER]") == "see [1] and [NO-ANSWER]"


def test_the_entities_block_is_masked_but_order_numbers_stay() -> None:
    masker = masker_for(["order 12345678, phone 138 1234 5678"])
    entities = [
        {"kind": "order_number", "text": "12345678", "value": "12345678"},
        {"kind": "phone", "text": "138 1234 5678", "value": "+8613812345678"},
    ]
    assert [e["text"] for e in masker.entities_mask(entities)] == ["12345678", "[PHONE_1]"]


def test_with_masking_off_nothing_changes(settings) -> None:
    settings.PII_MASKING = False
    masker = masker_for(["my number is 13812345678"])
    assert masker.mask("13812345678") == "13812345678" and masker.restore("[PHONE_1]") == "[PHONE_1]"


REPLIES = [
    (
        "I will call you at [PHONE_1] and email [EMAIL_1] about it [1].",
        "I will call you at 138 1234 5678 and email wei@example.com about it.",
    ),
    (
        "好的，我们会把发票寄到【ADDRESS_1】，退款到 [CARD_1]，并核对[ID_1]【1】。",
        "好的，我们会把发票寄到北京市朝阳区建国路88号，退款到 4111 1111 1111 1111，并核对11010519491231002X。",
    ),
    ("[PHONE_1][EMAIL_1] [PHONE_9] [2] [", f"138 1234 5678wei@example.com {UNKNOWN} [2] ["),
]


@pytest.mark.parametrize(("reply", "shown"), REPLIES)
def test_a_streamed_reply_is_restored_wherever_it_is_split(reply: str, shown: str) -> None:
    masker = masker_for(
        [
            "phone 138 1234 5678, wei@example.com, 北京市朝阳区建国路88号, card 4111 1111 1111 1111, "
            "ID 11010519491231002X"
        ]
    )
    for cuts in [(i,) for i in range(len(reply) + 1)] + [(i, i + 3) for i in range(len(reply) - 2)]:
        pieces = [reply[a:b] for a, b in zip((0, *cuts), (*cuts, len(reply)), strict=True)]
        citations, restorer = CitationFilter(1), masker.restorer()
        out = []
        for piece in pieces:
            text = restorer.feed(citations.feed(piece))
            assert "PHONE" not in text and "EMAIL" not in text and "_1]" not in text
            out.append(text)
        out.append(restorer.feed(citations.finish()) + restorer.finish())
        assert "".join(out) == shown, pieces


# personal_data_redact: for text that leaves the conversation for good (an FAQ suggestion).
@pytest.mark.parametrize(("text", "personal"), MASKED)
def test_redacting_takes_out_all_personal_data_even_with_masking_off(text: str, personal: list[str],
                                                                     settings) -> None:
    settings.PII_MASKING = False
    redacted = personal_data_redact(text)
    assert all(value not in redacted for value in personal)
    assert redacted.count("[") == len(personal) and _PLACEHOLDER_LABEL.search(redacted)


@pytest.mark.parametrize(("text", "redacted"), [
    ("Where is order 13812345678?", "Where is order [ORDER]?"),
    ("我的订单号：E2024051200017，订单12345678还没到", "我的订单号：[ORDER]，订单[ORDER]还没到"),
    ("order #4111111111111111 was charged twice, call 13912345678",
     "order #[ORDER] was charged twice, call [PHONE]"),
    # Not personal: prices, dates, model numbers, the shop's own service line.
    ("The RTX 4090 costs $1599.99 on 2024-05-12", "The RTX 4090 costs $1599.99 on 2024-05-12"),
    ("退货请在7天内寄回，运费12元，客服热线400-820-8820", "退货请在7天内寄回，运费12元，客服热线400-820-8820"),
])
def test_redacting_takes_out_order_numbers_too_and_keeps_the_rest(text: str, redacted: str) -> None:
    assert personal_data_redact(text) == redacted
