"""Whether a customer's message asks for information, in English or Chinese: a question, or a request to be told
something ("please tell me…", "I'd like to know…", "请问…", "想了解一下…").

What it is for: only such a message can be an FAQ entry's question (conversations.faq_suggestions). An agent's
answer to a statement ("the parcel arrived today", "我已经付款了"), to thanks or to a complaint is no FAQ entry,
however long. The rule reads the shape, not the subject: a question mark; an interrogative word at the start
("how…", "can you…", "is there…") or a question word anywhere in Chinese (什么, 怎么, 多久, 吗 at the end…); a
phrase that asks to be told. It says nothing about complaints or requests for a person, which their own rules
(`complaint`, `person`) decide first: "why is your service so terrible?" asks, and is still a complaint.

Plain functions of text, deterministic and fast (a few regular expressions).
"""

from __future__ import annotations

import re
import unicodedata

# Openers that carry no request of their own before the question: "hi, how long…", "sorry, but is there…".
_EN_OPENER = (
    r"(?:(?:hi|hello|hey|hiya|excuse\s+me|sorry|please|pls|ok(?:ay)?|so|and|but|also|btw|by\s+the\s+way|one\s+more"
    r"\s+thing|quick\s+question|just\s+(?:wondering|checking)|good\s+(?:morning|afternoon|evening)|thanks?"
    r"(?:\s+you)?)[\s,.!:;-]+)*"
)
_EN_INTERROGATIVE = (
    r"what(?:'s|\s+is|\s+are)?|whats|how(?:'s)?|when(?:'s)?|where(?:'s)?|why|which|who(?:'s|m|se)?|is|isn't|are"
    r"|aren't|was|were|am|do|don't|does|doesn't|did|didn't|can|can't|could|will|won't|would|should|shall|may"
    r"|might|have|has|any|is\s+there|are\s+there"
)
_EN_QUESTION_START = re.compile(rf"^\s*{_EN_OPENER}(?:{_EN_INTERROGATIVE})\b", re.IGNORECASE)
_EN_ASKS = re.compile(
    r"\b(?:tell\s+me|let\s+me\s+know|explain|(?:i'd|i\s+would|i\s+want|i\s+need|i'm\s+trying)\s+(?:like\s+)?to"
    r"\s+(?:know|find\s+out|understand|check)|i\s+(?:wonder|was\s+wondering|am\s+wondering)|i'm\s+wondering"
    r"|wondering\s+(?:if|whether|how|what|when|where|why)|do\s+you\s+know|please\s+(?:advise|confirm|clarify)"
    r"|(?:need|want|looking\s+for|request(?:ing)?)\s+(?:some\s+|more\s+)?(?:info|information|details)\b"
    r"|any\s+(?:info|information|idea)|how\s+to|is\s+it\s+possible)\b",
    re.IGNORECASE,
)
_ZH_ASKS = re.compile(
    r"什么|啥|怎么|怎样|如何|为什么|为啥|为何|哪|几(?:天|个|时|点|号|月|年|次|件|钟|周|岁|种|块|元)|多少|多久|多长|多大|多远|多重"
    r"|多高|是否|是不是|能不能|能否|可不可以|可否|会不会|有没有|要不要|行不行|支不支持|请问|想知道|想问|想了解|咨询"
    r"|告诉我|请告知|介绍一下|说明一下|(?:吗|么|呢)[\s。.!！~～…]*$"
)


def asks_for_information(text: str) -> bool:
    """Whether the message asks a question or asks to be told something (see the module's rule)."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    if not text:
        return False
    if "?" in text:  # NFKC makes the full-width ？ an ASCII one
        return True
    return bool(_EN_QUESTION_START.search(text) or _EN_ASKS.search(text) or _ZH_ASKS.search(text))
