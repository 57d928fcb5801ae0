"""Coverage of the forms customers put the articles' words in: places for the regions an article names, Chinese
verbs with complements, split and mistyped words, quantities, and what a question asks to have sent or paid for.

Each case fails without its rule: the question's word is then one no article has, and the source covers too
little of the question to be given (or, for an object, too much)."""

from __future__ import annotations

import unicodedata

import pytest
from django.conf import settings

from knowledge.retrieval.coverage import PASSING_MENTION, question_units
from knowledge.retrieval.heads import other_sellers, own_sending, place_visit
from knowledge.retrieval.terms import chinese_words, index_terms, query_terms
from knowledge.tests.factories import article_create
from knowledge.tests.retrieval_checks import coverage_by, covered_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(fake_ollama) -> None:
    article_create(
        title="Delivery", tags="shipping",
        body="## Where we deliver\n\nWe deliver to mainland China only, Tibet and Xinjiang included (a few days "
             "more). We do not ship to Hong Kong, Macao, Taiwan or overseas addresses. Standard delivery takes "
             "2-4 days.\n\n## Fees\n\nShipping is free over ¥199, else ¥12.",
    )
    article_create(title="配送说明", language="zh-hans", tags="配送",
                   body="## 配送范围\n\n仅配送中国大陆，暂不支持港澳台及海外地址。西藏、新疆需多等几天。")
    article_create(title="发票开具说明", language="zh-hans", tags="发票",
                   body="## 如何开票\n\n下单后 90 天内可在订单页申请电子发票，个人和公司抬头都可以开。")
    article_create(title="支付方式", language="zh-hans", tags="支付",
                   body="## 付款失败\n\n结账时付款失败，请检查信用卡是否超出限额，或换用支付宝、微信支付。")
    article_create(title="Teaware warranty", tags="teaware",
                   body="## Warranty\n\nAll teaware has a 1-year warranty. Cups and gaiwans broken in transit are "
                        "replaced for free.")
    article_create(title="茶具保修", language="zh-hans", tags="保修",
                   body="## 一年保修\n\n茶具享受一年保修，运输破损免费补发。")


def covers(question: str, title: str) -> float:
    return coverage_by(question, title)


def as_read(question: str) -> str:
    """A question as the head rules read it (knowledge.retrieval.coverage: NFKC, lower case)."""
    return unicodedata.normalize("NFKC", question).lower()


@pytest.mark.parametrize(("question", "title"), [
    ("Do you deliver to Lhasa?", "Delivery"),  # Lhasa is in Tibet
    ("how long does shipping to Urumqi take", "Delivery"),  # Xinjiang
    ("can you ship to my cousin in Taipei", "Delivery"),  # Taiwan
    ("what does delivery to Toronto cost", "Delivery"),  # a city abroad: overseas
    ("寄到纽约要多久", "配送说明"),  # 海外
    ("能寄到拉萨吗", "配送说明"),  # 西藏; "能寄到": a modal and a complement around the verb
    ("发货到高雄可以吗", "配送说明"),  # 港澳台
])
def test_a_place_is_covered_by_the_region_the_article_names(shop, question, title) -> None:
    assert covers(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("What's the weather like in Lhasa tomorrow?", "Delivery"),
    ("Any good restaurants in Toronto?", "Delivery"),
    ("拉萨明天天气怎么样", "配送说明"),
    ("纽约有什么好玩的地方", "配送说明"),
])
def test_a_place_is_where_not_what_a_question_asks_about(shop, question, title) -> None:
    # The region covers the place in passing and the place weighs half a word: the subject is uncovered.
    assert covers(question, title) < settings.COVERAGE_MIN


def test_a_region_of_two_words_covers_its_places(shop) -> None:
    """Kowloon lies in Hong Kong, which the delivery article names in two words: they cover it together."""
    assert covers("Kowloon", "Delivery") == PASSING_MENTION


def test_someones_place_is_their_home_not_a_word_of_ordering() -> None:
    assert "place" not in {unit.word for unit in question_units("can you send it straight to her place?")}
    assert "place" in {unit.word for unit in question_units("how do I place an order?")}


def test_a_place_weighs_half_and_is_covered_in_passing_at_most(shop) -> None:
    [place] = [unit for unit in question_units("ship to Beijing") if unit.regions]
    assert place.word == "beijing" and place.weight == 0.5 and "mainland" in place.regions
    # "mainland" is said twice in the article: still a passing mention for a place.
    assert covers("Beijing", "Delivery") <= PASSING_MENTION


@pytest.mark.parametrize(("run", "word"), [
    ("能寄到美国吗", "寄到"),  # the modal glued by the segmenter comes off
    ("付不了款", "付款"),  # a word split by a potential complement is joined again
    ("退不了货怎么办", "退货"),
    ("想退个货，入口在哪", "退货"),  # split by a measure word, joined again
    ("昨天付了个款，订单还显示没付", "付款"),
])
def test_chinese_words_are_those_an_article_can_have(run, word) -> None:
    assert word in chinese_words(run)


