"""Which numbers and identifiers in a reply nothing given to the model supports.

A small model copies most facts from its sources but now and then changes a
digit or invents a phone number, and a customer cannot tell. After each reply
every number (with its unit, currency or percent sign), range, date, time of
day, phone number, email address, link and order or model number is taken out
of it and looked up among the texts that may support it: the sources the
model was given, the customer's own messages and the conversation. What is
found nowhere lowers the reply's confidence (conversations.confidence) and is
shown to the agent.

Plain functions of text, deterministic and fast (regular expressions, no
model). Both sides are normalised so that a correctly copied fact is never
flagged: full-width digits and signs, thousands separators, ¥/元/RMB/CNY as
one currency, "24小时" and "24 hours" as one duration, Chinese numerals
(三天, 两个工作日, 百分之五十) and number words ("three days") as their values.
Citation markers like [1] and list numbering ("1.", "2、") are not facts.

Over 300 lines on purpose: each kind of fact is a pattern plus a rule of when
it is supported, and they must be read (and masked, longest first) together.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from knowledge.cache import DOMAIN_PATTERN, EMAIL_PATTERN, URL_PATTERN, URL_TRAILING, url_form

# Full-width ASCII (！..～) but the sentence punctuation (，；！？ end Chinese clauses, they are no separators
# of digits), the ideographic space and the full-width yen sign: one character for one, so that the positions of
# what is found still point into the reply as written.
_NARROW = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) not in "，；！？"}
_NARROW |= {0x3000: 0x20, 0xFFE5: 0xA5}

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "[零〇一二两三四五六七八九十百千万]+"
# The unit of a number found inside another fact (a date's day): it supports only a number the reply gives no unit.
BARE = "~"
_WORDS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen".split())}
_TENS = {word: 10 * value for value, word in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
# An English number in words up to 99 ("five", "twenty-four", "forty eight").
_EN_NUMERAL = (rf"(?:{'|'.join(_TENS)})(?:[\s-](?:{'|'.join(list(_WORDS)[1:10])})\b)?"
               rf"|(?:{'|'.join(sorted(_WORDS, key=len, reverse=True))})")

# Unit spellings -> the class two quantities must share (or one of them lack) to support each other.
_UNIT_CLASSES = {
    "cny": "¥ 元 块 人民币 rmb cny yuan",
    "usd": "$ us$ usd dollar dollars",
    "eur": "€ eur euro euros",
    "gbp": "£ gbp pound pounds",
    "percent": "% percent 百分之",
    "day": "天 日 个工作日 工作日 business-day business-days working-day working-days day days",
    "hour": "小时 个小时 钟头 h hr hrs hour hours",
    "minute": "分钟 min mins minute minutes",
    "week": "周 个星期 星期 week weeks",
    "month": "个月 month months",
    "year": "年 year years",
    "zhe": "折",  # a discount: 八折 is 80 % of the price, 85折 (八五折) 85 %
    # Measures, in either language's spelling (an English question may be answered from a Chinese article).
    "kg": "kg 公斤 千克 kilogram kilograms kilo kilos",
    "g": "g 克 gram grams",
    "mg": "mg 毫克",
    "km": "km 公里 千米 kilometre kilometres kilometer kilometers",
    "m": "m 米 metre metres meter meters",
    "cm": "cm 厘米 centimetre centimetres centimeter centimeters",
    "mm": "mm 毫米 millimetre millimetres millimeter millimeters",
}
# Spans and discounts that say the same in another unit: 1 年 is 12 months, 2 weeks 14 days, 半小时 30 minutes,
# 九五折 5 % off. Not days as hours: "2 个工作日" is no 48 小时, and a source's 24, 48 and 72 hours would support
# changed days.
_SAME_SPAN = {"year": (("month", 12),), "month": (("year", 1 / 12),), "week": (("day", 7),), "day": (("week", 1 / 7),),
              "hour": (("minute", 60),), "minute": (("hour", 1 / 60),)}
_UNIT_OF = {spelling.replace("-", " "): unit for unit, spellings in _UNIT_CLASSES.items()
            for spelling in spellings.split()}
# Measures compared by their own spelling (128GB and 128 gb support each other, 128MB does not).
_MEASURES = "斤 gb tb mb mah w kw v 寸 英寸 inch inches 件 个 台".split()
_SUFFIXES = sorted([s for s in _UNIT_OF if s not in "¥$€£"] + _MEASURES, key=len, reverse=True)
_SUFFIX = "(?:" + "|".join(re.escape(s).replace(r"\ ", r"\s+") for s in _SUFFIXES) + ")(?![A-Za-z])"
# Every number word starts with one of these letters: a position that does not is passed over at once.
_NUMBER_WORD_START = r"\b(?=[zotfsenhZOTFSENH])"
_NUMBER_WORD = re.compile(rf"{_NUMBER_WORD_START}(?:{_EN_NUMERAL}|hundred)\b", re.IGNORECASE)
# A number in words with its unit is a fact of a reply ("five years", "three to five business days", "a two-year
# warranty"), as "5 years" is. A hyphen joins a number's own words ("twenty-four"), a range's ends only with spaces.
_EN_QUANTITY = re.compile(
    rf"{_NUMBER_WORD_START}(?:(?P<low>{_EN_NUMERAL})(?:\s+to\s+|\s*–\s*|\s+-\s+))?(?P<number>{_EN_NUMERAL})[\s-]+(?P<unit>{_SUFFIX})",
    re.IGNORECASE,
)
_EN_HALF = re.compile(rf"\bhalf\s+an?\s+(?P<unit>{_SUFFIX})", re.IGNORECASE)  # "half an hour", "half a day"
_PREFIX = r"(?:US\$|HK\$|RMB|CNY|USD|EUR|GBP|[¥$€£])"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULTIPLIER = r"(?:万|千(?![克米瓦])|[kK](?![A-Za-z]))"

_QUANTITY = re.compile(
    rf"(?<![A-Za-z\d.,])(?:(?P<prefix>{_PREFIX})\s?)?(?P<number>{_NUMBER})(?P<mult>\s?{_MULTIPLIER})?"
    rf"(?:(?:\s?|-)(?P<unit>{_SUFFIX}))?",  # "1-year", "30-day": a hyphen joins a number to its unit too
    re.IGNORECASE,
)
# A Chinese numeral counts as a fact in a reply only with a unit ("三天"), not in "一些" or "一下".
_CN_HALF_UNITS = "个小时|小时|天|个月|年|个星期|周"
_CN_QUANTITY = re.compile(
    # a half: "一年半", "一个半小时", "半年", "半个月"
    rf"(?P<whole>{CN_NUMERAL})(?P<unit_then_half>年|个月|天|个小时|小时)半"
    rf"|(?:(?P<whole2>{CN_NUMERAL})个?)?半(?P<half_unit>{_CN_HALF_UNITS})"
    rf"|(?P<prefix>百分之)(?P<number>{CN_NUMERAL})"
    rf"|(?:(?P<low>{CN_NUMERAL})\s*(?:到|至|-|~)\s*)?(?P<number2>{CN_NUMERAL})(?P<unit>个工作日|工作日|个小时|小时|天|分钟"
    r"|个星期|星期|周|个月|年|元|块(?!儿)|折)"
    # an amount to spend ("满两百包邮"), money without 元; not a count ("满三件")
    rf"|(?<=满)(?P<threshold>{CN_NUMERAL})(?!{CN_NUMERAL}|\s*(?:件|个|台|只|套|罐|盒|包(?!邮)|斤|克|公斤|千克|人|次|单))"
)
# In a supporting text every Chinese numeral is read (finding too much only makes the check kinder), with the measure
# word after it where there is one ("两件": 2 件), as a bare number where there is none.
_CN_MEASURES = "|".join(sorted((m for m in _SUFFIXES if re.fullmatch(r"[\u4e00-\u9fff]+", m)), key=len, reverse=True))
_CN_NUMERAL_MEASURED = re.compile(rf"(?P<number>{CN_NUMERAL})(?:\s*(?P<measure>{_CN_MEASURES}))?")
_RANGE_JOIN = re.compile(r"\s*(?:-|–|—|~|～|到|至|to)\s*", re.IGNORECASE)

_MONTHS = {name: index for index, names in enumerate(
    ["jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
     "sep sept september", "oct october", "nov november", "dec december"], start=1) for name in names.split()}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")(?![A-Za-z])\.?"
_DATES = [
    re.compile(r"(?<!\d)(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?(?!\d)"),
    re.compile(r"(?<!\d)(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})(?!\d)"),  # also read as month/day below
    re.compile(r"(?<!\d)(?P<y>\d{4})年(?P<m>\d{1,2})月(?!\d)"),
    re.compile(r"(?<![\d.])(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]"),
    re.compile(rf"\b(?P<mn>{_MONTH})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?", re.I),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mn>{_MONTH})(?:,?\s+(?P<y>\d{{4}})\b)?", re.I),
]
_MERIDIEM = r"(?P<mer>[ap](?:\.m\.|m)(?![A-Za-z]))"
_TIMES = [
    re.compile(rf"(?<![\d:])(?P<h>[01]?\d|2[0-4]):(?P<min>[0-5]\d)(?![\d:])(?:\s?{_MERIDIEM})?", re.I),
    re.compile(rf"(?<![\d.:])(?P<h>1[0-2]|0?[1-9])\s?{_MERIDIEM}", re.I),
    re.compile(r"(?P<period>上午|早上|中午|下午|晚上)?(?P<h>\d{1,2})[点點](?:(?P<half>半)|(?P<min>\d{1,2})分)?"),
    re.compile(rf"(?P<period>上午|早上|中午|下午|晚上)(?P<h>{CN_NUMERAL})[点點](?P<half>半)?"),
]
# Phone, account and other long numbers: digit groups with single separators, 7 digits or more.
_LONG_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\+?\(?\d+(?:(?:[ \-.]|\)\s?)\d+)*")
LONG_NUMBER_MIN_DIGITS = 7
# Order and model numbers: a letter first, a digit somewhere, ASCII only ("SN-2024-001", "X200", "ORD88123").
_CODE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z][A-Za-z]*\d[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9_-])"
                   r"|(?<![A-Za-z0-9_-])[A-Za-z]+(?:-[A-Za-z0-9]+)*-\d[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9_-])")
# Not facts: citation markers ([1], 【2】, [1, 3]), list numbering ("1." at the start of a line, "2)", "(3)", "2、")
# and steps ("step 2", "第2步").
_NOT_FACTS = re.compile(
    r"[\[【]\d+(?:\s*[,，]\s*\d+)*[\]】]|(?m:^[ \t>*#-]*\d{1,2}\.(?!\d))|(?<![\w.])\(?\d{1,2}[)、](?!\d)"
    r"|(?i:step)\s*\d{1,2}\b|第\s*\d{1,2}\s*步"
)


@dataclass(frozen=True)
class Fact:
    """One checkable fact of a reply: what it is, how it is written, and where (for highlighting)."""

    kind: str  # "quantity", "date", "time", "phone", "email", "url", "code"
    text: str
    start: int
    end: int
    key: tuple = field(default=(), compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end}


def narrow(text: str) -> str:
    """Full-width digits, letters and signs as ASCII, keeping every character's position."""
    return text.translate(_NARROW)


