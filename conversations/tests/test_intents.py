"""Asking for a person in words no phrase list has: the request's shape hands off, its look-alikes do not.

(That such a message hands off at once, without a model call: test_handoff.py.)"""

from __future__ import annotations

import pytest

from conversations.intents import Intent, asks_for_person, classify
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
    "Could someone from your shop give me a ring, please?",  # an idiom of calling
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
    # the shapes added when the demo set's tuning part showed them missing, each in new words
    "hook me up w/ someone from billing pls",  # reaching, "w/" for with
    "I'd prefer to go over it with a qualified member of your team",  # a preference for a person
    # going through, taking up or running a matter past a person (dev probes, round 3)
    "I'd sooner go through my order with someone on your team",
    "can I take this up with your manager?",
    "would it be possible to run this past a member of staff",
    "Could a manager please get back to us about the broken tin?",  # a person contacting the customer back
    "Can you forward this to whoever is responsible for refunds?",  # passing the question on
    "I'd like a reply from an actual employee, not an automatic response",
    "Is there a live agent available right now?",  # asking whether one is there
    "any humans around??",
    "agent. agent. AGENT",  # the bare noun over and over
    "Honestly I'd rather wait for a person than keep typing to a virtual assistant",
    "麻烦让负责人给我回个电话",  # the person as the subject of a call back
    "我想跟你们店长当面沟通一下",  # 跟 + person + talk, with words between
    "有真人客服吗？",  # whether one is there
    "客服客服！！",
    "叫你们售后专员出来处理",
    "Can I 和你们的工作人员谈谈吗",  # mixed languages
    "could we please get an actual person on the line",
    "Can I have a real human please, this is going nowhere",
    "I'd like to escalate this.",
    "is there somebody I can call about a missing box",
    "Let me speak to the owner",
    "I demand to talk with management",
    "can you get someone to email me the details",
    "我要找你们领导反映情况",
    "需要人工介入一下",
    "我想和真人说话",
    "能不能请客服核实一下我的订单",
    "客服在吗？？",
    # whether anyone is there at all
    "我到底是在跟机器人说话还是真的有人在？",
    "有人在吗？",
    "到底有没有人在啊",
    # the one whose job the matter is
    "I've been going round in circles with this chat. Please just pass me on to whoever handles complaints.",
    "Can you put me through to the person who deals with refunds?",
    "I want to speak to someone who handles wholesale orders",
    "我要找管退款的人",
    "帮我转给处理投诉的客服",
    "能不能让负责售后的同事看一下",
    # a person of the shop named as one "of yours": "a colleague of yours", "one of yours"
    "Could a colleague of yours phone me back about this?",
    "can someone of yours give me a ring tomorrow",
    "I'd rather talk to a colleague of yours about the refund",
    # a word of weight inside the wish: "I'd just like", "I would really rather"
    "Honestly at this point I'd just like someone who can make a decision to get in touch with me.",
    "I would really like someone from your team to call me",
    "I'd much rather speak to a human",
    # a person named by their department: "somebody from support", "someone in customer service"
    "Can somebody from support ring me this afternoon?",
    "could someone in customer service call me back",
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
    "Does somebody from support read these chats?",  # a question about them, no contact asked
    "工作人员说三天到货，现在还没到",
    "客服的工作时间是几点到几点",
    "这款产品是人工合成的吗",
    "两个人可以共用一个账号吗",
    "The manager said I could return it within a month, is that right?",
    "Is your customer service open on Sundays?",
    "Does anyone at all drink pu'er cold?",
    "Can anyone tell me the shipping cost to Japan?",
    "经理说可以退，是真的吗",
    "找不到客服的联系方式，请问在哪里看",
    "这个茶让人很放松吗",
    "有没有适合送人的礼盒",
    "人工种植的茶和野生茶有什么区别",
    "How do I escalate by email if the courier loses a parcel?",  # asks how, not to be escalated
    "Is the owner of the account the one who gets the invoice?",
    "领导送礼选哪款茶比较合适",
    "客服时间是几点",
    "Can you give me a call option at checkout for delivery?",  # the idiom needs someone to give the call
    "你是真人吗",  # what the bot is, not a person asked for
    "有人在家签收吗",
    "这个茶是机器做的还是人工做的",
    # the one whose job a matter is, asked about or told of, not asked for
    "Who handles complaints at your shop?",
    "The person who handles my account said I could return it",
    "请问谁负责处理投诉？",
    "负责发货的人说可以退",
    "申请发票的时候同事手快，把公司名称少打了两个字，还能改吗？",  # applying for an invoice, not asking anyone
    "上次邀请同事一起喝茶，买的茶具能开发票吗",
    # "of yours" about something else, or a person not asked for
    "A colleague of yours said the refund takes 3-5 days, is that right?",
    "Is this teapot of yours dishwasher safe?",
    "I'd really like a refund for the broken cup",
    "I would just like to know the price",
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


