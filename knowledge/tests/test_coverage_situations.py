"""A customer's situation read as the shop matter it is: the situation a story names carries to the question sentence
that asks about it ("…got jasmine instead. 这种情况运费谁出?"), a short question sentence leans on the sentence before
it, pinyin left as typed is the word it spells, a field word is met only in its own forms, and a few everyday
phrasings are the shop concept they describe (a failed delivery, a charge for an unpaid order, a change of mind, a
replacement, a broken seal).

A small shop of its own (kettles and cups), so these cases are not the evaluation set's or the probes'.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from knowledge.embedding import embed_query
from knowledge.retrieval.coverage import amount_stated, particle_mended, pinyin_mended, question_units
from knowledge.retrieval.heads import (
    amount_asked,
    future_plans_asked,
    holiday_dates_asked,
    own_sending,
    restock_asked,
    shop_phone_asked,
)
from knowledge.retrieval.relevance import bears_on_question, hit_covers
from knowledge.retrieval.search import search
from knowledge.retrieval.snapshot import current_snapshot
from knowledge.retrieval.synonyms import concepts_in, synonyms_of
from knowledge.retrieval.terms import asks_the_same_again, is_follow_up, refers_back
from knowledge.tests.factories import article_create
from knowledge.tests.retrieval_checks import covered_by

ArticleText = tuple[str, str, str]  # title, tags, body


def article_in_its_language(question: str, *, en: ArticleText, zh: ArticleText) -> None:
    """The article (title, tags, body) a test adds to cover a question, in the question's language."""
    english = question.isascii()
    title, tags, body = en if english else zh
    article_create(title=title, language="en" if english else "zh-hans", tags=tags, body=body)


def covered_only_once_named(
    question: str, *, named: tuple[ArticleText, ArticleText], near: tuple[ArticleText, ArticleText] | None = None,
) -> None:
    """The question is not covered by the shop, nor once `near` is added (an article on its topic that does not
    name what is asked), and is once `named` is (one that does): each an (English, Chinese) pair of articles, the
    one in the question's language added."""
    if near is not None:
        article_in_its_language(question, en=near[0], zh=near[1])
    assert covered_by(question) < settings.COVERAGE_MIN
    article_in_its_language(question, en=named[0], zh=named[1])
    assert covered_by(question) >= settings.COVERAGE_MIN


pytestmark = pytest.mark.django_db

EN_TITLES = ("Returns", "Warranty", "Delivery", "Payment", "Invoices")
ZH_TITLES = ("退货", "保修", "配送", "付款", "发票")


@pytest.fixture
def shop(fake_ollama) -> None:
    article_create(
        title="Returns", tags="returns, refund",
        body="## Returning an item\n\nYou can return a kettle or a cup within 14 days. Change of mind: the item must "
             "be unused and in its box, and you pay the return postage. Faulty, spoiled or wrong items: we pay the "
             "postage, even if the item has been opened. We can send a replacement instead of a refund.",
    )
    article_create(
        title="Warranty", tags="warranty",
        body="## Two-year warranty\n\nKettles have a two-year warranty against defects. A kettle or cup that "
             "arrives broken: report it within 48 hours with a photo.",
    )
    article_create(
        title="Delivery", tags="delivery, shipping",
        body="## Delivery times\n\nWe deliver in 2-3 days. Remote areas such as Tibet and Xinjiang may take a few "
             "extra days. If a delivery fails, the courier tries again or holds the parcel at a service point; you "
             "can redirect it in the courier's app. Orders under ¥99 pay ¥10 shipping.",
    )
    article_create(
        title="Payment", tags="payment",
        body="## Paying\n\nIf money left your account but the order still shows as unpaid, do not pay again: the "
             "charge is returned automatically within 3 working days.",
    )
    article_create(
        title="Invoices", tags="invoice",
        body="## Invoices\n\nEvery order gets an electronic invoice (fapiao). We do not send paper invoices by post. "
             "After a return, the original invoice is cancelled and a new one is issued for what you keep.",
    )
    article_create(
        title="退货", language="zh-hans", tags="退货, 退款",
        body="## 退货\n\n收到后 14 天内可以退货。个人原因退货：商品需未使用，退货运费由顾客承担。"
             "质量问题、受潮变质或发错货：即使已拆封也可以退，运费由我们承担。也可以为您补发换货。",
    )
    article_create(
        title="保修", language="zh-hans", tags="保修",
        body="## 保修\n\n水壶保修两年，从签收之日起计算。收到时破损请在 48 小时内拍照联系我们。",
    )
    article_create(
        title="配送", language="zh-hans", tags="配送, 运费",
        body="## 配送\n\n一般 2-3 天送达，西藏、新疆等偏远地区可能需要额外几天。派送失败时快递员会再次派送。"
             "订单满 99 元免运费，不满收 10 元运费。",
    )
    article_create(
        title="付款", language="zh-hans", tags="付款",
        body="## 付款\n\n如果已经扣款但订单仍显示未付款，请不要重复付款，扣款会在 3 个工作日内自动退回。",
    )
    article_create(
        title="发票", language="zh-hans", tags="发票",
        body="## 发票\n\n所有发票均为电子发票，不邮寄纸质发票。开专票需要提供税号和开户银行。"
             "退货后原发票作废，按保留的商品重新开票。",
    )


def covers_best(question: str, title: str) -> bool:
    """Whether the article titled `title` covers the question more than any other article in its language does
    (its best found source's share, or its article's), and enough to answer."""
    others = [other for other in (EN_TITLES if title in EN_TITLES else ZH_TITLES) if other != title]
    own = covered_by(question, title, limit=20)
    return own >= settings.COVERAGE_MIN and own > max(covered_by(question, other, limit=20) for other in others)


@pytest.mark.parametrize(("question", "title"), [
    # the situation the story names (a wrong item, a charge for an unpaid order), asked about in a sentence of its own
    ("给我妈买的是白瓷杯，她盼了好久。结果今天收到一拆开是玻璃杯，她还以为是我买错了。这种情况退回去的快递费要我出吗？",
     "退货"),
    ("I ordered the steel kettle for my dad's birthday and got the glass one instead. He laughed it off, but I "
     "didn't. In that case, who pays the postage to send it back?", "Returns"),
    ("昨天用银行卡付款，页面卡住我就关了。今天看短信钱已经扣了，可是订单还是显示待付款。室友让我再付一次。我要不要重新付一遍？",
     "付款"),
    ("The money was taken from my card last night but the order still says unpaid. My flatmate says just pay "
     "again. Should I?", "Payment"),
])
def test_the_situation_a_story_names_is_what_its_question_asks_about(shop, question, title) -> None:
    assert covers_best(question, title)