def test_a_determiner_and_its_thing_are_not_joined_over_the_measure_word() -> None:
    assert "那人" not in chinese_words("那个人说三天能到") and "每人" not in chinese_words("每个人都要开发票吗")


def test_a_verb_with_a_complement_is_searched_as_its_verb(shop) -> None:
    terms = query_terms("能寄到杭州吗")
    assert terms["寄到"] == 1.0 and "配送" in terms and "mainland" in terms  # the verb's group, the place's region


@pytest.mark.parametrize(("question", "title"), [
    ("发票能开个人抬头吗，发漂要多久", "发票开具说明"),  # 发漂: the keys of 发票 on a pinyin keyboard
    ("茶具摔坏了能保休吗", "茶具保修"),  # 保休 for 保修
])
def test_a_chinese_word_mistyped_by_its_sound_is_the_articles_word(shop, question, title) -> None:
    assert covers(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    # the slip's first character glued by the segmenter to the word before ("开发" + "漂"), which no article has
    ("我是个人买的，也能开发漂吗？", "发票开具说明"),
    ("我4月1号下的单，今天还能开发漂吗", "发票开具说明"),
    ("茶具摔坏了，你们管保休吗", "茶具保修"),
])
def test_a_mistyped_word_the_segmenter_glued_to_the_word_before_is_the_articles_word(shop, question, title) -> None:
    assert covers(question, title) >= settings.COVERAGE_MIN


def test_a_glued_slip_is_mended_only_from_a_word_the_base_lacks_into_one_it_has(shop) -> None:
    from knowledge.retrieval.coverage import glued_slip_mended
    from knowledge.retrieval.snapshot import current_snapshot

    snapshot = current_snapshot()
    assert glued_slip_mended(snapshot, "也能开发漂吗") == "也能开 发票吗"
    assert glued_slip_mended(snapshot, "可以开发票吗") == "可以开发票吗"  # spelt right: left as it is
    assert glued_slip_mended(snapshot, "我们做软件开发的") == "我们做软件开发的"  # no slip of a word it has
    assert glued_slip_mended(snapshot, "how long?") == "how long?"
    assert glued_slip_mended(snapshot, "能开发。发〇吗") == "能开发。发〇吗"  # marks of the run have no reading
    assert glued_slip_mended(snapshot, "我们办公室六个人") == "我们办公室六个人"  # 个人 is the articles' word as typed
    assert glued_slip_mended(snapshot, "能用花呗分期付吗") == "能用花呗分期付吗"  # 分期 meant, 付 no slip of 支付


@pytest.mark.parametrize("question", [
    "how do I kick off a return? is there a button somewhere?",
    "ok cool, how do i kick that off",  # after an answer about returns
    "Where do I initiate a return?",
])
def test_setting_a_matter_going_in_everyday_words_is_starting_it(shop, question) -> None:
    article_create(title="Returns", tags="returns",
                   body="## How to start a return\n\nOpen My Orders, choose the order and click Request return.")
    assert covers(question, "Returns") >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("word", "form"), [
    ("sent", "send"),  # the article's verb, met by the past form a story is told in
    ("paid", "pay"),
    ("bought", "buy"),
    ("broke", "broken"),  # two irregular forms of one verb meet too
])
def test_an_irregular_past_form_is_the_articles_verb(fake_ollama, word, form) -> None:
    from knowledge.retrieval.coverage import vocabulary_forms
    from knowledge.retrieval.snapshot import current_snapshot

    article_create(title="Orders", tags="orders",
                   body=f"## Your order\n\nWe {form} every order with care; ask us if anything is unclear.")
    assert form in vocabulary_forms(current_snapshot(), word)


def test_a_homophone_must_differ_by_one_character_and_only_stands_in_for_a_word_the_base_lacks(shop) -> None:
    from knowledge.retrieval.coverage import vocabulary_forms
    from knowledge.retrieval.snapshot import current_snapshot

    snapshot = current_snapshot()
    assert vocabulary_forms(snapshot, "发漂") == ["发票"]
    assert vocabulary_forms(snapshot, "发票") == []  # a word it has is itself
    assert vocabulary_forms(snapshot, "珐瓢") == []  # same sound, no character in common: not a slip


@pytest.mark.parametrize(("question", "absent"), [
    ("信用卡刷了好几笔，结账一直提示超出限额，付不了款是怎么回事", {"好几笔", "一直", "不了", "怎么回事", "笔"}),
    ("购物车里两罐龙井加起来180块，还要另外出运费吗", {"里", "两罐", "加起来", "还要", "另外", "罐"}),
    ("我人在纽约", {"我人"}),  # a glued word of one substantial character is that character
])
def test_quantities_connectives_and_function_words_are_no_content(question, absent) -> None:
    assert not absent & {unit.word for unit in question_units(question)}