def chinese_number(text: str) -> float | None:
    """The value of a Chinese numeral ("三" 3, "十五" 15, "两千" 2000, "一万二千" 12000), None if it is not one."""
    total, section, digit = 0, 0, None
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        elif char == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    if len(text) > 1 and all(char in _CN_DIGITS for char in text):  # "二零二四" read digit by digit
        return float("".join(str(_CN_DIGITS[char]) for char in text))
    return float(total + section + (digit or 0))


def english_number(text: str) -> float:
    """The value of an English number in words as `_EN_NUMERAL` reads it ("twenty-four" 24, "seven" 7)."""
    value = 0
    for word in re.split(r"[\s-]+", text.lower()):
        value += _TENS.get(word, _WORDS.get(word, 0))
    return float(value)


def _unit(spelling: str | None) -> str | None:
    if not spelling:
        return None
    spelling = re.sub(r"\s+", " ", spelling.lower())
    return _UNIT_OF.get(spelling, spelling)


def _value(number: str, multiplier: str | None) -> float:
    value = float(number.replace(",", ""))
    multiplier = (multiplier or "").strip().lower()
    return value * {"万": 10000, "千": 1000, "k": 1000}.get(multiplier, 1)


def _in_unit(value: float, unit: str | None) -> float:
    """The value as its unit means it: a discount of two digits in 折 ("85折", "八五折") is 8.5折."""
    return value / 10 if unit == "zhe" and value >= 10 else value