@pytest.mark.parametrize(("question", "title"), [
    ("My grandfather runs a tiny trading shop and is very old-fashioned about paperwork. He refuses to read anything "
     "on a screen and prints out every single email he gets. He keeps asking whether you can post him a printed "
     "fapiao for the kettle. Can you?", "Invoices"),
    ("我同事特别较真，什么都要纸质的，他一直问能不能给他邮寄一张纸质发票。可以吗？", "发票"),
])
def test_a_short_question_sentence_is_read_with_the_one_before_it(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("买了80块的东西要付yunfei吗", "配送"),
    ("zhuan piao要提供啥资料", "发票"),
    ("杯子可以tuihuo吗", "退货"),
    ("shuihu坏了有baoxiu吗", "保修"),
])
def test_pinyin_left_as_typed_is_the_word_it_spells(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_pinyin_is_read_only_in_a_chinese_message_and_only_as_a_whole_word_of_the_articles(shop) -> None:
    snapshot = current_snapshot()
    assert pinyin_mended(snapshot, "要付Yunfei吗") == "要付运费吗"
    assert pinyin_mended(snapshot, "zhuan piao要多久") == "专票要多久"
    assert pinyin_mended(snapshot, "women shop for tea") == "women shop for tea"  # no Chinese: English
    assert pinyin_mended(snapshot, "用Visa付款") == "用Visa付款"  # no word of the articles spelt so
    # the search reads the word the letters spell, as if it had been typed
    typed, meant = (search(question, include_weak=True).hits for question in ("yunfei多少钱", "运费多少钱"))
    assert {(hit.title, hit.coverage) for hit in typed} == {(hit.title, hit.coverage) for hit in meant}


@pytest.mark.parametrize(("question", "title"), [
    # a care package, an in-law, a terrible cook: the story's people and things, not insurance, law or recipes
    ("My brother just moved to Lhasa and he's a terrible cook, so I'm sending him a care package with a kettle. "
     "Will it take longer than usual to get to Tibet?", "Delivery"),
    ("My father-in-law asked me to sort this out: the kettle arrived broken, do you replace it under warranty?",
     "Warranty"),
    ("表姐嫁到乌鲁木齐了，想给她寄个水壶当生日礼物。寄到新疆会比平时慢吗？", "配送"),
])
def test_a_word_the_root_of_a_field_folds_in_is_not_the_field(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "My career is stuck, which job should I apply for after returning the kettle?",
    "Can my lawyer sue the courier over a late delivery?",
    "How do I cook rice in your kettle?",
    "I need a recipe for baking bread, can you ship flour?",
])
def test_the_fields_own_forms_are_still_the_field(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


def test_a_field_word_is_met_in_its_own_forms_only() -> None:
    def heads(text: str) -> set[str]:
        return {unit.word for unit in question_units(text) if unit.head and unit.whole_message}

    assert heads("a care package for my sister") == set()
    assert heads("my father-in-law bought it") == set()
    assert heads("he's a terrible cook") == set()
    assert heads("career advice please") == {"career"}
    assert heads("our lawyers say so") == {"lawyer"}
    assert heads("how long to cook the noodles") == {"cook"}
    assert heads("are you hiring? do you hire students?") == {"hiring", "hire"}


@pytest.mark.parametrize(("question", "concept"), [
    ("I'm not gonna be home on Thursday when the parcel is due", "failed delivery"),
    ("we won't be at home all week, what happens to the parcel?", "failed delivery"),
    ("送货那天我不在家怎么办", "派送失败"),
    ("快递员来送的时候我不在家，包裹会被退回去吗？", "派送失败"),
    ("the money was taken from my card but the order says unpaid", "unpaid"),
    ("payment has been deducted, yet it shows pending payment", "unpaid"),
    ("钱已经扣了，可是订单还是显示待付款", "扣款"),
    ("扣了钱但订单显示未支付", "扣款"),
    ("changed my mind about the cups, can I send them back?", "change of mind"),
    ("we don't really need them anymore", "change of mind"),
    ("买了又不想要了能退吗", "个人原因"),
    ("后悔了，可以退吗", "个人原因"),
    ("can you just send the right one instead of refunding me", "replacement"),
    ("please ship the correct kettle, I don't want my money back", "replacement"),
    ("再给我寄一个对的吧", "换货"),
    ("the seal is broken, can I still return it?", "opened"),
    ("I broke the seal before I noticed the smell", "opened"),
    ("封口已经撕开了还能退吗", "拆封"),
    ("买的是白瓷杯，她盼了好久。结果收到一拆开是玻璃杯", "发错货"),
    ("I used the cup once and don't really like the colour, can I return it?", "change of mind"),
    ("didn't like the kettle much, so can I get a refund?", "change of mind"),
    ("茶杯用过一次觉得颜色不喜欢，能退吗？", "个人原因"),
    ("款式不太喜欢，可以换一个吗", "个人原因"),
    ("can i just hand the courier cash when the box shows up at my door?", "cash on delivery"),
    ("短信说扣了286块，回到订单里一看还是显示待付款", "扣款"),
    ("bought it last week and now it's cheaper, do you refund the difference?", "price protection"),
    ("降价了能退差价吗", "价格保护"),
    ("can you pack both orders into one box?", "combined shipping"),
    ("我下了两单，能合并成一个包裹发吗", "合单"),
    ("ripped the bag open last night and made one pot", "opened"),
    ("I cut the pouch open before reading the label", "opened"),
    ("tried the kettle once, honestly not my cup of tea. what are my options?", "change of mind"),
    ("didn't enjoy the flavour at all, can I get my money back?", "change of mind"),
    ("if the box is lost, can they still go back to you?", "return"),
    ("杯子用了一次觉得不合心意，能退吗", "个人原因"),
    ("这个味道实在喝不惯，可以退掉吗", "个人原因"),
    ("快递员来了三次我都不在家，包裹会怎样", "派送失败"),
    ("顺丰上午来送的时候家里没人", "派送失败"),
    ("left it in my basket for a while and now my order has vanished", "cancelled"),
    ("the order was just gone when I came back to pay", "cancelled"),
    ("订单怎么突然不见了", "取消"),
])
def test_an_everyday_phrasing_is_the_shop_concept_it_describes(question, concept) -> None:
    assert concept in concepts_in(question)[0]


@pytest.mark.parametrize("question", [
    "I'm not home yet, I'll check later",  # no delivery said to fail
    "send the correct address to my email",  # an address, no goods
    "I want the right answer",
    "the money was taken from my card, thanks",  # paid, and nothing wrong with it
    "is the seal important for freshness?",
    "我不想要发票",  # no return asked
    "买的是白瓷杯，很满意。",
    "我不喜欢茉莉花茶，有别的推荐吗？",  # a taste, no return asked
    "I don't like green tea, what else do you have?",
    "this kettle is not for me, it's for my dad: can you wrap it?",  # for someone else, no taste
    "my order has gone out for delivery, when will it come?",  # gone on its way, not cancelled
    "the order has gone through, thanks",
    "快递员来的时候我在家",
    "why was my order cancelled? I paid on time",  # the shop's cancellation, not a request
    "订单被自动取消了怎么办",
    "降价了能保价吗",  # the shop's price protection
    "发票抬头错了，可以取消发票重开吗",  # the invoice cancelled, not the order
    "open the box carefully, is that right?",
])
def test_look_alikes_of_the_phrasings_stay_apart(question) -> None:
    assert not {"failed delivery", "派送失败", "unpaid", "扣款", "change of mind", "个人原因", "replacement", "换货",
                "opened", "拆封", "发错货", "cancelled", "取消", "order cancellation", "取消订单", "insured value",
                "保价费"} & set(concepts_in(question)[0])


def test_tea_gone_bad_and_paper_and_slower_are_the_articles_words(shop) -> None:
    assert {"spoiled", "变质", "受潮"} <= synonyms_of("musty") and "spoiled" in synonyms_of("发霉")
    assert {"paper", "纸质"} <= synonyms_of("printed")
    assert "extra" in synonyms_of("slower") and "额外" in synonyms_of("慢")
    assert covers_best("the cup smells musty and mouldy since it came, can I return it even though it's open?",
                       "Returns")
    assert covers_best("杯子发霉了能退吗", "退货")
    assert covered_by("do you post printed invoices?", "Invoices") >= settings.COVERAGE_MIN
    assert covered_by("will delivery be slower to xinjiang?", "Delivery") > covered_by(
        "will delivery be faster to xinjiang?", "Delivery")


@pytest.mark.parametrize(("question", "title"), [
    ("Could you mail the fapiao to my office instead?", "Invoices"),  # "by post", as the article says
    ("发票能邮寄到公司吗", "发票"),
])
def test_mailing_is_sending_by_post(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_mail_is_not_a_word_of_delivery(shop) -> None:
    # the courier delivers the order; the post is how an article says a paper is (not) sent
    assert covered_by("can you mail it?", "Delivery") == 0


@pytest.mark.parametrize(("question", "title"), [
    # "anybody", "stuff", "waiting": whoever and whatever, not what the question is about
    ("can somebody deliver to Xinjiang or am I waiting forever", "Delivery"),
    ("Does someone handle returns of opened stuff or am I just waiting for nothing?", "Returns"),
    # "口子", "豁口": a chip, as the article's 破损
    ("烧水时磕出一个小口子，能保修吗", "保修"),
    ("烧水时磕出一个豁口，能保修吗", "保修"),
    # "算了", "不要", "行不行": giving up, not wanting, asking whether it will do; what is wanted is the rest
    ("算了不要退款了，给我换个新的行不行", "退货"),
])
def test_words_of_asking_say_nothing_and_a_notch_is_damage(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_a_couple_is_no_notch() -> None:
    # "两口子" (a married couple) is a word of its own, not the "口子" of a chip
    assert "两口子" in {unit.word for unit in question_units("我们两口子都爱喝茶，想买一套茶具")}


def test_which_one_and_a_part_are_no_counted_goods() -> None:
    units = {unit.word: unit for unit in question_units("退了一部分之后原来那张发票怎么办")}
    assert "分" not in units and "张" not in units and units["发票"].weight == 1.0
    story = {unit.word: unit for unit in question_units("有一套颜色不对就退掉了，发票怎么处理")}
    assert not story["颜色"].whole_message  # the set's colour, not goods no article names


@pytest.mark.parametrize("question", [
    "How long will an unused kettle keep in its box?",
    "What is the shelf life of an unused kettle in its box?",
    "未使用的商品能放多久",
    "拆封后的商品保质期一般多长",
    "Is there a best-before date on an unused kettle in its box?",
    "What's the expiry date of the cups in the box?",
    "When does an unused kettle in its box expire?",
    "未使用的商品什么时候过期",
    "拆封的商品有保质期吗？",
])
def test_how_long_a_thing_keeps_is_a_matter_no_article_here_names(shop, question) -> None:
    """The returns articles have "unused", "box", "未使用", "商品", "拆封": how long goods keep is not what they are
    about."""
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("The box was already opened when it arrived. How long do I have to return the kettle?", "Returns"),
    ("收到的杯子已经拆封了，放了三天还能退吗", "退货"),
    ("The cup arrived already past its best-before date and the box was opened. Can I return it?", "Returns"),
    ("收到的商品已经过期了，能退货吗", "退货"),
])
def test_how_long_one_has_to_act_is_no_question_of_keeping(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "What's the material of the kettle under your two-year warranty?",
    "Are the kettles with the two-year warranty made in Germany?",
    "水壶是景德镇产的吗，保修几年",
    "保修两年的水壶是什么材质的",
])
def test_where_or_of_what_a_thing_is_made_is_a_product_fact_no_article_here_names(shop, question) -> None:
    """The warranty articles name kettles and their two years, not where or of what they are made."""
    assert covered_by(question) < settings.COVERAGE_MIN