# --- intents by the rules (classify) ------------------------------------------------------------------------

INTENTS = {
    Intent.PERSON: [
        "Honestly just get me a staff member on the line",
        "麻烦帮忙叫个真人客服过来",
    ],
    Intent.COMPLAINT: [
        # strong words anywhere, mild ones aimed at the shop, threats, saying one complains
        "Three parcels lost in a month. Pathetic.",
        "You people ripped me off and I want answers",
        "The teapot you sent is absolutely useless",
        "Your customer service has been dreadful from start to finish",
        "I'm going to contact my lawyer about this order",
        "I'd like to lodge a formal complaint about the courier",
        "Never ordering from this store again.",
        "Refund it today or I'll post 1-star reviews everywhere",  # a bad review threatened, as 差评 is
        "I'm going to leave you a negative review for this",
        "Why is the packaging so shoddy?",
        "I'm not at all happy with how this was handled",
        "你们就是黑店，收了钱不发货",
        "客服态度也太差了吧，问三遍都不回",
        "东西收到就是坏的，真的太失望了",
        "再不处理我就去消协",
        "这破玩意儿用一天就坏了",
        "我必须投诉你们的快递员",
        "对这次服务很不满意",
        "回复也太慢了，等了两天",
        "That was the worst support chat of my life",
        # someone else's feeling, aimed at the shop
        "My mum was disappointed with the tea you sent",
        "My delivery experience was awful from start to finish",  # the customer's own, not a person's
        "我妈很失望，你们怎么发这种货",
    ],
    Intent.REFUND: [
        "Can I get my money back if the size is wrong?",
        "Has my refund been processed yet?",
        "What's your returns policy for opened items?",
        "钱什么时候退回来？",
        "这个杯子不喜欢可以退货吗",
        "退款多久能到账",
    ],
    Intent.ORDER_STATUS: [
        "Where's my package? It said two days",
        "I still haven't received the kettle I ordered",
        "Could you give me the tracking number please",
        "When will my tea set arrive?",
        "order #778812 - any update on shipping?",
        "包裹到哪了？",
        "我的快递怎么一直不动",
        "买了一周了还没收到货",
        "帮我查下物流",
        "订单E20240601998发货了吗",
    ],
    Intent.SHIPPING: [
        "Do you ship to Hong Kong?",
        "How much is express delivery?",
        "Which courier do you use for overseas orders?",
        "满多少包邮？",
        "下单后一般多久发货",
        "寄到新疆要几天能到",
    ],
    Intent.SMALL_TALK: ["Good evening!", "ok thanks a lot", "早上好呀", "好的，谢谢啦"],
    Intent.QUESTION: [
        "What is the warranty on electric kettles?",
        "Is the glaze lead-free?",
        "Can I pay by bank transfer?",
        "Is the tea bitter or not bad for beginners?",
        "这款茶叶适合送人吗",
        "有电子发票吗",
        "怎么清洗紫砂壶",
    ],
}
CASES = [(intent, text) for intent, texts in INTENTS.items() for text in texts]


@pytest.mark.parametrize(("intent", "text"), CASES, ids=[text[:30] for _, text in CASES])
def test_the_rules_give_each_message_its_intent(intent: Intent, text: str) -> None:
    assert classify(text, product_names=[]).intent == intent


NOT_COMPLAINTS = [
    # negated, aimed at no one, asked about, or a how-to question about complaining
    "The gaiwan is not bad at all for the price",
    "I wasn't disappointed, it's lovely",
    "It rained all day, awful weather, anyway: do you sell oolong?",
    "Is it a poor idea to brew green tea with boiling water?",
    "How can I make a complaint to the post office about a lost letter?",
    "这个价格一点都不差",
    "我没有生气，就是想问问保修",
    "如何投诉快递员？",
    "Is this site a scam-free marketplace?",
    "What's the worst that could happen if the kettle boils dry?",
    "Do you get many bad reviews about the gaiwan lids?",  # reviews asked about, none threatened
    "My sister said she'd leave a good review, how do I share the link?",
    "I'm mad at myself for losing the receipt, can you resend it?",
    "Do you offer fraud protection on card payments?",
    "这套茶具的釉面会不会很差？",
    "包装好不好，送人行不行",
    # someone else's feeling in a story, aimed at no one of the shop
    "My boss is already annoyed about the coffee machine budget. Can I still get an invoice?",
    "He was really disappointed when the match was cancelled, so I bought him a teapot",
    "老板已经很不满了，发票还能补开吗",
    "我老婆很生气我又买茶了，能退吗",
    # the customer's own circumstance is bad, told as how something happened
    "在地铁上下单，信号特别差，页面一直转圈，钱扣了两次，多扣的能退吗？",
    "我家网太差了，付款页面打不开，还能用别的方式付吗",
    "最近心情很差，想买点茶安慰自己，有什么满减吗",
]


