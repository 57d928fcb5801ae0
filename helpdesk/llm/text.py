"""Text helpers every app needs: token estimates and telling Chinese from English."""

from __future__ import annotations

import re


def is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\u3400" <= char <= "\u4dbf"


# What estimate_tokens counts as one token each: the CJK ranges of is_cjk and the full-width forms.
_WIDE = re.compile("[\u2e80-\u9fff\uf900-\ufaff\u3400-\u4dbf\uff00-\uffef]")


def wide_chars(text: str) -> int:
    """How many characters of `text` estimate_tokens counts as a whole token each (a regex, not a Python loop)."""
    return len(_WIDE.findall(text))


def tokens_from_counts(wide: int, other: int) -> int:
    """estimate_tokens from character counts, so a growing text can be measured without rescanning it."""
    return wide + (other + 3) // 4 + 4  # +4 for the role markers around each turn


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token count: one per CJK character, one per ~4 other characters.

    Good enough to keep a prompt inside `num_ctx` and chunks inside the
    embedding window; the exact count of a reply comes back from Ollama as
    `prompt_eval_count` and is stored with it.
    """
    wide = wide_chars(text)
    return tokens_from_counts(wide, len(text) - wide)


def language_of(text: str) -> str:
    """"zh-hans" when a noticeable share of the letters are Chinese, else "en"."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    cjk = sum(1 for ch in letters if is_cjk(ch))
    return "zh-hans" if cjk / len(letters) >= 0.2 else "en"