def test_a_story_of_when_a_thing_was_made_is_no_question_of_making(shop) -> None:
    question = "The kettle was made in 2019 and arrived broken yesterday. Is it covered by the warranty?"
    assert covered_by(question, "Warranty") >= settings.COVERAGE_MIN


def test_paying_the_courier_oneself_on_a_return_is_the_postage_not_cash_on_delivery() -> None:
    assert "cash on delivery" not in concepts_in("if I return it do I have to pay the courier myself?")[0]
    assert "cash on delivery" not in concepts_in("do we pay the courier for the return ourselves?")[0]
    assert "cash on delivery" in concepts_in("can I pay the courier when the kettle arrives?")[0]


@pytest.mark.parametrize(("question", "title"), [
    ("杯子用过一次，觉得颜色不喜欢，能退码？", "退货"),
    ("水壶坏了，还能保修马？", "保修"),
])
def test_a_final_question_particle_typed_as_its_homophone_is_read_as_one(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_a_word_ending_in_the_homophone_keeps_it() -> None:
    assert particle_mended("能退码？") == "能退吗？" and particle_mended("能包邮马") == "能包邮吗"
    for kept in ("忘记密码？", "你们的尺码？", "有二维码？", "骑马?", "码", "the code 码?"):
        assert particle_mended(kept) == kept


def test_words_of_thinking_and_adding_up_weigh_nothing_and_cut_nothing() -> None:
    words = {unit.word for unit in question_units("我觉得三只杯加起来80块，感觉要付运费吧")}
    assert "觉得" not in words and "感觉" not in words
    assert "杯加" not in words  # "杯 / 加起来", not "杯加 / 起来"


@pytest.mark.parametrize(("question", "title"), [
    # goods the customer bought from the shop are the shop's, whether or not an article names them
    ("下个月我爸过生日，我特意在你们店里挑了一罐铁观音。结果今天收到一看是玻璃杯！这种情况还能退吗？运费要我出吗？",
     "退货"),
    ("上周在你们这儿买了两盒普洱，收到发现是红茶，能退吗？", "退货"),
    # goods in the customer's cart are about to be bought here
    ("我在北京，购物车里两罐龙井加起来 180 块，还要另外出快递费吗？", "配送"),
    ("购物车中放了三盒普洱，一共150，还用付运费吗", "配送"),
])
def test_goods_bought_here_are_the_shops_own(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_goods_not_bought_here_still_decide_what_a_story_is_about(shop) -> None:
    assert covered_by("邻居刚买了一台冰箱，收到就坏了，这种情况能退吗？") < settings.COVERAGE_MIN
    assert covered_by("邻居网上买了两罐龙井，快递费要他出吗？") < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("Can I have a kettle sent straight to my sister in Xinjiang, and how long does it take?", "Delivery"),
    ("could you ship the cups directly to my office in Tibet? how many days?", "Delivery"),
])
def test_how_a_thing_is_sent_is_no_thing_sent(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_the_chunk_that_bears_on_the_question_is_weighed_before_those_ranked_above_it(fake_ollama) -> None:
    """Eight delivery sections share "courier" and "delivery" with the question and cover nothing of it; the
    one section that names cash on delivery ranks below them, and would be cut by the candidates' limit."""
    for number in range(8):
        article_create(title=f"Delivery {number}", tags="delivery",
                       body=f"## Delivery {number}\n\nOur courier partner handles delivery zone {number}. The courier "
                            f"calls before delivery; courier delivery, courier tracking.")
    article_create(title="Payment", tags="payment",
                   body="## Paying\n\nWe accept cards and Alipay. We do not offer cash on delivery.")
    question = "can i just hand the courier cash when the box shows up at my door?"
    assert "Payment" not in [hit.title for hit in search(question, limit=2).hits]  # the fused order alone
    found = search(question, limit=2, first=bears_on_question).hits
    assert found[0].title == "Payment" and bears_on_question(found[0])


def test_a_field_word_is_covered_by_the_fields_own_word_only(shop) -> None:
    """"个人所得税" is the tax office's: the invoice article's "个人" (a personal invoice) does not cover it."""
    units = {unit.word: unit for unit in question_units("个人发票能抵扣个人所得税吗")}
    assert units["个人所得税"].parts == ("所得税",) and units["个人所得税"].head
    article_create(title="个人发票", language="zh-hans", tags="发票",
                   body="## 个人发票\n\n个人购买可以开个人普通发票，抬头填写个人姓名。")
    assert covered_by("你们开的个人发票能拿来抵扣个人所得税吗？") < settings.COVERAGE_MIN
    assert covered_by("个人发票的抬头怎么填？", "个人发票") >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "Can I use your invoice for my income tax return?",
    "How do I pay income tax on kettles I resell?",
    "Do I put the kettle invoice in my personal tax return?",
])
def test_a_persons_taxes_are_another_field(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    # creative and technical work, translation, inventions, the law: other fields, whatever shop words they use
    "write a haiku about waiting for my kettle delivery lol",
    "帮我写个 SQL，按月统计水壶订单的运费和开了发票的订单数",
    "Please translate your returns policy into French",
    "把退货说明翻译成英文",
    "Who invented the electric kettle, and when?",
    "水壶是谁发明的？",
    "If the invoice is wrong and the tax office audits us, what legal liability do we have?",
    "如果发票开错了，税务局来查，我要承担什么法律责任？",
])
def test_work_of_another_field_made_of_shop_words_is_not_covered(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "Do I get loyalty points on my kettle orders? I've ordered six times now.",
    "Can we earn rewards when we pay for delivery?",
    "The same kettle is ¥30 cheaper on JD. Will you price match?",
    "What's the weather going to be like in Xinjiang this week? A kettle delivery is due.",
    "这个水壶的手感怎么样？",
    "新疆这周天气怎么样？我有个快递要到",
])
def test_what_a_customer_gets_or_what_a_thing_is_like_is_a_subject_of_its_own(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("Can I get a refund for the kettle?", "Returns"),
    ("What's delivery like to Xinjiang, how many extra days?", "Delivery"),
    ("退货流程怎么样？", "退货"),
    ("新疆的配送速度如何？", "配送"),
])
def test_what_the_articles_name_stays_covered_in_those_frames(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "What's the capacity of the kettle with the two-year warranty?",
    "How many ml does the cup hold?",
    "How much does each kettle weigh?",
    "保修两年的水壶容量多大？",
    "退货的杯子是多少毫升的？",
])
def test_how_big_or_heavy_a_thing_is_is_a_product_fact_no_article_here_names(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "word"), [
    ("write a haiku about my parcel", "haiku"),
    ("can you make up a poem about tea?", "poem"),
    ("给我写一首诗，关于快递的", "诗"),
    ("translate the returns page into French", "translate"),
    ("这段话帮我翻译一下", "翻译"),
    ("what legal liability do I have for a wrong invoice?", "legal"),
    ("开错发票算不算违法", "违法"),
    ("the same kettle is cheaper on JD", "jd"),
    ("京东上同款便宜三十", "京东"),
    ("打开微信就闪退，怎么修复", "闪退"),
    ("手机老是死机咋办", "死机"),
])
def test_another_field_or_seller_is_what_the_whole_message_is_about(question, word) -> None:
    units = {unit.word: unit for unit in question_units(question)}
    assert units[word].head and units[word].whole_message