def _cn_half(groups: dict[str, str | None]) -> tuple[float | None, str | None]:
    """(value, unit spelling) of a Chinese span with a half ("一年半" 1.5 年, "半个月" 0.5 个月), or (None, None)."""
    if groups.get("unit_then_half"):
        return (chinese_number(groups["whole"]) or 0.0) + 0.5, groups["unit_then_half"]
    if groups.get("half_unit"):
        whole = chinese_number(groups["whole2"]) if groups.get("whole2") else 0.0
        return (whole or 0.0) + 0.5, groups["half_unit"]
    return None, None


def _same_quantities(value: float, unit: str | None) -> list[tuple[float, str]]:
    """The quantity in the other units that say it exactly: 18 months as 1.5 years, 14 days as 2 weeks; a
    discount of 九五折 as 5 % (off) or 95 % (paid), and 5 % as 9.5折 or 0.5折."""
    if unit == "zhe":
        return [(round((10 - value) * 10, 6), "percent"), (round(value * 10, 6), "percent")]
    if unit == "percent":
        return [(round(10 - value / 10, 6), "zhe"), (round(value / 10, 6), "zhe")]
    return [(round(value * factor, 6), other) for other, factor in _SAME_SPAN.get(unit or "", ())]


class _Scanner:
    """Finds facts pattern by pattern, each part of the text going to the first (longest) kind that takes it."""

    def __init__(self, text: str) -> None:
        self.text = narrow(text)
        self.work = self.text

    def take(self, pattern: re.Pattern[str], accept=lambda match: True) -> Iterator[re.Match[str]]:
        """The pattern's matches in what is left, each blanked out for the kinds after it: the text is rebuilt
        once per pattern, not once per match (a reply and its sources make hundreds)."""
        taken = [match for match in pattern.finditer(self.work) if match.group(0).strip() and accept(match)]
        if taken:
            pieces, last = [], 0
            for match in taken:
                start, end = match.span()
                pieces += [self.work[last:start], "\x00" * (end - start)]
                last = end
            self.work = "".join(pieces) + self.work[last:]
        yield from taken


