"""Asking for a person in words no phrase list has: the request's shape hands off, its look-alikes do not.

(That such a message hands off at once, without a model call: test_handoff.py.)"""

from __future__ import annotations

import pytest

from conversations.intents import asks_for_person
from conversations.services import messages

REQUESTS = [
    # English: a verb of reaching someone, a want or need, a call-back, a bare noun, a refusal of the bot
    "Please connect me to a live agent, this is urgent",
    "Could you transfer me to customer service?",
    "i wanna talk to a real human",  # "wanna" is not a verb the rule knows: counted through "talk to"
    "Let me speak with your supervisor.",
    "I would like to chat with a representative about my invoice",
    "Can somebody from the support team email me?",
    "Would someone please call me back",
    "Representative, please.",
    "I'm done talking to a robot",
    "This is not a bot I want to deal with, escalate this to a manager",
    "I need an actual person to look at my order",
    # Chinese: 转/接/找/叫/联系 + a person, 跟…说, a bare noun, a refusal of the bot
    "能帮我转接人工服务吗",
    "我想找你们的工作人员问一下",
    "请联系值班人员处理",
    "可以跟客服小姐姐说句话吗",
    "我要找主管投诉",
    "真人客服！",
    "受不了这个自动回复了",
    "不想和AI聊天，有人吗？找个人来帮我",
]

NOT_REQUESTS = [
    # the same nouns in other senses, questions about the bot, negated requests, ordinary questions
    "Is a person allowed to return two items at once?",
    "Which agent handles shipping to Canada?",
    "Are you a human or a bot?",
    "No need to get an agent, I figured it out",
    "Don't put me through to anyone, just tell me the price",
    "How many people have bought this?",
    "The staff at your store was lovely",
    "Is the sweetener natural or artificial? Is it human-grade?",
    "您是人工还是机器人？",
    "不需要转人工，告诉我运费就行",
    "人工智能音箱支持中文吗",
    "工作人员说三天到货，现在还没到",
    "客服的工作时间是几点到几点",
    "这款产品是人工合成的吗",
    "两个人可以共用一个账号吗",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_a_request_for_a_person_in_any_wording_is_recognised(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_look_alikes_of_a_request_are_not_taken_for_one(text: str) -> None:
    assert not asks_for_person(text)


def test_with_the_rules_off_only_the_phrase_list_hands_off(settings) -> None:
    settings.HANDOFF_REQUEST_RULES = False
    assert not messages.customer_wants_human("Could someone from your shop ring me?")
    assert messages.customer_wants_human("转人工")
    settings.HANDOFF_REQUEST_RULES = True
    assert messages.customer_wants_human("Could someone from your shop ring me?")