def test_the_card_question_in_a_long_sentence_is_covered_by_the_payment_article(shop) -> None:
    assert covers("我信用卡今天已经刷了好几笔，结账的时候一直提示超出限额，付不了款是怎么回事", "支付方式") >= 0.28


@pytest.mark.parametrize("question", [
    "which courier is cheapest for shipping a sofa?",
    "can i pay for a new car in monthly instalments with my credit card",
    "how much does it cost to send a piano to Beijing",
    "can you deliver a fridge to Tibet",
])
def test_what_is_asked_to_be_sent_or_paid_for_is_a_head_when_no_article_names_it(shop, question) -> None:
    assert covers(question, "Delivery") < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "can you ship a gaiwan to Xinjiang",  # the warranty article names gaiwans
    "how much to send two cups to Tibet",  # and cups
    "do you deliver teapots to Lhasa",  # no object frame: "deliver teapots" has one, "teapot" begins with "tea"
    "can you ship the tea to Tibet",  # tea: an article's own word
    "can you send it to Urumqi",  # a pronoun is no object
])
def test_an_object_the_shop_names_or_a_compound_of_its_words_is_no_head(shop, question) -> None:
    article_create(title="Tea", body="## Our tea\n\nLoose-leaf tea from Hangzhou.")
    assert covers(question, "Delivery") >= settings.COVERAGE_MIN


def test_a_named_carrier_of_several_words_is_another_seller(shop) -> None:
    units = question_units("how much does China Post charge to deliver a parcel to Germany")
    assert any(unit.word == "china post" and unit.head for unit in units)
    assert covers("how much does China Post charge to deliver a parcel to Germany", "Delivery") < 0.28
    assert not any(unit.whole_message for unit in question_units("can I pay with Apple Pay"))  # a way to pay


@pytest.mark.parametrize(("question", "concept"), [
    ("I ordered the sencha but you sent me jasmine instead", "wrong item"),
    ("我下单买的是白茶，结果寄来的是红茶", "发错货"),
    ("订的是绿茶，收到的却是乌龙", "发错货"),
    ("can I ship my teapot back to you", "return"),  # "ship … back": returning, the object kept
    ("do I pay the postage when I send the cups back?", "return"),
    ("can i check out with a visa card", "check out"),
])
def test_everyday_phrasings_of_a_shop_concept_are_the_concept(question, concept) -> None:
    assert concept in {unit.word for unit in question_units(question)}


@pytest.mark.parametrize("question", [
    "I ordered tea and received it yesterday",  # no "but": nothing wrong
    "I was sent back home early",  # no object between: no return
])
def test_the_concepts_need_their_whole_shape(question) -> None:
    assert not {"wrong item", "return"} & {unit.word for unit in question_units(question)}


def test_a_teapot_shipped_back_keeps_the_teapot() -> None:
    assert {"return", "teapot"} <= {unit.word for unit in question_units("can I ship my teapot back to you")}


def test_a_named_company_is_another_seller_whatever_shop_words_it_shares(shop) -> None:
    # "price" is a word of the fee group the delivery article covers; Alibaba's share price is not its matter.
    assert covers("What is Alibaba's share price right now?", "Delivery") < settings.COVERAGE_MIN
    assert covers("what is the price of shipping to Tibet", "Delivery") >= settings.COVERAGE_MIN


@pytest.fixture
def shop_with_tea(shop) -> None:
    # The shop's goods said in several articles: "茶" names a class of its goods (白茶, 红茶 are kinds of it).
    for title in ("茶叶保存", "茶叶产地", "新茶上市"):
        article_create(title=title, language="zh-hans", body=f"## {title}\n\n我们的茶来自杭州，茶叶新鲜。")


def test_the_clause_that_asks_is_read_with_the_one_before_it_in_a_story(shop) -> None:
    story = "家里的猫把茶杯从桌上扫下去了，磕掉了一小块，这个茶具能走保修吗"
    assert covers(story, "茶具保修") >= settings.COVERAGE_MIN
    # Two clauses are no story: read whole, as before.
    assert covers("家里的猫把茶杯从桌上扫下去了磕掉了一小块，这个能走保修吗", "茶具保修") < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "我在网上买了一台冰箱，送到的时候门是坏的，能退货吗",  # the fridge is what the story is about, in every clause
    "我寄了两部手机给朋友，路上摔坏了，能保修吗",
])
def test_counted_goods_no_article_names_are_the_head_of_the_whole_message(shop_with_tea, question) -> None:
    assert max(covers(question, title) for title in ("茶具保修", "配送说明")) < settings.COVERAGE_MIN