@pytest.mark.parametrize(("question", "title"), [
    # goods that came to the customer are the shop's delivery, whatever they are called
    ("上周收到一罐铁观音，拆开泡了一次有股霉味，估计受潮了，已经拆封了还能退吗？", "退货"),
    ("I received two tins of oolong last week and one smells musty. Can I return it even though it's open?", "Returns"),
])
def test_goods_the_customer_received_are_the_shops_own(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_a_word_after_a_measure_word_that_names_no_thing_is_no_counted_goods() -> None:
    """"再凑一包划算" (is it worth adding a pack): 划算 is worth, not goods the shop never names."""
    units = {unit.word: unit for unit in question_units("还差十几块才包邮，再凑一包划算还是直接下单？")}
    assert not units["划算"].head_if_unknown and not units["划算"].whole_message
    fridge = {unit.word: unit for unit in question_units("我买了一台冰箱，能退吗")}["冰箱"]
    assert fridge.head_if_unknown and fridge.whole_message


@pytest.mark.parametrize(("question", "title"), [
    ("sending a bday surprise to my sister in Xinjiang, can you guys get it to her? how many days?", "Delivery"),
    ("短信说扣了286块，回到订单里一看还是显示待付款，要再付一次吗？", "付款"),
])
def test_a_surprise_is_a_gift_and_an_amount_taken_is_a_charge(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_a_surprise_sent_is_no_unknown_thing_and_you_guys_is_no_word_of_a_subject() -> None:
    units = {unit.word: unit for unit in question_units("sending a bday surprise to my sister, can you guys get "
                                                         "it to her?")}
    assert not units["surprise"].head_if_unknown
    assert units.get("guy") is None or units["guy"].weight == 0


@pytest.mark.parametrize("question", [
    "who actually runs your kettle shop? is it a family business, how did it start?",
    "Who is the owner of the shop? I want to know before I return a kettle.",
    "你们老板是谁啊？店是哪一年开的",
    "这家卖水壶的店开了几年了？退货靠谱吗",
])
def test_the_company_itself_is_no_help_articles_matter(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "bought the kettle last week and now it's ¥20 cheaper. do you refund the difference or do I return it and rebuy?",
    "水壶买了三天就降价了，能退差价吗？不行的话我就退货重买",
    "I placed two separate orders this morning. Can you pack them into one box so I only get one parcel?",
    "已经付款的订单还能再加一个杯子吗？想合并成一个包裹一起发",
    # asking to cancel an order, which the articles never offer (they only say what happens to an unpaid one)
    "Paid for the kettle an hour ago and picked the wrong colour. Can I still cancel my order before you ship it?",
    "刚付完款发现买错了，还能取消订单吗",
    # a courier's insurance of the parcel's value
    "sending a costly kettle: do you insure the parcel for its full value?",
    "水壶挺贵的，顺丰保价费要另外付吗",
])
def test_an_arrangement_asked_of_the_shop_that_no_article_names_is_not_covered(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN
    assert any(unit.concept and unit.head for unit in question_units(question))  # what it asks, a head


def test_an_arrangement_an_article_names_is_covered(fake_ollama) -> None:
    article_create(title="Orders", tags="orders",
                   body="## Combining orders\n\nWe combine orders placed on the same day into one parcel (combined "
                        "shipping) if you ask us before dispatch.")
    question = "I placed two separate orders this morning. Can you pack them into one box?"
    assert covered_by(question, "Orders") >= settings.COVERAGE_MIN


def test_a_follow_up_naming_its_subject_by_a_pronoun_is_read_as_one_with_the_question_before(shop) -> None:
    """"how long after buying can I still ask for one?" after an invoice question: its own "buying" is any
    article's, the invoice is what it asks about."""
    question, before = "how long after ordering can I still ask for one?", "Can I get a fapiao for my kettle?"
    joined = f"{before}\n{question}"
    context = (joined, embed_query(joined))
    alone = search(question, include_weak=True, limit=20).hits
    together = search(question, include_weak=True, limit=20, context=context).hits
    def best(hits: list, title: str) -> float:
        return max((hit.coverage or 0.0 for hit in hits if hit.title == title), default=0.0)

    assert best(alone, "Payment") >= best(alone, "Invoices")  # "order" alone: any order's article
    assert best(together, "Invoices") > best(together, "Payment")


@pytest.mark.parametrize(("question", "refers"), [
    ("how long after ordering can I still ask for one?", True),
    ("how long does that last?", True),
    ("can I return it?", True),
    ("does it cover chips?", True),
    ("Is it possible to pay by card?", False),  # "it" names nothing
    ("Can I pay for my order with Alipay?", False),
    ("what does the warranty cover?", False),
    ("开好之后寄给我吗？", True),  # what is to be done with the last answer's thing, its object left out
    ("那寄出以后多久能到？", True),
    ("办完了之后会通知我吗", True),
    ("发票开好之后寄给我吗？", False),  # the thing named
    ("付款以后多久发货", False),
])
def test_a_pronoun_for_a_thing_of_the_turn_before_makes_a_follow_up(question, refers) -> None:
    assert refers_back(question) is refers
    if refers:  # searched with the question before, and never answered from the cache
        assert is_follow_up(question, has_history=True) and not is_follow_up(question, has_history=False)


@pytest.mark.parametrize(("question", "again"), [
    # what the turn before said, asked again of another thing or of the customer's own case
    ("水壶也一样吗", True),
    ("我过了三天才发现的，还算吗", True),
    ("杯子同样吗？", True),
    ("隔了好几天才拆开，还行吗~", True),
    ("is it the same for cups?", True),
    ("same for the kettle?", True),
    ("it arrived on day four, still ok?", True),
    ("我是学生不是公司，也能开吗？要填啥", True),  # a clause of its own, not the message's end
    ("他们下午还会来吗", True),
    ("这两款茶的口感一样吗", False),  # compares two things it names
    ("我还可以用支付宝付款吗", False),  # 还 of "can I also", a question of its own
    ("is the kettle still available?", False),
])
def test_asking_the_turn_befores_answer_again_makes_a_follow_up(question, again) -> None:
    assert asks_the_same_again(question) is again
    assert is_follow_up(question, has_history=True) is again


@pytest.mark.parametrize(("question", "title"), [
    # chat's function words weigh nothing: "havent", "through", "few", "went", "came", "later", "wth"
    ("the cup i got from you a few months ago has tiny spiderweb lines spreading through the glaze, i havent "
     "dropped it, just normal use. is that on you or me?", "Warranty"),
    ("put an order in, went to make a coffee, came back 40 mins later and it says unpaid?? i paid wth", "Payment"),
])
def test_chats_function_words_weigh_nothing(fake_ollama, question, title) -> None:
    article_create(title="Warranty", tags="warranty",
                   body="## Warranty\n\nCups have a one-year warranty: cracks or crazing in the glaze that appear "
                        "with normal use are covered; drops are not.")
    article_create(title="Payment", tags="payment",
                   body="## Paying\n\nPay within 30 minutes of placing an order: an unpaid order is cancelled.")
    article_create(title="Delivery", tags="delivery", body="## Delivery\n\nWe deliver in 2-3 days.")
    assert covered_by(question, title) >= settings.COVERAGE_MIN
    words = {unit.word for unit in question_units(question) if unit.weight}
    assert not words & {"havent", "through", "few", "went", "came", "later", "wth"}


@pytest.mark.parametrize("question", [
    "Before I order though, realistically how long is it going to take to get out here?",
    "how long till it gets to me?",
    "how many days before my parcel arrives to my office?",
])
def test_how_long_a_thing_takes_to_reach_the_customer_asks_about_delivery(question) -> None:
    assert "delivery" in concepts_in(question)[0]
    assert "delivery" not in concepts_in("How long does it take to get a refund?")[0]


def test_the_people_who_answer_are_one_word_in_both_languages(fake_ollama) -> None:
    article_create(title="联系我们", language="zh-hans", tags="客服",
                   body="## 客服时间\n\n客服每天 9:00-21:00 在线，周末也不休息。")
    assert covered_by("你们customer service几点在线", "联系我们") >= settings.COVERAGE_MIN
    assert covered_by("when is your 客服 online", "联系我们") >= settings.COVERAGE_MIN


def test_what_the_customer_went_off_to_do_is_their_story_not_a_field() -> None:
    story = {unit.word: unit for unit in question_units("put an order in, went to cook dinner, came back and the "
                                                         "order was gone")}
    assert not story["cook"].head
    busy = {unit.word: unit for unit in question_units("I was baking when the courier came, is the parcel ok?")}
    assert not busy["baking"].head
    for story in ("I put an order in, then got distracted cooking dinner, and now it says cancelled. Why?",
                  "while I was baking the courier rang and left, where's my parcel?",
                  "in the middle of cooking I got a text that my order was cancelled, what happened?"):
        assert not any(unit.head for unit in question_units(story) if unit.word in ("cooking", "baking")), story
    for asked in ("how do I cook rice in the kettle?", "is it safe to drink tea while pregnant?"):
        assert any(unit.head for unit in question_units(asked)), asked


@pytest.mark.parametrize(("question", "own"), [
    ("i sent a box of books to my aunt in chengdu via sf express last week, can you check where it is?", True),
    ("we posted a birthday present to our son by a courier, where is it now?", True),
    ("i sent the kettle back with sf express on monday, where's my refund?", False),  # a return is the shop's matter
    ("you sent my order with sf express, right?", False),
])
def test_a_parcel_the_customer_sent_with_a_courier_is_their_own(question, own) -> None:
    assert own_sending(question) is own


@pytest.mark.parametrize(("question", "concept"), [
    ("I've paid already, could I still cancel it?", "paid order cancellation"),
    ("how do I cancel an order that's already paid for?", "paid order cancellation"),
    ("刚付完款，想取消可以吗", "取消已付订单"),
    ("付了款以后还能撤销吗", "取消已付订单"),
    ("is it possible to change the quantity on my order?", "order edit"),
    ("can I amend my existing order? I picked the wrong size", "order edit"),
    ("下单后能改一下数量吗", "改单"),
    ("付款了还能修改订单吗", "改单"),
    ("will the free samples be in the box too?", "free gift"),
    ("退货时小样要一起寄回吗", "赠品"),
])
def test_cancelling_or_changing_a_paid_order_and_a_free_gift_are_concepts_of_their_own(question, concept) -> None:
    assert concept in concepts_in(question)[0]


@pytest.mark.parametrize("question", [
    "why was my order cancelled? I paid on time",  # the shop's cancellation, not a request
    "I want to change my delivery address",  # the courier redirects it
    "能修改订单收货地址吗",
    "a gift for my sister, when does it arrive?",  # a present, not one the shop gave
    "送朋友的礼物什么时候到",
    "my order was cancelled because I didn't pay in time, can I pay now?",  # unpaid, not paid
])
def test_look_alikes_of_a_paid_order_and_a_free_gift_stay_apart(question) -> None:
    assert not {"paid order cancellation", "取消已付订单", "order edit", "改单", "free gift", "赠品"} & set(
        concepts_in(question)[0])


def test_an_arrangement_asked_for_is_named_as_such_not_by_its_words_apart(shop) -> None:
    """An unpaid order cancelled by itself has the words "取消" and "订单", not the cancelling of a paid one."""
    article_create(title="下单", language="zh-hans", tags="订单",
                   body="## 下单\n\n未付款的订单 30 分钟后自动取消，取消后重新下单即可。")
    assert covered_by("已经付过款了，这个订单还能取消吗？", "下单") < settings.COVERAGE_MIN
    assert covered_by("没付款的订单多久会取消？", "下单") >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("Long story: the kettle came last week, lovely thing, but the lid never sat right and steam leaks out the side "
     "every time it boils. I burned my wrist on it twice and my partner thinks it's hilarious. Is that something "
     "your warranty covers?", "Warranty"),
    ("水壶上周到的，样子很好看，可是盖子一直盖不严，每次烧水蒸汽都从旁边冒出来。我已经被烫伤两次了，家里人还笑我笨手笨脚。"
     "这种情况能走保修吗？", "保修"),
])
def test_a_field_word_told_in_a_story_is_not_what_its_question_asks(shop, question, title) -> None:
    assert covers_best(question, title)


