"""Whether a customer's message is only small talk: a greeting, thanks, a goodbye, an acknowledgement, or a
question about the bot itself, in English or Chinese.

Why it matters: a message with no relevant source in the knowledge base is either small talk, which the bot may
answer politely, or a question the shop cannot answer, which it must decline rather than answer from the
model's general knowledge (issue 15). So the rule is strict in one direction: a message is small talk only
when nothing is left of it once the social formulas are taken out. "Hi!" and "谢谢，再见" are small talk;
"Hi, where is my parcel?" and "谢谢，那运费多少" are not, whatever their greeting.

Social formulas are a small closed class in any language, so a list of them (with their variants: repeated
letters, particles, emoji, punctuation) is the rule itself here, unlike requests, whose wording is open.
Deterministic and fast: a handful of regular expressions per message.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class SmallTalk(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    ACKNOWLEDGEMENT = "acknowledgement"
    ABOUT_BOT = "about_bot"


# Each kind's formulas; a message made only of these (and fillers) is small talk of the first kind found.
_EN = {
    SmallTalk.GREETING: (
        r"h+i+(?:ya)?|he+y+(?:\s+there)?|hello+(?:\s+there)?|hiya|howdy|yo|greetings|good\s+(?:morning|afternoon|evening|day)"
        r"|morning|evening|how\s+are\s+(?:you|u)(?:\s+(?:doing|today))*|how'?s\s+it\s+going|what'?s\s+up|sup"
        r"|nice\s+to\s+meet\s+you|anyone\s+(?:there|here)|is\s+(?:anyone|anybody|someone)\s+(?:there|here)"
        r"|are\s+you\s+there"
    ),
    SmallTalk.THANKS: (
        r"thanks?(?:\s+(?:you|u))?(?:\s+(?:so|very)\s+much|\s+a\s+lot|\s+a\s+million|\s+again)*|thx|ty|tysm|cheers"
        r"|many\s+thanks|much\s+appreciated|(?:i\s+)?appreciate\s+(?:it|that|your\s+help)|(?:that\s+was\s+)?(?:very\s+)?helpful"
        r"|you'?(?:re|\s+are)\s+(?:a\s+)?(?:star|great|awesome|the\s+best)"
    ),
    SmallTalk.GOODBYE: (
        r"bye+(?:\s+bye)?|good\s*bye|see\s+(?:you|ya)(?:\s+(?:later|soon))?|later|take\s+care|have\s+a\s+(?:nice|good|great)\s+"
        r"(?:day|evening|weekend|one)|good\s+night|that'?s\s+(?:all|it)(?:\s+for\s+(?:now|today))?|nothing\s+else"
    ),
    SmallTalk.ACKNOWLEDGEMENT: (
        r"o+k+(?:ay)?|k+|alright|all\s+right|got\s+it|i\s+see|understood|sure|great|perfect|cool|nice|awesome|fine"
        r"|sounds\s+good|makes\s+sense|no\s+problem|np|yes|yeah|yep|no|nope|lol|haha+|wow"
    ),
    SmallTalk.ABOUT_BOT: (
        r"who\s+are\s+you|what\s+are\s+you|what'?s\s+your\s+name|are\s+you\s+(?:a\s+)?(?:bot|robot|human|real|ai|machine)"
        r"(?:\s+or\s+(?:a\s+)?(?:bot|robot|human|real|ai|machine|person))?"
    ),
}
_ZH = {
    SmallTalk.GREETING: (
        r"你好|您好|嗨|哈喽|哈啰|早上好|上午好|下午好|晚上好|早安|早|在吗|在不在|有人吗|有人在吗|你好吗|最近好吗"
    ),
    SmallTalk.THANKS: (
        r"谢谢(?:你|您|啦|了)?|多谢|感谢(?:你|您)?|非常感谢|太感谢了|辛苦(?:了|啦)|麻烦(?:你|您)了|谢啦"
        r"|(?<![a-z0-9])3q(?![a-z])"
    ),
    SmallTalk.GOODBYE: r"再见|拜拜|拜|回见|下次见|晚安|先这样|没(?:有)?(?:别的|其他)(?:问题|事)?了?|就这些",
    SmallTalk.ACKNOWLEDGEMENT: (
        r"好的?|好滴|好嘞|嗯+|哦+|噢|行|可以|收到|明白(?:了)?|知道(?:了)?|懂了|了解(?:了)?|没问题|是的|对|不用了"
        r"|哈哈+"
    ),
    SmallTalk.ABOUT_BOT: r"你是谁|你叫什么(?:名字)?|你是(?:不是)?(?:机器人|真人|人工智能|AI|ai)(?:吗|呢)?",
}
# Words that carry no request of their own around a formula: "oh, ok then", "嗯嗯好的呀".
_EN_FILLER = (
    r"oh|ah|well|so|then|again|too|very|much|really|please|pls|dear|guys|all|everyone|bot|there|today|now|and|just"
)
_ZH_FILLER = r"啊|呀|哇|啦|吧|呢|哦|喔|嘛|哈|了|的|呐|亲|你|您|客服|小姐姐|机器人"

_ALL_EN = {kind: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE) for kind, pattern in _EN.items()}
_ALL_ZH = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _ZH.items()}
_EN_FILLERS = re.compile(rf"\b(?:{_EN_FILLER})\b", re.IGNORECASE)
_ZH_FILLERS = re.compile(_ZH_FILLER)
# Anything but letters, digits and CJK ideographs: punctuation, emoji, symbols, spaces.
_NOT_WORD = re.compile(r"[^\w\u4e00-\u9fff]+|_")
LONGEST = 80  # characters: small talk is short; a long message is about something


def small_talk_kind(text: str) -> SmallTalk | None:
    """The kind of small talk the message is, or None when it says anything more (a question, a request)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text or len(text) > LONGEST:
        return None
    found: list[tuple[int, SmallTalk]] = []
    rest = text
    for patterns in (_ALL_ZH, _ALL_EN):
        for kind, pattern in patterns.items():
            match = pattern.search(text)
            if match:
                found.append((match.start(), kind))
                rest = pattern.sub(" ", rest)
    if not found:
        return None
    rest = _ZH_FILLERS.sub(" ", _EN_FILLERS.sub(" ", rest))
    if _NOT_WORD.sub("", rest):
        return None
    return min(found)[1]


def is_small_talk(text: str) -> bool:
    return small_talk_kind(text) is not None
