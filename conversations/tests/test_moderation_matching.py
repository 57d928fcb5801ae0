"""conversations.moderation.matching and .stream: terms found however they are dressed up, in English and Chinese,
and a streamed reply never releasing any part of a blocked term, wherever it is split."""

from __future__ import annotations

import random

import pytest

from conversations.moderation.matching import Matcher, Term, fold, normalise
from conversations.moderation.stream import ModerationFilter

TERMS = [
    Term(1, "fraud", "fraud"),
    Term(2, "wire the money", "fraud"),
    Term(3, "傻逼", "abuse"),
    Term(4, "诈骗", "fraud"),
    Term(5, "法轮", "politics"),
    Term(6, "casino", "ads", action="flag", stops=False),
    Term(7, "idiot", "abuse", languages=("en",)),
    Term(8, r"(?:wechat|微信)\s*[:：]\s*\w{4,}", "ads", is_pattern=True),
]
MATCHER = Matcher(TERMS)
# Without the pattern, which holds the last characters of a reply back whatever they are: the terms' own hold.
TERMS_ONLY = Matcher(TERMS[:-1])


def found(text: str, **kwargs: object) -> list[tuple[int | None, str]]:
    return [(m.term.id, text[m.start : m.end]) for m in MATCHER.find(text, **kwargs)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this is FRAUD, plain and simple", [(1, "FRAUD")]),
        ("ｆｒａｕｄ in full width", [(1, "ｆｒａｕｄ")]),
        ("Ｆ．Ｒ．Ａ．Ｕ．Ｄ", [(1, "Ｆ．Ｒ．Ａ．Ｕ．Ｄ")]),
        ("that's f.r.a.u.d!", [(1, "f.r.a.u.d")]),
        ("f r a u d", [(1, "f r a u d")]),
        ("f-r_a*u/d", [(1, "f-r_a*u/d")]),
        ("please Wire  The\nMoney now", [(2, "Wire  The\nMoney")]),
        ("你是傻逼", [(3, "傻逼")]),
        ("你是傻 逼", [(3, "傻 逼")]),
        ("你是傻*逼吗", [(3, "傻*逼")]),
        ("傻　逼", [(3, "傻　逼")]),  # an ideographic space
        ("這是詐騙", [(4, "詐騙")]),  # traditional characters
        ("這是詐.騙電話", [(4, "詐.騙")]),
        ("法輪功", [(5, "法輪")]),
        ("加我WeChat：abcd1234", [(8, "WeChat：abcd1234")]),
        ("加我微信: abc_12", [(8, "微信: abc_12")]),
        ("best casino in town", [(6, "casino")]),
        ("诈骗fraud连在一起", [(4, "诈骗"), (1, "fraud")]),
    ],
)
def test_terms_are_found_through_width_case_script_and_inserted_characters(text: str, expected: list) -> None:
    assert sorted(found(text)) == sorted(expected)


@pytest.mark.parametrize(
    "text",
    [
        "fraudulent is a different word",  # a non-CJK term is a whole word
        "defraud",
        "it has camera fraudster",
        "wire them the money order",
        "傻瓜和逼真",  # the two characters, but not together
        "诈欺",  # another word
        "casinos",
        "my wechat is private",
        "",
        "...!!!",
    ],
)
def test_ordinary_text_is_not_matched(text: str) -> None:
    assert found(text) == []


def test_a_term_limited_to_a_language_applies_to_that_language_only() -> None:
    assert found("you idiot", language="en") == [(7, "idiot")]
    assert found("you idiot", language="zh-hans") == []
    assert found("你是傻逼", language="en") == [(3, "傻逼")], "a term with no languages applies to all"


def test_folding_keeps_the_position_of_every_character() -> None:
    folded, origin = fold("Ａb詐ﬁ")
    assert folded == "ab诈fi" and origin == [0, 1, 2, 3, 3]
    normalised = normalise("a, b")
    assert normalised.text == "ab" and normalised.origin == [0, 3] and normalised.boundary_before == [True, True]


def test_an_empty_list_finds_nothing() -> None:
    assert Matcher([]).find("fraud 傻逼") == []


# --- the stream filter ----------------------------------------------------------------------------------------

