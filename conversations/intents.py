"""Whether a customer's message asks for a person, by the shape of the request rather than a phrase list.

A customer who wants a person says so in endless ways ("could someone from your team call me", "put me
through to a real person", "我不想跟机器人聊", "麻烦帮我接一下人工"), so a list of phrases (the operator's
HANDOFF_PHRASES, still honoured) misses most of them. The rule here is grammatical and works for wordings nobody
listed: a request (a verb of reaching someone, or a want/need) aimed at a person noun, or a refusal of the bot.
What it must not take for a request: a question about the bot itself ("are you a real person?", "你是真人吗":
no request verb, so no match),
a negated request ("no need for an agent", "不用转人工"), and the same nouns in other senses ("human
consumption", "人工种植", "my agent ordered it", "客服电话是多少" — the last asks for a number the knowledge base
may have).

Plain functions of text, deterministic and fast (a few regular expressions), so they run before anything else
on every message. The first layer of issue 15's intents: a model classifier may come after it, never before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from .entities import ORDER_NUMBER, extract, normalise

# --- English ---------------------------------------------------------------------------------------------

_PERSON = (
    r"(?:(?:a|an|the|some|your|one\s+of\s+your|real|actual|live|human|proper)\s+)*"
    r"(?:human(?:\s+being)?|person|people|agent|rep(?:resentative)?|operator|someone|somebody|anyone|anybody"
    r"|staff(?:\s+member)?|employee|colleague|manager|supervisor|customer\s+(?:service|support|care)"
    r"(?:\s+(?:team|rep(?:resentative)?|agent|person))?|support\s+(?:team|agent|person|staff))"
)
_REACH = (
    r"(?:talk|speak|chat|write)\s+(?:to|with)|connect(?:ed)?\s+(?:me\s+)?(?:to|with)|transfer(?:red)?\s+(?:me\s+)?to"
    r"|put\s+me\s+(?:through\s+)?(?:to|with)|(?:get|give)\s+me|pass\s+me\s+(?:on\s+)?to|escalate\s+(?:this\s+)?to"
    r"|hand\s+(?:me|this)\s+(?:over\s+)?to|let\s+me\s+(?:talk|speak)\s+(?:to|with)"
)
_EN_REQUEST = re.compile(
    rf"\b(?:{_REACH})\s+{_PERSON}\b"  # "talk to a real person", "put me through to someone"
    rf"|\b(?:want|need|would\s+like|'d\s+like|prefer|request|ask\s+for)\s+(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?"
    rf"{_PERSON}\b"  # "I need a human", "I'd like to speak with your staff"
    rf"|\b(?:can|could|may|would)\s+{_PERSON}\s+(?:(?:from|at|in)\s+(?:your|the|this)\s+(?:\w+\s+){{1,2}})?"
    r"(?:please\s+)?(?:call|contact|phone|ring|reach|email|text|get\s+back\s+to)\s+me\b"  # "could someone … call me"
    rf"|^\s*{_PERSON}\s*,?\s*(?:please|pls|now)?\s*[.!?]*\s*$",  # "human please", "a real person!"
    re.IGNORECASE,
)
_EN_REFUSES_BOT = re.compile(
    r"\b(?:(?:don'?t|do\s+not|won'?t|will\s+not|no\s+more|stop|done|tired\s+of|sick\s+of|fed\s+up\s+with|hate)"
    r"\s+(?:want\s+to\s+)?(?:talk(?:ing)?|speak(?:ing)?|chat(?:ting)?)\s+(?:to|with)\s+(?:a|an|the|this|your)?\s*"
    r"(?:bot|robot|machine|ai|computer|chatbot)"
    r"|not\s+(?:a|an|the|this)\s+(?:bot|robot|machine|ai|chatbot)\b)",
    re.IGNORECASE,
)
# A negation governs the request only when the words between are plain words (no comma, no full stop):
# "don't transfer me to a human" is negated, "I don't understand, I want a human" is not.
_EN_NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|no\s+need|never\s+mind|without)\s+(?:[\w']+\s+){0,4}?"
    r"(?:human|person|agent|rep(?:resentative)?|operator|someone|somebody|anyone|anybody|staff)\b",
    re.IGNORECASE,
)

# --- Chinese ---------------------------------------------------------------------------------------------

_ZH_PERSON = (
    r"(?:人工(?!智能|种植|合成|成本|费|湖|降雨)(?:客服|服务|坐席)?|真人(?:客服)?|活人|客服(?:人员|小姐姐|专员)?"
    r"|工作人员|服务人员|经理|主管|专员|值班人员|你们的人)"
)
_ZH_REQUEST = re.compile(
    rf"(?:转|转接|接|接通|找|要|换|叫|让|请|求|联系|呼叫|切换到?)[^，。,.!?！？]{{0,5}}?{_ZH_PERSON}"
    rf"|(?:跟|和|与|同)\s*{_ZH_PERSON}\s*(?:说|聊|谈|讲|沟通|对话|交流)"
    r"|(?:找|叫|来)(?:个|一个|位)?人(?:来|过来)?(?:帮|处理|解决|跟|和|聊|说|吧|吗|啊|呀|$)"
    rf"|^\s*(?:我要|要|请|麻烦)?\s*{_ZH_PERSON}\s*[，,]?\s*(?:吧|呢|啊|呀|好吗|可以吗|谢谢)?\s*[!！?？。.]*\s*$"
)
_ZH_REFUSES_BOT = re.compile(
    r"(?:不想|不要|别|不愿意|受不了|不跟|不和)[^，。,.!?！？]{0,4}(?:机器人|机器|AI|ai|人工智能|智能客服|自动回复)"
)
_ZH_NEGATED = re.compile(rf"(?:不要|不用|不需要|无需|别|没必要|不必)[^，。,.!?！？]{{0,4}}{_ZH_PERSON}")


def asks_for_person(text: str) -> bool:
    """Whether the message asks to be answered by a person (or refuses the bot), in English or Chinese."""
    text = " ".join(text.split())
    if not text:
        return False
    if _EN_REFUSES_BOT.search(text) or _ZH_REFUSES_BOT.search(text):
        return True
    if _EN_NEGATED.search(text) or _ZH_NEGATED.search(text):
        return False
    return bool(_EN_REQUEST.search(text) or _ZH_REQUEST.search(text))


# --- Intents (issue 15's 意图识别) -------------------------------------------------------------------------
#
# What a message is about, by shape: the first of person, complaint, refund, order status, shipping, small
# talk that fits, else a plain question. `out_of_scope` is never a rule's answer: only retrieval can tell that
# nothing the shop knows covers a message (the reply pipeline sets it); the value exists so a model
# classifier and the pipeline speak the same words.
#
# A complaint is dissatisfaction aimed at the shop, its service or its goods. Strong words (scam, fraud,
# unacceptable, furious, 骗子, 坑人, 差评, 12315, a threat to report or sue) count wherever they are; mild
# ones (terrible, awful, useless, 太差, 失望) only aimed at a target (you, your…, the product, the service,
# the delivery, this, it), so "the weather is terrible, will my parcel be late?" is not one. A negation just
# before the word undoes it ("not bad at all", "wasn't disappointed", "一点也不差", "没有失望"). Decided: a
# how-to question about complaining ("how do I file a complaint about customs?", "怎么投诉快递公司") is a
# question, answered from the knowledge base's own procedure; saying one complains ("I want to make a
# complaint", "我要投诉") is a complaint, whoever it is about: complaints go to a person.


class Intent(StrEnum):
    PERSON = "person"
    COMPLAINT = "complaint"
    ORDER_STATUS = "order_status"
    REFUND = "refund"
    SHIPPING = "shipping"
    SMALL_TALK = "small_talk"
    OUT_OF_SCOPE = "out_of_scope"
    QUESTION = "question"


@dataclass
class Classification:
    intent: Intent
    entities: list[dict] = field(default_factory=list)
    source: str = "rules"  # "rules" or "model"


_EN_NOT = r"(?:not|n't|never|no|hardly|nothing|without)"
_EN_STRONG = (
    r"unacceptable|outrageous|disgrace(?:ful)?|disgusting|shambles|incompetent|furious|livid|scam(?:mers?|med)?"
    r"|fraud(?:ulent)?(?!\s+(?:protection|prevention|detection|check|alert)s?\b)|rip[\s-]?off"
    r"|ripped\s+(?:me\s+)?off|cheat(?:ed|ing)?|con\s+artists?|pathetic|shameful|appalling|daylight\s+robbery"
    r"|(?:report|sue|expose)\s+(?:you|your\s+\w+|this\s+(?:shop|store|company))|lawyer|consumer\s+(?:protection|council)"
    r"|chargeback|never\s+(?:buy|buying|order|ordering|shop|shopping)\s+(?:\w+\s+)?(?:from|with|here|again)"
    r"|waste\s+of\s+(?:money|time)|(?:i\s+am|i'm|we\s+are|we're)\s+(?:so\s+|really\s+|very\s+)?(?:angry|pissed|mad)"
    r"(?!\s+(?:at|with)\s+(?:myself|ourselves|me))"
)
_EN_MILD = (
    r"terrible|horrible|awful|dreadful|useless|rubbish|garbage|crap(?:py)?|trash|ridiculous|poor|lousy|shoddy|worst"
    r"|disappointed|disappointing|unhappy|dissatisfied|annoyed|fed\s+up|sick\s+of|a\s+joke|broken\s+promises?"
)
_EN_TARGET = (
    r"you|your|you're|yours|this|that|it|it's|its|the\s+(?:\w+\s+)?(?:service|support|product|item|goods|quality"
    r"|delivery|shipping|parcel|package|order|courier|packaging|experience|shop|store|company|seller|staff|app"
    r"|website|site|refund|response|reply|answer|bot)|service|support|product|quality|delivery|experience|company|shop"
    r"|store|customer\s+service"
)
_EN_COMPLAINS = re.compile(
    r"\b(?:(?:i|we)\s*(?:want|wish|would\s+like|'d\s+like|need|am\s+going|'m\s+going)\s+to\s+"
    r"(?:complain|(?:make|file|lodge|raise|submit)\s+a\s+(?:formal\s+)?complaint)"
    r"|(?:this|it)\s+is\s+a\s+(?:formal\s+)?complaint|(?:i|we)\s+(?:complain|am\s+complaining|'m\s+complaining))",
    re.IGNORECASE,
)
# A yes/no or how question asks about a thing ("is it poor quality to …?"), a mild word in it is no complaint.
_EN_NEUTRAL_QUESTION = re.compile(
    r"^\s*(?:is|are|does|do|can|could|would|will|should|what|which|how(?!\s+come))\b[^.!]*\?\s*$", re.IGNORECASE
)
_EN_HOW_TO = re.compile(r"^\s*(?:how|where|who|what|when|can|could|is\s+there|do\s+you\s+have)\b", re.IGNORECASE)
_EN_STRONG_RE = re.compile(rf"\b(?:{_EN_STRONG})(?![\w-])", re.IGNORECASE)
_EN_MILD_AIMED = re.compile(
    rf"\b(?:{_EN_TARGET})\b(?:\s+[\w']+){{0,3}}?\s+(?:(?:so|very|really|just|absolutely|totally|extremely|pretty)\s+)*"
    rf"(?:{_EN_MILD})\b"
    rf"|\b(?:{_EN_MILD})\s+(?:\w+\s+)?(?:{_EN_TARGET})\b"
    r"|\b(?:disappointed|unhappy|dissatisfied|annoyed|fed\s+up|sick)\s+(?:with|by|of|about|in)\b"
    r"|\b(?:not|n't|never)\s+(?:\w+\s+){0,2}(?:happy|satisfied|pleased)\s+(?:with|about|at\s+all)\b",
    re.IGNORECASE,
)
_EN_NEGATED_WORD = re.compile(
    rf"\b{_EN_NOT}\s+(?:(?:so|very|really|too|that|at\s+all|even|a\s+bit|the)\s+)*(?:{_EN_MILD}|{_EN_STRONG})\b",
    re.IGNORECASE,
)

_ZH_STRONG = re.compile(
    r"骗子|骗人|骗钱|诈骗|欺诈|坑人|坑爹|太坑|被坑|坑钱|黑店|奸商|差评|12315|消协|消费者协会|工商局|市场监管"
    r"|气死|气炸|火大|恼火|愤怒|忍无可忍|岂有此理|欺负人|太过分|过分了|什么破|破玩意|垃圾(?:东西|服务|产品|店|质量)?"
    r"|无良|什么态度|什么服务|什么玩意|退钱[!！]|曝光你们|告你们|起诉|举报你们|投诉(?:你们|你|这家|客服)|离谱|恶心|无语|一团糟"
)
_ZH_MILD = re.compile(
    r"(?:太|很|真|好|超|非常|特别|极其)差|差劲|(?:质量|服务|态度|体验|包装|物流)(?:太|很|真|也太|极其|非常)?差"
    r"|失望|不满意|不满|生气|烂透|太烂|很烂|真烂|(?:物流|发货|快递|回复|客服|处理|退款)(?:也|真的?)?(?:太|好|特别|超)慢"
)
# An A-not-A question asks about the goods ("质量差不差？", "会不会很差"): its mild words are no complaint.
_ZH_NEUTRAL_QUESTION = re.compile(r"差不差|好不好|会不会|是不是|行不行|怎么样")
_ZH_COMPLAINS = re.compile(r"(?:我|我们)?(?:要|想|得|必须|会)投诉|投诉[！!]|(?:给|要)?差评")
_ZH_HOW_TO = re.compile(
    r"(?:怎么|怎样|如何|在哪(?:里|儿)?|哪里|可以|能不能|能否)(?:才能|可以)?投诉|投诉(?:电话|渠道|方式|流程|入口)"
)
_ZH_NEGATED_WORD = re.compile(
    r"(?:不|没|并不|一点也不|一点都不|也不|并没有|没有)(?:太|很|算|是|那么|怎么)?(?:差|失望|生气|坑|烂)"
)


def _is_complaint(text: str) -> bool:
    """Dissatisfaction aimed at the shop (see the note above `Intent`), in English or Chinese."""
    en_words = _EN_NEGATED_WORD.sub(" ", text)
    if _EN_STRONG_RE.search(en_words):
        return True
    if _EN_MILD_AIMED.search(en_words) and not _EN_NEUTRAL_QUESTION.search(text):
        return True
    if _EN_COMPLAINS.search(text) and not _EN_HOW_TO.search(text):
        return True
    zh_words = _ZH_NEGATED_WORD.sub(" ", text)
    if _ZH_STRONG.search(zh_words):
        return not _ZH_HOW_TO.search(text) or bool(_ZH_STRONG.search(_ZH_HOW_TO.sub(" ", zh_words)))
    if _ZH_MILD.search(zh_words):
        return not _ZH_HOW_TO.search(text) and not _ZH_NEUTRAL_QUESTION.search(text)
    return bool(_ZH_COMPLAINS.search(text)) and not _ZH_HOW_TO.search(text)


_TOPICS: dict[Intent, re.Pattern[str]] = {
    Intent.REFUND: re.compile(
        r"\b(?:refund(?:s|ed|ing)?|money\s+back|reimburs\w*|repay\w*|get\s+(?:my|the)\s+(?:money|payment)\s+back"
        r"|return\s+(?:it|this|them|the\s+\w+|an?\s+\w+|my\s+\w+)(?:\s+\w+)?\s+for\s+(?:a\s+)?(?:refund|my\s+money)"
        r"|returns?\s+(?:policy|window|period)|send\s+(?:it|this|them)\s+back|credited\s+back)\b"
        r"|退款|退钱|退费|返还|退回(?:来|给我)?的?钱|钱(?:什么时候|何时|怎么还没)?(?:退|返)|退货|退换|能退吗|可以退吗",
        re.IGNORECASE,
    ),
    Intent.ORDER_STATUS: re.compile(
        r"\b(?:where(?:'s|\s+is|\s+are)\s+(?:my|our)\s+(?:\w+\s+)?(?:order|parcel|package|delivery|shipment|stuff|item)s?"
        r"|track(?:ing)?(?:\s+(?:number|info|information|link|code))?|(?:order|parcel|package|delivery|shipment)\s+status"
        r"|(?:has|have|hasn't|haven't|has\s+not|have\s+not|did|didn't|still\s+(?:not|hasn't|haven't))\s+"
        r"(?:(?:my|the|it|they|you)\s+)?(?:\w+\s+)?(?:arrived?|come|shipped|been\s+shipped|been\s+sent|been\s+delivered|received?)"
        r"|not\s+(?:yet\s+)?(?:arrived|received|delivered)|still\s+waiting\s+for\s+(?:my|the)"
        r"|when\s+will\s+(?:my|our)\s+(?:\w+\s+){1,3}?(?:arrive|come|ship|get\s+here|be\s+(?:delivered|shipped|sent|here))"
        r"|(?:status|progress)\s+of\s+(?:my|our)\s+(?:order|parcel|package))\b"
        r"|物流(?:到哪|信息|状态|进度|怎么|更新|一直|没)|到哪(?:了|里了|儿了)|订单(?:状态|进度|到哪|怎么|还没|什么时候)"
        r"|还没(?:有)?(?:到|收到|发货|发|寄|送到)|没收到|查(?:一下|下)?(?:物流|快递|订单)|快递(?:到哪|单号|信息)"
        r"|(?:我的|我)(?:订单|包裹|快递|货)(?:呢|在哪|什么时候|怎么|发货|到)|什么时候(?:能)?到(?:货)?[?？吗啊呀]*$|单号",
        re.IGNORECASE,
    ),
    Intent.SHIPPING: re.compile(
        r"\b(?:ship(?:s|ping|ped)?|deliver(?:y|ies|s|ed)?|postage|courier|express|freight|dispatch(?:ed)?"
        r"|send\s+(?:it|them|to)|arrive|transit)\b"
        r"|运费|邮费|快递|发货|包邮|配送|送货|寄到|邮寄|物流|顺丰|几天(?:能|可以)?到|多久(?:能|可以)?到|能送|送到",
        re.IGNORECASE,
    ),
}
_ORDER_REFERENCE = re.compile(r"\b(?:my|our)\s+(?:\w+\s+)?(?:order|parcel|package|purchase)s?\b|我的(?:订单|包裹|快递)",
                              re.IGNORECASE)


def intent_of(text: str, *, entities: list[dict] | None = None) -> Intent:
    """The message's intent by the rules: person, complaint, refund, order status, shipping, small talk, or a
    question. Shipping words about the customer's own order (theirs, or one they give the number of) ask
    where it is: "when will my order ship?", "#12345 发货了吗" are order status, "how long does shipping
    take?" is shipping."""
    from .smalltalk import is_small_talk

    text = normalise(text)
    if not text:
        return Intent.QUESTION
    if asks_for_person(text):
        return Intent.PERSON
    if _is_complaint(text):
        return Intent.COMPLAINT
    if _TOPICS[Intent.REFUND].search(text):
        return Intent.REFUND
    if _TOPICS[Intent.ORDER_STATUS].search(text):
        return Intent.ORDER_STATUS
    if _TOPICS[Intent.SHIPPING].search(text):
        own_order = _ORDER_REFERENCE.search(text) or any(e["kind"] == ORDER_NUMBER for e in entities or [])
        return Intent.ORDER_STATUS if own_order else Intent.SHIPPING
    if is_small_talk(text):
        return Intent.SMALL_TALK
    return Intent.QUESTION


def classify(
    text: str, *, product_names: Iterable[str] | None = None, order_pattern: str | None = None
) -> Classification:
    """The rule layer's intent and entities of one customer message. `product_names` defaults to the
    PRODUCT_NAMES setting (the services add the knowledge base's product tags), `order_pattern` to
    ORDER_NUMBER_PATTERN."""
    from django.conf import settings

    names = settings.PRODUCT_NAMES if product_names is None else product_names
    pattern = settings.ORDER_NUMBER_PATTERN if order_pattern is None else order_pattern
    found = extract(text, product_names=names, order_pattern=pattern)
    return Classification(intent=intent_of(text, entities=found), entities=found, source="rules")
