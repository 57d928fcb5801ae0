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