def _date_keys(match: re.Match[str]) -> tuple:
    groups = match.groupdict()
    month = _MONTHS[groups["mn"].lower().rstrip(".")] if groups.get("mn") else int(groups["m"])
    day = int(groups["d"]) if groups.get("d") else None
    year = int(groups["y"]) if groups.get("y") else None
    readings = [(month, day)]
    if "/" in match.group(0) and day is not None and day <= 12:
        readings.append((day, month))  # 03/04/2024: either order
    return tuple((year, m, d) for m, d in readings if 1 <= m <= 12 and (d is None or 1 <= d <= 31))


def _time_key(match: re.Match[str]) -> tuple:
    groups = match.groupdict()
    hour = groups["h"]
    hour = int(hour) if hour.isdigit() else int(chinese_number(hour) or 0)
    minutes = 30 if groups.get("half") else int(groups.get("min") or 0)
    meridiem = (groups.get("mer") or "").lower()[:1]
    period = groups.get("period") or ""
    if (meridiem == "p" or period in ("下午", "晚上")) and hour < 12:
        hour += 12
    known = bool(meridiem or period or hour > 12)
    return (hour * 60 + minutes, known)


def _quantities(scanner: _Scanner, *, all_numerals: bool) -> list[Fact]:
    """Numbers with their unit, ranges ("3-5天", "3 to 5 days") sharing the unit written after them."""
    found: list[Fact] = []
    for match in scanner.take(_QUANTITY):
        unit = _unit(match.group("prefix")) or _unit(match.group("unit"))
        value = _in_unit(_value(match.group("number"), match.group("mult")), unit)
        found.append(Fact("quantity", match.group(0).strip(), match.start(), match.end(), ((value, unit),)))
    for match in scanner.take(_EN_QUANTITY):
        low = english_number(match.group("low")) if match.group("low") else None
        found.append(_amount(match, english_number(match.group("number")), _unit(match.group("unit")), low=low))
    for match in scanner.take(_EN_HALF):
        found.append(_amount(match, 0.5, _unit(match.group("unit"))))
    patterns = (_CN_QUANTITY, _CN_NUMERAL_MEASURED) if all_numerals else (_CN_QUANTITY,)
    for match in itertools.chain.from_iterable(scanner.take(pattern) for pattern in patterns):
        groups = match.groupdict()
        value, spelling = _cn_half(groups)
        if value is None:
            value = chinese_number(groups.get("number") or groups.get("number2") or groups.get("threshold")
                                   or match.group(0))
            spelling = groups.get("prefix") or groups.get("unit") or groups.get("measure") \
                or ("元" if groups.get("threshold") else None)
        if value is not None:
            # A numeral with no unit is read in a source's words ("周五" Friday, "一般", "万一"): it supports a
            # number the reply gives no unit, never "5 年" or "1 小时".
            unit = _unit(spelling) if spelling else BARE
            low = chinese_number(groups["low"]) if groups.get("low") else None
            found.append(_amount(match, _in_unit(value, unit), unit,
                                 low=None if low is None else _in_unit(low, unit)))
    found.sort(key=lambda fact: fact.start)
    merged: list[Fact] = []
    for fact in found:
        previous = merged[-1] if merged else None
        if previous and _RANGE_JOIN.fullmatch(scanner.text[previous.end:fact.start]):
            unit = fact.key[-1][1]
            values = tuple((value, given or unit) for value, given in previous.key) + fact.key
            merged[-1] = Fact("range", scanner.text[previous.start:fact.end], previous.start, fact.end, values)
        else:
            merged.append(fact)
    return merged


