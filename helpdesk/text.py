"""Text helpers every app needs: token estimates and telling Chinese from English."""

from __future__ import annotations


def is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\u3400" <= char <= "\u4dbf"


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token count: one per CJK character, one per ~4 other characters.

    Good enough to keep a prompt inside `num_ctx` and chunks inside the
    embedding window; the exact count of a reply comes back from Ollama as
    `prompt_eval_count` and is stored with it.
    """
    cjk = sum(1 for ch in text if is_cjk(ch) or "\uff00" <= ch <= "\uffef")
    other = len(text) - cjk
    return cjk + (other + 3) // 4 + 4  # +4 for the role markers around each turn


def language_of(text: str) -> str:
    """"zh-hans" when a noticeable share of the letters are Chinese, else "en"."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    cjk = sum(1 for ch in letters if is_cjk(ch))
    return "zh-hans" if cjk / len(letters) >= 0.2 else "en"
