"""Personal data masked before the model: what Ollama, its embeddings and the answer cache are given carries
placeholders (`[PHONE_1]`, `[EMAIL_1]`, `[ID_1]`, `[CARD_1]`, `[ADDRESS_1]`) instead of the customer's phone
numbers, email addresses, ID-card and bank-card numbers and street addresses; where the model echoes one, the
reply is restored before the customer or an agent sees it (PII_MASKING, on by default).

Why placeholders and not deletion: the model still knows that the customer gave a phone number, and can say
"we will call you at [PHONE_1]"; numbered per conversation (a `Masker` masks the turns oldest first), the same
value is the same placeholder in every turn, so the model can tell two numbers apart.

What is found (a rule set, not a guess: a miss is better than mangling a product's name):
- phones: conversations.entities' mainland mobiles (3-4-4 with spaces or dashes, +86/0086) and `+`-prefixed
  international numbers; here, mainland landlines with a 0 area code (`010-12345678`, `(0755) 8765 4321`) and
  North-American numbers written in groups (`(415) 555-0132`, `415-555-0132`);
- email addresses (conversations.entities);
- resident ID-card numbers: 18 characters whose ISO 7064 MOD 11-2 check character (the last, `X` for 10) is
  right and whose birth date is a date; any other 18-digit number is left alone;
- bank-card numbers: 13 to 19 digits, spaces or dashes between groups allowed, that pass the Luhn check;
- street addresses: Chinese ones built around a road and house number (`中山路100号`) or an estate, building,
  unit or room (`阳光小区3栋2单元501室`), with the province, city and district before them when written; English
  ones as a house number and capitalised names before a street word (`221B Baker Street`, `12 Oak Ave`, flat or
  suite after), a postcode after its label (`postcode SW1A 1AA`, `zip 94105`, `邮编 100000`).
Order numbers are not personal data: a number the customer calls an order (conversations.entities) is never
masked, and so stays in front of the model that needs it; nor are prices, dates and model numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from ..entities import EMAIL as ENTITY_EMAIL
from ..entities import ORDER_NUMBER, contact_spans
from ..entities import PHONE as ENTITY_PHONE

PHONE, EMAIL, ID, CARD, ADDRESS = "PHONE", "EMAIL", "ID", "CARD", "ADDRESS"
KINDS = (PHONE, EMAIL, ID, CARD, ADDRESS)
# What the model writes for a value it was not given (a placeholder it invented): never shown as one.
UNKNOWN = "***"

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{4})(\d{2})(\d{2})\d{3}[0-9Xx](?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CARD = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){12,18}(?![\d-])")
_LANDLINE = re.compile(r"(?<![\d+-])(?:\(0\d{2,3}\)|0\d{2,3})[ -]?\d{3,4}[ -]?\d{4}(?![\d-])")
# (A 400 or 800 number is a business's service line, not a person's.)
_NANP = re.compile(r"(?<![\d+-])(?:\((?![48]00)[2-9]\d{2}\)\s?|(?![48]00)[2-9]\d{2}[-.])\d{3}[-.]\d{4}(?![\d-])")

# Chinese addresses. A name part takes CJK characters but not those that begin or join a sentence, so
# "我住在中山路100号" masks "中山路100号" and keeps "我住在".
_NAME = r"[^\W\d_A-Za-z在是住到寄送的我你您她他址为往至和及或请把给从收件人地]"
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|"
    "贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_ZH_PREFIX = (
    rf"(?:(?:{_PROVINCES})(?:省|市|自治区|特别行政区)?\s?)?(?:{_NAME}{{1,6}}(?:市|州|盟)\s?)?"
    rf"(?:{_NAME}{{1,6}}(?:区|县|旗)\s?)?(?:{_NAME}{{1,8}}(?:镇|乡|街道)\s?)?"
)
_ESTATE = rf"{_NAME}{{1,10}}(?:小区|花园|公寓|大厦|家园|新村|苑|园|城)"
_ZH_UNIT = r"(?:\s?\d+\s?(?:栋|幢|座|号楼|期|号院)|\s?\d+\s?单元|\s?\d+\s?(?:室|楼|层|号|户))"
_ZH_ADDRESS = re.compile(
    _ZH_PREFIX
    + rf"(?:{_NAME}{{1,10}}(?:路|街|大街|大道|巷|弄|胡同|里)\s?\d+(?:-\d+)?\s?号(?:院)?(?:{_ESTATE})?{_ZH_UNIT}*"
    rf"|{_ESTATE}{_ZH_UNIT}+"
    rf"|\d+\s?(?:栋|幢|号楼)\s?\d+\s?单元(?:\s?\d+\s?室)?)"
)
_STREET_WORDS = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent|"
    "Square|Sq|Highway|Hwy|Parkway|Pkwy|Gardens|Grove|Row|Mews|Walk"
)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
_EN_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'-]*\.?\s+){{1,4}}(?:{_STREET_WORDS})\b\.?"
    r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*[\w-]+)?"
    rf"(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)*)?(?:,?\s*(?:{_UK_POSTCODE}|[A-Z]{{2}}(?:,?\s\d{{5}}(?:-\d{{4}})?)?|\d{{5}}(?:-\d{{4}})?))?"
    rf"|\b(?:P\.?\s?O\.?\s?Box)\s+\d+\b|邮编\s?[:：]?\s?\d{{6}}(?!\d)"
    rf"|\b(?i:post\s?code|zip(?:\s?code)?)\s?:?\s?(?:{_UK_POSTCODE}|\d{{5}}(?:-\d{{4}})?)\b"
)
_PLACEHOLDER = re.compile(r"[\[【]\s?(" + "|".join(KINDS) + r")_(\d{1,3})\s?[\]】]")
# The longest text a placeholder's beginning can be ("【ADDRESS_123 "): held back while streaming.
_LONGEST = 16


def id_card_valid(number: str) -> bool:
    """An 18-character resident ID number whose check character (ISO 7064 MOD 11-2) is right."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    """The Luhn check of payment-card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