@pytest.mark.parametrize("question", [
    "I burned my hand on the kettle, what cream should I put on it?",  # asked: the field's own matter
    "烫伤了涂什么药膏好",
])
def test_a_field_word_in_a_short_question_is_still_its_head(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    # an emoji where a comma would be
    "你好，我是公司新来的会计，领导让我给上个月买的那批水壶开专票，说是要抵扣用的。"
    "我以前从来没弄过😅 开专票需要提供税号吗，下周就要报账了。",
    # a question mark the sentence goes on after
    "你好，我是公司新来的会计，领导让我给上个月买的那批水壶开专票，说是要抵扣用的。"
    "我以前从来没弄过，不太懂，开专票需要提供税号吗？下周就要报账了",
])
def test_an_emoji_or_a_question_mark_ends_a_clause_of_a_chinese_story(shop, question) -> None:
    assert covers_best(question, "发票")


@pytest.mark.parametrize(("question", "title"), [
    ("do the prices on your site include VAT or is it added at checkout?", "Prices"),
    ("is that price tax-inclusive?", "Prices"),
    ("标价含不含税？", "价格"),
    ("网页上写的价钱包含增值税了吗", "价格"),
])
def test_whether_tax_is_in_the_price_is_covered_by_the_sentence_that_says_it(shop, question, title) -> None:
    """One sentence of an article's opening says it, once: named, the concept is what that sentence is about."""
    article_create(title="Prices", tags="prices", body="Every price in our shop is in yuan and includes VAT.")
    article_create(title="价格", language="zh-hans", tags="价格", body="本店所有价格均以人民币标价，已含增值税。")
    assert covered_by(question, title, limit=20) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "concept"), [
    ("are prices incl. VAT?", "含税"),
    ("is it excluding tax?", "含税"),
    ("价格含税吗", "含税"),
    ("税费另算吗", "含税"),
    ("这一单能拆开开成两张发票吗", "拆单"),
    ("能不能拆开开两张专票", "拆单"),
])
def test_tax_in_the_price_and_an_invoice_split_in_two_are_concepts(question, concept) -> None:
    assert concept in concepts_in(question)[0]


@pytest.mark.parametrize("question", [
    "how much tax will I pay on imports?",  # a tax, not whether the price has it
    "发票税号填错了",
    "拆开一看杯子碎了两只",  # opening the parcel, no invoice
    "拆开包装以后还能退吗",
])
def test_look_alikes_of_tax_in_the_price_and_an_invoice_split_stay_apart(question) -> None:
    assert not {"含税", "拆单", "split order"} & set(concepts_in(question)[0])


@pytest.mark.parametrize(("question", "concept"), [
    ("is there a locker near me you can ship to instead of my flat?", "parcel locker"),
    ("could SF put it in the smart locker downstairs?", "parcel locker"),
    ("能放到楼下的智能柜吗", "快递柜"),
    ("by what time do I need to order by to get it sent today?", "order cutoff"),
    ("is there a cutoff for next-day dispatch?", "order cutoff"),
    ("晚上几点以前下单能当天发出？", "截单"),
    ("the app says delivered yesterday but I never got anything", "lost parcel"),
    ("my parcel was stolen from the doorstep, what now?", "lost parcel"),
    ("显示被签收了可是家里人都没收到", "丢件"),
    ("包裹被偷了怎么办", "丢件"),
    ("could I extend the gaiwan warranty for another year?", "extended warranty"),
])
def test_a_locker_a_daily_cutoff_and_a_lost_parcel_are_concepts_of_their_own(question, concept) -> None:
    assert concept in concepts_in(question)[0]


@pytest.mark.parametrize("question", [
    "if nobody's home will they leave it at a service point?",  # the courier's point, which an article may name
    "快递放驿站了，怎么取",
    "it was delivered yesterday, thanks!",  # delivered, nothing missing
    "签收的时候发现盒子破了",  # received, broken: not lost
    "what time do you open?",
    "I lost my tracking number, where can I find it?",  # the number lost, not the parcel
    "the chat got cut off, can you say that again?",  # a conversation cut off, no cut-off time
    "what's the cut-off for asking for a fapiao after the order date?",  # a deadline for an invoice, not dispatch's
    "can I pay extra to extend the delivery window?",  # not the warranty
])
def test_look_alikes_of_a_locker_a_cutoff_and_a_lost_parcel_stay_apart(question) -> None:
    assert not {"parcel locker", "快递柜", "order cutoff", "截单", "lost parcel", "丢件", "extended warranty"} & set(
        concepts_in(question)[0])


@pytest.mark.parametrize(("question", "concept"), [
    ("what VAT rate is on the special invoice?", "tax rate"),
    ("开的票税点是多少", "税率"),
    ("what's the latest time we can order for it to leave today?", "order cutoff"),
    ("is it possible to pay extra to extend the cover?", "extended warranty"),
    ("can you extend it to 2 years?", "extended warranty"),
    ("普票税率多少", "税率"),
])
def test_a_tax_rate_the_latest_order_time_and_a_longer_warranty_are_concepts(question, concept) -> None:
    assert concept in concepts_in(question)[0]


@pytest.mark.parametrize(("question", "concept"), [
    ("will the courier deliver on a Saturday? I'm at work all week", "weekend delivery"),
    ("any chance of a sunday delivery?", "weekend delivery"),
    ("快递星期天也派送吗", "周末派送"),
    ("节假日送不送", "周末派送"),
    ("the courier left it at a pickup point, how long will they hold it?", "holding period"),
    ("will they keep my parcel for how many days?", "holding period"),
    ("快递放驿站最多能存几天", "存放期限"),
    ("could the driver leave the parcel outside my door?", "doorstep drop"),
    ("能直接放门卫吗", "放门口"),
])
def test_a_couriers_weekend_days_a_holding_period_and_a_doorstep_are_concepts(question, concept) -> None:
    assert concept in concepts_in(question)[0]


@pytest.mark.parametrize("question", [
    "do you ship on weekends?",  # the shop's dispatch, which an article says
    "周末发货吗",
    "I paid on Saturday, when will it be delivered?",
    "没拆封的绿茶能放多久？",  # how long tea keeps, not a parcel held
    "how long can I keep the tea after opening?",
    "how long will you keep my personal data?",
    "how long can I keep it before I have to send it back?",  # the customer keeping it: the return window
    "顺丰在我们小区老是被放门卫那里，能换个快递吗",  # told, not asked for
])
def test_look_alikes_of_weekend_delivery_and_a_holding_period_stay_apart(question) -> None:
    assert not {"weekend delivery", "周末派送", "holding period", "存放期限", "doorstep drop", "放门口"} & set(
        concepts_in(question)[0])


