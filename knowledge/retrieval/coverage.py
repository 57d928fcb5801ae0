"""How much of a question a source covers: the share of the question's content words the source contains.

Why: retrieval always finds *something* that shares a word with the
question, and a shared word is not an answer. "What's the weather in
Hangzhou?" matches the shipping article (our studio is in Hangzhou) by one
word of two; "How much is shipping to Hangzhou?" by both. Relevance scores
(BM25, vector similarity) rank sources against each other but do not say
whether the best one is about the question at all; coverage does, and it
reads the same on any knowledge base, whatever its size.

A question's content words are its search terms (`terms.query_terms`'s words)
without the stop words and without the generic words of asking ("much",
"long", "need", "知道", "多少"), which any question has whatever it is about.
A word counts as covered when the source has it (its title, tags, heading or
text: the chunk's stored search terms); an English word also through its root
("ship" finds "shipping", "refunded" finds "refund") or one typing slip
("shiping", "refnud"), a Chinese word also through the words inside it
("手机电池": "手机" and "电池", each worth its share) or, for a word the
segmenter glued up, its characters. A synonym group's phrase ("money back",
"send back") is one word of the question, covered by its group ("refund").
Quantities and time spans in Chinese words ("三个月", "半年前") are no
content words, as "多少" and "多久" are not.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType

import numpy as np

from .heads import (
    COMPANY_STORY,
    FUTURE_PLANS,
    HOLIDAY_DATES,
    OTHER_FIELDS,
    OTHER_SELLER,
    OWN_SENDING,
    PLACE_VISIT,
    RESTOCK,
    SHOP_PHONE,
    TRADE_WORDS,
    amount_asked,
    buying_here,
    chinese_heads,
    chinese_objects,
    chinese_services,
    choice_heads,
    company_story,
    compares_with_others,
    couriers_asked_of_shop,
    english_damaged,
    english_heads,
    english_objects,
    english_services,
    fee_heads,
    future_plans_asked,
    holiday_dates_asked,
    other_field_phrases,
    other_sellers,
    own_sending,
    payday_told,
    place_visit,
    product_fact_heads,
    quality_heads,
    received_from_shop,
    restock_asked,
    shop_phone_asked,
)
from .places import OVERSEAS, Place, place_text, places_out
from .snapshot import Snapshot
from .synonyms import ASKED_CONCEPTS, concept_phrased_in, concepts_in, single_word_synonyms, split_phrases
from .terms import (
    _CJK_RUN,
    STOPWORDS,
    _glued_characters,
    _is_term,
    _normalised,
    _other_words,
    chinese_words,
    segmenter,
    verb_of_result,
)

# The words that say "another shop" ("别家", "其他网店", "other sites"), of no weight where the customer compares this
# shop with others (knowledge.retrieval.heads.compares_with_others).
_OTHER_SHOP_WORDS = frozenset(
    "别家 别的 别人家 其他 其它 另外 另一家 店 网店 店铺 商家 商店 商城 平台 网站 卖家 家 "
    "site website store shop seller merchant platform retailer marketplace vendor".split()
)
# Words of asking, not of a subject: in every question, whatever it is about, so they would make any
# source look half relevant (or none wholly). Generic verbs, quantities, times, connectives and politeness.
ASKING_WORDS = frozenset(
    """
    much many long longer often soon far back get got getting need needs want wanted know tell like would let make sell
    take takes way ways thing something anything possible able still already ever really actually maybe
    okay ok um uh hey dear sir madam help question ask asking wondering wonder find kind one else other another
    more less use using go going come coming good bad best better right wrong sure think mean say said see look
    looking today tomorrow tonight weekend week year now time don't dont doesn't can't cannot won't i'm i've
    whats hows wheres whens whos im ive id youre thats theres isnt arent didnt wont cant myself yourself itself
    us him her his hers mine yours ours theirs option options choice live roughly approximately around
    morning afternoon evening night happen happens happened happening suppose supposed wat info information
    havent hasnt wasnt werent shouldnt couldnt wouldnt aint through thru few went came comes goes gone put puts later
    u ur pls plz guys guy until till til since before after during while whenever whether because though although
    rather prefer i'd i'll you'd we'd it'd nobody up ago gonna gotta wanna luck lucky chance chances
    anyone anybody someone somebody everyone everybody stuff wait waiting waited detail details
    知道 想 想要 需要 觉得 感觉 认为 以为 觉着
    多少 多久 几 哪 哪些 哪里 哪儿 哪个 哪条 为什么 怎么办 怎么样 怎么弄 怎么做 怎么处理 是否 能否 最少 至少 起码
    不能 可不可以 能不能 是不是 有没有 一个 一些 东西 问题 问 问下 咨询 帮 帮忙 帮我 麻烦 现在 今天 明天 时候 多长时间
    自己 几天 多少天 哪天 哪一天 什么时候 何时 算 计算 起算 算起
    多长 一般 大概 应该 还是 已经 才能 还没 之前 所有 告诉 最 好 做 弄 办 没 没有 不 用 能用 开 可 得 呗 咯
    直接 马上 立刻 赶紧 尽快 突然 忽然 开始 最近 经常 总是 老是 管 算了 不要 行 行不行
    咋办 咋整 咋弄 咋处理 咋回事 我要
    不是 啥 为啥 咋 一直 不了 怎么回事 回事 里 里面 上面 下面 起来 出来 下去 过来 加起来 一共 总共
    另外 还要 还有 而且 但是 可是 然后 所以 因为 如果 结果 这种 那种 这次 情况 注意 instead
    上午 下午 晚上 早上 中午 来得及 来不及 才 说 处理 回去 回来 过去 出去 其中 那边 这边
    哪种 哪款 哪样 哪类 哪一种 该 着
    you'll we'll they'll he'll she'll it'll that'll there'll you've we've they've you're we're they're sort
    """.split()
) | frozenset(  # whom it is for or about ("a gift for my sister", "给朋友寄"): who, not what is asked
    """
    mum mom mother dad father parent sister brother wife husband friend boyfriend girlfriend son daughter kid child
    children grandma grandpa grandmother grandfather aunt uncle cousin colleague coworker boss family neighbour
    neighbor
    妈妈 妈 老妈 爸爸 爸 老爸 父母 家人 姐姐 妹妹 哥哥 弟弟 表姐 表妹 表哥 表弟 老婆 老公 朋友 男朋友 女朋友
    儿子 女儿 孩子 同事 老板 奶奶 爷爷 外婆 外公 姥姥 阿姨 叔叔 邻居
    爸妈 长辈 亲戚 闺蜜 兄弟 姐妹 婆婆 公公 岳父 岳母 老师 同学 客户
    """.split()
)
# Words of telling, not of a subject: how often, how much, where at all, how frankly, in which month, how many
# months ago, when, how glad, and whether it is too late ("is it too late?": the deadline asked is the matter's)
# ("never got a text w the tracking number", "literally everywhere else", "super old
# school", "back in July", "five months ago", "once it's left you", "Great.", "其实", "十月"). They weigh nothing in
# what a source covers, but they are words of the message: a message full of them tells a story (STORY_UNITS).
FILLER_WORDS = frozenset(
    """
    never anywhere everywhere somewhere nowhere literally super totally honestly seriously basically only even
    tho w kinda sorta usual usually proper actual straight directly out realistically typically lol omg wtf wth smh
    tbh technically practically eventually personally originally ideally hopefully
    two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred dozen couple
    month months once great cool awesome perfect nice alright
    late
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    真的 其实 简直 根本 完全 特别 非常 超级 居然 竟然 到底 究竟 实在 确实 反正 平时 平常 往常
    一般 一直 老是 总是 比较 的话 其他 很多
    之后 以后 后来 原来 原本 本来 当时 当初
    昨天 前天 昨晚 前几天 刚才 刚刚 上周 上个月 去年 前阵子 还好 幸好 顺手 顺便
    一月 二月 三月 四月 五月 六月 七月 八月 九月 十月 十一月 十二月
    """.split()
)
# A quantity or a time span in Chinese words ("三个月", "半年前", "两盒", "一百块"): how much or how long, not what
# about, as the asking words "多少" and "多久" are (an English question's numbers are its own words: "17 times 23").
_CHINESE_QUANTITY = re.compile(
    # "那张发票", "这件": which one, not what ("一部分" is a part, no counted thing)
    r"[这那哪每](?:一)?(?:张|件|个|份|单|笔|盒|罐|包|套|只|次|台|款)(?![\u4e00-\u9fff]?[?？])|"
    # a date in digits ("4月1号", "7月15", "15号"): when, not what about
    r"(?:\d{2,4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[号日]?|\d{1,2}\s*号|"
    r"(?:好几|好多|大半|小半|[零一二两三四五六七八九十百千万几半\d])+\s*个?多?"
    r"(?:天|日|周|星期|礼拜|月|年|小时|钟头|分钟|次|遍|回|块钱|块|元|盒|件|单|笔|罐|包(?!邮(?!费))|袋|瓶|杯|壶|斤|克|份|套|只|张|台"
    r"|辆|双|条|把|支|本(?!来)|副|架|款|部(?!分)|点钟|点半|点|声|道|阵)"
    r"(?:以前|以后|之前|之后|以内|前|后|内|多)?"
)
# A word the source mentions once (in passing: "packed in our Hangzhou studio") covers the question less than one
# it is about (in its title, tags or heading, or said again): a mention counts this much.
PASSING_MENTION = 0.5
# A source that lacks a head word of the question (knowledge.retrieval.heads: the action asked for, another seller,
# a product asked for, a word of a field outside a shop) covers it this much of what its share of words says: at
# most a quarter, under any sensible COVERAGE_MIN, however many of the question's other words it has.
HEAD_MISSING = 0.25
# An amount of money ("¥210", "180元", "99 yuan"): how much, not what about, as a Chinese quantity is.
_AMOUNT = re.compile(r"[¥￥$]\s*\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s*(?:元|块|rmb\b|yuan\b|kuai\b|dollars?\b)",
                     re.IGNORECASE)
# A place a question names says where, not what it asks about ("how long to Urumqi", "weather in Hangzhou"): it
# weighs as a single Chinese character does, and the article's region words ("Xinjiang", "overseas", "港澳台")
# cover it as a passing mention would, however often the article says them.
PLACE_WEIGHT = 0.5
# A question sentence of a longer line with this many content words (a Chinese character alone counting half) is
# read alone: the rest of the line is a story around it.
ON_ITS_OWN = 2.0
# A concept read from a phrasing ("pay the courier in cash": cash on delivery) stands for the several words of it
# that it replaced, and is what those words were about: it weighs as much as two words.
CONCEPT_WEIGHT = 2.0


@dataclass
class Unit:
    """One content word of a question, with the forms that can cover it (besides itself)."""

    word: str
    parts: tuple[str, ...] = ()  # Chinese: the words or characters inside it
    english: bool = False
    weight: float = 1.0  # a single Chinese character says less than a word: half
    head: bool = False  # what the question asks about or asks to have done: a source must have it
    # What the question asks to have sent or paid for ("shipping a sofa"): a head when no source names it at all.
    head_if_unknown: bool = False
    # A kind of its own ("手续费", a fee): a compound's last word that the shop says does not stand for it (运费 is no
    # 手续费), as it does for a kind of the shop's goods ("白茶", a 茶); its other words still do ("配送费": 配送).
    own_kind: bool = False
    # A head read from the whole message, not its shape (another seller, a field outside a shop): it holds for
    # every line and question sentence of the message.
    whole_message: bool = False
    # A word of a field outside a shop (OTHER_FIELDS: "burned", "医院"): a head of the message's own sentence, and of
    # every other unless the message tells a story (STORY_UNITS words or more) around a question about the shop.
    field: bool = False
    # A place ("Lhasa", "纽约"): the words of the regions it lies in (knowledge.retrieval.places), which cover it
    # in passing at most.
    regions: tuple[str, ...] = ()
    # A place outside the shop's mainland asked as where to send something ("能直接寄到台北吗", "can you ship it to my
    # sister in Toronto?"): where it may go is what is asked, a head its regions' words cover whole.
    destination: bool = False
    # A shop concept read from a phrasing ("pay the courier in cash": cash on delivery): a source that names it at
    # all is about it, since it is a precise matter, not a word of every article.
    concept: bool = False


@dataclass
class _Lexicon:
    """What coverage looks up, built once per snapshot: the vocabulary's English words by root, and where each
    article's chunks start (the snapshot holds an article's chunks together, in order)."""

    roots: dict[str, list[int]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # the vocabulary by term id
    forms: dict[str, list[str]] = field(default_factory=dict)  # vocabulary_forms, as looked up
    characters: dict[str, int] = field(default_factory=dict)  # a character: in how many articles' words
    said: dict[str, np.ndarray] = field(default_factory=dict)  # _word_said, as looked up
    phrased: dict[str, np.ndarray] = field(default_factory=dict)  # _concept_phrased, as looked up
    sounds: dict[str, list[int]] | None = None  # the Chinese words by their forms with one character masked
    spellings: dict[str, list[str]] | None = None  # the Chinese words by their pinyin, tones left out ("yunfei")
    article_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    article_of_chunk: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


_lexicons: dict[int, tuple[Snapshot, _Lexicon]] = {}


# Not words of a subject: markup, links and addresses ("<script>", "https://…", "name@shop.example") match the
# articles' own links and support address, whatever the message is about.
_NOT_SUBJECT = re.compile(
    r"<(script|style|iframe)\b.*?(?:</\1\s*>|$)|<[^>]{0,200}>|\b(?:https?://|www\.)\S+|\S+@\S+\.\w+|javascript:\S*",
    re.IGNORECASE | re.DOTALL,
)


# A company's name ("Hangzhou Bright Water Trading Co., Ltd.", "杭州明水贸易有限公司") is whose, not what about: read as
# the word "company", which an invoice article has, not as five words of its own (its place neither: no destination).
_EN_COMPANY_NAME = re.compile(
    r"\b(?:[A-Z][\w&'.-]*,?\s+){1,6}(?:Co\.?,?\s*Ltd\.?|Company\s+Limited|Co\.|Ltd\.?|Limited|Inc\.?|LLC|GmbH|Corp\.?"
    r"|Corporation|PLC)(?!\w)"
)
_ZH_COMPANY_NAME = re.compile(  # after a word that introduces it ("抬头写", "是", "开给"), or a break
    r"(?:(?<=抬头)|(?<=写)|(?<=是)|(?<=为)|(?<=叫)|(?<=给)|(?<=成)|(?<=[：:，,、\s\"“「]))(?![写是为叫给开成])"
    r"[\u4e00-\u9fff]{2,10}?(?:股份有限公司|有限责任公司|有限公司)"
)


def question_units(text: str) -> list[Unit]:
    """The content words of a question, each with the forms that can cover it, its head words marked."""
    text = _NOT_SUBJECT.sub(" ", unicodedata.normalize("NFKC", text))
    text = _ZH_COMPANY_NAME.sub("公司", _EN_COMPANY_NAME.sub(" company ", text))
    concepts, rest = concepts_in(text)  # "送到了再付钱": 货到付款, one word of the question
    places, rest = places_out(rest)  # "寄到拉萨": where, covered by the article's "西藏" in passing
    # An arrangement asked for is named as such or not at all: "取消已付订单" is not the "取消" and "订单" of an unpaid
    # order cancelled by itself.
    units = [Unit(concept, parts=() if concept in ASKED_CONCEPTS else _concept_parts(concept),
                  english=concept.isascii() and concept.isalpha(), weight=CONCEPT_WEIGHT, concept=True,
                  head=concept in ASKED_CONCEPTS) for concept in concepts]
    units += [_place_unit(place, text) for place in places]
    units += _content_units(rest)
    if not any(unit.weight for unit in units):  # "literally anywhere?": nothing to cover
        return []
    _mark_heads(text.lower().replace("’", "'"), units)
    _mark_sources_named(text, units)
    return units


# Regions outside the mainland, where a shop that delivers on the mainland says whether it sends at all.
_BEYOND_MAINLAND = frozenset(("港澳台", *OVERSEAS))
# Sending asked of the shop, before the place it goes to: "寄到台北", "发往香港", "ship it to my aunt in Toronto",
# "deliver to Macau", or "there" for a place the message names ("I live in Taipei… can you ship it there?").
_ZH_SEND_TO = r"(?:寄|送|发|运|邮|快递)(?:到|去|往|至)[^，。！？,.!?]{0,4}?"
_EN_SEND_TO = (r"\b(?:(?:ship|send|deliver|post|mail)(?:ping|ing|s|ed)?|sent|shipped)\b(?:\s+(?:it|them|this|that|these"
               r"|those|one|(?:the|my|a|an|our)\s+[\w'-]+))?\s+(?:(?:over|out|all\s+the\s+way|straight|directly|right)\s+)?")


def _place_unit(place: Place, text: str) -> Unit:
    """A place's unit: where, covered by its regions in passing, unless it lies beyond the mainland and is where the
    customer asks to have something sent (`Unit.destination`). Not an invoice, a refund or a return sent there (an
    email or money, or a return's address, not a delivery)."""
    unit = Unit(place.name, english=place.name.isascii(), weight=PLACE_WEIGHT, regions=place.regions)
    if not _BEYOND_MAINLAND & set(place.regions):
        return unit
    lowered = place_text(text)  # as the place was found: "Zürich" is named "zurich"
    name = re.escape(place.name)
    sent_to = re.search(_ZH_SEND_TO + name, lowered) or re.search(
        # "there", or the one the message says lives in it ("my cousin lives in Taipei… sent straight to her")
        _EN_SEND_TO + rf"(?:to\s+(?:[\w'-]+\s+){{0,4}}?(?:in\s+)?{name}\b|there\b|to\s+(?:her|him|them)\b)", lowered
    ) or _GOES_STRAIGHT_TO_THEM.search(lowered)
    if sent_to and not _NOT_A_DELIVERY.search(lowered):
        unit.destination = unit.head = True
        unit.weight = 1.0
    return unit


# "have it go straight to her": sent to the one the message says lives there
_GOES_STRAIGHT_TO_THEM = re.compile(r"\b(?:have|get|let)\s+it\s+(?:go|come)\s+(?:straight|directly|right)\s+to\s+"
                                    r"(?:her|him|them)\b")
_NOT_A_DELIVERY = re.compile(
    r"发票|退款|退货|寄回|退回|\b(?:invoices?|fapiaos?|receipts?|refunds?|returns?|money|emails?)\b"
)



# Where an order came from, by name ("my order from TeaVivre", "two tins I bought from Yoshi Tea"): another
# seller when the knowledge base names it nowhere (the shop's own name is in its articles). Not a place, which is
# where, not who (places_out has taken it), nor a time ("the order from yesterday").
_ORDERED_FROM = re.compile(
    r"\b(?:order(?:ed|s)?|bought|purchased)\s+(?:[\w'-]+\s+){0,3}?from\s+([a-z][\w-]*)", re.IGNORECASE
)
_NOT_A_SOURCE = frozenset(  # (words of asking and of telling are no units at all: "before", "week", "month")
    "yesterday earlier last monday tuesday wednesday thursday friday saturday sunday".split()
)


def _mark_sources_named(text: str, units: list[Unit]) -> None:
    """A name an order is said to come from is what the whole message is about, and a head where no article has it
    (`_unknown_objects`), as another seller named in a list is."""
    names = {match.group(1).casefold() for match in _ORDERED_FROM.finditer(text)} - _NOT_A_SOURCE
    for unit in units:
        if unit.word in names and unit.weight and not unit.regions and not unit.head:
            unit.head_if_unknown = unit.whole_message = True
            unit.own_kind = True  # a name: "TeaVivre" is no kind of the articles' "tea"


def _concept_parts(concept: str) -> tuple[str, ...]:
    """A Chinese concept's words ("重复扣款": "重复", "扣款"), which an article may have apart; none when only one
    of them is a word ("货到付款": "付款" alone is every paid order, not paying on delivery)."""
    if not _CJK_RUN.fullmatch(concept):
        return ()
    parts = tuple(word for word in segmenter().cut_for_search(concept) if word != concept and len(word) > 1)
    return parts if len(parts) > 1 else ()


# "sent straight to her place", "at my place": someone's home, where, not what ("place an order" is a word of ordering).
_SOMEONES_HOME = re.compile(r"\b(?:my|her|his|their|our|mum'?s|mom'?s|parents'?|friend'?s)\s+place\b", re.IGNORECASE)
# "keeps getting declined", "kept failing": how often, not what; the verb after it is the subject.
_KEEPS_DOING = re.compile(r"\b(?:keeps?|kept|keeping)\s+(?=[a-z]+ing\b)", re.IGNORECASE)
# "forgot to ask for an invoice": what slipped the customer's mind is the verb after it, the subject ("forgot my
# password" is a thing forgotten, a subject of its own).
_FORGOT_TO = re.compile(r"\b(?:forgot|forget|forgotten|forgetting)\s+(?=to\s+[a-z])", re.IGNORECASE)


def _content_units(text: str) -> list[Unit]:
    units: list[Unit] = []
    seen: set[str] = set()
    text = _SOMEONES_HOME.sub(" ", _FORGOT_TO.sub(" ", _KEEPS_DOING.sub(" ", _AMOUNT.sub("，", _CHINESE_QUANTITY.sub(
        "，", text)))))
    for index, run in enumerate(_CJK_RUN.split(text.lower().replace("’", "'"))):
        if not index % 2:
            phrases, run = split_phrases(run)
            for phrase in phrases:
                if phrase not in seen:
                    seen.add(phrase)
                    units.append(Unit(phrase))
            for word in _other_words(run):  # stemmed: "whats" is "what", a stop word
                if word not in ASKING_WORDS and word not in STOPWORDS and word not in seen:
                    seen.add(word)
                    units.append(Unit(word, english=bool(re.fullmatch(r"[a-z]+", word)),
                                      weight=0.0 if word in FILLER_WORDS else 1.0))
            continue
        for word in chinese_words(run):
            glued = _glued_characters(word)
            if len(glued) == 1:  # "我人" of "我人在纽约": one character of substance, read as it
                word = glued[0]
            word = verb_of_result(word)
            if not _is_term(word) or word in STOPWORDS or word in ASKING_WORDS or word in seen:
                continue
            seen.add(word)
            weight = 0.0 if word in FILLER_WORDS else 1.0 if len(word) > 1 else 0.5
            units.append(Unit(word, parts=_chinese_parts(word), weight=weight))
    return units


def _mark_heads(text: str, units: list[Unit]) -> None:
    """Mark the question's head words (knowledge.retrieval.heads), adding one for an unnamed seller other than
    the shop ("another shop", "别家店"), which no article covers."""
    content = {unit.word for unit in units if unit.weight}
    heads = english_heads(text, content=content) | product_fact_heads(text, content=content)
    heads |= quality_heads(text, content=content)
    objects = english_objects(text, content=content) | english_services(text, content=content)
    fees = fee_heads(text, content=content)
    objects |= choice_heads(text, content=content) | fees
    counted = english_damaged(text, content=content)  # "I cracked my phone screen… is that covered?"
    for index, run in enumerate(_CJK_RUN.split(text)):
        if index % 2:
            heads |= chinese_heads(run, content=content)
            counted |= chinese_objects(run, content=content)
            objects |= chinese_services(run, content=content)
    sellers, another = other_sellers(text)
    couriers = couriers_asked_of_shop(text, sellers)  # the shop's courier asked against another: no subject
    sellers -= couriers
    # Another seller beside buying from the shop is the story's comparison: a head of its own line or sentence only.
    bought_here = buying_here(text) or received_from_shop(text)
    compares = compares_with_others(text)
    comparing = another and compares  # "别家都是七天无理由，你们这能退吗": the other shops' words are no subject
    compared = bool(sellers or another) and (bought_here or compares)
    for unit in units:
        if _field_word(unit, text):
            unit.head = unit.whole_message = unit.field = True
            # covered by the field's own word only: "个人所得税" is not the invoice article's "个人(普票)"
            unit.parts = tuple(part for part in unit.parts if part in OTHER_FIELDS)
        elif unit.word in couriers or (comparing and unit.word in _OTHER_SHOP_WORDS):
            unit.weight = 0.0
        elif unit.word in sellers:
            unit.head, unit.whole_message = True, not compared
            unit.parts = ()  # covered by its name only: "中通" is not the "中" and "通" of "订单中" and "打不通"
        elif unit.word in heads:
            unit.head = True
        elif unit.word in TRADE_WORDS or (unit.word in counted and not bought_here):  # goods counted in a story,
            # trade between businesses: what the whole message is about, as a seller is. Not goods the customer
            # says they bought from the shop ("在你们店里挑了一罐大红袍"): the shop's own, whether or not an article
            # names them.
            unit.head_if_unknown = unit.whole_message = True
        elif unit.word in objects:
            unit.head_if_unknown = True
            unit.own_kind = unit.word in fees
    named = {unit.word for unit in units}
    # "China Post", "拼多多": a name whose words the units have apart (or the segmenter cut up), one head of its own;
    # so is a field named in words a shop uses too ("phone bill", "exchange rate").
    for name in sorted(sellers | other_field_phrases(text)):
        if (" " in name or "." in name or not name.isascii()) and " ".join(name.split()) not in named:
            units.append(Unit(" ".join(name.split()), head=True,
                              whole_message=name not in sellers or not compared))
    if another and not comparing:  # no article is about another shop: never covered; one the customer compares
        # this shop with is no subject (the question is this shop's rule)
        units.append(Unit(OTHER_SELLER, head=True, whole_message=not compared))
    if own_sending(text):  # nor about a courier's service to a customer sending their own things
        units.append(Unit(OWN_SENDING, head=True, whole_message=True))
    if restock_asked(text):  # nor about whether a product is to be had again
        units.append(Unit(RESTOCK, head=True, concept=True))
    if future_plans_asked(text):  # nor about what the shop will start doing one day
        units.append(Unit(FUTURE_PLANS, head=True, concept=True))
    if holiday_dates_asked(text):  # nor about a holiday's days, unless one gives them
        units.append(Unit(HOLIDAY_DATES, head=True, concept=True))
    if shop_phone_asked(text):  # nor about a number to ring, unless one gives it
        units.append(Unit(SHOP_PHONE, head=True, whole_message=True, concept=True))
    if place_visit(text):  # nor about a place's door and hours
        units.append(Unit(PLACE_VISIT, head=True, whole_message=True, concept=True))
    if company_story(text):  # nor about who owns the company and how it began
        units.append(Unit(COMPANY_STORY, head=True, whole_message=True, concept=True))


def _chinese_parts(word: str) -> tuple[str, ...]:
    """The forms inside a Chinese word that can stand for it: its dictionary words, else its characters
    when the segmenter glued it up."""
    glued = _glued_characters(word)
    if glued:
        return tuple(ch for ch in glued if ch not in STOPWORDS)
    inner = [part for part in segmenter().cut_for_search(word) if part != word and len(part) > 1 and _is_term(part)]
    return tuple(dict.fromkeys(inner))


def root(word: str) -> str:
    """A crude English root, enough to meet a word's other forms: shipping, shipped, ships -> ship."""
    for _ in range(2):
        for suffix in ("ings", "ing", "ied", "ies", "ments", "ment", "ed", "es", "ers", "er", "ery", "ly", "s", "y"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        else:
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]  # arrive, arrived -> arriv
    return word


# The past forms of the irregular verbs a customer's story is told in, as their verb: "it was sent" is sending, "I paid
# twice" is paying, "they broke" is breaking, whichever form the article has. Only verbs whose past form is no other
# word a shop article would use ("left", "found", "felt", "saw" stay as they are).
_IRREGULAR_PAST = {
    form: verb
    for verb, forms in {
        "send": "sent", "pay": "paid", "buy": "bought", "break": "broke broken", "get": "got gotten",
        "take": "took taken", "give": "gave given", "come": "came", "sell": "sold", "bring": "brought",
        "make": "made", "choose": "chose chosen", "write": "wrote written", "forget": "forgot forgotten",
        "throw": "threw thrown", "drink": "drank drunk", "eat": "ate eaten", "know": "knew known", "tell": "told",
        "keep": "kept", "spend": "spent", "lend": "lent", "catch": "caught", "steal": "stole stolen",
        "freeze": "froze frozen", "tear": "tore torn",
    }.items()
    for form in forms.split()
}


def _form_root(word: str) -> str:
    """The root an English word's forms share, its irregular past forms included ("sent": "send")."""
    return root(_IRREGULAR_PAST.get(word, word))


# A field word's root, and the length of its shortest word: a word of that root at least about as long is one of its
# forms ("medicines", "allergies"); a shorter one the root merely folds in is another word ("care" of "career",
# "law" of "lawyer", "park" of "parking").
_OTHER_FIELD_ROOTS: dict[str, int] = {}
for _word in sorted(OTHER_FIELDS, key=len, reverse=True):
    if _word.isascii():
        _OTHER_FIELD_ROOTS[root(_word)] = len(_word)
# Fields named by a verb of the kitchen: after an article or a possessive the word is a person or a dish ("he's a
# terrible cook", "the Sunday roast"), not a question about cooking.
_KITCHEN_NOUNS = {
    verb: re.compile(
        rf"\b(?:a|an|the|my|his|her|our|their|your)\s+(?:[\w'-]+\s+)?{verb}\b(?!\s+(?:it|them|the|a|an)\b)")
    for verb in ("cook", "boil", "fry", "roast", "marinate", "bake")
}


def _field_word(unit: Unit, text: str) -> bool:
    """Whether a word of the question names a field a shop's help centre is not about (heads.OTHER_FIELDS)."""
    if payday_told(text, unit.word):  # the customer's payday: when they pay, not their salary asked about
        return False
    if any(part in OTHER_FIELDS for part in unit.parts):
        return True
    if not unit.english:
        return unit.word in OTHER_FIELDS
    length = _OTHER_FIELD_ROOTS.get(root(unit.word))
    if unit.word not in OTHER_FIELDS and (length is None or len(unit.word) < length - 1):
        return False
    noun = _KITCHEN_NOUNS.get(unit.word)
    if noun and noun.search(text):
        return False
    # what the customer went off to do, or was busy doing, when it happened ("went to cook dinner, came back to
    # pay", "I was cooking when the courier rang"): their story, not the field asked about ("while pregnant" is)
    word = re.escape(unit.word)
    narrated = rf"\b(?:went|gone|popped\s+out|headed\s+off)\s+(?:off\s+|out\s+)?to\s+{word}\b"
    if unit.word.endswith("ing"):
        # "I was baking", "got distracted cooking dinner", "in the middle of cooking"
        narrated += (rf"|\b(?:was|were)\s+(?:busy\s+)?{word}\b"
                     rf"|\b(?:got|get|gets|getting|was|were|been|am|i'm|im)\s+(?:so\s+|a\s+bit\s+|totally\s+)?"
                     rf"(?:busy|distracted|sidetracked|caught\s+up|tied\s+up|stuck)\s+(?:with\s+)?{word}\b"
                     rf"|\bin\s+the\s+middle\s+of\s+{word}\b")
    return not re.search(narrated, text)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _slips(word: str) -> set[str]:
    """Every word one slip of the keyboard away: a letter dropped, added, changed, or two swapped (a few
    hundred look-ups, so no index of the vocabulary's misspellings is held)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {left + right[1:] for left, right in splits if right}
        | {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
        | {left + letter + right[1:] for left, right in splits if right for letter in _LETTERS}
        | {left + letter + right for left, right in splits for letter in _LETTERS}
    )


def _lexicon(snapshot: Snapshot) -> _Lexicon:
    cached = _lexicons.get(id(snapshot))
    if cached is not None and cached[0] is snapshot:
        return cached[1]
    lexicon = _Lexicon(words=[""] * len(snapshot.vocabulary))
    for term, term_id in snapshot.vocabulary.items():
        lexicon.words[term_id] = term
        if term.isascii() and term.isalpha() and len(term) >= 3:
            lexicon.roots.setdefault(_form_root(term), []).append(term_id)
    article_ids = np.asarray([chunk.article_id for chunk in snapshot.chunks])
    new_article = np.ones(len(article_ids), dtype=bool)
    new_article[1:] = article_ids[1:] != article_ids[:-1]
    lexicon.article_starts = np.flatnonzero(new_article)
    lexicon.article_of_chunk = np.cumsum(new_article) - 1
    _lexicons.clear()  # one snapshot at a time: the current one
    _lexicons[id(snapshot)] = (snapshot, lexicon)
    return lexicon


def chunk_articles(snapshot: Snapshot) -> np.ndarray:
    """Each chunk's article, numbered in the snapshot's order (kept with the snapshot's lexicon)."""
    return _lexicon(snapshot).article_of_chunk


def _covered(snapshot: Snapshot, term_ids: Iterable[int]) -> np.ndarray:
    """How much each chunk covers a word through any of these terms: 1 where it is about it (in its title, tags
    or heading, or said more than once), PASSING_MENTION where its text says it once, 0 elsewhere."""
    row = np.zeros(len(snapshot.chunks), dtype=np.float32)
    for term_id in term_ids:
        start, end = snapshot.term_ptr[term_id], snapshot.term_ptr[term_id + 1]
        docs = snapshot.posting_docs[start:end]
        about = (snapshot.posting_tf[start:end] > 1) | snapshot.posting_topic[start:end]
        row[docs] = np.maximum(row[docs], np.where(about, 1.0, PASSING_MENTION))
    return row


def vocabulary_forms(snapshot: Snapshot, word: str) -> list[str]:
    """The knowledge base's own forms of an English word it does not have: those sharing its root ("arrives"
    finds "arrive", "inclusive" "include") or, for long words, one typing slip away ("warrenty", "refnud").

    Why: keyword search matches whole terms, so a misspelt or inflected word that coverage accepts found no
    chunk to rank; the vocabulary itself is the dictionary, so no word list is kept for it.
    """
    if word in snapshot.vocabulary:
        return []
    lexicon = _lexicon(snapshot)
    if _CJK_RUN.fullmatch(word):
        return [lexicon.words[term_id] for term_id in _homophone_ids(snapshot, lexicon, word)]
    if not word.isascii() or not word.isalpha() or len(word) < 4:
        return []
    if word not in lexicon.forms:
        lexicon.forms[word] = sorted({lexicon.words[term_id] for term_id in _english_ids(snapshot, lexicon, word)})
    return lexicon.forms[word]


def pinyin_load() -> ModuleType:
    """pypinyin, with its characters' readings only: the readings of single characters are all the
    sound comparison needs, and its phrase dictionary and the copies it makes by default would take 57 MB and
    0.2 s in every process instead of 13 MB and 0.05 s (the library's own switches; an operator's setting of
    them wins). The start-up warmer (knowledge.apps) calls it, so no customer waits for it."""
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    import pypinyin

    return pypinyin


@lru_cache(maxsize=4096)
def _readings(character: str) -> frozenset[str]:
    """A Chinese character's readings without tones, all of them ("漂": piao, biao): a pinyin keyboard offers
    every character of a reading for the same keys, whichever tone."""
    pypinyin = pinyin_load()  # first: importing pypinyin any other way would load what it leaves out
    # A character it has no reading for ("々", a punctuation mark of the run) gives an empty list: no reading.
    read = pypinyin.pinyin(character, style=pypinyin.Style.NORMAL, heteronym=True, errors="ignore")
    return frozenset(read[0] if read else ())


def _masked(word: str, position: int) -> str:
    return word[:position] + "?" + word[position + 1:]


def _homophone_ids(snapshot: Snapshot, lexicon: _Lexicon, word: str) -> list[int]:
    """The vocabulary's Chinese words that differ from `word` by one character read alike: what a pinyin keyboard
    offers for the same keys ("发漂" for "发票", "保休" for "保修"). Only for a word of two to four characters the
    knowledge base does not have: a word it has is itself. The vocabulary is indexed by its words with one
    character masked, so no reading is looked up but the two characters compared."""
    if not 2 <= len(word) <= 4 or word in snapshot.vocabulary:
        return []
    sounds = lexicon.sounds
    if sounds is None:  # built whole before it is shared: a thread never reads half of it
        sounds = {}
        for term, term_id in snapshot.vocabulary.items():
            if 2 <= len(term) <= 4 and _CJK_RUN.fullmatch(term):
                for position in range(len(term)):
                    sounds.setdefault(_masked(term, position), []).append(term_id)
        lexicon.sounds = sounds
    found = []
    for position in range(len(word)):
        for term_id in sounds.get(_masked(word, position), []):
            if _readings(word[position]) & _readings(lexicon.words[term_id][position]):
                found.append(term_id)
    return found


# A run of Latin letters in a Chinese message, words apart at most by spaces: pinyin typed when the keyboard did not
# turn it into characters ("要付yunfei吗", "zhuan piao要提供啥资料").
_LATIN_RUN = re.compile(r"[a-z]+(?:\s+[a-z]+)*", re.IGNORECASE)
# Every combination of readings of a word is spelt; a word with more than this many is left out (a rare word of
# several characters read several ways each).
_SPELLINGS_PER_WORD = 16


def _spellings(snapshot: Snapshot, lexicon: _Lexicon) -> dict[str, list[str]]:
    """The vocabulary's Chinese words of two to four characters by their pinyin without tones, built once per
    snapshot and only when a message has pinyin to read."""
    spellings = lexicon.spellings
    if spellings is None:  # built whole before it is shared: a thread never reads half of it
        spellings = {}
        for term in snapshot.vocabulary:
            if 2 <= len(term) <= 4 and _CJK_RUN.fullmatch(term) and term not in STOPWORDS:
                readings = [sorted(_readings(character)) for character in term]
                if all(readings) and math.prod(map(len, readings)) <= _SPELLINGS_PER_WORD:
                    for spelt in itertools.product(*readings):
                        spellings.setdefault("".join(spelt), []).append(term)
        lexicon.spellings = spellings
    return spellings


# A question particle typed as its homophone ("茶杯用过一次，能退码？" for 能退吗): a pinyin keyboard offers 码 and 马
# for "ma" as readily as 吗. Only at the end of a clause, and only where the character ends no word of its own
# ("密码", "尺码", "条形码", "骑马" stay).
_PARTICLE_SLIP = re.compile(r"(?<=[\u4e00-\u9fff])[码马玛](?=\s*(?:[?？!！。，,~～]|$))")


def particle_mended(text: str) -> str:
    """A Chinese question with its final 吗 typed as a homophone (`_PARTICLE_SLIP`) written as 吗."""
    def mend(match: re.Match[str]) -> str:
        end = match.end()
        ends_word = any(segmenter().has_word(text[start:end]) for start in range(max(0, end - 4), end - 1))
        return match.group(0) if ends_word else "吗"

    return _PARTICLE_SLIP.sub(mend, text) if _CJK_RUN.search(text) else text


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")  # characters, not the run's punctuation ("。")


def glued_slip_mended(snapshot: Snapshot, text: str) -> str:
    """A Chinese message with a word mistyped by its sound written as the knowledge base's word, where the segmenter
    glued the slip to the word before it ("也能开发漂吗" cut as 开发 / 漂: "开 发票"; "满多少钱报邮" cut as 钱报 / 邮:
    "钱 包邮"), so that `_homophone_ids` never sees the slip whole. Only where the word before is one no article has
    and the word meant is one of an article's topic words (its title, tags or a heading); the glued character itself
    is taken for the slip only when the segmenter made the word before up ("钱报"), not when it is a word of its
    dictionary the customer meant ("分期付" is 分期 and 付, no slip of 支付); a pair the articles have as typed
    ("六个人" has 个人) is no slip. A space keeps the mended word apart from what is left before it.
    """
    if not _CJK_RUN.search(text):
        return text
    lexicon = _lexicon(snapshot)

    def meant(word: str, after: str) -> str | None:
        pair = word[-1] + after
        if len(word) < 2 or len(after) != 1 or not _HAN.fullmatch(pair) or pair in snapshot.vocabulary \
                or word in snapshot.vocabulary or after in STOPWORDS:
            return None
        for term_id in _homophone_ids(snapshot, lexicon, pair):
            term = lexicon.words[term_id]
            slipped_first = term[0] != pair[0]
            # the glued character mistyped only where the segmenter made the word up ("钱报"), not a word of its
            # dictionary the customer meant ("分期")
            if slipped_first and segmenter().has_word(word):
                continue
            topic = snapshot.posting_topic[snapshot.term_ptr[term_id]:snapshot.term_ptr[term_id + 1]]
            if topic.any():
                return term
        return None

    def mend(match: re.Match[str]) -> str:
        words = segmenter().cut(match.group(0))
        out: list[str] = []
        index = 0
        while index < len(words):
            word = words[index]
            after = words[index + 1] if index + 1 < len(words) else ""
            term = meant(word, after) if after else None
            if term is not None:
                out += [word[:-1], " ", term]
                index += 2
                continue
            out.append(word)
            index += 1
        return "".join(out)

    return _CJK_RUN.sub(mend, text)


def pinyin_mended(snapshot: Snapshot, text: str) -> str:
    """A Chinese message with its pinyin written as the knowledge base's words it spells ("要付yunfei吗": "要付运费吗",
    "zhuan piao": "专票"): what a customer meant when the keyboard left the letters as typed. Only in a message that
    has Chinese characters (an English "women" is not 我们), and only a spelling of a whole word of the articles,
    letters one to four words long; English words and names stay as they are."""
    if not _CJK_RUN.search(text) or not re.search(r"[A-Za-z]", text):
        return text
    spellings = _spellings(snapshot, _lexicon(snapshot))

    def mend(match: re.Match[str]) -> str:
        typed = match.group(0).split()
        words = [word.lower() for word in typed]
        mended, start = [], 0
        while start < len(words):
            for end in range(min(len(words), start + 4), start, -1):
                found = spellings.get("".join(words[start:end]))
                if found:
                    mended.append(" ".join(found))
                    start = end
                    break
            else:
                mended.append(typed[start])
                start += 1
        return " ".join(mended)

    return _LATIN_RUN.sub(mend, unicodedata.normalize("NFKC", text))


def _english_ids(snapshot: Snapshot, lexicon: _Lexicon, word: str, *, slips: bool = True) -> list[int]:
    """The vocabulary's forms of an English word: itself, its root's, or (long words only, `slips`) one slip
    away."""
    exact = snapshot.vocabulary.get(word)
    ids = lexicon.roots.get(_form_root(word), []) + ([exact] if exact is not None else [])
    if not ids and slips and len(word) >= 5:
        ids = [term_id for slip in _slips(word) if (term_id := snapshot.vocabulary.get(slip)) is not None]
    return ids


def _said_together(snapshot: Snapshot, ids_by_word: list[list[int]]) -> np.ndarray:
    """By chunk, how much a phrase is covered by its words together: as much as its least covered word."""
    return np.minimum.reduce([_covered(snapshot, ids) for ids in ids_by_word])


def unit_scores(snapshot: Snapshot, units: list[Unit]) -> np.ndarray:
    """For each unit (rows) and chunk (columns), how much of it the chunk covers, in [0, 1]. A word is covered
    by its synonyms as by itself (knowledge.retrieval.synonyms: "postage" by "shipping", "邮费" by "运费")."""
    scores = np.zeros((len(units), len(snapshot.chunks)), dtype=np.float32)
    lexicon = _lexicon(snapshot)
    for row, unit in enumerate(units):
        whole = _unit_term_ids(snapshot, lexicon, unit, typed=True)
        if " " in unit.word:  # a phrase ("cash on delivery") is covered by its words together, too
            words = [word for word in unit.word.split() if word not in STOPWORDS]
            if words:
                scores[row] = np.maximum(scores[row], _said_together(
                    snapshot, [_term_ids(snapshot, lexicon, word, english=word.isascii()) for word in words]))
        if unit.regions:  # the gazetteer's own words, spelt right: no slip nor sound looked for
            in_region = [_english_ids(snapshot, lexicon, region, slips=False) if region.isascii()
                         else _term_ids(snapshot, lexicon, region, english=False)
                         for region in unit.regions if " " not in region]
            region_score = _covered(snapshot, [term_id for ids in in_region for term_id in ids])
            for region in unit.regions:  # a region of several words ("Hong Kong" for Kowloon): its words together
                if " " in region and region.isascii():
                    region_score = np.maximum(region_score, _said_together(
                        snapshot, [_english_ids(snapshot, lexicon, word, slips=False) for word in region.split()]))
            scores[row] = np.maximum(scores[row], region_score if unit.destination else np.minimum(
                region_score, PASSING_MENTION))
        for part in unit.parts:
            term_id = snapshot.vocabulary.get(part)
            if term_id is not None:
                # A word ending in a word of two characters or more is a kind of it, or a verb and its object
                # ("开发票": 发票, "手机电池": 电池): that word stands for it whole; other parts for their share.
                head_part = not unit.concept and len(part) > 1 and unit.word.endswith(part)
                scores[row] += _covered(snapshot, [term_id]) * (1.0 if head_part else 1 / len(unit.parts))
        named = _covered(snapshot, whole)
        if unit.concept and not unit.english:  # named once is about it: the concept's word, or its phrase as a
            # phrase ("wrong items"); not a concept that is one English word, as common as "return"
            if " " in unit.word:  # its words apart ("something goes wrong… the broken item") are not it
                named = np.maximum(named, _phrase_said(snapshot, unit.word, scores[row]))
                scores[row] = 0.0
            elif unit.word in ASKED_CONCEPTS and _CJK_RUN.fullmatch(unit.word):  # a compound no segmenter keeps
                named = np.maximum(named, _word_said(snapshot, lexicon, unit.word))  # whole ("开票内容": 开票, 内容)
            named = np.where(named > 0, 1.0, 0.0).astype(np.float32)
        if unit.concept:  # said in one of its phrasings ("All prices include VAT" says 含税 as "incl. VAT?" asks it)
            named = np.maximum(named, _concept_phrased(snapshot, lexicon, unit.word))
        scores[row] = np.maximum(scores[row], named)
    return np.minimum(scores, 1.0)


# An amount a line states: money in figures ("¥25", "12 元"), or nothing to pay ("free of charge", "at no cost",
# "we pay", "免费", "包邮", "由我们承担", "邮费由我们支付"), or by what it is.
_AMOUNT_STATED = re.compile(
    r"[¥$]\s*\d|\d\s*(?:元|块|(?:yuan|rmb|kuai)\b)|\bfree\b|\bno\s+(?:extra\s+)?(?:cost|charge|fee)|\bwe\s+pay\b"
    r"|免费|包邮|免运费|不收|不另收|我们(?:来)?(?:承担|支付)|由我们(?:来)?(?:出|付)"
    # an amount stated by what it is: "the amount you actually paid", "the original shipping fee", "全额", "实付金额"
    r"|\b(?:the\s+)?(?:full|original|same|total)\s+(?:amount|price|fee|cost|shipping\s+fee|value)\b"
    r"|\b(?:amount|what)\s+you\s+(?:actually\s+)?paid\b|全额|原价|实付|实际支付|原订单运费"
    # or as nothing on top ("prices include VAT", "已含增值税")
    r"|\binclud(?:e|es|ed|ing)\s+(?:the\s+|any\s+)?(?:vat|tax(?:es)?|shipping|postage)\b|已含|含税|包含",
    re.IGNORECASE,
)
# Money given back, asked ("how much will I get back?", "退款能退多少"), is stated as all of it ("we refund you",
# "原路退款"); not what sending a return costs, which a line on refunds does not give.
_REFUND_ASKED = re.compile(
    r"\brefund|\breimburs|\bmoney\s+back\b|\b(?:get|getting|got|receive|paid|pay\s+me)\b(?:\s+[\w']+){0,3}?\s+back\b"
    r"|\breturned\s+to\s+(?:me|my)\b|退款|退多少|退回多少|能退回|返还|退给我|退我",
    re.IGNORECASE,
)
_REFUND_STATED = re.compile(r"\brefund(?:ed)?\s+(?:you|in\s+full)\b|全额退|原路退")
# Words of pricing itself: what is priced is said by the question's other words.
_PRICING_WORDS = frozenset("cost price fee charge pay money spend 钱 价格 价钱 费用 收费 花费 付 块 贵".split())
_LINE_END = re.compile(r"\n|(?<=[。！？；])|(?<=[.!?;])\s+")
# A line that speaks of paying: only such a line can state an amount, or leave it unstated ("you pay the postage");
# not "orders paid at the weekend", a time.
_MONEY_LINE = re.compile(
    rf"{_AMOUNT_STATED.pattern}|\b(?:pays?|postage|shipping|fees?|costs?|charge[sd]?|prices?|refund\w*)\b"
    r"|费|付|钱|价|承担|退款|退还",
    re.IGNORECASE,
)


def amount_stated(question: str, texts: list[str], *, asked_before: str = "") -> bool:
    """Whether the sources' texts state the amount a question asks (heads.amount_asked): of their lines that speak
    of paying (`_MONEY_LINE`), those that say most of the question's words, what is priced, have an amount or say
    there is nothing to pay (`_AMOUNT_STATED`). "How much to send back a tin I changed my mind about?" is the
    returns article's line "Change of mind: the customer pays the return shipping", which gives none, not its line
    on faulty items, free, nor the delivery article's line on an order's shipping fee; "how much is the gaiwan?" is
    said by no line of paying in the warranty article, which names gaiwans. Words no line says (a typo, "the fast
    one" of a follow-up) tell nothing: a question naming nothing the lines say ("how much is it?") is read by the
    words of the one `asked_before` it, and with none of those either, is stated by any amount. Words alone cannot
    tell what a line prices: "how much is the kettle?" is stated by "a faulty kettle is replaced free of charge"."""
    lines = [line for text in texts for line in _LINE_END.split(unicodedata.normalize("NFKC", text).lower())
             if line.strip()]
    asking = _pricing_sentences(question)
    found = _priced_in_lines(asking, lines)
    if not found and asked_before:  # "and how much is the quick one?": what the question before asked about
        found = _priced_in_lines(asked_before, lines)
    money = [index for index, line in enumerate(lines) if _MONEY_LINE.search(line)]
    said = {index: sum(in_lines[index] for in_lines in found) for index in money}
    most = max(said.values(), default=0)
    if found and not most:  # what is priced is said only where no paying is
        return False
    refund = bool(_REFUND_ASKED.search(asking))
    return any(_AMOUNT_STATED.search(lines[index]) or (refund and _REFUND_STATED.search(lines[index]))
               for index, count in said.items() if count == most)


# A sentence's end as typed, "？" directly before the next sentence too ("运费多少？下单后多久要付款？").
_ASKED_SENTENCE_END = re.compile(r"(?<=[?!？！。；;\n])")


def _pricing_sentences(question: str) -> str:
    """The sentences of a question that ask an amount (what they price is what a line must say), or the whole
    question when none does alone ("Sending it back, how much?" split oddly): "我买 ¥180 的茶，用支付宝付，运费多少？
    下单后多久之内要付款？" prices the shipping, not the payment window."""
    asking = [sentence for sentence in _ASKED_SENTENCE_END.split(question) if price_asked(sentence)]
    return " ".join(asking) or question


def price_asked(text: str) -> bool:
    """Whether a message asks what something costs (heads.amount_asked, on the text as search reads it)."""
    return amount_asked(_normalised(text))


def _word_forms(word: str) -> set[str]:
    """An English word and the plain forms it may be inflected from ("delivered": deliver, "boxes": box), whose
    synonyms it shares."""
    forms = {word, root(word)}
    for ending, plain in (("ied", "y"), ("ies", "y"), ("ed", ""), ("d", ""), ("ing", ""), ("es", ""), ("s", "")):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            forms.add(word[: -len(ending)] + plain)
    return forms


def _priced_in_lines(text: str, lines: list[str]) -> list[list[bool]]:
    """For each word of the text that some line says (not a word of pricing), which lines say it: one of its forms,
    or for a concept any of its phrasings ("不想要了" is a change of mind as "个人原因" is)."""
    units = [unit for unit in question_units(text) if unit.weight and unit.word not in _PRICING_WORDS]
    concepts = [concepts_in(line)[0] for line in lines] if any(unit.concept for unit in units) else []
    found = []
    for unit in units:
        forms = _line_forms(unit)  # once per word, not per line
        found.append([any(form.search(line) for form in forms) or (unit.concept and unit.word in concepts[index])
                      for index, line in enumerate(lines)])
    return [in_lines for in_lines in found if any(in_lines)]


def _line_forms(unit: Unit) -> list[re.Pattern[str]]:
    """Patterns that find a unit in a line of text: an English word by its root at a word's start, a Chinese
    word or one of its words inside it, and the synonyms of either."""
    synonyms = [synonym for form in _word_forms(unit.word) for synonym in single_word_synonyms(form)] \
        if unit.english else _synonyms(unit)
    words = [unit.word, *synonyms, *(part for part in unit.parts if len(part) > 1)]
    return [re.compile(rf"\b{re.escape(root(word) if unit.english else word)}") if word.isascii()
            else re.compile(re.escape(word)) for word in dict.fromkeys(words)]


def _concept_phrased(snapshot: Snapshot, lexicon: _Lexicon, concept: str) -> np.ndarray:
    """1 for each chunk a line of which says the concept in one of the phrasings that read it from a question
    (knowledge.retrieval.synonyms.CONCEPTS), else 0 (once per snapshot and concept): a concept read from a
    phrasing is covered where an article phrases it so too, not by each of its words ("VAT" names 含税 nowhere)."""
    if concept not in lexicon.phrased:
        lexicon.phrased[concept] = np.asarray(
            [concept_phrased_in(concept, f"{chunk.heading}\n{chunk.text}") for chunk in snapshot.chunks],
            dtype=np.float32)
    return lexicon.phrased[concept]


def _word_said(snapshot: Snapshot, lexicon: _Lexicon, word: str) -> np.ndarray:
    """1 for each chunk whose heading or text has the word as written, else 0 (once per snapshot and word)."""
    if word not in lexicon.said:
        lexicon.said[word] = np.asarray([word in chunk.heading or word in chunk.text for chunk in snapshot.chunks],
                                        dtype=np.float32)
    return lexicon.said[word]


def _phrase_said(snapshot: Snapshot, phrase: str, candidates: np.ndarray) -> np.ndarray:
    """1 for each chunk, among those having the phrase's words (`candidates` > 0), whose text says them as the
    phrase (at most one word between, any ending: "cash on delivery", "wrong items"), else 0."""
    words = [re.escape(root(word)) for word in phrase.split() if word not in STOPWORDS]
    orders = [words, words[::-1]] if len(words) == 2 else [words]  # "failed delivery", "if a delivery fails"
    between = r"\w*[^\w.!?;:。！？；：\n]+(?:\w+[^\w.!?;:。！？；：\n]+)?"  # within one sentence ("48 hours. Opened")
    pattern = re.compile("|".join(r"\b" + between.join(order) + r"\w*" for order in orders), re.IGNORECASE)
    said = np.zeros(len(snapshot.chunks), dtype=np.float32)
    for index in np.flatnonzero(candidates):
        chunk = snapshot.chunks[index]
        said[index] = 1.0 if pattern.search(f"{chunk.heading}\n{chunk.text}") else 0.0
    return said


def _unit_term_ids(snapshot: Snapshot, lexicon: _Lexicon, unit: Unit, *, typed: bool = False) -> list[int]:
    """The vocabulary's terms for a unit's word and its synonyms (`typed`: the word as the customer wrote it, so
    its pinyin slips are looked for too)."""
    term_ids = _term_ids(snapshot, lexicon, unit.word, english=unit.english, typed=typed)
    for synonym in _synonyms(unit):
        term_ids += _term_ids(snapshot, lexicon, synonym, english=bool(re.fullmatch(r"[a-z]+", synonym)))
    return term_ids


def _synonyms(unit: Unit) -> list[str]:
    found = single_word_synonyms(unit.word)
    if unit.english:
        found += single_word_synonyms(root(unit.word))
    return found


def _term_ids(snapshot: Snapshot, lexicon: _Lexicon, word: str, *, english: bool, typed: bool = False) -> list[int]:
    """The vocabulary's terms for a word; for a Chinese word the customer `typed` (not a synonym the groups
    spell right), the words a pinyin keyboard would have offered for the same keys when it has none."""
    if english:
        return _english_ids(snapshot, lexicon, word)
    term_id = snapshot.vocabulary.get(word)
    if term_id is not None:
        return [term_id]
    return _homophone_ids(snapshot, lexicon, word) if typed else []


# The end of a sentence: Chinese punctuation, or English punctuation and a space ("example.com/?c=" is none).
_SENTENCE_END = re.compile(r"(?<=[？！。；])\s*|(?<=[?!.;])\s+")


def _parts(text: str) -> tuple[list[list[Unit]], list[Unit]]:
    """The content words of each line of a question (and, second, those of the whole message, which the parts
    share where a line is the message); of a line of several sentences that asks questions, those
    of its question sentences instead when they say enough on their own (ON_ITS_OWN): a long message ("I've
    been buying from you for years, my friend moved to Urumqi… how long does delivery take there?") asks its
    question in one sentence, which the rest would drown, and a story made of shop words ("someone stole my
    Visa card") is not what "how do I get my bank to block it?" asks. A head read from the whole message
    (another seller, a field outside a shop) holds for each."""
    text = _NOT_SUBJECT.sub(" ", unicodedata.normalize("NFKC", text))
    read_once: dict[str, list[Unit]] = {text: question_units(text)}  # a one-line message is its line: read once

    def units_of(part: str) -> list[Unit]:
        if part not in read_once:
            read_once[part] = question_units(part)
        return read_once[part]

    # In a story ("…I've burned myself twice… Is this the kind of thing your warranty deals with?") a field's word
    # told in one sentence is not what another sentence asks.
    story = sum(1 for unit in read_once[text] if unit.weight) >= STORY_UNITS
    whole = [unit for unit in read_once[text] if unit.whole_message and not (story and unit.field)]
    parts: list[list[Unit]] = []
    for line in text.splitlines():
        sentences = [s for s in _SENTENCE_END.split(line) if s.strip()]
        asked = [s for s in sentences if s.rstrip().endswith(("?", "？"))] if len(sentences) > 1 else []
        asked_units = [units for units in map(units_of, asked) if units]
        # A question sentence that says enough on its own (two words or more) is what the line asks; a short one
        # ("What happened to it?") leans on the rest of the line, which is read too.
        read = [units for units in asked_units if sum(unit.weight for unit in units) >= ON_ITS_OWN]
        if len(read) < len(asked_units) or not read:
            read = [units_of(line), *asked_units, *_with_sentence_before(sentences, units_of)]
        read += _asking_clauses(sentences)
        read += _asked_after_saying_so(line, units_of)
        # The situation a story names as a shop concept (a wrong item, a failed delivery, a charge for an unpaid
        # order) is what its question sentence asks about: "这种情况退回去的快递费要我出吗" after the wrong tea.
        told = [unit for unit in units_of(line) if unit.concept] if len(read) > 1 or asked_units else []
        for units in read:
            if units:
                words = {unit.word for unit in units}
                carried = {unit.word: unit for unit in [*whole, *told] if unit.word not in words}
                parts.append(units + list(carried.values()))
    return parts, read_once[text]


# A Chinese clause that asks: a question particle or word ("能走保修吗", "还来得及开吗", "运费算谁的").
_ZH_ASKING_CLAUSE = re.compile(
    r"[吗呢么嘛？?]\s*$|怎么|多少|多久|几|哪|什么|啥|是否|能不能|可不可以|有没有|来得及|算谁")
# A clause ends at a comma; at an emoji, which chat writing puts where a comma would go ("有点慌😅 想问下…"); and at a
# question mark the sentence goes on after ("…哪些资料啊？别到时候来回折腾": read after NFKC, which writes "？" as "?").
_CLAUSE_END = re.compile(r"[，,、]|[\u2600-\u27bf\U0001f300-\U0001faff]+|(?<=[?!])(?=[\u4e00-\u9fff])")
# A Chinese sentence of this many clauses or more tells a story around the clause that asks.
STORY_CLAUSES = 3


# Words that say the question comes next ("我用支付宝付款没问题，就是想问一下能寄到台湾吗", "Paying is fine, I just
# wanted to ask whether you ship to Taiwan", "my actual question is…"): what follows them is what is asked.
_ASKING_SAID = re.compile(
    r"(?:就是|只是|主要是?|其实|我)想问(?:一下|下|问)?(?:的是)?|我的问题是|(?:我|主要)?想了解(?:一下|下)?"
    r"|\b(?:i\s+)?(?:just\s+|only\s+|really\s+|mainly\s+)(?:want(?:ed)?|need(?:ed)?)\s+to\s+(?:ask|know|check)\b"
    r"|\bmy\s+(?:real\s+|actual\s+|main\s+|only\s+)?question\s+is\b"
    r"|\bwhat\s+i\s+(?:really\s+)?(?:want|need|'d\s+like|would\s+like)\s+to\s+know\s+is\b",
    re.IGNORECASE,
)


def _asked_after_saying_so(line: str, units_of: Callable[[str], list[Unit]]) -> list[list[Unit]]:
    """What a line asks after words that say so, read on its own when something is told before them: the telling
    ("我用支付宝付款没问题") is not the question. A word of substance after them is enough (the customer said that this
    is the question), where a question sentence read on its own needs ON_ITS_OWN."""
    found = _ASKING_SAID.search(line)
    if found is None or not line[: found.start()].strip(" ，,。.!！"):
        return []
    units = units_of(line[found.end():])
    return [units] if sum(unit.weight for unit in units) >= 1.0 else []


def _with_sentence_before(sentences: list[str], units_of: Callable[[str], list[Unit]]) -> list[list[Unit]]:
    """Each question sentence too short to say what it asks ("Can you?", "Is that possible?", "可以吗？") read with
    the sentence just before it, which says it ("He keeps asking whether you can post him a printed fapiao. Can
    you?"): the rest of a long story would drown it."""
    read: list[list[Unit]] = []
    for index in range(1, len(sentences)):
        if sentences[index].rstrip().endswith(("?", "？")):
            if sum(unit.weight for unit in units_of(sentences[index])) < ON_ITS_OWN:
                units = units_of(f"{sentences[index - 1]} {sentences[index]}")
                if sum(unit.weight for unit in units) >= ON_ITS_OWN:
                    read.append(units)
    return read


def _asking_clauses(sentences: list[str]) -> list[list[Unit]]:
    """Of a Chinese sentence that tells a story in several clauses ("家里的猫把茶杯从桌上扫下去了，磕掉了一小块，
    这个能走保修吗"), the clause that asks read with the one before it, as a question sentence is read on its own: the
    story's words would drown what is asked. Only when the two say enough on their own (ON_ITS_OWN)."""
    read: list[list[Unit]] = []
    for sentence in sentences:
        clauses = [clause for clause in _CLAUSE_END.split(sentence) if clause.strip()]
        if len(clauses) < STORY_CLAUSES or not _CJK_RUN.search(sentence):
            continue
        for index in range(len(clauses) - 1, 0, -1):
            if _ZH_ASKING_CLAUSE.search(clauses[index]):
                units = question_units("，".join(clauses[index - 1 : index + 1]))
                if sum(unit.weight for unit in units) >= ON_ITS_OWN:
                    read.append(units)
                break
    return read


# A message of this many content words or more tells a story around its question: the words of it that no article
# has, and that are not its head, are mostly the telling ("a web of tiny cracks spreading", "went to cook dinner",
# "公司名少打了两个字") and weigh STORY_UNKNOWN_WEIGHT, so the words the shop's articles do have decide whether it is
# theirs. A short question keeps every word whole: "what's the weather in Paris" is its unknown words.
STORY_UNITS = 9
STORY_UNKNOWN_WEIGHT = 0.5


def _unknown_objects(snapshot: Snapshot, units: list[Unit], scores: np.ndarray) -> None:
    """Make a head of each object asked to be sent or paid for that the knowledge base names nowhere, not even
    as a part of a closed compound ("teapot", "teacup": a word of the articles, "tea", and one more)."""
    for row, unit in enumerate(units):
        known_kind = not unit.own_kind and _compound_known(snapshot, unit.word)
        if unit.head_if_unknown and not scores[row].any() and not known_kind:
            unit.head = True


def _compound_known(snapshot: Snapshot, word: str) -> bool:
    """Whether an English word starts with a word of the knowledge base (three letters or more, not a word of
    asking) followed by three letters or more: "teapot" and "teaware" begin with "tea"; whether a Chinese word
    ends with one, its head ("白茶" is a kind of "茶")."""
    if _CJK_RUN.fullmatch(word):
        return any(_said_widely(snapshot, word[cut:]) for cut in range(1, len(word)))
    return any(
        (start := word[:cut]) in snapshot.vocabulary and start not in ASKING_WORDS and start not in STOPWORDS
        for cut in range(3, len(word) - 2)
    )


# A Chinese compound's last character stands for it ("白茶" a kind of "茶") only when the shop says it in this many
# articles: one character in one article ("外箱") is no class of the shop's goods ("冰箱" is no box of ours).
COMPOUND_HEAD_ARTICLES = 3


def _said_widely(snapshot: Snapshot, head: str) -> bool:
    """Whether the knowledge base has the word (two characters or more), or says the character in words of at
    least COMPOUND_HEAD_ARTICLES articles ("茶" in 茶叶, 茶具, 茶铺: the shop's goods)."""
    if head in STOPWORDS:
        return False
    if len(head) > 1:
        return head in snapshot.vocabulary
    lexicon = _lexicon(snapshot)
    if head not in lexicon.characters:
        articles: set[int] = set()
        for term, term_id in snapshot.vocabulary.items():
            if head in term:
                start, end = snapshot.term_ptr[term_id], snapshot.term_ptr[term_id + 1]
                articles.update(lexicon.article_of_chunk[snapshot.posting_docs[start:end]].tolist())
        lexicon.characters[head] = len(articles)
    return lexicon.characters[head] >= COMPOUND_HEAD_ARTICLES


def _head_missing(scores: np.ndarray, units: list[Unit]) -> np.ndarray:
    """Per column (chunk or article), HEAD_MISSING where some head word of the question is not covered, else 1."""
    heads = [row for row, unit in enumerate(units) if unit.head]
    if not heads:
        return np.ones(scores.shape[1], dtype=np.float32)
    return np.where((scores[heads] <= 0).any(axis=0), HEAD_MISSING, 1.0).astype(np.float32)


def coverage_scores(snapshot: Snapshot, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each chunk's coverage of the question, in [0, 1], and its article's (the words the article's chunks
    cover between them: an answer's facts may sit in two sections); None when the question has no content word.
    Third, per chunk, 1 where its topic (its article's title or tags, its heading) names every head word of the
    question, else 0: what the question asks about is what the chunk is about ("send a gaiwan to Hong Kong" asks
    about sending, the shipping article's subject, not the warranty's, which names gaiwans).

    A question of several lines (the customer's unanswered messages, one a line) is covered as well as its
    best-covered line, or question sentence: "Hi, quick one" then "do you take Mastercard?" asks the second.
    A source lacking one of the question's head words covers it HEAD_MISSING as much.
    """
    return _coverage_read(snapshot, text, head_named_nowhere=False)[0]


def coverage_and_head_named_nowhere(
    snapshot: Snapshot, text: str,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None, bool]:
    """`coverage_scores`, and whether the question has a head word that no article covers at all ("What about the
    dishwasher?" where no article names a dishwasher): a follow-up that brings one up asks about it, whatever the
    turn before covered. One reading: the words its parts were covered by are not looked up again."""
    return _coverage_read(snapshot, text, head_named_nowhere=True)


def _coverage_read(
    snapshot: Snapshot, text: str, *, head_named_nowhere: bool,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None, bool]:
    if not snapshot.chunks:
        return None, False
    best: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    lexicon = _lexicon(snapshot)
    parts, whole = _parts(text)
    covered_somewhere: dict[int, bool] = {}  # by id of a Unit scored in a part: whether any chunk covers it
    for units in parts:
        scores = unit_scores(snapshot, units)
        _unknown_objects(snapshot, units, scores)
        covered_somewhere.update((id(unit), bool(scores[row].any())) for row, unit in enumerate(units))
        weights = np.asarray([unit.weight for unit in units], dtype=np.float32)
        if len(units) >= STORY_UNITS:  # a story: the words no article has are mostly its telling
            told = np.asarray([not (unit.head or unit.head_if_unknown or unit.whole_message) for unit in units])
            weights = np.where(told & ~scores.any(axis=1), weights * STORY_UNKNOWN_WEIGHT, weights)
        by_chunk = weights @ scores / weights.sum() * _head_missing(scores, units)
        # Each word as well covered as the article's best chunk covers it, then shared out to its chunks.
        article_scores = np.maximum.reduceat(scores, lexicon.article_starts, axis=1)
        per_article = weights @ article_scores / weights.sum() * _head_missing(article_scores, units)
        by_article = per_article[lexicon.article_of_chunk]
        topical = _heads_in_topic(snapshot, lexicon, units)
        if best is None:
            best = (by_chunk, by_article, topical)
        else:
            best = (np.maximum(best[0], by_chunk), np.maximum(best[1], by_article), np.maximum(best[2], topical))
    if not head_named_nowhere:
        return best, False
    # The whole message's words: a one-line message's were scored as its part; others (a line of several asked
    # sentences, several lines) are scored here.
    unscored = [unit for unit in whole if id(unit) not in covered_somewhere]
    if unscored:
        scores = unit_scores(snapshot, unscored)
        _unknown_objects(snapshot, unscored, scores)
        covered_somewhere.update((id(unit), bool(scores[row].any())) for row, unit in enumerate(unscored))
    return best, any(unit.head and unit.weight and not covered_somewhere[id(unit)] for unit in whole)


def _heads_in_topic(snapshot: Snapshot, lexicon: _Lexicon, units: list[Unit]) -> np.ndarray:
    """Per chunk, 1 where its topic terms (posting_topic) have every head word of the question, through its
    forms or synonyms; 0 everywhere when the question has no head word. A destination is where, not the subject:
    a section on delivery areas is headed "Areas", not by every place it names."""
    heads = [unit for unit in units if unit.head and not unit.destination]
    topical = np.zeros(len(snapshot.chunks), dtype=np.float32)
    if not heads:
        return topical
    topical[:] = 1.0
    for unit in heads:
        term_ids = _unit_term_ids(snapshot, lexicon, unit)
        named = np.zeros(len(snapshot.chunks), dtype=bool)
        for term_id in set(term_ids):
            start, end = snapshot.term_ptr[term_id], snapshot.term_ptr[term_id + 1]
            named[snapshot.posting_docs[start:end][snapshot.posting_topic[start:end]]] = True
        topical[~named] = 0.0
    return topical