def test_counted_goods_of_a_kind_the_shop_sells_are_no_head(shop_with_tea) -> None:
    units = question_units("想给朋友寄一盒白茶，能寄到拉萨吗")
    assert any(unit.word == "白茶" and unit.head_if_unknown for unit in units)
    assert covers("想给朋友寄一盒白茶，能寄到拉萨吗", "配送说明") >= settings.COVERAGE_MIN


def test_an_amount_of_money_is_no_content_and_goods_of_the_shops_kind_no_head(shop_with_tea) -> None:
    assert not {"210", "¥210", "180元"} & {unit.word for unit in question_units("一共 ¥210，另外180元呢")}
    # 白茶: a kind of 茶, which the shop says in words of three articles or more (茶叶, 茶具…), so no head.
    assert covers("买了两罐白茶一共 ¥210，还要另外付运费吗？", "配送说明") >= settings.COVERAGE_MIN


def test_a_date_in_digits_is_no_content() -> None:
    # when, not what about, as an amount is: "4月1号", "7月15", "15号"
    words = {unit.word for unit in question_units("我4月1号下的单，今天都7月15了，15号前能开发票吗")}
    assert not {"1", "15", "号", "月"} & words and "开发票" in words


def test_a_verb_with_a_two_character_complement_is_its_verb() -> None:
    from knowledge.retrieval.synonyms import single_word_synonyms

    assert "配送" in single_word_synonyms("寄过来") and "配送" in single_word_synonyms("寄到")
    assert single_word_synonyms("过来") == []  # no verb: nothing
    assert "退货" in single_word_synonyms("寄回去")  # 寄回, returning, before 寄 alone


@pytest.mark.parametrize(("question", "concept"), [
    ("Can I just hand the courier cash when it arrives?", "cash on delivery"),
    ("we need to deduct the input tax, what do you need from us", "input tax"),
    ("页面卡了一下，结果扣了我两次钱", "重复扣款"),
    ("银行扣了我们2笔，订单只有一个", "重复扣款"),
])
def test_more_everyday_phrasings_of_shop_concepts(question, concept) -> None:
    assert concept in {unit.word for unit in question_units(question)}


@pytest.mark.parametrize("question", [
    "How do I apply for a courier job at SF Express?",
    "顺丰能寄宠物吗？",
    "How do I pay a parking ticket I got in Shanghai?",
    "茶叶蛋怎么煮才入味？",  # cooking with tea is a recipe, not the shop's matter
    "how long should I marinate chicken in black tea before I roast it?",
])
def test_jobs_pets_and_parking_are_fields_outside_a_shop(shop, question) -> None:
    assert max(covers(question, title) for title in ("Delivery", "配送说明")) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "Uber Eats never brought my dinner, how do I get the delivery fee refunded?",  # a meal-delivery app's order
    "the Didi driver says I can get a fapiao, where do I ask for it?",
    "饿了么的配送费能开发票吗",
    "My takeout came an hour late, can I get the delivery charge back?",  # a meal's delivery, not the shop's
    "外卖骑手送晚了，配送费能退吗",
    # an airline's, a phone carrier's, a bank's
    "the airline lost my luggage on the flight, do they deliver it to my home?",
    "机票改签的手续费能开发票吗",
    "my new SIM card from the carrier hasn't been delivered yet",
    "中国联通的发票怎么开",
    "the ATM kept my card, how do I get the money refunded?",
    "信用卡年费扣了能退吗",
])
def test_other_companies_services_in_shop_words_are_not_the_shops(shop, question) -> None:
    assert max(covers(question, title) for title in ("Delivery", "配送说明", "发票开具说明")) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "gonna grab lunch, but first: do you deliver to Tibet?",
    "grab the chance: is shipping free over ¥199?",
])
def test_grabbing_something_is_no_ride_hailing_app(shop, question) -> None:
    assert other_sellers(question) == (set(), False)


def test_grab_is_the_app_where_its_use_says_so() -> None:
    assert other_sellers("ordered noodles on grab, can I get the delivery fee back?")[0]
    assert other_sellers("my grabfood rider never came")[0]


def test_what_is_sent_back_is_returned_whatever_it_is(shop) -> None:
    units = question_units("the teapot is in three pieces, do I need to mail the shards back to you?")
    assert not any(unit.head_if_unknown and unit.word == "shard" for unit in units)
    assert "return" in {unit.word for unit in units}


@pytest.mark.parametrize("question", [
    "What's the price of bitcoin today?",
    "what's the cost of living in Hangzhou",
    "How much does the Louvre charge for tickets?",
])
def test_what_is_priced_is_a_head_when_no_article_names_it(shop, question) -> None:
    assert max(covers(question, title) for title in ("Delivery", "Teaware warranty")) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", ["what's the price of shipping to Tibet?", "what is the cost of delivery"])