def _amount(match: re.Match[str], value: float, unit: str | None, *, low: float | None = None) -> Fact:
    """A quantity as written at `match`, or a range from `low` to it, both ends in its unit."""
    key = ((value, unit),) if low is None else ((low, unit), (value, unit))
    return Fact("quantity" if low is None else "range", match.group(0), match.start(), match.end(), key)


def extract(text: str, *, all_numerals: bool = False) -> list[Fact]:
    """Every checkable fact in `text`, in order. `all_numerals`: every Chinese numeral counts, not only
    those with a unit (for the supporting texts, where finding too much only makes the check kinder); one with no
    unit or measure word after it is a bare number, which supports only a number the reply gives no unit."""
    scanner = _Scanner(text)
    facts: list[Fact] = []
    list(scanner.take(_NOT_FACTS))
    for match in scanner.take(EMAIL_PATTERN):
        written = match.group(0).rstrip(URL_TRAILING)
        facts.append(Fact("email", written, match.start(), match.start() + len(written), (written.lower(),)))
    for pattern in (URL_PATTERN, DOMAIN_PATTERN):
        for match in scanner.take(pattern):
            written = match.group(0).rstrip(URL_TRAILING)
            facts.append(Fact("url", written, match.start(), match.start() + len(written), (url_form(written),)))
    for match in scanner.take(_CODE):
        facts.append(Fact("code", match.group(0), match.start(), match.end(),
                          (re.sub(r"[^A-Z0-9]", "", match.group(0).upper()),)))
    for pattern in _DATES:
        for match in scanner.take(pattern, _date_keys):
            facts.append(Fact("date", match.group(0).strip(), match.start(), match.end(), _date_keys(match)))
    for pattern in _TIMES:
        for match in scanner.take(pattern):
            facts.append(Fact("time", match.group(0).strip(), match.start(), match.end(), _time_key(match)))
    digits_of = lambda match: re.sub(r"\D", "", match.group(0))  # noqa: E731
    for match in scanner.take(_LONG_NUMBER, lambda match: len(digits_of(match)) >= LONG_NUMBER_MIN_DIGITS):
        facts.append(Fact("phone", match.group(0).strip(), match.start(), match.end(),
                          (digits_of(match), match.group(0).startswith("+"))))
    facts += _quantities(scanner, all_numerals=all_numerals)
    return sorted((_as_written(fact, text) for fact in facts), key=lambda fact: fact.start)


