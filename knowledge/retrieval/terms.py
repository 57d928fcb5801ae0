"""Search terms and question forms: Chinese word segmentation, English words, stop words, follow-ups."""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

import rjieba

from helpdesk.llm.text import is_cjk

from .places import places_in
from .synonyms import chinese_synonym_words, concepts_in, single_word_synonyms, split_phrases

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


# Words jieba's dictionary (2013) lacks that customers and shops write every day: apps and ways to pay, carriers
# and marketplaces, pick-up points, bills that are no shop's, what a product is said to do for sleep (助眠). Unknown
# to it, they are cut by guesswork ("用微信交话费": 用微 / 信交 / 话费; "我想用顺丰寄": 顺 / 丰寄; "有助眠": 有助 / 眠),
# and a question's words no longer meet the articles' or the rules'.
COMMERCE_WORDS = """
    微信 微信支付 支付宝 花呗 借呗 云闪付 数字人民币 网银 二维码 扫码 付款码 收款码 先用后付
    顺丰 顺丰速运 京东快递 极兔 菜鸟 菜鸟驿站 驿站 丰巢 快递柜 自提点 代收点
    包邮 运费险 退货险 七天无理由 发错货 错发 寄错 货不对版 已拆封 未拆封 没用过 重复扣款
    拼多多 闲鱼 得物 唯品会 小红书 抖音 快手
    话费 电费 水费 燃气费 水电费 物业费 宽带费
    加起来 合起来 凑单 满减 到手价 次日达 隔日达 当日达 快递员 快递小哥 配送员 派件员
    付费维修 调休上班
    助眠
""".split()
_extended = False
_extending = threading.Lock()


def segmenter() -> Any:
    """jieba (rjieba), its dictionary extended once per process with COMMERCE_WORDS and the synonym groups'
    Chinese words, before any text is cut: the index and every question are cut alike. Use it for every cut.
    A threaded worker's tasks wait for the one thread extending it: no cut runs on a dictionary being changed."""
    global _extended
    if not _extended:
        with _extending:
            if not _extended:
                for word in [*COMMERCE_WORDS, *chinese_synonym_words()]:
                    if len(word) > 1 and not rjieba.has_word(word):
                        rjieba.add_word(word, None, None)
                _extended = True
    return rjieba