@pytest.mark.parametrize("text", NOT_COMPLAINTS)
def test_neutral_messages_with_a_complaint_word_are_not_complaints(text: str) -> None:
    assert classify(text, product_names=[]).intent != Intent.COMPLAINT


def test_a_request_for_a_person_wins_over_a_complaint() -> None:
    assert classify("This is a scam, let me talk to a manager now").intent == Intent.PERSON


def test_a_complaint_wins_over_its_topic() -> None:
    assert classify("Where is my refund? This is outrageous").intent == Intent.COMPLAINT
    assert classify("退款拖了一个月，骗子吧").intent == Intent.COMPLAINT


def test_the_rules_never_say_out_of_scope() -> None:
    """Only retrieval can tell that the shop knows nothing of it (the reply pipeline's decline)."""
    assert classify("Who won the football last night?").intent == Intent.QUESTION
    assert Intent.OUT_OF_SCOPE.value == "out_of_scope"


def test_a_classification_comes_from_the_rules_with_its_entities() -> None:
    result = classify("Order 55667788 was charged ¥99 twice", product_names=[])
    assert result.source == "rules"
    assert [(e["kind"], e["value"]) for e in result.entities] == [("order_number", "55667788"), ("amount", "99 CNY")]


def test_full_width_text_is_classified_like_half_width() -> None:
    assert classify("ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？").intent == Intent.ORDER_STATUS
    assert classify("订单号：１２３４５６７８").entities[0]["value"] == "12345678"