def test_an_article_that_says_the_courier_delivers_at_weekends_covers_the_question(shop) -> None:
    """Named as such, the arrangement is covered: a shop whose courier does deliver at weekends answers it."""
    article_create(title="Courier", tags="courier", body="## Courier days\n\nOur courier delivers on weekends too.")
    assert covered_by("does the courier deliver on Sundays?", "Courier", limit=20) >= settings.COVERAGE_MIN
    assert covered_by("does the courier deliver on Sundays?", "Delivery", limit=20) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # what other shops do, asked of this one: the question is this shop's rule
    ("Every other store I use lets me send things back within a month. Can I do that with you too?", "Returns"),
    ("别的店发错货都包退，你们这也能退吗？", "退货"),
    ("别家都免运费，你们家为什么还要收 10 元运费？", "配送"),
    ("其他店都是 14 天内退货，你们也一样吗？", "退货"),
    # a named one is a head of its own sentence only
    ("淘宝上的店收到十天内都能退货。你们这也能退货吗？", "退货"),
    ("On Amazon I can always return things for a month. Can I return a kettle with you too?", "Returns"),
])
def test_other_shops_the_customer_compares_with_are_no_subject(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    # goods bought at another shop are that shop's, whatever is then asked of this one
    "别家买的水壶，你们这也能保修吗？",
    "I bought a kettle from another shop, can you repair it too?",
    # another shop compared, with nothing this one's asked of it
    "别家都是七天无理由退货",
])
def test_another_shop_the_goods_came_from_is_still_the_subject(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # a courier the customer asks the shop to send with: the shop's delivery, which names its own
    ("Do you ever deliver with DHL or FedEx? My building only accepts those.", "Delivery"),
    ("能不能改成邮政给我寄？", "配送"),
])
def test_a_courier_asked_of_the_shop_is_its_delivery_not_another_seller(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    # the courier's own service to the customer, or the customer's own parcel
    "DHL lost a parcel my aunt sent me, how do I complain to them?",
    "邮政把我寄给朋友的包裹弄丢了怎么办？",
    "退货的时候能不能改成中通寄回去？",  # a return is the customer's to send
])
def test_a_courier_not_asked_to_carry_the_shops_parcel_is_still_another_company(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # chat spellings of "what do I do" and "I want" ask, they name no subject
    ("退了一部分货 之前开的发票咋办", "发票"),
    ("水壶收到就坏了咋整", "保修"),
    ("发错货了 我要的是杯子 收到的是水壶 还能退吗", "退货"),
])
def test_chat_words_of_asking_name_no_subject(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


RESTOCK_QUESTIONS = [
    "When will the kettle be back in stock?",
    "is the cup still in stock?",
    "水壶什么时候补货？页面显示缺货了。",
    "杯子还有货吗",
]


@pytest.mark.parametrize("question", RESTOCK_QUESTIONS)
def test_whether_a_product_is_to_be_had_again_is_a_matter_no_help_article_covers(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", RESTOCK_QUESTIONS)
def test_an_article_about_restocking_covers_it(shop, question) -> None:
    article_in_its_language(
        question,
        en=("Stock", "stock", "## Restock\n\nSold-out kettles and cups are restocked within two weeks; we email you "
                              "when they are back."),
        zh=("库存与补货", "库存", "## 补货\n\n售罄的水壶和杯子会在两周内补货，补货后邮件通知您。"),
    )
    assert covered_by(question) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("The kettle was sold out so I ordered a cup instead. Can I return the cup?", "Returns"),  # a story
    ("我的快递什么时候到货？", "配送"),  # a delivery's arrival
])
def test_a_sold_out_story_or_a_delivery_arriving_is_no_restock_question(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def test_having_goods_paid_on_delivery_is_no_restock_question() -> None:
    assert not restock_asked("能不能有货到付款？") and restock_asked("能不能有货？")


@pytest.mark.parametrize(("question", "title"), [
    # the customer's payday as the time they will pay or order: a when, not their salary asked about
    ("等发了工资再下单，运费怎么算？", "配送"),
    ("工资到账以后再付款，钱扣了但订单还是未付款怎么办", "付款"),
    ("I'll order after payday. Orders under ¥99 pay shipping, right?", "Delivery"),
    ("Money left my account but the order shows unpaid. Should I pay again once my wages come in?", "Payment"),
])
def test_a_payday_as_the_time_of_paying_is_not_the_salary_field(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    # the salary itself asked about: a field of its own, whatever the shop's words around it
    "我的工资要交多少个税？发票能抵吗",
    "工资被拖欠了三个月，可以退款吗",  # a wage owed by an employer, not a time of paying
    "How is my salary taxed if I return goods?",
])
def test_a_question_about_the_salary_itself_stays_outside_the_shops_field(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    # a thing brought up with "what about" / "那…呢" that no article names: what is now asked
    "Kettles have a two-year warranty, I know. What about the induction hob, is the kettle fine on it?",
    "Returns take 14 days. How about the gift vouchers?",
    "I know a kettle can be returned unused in its box. What about the descaler, is that ok?",
    "Faulty cups get a replacement. How about using the limescale remover on them?",
    "I know the kettle is covered for two years. what about the lid?",
    "水壶保修两年我知道了。那电磁炉呢？",
])
def test_a_thing_brought_up_that_no_article_names_is_what_is_asked(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # a place (its regions cover it), a clause, a word any matter has, a thing an article names
    ("What about Tibet, does delivery take longer?", "Delivery"),
    ("Delivery is 2-3 days. What about the quicker option, how much is it?", "Delivery"),
    ("What about if the cup was opened, can I still return it?", "Returns"),
    ("What about a cup, can I return it within 14 days?", "Returns"),
    ("What about Chengdu? How many days does delivery take?", "Delivery"),
    ("What about a slightly chipped cup, can I return it?", "Returns"),
    ("那西藏呢？配送要几天", "配送"),
    ("那如果是拆开了呢，还能退货吗", "退货"),
])
def test_a_place_a_clause_or_a_named_thing_brought_up_is_not_an_unknown_subject(shop, question, title) -> None:
    assert covered_by(question, title) >= settings.COVERAGE_MIN


def follow_up_covered(previous: str, question: str, title: str = "") -> float:
    """The best a found source covers a follow-up read with the question before it (as knowledge_lookup does)."""
    from knowledge.embedding import embed_queries

    joined = f"{previous}\n{question}"
    query_vector, context_vector = embed_queries([question, joined])
    hits = search(question, query_vector=query_vector, include_weak=True, limit=20,
                  context=(joined, context_vector)).hits
    return max((hit_covers(hit) for hit in hits if not title or hit.title == title), default=0.0)


@pytest.mark.parametrize(("previous", "question"), [
    # a follow-up that brings up a thing no article names asks about it, however well the turn before is covered
    ("Is a kettle that arrives broken covered by the warranty?", "What about the dishwasher, can it go in there?"),
    ("Can I return a cup I changed my mind about?", "how about the gift vouchers, same rule?"),
    ("水壶保修几年？", "那电磁炉呢？能用吗"),
    # brought up in a message of two lines (two chat messages unanswered): the whole message's words count
    ("Is a kettle that arrives broken covered by the warranty?", "what about the dishwasher\ncan it go in there?"),
])
def test_a_follow_up_bringing_up_a_thing_no_article_names_is_not_covered_by_the_turn_before(
        shop, previous, question) -> None:
    assert follow_up_covered(previous, question) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("previous", "question", "title"), [
    # what the turn before settled, gone on about in words no article needs to have: a story, a place, a known thing
    ("Is a kettle that arrives broken covered by the warranty?", "I only noticed it a week later, does that count?",
     "Warranty"),
    ("Do you deliver to Tibet?", "what about Lhasa then?", "Delivery"),
    ("Can I return a kettle if I changed my mind?", "What about a cup?", "Returns"),
    ("退货运费谁出？", "那发错货呢？", "退货"),
    # a form of what was said before ("a paper copy"): no thing of its own
    ("Do I get an invoice with every order?", "ok and how does it get to me, do you post a paper copy?", "Invoices"),
])
def test_a_follow_up_going_on_about_the_turn_before_is_still_read_with_it(shop, previous, question, title) -> None:
    assert follow_up_covered(previous, question, title) >= settings.COVERAGE_MIN


FUTURE_PLAN_QUESTIONS = [
    "Delivery is mainland only, I know. When will you start delivering to Hong Kong?",
    "are you guys planning to accept PayPal at some point?",
    "什么时候能开通港澳配送？",
    "以后会支持货到付款吗",
    "Any plans to deliver to remote areas like Tibet faster?",
    "When will you start delivering parcels to service points?",
    "什么时候能开通新疆配送？",
    "以后会开通偏远地区快递派送吗",
    "以后会支持西藏派送吗",
    "你们有没有计划做偏远地区的快递？",
    "大概什么时候能支持送达西藏",
]


@pytest.mark.parametrize("question", FUTURE_PLAN_QUESTIONS)
def test_when_the_shop_will_start_something_is_a_matter_no_help_article_covers(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", FUTURE_PLAN_QUESTIONS)
def test_an_article_about_the_shops_plans_covers_them(shop, question) -> None:
    article_in_its_language(
        question,
        en=("Coming soon", "plans", "## What we plan\n\nWe plan to start delivering to Hong Kong and to accept PayPal "
                                    "from next spring."),
        zh=("即将上线", "计划", "## 计划\n\n我们计划明年开通港澳配送，并支持货到付款。"),
    )
    assert covered_by(question) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # the customer's own order, a card's feature, a count's start, the customer's plan: no plan of the shop's
    ("When will you start shipping my order? I paid this morning.", "Delivery"),
    ("什么时候开始发货？我昨天付的款", "配送"),
    ("保修从哪天开始算？", "保修"),
    ("I'm planning to order two kettles, is delivery 2-3 days?", "Delivery"),
])
def test_an_order_a_count_or_the_customers_own_plan_is_no_plan_of_the_shop(shop, question, title) -> None:
    assert not future_plans_asked(question.lower())
    assert covered_by(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("text", "asked"), [
    ("那大概什么时候能开通海外配送？", True),
    ("你们什么时候支持花呗？", True),
    ("以后会开放港澳台配送吗", True),
    ("有没有计划支持外币付款", True),
    ("when are you guys finally adding apple pay?", True),
    ("any plans for same-day delivery in hangzhou?", True),
    ("visa卡付不了，是不是要开通境外支付功能", False),  # a card's feature, the customer's to enable
    ("什么时候开始发货？", False),  # the order's dispatch
    ("退款什么时候到账", False),
    ("when will you accept my return?", False),
    ("we're planning a company tea party, do you ship 2-4 days?", False),
])
def test_the_shops_plans_are_asked_by_when_or_whether_it_will_start_something(text, asked) -> None:
    assert future_plans_asked(text) is asked