@dataclass(frozen=True)
class Found:
    """One piece of personal data in a text: its kind, where it is, and the form the same value has however
    it is written (a phone's digits with their country code, an email lowercased)."""

    kind: str
    start: int
    end: int
    key: str


def _normalised(text: str) -> tuple[str, Sequence[int]]:
    """`text` NFKC-normalised character by character (full-width digits and ＠ to ASCII), with the index in
    `text` of each character of the result, so spans found in it map back."""
    if unicodedata.is_normalized("NFKC", text):  # most texts: nothing to map
        return text, range(len(text) + 1)
    parts, origin = [], []
    for index, char in enumerate(text):
        normal = unicodedata.normalize("NFKC", char) if ord(char) > 127 else char
        parts.append(normal)
        origin += [index] * len(normal)
    origin.append(len(text))
    return "".join(parts), origin


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def personal_data(text: str, *, order_pattern: str | None = None) -> list[Found]:
    """The personal data of `text`, in order, none overlapping: order numbers are taken first (and kept),
    then emails and phones (conversations.entities), ID-card numbers, bank cards, landlines, addresses."""
    if order_pattern is None:
        order_pattern = settings.ORDER_NUMBER_PATTERN
    normal, origin = _normalised(text)
    taken: list[tuple[int, int]] = []
    found: list[Found] = []

    def take(kind: str | None, start: int, end: int, key: str) -> None:
        if any(start < b and end > a for a, b in taken):
            return
        taken.append((start, end))
        if kind:
            found.append(Found(kind, origin[start], origin[end], key))

    contacts = contact_spans(normal, order_pattern=order_pattern)
    for entity, start, end in contacts:
        if entity["kind"] == ORDER_NUMBER:
            take(None, start, end, "")
    for entity, start, end in contacts:
        if entity["kind"] in (ENTITY_EMAIL, ENTITY_PHONE):
            take(EMAIL if entity["kind"] == ENTITY_EMAIL else PHONE, start, end, entity["value"])
    for match in _ID_CARD.finditer(normal):
        year, month, day = (int(part) for part in match.groups()[1:])
        if id_card_valid(match.group(0)) and 1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31:
            take(ID, *match.span(), match.group(0).upper())
    for match in _CARD.finditer(normal):
        if luhn_valid(_digits(match.group(0))):
            take(CARD, *match.span(), _digits(match.group(0)))
    for pattern in (_LANDLINE, _NANP):
        for match in pattern.finditer(normal):
            take(PHONE, *match.span(), _digits(match.group(0)))
    for pattern in (_ZH_ADDRESS, _EN_ADDRESS):
        for match in pattern.finditer(normal):
            take(ADDRESS, *match.span(), " ".join(match.group(0).casefold().split()))
    return sorted(found, key=lambda item: item.start)