def test_the_price_of_what_the_articles_name_is_covered(shop, question) -> None:
    assert covers(question, "Delivery") >= settings.COVERAGE_MIN


def test_the_readings_load_without_pypinyins_phrase_dictionary() -> None:
    import os
    import subprocess
    import sys

    # A fresh process: pypinyin loads once per process, with or without its phrases (57 MB against 13 MB).
    code = ("import django; django.setup(); from knowledge.retrieval.coverage import _readings; "
            "readings = sorted(_readings('漂')); import pypinyin.constants as c; print(readings, len(c.PHRASES_DICT))")
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYPINYIN")}
    env.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['biao',", "'piao']", "0"]


@pytest.mark.parametrize(("run", "word"), [
    ("怎么用微信交话费", "微信"),  # jieba alone: 用微 / 信交 / 话费
    ("我想用顺丰寄到北京", "顺丰"),  # jieba alone: 顺 / 丰寄
    ("我在拼多多买的茶叶", "拼多多"),  # jieba alone: 拼 / 多多
    ("能用云闪付吗", "云闪付"),
    ("东西已经放到菜鸟驿站了", "菜鸟驿站"),
    ("新买的盖碗一直渗水", "渗水"),  # a synonym group's word
])
def test_everyday_words_jiebas_dictionary_lacks_are_cut_whole(run, word) -> None:
    assert word in chinese_words(run)


def test_threads_of_a_fresh_process_all_cut_with_the_extended_dictionary() -> None:
    import os
    import subprocess
    import sys

    # A fresh process, as a threaded worker starts: eight tasks cut at once, none before the words are added.
    code = ("import django; django.setup(); from concurrent.futures import ThreadPoolExecutor; "
            "from knowledge.retrieval.terms import chinese_words; "
            "cut = lambda _: '微信' in chinese_words('怎么用微信交话费') and '顺丰' in chinese_words('用顺丰寄'); "
            "print(all(ThreadPoolExecutor(8).map(cut, range(64))))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "helpdesk.settings")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_an_article_and_a_question_cut_a_new_word_alike(shop) -> None:
    # The index is cut by the same extended dictionary: the payment article's "微信支付" gives "微信" as a word, and
    # a question naming 微信 alone covers the article by it.
    assert "微信" in index_terms("换用支付宝、微信支付")
    assert covers("付款失败了，能换微信付吗", "支付方式") >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "我在拼多多买的茶叶一直没发货，你帮我催一下",  # the marketplace's name, cut in two by jieba alone
    "how do I pay my China Mobile phone bill with a credit card?",
    "怎么用微信交话费",
    "what's today's exchange rate from euros to yuan on a Visa card?",
    "能用支付宝交电费吗",
    "how is the SF Express share price doing this month?",  # a market's matter, not the shop's courier
    "is the stock price of the Alipay company up today? might buy some",
    # a translation asked for without the word "translate"
    "how do you say 'my parcel was delivered late' in Japanese?",
    "what's 'delivery in 2-3 days' in French",
    "包裹已经发货了用英文怎么说",
])
def test_another_sellers_and_other_fields_named_in_shop_words_are_heads(shop, question) -> None:
    assert max(covers(question, title) for title in ("支付方式", "配送说明", "Delivery")) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("付款失败了，是不是信用卡超出限额了", "支付方式"),
    ("用顺丰寄到西藏要多等几天吗", "配送说明"),
    ("can you deliver to Xinjiang, and how long does it take?", "Delivery"),
])
def test_the_shops_own_matters_in_the_same_words_are_still_covered(shop, question, title) -> None:
    assert covers(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "My sister lives in Xinjiang and I want to send her a present from your shop, how long will it take?",
    "can you deliver a gift to Tibet?",
    "想给新疆的朋友寄个礼物，要几天",
])
def test_a_gift_or_present_is_the_shops_goods_not_another_thing(shop, question) -> None:
    assert max(covers(question, title) for title in ("Delivery", "配送说明")) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "Ordered a green tea and got a black tea instead, what now?",
    "I received a white tea instead of the oolong I ordered",
    "we were sent the 200g tin instead of the 100g one we paid for",
    "they sent me a glass pot instead of the clay one I originally ordered",  # an adverb before the ordering
    "got the jasmine instead of the oolong we actually asked for, help",
])
def test_getting_one_thing_instead_of_what_was_ordered_is_a_wrong_item(question) -> None:
    assert "wrong item" in {unit.word for unit in question_units(question)}


@pytest.mark.parametrize("question", [
    "I got a refund instead of a replacement, why?",
    "I ordered two cups and got them yesterday, can I get a gift box instead?",
])
def test_instead_alone_is_no_wrong_item(question) -> None:
    assert "wrong item" not in {unit.word for unit in question_units(question)}


def test_a_preference_is_asking_not_content() -> None:
    words = {unit.word for unit in question_units("I'd rather you sent me a replacement than a refund")}
    assert not words & {"i'd", "rather"} and "refund" in words


