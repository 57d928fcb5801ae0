"""Search terms and question forms: Chinese word segmentation, English words, stop words, follow-ups."""

from __future__ import annotations

import re
import unicodedata

import rjieba

from helpdesk.llm.text import is_cjk

_CJK_RUN = re.compile(r"([\u2e80-\u9fff\uf900-\ufaff\u3400-\u4dbf]+)")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from as is are was were be been being am do does did
    i me my we our you your he she it its they them their this that these those there here what which who whom
    how when where why can could would should will shall may might must have has had not no yes so than then
    too very just about into over under again any some all also please hi hello thanks thank s t
    的 了 吗 呢 吧 啊 呀 哦 嗯 是 我 你 您 他 她 它 我们 你们 他们 在 和 与 及 或 有 要 会 能 可以 怎么 怎样 如何 什么
    请问 一下 这个 那个 那 这 就 都 也 还 对 把 被 给 从 到 为 以 之 其 等 个 吧 么 嘛 请 谢谢 你好
    """.split()
)


def _stem(word: str) -> str:
    """Plurals to singular, enough for "returns" to find "return"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Search terms: Chinese by word segmentation, other text by words, stop words dropped."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    terms: list[str] = []
    for index, run in enumerate(_CJK_RUN.split(text)):
        if index % 2:  # a run of Chinese characters
            terms.extend(word for word in rjieba.cut(run) if word not in STOPWORDS)
        else:
            for word in _WORD.findall(run):
                word = word.removesuffix("'s")
                if word not in STOPWORDS:
                    terms.append(_stem(word))
    return terms


FOLLOW_UP_PREFIXES = (
    "那", "那么", "还有", "另外", "它", "这个", "那个", "这些", "那些", "也",
    "and ", "and?", "what about", "how about", "also", "then ", "it ", "it's", "its ", "that ", "this ",
    "those ", "they ", "what if", "same ",
)


def is_follow_up(question: str, *, has_history: bool) -> bool:
    """Whether a question leans on earlier turns ("那运费呢?", "and for returns?").

    Follow-ups are searched together with the previous question and are
    never answered from, or put into, the answer cache.
    """
    if not has_history:
        return False
    text = question.strip().lower()
    if text.startswith(FOLLOW_UP_PREFIXES):
        return True
    return len(tokenize(question)) <= 1


_TRAILING_PARTICLES = "吗呢吧啊呀么嘛"


def normalise_question(text: str) -> str:
    """The form two askings of the same question share: no case, spaces, punctuation or polite padding."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "S", "Z", "C")))
    for prefix in ("请问", "你好", "您好"):
        text = text.removeprefix(prefix)
    text = text.rstrip(_TRAILING_PARTICLES) if any(is_cjk(ch) for ch in text) else text
    return text
