"""Whether a customer's message is a complaint, in English or Chinese.

A complaint is dissatisfaction aimed at the shop, its service or its goods. Strong words (scam, fraud,
unacceptable, furious, 骗子, 坑人, 差评, 12315, a threat to report or sue) count wherever they are; mild
ones (terrible, awful, useless, 太差, 失望) only aimed at a target (you, your…, the product, the service,
the delivery, this, it), so "the weather is terrible, will my parcel be late?" is not one. A negation just
before the word undoes it ("not bad at all", "wasn't disappointed", "一点也不差", "没有失望"). Decided: a
how-to question about complaining ("how do I file a complaint about customs?", "怎么投诉快递公司") is a
question, answered from the knowledge base's own procedure; saying one complains ("I want to make a
complaint", "我要投诉") is a complaint, whoever it is about: complaints go to a person.
"""

from __future__ import annotations

import re

_EN_NOT = r"(?:not|n't|never|no|hardly|nothing|without)"
_EN_STRONG = (
    r"unacceptable|outrageous|disgrace(?:ful)?|disgusting|shambles|incompetent|furious|livid|scam(?:mers?|med)?"
    r"|fraud(?:ulent)?(?!\s+(?:protection|prevention|detection|check|alert)s?\b)|rip[\s-]?off"
    r"|ripped\s+(?:me\s+)?off|cheat(?:ed|ing)?|con\s+artists?|pathetic|shameful|appalling|daylight\s+robbery"
    r"|(?:report|sue|expose)\s+(?:you|your\s+\w+|this\s+(?:shop|store|company))|lawyer|consumer\s+(?:protection|council)"
    r"|chargeback|never\s+(?:buy|buying|order|ordering|shop|shopping)\s+(?:\w+\s+)?(?:from|with|here|again)"
    # a bad review threatened, as 差评 is: "or I'll post 1-star reviews everywhere", "I'm leaving a negative review"
    r"|(?:i'?ll|i\s+will|i'?m|i\s+am|gonna|going\s+to)\s+(?:\w+\s+){0,2}?(?:leave|leaving|post|posting|write|writing"
    r"|give|giving|put|putting)\s+(?:\w+\s+){0,3}?(?:bad|negative|terrible|awful|scathing|1[\s-]?star|one[\s-]?star)"
    r"\s+reviews?"
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

# A mild feeling that is someone else's ("my boss is already annoyed about the budget", "he was disappointed",
# "老板有点不满"): part of a story, not the customer's complaint against the shop. Strong words stay complaints
# whoever says them.
_EN_THIRD_PARTY_FEELS = re.compile(
    r"\b(?:(?:my|our|his|her|their)\s+(?:[\w'-]+\s+)?"
    r"(?:boss|manager|mum|mom|mother|dad|father|parents|wife|husband|partner|friend|sister|brother|son|daughter|kids?"
    r"|family|colleagues?|co-?workers?|team|clients?|customers?|neighbou?rs?|grandma|grandpa|aunt|uncle|cousin"
    r"|girlfriend|boyfriend|flatmate|roommate|[\w-]+-in-law)\s+"
    r"|\b(?:he|she|they|everyone|everybody|someone|somebody)\s+)"
    r"(?:is|was|are|were|'s|'re|gets?|got|seems?|seemed|felt|feels?)\s+"
    r"(?:(?:already|so|really|very|quite|pretty|a\s+bit|a\s+little|kind\s+of|getting|still)\s+)*"
    rf"(?:{_EN_MILD})\b"
    # unless the feeling is aimed at the shop ("my mum was disappointed with the tea you sent")
    r"(?![^.!?]{0,40}\b(?:you|your|yours|you're)\b)",
    re.IGNORECASE,
)
_ZH_THIRD_PARTY = (
    r"(?:他|她|他们|她们|老板|领导|上司|老公|老婆|爸|妈|爸爸|妈妈|老爷子|朋友|同事|家人|客户|财务|室友|孩子)"
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
_ZH_THIRD_PARTY_FEELS = re.compile(
    rf"{_ZH_THIRD_PARTY}(?:已经|都|也|还|有点|有些|很|挺|特别|非常|一直)*(?:不满意|不满|失望|生气)"
    r"(?![^。！？!?]{0,15}(?:你们|你家|贵店|客服))"
)
# What is bad is the customer's own circumstance, not the shop ("地铁上信号特别差", "我家网太差了", "最近心情很差"):
# told as the story of how something happened, no complaint.
_ZH_OWN_CIRCUMSTANCE_BAD = re.compile(
    r"(?:信号|网络|网速|网|wifi|WiFi|天气|路况|心情|记性|身体|睡眠|视力)(?:也|真的?|一直|有点|有些)*"
    r"(?:太|很|真|好|超|非常|特别|极其)?差"
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


def is_complaint(text: str) -> bool:
    """Dissatisfaction aimed at the shop (see the note above `Intent`), in English or Chinese."""
    en_words = _EN_NEGATED_WORD.sub(" ", text)
    if _EN_STRONG_RE.search(en_words):
        return True
    en_words = _EN_THIRD_PARTY_FEELS.sub(" ", en_words)
    if _EN_MILD_AIMED.search(en_words) and not _EN_NEUTRAL_QUESTION.search(text):
        return True
    if _EN_COMPLAINS.search(text) and not _EN_HOW_TO.search(text):
        return True
    zh_words = _ZH_NEGATED_WORD.sub(" ", text)
    if _ZH_STRONG.search(zh_words):
        return not _ZH_HOW_TO.search(text) or bool(_ZH_STRONG.search(_ZH_HOW_TO.sub(" ", zh_words)))
    zh_words = _ZH_OWN_CIRCUMSTANCE_BAD.sub(" ", _ZH_THIRD_PARTY_FEELS.sub(" ", zh_words))
    if _ZH_MILD.search(zh_words):
        return not _ZH_HOW_TO.search(text) and not _ZH_NEUTRAL_QUESTION.search(text)
    return bool(_ZH_COMPLAINS.search(text)) and not _ZH_HOW_TO.search(text)