@pytest.mark.parametrize(("question", "concept"), [
    ("the courier came while I was at work and nobody was home to sign, what now?", "failed delivery"),
    ("I missed the driver yesterday, will they come back?", "failed delivery"),
    ("I wasn't home when they tried to deliver my parcel", "failed delivery"),
    ("快递来的时候家里没人签收怎么办", "派送失败"),
    ("我白天不在家，没人收快递会怎样", "派送失败"),
    ("快递员说地址送不到", "派送失败"),
])
def test_a_delivery_nobody_was_there_for_is_a_failed_delivery(question, concept) -> None:
    assert concept in {unit.word for unit in question_units(question)}


@pytest.mark.parametrize("question", ["I was at home all day, where is my parcel?", "nobody answered my email",
                                      "家里有人，快递什么时候到"])
def test_being_home_or_an_unanswered_email_is_no_failed_delivery(question) -> None:
    assert not {"failed delivery", "派送失败"} & {unit.word for unit in question_units(question)}


@pytest.mark.parametrize(("run", "word", "absent"), [
    ("满多少包不包邮", "包邮", "不包"),  # a verb asked as itself and its negation is the verb, once
    ("退不退款", "退款", "不退"),
    ("这个你们管不管", "管", "不管"),
])
def test_a_verb_asked_with_its_negation_is_read_once(run, word, absent) -> None:
    words = chinese_words(run)
    assert word in words and absent not in words


def test_adverbs_of_time_and_manner_are_no_content() -> None:
    words = {unit.word for unit in question_units("用了半年的茶壶突然开始渗水，你们管不管")}
    assert not words & {"突然", "开始", "管", "不管"} and "渗水" in words


@pytest.mark.parametrize("question", [
    "I cracked my phone screen yesterday. Is that covered under warranty and how long does a repair take?",
    "my laptop is completely broken, is it under warranty?",
    "我的手机屏幕碎了，能保修吗",
    "我家电视坏了，保修期内能免费修吗",
])
def test_a_broken_thing_no_article_names_is_the_head_of_the_whole_message(shop, question) -> None:
    assert max(covers(question, title) for title in ("Teaware warranty", "茶具保修")) < settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "title"), [
    ("I dropped my gaiwan and it cracked, is it under warranty?", "Teaware warranty"),
    ("我的茶具碎了，还在保修期吗", "茶具保修"),
    # a part of the customer's own thing named before it: the thing's, not goods of another maker
    ("I knocked my gaiwan off the table and chipped the rim, is that under warranty?", "Teaware warranty"),
])
def test_a_broken_thing_the_shop_sells_is_covered(shop, question, title) -> None:
    assert covers(question, title) >= settings.COVERAGE_MIN


def test_a_damaged_part_is_the_thing_named_before_it() -> None:
    rim = {unit.word: unit for unit in question_units("i knocked my gaiwan off the shelf and chipped the rim")}["rim"]
    assert not rim.head_if_unknown
    # no thing of the customer's before it: what broke is the screen, another maker's goods
    screen = {unit.word: unit for unit in question_units("I cracked the screen, is that covered?")}["screen"]
    assert screen.head_if_unknown


@pytest.mark.parametrize(("question", "head"), [
    # what an amount is reckoned against: the delivery article says the threshold, not that (a discount against the
    # free-shipping threshold is read as that concept, itself a head)
    ("Do I still get free shipping, or is the ¥199 counted after the discount?", "threshold after discount"),
    ("is the free shipping threshold calculated before or after the coupon?", "threshold after discount"),
    ("Is the ¥199 counted before or after tax?", "tax"),
    ("满199包邮是按优惠前还是优惠后算？", "优惠"),
    # the language a document is asked in: the invoice article never says which
    ("Can you issue the invoice in English, with our company name?", "english"),
    ("could I get an English version of the receipt?", "english"),
    ("Can the invoice be issued in English?", "english"),
    ("能开英文的电子发票吗", "英文"),
    ("可以开日文的receipt吗", "日文"),  # the document named in English among Chinese
])
def test_a_detail_asked_of_a_covered_matter_is_the_head(shop, question, head) -> None:
    assert head in {unit.word for unit in question_units(question) if unit.head}
    assert covered_by(question) < settings.COVERAGE_MIN


def test_a_document_asked_for_without_a_language_stays_covered(shop) -> None:
    assert covered_by("能开电子发票吗", "发票开具说明") >= settings.COVERAGE_MIN
    assert not any(unit.head for unit in question_units("Can you answer in English please?")
                   if unit.word == "english")  # the chat's language, no document's