@pytest.mark.parametrize("text", [
    "can i speek to a reel person pls",  # two slips of the keyboard
    "i want to tlak to a humna",
    "is there anyone real there or am I just typing at a machine",
    "Is there somebody human I can chat with?",
    "我要投诉，找你们能做主的人出来",
    "让你们管事的出来说话",
    "叫个说了算的人来处理",
    "is anybody even there??",  # doubting anyone is there is asking for someone
    "Is someone actually reading my messages or is this all automatic",
    "有没有真人在呀",
    "问了半天还是没解决，我想跟你们的客服说清楚",  # aimed at the shop's person, not reporting what one said
    "能不能让贵公司的负责人讲一下",
    "Same canned reply again. Is there someone on your team who can actually look at my order?",
    "is there anybody who could please check my refund",
    "I'd rather explain the whole situation to someone from your team, it's complicated",  # telling it to a person
    "honestly can I just explain it to a real person",
    "Been at this for ages. Is there someone who can pick this up?",  # taking the matter on
    "is there anybody there who could take this over please",
    "有没有活人啊？？",  # a final particle after asking whether one is there
    "有没有客服呀",
    "Third time explaining this to software. Put a flesh-and-blood human on this, now.",  # put someone on it
    "please put a living, breathing agent on my case",
    "Would it be possible for someone from your team to give us a call tomorrow?",  # asking for a call
    "is it ok to ask one of your reps to ring me back",
    "can you get someone from your team to email us about it",  # got to contact us, one rule with "ask … to"
    "is there somebody in your office we could phone about the order?",  # a person of the shop, a call
    "Is there anyone at the shop I could just ring?",
    "is there anybody actually working today that I could talk to?",  # someone at work, then to talk to
    "Is there somebody on duty right now that I could speak to?",
    "I would like a member of your sales staff to call me back.",  # a member of a team
    "could members of the support team look at this please",
    "麻烦换个活的来处理一下",  # a living one, counted
    "麻烦找个活的跟我说",
    "it would be easier talking this through with one of your team",  # what doing it would be like; one of a team
    "I'd be happier handling my claim with a real agent",
    "Is anybody really human over there?",  # doubting anyone human is there at all
    "Just give me the number, I'd rather phone you and explain.",  # wanting to ring the shop
    "can I call you instead? I prefer to call",
    "把你们的联系电话发我，我要打电话跟你们讲清楚",
    "能不能打个电话沟通一下，打字说不清",
    "把你们主管叫来，这事我要当面说清楚",  # the person first, then fetched
    "去把你们经理喊来",
    # the contracted "whoever's", "the one who's": the person in charge all the same
    "I'd like whoever's responsible for returns to sort this, please",
    "can you pass this to whoever's in charge there",
    "I want the one who's in charge of refunds to answer me",
    # someone to explain or describe the matter to, as to talk to
    "is there anybody at your shop I could explain my problem to?",
    "Is there somebody I can describe the whole mess to",
    # the shop asked to ring the customer ("you" as the one to call; the clause opens with the request)
    "Could you guys just phone me? My English typing is slow",
    "can you call me instead, it's easier",
    "能不能直接给我打个电话，手机号就是下单留的",
    "方便的话麻烦打电话给我，文字讲不明白",
    "你们可以电话联系我吗",
    "能给我回个电话吗，打字太慢了",
    "麻烦直接打我电话，就是下单那个号",
    # a person to take the matter on ("let … deal with it"), any person noun before "I could explain it to"
    "this is beyond me, could someone on your staff handle it?",
    "Can a real person take over this please",
    "Is there a member of your sales team I could describe this to?",
    # whether anyone can do it for the customer; the one whose job it is, as a member of staff
    "手机操作我不会，有没有人可以帮我弄",
    "帮我联系一下专门负责大客户订单的员工",
    # the conversation taken on without an object ("take over", "step in"); two people offered as alternatives;
    # one of the shop's own by where they work
    "nobody is helping here. could one of your staff take over?",
    "Would a supervisor please step in now.",
    "Could somebody from the support team jump in here?",
    "get your boss or a colleague on this, I'm done repeating myself",
    "Can your manager, or else somebody on your team, call me?",
    "I'd like to talk to a person that works for you, not this thing",
    "let someone who really works at the shop look at my order",
    "我有问题说不清楚，想打个电话过去跟人说",
    "号码给我一个吧，我直接打过去同人讲",
    # the person said again as what they are, and the matter picked up
    "this is going nowhere. can someone from your team, an actual person, pick this up please",
    "Could a colleague of yours, a real human, look at this?",
    "could somebody on your staff take my case on?",
    "I've had enough of canned replies. Can someone who can actually make a decision on my case look at it?",
    "Could you pass me over to whoever is on duty in your customer team today?",
    "打字说不清楚，你们那边能不能安排个人直接给我回个电话",
    "你是机器人吧…我这情况比较复杂，有没有能拍板的工作人员可以聊聊",
    "这事我还是想直接跟你们那边的工作人员说清楚，能帮我安排一下吗？",
])
def test_a_request_for_a_person_in_mistyped_or_indirect_words(text) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", [
    "can I read the return policy somewhere",  # "read" is a word, not a slip of "real"
    "are you a real person?",  # a question about the bot, no request
    "who is responsible for the delay, the courier?",
    "我自己能做主退货吗",
    "the walk to the post office is long",
    "is anyone reading the reviews before they go up?",
    "Does anyone there speak English?",
    "你们客服说三天到，怎么还没到",  # reports what the shop's person said
    "贵店的经理说可以换货，对吗",
    "有没有人在杭州买过这款茶",
    "Is there anyone who can tell me the shipping cost?",  # a question anyone could answer, the bot included
    "is there a discount that can help me",
    "Can you explain the return rules to me?",  # the bot is asked to explain
    "I need to explain to my boss why the invoice is late, when will it come?",
    "is there someone who can pick it up from the locker for me?",  # collecting a parcel, not the matter
    "有没有茶具啊",
    "can you put the kettle on the invoice as well?",  # a thing put on something, no person
    "I asked my neighbour to call me when the parcel comes",  # someone else's person
    "how long does it take for your team to ship an order?",
    "是不是要transfer到支付宝才能付",  # moving money, nobody asked for
    "Is there anyone at the post office I can ring to ask?",  # another place's person
    "is there someone at the bank I can call about the charge?",
    "a member of your support team told me returns were free, is that right?",  # reports one, asks nothing
    "is there anyone working there who grows the tea themselves?",  # who works there, not someone to talk to
    "我想要个活的盆栽放办公室",  # a living thing, not a person
    "I need to call the courier about the redelivery, what's their number?",  # a call to someone else
    "I tried to phone but nobody answered, what are your hours?",
    "would you rather call it a teapot or a kettle?",
    "我打电话给顺丰问问",  # the courier, not the shop
    "快递员会先打电话给我吗",
    "能把快递员叫回来重新送吗",  # the courier, not a person of the shop
    "我打电话问过快递了，他们说明天到",  # a call made, and to the courier
    "要打电话问顺丰吗？",  # whether to ring the courier
    "我打电话问一下银行",
    "one of your team told me it ships today, is that right?",  # reports one, asks nothing
    # a call asked about, not asked for: the courier's, a notice on arrival, a person told of
    "Will you call me when the parcel is out for delivery?",
    "can you call me a taxi? joking, where's my order",
    "Can you phone me the tracking number?",  # a number to be told, not a person
    "送到之前能打电话给我吗",  # the courier's call before delivery
    "顺丰能不能打电话给我再送",
    "到了可以打电话给我吗",
    "whoever's parcel this is, it came to my door",  # whoever's of a parcel
    "is there something I can explain to my wife about the warranty?",  # something, not someone
    "will the courier handle it if I'm out?",  # someone else taking it on
    "is there a customer service number I could call?",  # a number, not a person to ring
    "有没有人买过这款茶，好喝吗",  # a question about others
    "有人帮我签收了吗",  # whether someone did
    # taking over something else, or someone else taking over; a person who works there described, not asked for
    "Can someone take over the subscription if I move abroad?",
    "could my husband take over? I'm travelling when it arrives",
    "My cousin, someone who works there, said the oolong is good. Is it in stock?",
    "put your best tea or a gift box on my list",
    "我打过去跟人说了半天，还是没解决，退款到底什么时候到",  # a call made (了): a complaint, not a request
    "我想打电话跟顺丰的人说一下改地址",  # the courier's people
    "could somebody on your staff pick my order up from the courier?",  # a parcel collected, not the matter
    "can I pick it up myself at the studio?",
    "这个订单安排个人发货了吗",  # someone arranged for the dispatch, nobody asked for

])
def test_mended_spelling_takes_nothing_else_for_a_request(text) -> None:
    assert not asks_for_person(text)


