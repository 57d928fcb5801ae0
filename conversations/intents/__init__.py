"""What a customer's message is about (issue 15's 意图识别): an intent by rules, on every message as it is stored.

The first of person (`person`), complaint (`complaint`), refund, order status, shipping, small talk
(`smalltalk`) that fits, else a plain question. `out_of_scope` is never a rule's answer: only retrieval can
tell that nothing the shop knows covers a message (the reply pipeline sets it); the value exists so a model
classifier and the pipeline speak the same words. Plain functions of text, deterministic and fast (regular
expressions), so they run before anything else; a model classifier may come after them
(conversations.pipeline.intent), never before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings

from ..entities import ORDER_NUMBER, extract, normalise
from .complaint import is_complaint
from .inquiry import asks_for_information
from .person import asks_for_person
from .smalltalk import SmallTalk, is_small_talk, small_talk_kind

__all__ = ["Classification", "Intent", "SmallTalk", "asks_for_information", "asks_for_person", "classify", "intent_of",
           "is_complaint", "is_small_talk", "small_talk_kind"]


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
    text = normalise(text)
    if not text:
        return Intent.QUESTION
    if asks_for_person(text):
        return Intent.PERSON
    if is_complaint(text):
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
    names = settings.PRODUCT_NAMES if product_names is None else product_names
    pattern = settings.ORDER_NUMBER_PATTERN if order_pattern is None else order_pattern
    found = extract(text, product_names=names, order_pattern=pattern)
    return Classification(intent=intent_of(text, entities=found), entities=found, source="rules")