def test_a_threshold_asked_alone_stays_covered(shop) -> None:
    assert covers("Do I get free shipping over ¥199?", "Delivery") >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "present", "absent"), [
    ("满199包邮吗", {"包邮"}, set()),  # 包 of 包邮, no measure word
    ("两包邮费多少", {"邮费"}, {"两包"}),  # 包 before 邮费 counts the packs
    ("剩下大半包泡了一壶，晚上十点还能退吗", {"退"}, {"大", "一壶", "十点", "十"}),  # quantities and a clock time
    ("快递几点能送到", {"快递"}, {"几点"}),  # asking words
    ("要退掉其中一套，发票那边怎么处理", {"发票"}, {"其中", "那边"}),
])
def test_quantities_times_and_asking_words_are_no_content(question, present, absent) -> None:
    words = {unit.word for unit in question_units(question)}
    assert present <= words and not absent & words


@pytest.mark.parametrize(("question", "concept"), [
    ("can i just hand the SF guy the money when the box turns up?", "cash on delivery"),
    ("Can I pay the delivery man when he comes?", "cash on delivery"),
    ("can I hand the postman the cash", "cash on delivery"),
])
def test_paying_whoever_brings_the_parcel_is_cash_on_delivery(question, concept) -> None:
    assert concept in {unit.word for unit in question_units(question)}


def test_tipping_the_courier_is_no_cash_on_delivery() -> None:
    assert "cash on delivery" not in {unit.word for unit in question_units("I gave the courier a tip, was that ok?")}


def test_a_parcel_turning_up_is_its_arrival_and_family_is_whom_not_what() -> None:
    assert "turns up" in {unit.word for unit in question_units("when will the box turn up? it turns up late")} or \
        "turn up" in {unit.word for unit in question_units("when will the box turn up?")}
    assert "爸妈" not in {unit.word for unit in question_units("给成都的爸妈买了两罐红茶，运费要另外付吗？")}


def test_money_that_shows_up_is_no_parcel_arriving() -> None:
    # "shows up" is said of refunds as often as of parcels: not the shipping group's phrase ("turns up" is).
    assert "shows up" not in {unit.word for unit in question_units("How many days before the refund shows up?")}
    assert "turns up" in {unit.word for unit in question_units("what if the parcel never turns up?")}


@pytest.mark.parametrize("question", [
    "How much would SF charge me to ship my old bike to Chengdu?",
    "can I use a courier to send my laptop to my brother in Xi'an, and how much?",
    "我想自己用顺丰发一箱行李去上海，大概多少钱",
    "我能不能找快递寄一箱书给朋友，几天到",
    "what would EMS cost to post a parcel of old books to Canada?",
])
def test_sending_ones_own_things_with_a_courier_is_the_couriers_matter(shop, question) -> None:
    assert max(covers(question, title) for title in ("Delivery", "配送说明")) < settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "can I use SF to send the cracked cup back to you?",  # a return: the shop's matter
    "how much will the courier charge me to send my return back?",
    "how much does SF charge to ship my order to Tibet?",  # the shop's parcel: its delivery article's matter
    "你们能用顺丰发到西藏吗",  # the shop asked to use a courier
    "我想让你们用顺丰发货",
    "我要退货，能用顺丰寄回吗",
])
def test_a_courier_named_for_the_shops_own_sending_is_no_own_parcel(question) -> None:
    assert not own_sending(as_read(question))


def test_the_shop_asked_to_use_its_courier_stays_covered(shop) -> None:
    assert covers("你们能用顺丰发到西藏吗", "配送说明") >= settings.COVERAGE_MIN


@pytest.mark.parametrize(("question", "phrase"), [
    ("how is the SF Express share price doing this month?", "share price"),
    ("is the stock price of the Alipay company up today? might buy some", "stock price"),
    ("should I be buying shares now, the stock market looks cheap", "stock market"),
])
def test_a_market_named_in_shop_words_is_a_head_of_the_whole_message(question, phrase) -> None:
    assert phrase in {unit.word for unit in question_units(question) if unit.head and unit.whole_message}


@pytest.mark.parametrize("question", [
    "can I send the rest of the bag back for a refund?",  # five words between the verb and "back"
    "I'd like to post the whole unopened box of tins back",
])
def test_sending_something_back_is_a_return_however_long_the_thing(question) -> None:
    assert "return" in {unit.word for unit in question_units(question)}