@pytest.mark.parametrize("text", [
    "麻烦找个staff来处理一下，bot讲不清楚",  # the English word for a person among Chinese
    "转human吧",
    "我要找你们manager",
    "帮我叫个Real Person过来",
    "supervisor在吗",
    "can i talk to 客服",  # the Chinese word for one among English
    "transfer me to 人工 pls",
    "I want 人工客服 now",
    "说不清楚，帮我transfer给你们负责发票的同事吧",  # the English verb among Chinese
    "能不能pass给你们的客服",
])
def test_a_request_for_a_person_in_mixed_chinese_and_english(text) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", [
    "请问你们客服几点上班",  # 请问 asks a question, not for the person
    "请教一下，客服电话是多少",
    "我是做human resources的，能开专票吗",
    "你们staff有员工折扣吗",
    "我是agent吗",
    "what are 客服 hours?",
    "is 人工智能 used to pick the tea?",
    "how does your customer service team handle 退货?",
])
def test_mixed_chinese_and_english_look_alikes_are_not_requests(text) -> None:
    assert not asks_for_person(text)


@pytest.mark.parametrize("text", [
    "can sum1 from ur team ring me back? typing is a pain",  # chat shorthand for the words the rules read
    "r u able 2 put me thru 2 a human? pls",
    "could u put me thru to ur manager",
    "i need ppl not a script",
    "r u a bot? i want a real one pls",  # a real one, with the bot named
    "this is clearly an AI, I'd like an actual one",
    "Is this an automated reply? Let me talk to a real one.",
    "你是机器人吧？换个真的来",
    "又是自动回复……给我个真人",
    "AI回的吧，找个真的跟我说",
    "有没有rengong kefu啊",  # the Chinese words in pinyin
    "zhuan rengong",
    "kefu在吗？",
    "能不能找zhenren聊一下",
    "can i get rengong",
])
def test_a_request_for_a_person_in_shorthand_pinyin_or_after_naming_the_bot(text) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize("text", [
    "is this tin fake? I want a real one",  # a real thing, no bot named
    "我要个真的，不要仿品",
    "这台机器是仿的吧？我要个真的",  # a machine sold, not the bot
    "这个盖碗是真的吗？我要个真的",
    "r u open on sundays?",  # shorthand with nothing of a person
    "can u call me when it ships?",
    "ur kefu hours r too short",
    "你们kefu电话多少",  # the number, as "客服电话是多少"
    "U盘能当赠品吗",  # the U of a word
    "are u a bot",  # a question about the bot, not a request
    "r u a bot? just curious lol",
    "the tea machine I got is a knock-off, I want a real one",  # a machine sold, not the bot
    "i want 2 tins, can u ship them thru SF?",
])
def test_shorthand_pinyin_and_real_ones_that_are_not_requests(text) -> None:
    assert not asks_for_person(text)
