"""The details a customer's message gives that an agent or the model needs at hand: order numbers, phone
numbers, email addresses, amounts of money, product names (issue 15's 实体抽取).

Plain regular expressions over the NFKC-normalised text (full-width digits, ＃, ￥ and ＠ become ASCII), so
they run on every message at the cost of a few microseconds. Each entity is a dict {"kind", "text", "value"}:
`text` as written (after NFKC), `value` normalised for comparison and deduplication ("+8613812345678",
"12.5 CNY", "E2024051200017", the product's configured spelling).

Which kind a span is decided in this order, and a span taken by one kind is not read again: emails (an
address's digits are no phone), order numbers (a number the customer calls an order, even eleven digits
starting with 1, is the order), phones, amounts, products.

The shop's order-number format is not known here: the built-in patterns take a number the customer
labels as an order (`order 12345678`, `order no. A-1234`, `订单号：E2024…`, `我的订单12345678`) or writes
after `#` (`#12345`). A shop with a fixed format sets ORDER_NUMBER_PATTERN (a regex; its first group, else
the whole match, is the number), which replaces the built-in patterns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

ORDER_NUMBER, PHONE, EMAIL, AMOUNT, PRODUCT = "order_number", "phone", "email", "amount", "product"
KINDS = (ORDER_NUMBER, PHONE, EMAIL, AMOUNT, PRODUCT)

_EMAIL = re.compile(r"(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# An order reference: a label, then a token holding at least four digits (letters and dashes allowed).
_ORDER_TOKEN = r"([A-Za-z]{0,4}-?\d[\dA-Za-z-]{2,30}\d)"
_ORDER = re.compile(
    r"(?:\border(?:\s+(?:number|num|no\.?|id|ref(?:erence)?))?\s*(?:is|was|:|#)?\s*#?\s*"
    r"|订单(?:号码?|编号)?\s*(?:是|为|[:：])?\s*|单号\s*(?:是|为|[:：])?\s*|(?<![\w&])#\s?)"
    + _ORDER_TOKEN + r"(?![A-Za-z0-9-])",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d")
# Mainland mobile numbers (1[3-9] and nine digits, spaces or dashes as 3-4-4, an optional +86/0086), then
# any other number written with a + country code.
_CN_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_INTERNATIONAL = re.compile(r"(?<![\w+])\+(\d{1,3})[\s-]?(\(?\d[\d\s()-]{5,16}\d)(?!\d)")
# Amounts: a currency sign or code before the number, or a unit after it.
_CURRENCIES = {
    "¥": "CNY", "$": "USD", "€": "EUR", "£": "GBP", "rmb": "CNY", "cny": "CNY", "usd": "USD", "us$": "USD",
    "eur": "EUR", "gbp": "GBP", "hk$": "HKD", "hkd": "HKD", "元": "CNY", "块": "CNY", "块钱": "CNY",
    "人民币": "CNY", "美元": "USD", "美金": "USD", "欧元": "EUR", "英镑": "GBP", "港币": "HKD", "yuan": "CNY",
    "dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pounds": "GBP",
}
_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_AMOUNT_BEFORE = re.compile(r"(us\$|hk\$|[¥$€£]|\b(?:rmb|cny|usd|eur|gbp|hkd)\b)\s?" + _NUMBER, re.IGNORECASE)
# (A number starts after no digit, so a long run of digits is read once, not from each of its positions.)
_AMOUNT_AFTER = re.compile(
    r"(?<![\d,.])" + _NUMBER + r"\s?(块钱|人民币|美元|美金|欧元|英镑|港币|元|块"
    r"|(?:rmb|cny|usd|eur|gbp|hkd|yuan|dollars?|bucks|euros?|pounds)\b)",
    re.IGNORECASE,
)
# Chinese numerals with a unit: 三十元, 一百五十块, 两千五百元.
_ZH_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_ZH_NUMERALS = "零〇一二两三四五六七八九十百千万"
_ZH_AMOUNT = re.compile(rf"(?<![{_ZH_NUMERALS}])([{_ZH_NUMERALS}]+)\s?(块钱|元|块|人民币|美元|欧元)")


def normalise(text: str) -> str:
    """NFKC (full-width digits, letters and signs to ASCII) with runs of whitespace made one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _zh_number(numerals: str) -> int | None:
    """三十 → 30, 一百五十 → 150, 两千零五 → 2005; None for what is not a number (a lone 万)."""
    total, section, digit = 0, 0, None
    for char in numerals:
        if char in _ZH_DIGITS:
            digit = _ZH_DIGITS[char]
        elif char == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * _ZH_UNITS[char]
            digit = None
    value = total + section + (digit or 0)
    return value or None


def _amount_value(number: str, currency: str) -> str:
    amount = number.replace(",", "")
    if "." in amount:
        amount = amount.rstrip("0").rstrip(".")
    return f"{amount} {currency}"


class _Spans:
    """The parts of the text already taken by an entity, so no later kind reads them again."""

    def __init__(self) -> None:
        self.taken: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.taken)

    def take(self, start: int, end: int) -> None:
        self.taken.append((start, end))