REPLIES = [
    ("Sure. That offer is a fraud, do not pay.", "fraud", TERMS_ONLY),
    ("Sure. That offer is a F.R.A.U.D, do not pay.", "F.R.A.U.D", TERMS_ONLY),
    ("That is fraud", "fraud", TERMS_ONLY),
    ("您好，这是诈骗电话，请挂断。", "诈骗", TERMS_ONLY),
    ("您好，這是詐騙電話，請掛斷。", "詐騙", TERMS_ONLY),
    ("您好，这是诈 骗电话。", "诈 骗", TERMS_ONLY),
    ("你真是个傻*逼。", "傻*逼", TERMS_ONLY),
    ("Please wire the money today.", "wire the money", TERMS_ONLY),
    ("Add me: wechat: abcd1234 thanks", "wechat: abcd1234", MATCHER),
    ("您好，這是詐騙電話，請掛斷。", "詐騙", MATCHER),
    # OpenCC's phrase table reads "乾" differently before "隆": normalised character by character, the
    # released "乾" could otherwise not be taken back once "隆" arrives.
    ("清朝的乾隆皇帝", "乾隆", Matcher([Term(9, "乾隆", "politics")])),
]


def released_by(
    pieces: list[str], *, matcher: Matcher = MATCHER, language: str | None = None
) -> tuple[str, ModerationFilter]:
    moderation = ModerationFilter(matcher, language=language, pattern_hold=32)
    out = "".join(moderation.feed(piece) for piece in pieces)
    return out + moderation.finish(), moderation


def _assert_released_before_the_term(released: str, text: str, term_text: str) -> None:
    start = text.index(term_text)
    assert text.startswith(released), f"{released!r} is not the reply's beginning"
    assert len(released) <= start, f"released {released!r}: part of {term_text!r} reached the customer"


@pytest.mark.parametrize(("text", "term_text", "matcher"), REPLIES)
def test_a_blocked_term_split_at_every_position_never_reaches_the_customer(
    text: str, term_text: str, matcher: Matcher
) -> None:
    for cut in range(len(text) + 1):
        released, moderation = released_by([text[:cut], text[cut:]], matcher=matcher)
        assert moderation.tripped is not None, f"split at {cut}: not caught"
        _assert_released_before_the_term(released, text, term_text)


@pytest.mark.parametrize(("text", "term_text", "matcher"), REPLIES)
def test_a_blocked_term_in_random_pieces_never_reaches_the_customer(
    text: str, term_text: str, matcher: Matcher
) -> None:
    chance = random.Random(f"{text}")
    for _ in range(200):
        cuts = sorted(chance.sample(range(1, len(text)), chance.randint(1, min(8, len(text) - 1))))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        released, moderation = released_by(pieces, matcher=matcher)
        assert moderation.tripped is not None, pieces
        _assert_released_before_the_term(released, text, term_text)
    one_by_one, moderation = released_by(list(text), matcher=matcher)
    assert moderation.tripped is not None
    _assert_released_before_the_term(one_by_one, text, term_text)


@pytest.mark.parametrize(
    "text",
    [
        "Your fraudulent-looking email was a real one from us: the parcel ships today.",
        "您好，您的订单已发货，预计两天内送达。傻瓜相机也有货。",
        "Best casino deals are not something we sell.",
    ],
)
def test_a_reply_without_blocked_terms_comes_out_whole_however_split(text: str) -> None:
    for cut in range(len(text) + 1):
        released, moderation = released_by([text[:cut], text[cut:]])
        assert released == text and moderation.tripped is None
    released, _ = released_by(list(text))
    assert released == text


def test_ordinary_text_is_released_as_it_comes_and_only_a_possible_beginning_waits() -> None:
    moderation = ModerationFilter(TERMS_ONLY)
    assert moderation.feed("Your parcel ships today. ") == "Your parcel ships today. "
    assert moderation.feed("We fr") == "We ", "'fr' could begin 'fraud'"
    assert moderation.feed("iday") == "friday"
    assert moderation.feed(" 这是诈") == " 这是"
    assert moderation.feed("据") == "诈据"
    assert moderation.finish() == ""


def test_a_flagged_term_goes_through_and_is_recorded_at_the_end() -> None:
    released, moderation = released_by(["Our ca", "sino partner"])
    assert released == "Our casino partner" and moderation.tripped is None
    assert [(m.term.id, m.start) for m in moderation.matches] == [(6, 4)]


def test_without_a_matcher_text_passes_unchanged() -> None:
    moderation = ModerationFilter(None)
    assert moderation.feed("fraud 傻逼") == "fraud 傻逼" and moderation.finish() == ""
