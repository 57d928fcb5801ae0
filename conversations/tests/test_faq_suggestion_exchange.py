"""conversations.faq_suggestions.exchange: which question and which answer of a conversation make an FAQ
suggestion (pure: turns in, an exchange or None out)."""

from __future__ import annotations

import pytest

from conversations.faq_suggestions.exchange import Exchange, Turn, exchange_find

C, B, A = "customer", "bot", "agent"


def turns(*items: tuple[str, str]) -> list[Turn]:
    return [Turn(pk=index, role=role, text=text) for index, (role, text) in enumerate(items, start=1)]


def find(*items: tuple[str, str], min_answer_chars: int = 20) -> Exchange | None:
    return exchange_find(turns(*items), min_answer_chars=min_answer_chars)


@pytest.mark.parametrize(("items", "question", "answer", "anchor"), [
    # The question the bot failed on, a request for a person, the agent's greeting, the answer, thanks.
    ([(C, "Can I return a gift without the receipt?"), (B, "I'm not sure, let me find a colleague."),
      (C, "I want to talk to a person"), ("system", "Li joined."), (A, "Hello!"),
      (A, "Yes: within 30 days, as store credit, with the order number."), (C, "thanks!"), (A, "You're welcome!")],
     "Can I return a gift without the receipt?", "Yes: within 30 days, as store credit, with the order number.", 6),
    ([(C, "礼品卡过期了还能用吗？"), (B, "抱歉，我帮您转人工。"), (C, "转人工"), (A, "您好！"),
      (A, "过期的礼品卡可以在30天内联系客服延期一次。"), ("note", "查过规则了"), (C, "好的谢谢")],
     "礼品卡过期了还能用吗？", "过期的礼品卡可以在30天内联系客服延期一次。", 5),
    # The customer's run of messages since the last reply, small talk left out, is the question.
    ([(C, "hi"), (C, "I bought a kettle last week."), (C, "Does it come with a warranty?"),
      (A, "Every kettle has a two-year warranty; keep the invoice.")],
     "I bought a kettle last week. Does it come with a warranty?",
     "Every kettle has a two-year warranty; keep the invoice.", 4),
    # The agent's answer in several messages, up to the customer's next question.
    ([(C, "你们支持开增值税专用发票吗？"), (A, "支持的，请在订单页面申请。"), (A, "需要填写公司税号和开户行信息。"),
      (C, "运费怎么算？"), (A, "满199元包邮，不满收12元运费。")],
     "你们支持开增值税专用发票吗？", "支持的，请在订单页面申请。\n\n需要填写公司税号和开户行信息。", 2),
])
def test_the_question_that_led_to_the_agents_answer_and_the_answer(items, question, answer, anchor) -> None:
    assert find(*items, min_answer_chars=10) == Exchange(question=question, answer=answer, answer_message_id=anchor)


@pytest.mark.parametrize("items", [
    [(C, "How long does delivery take?"), (B, "Three to five days.")],  # the bot answered, no agent
    [(C, "发货要多久？"), (A, "我看看"), (C, "好"), (B, "一般三天内发货。")],  # the bot spoke last
    [(C, "Is the blue one back in stock?"), (B, "Let me find a colleague."), (A, "Hi there!"), (A, "Done.")],
    [(C, "能开发票吗"), (A, "您好！"), (A, "可以的。")],  # under the minimum
    [(A, "Hello, do you still need help with your order?")],  # no question
    [(C, "hello"), (C, "我要人工客服"), (A, "您好，请问有什么可以帮您？我们很乐意为您服务。")],  # no question
])
def test_no_exchange_without_a_substantive_answer_by_an_agent_to_a_question(items) -> None:
    assert find(*items, min_answer_chars=10) is None


def test_the_minimum_counts_the_answers_characters() -> None:
    items = [(C, "Do you ship to Norway?"), (A, "Yes, we do, in 5 days.")]
    assert find(*items, min_answer_chars=22) is not None
    assert find(*items, min_answer_chars=23) is None


def test_a_holding_message_the_customer_acknowledged_is_read_on_to_the_answer() -> None:
    found = find((C, "Can I change the delivery address?"), (A, "Let me check."), (C, "ok"),
                 (A, "Yes, until the parcel ships, under My orders."), (C, "great, thanks"), (A, "Anything else?"))
    assert found is not None
    assert found.answer == "Let me check.\n\nYes, until the parcel ships, under My orders."


APOLOGY = "I'm so sorry about this. We will send a replacement today and refund the postage."

# Messages that ask nothing an FAQ entry could answer: complaints (some shaped as questions), thanks, statements.
NOT_QUESTIONS = [
    "This is unacceptable, my order is two weeks late!",
    "Your service is terrible.",
    "Why is your customer service so useless?",
    "You ripped me off.",
    "Thank you so much for sorting this out!",
    "The parcel arrived today with a cracked lid.",
    "I already paid by card this morning.",
    "OK I'll wait for the courier then.",
    "你们是骗子！",
    "服务态度太差了，我要投诉",
    "你们怎么这么差劲？",
    "非常感谢你的耐心帮助",
    "我已经付款了",
    "包裹今天收到了，盒子有点压扁",
    "好吧，那我再等两天",
]
# Questions and requests for information, in both languages, with and without a question mark.
QUESTIONS = [
    "Do you ship to Norway?",
    "How long is the warranty on kettles",
    "Can I pay with PayPal",
    "What are your opening hours on Sundays",
    "Please tell me how to change my delivery address",
    "I'd like to know if you offer gift wrapping.",
    "Is there a student discount",
    "你们支持开增值税专用发票吗",
    "退货要多久到账？",
    "可以用支付宝付款吗",
    "保修期是多长时间",
    "请问周末发货吗",
    "我想了解一下会员积分怎么用",
    "哪里可以下载电子发票",
]


@pytest.mark.parametrize("text", NOT_QUESTIONS)
def test_an_answer_to_a_complaint_thanks_or_a_statement_is_no_suggestion(text: str) -> None:
    assert find((C, text), (B, "Let me find a colleague."), (A, APOLOGY)) is None


@pytest.mark.parametrize("text", QUESTIONS)
def test_an_answer_to_a_question_or_a_request_for_information_is_one(text: str) -> None:
    found = find((C, text), (B, "Let me find a colleague."), (A, APOLOGY))
    assert found is not None and found.question == text


def test_a_complaint_beside_a_question_makes_no_suggestion() -> None:
    assert find((C, "This is a disgrace."), (C, "Can I get a refund?"), (A, APOLOGY)) is None
    assert find((C, "什么破东西"), (C, "能退货吗"), (A, APOLOGY)) is None


@pytest.mark.parametrize(("text", "intent", "flagged"), [
    ("Why does delivery take three weeks?", "complaint", ""),  # the intent model heard a complaint
    ("运费为什么这么贵？", "complaint", ""),
    ("Are you going to answer me or not?", "person", ""),
    ("What is wrong with you people?", "", "abuse"),  # flagged by moderation
    ("你们有病吧？", "", "abuse"),
])
def test_a_stored_complaint_request_for_a_person_or_flag_counts_beside_the_rules(text, intent, flagged) -> None:
    stored = Turn(pk=1, role=C, text=text, intent=intent, flagged=flagged)
    assert exchange_find([stored, Turn(pk=2, role=A, text=APOLOGY)], min_answer_chars=10) is None
    # The rules alone would have taken it for a question.
    assert exchange_find([Turn(pk=1, role=C, text=text), Turn(pk=2, role=A, text=APOLOGY)],
                         min_answer_chars=10) is not None