@lru_cache(maxsize=8)
def _order_pattern(custom: str) -> re.Pattern[str]:
    return re.compile(custom, re.IGNORECASE) if custom else _ORDER


def _orders(text: str, spans: _Spans, custom: str) -> list[dict]:
    found = []
    for match in _order_pattern(custom).finditer(text):
        group = 1 if match.re.groups else 0
        start, end = match.span(group)
        number = match.group(group)
        if not number or not spans.free(start, end) or (not custom and len(_DIGITS.findall(number)) < 4):
            continue
        spans.take(start, end)
        found.append({"kind": ORDER_NUMBER, "text": number, "value": number.replace("-", "").upper()})
    return found


def _phones(text: str, spans: _Spans) -> list[dict]:
    found = []
    for match in _CN_MOBILE.finditer(text):
        if spans.free(*match.span()):
            spans.take(*match.span())
            found.append({"kind": PHONE, "text": match.group(0), "value": "+86" + "".join(match.groups())})
    for match in _INTERNATIONAL.finditer(text):
        digits = re.sub(r"\D", "", match.group(2))
        if spans.free(*match.span()) and 6 <= len(digits) <= 14:
            spans.take(*match.span())
            found.append({"kind": PHONE, "text": match.group(0), "value": f"+{match.group(1)}{digits}"})
    return found


def _amounts(text: str, spans: _Spans) -> list[dict]:
    found = []
    candidates = [(m, m.group(2), m.group(1)) for m in _AMOUNT_BEFORE.finditer(text)]
    candidates += [(m, m.group(1), m.group(2)) for m in _AMOUNT_AFTER.finditer(text)]
    for match, number, unit in sorted(candidates, key=lambda c: c[0].start()):
        if spans.free(*match.span()):
            spans.take(*match.span())
            value = _amount_value(number, _CURRENCIES[unit.lower()])
            found.append({"kind": AMOUNT, "text": match.group(0), "value": value})
    for match in _ZH_AMOUNT.finditer(text):
        number = _zh_number(match.group(1))
        if number is not None and spans.free(*match.span()):
            spans.take(*match.span())
            found.append({"kind": AMOUNT, "text": match.group(0), "value": f"{number} {_CURRENCIES[match.group(2)]}"})
    return found


@lru_cache(maxsize=32)
def _product_pattern(names: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One alternation of every name, longest first (so "gaiwan set" wins over "gaiwan"); Latin names must
    stand as whole words, CJK names may sit inside a sentence (Chinese has no spaces)."""
    canonical = {name.casefold(): name for name in names if len(name.strip()) >= 2}
    if not canonical:
        return None, {}
    parts = []
    for folded in sorted(canonical, key=len, reverse=True):
        escaped = r"\s+".join(re.escape(word) for word in folded.split())
        parts.append(escaped if not folded.isascii() else rf"(?<![\w-]){escaped}(?![\w-])")
    return re.compile("|".join(parts), re.IGNORECASE), canonical


def _products(text: str, spans: _Spans, names: tuple[str, ...]) -> list[dict]:
    pattern, canonical = _product_pattern(names)
    if pattern is None:
        return []
    found = []
    for match in pattern.finditer(text):
        if spans.free(*match.span()):
            spans.take(*match.span())
            name = canonical.get(" ".join(match.group(0).casefold().split()), match.group(0))
            found.append({"kind": PRODUCT, "text": match.group(0), "value": name})
    return found


def _contacts(text: str, spans: _Spans, order_pattern: str) -> list[dict]:
    """Emails, order numbers and phones, in that order (see the module's docstring)."""
    emails = []
    for match in _EMAIL.finditer(text):
        spans.take(*match.span())
        emails.append({"kind": EMAIL, "text": match.group(0), "value": match.group(0).lower()})
    return emails + _orders(text, spans, order_pattern) + _phones(text, spans)


def extract(text: str, *, product_names: Iterable[str] = (), order_pattern: str = "") -> list[dict]:
    """The entities of a message, in the order of the kinds above, each once per value."""
    text = normalise(text)
    spans = _Spans()
    found = _contacts(text, spans, order_pattern) + _amounts(text, spans)
    found += _products(text, spans, tuple(product_names))
    return entities_merge([found])


def contact_spans(text: str, *, order_pattern: str = "") -> list[tuple[dict, int, int]]:
    """The emails, order numbers and phone numbers of `text` as written (no normalising: the caller maps
    the spans back), each with where it is, for conversations.privacy.masking."""
    spans = _Spans()
    found = _contacts(text, spans, order_pattern)
    return [(entity, start, end) for entity, (start, end) in zip(found, spans.taken, strict=True)]


def entities_merge(lists: Iterable[Iterable[dict]]) -> list[dict]:
    """Several messages' entities as one list, each (kind, value) once, first seen first."""
    seen: set[tuple[str, str]] = set()
    merged = []
    for entities in lists:
        for entity in entities or []:
            key = (entity.get("kind", ""), entity.get("value", ""))
            if key not in seen:
                seen.add(key)
                merged.append(entity)
    return merged