@dataclass
class Masker:
    """The placeholders of one conversation: mask its turns oldest first, then restore what the model writes.
    `enabled=False` (PII_MASKING off) masks nothing and restores nothing."""

    enabled: bool = True
    order_pattern: str | None = None
    originals: dict[str, str] = field(default_factory=dict)  # placeholder → the value as first written
    _placeholders: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    # Each text masked once: a reply's preparation masks the question several times (search, prompt, cache).
    _masked: dict[str, str] = field(default_factory=dict)

    @property
    def masked(self) -> bool:
        """Whether any personal data was masked (a reply to it is then the customer's own: never cached)."""
        return bool(self.originals)

    def placeholder(self, found: Found, written: str) -> str:
        key = (found.kind, found.key)
        if key not in self._placeholders:
            self._counts[found.kind] = self._counts.get(found.kind, 0) + 1
            placeholder = f"[{found.kind}_{self._counts[found.kind]}]"
            self._placeholders[key] = placeholder
            self.originals[placeholder] = written
        return self._placeholders[key]

    def mask(self, text: str) -> str:
        if not self.enabled or not text:
            return text
        if text in self._masked:
            return self._masked[text]
        parts, last = [], 0
        for found in personal_data(text, order_pattern=self.order_pattern):
            parts += [text[last : found.start], self.placeholder(found, text[found.start : found.end])]
            last = found.end
        masked = "".join(parts) + text[last:] if parts else text
        self._masked[text] = masked
        return masked

    def entities_mask(self, entities: list[dict]) -> list[dict]:
        """The details block's entities with their text masked (an order number's stays as it is)."""
        return [{**entity, "text": self.mask(entity.get("text", ""))} for entity in entities]

    def restore(self, text: str) -> str:
        """`text` with every placeholder put back; one this conversation does not have becomes UNKNOWN."""
        if not self.enabled or not text:
            return text
        return _PLACEHOLDER.sub(lambda m: self.originals.get(f"[{m.group(1)}_{m.group(2)}]", UNKNOWN), text)

    def restorer(self) -> PlaceholderFilter:
        return PlaceholderFilter(self)


class PlaceholderFilter:
    """Restores placeholders in streamed text. A placeholder may arrive split across chunks ("[PHO", "NE_1]"),
    so a tail that could be the beginning of one is held back until it is complete or cannot be one: the
    customer never sees a placeholder, not even half of one."""

    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self._held = ""

    def feed(self, text: str) -> str:
        if not self.masker.enabled:
            return text
        text = self.masker.restore(self._held + text)
        cut = _partial_start(text)
        self._held = text[cut:]
        return text[:cut]

    def finish(self) -> str:
        held, self._held = self._held, ""
        return self.masker.restore(held)


_PARTIAL = re.compile(r"[\[【]\s?(?:[A-Z]{0,7}|(?:" + "|".join(KINDS) + r")_\d{0,3}\s?)$")


def _partial_start(text: str) -> int:
    """Where a possible beginning of a placeholder starts at the end of `text`, else len(text)."""
    start = max(text.rfind("["), text.rfind("【"))
    if start < 0 or len(text) - start > _LONGEST:
        return len(text)
    tail = text[start:]
    match = _PARTIAL.fullmatch(tail)
    if not match:
        return len(text)
    letters = re.sub(r"[^A-Z]", "", tail)
    return start if any(kind.startswith(letters) or letters.startswith(kind) for kind in KINDS) else len(text)


def masker_for(texts: list[str]) -> Masker:
    """A conversation's masker with `texts` (its turns, oldest first) masked, so their numbering is settled."""
    masker = Masker(enabled=settings.PII_MASKING)
    for text in texts:
        masker.mask(text)
    return masker


# What a suggested FAQ entry (conversations.faq_suggestions) has where a customer's data was: one label per kind,
# unnumbered, for a curator to read and rewrite; never restored.
REDACTED = {PHONE: "[PHONE]", EMAIL: "[EMAIL]", ID: "[ID]", CARD: "[CARD]", ADDRESS: "[ADDRESS]", "ORDER": "[ORDER]"}


def personal_data_redact(text: str, *, order_pattern: str | None = None) -> str:
    """`text` with its personal data and order numbers replaced by REDACTED's labels, whatever PII_MASKING says.

    For text that leaves the conversation for good (an FAQ suggestion, a published answer): unlike the model's
    masking, order numbers go too (a customer's order is theirs, and is no FAQ's), and nothing is restored.
    """
    if order_pattern is None:
        order_pattern = settings.ORDER_NUMBER_PATTERN
    normal, origin = _normalised(text)
    spans = [(found.start, found.end, REDACTED[found.kind])
             for found in personal_data(text, order_pattern=order_pattern)]
    for entity, start, end in contact_spans(normal, order_pattern=order_pattern):
        if entity["kind"] == ORDER_NUMBER:
            spans.append((origin[start], origin[end], REDACTED["ORDER"]))
    parts, last = [], 0
    for start, end, label in sorted(spans):
        if start < last:
            continue
        parts += [text[last:start], label]
        last = end
    return "".join(parts) + text[last:]