def _stem(word: str) -> str:
    """Plurals to singular, enough for "returns" to find "return"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().replace("’", "'")


def _other_words(run: str) -> list[str]:
    """English words, numbers and identifiers ("mate60", "1000xm5"): kept whole, plurals stemmed."""
    terms = []
    for word in _WORD.findall(run):
        word = word.removesuffix("'s")
        if word not in STOPWORDS:
            terms.append(_stem(word))
    return terms


# Helpers glued to the verb they help ("能用", "要开", "能寄到"): the verb is the word.
_MODAL_PREFIXES = ("能", "要", "可", "会", "想", "该")


# A verb-object word split by a potential complement: "付不了款" is "付款" that cannot be done, "退得了货" "退货".
_SPLIT_WORD = re.compile(r"([\u4e00-\u9fff])(?:不了|得了|不成|不到|不出)([\u4e00-\u9fff])")


# A verb-object word split by a measure word ("退个货", "付了个款", "开个票"): the word, once the measure word is out;
# not "那个人" or "每个人" (a determiner and its thing).
_MEASURE_SPLIT = re.compile(r"([\u4e00-\u9fff])(?:了个|个)([\u4e00-\u9fff])")
_DETERMINERS = frozenset("这那哪几一每各某两整半")


def _joined_over_measure(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) in _DETERMINERS else _joined(match)


# A verb asked about as itself and its negation ("管不管", "退不退", "包不包邮", "可以不可以"): the verb, once.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff]{1,2})[不没]\1")


def _joined(match: re.Match[str]) -> str:
    word = match.group(1) + match.group(2)
    return word if segmenter().has_word(word) else match.group(0)


def chinese_words(run: str) -> list[str]:
    """A run of Chinese text cut into words, a modal the segmenter glued to its verb taken off ("能寄到" is
    "寄到"), a word split by "不了" or a measure word joined again ("付不了款", "付个款": "付款") and a verb asked as
    itself and its negation read once ("包不包邮": "包邮"), so a question's words are those an article or a synonym
    group can have."""
    run = _MEASURE_SPLIT.sub(_joined_over_measure, _SPLIT_WORD.sub(_joined, _A_NOT_A.sub(r"\1", run)))
    return [word[1:] if len(word) > 1 and word.startswith(_MODAL_PREFIXES) and not segmenter().has_word(word) else word
            for word in segmenter().cut(run)]


def tokenize(text: str) -> list[str]:
    """The words of a text: Chinese by word segmentation, other text by words, stop words dropped.

    The plain reading, one term per word, for telling how much a question
    says (`is_follow_up`); search uses `index_terms` and `query_terms`.
    """
    terms: list[str] = []
    for index, run in enumerate(_CJK_RUN.split(_normalised(text))):
        if index % 2:  # a run of Chinese characters
            terms.extend(word for word in segmenter().cut(run) if word not in STOPWORDS)
        else:
            terms.extend(_other_words(run))
    return terms


def comparison_terms(text: str) -> set[str]:
    """A short text's terms for telling how alike two texts are (knowledge.retrieval.similar): English words as
    `tokenize` reads them; Chinese as the character pairs of each run once its stop words are out ("退货的运费"
    gives 退货, 货运, 运费), so two segmentations of the same words ("退货 / 运费" and "退 / 货运费") still
    share their pairs. A single character left alone is a term itself."""
    terms: set[str] = set()
    for index, run in enumerate(_CJK_RUN.split(_normalised(text))):
        if not index % 2:
            terms.update(_other_words(run))
            continue
        kept = "".join(word for word in segmenter().cut(run) if word not in STOPWORDS)
        terms.update([kept[i : i + 2] for i in range(len(kept) - 1)] if len(kept) > 1 else [kept] if kept else [])
    return terms


def _is_term(word: str) -> bool:
    """Not a stop word nor punctuation ("。" is in every Chinese chunk and would match them all)."""
    return word not in STOPWORDS and all(ch.isalnum() for ch in word)


def _glued_characters(word: str) -> list[str]:
    """The characters of a word the segmenter made up by gluing ("券能", "张券能"), stop words dropped.

    Such a word is in no dictionary and so in no article; its characters
    (the noun "券" of "这张券能退吗") are what can match.
    """
    if len(word) < 2 or segmenter().has_word(word):
        return []
    return [ch for ch in word if _is_term(ch)]


def index_terms(text: str) -> list[str]:
    """The search terms stored for a chunk: search-mode segmentation plus compounds' head characters.

    Search mode adds the dictionary words inside a long word ("手机电池" also
    gives "手机" and "电池"), so a question cut into shorter words still
    matches. Chinese compounds end in their head noun ("优惠券" is a kind of
    "券"), so the last character of every word of three or more characters
    is a term too: a question whose "券" stands alone, or is glued to its
    neighbour, finds the coupon article. (Two-character words' last
    characters would add two thirds to the Chinese terms, mostly noise:
    "久" of "多久".) Glued made-up words give their characters, as in questions.
    """
    terms: list[str] = []
    for index, run in enumerate(_CJK_RUN.split(_normalised(text))):
        if not index % 2:
            terms.extend(_other_words(run))
            continue
        terms.extend(word for word in segmenter().cut_for_search(run) if _is_term(word))
        for word in segmenter().cut(run):
            glued = _glued_characters(word)
            terms.extend(glued or ([word[-1]] if len(word) > 2 and _is_term(word[-1]) else []))
    return terms


QUERY_EXPANSION_WEIGHT = 0.5


# The complements of result a Chinese verb takes ("碎成好几块", "裂成两半", "碎掉了"): the segmenter glues them to
# the verb, a word no article has, where the verb alone is a word of a synonym group (碎, 裂: broken).
_RESULT_COMPLEMENTS = frozenset("成 掉 坏 烂 完 了".split())


def verb_of_result(word: str) -> str:
    """The verb of a verb glued to its complement of result ("碎成" -> "碎"), when that verb alone is a word of a
    synonym group; else the word."""
    if len(word) == 2 and word[1] in _RESULT_COMPLEMENTS and single_word_synonyms(word[0]):
        return word[0]
    return word


def query_terms(text: str) -> dict[str, float]:
    """A question's search terms with their weights: its words 1, what only might match less.

    The words inside a long word (search mode, as in `index_terms`: "电池"
    of "手机电池") are added at QUERY_EXPANSION_WEIGHT, so a partial match
    counts less than the whole word and a long compound does not inflate
    the score (and the confidence made from it) by matching four times.
    Character pairs of each Chinese run (without stop words) are added at
    that weight too, so a sentence the segmenter cut differently from the
    article ("退货运费" read as "退 / 货运费") still finds "退货"; they match
    only what some article has as a word, so the index does not grow by
    them. So are the characters of glued words ("券" of "张券能").
    """
    terms: dict[str, float] = {}
    # "送到了再付钱": searched as 货到付款, not by the words of the phrasing it replaced ("送到" would find shipping)
    concepts, rest = concepts_in(text)
    for concept in concepts:
        if " " not in concept:
            terms[concept] = 1.0
        else:  # "cash on delivery": searched by its words, as an article says it
            terms.update((_stem(word), 1.0) for word in concept.split() if word not in STOPWORDS)
        if is_cjk(concept[0]):  # "重复扣款": an article may have "重复" and "扣款" apart
            for part in segmenter().cut_for_search(concept):
                if part != concept and len(part) > 1:
                    terms.setdefault(part, QUERY_EXPANSION_WEIGHT)
        for synonym in single_word_synonyms(concept):
            terms.setdefault(synonym if is_cjk(synonym[0]) else _stem(synonym), QUERY_EXPANSION_WEIGHT)
    for index, run in enumerate(_CJK_RUN.split(_normalised(rest))):
        if not index % 2:
            terms.update(dict.fromkeys(_other_words(run), 1.0))
            phrases, _ = split_phrases(run)
            for phrase in phrases:  # "money back": searched by its group's words ("refund")
                for synonym in single_word_synonyms(phrase):
                    terms.setdefault(synonym if is_cjk(synonym[0]) else _stem(synonym), QUERY_EXPANSION_WEIGHT)
            continue
        words = chinese_words(run)
        terms.update((word, 1.0) for word in words if _is_term(word))
        terms.update((verb, 1.0) for verb in {verb_of_result(word) for word in words} - set(words))
        expansions = segmenter().cut_for_search(run) + [run[i : i + 2] for i in range(len(run) - 1)]
        expansions += [ch for word in words for ch in _glued_characters(word)]
        for term in expansions:
            if _is_term(term) and not any(ch in STOPWORDS for ch in term):
                terms.setdefault(term, QUERY_EXPANSION_WEIGHT)
    for place in places_in(text):  # "Lhasa" finds the article naming Tibet, "纽约" the one naming 海外
        for region in place.regions:
            if " " not in region:
                terms.setdefault(region if is_cjk(region[0]) else _stem(region), QUERY_EXPANSION_WEIGHT)
    # Customers' words for the articles' words (synonyms: "postage" finds "shipping", "邮费" finds "运费").
    for term in [term for term, weight in terms.items() if weight == 1.0]:
        for synonym in single_word_synonyms(term):
            terms.setdefault(synonym if is_cjk(synonym[0]) else _stem(synonym), QUERY_EXPANSION_WEIGHT)
    return terms


FOLLOW_UP_PREFIXES = (
    "那", "那么", "还有", "另外", "它", "这个", "那个", "这些", "那些", "也",
    "and ", "and?", "what about", "how about", "also", "then ", "it ", "it's", "its ", "that ", "this ",
    "those ", "they ", "what if", "same ", "even if", "even when", "even though", "even for", "but what if",
    "but if", "but what about",
)


# Words that open a new subject within a conversation ("btw, what's the weather like", "顺便问下西湖门票多少钱"): a
# question after them does not lean on the one before, whatever it lacks.
_NEW_TOPIC = re.compile(
    r"\b(?:btw|by\s+the\s+way|also|another\s+(?:question|thing)|one\s+more\s+(?:thing|question)|unrelated"
    r"|off[\s-]topic|different\s+question|while\s+i\s+have\s+you|on\s+another\s+note|separately)\b"
    r"|顺便|另外|还有个问题|还有一个问题|另一个问题|再问(?:一下|个|一个)|换个话题|题外话|对了"
)


def opens_new_topic(question: str) -> bool:
    """Whether a message says it asks about something new (lower case or not)."""
    return bool(_NEW_TOPIC.search(question.lower()))


# A thing of the turn before named by a pronoun: the question's object at its end ("how long after ordering can I
# still ask for one?", "can I return it?") or what it asks about ("how long does that last?", "does it cover
# chips?"); "is it possible to…", "it's raining" name nothing.
_REFERS_BACK = re.compile(
    r"\b(?:for|get|return|send|keep|use|request|claim|exchange|replace|cancel|change|about|with|of|on)\s+"
    r"(?:one|it|that|them|those|these)(?:\s+(?:though|tho|then|too|also|as\s+well|again|please|pls|anyway))?"
    r"\s*[?.!。？！]*\s*$"
    r"|\b(?:does|do|did|will|would|is|are|can|could)\s+(?:that|it|this|they|those|these)\s+(?:still\s+)?"
    r"(?:last|lasts|cost|take|work|apply|count|include|cover|come|arrive|mean|run|expire)\b"
    # a Chinese follow-up opening on what is to be done with the last answer's thing, its object left out: "开好之后寄
    # 给我吗" after the invoice, "寄出以后多久到" after the replacement, "办完了会通知我吗"
    r"|^(?:那|那么)?[\u4e00-\u9fff]{1,2}(?:好|完|出|出去)了?(?:之后|以后|后)"
)


# What the turn before said, asked again of another thing or of the customer's own case, with no word for it: "茶具也
# 一样吗", "那我这种还算吗", "过了好几天才发现的，还行吗", "is it the same for teaware?", "still ok?".
_SAME_AGAIN = re.compile(
    r"(?:也|都|还)(?:一样|同样|这样|是这样|适用|算|行|可以|有效)(?:吗|么|嘛|不|吧|呢|没)?\s*[?？。.!！~～]*\s*$"
    # "我是个人，也能开吗？要填啥": the turn before's matter asked of the customer's own case, a clause of its own
    r"|(?:也|都|还)(?:能|可以|会)[\u4e00-\u9fff]?(?:吗|么|嘛|不|吧|呢)\s*(?:[?？。.!！~～，,]|$)"
    # a bare "X一样吗" in a short clause, not a comparison of two things it names ("这两款茶的口感一样吗")
    r"|(?:^|[，,。])(?![^，,。]*[和跟与两])[^，,。]{0,6}(?:一样|同样)(?:吗|么|嘛|不|吧)\s*[?？。.!！~～]*\s*$"
    r"|\b(?:is|would|will)\s+(?:it|that)\s+(?:be\s+)?the\s+same\s+(?:for|with)\b|\bsame\s+(?:goes\s+)?for\b"
    r"|\bstill\s+(?:ok|okay|fine|valid|good|count|counts|apply|applies)\s*[?.!]*\s*$"
)


def refers_back(question: str) -> bool:
    """Whether a question names what it asks about by a pronoun for a thing of the turn before (`_REFERS_BACK`)."""
    return bool(_REFERS_BACK.search(question.strip().lower()))


def asks_the_same_again(question: str) -> bool:
    """Whether a question asks what the turn before said again, of another thing or of the customer's own case
    (`_SAME_AGAIN`): a follow-up, read with the question before as follow-ups are (its own words may be a thing of
    its own: "茶具也一样吗")."""
    return bool(_SAME_AGAIN.search(question.strip().lower()))


# A figure an answer gave ("48小时", "30 days", "¥199"): two digits or more, which a story's own numbers ("2 boxes")
# rarely repeat by chance.
_FIGURE = re.compile(r"(?<![\d.])\d{2,}(?:\.\d+)?(?![\d.])")


def repeats_figure(question: str, answer: str) -> bool:
    """Whether a question repeats a figure of the answer before it ("已经超过48小时了，还能处理吗" after "请在签收后48
    小时内联系我们"): it goes on about that answer, whatever other words of its story it has."""
    return bool(answer) and bool(set(_FIGURE.findall(question)) & set(_FIGURE.findall(answer)))


def is_follow_up(question: str, *, has_history: bool, previous_answer: str = "") -> bool:
    """Whether a question leans on earlier turns ("那运费呢?", "and for returns?").

    Follow-ups are searched together with the previous question and are
    never answered from, or put into, the answer cache.
    """
    if not has_history:
        return False
    text = question.strip().lower()
    if text.startswith(FOLLOW_UP_PREFIXES) or refers_back(text) or asks_the_same_again(text) \
            or repeats_figure(text, previous_answer):
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