SHOP_PHONE_QUESTIONS = [
    "What's your customer service phone number? The kettle question is easier to explain by voice.",
    "is there a hotline for returns?",
    "客服电话是多少？退货的事想问一下",
    "你们店的座机号码多少",
]


@pytest.mark.parametrize("question", SHOP_PHONE_QUESTIONS)
def test_the_shops_phone_number_is_a_matter_only_an_article_giving_one_covers(shop, question) -> None:
    assert covered_by(question) < settings.COVERAGE_MIN
    article_in_its_language(
        question,
        en=("Contact", "contact", "## Phone\n\nOur customer service hotline, 400-800-1234, takes questions about "
                                  "returns, a kettle or anything else, 9:00-21:00."),
        zh=("联系我们", "联系", "## 电话\n\n客服热线 400-800-1234，退货等问题 9:00-21:00 均可致电，座机号码同上。"),
    )
    assert covered_by(question) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("text", [
    "do you need the company's phone number for a special vat invoice?",  # the customer's to provide
    "will the courier phone me before delivery?",
    "开专票需要填电话吗",
    "快递员会打电话吗",
    "my phone number changed, can i update it?",
    "我的手机号写错了怎么改",
    "what's the tracking number?",
])
def test_a_phone_the_customer_gives_or_the_courier_uses_is_not_the_shops_number(text) -> None:
    assert not shop_phone_asked(text)


HOLIDAY_DATE_QUESTIONS = [
    "Delivery takes 2-3 days, fine. Which exact dates do you stop delivering over Chinese New Year?",
    "When exactly do you stop delivering before the Spring Festival, and when do you resume?",
    "春节几号开始停止配送？几号恢复？",
    "国庆节你们哪几天不配送？",
]


@pytest.mark.parametrize("question", HOLIDAY_DATE_QUESTIONS)
def test_a_holidays_days_without_dispatch_are_a_matter_only_a_schedule_covers(shop, question) -> None:
    article_create(title="Holidays", tags="delivery", body="## Public holidays\n\nOrders paid on a public holiday "
                                                             "are delivered after the holiday.")
    article_create(title="节假日", language="zh-hans", tags="配送", body="## 节假日\n\n节假日付款的订单，节后配送。")
    assert covered_by(question) < settings.COVERAGE_MIN
    article_in_its_language(
        question,
        en=("Holiday closure", "delivery", "## Holiday schedule\n\nOver Chinese New Year and the Spring Festival we "
                                           "stop delivering on 8 February and resume on 18 February; the last order "
                                           "date is 7 February."),
        zh=("放假安排", "配送", "## 放假安排\n\n春节 2 月 8 日至 17 日、国庆节 10 月 1 日至 7 日暂停发货，不配送，"
                              "18 日恢复配送。"),
    )
    assert covered_by(question) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # whether a holiday's orders go out, or the customer's own day of paying: the next-working-day rule answers
    ("Do you deliver during Chinese New Year?", "Holidays"),
    ("I paid on the first day of National Day, when will it be delivered?", "Holidays"),
    ("国庆放假那几天你们配送不", "节假日"),
    ("五一放假第一天付的款，什么时候配送？", "节假日"),
    # the days of a parcel's arrival around a holiday, not of the shop closing: the delivery time answers
    ("If I order just before Chinese New Year, which day will it be delivered? Delivery is 2-3 days, right?",
     "Delivery"),
    ("过年前下单，哪天能送达？一般 2-3 天对吧", "配送"),
])
def test_whether_a_holidays_orders_go_out_is_no_question_of_its_dates(shop, question, title) -> None:
    article_create(title="Holidays", tags="delivery", body="## Public holidays\n\nOrders paid on a public holiday "
                                                             "are delivered after the holiday.")
    article_create(title="节假日", language="zh-hans", tags="配送", body="## 节假日\n\n节假日付款的订单，节后配送。")
    assert not holiday_dates_asked(question.lower())
    assert covered_by(question, title) >= settings.COVERAGE_MIN



@pytest.mark.parametrize("question", [
    # a repair the customer offers to pay for: an article's free repair of defects says nothing of one
    "I knocked the kettle off the counter myself. Can you repair it if I pay for the repair?",
    "The handle broke because I dropped it. Could I pay you to have it repaired?",
    "水壶是我自己摔坏的，能自费维修吗",
    "水壶我不小心碰坏了，维修收费也行",
])
def test_a_repair_the_customer_offers_to_pay_for_is_not_covered_by_free_repairs(shop, question) -> None:
    covered_only_once_named(
        question,
        near=(("Repairs", "warranty", "## Repairs\n\nA kettle with a defect is repaired free of charge under the "
                                      "warranty."),
              ("维修", "保修", "## 维修\n\n保修期内有质量问题的水壶免费维修。")),
        named=(("Paid repairs", "warranty", "## Paid repairs\n\nPieces broken by accident can be repaired for a "
                                            "fee: paid repairs cost ¥50."),
               ("付费维修", "保修", "## 付费维修\n\n人为损坏的水壶可以付费维修，每件 50 元。")),
    )


@pytest.mark.parametrize("question", [
    "It's my first order with you. Any discount code for new customers?",
    "do students get money off?",
    "第一次在你们家买，新人有券吗",
    "老顾客有没有折扣",
    # the rest of the message is the articles' (paying, an order, a kettle): the offer is still what is asked
    "Paying by card for my first kettle order: is there a discount for new customers?",
    "第一次下单买水壶，用银行卡付款，新人有优惠吗",
])
def test_an_offer_for_a_kind_of_customer_is_covered_only_by_an_article_that_names_one(shop, question) -> None:
    covered_only_once_named(
        question,
        near=(("Prices", "payment", "## Prices\n\nOur prices include VAT. A coupon's discount is taken off at "
                                    "checkout."),
              ("价格", "付款", "## 价格\n\n价格已含增值税。优惠券的折扣在结算时扣除。")),
        named=(("Offers", "payment", "## New customer discount\n\nNew customers and students get a ¥10 coupon on "
                                     "their first order."),
               ("新人优惠", "付款", "## 新人优惠\n\n新人和学生首单可领 10 元优惠券，老顾客享会员折扣。")),
    )


@pytest.mark.parametrize("question", [
    "Could you put 'office supplies' on the invoice instead of the tea?",
    "Can the fapiao list the goods as gifts?",
    "发票上的品名能写成办公用品吗",
    "开票内容可以改成礼品吗",
    "We need the electronic invoice for our kettle order to list the items as 'office supplies'. Possible?",
    "水壶订单的电子发票，品名能写成办公用品吗",
    "电子发票的品名能只写成水壶吗",  # every other word the articles': the goods named by choice is what is asked
])
def test_goods_named_on_an_invoice_by_choice_are_covered_only_by_an_article_that_says_so(shop, question) -> None:
    covered_only_once_named(
        question,
        named=(("Invoice content", "invoice", "## Invoice goods description\n\nThe invoice goods description is "
                                              "always the items you bought; we cannot change it."),
               ("开票内容", "发票", "## 开票内容\n\n开票内容按实际购买的商品开具，不能改成其他名称。")),
    )


@pytest.mark.parametrize("question", [
    "My basket comes to 105 yuan and my coupon takes 10 off. Do I still get free shipping?",
    "满99免运费，是用券前算还是用券后算？",
    # the rest of the message is the delivery article's (an order, its shipping): the coupon is still what is asked
    "The kettle order is 105 yuan before my 10 yuan coupon. Is delivery of the order free?",
    "水壶订单105元，用了10元的券，配送还免运费吗",
])
def test_a_discount_against_the_free_shipping_threshold_is_covered_only_by_an_article_that_says(shop, question) -> None:
    covered_only_once_named(  # the delivery article gives the threshold, not whether a coupon counts
        question,
        named=(("Coupons", "delivery", "## Coupons\n\nThe free shipping threshold after discount: a coupon is taken "
                                       "off first."),
               ("优惠券", "配送", "## 优惠后包邮\n\n优惠后包邮：包邮门槛按用券后的实付金额计算。")),
    )


