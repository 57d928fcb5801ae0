"""Finding the moderation lists' terms in a text, however it is dressed up: one Aho-Corasick pass over a normalised
copy of the text, with every match mapped back to where it is in the original.

Normalisation (the same for terms and texts, character by character): NFKC (full-width letters and digits become
plain ones, "Ｆｒａｕｄ" is "Fraud"), case folding, traditional Chinese to simplified (OpenCC's `t2s` table: "詐騙"
is "诈骗"), and then everything that is not a letter or a digit is dropped, so characters put between a term's
letters ("f.r.a.u.d", "傻 逼", "傻*逼") do not hide it. A term that begins (ends) with a non-CJK letter or digit
must begin (end) a word, so "ass" is not found in "class" nor "scam" in "has camera"; CJK terms match anywhere,
as Chinese has no spaces. Regular-expression patterns are searched in the folded text (NFKC, case, simplified)
with its spacing.

Pure: no database, no settings; conversations.moderation.lists builds a Matcher from the admin's lists.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick
import opencc

from helpdesk.llm.text import is_cjk


@dataclass(frozen=True)
class Term:
    """A term as the matcher uses it. `stops`: a hit stops the message or reply (a blocked term whose category
    refuses or hands off); the others are only recorded and flagged."""

    id: int | None
    text: str
    category: str
    action: str = "refuse"
    stops: bool = True
    is_pattern: bool = False
    languages: tuple[str, ...] = ()

    def applies_to(self, language: str | None) -> bool:
        return not self.languages or language is None or language in self.languages


@dataclass(frozen=True)
class Match:
    term: Term
    start: int  # in the original text
    end: int


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def _fold_char(char: str) -> str:
    """One character NFKC-normalised, case-folded and simplified. Character by character on purpose: OpenCC's
    phrase tables would convert a character differently depending on the next one ("乾" alone, "乾隆"), and a
    reply is normalised piece by piece as it streams, so what was released must read the same once more comes."""
    folded = unicodedata.normalize("NFKC", char).casefold()
    return folded if folded.isascii() else _converter().convert(folded)


def fold(text: str) -> tuple[str, list[int]]:
    """NFKC, case-folded and simplified `text`, with the index in `text` of each of its characters."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


@dataclass
class Normalised:
    """A text's letters and digits, folded (see the module's docstring), with where each came from and whether
    a word boundary comes before it."""

    text: str = ""
    origin: list[int] = field(default_factory=list)
    boundary_before: list[bool] = field(default_factory=list)


def _wordish(char: str) -> bool:
    """A letter or digit of a script that writes spaces between words (not CJK)."""
    return not is_cjk(char)


def normalise(text: str) -> Normalised:
    folded, origin = fold(text)
    out = Normalised()
    chars: list[str] = []
    gap, previous_wordish = True, False
    for char, index in zip(folded, origin, strict=True):
        if unicodedata.category(char)[0] not in "LN":
            gap = True
            continue
        wordish = _wordish(char)
        out.boundary_before.append(gap or not (wordish and previous_wordish))
        chars.append(char)
        out.origin.append(index)
        gap, previous_wordish = False, wordish
    out.text = "".join(chars)
    return out


def term_key(text: str) -> str:
    """What a (non-pattern) term is matched as; "" when it has no letter or digit (it could never match)."""
    return normalise(text).text


class Matcher:
    """The automaton for one version of the lists, built once and used by every message (read-only: safe to
    share between threads)."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.automaton = ahocorasick.Automaton()
        self.stop_prefixes = ahocorasick.Automaton()  # a trie of the stopping terms: what to hold back
        self.patterns: list[tuple[re.Pattern[str], Term]] = []
        self.longest_stop = 0
        self.stop_patterns = False
        entries: dict[str, list[Term]] = {}
        for term in terms:
            if term.is_pattern:
                self.patterns.append((re.compile(term.text, re.IGNORECASE), term))
                self.stop_patterns = self.stop_patterns or term.stops
                continue
            key = term_key(term.text)
            if not key:
                continue
            entries.setdefault(key, []).append(term)
            if term.stops:
                self.stop_prefixes.add_word(key, len(key))
                self.longest_stop = max(self.longest_stop, len(key))
        for key, listed in entries.items():
            # Whether a match must begin and end a word (see the module's docstring): the same for every term
            # with this key.
            self.automaton.add_word(key, (len(key), _wordish(key[0]), _wordish(key[-1]), tuple(listed)))
        self.size = len(entries) + len(self.patterns)
        if entries:
            self.automaton.make_automaton()

    def find(self, text: str, *, language: str | None = None, final: bool = True, since: int = 0) -> list[Match]:
        """Every term in `text` (for `language`; None: whatever its languages), in the order found. With
        `final` off the text may go on, so the end of the text is not the end of a word: a non-CJK term there
        is not yet found (`held_from` holds it back). Matches starting before `since` are left out."""
        normalised = normalise(text)
        return self.find_normalised(text, normalised, language=language, final=final, since=since)

    def find_normalised(
        self, text: str, normalised: Normalised, *, language: str | None, final: bool, since: int = 0
    ) -> list[Match]:
        found: list[Match] = []
        compact, origin, boundary = normalised.text, normalised.origin, normalised.boundary_before
        if self.size and compact and len(self.automaton):
            for end, (length, word_start, word_end, listed) in self.automaton.iter(compact):
                start = end - length + 1
                if origin[start] < since or (word_start and not boundary[start]):
                    continue
                if word_end and not (boundary[end + 1] if end + 1 < len(compact) else final):
                    continue
                found += [Match(term, origin[start], origin[end] + 1) for term in listed if term.applies_to(language)]
        if self.patterns:
            folded, folded_origin = fold(text)
            for pattern, term in self.patterns:
                if not term.applies_to(language):
                    continue
                for match in pattern.finditer(folded):
                    if match.end() > match.start() and folded_origin[match.start()] >= since:
                        found.append(Match(term, folded_origin[match.start()], folded_origin[match.end() - 1] + 1))
        return found

    def held_from(self, text: str, normalised: Normalised, *, since: int = 0, pattern_hold: int = 0) -> int:
        """Where, in `text` (a reply so far), the part that must wait for the next piece begins: the longest end
        of it that could begin a stopping term (or be one whose word has not ended), and with stopping patterns
        the last `pattern_hold` characters. len(text) when nothing need wait."""
        held = len(text)
        if self.stop_patterns and pattern_hold:
            held = max(since, len(text) - pattern_hold)
        compact, origin = normalised.text, normalised.origin
        for size in range(min(self.longest_stop, len(compact)), 0, -1):
            start = len(compact) - size
            if origin[start] < since:
                continue
            if self.stop_prefixes.match(compact[start:]):
                held = min(held, origin[start])
                break
        return held