@pytest.mark.parametrize("question", [
    "Is your Shanghai showroom open on public holidays?",
    "what's the address of your office? I'd like to pop in and pick some tea",
    "can I swing by the warehouse on Friday and grab my order myself",
    "我能直接去你们仓库取货吗",
    "快递网点一般几点下班",
    # collecting an order in person, with no place named
    "I'm nearby, could I collect it myself instead of having it shipped?",
    "is self-pickup an option for big orders?",
    "Can we pick the order up in person from your warehouse?",
    "下单以后能自提吗",
    "可以去你们仓库自己取货吗，省点运费",
    # coming for it, in chat spelling too
    "can i just come pick up my stuff at ur shanghai office rather than wait for the courier",
    "Could we come over and collect the order from you?",
    # the visit said after the place, and the order collected in person
    "Do you have a physical shop in Hangzhou I could visit this weekend?",
    "Is there a showroom we can drop by to see the cups first?",
    "Do you have a shop in Beijing where I could pick up an order in person?",
    "你们杭州的工作室可以参观吗？",
    "你们有实体店吗？周末想去逛逛",
    "想参观一下你们的工作室，需要预约吗",
])
def test_a_visit_to_a_place_or_its_hours_is_a_head(question) -> None:
    assert place_visit(as_read(question))


@pytest.mark.parametrize("question", [
    "when is your customer service open?",  # the support's hours, not a place's
    "can I collect my parcel from the SF service point?",  # the parcel waiting there: the delivery article's
    "客服几点下班",
    "I want to return the unopened tin within 48 hours",
    "I'd like to visit your online shop from my phone, is there an app?",  # a shop on the web
    "我的快递到店了吗",  # a parcel at a pick-up shop
    "the courier left it at a locker, can I collect it myself later?",  # a parcel waiting: the delivery article's
    "快递放驿站了，我自取要带什么",
    "if nobody is home I'll just collect it myself later, is that ok?",  # no place: may be the courier's
    "开专票需要向你们提供哪些资料",  # giving the shop something (提供), not collecting from it
    "快递到驿站了，能自提吗",  # the courier's point, not the shop's
    "can I self-collect the parcel from the SF locker?",
    "will the courier come and pick up the cracked cup from me?",  # the courier comes, not the customer
    "we'll come pick up the tea at the service point near home",
    "Is the studio I visited last year still packing the orders?",  # a visit told, not asked
    "工作室参观的时候买的茶能开发票吗",
    "the courier left it at a locker, can I pick up a parcel there in person?",
])
def test_support_hours_and_a_parcel_waiting_are_no_visit(question) -> None:
    assert not place_visit(as_read(question))


def test_a_visit_is_not_covered_by_an_article_naming_the_place_in_passing(shop) -> None:
    article_create(title="Our studio", tags="studio",
                   body="## Where we pack\n\nEvery order is packed by hand in our Hangzhou studio and leaves within "
                        "24 hours on working days.")
    assert covers("what time does your Hangzhou studio open on Saturdays?", "Our studio") < settings.COVERAGE_MIN


def test_opening_and_hours_in_two_sentences_are_no_opening_hours(shop) -> None:
    article_create(title="Studio returns", tags="studio",
                   body="## Returns at the studio\n\nOur Hangzhou studio checks returns within 48 hours. Opened tea "
                        "goes back to the studio's own shelves.")
    assert covers("what time does your Hangzhou studio open on Saturdays?", "Studio returns") < settings.COVERAGE_MIN


def test_a_visit_is_covered_by_an_article_giving_opening_hours(shop) -> None:
    article_create(title="Visit the studio", tags="studio, visit",
                   body="## Opening hours\n\nOur Hangzhou studio welcomes visitors: opening hours are 10:00 to 18:00, "
                        "Tuesday to Sunday.")
    assert covers("what time does your Hangzhou studio open on Saturdays?", "Visit the studio") >= settings.COVERAGE_MIN


@pytest.mark.parametrize("question", [
    "How much would SF charge me to ship my old bike to Chengdu?",
    "what would EMS cost to post a parcel of old books to Canada?",
    "我想自己用顺丰发一箱行李去上海，大概多少钱",
])
def test_a_customer_sending_their_own_things_is_an_own_parcel(question) -> None:
    assert own_sending(as_read(question))


@pytest.mark.parametrize(("question", "title"), [
    ("半年前买的茶叶，现在还能补开发票吗", "发票开具说明"),  # 开发票: cut whole, 开发 and 发票 inside
    ("去年买的茶叶还能开发票吗", "发票开具说明"),
])
def test_a_chinese_word_the_articles_lack_is_covered_as_the_word_it_ends_in(shop, question, title) -> None:
    assert covers(question, title) >= settings.COVERAGE_MIN


@pytest.mark.parametrize("asked", [
    "What happened here and what am I supposed to do?",
    "wat info do u need from me?",  # "wat": what, typed fast
    "What information do you need from me?",
])
def test_a_question_sentence_of_asking_words_is_read_with_the_story_before_it(shop, asked) -> None:
    """"What happened and what am I supposed to do?" or "what info do you need?" asks about the story before it, as
    "Why?" does: its words are no subject of their own for the sentence to be read alone by."""
    story = "At checkout my credit card payment failed and Alipay did too."
    assert [unit.word for unit in question_units(asked)] == []
    assert covers(f"{story} {asked}", "支付方式") >= settings.COVERAGE_MIN