def _as_written(fact: Fact, text: str) -> Fact:
    """The fact as the reply writes it (full-width digits and all), without the spaces around it."""
    written = text[fact.start:fact.end]
    start = fact.start + len(written) - len(written.lstrip())
    written = written.strip()
    return replace(fact, text=written, start=start, end=start + len(written))


@dataclass
class Support:
    """What the supporting texts say, in the comparable forms the facts of a reply are looked up in."""

    values: dict[float, set[str | None]] = field(default_factory=dict)  # value -> the units it comes with
    ranges: set[tuple] = field(default_factory=set)  # ((low, unit), (high, unit))
    dates: set[tuple] = field(default_factory=set)
    times: set[int] = field(default_factory=set)
    digits: list[str] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)

    def add_value(self, value: float, unit: str | None) -> None:
        self.values.setdefault(value, set()).add(unit)

    @classmethod
    def of(cls, texts: Iterable[str], *, knowledge: Iterable[str] = ()) -> Support:
        """The support of the conversation's `texts` and of the `knowledge` base's (whose facts are kept between
        replies: the same chunks are given to reply after reply, and each is read once per process)."""
        support = cls()
        for text in knowledge:
            support.add_text(text, facts=_knowledge_facts(text))
        for text in texts:
            support.add_text(text)
        return support

    def add_text(self, text: str, *, facts: Iterable[Fact] | None = None) -> None:
        text = narrow(text)
        for fact in extract(text, all_numerals=True) if facts is None else facts:
            if fact.kind == "range":
                self.ranges.add(fact.key)
            if fact.kind in ("quantity", "range"):
                for value, unit in fact.key:
                    self.add_value(value, unit)
            elif fact.kind == "date":
                self.dates.update(fact.key)
            elif fact.kind == "time":
                minutes, known = fact.key
                self.times.update({minutes} if known else {minutes, minutes + 720})
            elif fact.kind == "phone":
                self.digits.append(fact.key[0])
            elif fact.kind == "email":
                self.emails.add(fact.key[0])
            elif fact.kind == "url":
                self.urls.add(fact.key[0])
            elif fact.kind == "code":
                self.codes.add(fact.key[0])
            if fact.kind not in ("quantity", "range"):  # a date's day, a code's digits: a bare number may quote them
                for number in re.findall(r"\d+", fact.text):
                    self.add_value(float(number), BARE)
        for number in re.findall(r"\d+", text):
            self.digits.append(number)
        # A number word alone ("no one", "five-star") supports only a number the reply gives no unit; with its unit
        # ("three business days", "one-year") it is a quantity, read above.
        for match in _NUMBER_WORD.finditer(text):
            self.add_value(100.0 if match.group(0).lower() == "hundred" else english_number(match.group(0)), BARE)

    def supports(self, fact: Fact) -> bool:
        """Whether this fact of a reply is found, in any of its normal forms, among the supporting texts."""
        if fact.kind == "range":
            return any(self._same_range(fact.key, known) for known in self.ranges)
        if fact.kind == "quantity":
            return all(self._has_value(value, unit) for value, unit in fact.key)
        if fact.kind == "date":
            return any(self._has_date(key) for key in fact.key)
        if fact.kind == "time":
            minutes, known = fact.key
            candidates = {minutes} if known else {minutes, minutes + 720}
            on_the_hour = minutes % 60 == 0 and bool(self.values.get(float(minutes // 60), set()) - {BARE})
            return bool(candidates & self.times) or on_the_hour  # "9点" for a source's "9 to 6"
        if fact.kind == "phone":
            return self._has_digits(*fact.key)
        if fact.kind == "email":
            return fact.key[0] in self.emails
        if fact.kind == "url":
            return any(url == fact.key[0] or url.startswith(fact.key[0] + "/") for url in self.urls)
        return fact.key[0] in self.codes

    def _has_value(self, value: float, unit: str | None) -> bool:
        return self._has_exactly(value, unit) or any(
            self._has_exactly(same, same_unit) for same, same_unit in _same_quantities(value, unit))

    def _has_exactly(self, value: float, unit: str | None) -> bool:
        units = self.values.get(float(value))
        return units is not None and (unit is None or None in units or unit in units)

    @staticmethod
    def _same_range(range_: tuple, known: tuple) -> bool:
        """"3到5个工作日" is "3-5 business days": the same ends, in the same unit unless one of them names none."""
        return len(range_) == len(known) and all(
            value == known_value and (unit is None or known_unit in (unit, None))
            for (value, unit), (known_value, known_unit) in zip(range_, known, strict=True)
        )

    def _has_date(self, key: tuple) -> bool:
        year, month, day = key
        for known_year, known_month, known_day in self.dates:
            if known_month == month and (day is None or known_day in (day, None)) \
                    and (year is None or known_year in (year, None)):
                return True
        return day is None and year is not None and self._has_value(year, None) and self._has_value(month, None)

    def _has_digits(self, digits: str, international: bool) -> bool:
        forms = {digits, digits.removeprefix("0")}
        if international:  # "+86 400…" for a source's "400…": the country code may be added
            forms |= {digits[cut:] for cut in range(1, 4)}
        return any(form and len(form) >= LONG_NUMBER_MIN_DIGITS - 1 and form in known
                   for form in forms for known in self.digits)


@lru_cache(maxsize=1024)
def _knowledge_facts(text: str) -> tuple[Fact, ...]:
    """A knowledge base text's facts, kept by text (a changed chunk is another text): never a customer's, whose
    facts no cache of this process should hold."""
    return tuple(extract(narrow(text), all_numerals=True))


def unsupported_facts(reply: str, supporting: Iterable[str], *, knowledge: Iterable[str] = ()) -> list[Fact]:
    """The facts of `reply` that none of the `supporting` texts (customer messages, the conversation) nor the
    `knowledge` texts (the sources given, their titles and addresses) supports."""
    facts = extract(reply)
    if not facts:
        return []
    support = Support.of(supporting, knowledge=knowledge)
    return [fact for fact in facts if not support.supports(fact)]