@pytest.mark.parametrize(("question", "alone", "asked", "told"), [
    # what comes after words that say it is the question is what is asked, as well covered as if asked alone; the
    # telling before is not
    ("我用支付宝付款没问题，就是想问一下能送到西藏吗？", "能送到西藏吗？", "配送", "付款"),
    ("退货流程我都清楚了，我主要想了解一下发票能不能开纸质的", "发票能不能开纸质的", "发票", "退货"),
    ("Paying by card is fine, I just wanted to ask whether you deliver to Tibet", "whether you deliver to Tibet",
     "Delivery", "Payment"),
    ("I know how returns work. My actual question is whether you post paper invoices.",
     "whether you post paper invoices.", "Invoices", "Returns"),
])
def test_what_follows_words_saying_it_is_the_question_is_what_is_asked(shop, question, alone, asked, told) -> None:
    assert covered_by(question, asked) >= covered_by(alone, asked) > covered_by(question, told)


@pytest.mark.parametrize("question", [
    "就是想问一下能送到西藏吗",  # nothing told before: the whole message is the question
    "I just wanted to ask whether you deliver to Tibet",
])
def test_words_saying_so_with_nothing_before_read_the_message_as_it_is(shop, question) -> None:
    from knowledge.retrieval.coverage import _parts

    parts, _ = _parts(question)
    assert len(parts) == 1


@pytest.mark.parametrize("question", [
    # the rule bent for the customer: the article stating the rule does not grant it, a person decides
    "I want to return an unused kettle in its box, but it's day 16. Can you make an exception?",
    "Can I return the unused cup after 14 days if you bend the rules?",
    "水壶没使用，收到16天了，能不能通融一下退货？",
    "超过14天了，未使用的杯子退货可以特殊处理吗",
])
def test_a_rule_bent_for_the_customer_is_not_covered_by_the_rule(shop, question) -> None:
    title = "Returns" if question.isascii() else "退货"
    assert covered_by(question, title) < settings.COVERAGE_MIN
    article_in_its_language(
        question,
        en=("Late returns", "returns", "## Late returns\n\nA few days late? We make an exception to the return window "
                                       "once per customer if the item is unused."),
        zh=("逾期退货", "退货", "## 逾期退货\n\n超过 14 天几天的，未使用的商品每位顾客可以通融一次，特殊处理退货。"),
    )
    assert covered_by(question) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # a weekend day worked in place of a holiday: a rule of working days does not settle it
    ("Sunday is an official make-up working day this year. Do you dispatch orders paid on make-up workdays?",
     "Holidays"),
    ("这周六是调休上班日，周六付款的订单当天发货吗？", "节假日"),
])
def test_a_make_up_working_day_is_not_settled_by_a_rule_of_working_days(shop, question, title) -> None:
    article_create(title="Holidays", tags="delivery", body="## Dispatch days\n\nWe dispatch orders on working days, "
                                                             "Monday to Friday; orders paid at the weekend or on a "
                                                             "public holiday are dispatched on the next working day.")
    article_create(title="节假日", language="zh-hans", tags="配送",
                   body="## 发货时间\n\n工作日（周一至周五）付款的订单当天发货；"
                        "周末或节假日付款的订单顺延至下一个工作日发货。")
    assert covered_by(question, title) < settings.COVERAGE_MIN


def test_a_make_up_working_day_an_article_names_is_covered(shop) -> None:
    article_create(title="调休", language="zh-hans", tags="配送",
                   body="## 调休上班日\n\n国家规定的调休上班日，我们照常发货，付款后 24 小时内发出。")
    assert covered_by("这周六是调休上班日，周六付款的订单当天发货吗？", "调休") >= settings.COVERAGE_MIN



@pytest.mark.parametrize(("previous", "question", "title"), [
    # a follow-up whose object is the last answer's thing is searched with the turn before: that thing's article
    ("怎么开发票？", "开好之后寄给我吗？", "发票"),
    ("水壶收到时就破损了怎么办？", "拍好之后发给谁？", "保修"),
])
def test_a_follow_up_leaving_out_the_last_answers_thing_finds_its_article(shop, previous, question, title) -> None:
    from knowledge.selectors import knowledge_lookup

    grounding = knowledge_lookup(question=question, previous_question=previous, has_history=True, profile="default",
                                 use_cache=False)
    assert not grounding.standalone
    assert any(hit.title == title and (hit.coverage or 0) >= settings.COVERAGE_MIN for hit in grounding.result.hits)


@pytest.mark.parametrize("question", [
    "How much is the glass kettle?",
    "how much would it set me back to send the cups to Chengdu",
    "What does overnight delivery cost?",
    "what's the price of the steel kettle",
    "Steel kettle, price?",
    "how expensive is the repair after the warranty?",
    "玻璃水壶多少钱？",
    "寄到成都运费大概多少",
    "钢壶什么价",
    "修一次要收多少",
    "换个壶盖贵不贵",
])
def test_an_amount_of_money_asked_is_read_as_such(question) -> None:
    assert amount_asked(question.lower())


@pytest.mark.parametrize("question", [
    "How much caffeine is in your black tea?",  # how much of something, not what it costs
    "is there a fee for paying by card?",  # whether, which a rule can settle
    "how many days does delivery take?",
    "I paid ¥120 for the kettle, can I return it?",
    "Do I have to pay for the return postage?",
    "水壶有几种颜色？",
    "退货运费要我出吗？",
    "花了两百块买的，能退吗？",
    "how much time do I have to pay after ordering?",  # how much time
    "How much longer will my delivery take?",
])
def test_a_question_that_asks_no_amount_is_not_read_as_asking_one(question) -> None:
    assert not amount_asked(question.lower())


RETURNS_TEXT = ("You can return a kettle or a cup within 14 days.\n- Change of mind: the item must be unused and in "
                "its box, and you pay the return postage.\n- Faulty, spoiled or wrong items: we pay the postage, "
                "even if the item has been opened.")
DELIVERY_TEXT = "We deliver in 2-3 days. Orders under ¥99 pay ¥10 shipping; overnight delivery costs ¥30."
WARRANTY_TEXT = "Kettles have a two-year warranty against defects. Faulty ones are repaired free of charge."
ZH_RETURNS_TEXT = ("收到后 14 天内可以退货。\n- 个人原因退货：商品需未使用，退货运费由顾客承担。\n"
                   "- 质量问题或发错货：运费由我们承担。")
ZH_DELIVERY_TEXT = "一般 2-3 天送达。订单满 99 元免运费，不满收 10 元运费。"


@pytest.mark.parametrize(("question", "text", "stated"), [
    # the line on what is priced gives the amount, or says there is nothing to pay
    ("How much is shipping on a ¥60 order?", DELIVERY_TEXT, True),
    ("what would overnight delivery cost me?", DELIVERY_TEXT, True),
    ("How much does it cost to send back a faulty cup?", RETURNS_TEXT, True),
    ("How much is a repair of a faulty one?", WARRANTY_TEXT, True),
    ("不满99元运费多少钱？", ZH_DELIVERY_TEXT, True),
    ("发错货了，寄回去的运费要多少钱？", ZH_RETURNS_TEXT, True),
    # the sentence that asks the amount says what is priced, not another question of the message
    ("我用微信付，加急配送多少钱？下单后多久之内要付款？",
     ZH_DELIVERY_TEXT + "\n下单后请在 30 分钟内完成付款，超时自动取消。", True),
    ("Paying by card. What does overnight delivery cost? How long after ordering do I have to complete the payment?",
     DELIVERY_TEXT + "\nComplete the payment within 30 minutes of ordering, or the order is cancelled.", True),
    ("How much is next-day delivery for a gift box?",  # when an order is paid is no line of paying
     "Next-day delivery costs ¥20.\nGift boxes paid before noon get next-day delivery.", True),
    ("What does it cost to have a kettle delivered?",  # an inflected word has its plain form's synonyms
     "Kettles are packed by hand.\nWe deliver in 2-3 days.\nOrders under ¥99 pay ¥10 shipping.", True),
    # an amount stated by what it is
    ("How much will the invoice be for?", "The invoice amount is the amount you actually paid, after discounts.", True),
    ("开票金额是多少钱？", "开票金额为实付金额（含运费）。", True),
    ("How much tax is added at checkout?", "All prices are in yuan and include VAT.", True),
    ("结账时还要加多少税？", "所有价格均以人民币标价，价格已含增值税。", True),
    ("How much will I get back if I return it?", "Once your return arrives, we refund you to your card.", True),
    ("If I send the kettle back, how much of my money do I get back?", "Once it arrives, we refund you.", True),
    ("How much is paid back to my card after a return?", "Once it arrives, we refund you.", True),
    ("退货能退多少钱？", "验收后 3-5 个工作日内原路退款。", True),
    # a line on refunds gives no cost of sending a return
    ("How much will it cost me to send back a kettle I changed my mind about?",
     "Change of mind: you pay the postage back.\nOnce your return arrives, we refund you.", False),
    # the line on it gives none, though another line of the text does
    ("How much will the postage be to return a kettle I just changed my mind about?", RETURNS_TEXT, False),
    ("个人原因退货的话，寄回去运费大概多少钱？", ZH_RETURNS_TEXT, False),
    # no line says what is priced
    ("How much is the steel kettle?", WARRANTY_TEXT, False),
    ("钢壶多少钱一个？", "钢壶保修两年。收到时破损请在 48 小时内联系我们，我们免费补发。", False),
])
def test_an_amount_is_stated_by_the_line_on_what_is_priced(question, text, stated) -> None:
    assert amount_stated(question, [text]) is stated
