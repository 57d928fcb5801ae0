"""Small talk is recognised only when nothing but social formulas is said, in English and Chinese."""

from __future__ import annotations

import pytest

from conversations.intents.smalltalk import SmallTalk, is_small_talk, small_talk_kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", SmallTalk.GREETING),
        ("Hiii there 👋", SmallTalk.GREETING),
        ("Good evening!", SmallTalk.GREETING),
        ("hey, how are you doing today?", SmallTalk.GREETING),
        ("Is anyone there?", SmallTalk.GREETING),
        ("thanks a lot!!", SmallTalk.THANKS),
        ("Thank you so much, that was very helpful", SmallTalk.THANKS),
        ("much appreciated :)", SmallTalk.THANKS),
        ("ok thanks, bye", SmallTalk.ACKNOWLEDGEMENT),
        ("Have a great weekend", SmallTalk.GOODBYE),
        ("that's all for now, take care", SmallTalk.GOODBYE),
        ("got it", SmallTalk.ACKNOWLEDGEMENT),
        ("Okay, sounds good.", SmallTalk.ACKNOWLEDGEMENT),
        ("who are you?", SmallTalk.ABOUT_BOT),
        ("are you a robot or a human?", SmallTalk.ABOUT_BOT),
        ("你好", SmallTalk.GREETING),
        ("您好呀～", SmallTalk.GREETING),
        ("在吗？", SmallTalk.GREETING),
        ("有人在吗", SmallTalk.GREETING),
        ("谢谢啦！", SmallTalk.THANKS),
        ("非常感谢，辛苦了", SmallTalk.THANKS),
        ("好的，谢谢，再见", SmallTalk.ACKNOWLEDGEMENT),
        ("拜拜", SmallTalk.GOODBYE),
        ("没有别的问题了", SmallTalk.GOODBYE),
        ("嗯嗯，明白了", SmallTalk.ACKNOWLEDGEMENT),
        ("收到", SmallTalk.ACKNOWLEDGEMENT),
        ("你是机器人吗？", SmallTalk.ABOUT_BOT),
        ("你叫什么名字", SmallTalk.ABOUT_BOT),
        ("ｈｅｌｌｏ！", SmallTalk.GREETING),  # full-width, as Chinese input methods type it
    ],
)
def test_social_formulas_alone_are_small_talk(text: str, kind: SmallTalk) -> None:
    assert small_talk_kind(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "Hi, where is my parcel?",
        "hello I want to return a teapot",
        "thanks, and how much is shipping to Canada?",
        "ok but the lid arrived cracked",
        "Good morning, can I pay with PayPal",
        "bye, I'll order later from another shop",
        "what's the weather like in Hangzhou tomorrow",
        "write me a poem about the sea",
        "no, I want a refund",
        "你好，我想退货",
        "谢谢，那运费多少钱",
        "好的，发票怎么开",
        "在吗？我的订单还没到",
        "这个茶壶好不好用",
        "可以开专票吗",
        "明天上海天气怎么样",
        "早点发货可以吗",
        "",
        "   ",
        "hi " * 40,  # long messages are about something
    ],
)
def test_anything_more_than_a_formula_is_not_small_talk(text: str) -> None:
    assert not is_small_talk(text)
