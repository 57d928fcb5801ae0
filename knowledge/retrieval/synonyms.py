"""Words that mean the same thing to a shop's customers, in English and Chinese, for keyword search and coverage.

Why: customers rarely use the articles' words. "Postage" asks what the article calls "shipping", "邮费" what it
calls "运费", "质保" what it calls "保修", and an English question about a Chinese-only article shares no word
with it at all when the embedding model is missing. Keyword ranking (BM25) and coverage (how much of the
question a source contains, which decides whether the bot may answer at all) would read such questions as
about nothing the shop knows, and decline them.

The built-in groups are the vocabulary of running an online shop (delivery, parcels, returns, refunds,
exchanges, warranty, damage, invoices, payment, cards, cash on delivery, coupons, tracking, tax, addresses,
accounts), each group one subject in both languages. They say nothing about any one shop's goods: a shop adds its
own (its products' other names, "gaiwan, 盖碗, 茶碗") with SEARCH_SYNONYMS. A synonym counts less than the
word itself in BM25 (QUERY_EXPANSION_WEIGHT, like the other expansions), and covers a word of the question as
the word would.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.conf import settings

# Each group: words and short phrases (Chinese as written, English in lower case, singular) of one subject.
BUILT_IN: tuple[tuple[str, ...], ...] = (
    ("shipping", "ship", "delivery", "deliver", "postage", "shipment", "dispatch", "courier", "carrier", "send", "sent",
     "arrive", "arrival", "turn up", "turns up", "turned up", "配送", "到货", "送",
     "发货", "发", "发出", "快递", "物流", "运费", "邮费", "快递费", "寄", "邮寄", "寄送", "送达", "派送", "送货",
     "出库", "出仓", "配送费", "运输费", "送货费"),
    ("opening hours", "business hours", "opening times", "营业时间", "开门时间"),
    # a holiday's days without dispatch (HOLIDAY_DATES): given as a schedule, not the next-working-day rule
    ("holiday schedule", "holiday closure", "closure dates", "last order date", "放假安排", "停发安排", "暂停发货"),
    # the shop's own number to ring (SHOP_PHONE): given as a number to call, not a phone number the customer provides
    ("shop phone", "hotline", "helpline", "phone line", "support line", "contact number", "service number", "客服电话",
     "客服热线", "服务热线", "热线", "致电", "拨打"),
    # a product to be had again (RESTOCK): "back in stock", "补货"
    ("restock", "back in stock", "restocked", "restocking", "补货", "重新上架", "到货通知"),
    # the shop's plans (FUTURE_PLANS): "plan", "coming soon", "计划"
    ("future plans", "plan", "planned", "planning", "coming soon", "roadmap", "计划", "即将", "敬请期待", "筹备"),
    ("express", "expedited", "faster", "fastest", "next-day", "overnight", "urgent", "次日达", "加急", "急件", "特快"),
    # the ordinary delivery beside express: "普通快递" is the article's 标准配送, not the invoice article's 普通(发票);
    # "normal delivery" is the article's "standard delivery", not the warranty's "normal use" and "delivery van"
    ("标准配送", "普通快递", "普快", "普通配送", "标准快递", "正常快递"),
    ("standard", "normal", "regular", "ordinary"),
    ("weekend", "saturday", "sunday", "holiday", "public holiday", "bank holiday", "national day", "golden week",
     "new year", "chinese new year", "spring festival", "周末", "周六", "周日", "星期六", "星期天", "节假日", "假期",
     "放假", "假日", "国庆", "国庆节", "春节", "过年", "五一", "中秋", "元旦", "清明", "端午", "黄金周", "长假"),
    ("fee", "cost", "charge", "price", "费用", "收费", "价格", "价钱"),
    ("working day", "weekday", "monday", "tuesday", "wednesday", "thursday", "friday", "工作日", "周一", "周二", "周三",
     "周四", "周五", "星期一", "星期二", "星期三", "星期四", "星期五", "business day", "上班", "上班日", "开工"),
    ("order", "cart", "basket", "订单", "下单", "购物车", "单子"),
    ("packaging", "box", "wrapping", "包装", "外包装", "包装盒", "盒子", "外箱"),
    ("shelf life", "best before", "use by", "expiry", "expiration", "expire", "保质期", "保鲜期", "有效期", "过期"),
    ("unused", "unopened", "sealed", "未使用", "没用过", "未拆封", "全新"),
    ("opened", "已拆封", "拆封", "拆开", "打开"),
    ("wrong item", "wrong product", "wrong order", "wrong tea", "not what i ordered", "发错货", "发错", "错发", "寄错",
     "与订单不符", "货不对版"),
    ("parcel", "package", "包裹", "快递件", "货物"),
    ("overseas", "international", "abroad", "foreign", "海外", "国外", "境外", "国际"),
    # setting a matter going, in everyday words: "how do I kick off a return?" is "how to start a return"
    ("start", "kick off", "kick it off", "kick that off", "kick this off", "begin", "initiate", "get started"),
    ("return", "send back", "退货", "退回", "寄回", "退换"),
    ("refund", "money back", "reimburse", "退款", "退钱", "退费", "原路退回"),
    ("exchange", "replacement", "replace", "换货", "换新", "补发", "更换"),
    ("warranty", "guarantee", "保修", "质保", "保修期", "保固"),
    ("broken", "damaged", "damage", "cracked", "crack", "chipped", "chip", "smashed", "shattered", "crushed", "dented",
     "破损", "摔碎", "碎", "碎片", "裂", "裂纹", "裂开", "缺口", "豁口", "口子", "磕碰", "损坏"),
    ("invoice", "receipt", "fapiao", "paperwork", "发票", "收据", "专票", "普票"),
    # an invoice made out: "之前开好的发票", "已经开出来的票" are the articles' 开具 and 开票
    ("开具", "开票", "开好", "开出", "开出来", "开过"),
    # a lid that does not fit, told by what it does: "it rattles", "never sat snug", "盖子晃动盖不紧"
    ("fit", "snug", "rattle", "rattling", "wobble", "wobbly", "wobbling", "不严", "盖不严", "盖不紧", "不合", "晃动",
     "松动",
     # how a lid or saucer sits: "it won't sit flat", "never sat right on the cup"
     "sit flat", "sits flat", "sat flat", "sitting flat", "sit right", "sits right", "sat right", "sit properly",
     "sits properly", "sit level", "sits level", "sit straight", "sits straight"),
    ("vat invoice", "input tax", "input vat", "专用发票", "增值税专用发票", "进项", "进项税", "抵扣"),
    # with the ways to pay a shop may or may not take ("do you take PayPal?": its list of payment methods answers it)
    ("payment", "pay", "paid", "checkout", "check out", "出钱", "给钱", "付款", "支付", "结算", "付钱",
     "paypal", "apple pay", "google pay", "samsung pay", "venmo", "klarna", "afterpay", "京东支付", "数字人民币"),
    ("card", "credit card", "debit card", "visa", "mastercard", "unionpay", "银行卡", "信用卡", "银联"),
    ("cash on delivery", "cod", "货到付款"),
    ("price protection", "price adjustment", "价格保护", "保价", "价保", "退差价", "补差价"),
    ("combined shipping", "combine orders", "合单", "合并发货", "合并订单"),
    # a thing made the customer's own: a name engraved, a logo printed ("盖碗可以刻字吗", "do you do engraving?")
    ("personalisation", "personalization", "engraving", "engrave", "customisation", "customization", "monogram",
     "定制", "刻字", "雕刻", "印字", "烫金", "刺绣", "个性化"),
    # asking to cancel an order (the articles' "cancelled" is an unpaid order's, done by the shop)
    ("order cancellation", "cancel order", "取消订单"),
    # one order, invoice or payment asked to be made two or more ("拆成两张发票", "split the payment across two cards")
    ("split order", "split invoice", "split payment", "split shipment", "拆单", "拆分", "分开开票"),
    # a courier's insurance of a parcel's value: "顺丰保价" (保价 alone is the shop's price protection)
    ("insured value", "declared value", "shipping insurance", "保价服务", "保价费"),
    ("coupon", "voucher", "discount", "promo code", "优惠券", "优惠", "折扣", "代金券", "优惠码", "折扣码"),
    ("tracking", "tracking number", "waybill", "运单号", "快递单号", "物流单号", "单号"),
    ("tax", "vat", "税", "税费", "税点", "增值税"),
    # the people who answer: "你们customer service几点在线", "when is your 客服 around"
    ("customer service", "customer care", "service hours", "support hours", "customer service hours", "客服",
     "客服时间"),
    ("address", "地址", "收货地址"),
    ("tax id", "taxpayer", "taxpayer identification number", "taxpayer id", "tax number", "tax code", "纳税人识别号",
     "税号"),
    ("account", "login", "sign in", "账号", "账户", "登录"),
    ("cancel", "cancellation", "取消", "撤销"),
    ("repair", "repaired", "fix", "fixed", "mend", "维修", "修理", "修好", "修"),
    # heat put straight under a piece: "left it on the gas stove", "架在燃气灶上", the articles' "open flame", "明火"
    ("open flame", "flame", "stove", "gas stove", "hob", "burner", "明火", "燃气灶", "煤气灶", "灶", "灶台", "炉火"),
    ("leak", "leaks", "leaking", "drip", "dripping", "dribble", "dribbling", "seep", "漏水", "漏", "渗水", "滴水"),
    ("photo", "picture", "pic", "照片", "拍照", "图片", "相片"),
    ("duplicate", "double charge", "charged twice", "重复扣款", "重复扣费", "重复付款", "扣款两次"),
    ("港澳台", "港澳", "香港", "澳门", "台湾", "hong kong", "macao", "macau", "taiwan"),
    ("failed delivery", "missed delivery", "派送失败", "配送失败", "投递失败", "没人签收"),
    # another day or time for a delivery: "can I move the delivery", "改个时间送"
    ("reschedule", "rearrange", "postpone", "move", "改约", "改时间", "改期", "延期"),
    ("sms", "text message", "text", "texted", "短信", "短信通知"),
    # on paper: "a printed fapiao", "纸质发票"
    ("paper", "printed", "hard copy", "纸质", "纸质版", "纸的", "打印"),
    # sent by the postal service: "can you mail me one?" is what an article's "by post" says (not shipping words:
    # an order's shipping is the courier's, and a paper invoice by post is the invoice article's)
    ("post", "mail", "by post", "by mail", "posted", "mailed"),
    # tea gone bad: "it smells musty", "发霉了"; the articles' "spoiled", "受潮变质"
    ("spoiled", "spoilt", "musty", "mouldy", "moldy", "mould", "mold", "mildew", "mildewed", "stale", "rancid",
     "gone off", "damp", "moist", "humid", "变质", "受潮", "发霉", "霉", "霉味", "受潮变质", "潮了", "异味"),
    # more time than the usual: "will it take longer to Tibet?", "寄到新疆会比平时慢吗" ask about the extra days
    ("extra", "longer", "slower", "slow", "delay", "delayed", "额外", "慢", "更慢", "延迟", "延误", "更久"),
    # a payment or card refused: "my Visa keeps getting declined", "付款一直被拒"
    ("fail", "failed", "fails", "declined", "rejected", "refused", "bounced", "失败", "被拒", "拒付", "付不了"),
    # details set down wrong: "the company name is misspelled", "税号填错了", "信息有误"
    ("wrong", "incorrect", "mistake", "mistaken", "misspelled", "misspelt", "typo", "error", "有误", "错误", "写错",
     "填错", "打错", "开错", "弄错", "搞错", "错了"),
    # made out again, put right: "can you redo it?", "能重开吗", "reissue the fapiao"
    ("corrected", "correct", "redo", "reissue", "re-issue", "amend", "amended", "重新开具", "重开", "重新开", "更正",
     "改正", "改开"),
)


def chinese_synonym_words() -> list[str]:
    """The built-in groups' Chinese words, for the segmenter's dictionary (knowledge.retrieval.terms.segmenter):
    a word the groups read ("发错", "渗水") is one the question must be cut into."""
    return [word for group in BUILT_IN for word in group if not word.isascii()]


def _normalised(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower()


def _groups_from_setting(text: str) -> list[tuple[str, ...]]:
    """SEARCH_SYNONYMS: groups separated by ";" or new lines, the words of a group by "," (full-width or not)."""
    groups = []
    for line in unicodedata.normalize("NFKC", text).replace("\n", ";").split(";"):
        words = tuple(word for word in (_normalised(w) for w in line.split(",")) if word)
        if len(words) > 1:
            groups.append(words)
    return groups


@lru_cache(maxsize=4)
def _index(extra: str) -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for group in (*BUILT_IN, *_groups_from_setting(extra)):
        members = {_normalised(word) for word in group}
        for word in members:
            index.setdefault(word, set()).update(members - {word})
    return {word: frozenset(others) for word, others in index.items()}


# Chinese resultative and directional complements: "寄到" is "寄" done as far as a place, "退回" "退" back, "修好"
# "修" to the end. The segmenter keeps such a verb and its complement as one word, which no article has.
_COMPLEMENTS = frozenset("到给回出来去完好走过上下掉")


def synonyms_of(word: str) -> frozenset[str]:
    """The other words of `word`'s groups (empty when it has none). A phrase ("credit card") is an entry a
    question's phrase can meet, but a search term is one word: `single_word_synonyms` leaves phrases out.

    A Chinese verb with a complement the groups do not have ("寄到", "送回", "发给") has its verb's: "能寄到美国吗"
    asks about "寄", shipping, whatever the complement says about where to."""
    index = _index(settings.SEARCH_SYNONYMS)
    word = _normalised(word)
    found = index.get(word)
    if (found is None and 2 <= len(word) <= 3 and all(ch in _COMPLEMENTS for ch in word[1:])
            and "\u4e00" <= word[0] <= "\u9fff"):  # "寄到", "寄过来"; "寄回去" is "寄回", returning, first
        verb = next((stem for stem in (word[:2], word[0]) if len(stem) < len(word) and stem in index), None)
        return index[verb] | {verb} if verb else frozenset()
    return found or frozenset()


@lru_cache(maxsize=4)
def _phrase_pattern(extra: str) -> re.Pattern[str] | None:
    phrases = sorted((word for word in _index(extra) if " " in word and word.isascii()), key=len, reverse=True)
    if not phrases:
        return None
    # "best-before" is the phrase "best before" too.
    return re.compile(r"\b(?:" + "|".join(r"[\s-]+".join(map(re.escape, p.split())) for p in phrases) + r")\b")


def split_phrases(text: str) -> tuple[list[str], str]:
    """(the synonym groups' phrases in an English text, the text without them).

    Why: "money back" means "refund" and "send back" "return", but read word by word they are "money" and
    "back", which no article about refunds has: a question asking for its money back would look like one
    about nothing the shop knows. A phrase found is one word of the question, covered and searched by its
    group's words.
    """
    pattern = _phrase_pattern(settings.SEARCH_SYNONYMS)
    if pattern is None:
        return [], text
    lowered = unicodedata.normalize("NFKC", text).lower()
    found = [" ".join(match.replace("-", " ").split()) for match in pattern.findall(lowered)]
    return found, pattern.sub(" ", lowered) if found else text


def single_word_synonyms(word: str) -> list[str]:
    """The synonyms of `word` that can be a search term (no space), in a stable order."""
    return sorted(other for other in synonyms_of(word) if " " not in other)


# Concepts that ask the shop for an arrangement (orders put together, a price made up): what the question is
# about, a head a source must name, as a service asked for is.
ASKED_CONCEPTS = frozenset({
    "combined shipping", "合单", "price protection", "价格保护",
    "order cancellation", "取消订单", "insured value", "保价费", "split order", "拆单", "personalisation", "定制",
    "self pickup", "自提", "same day", "当日达", "instalments", "分期", "loyalty points", "积分", "return insurance",
    "运费险", "combined invoice", "合并开票", "extended warranty", "延保", "paid order cancellation", "取消已付订单",
    "order edit", "改单", "free gift", "赠品", "tax rate", "税率", "parcel locker", "快递柜", "order cutoff", "截单",
    "lost parcel", "丢件", "weekend delivery", "周末派送", "holding period", "存放期限", "doorstep drop", "放门口",
    "paid repair", "付费维修", "exception", "通融", "make-up workday", "调休上班", "new customer discount", "新人优惠",
    "invoice goods description", "开票内容", "threshold after discount", "优惠后包邮", "warranty restart", "保修重算",
    "replacement choice", "换款", "address fix before dispatch", "发货前改地址", "minimum order", "最低消费",
    "delayed dispatch", "延迟发货", "warranty transfer", "保修转让", "late delivery refund", "超时赔付",
    "coupon return", "退券", "plain packaging", "隐私包装", "gift card", "礼品卡",
})
# Not when a return's postage follows ("I'm not paying for the courier to send it back"): free shipping is an order's.
_NOT_A_RETURN = r"(?![^.?!]{0,30}\b(?:back|returns?|returning)\b)"


def _zh_clause_without(*words: str) -> str:
    """A pattern for a Chinese clause from its start up to what follows, none of `words` in it: a return named
    before ("退货可以免邮吗", "寄回去可以用到付吗") makes the postage asked about the return's."""
    return rf"(?:^|(?<=[，。！？,.!?\s]))(?:(?!{'|'.join(words)})[^，。！？,.!?\s])*?"

# A kind of customer an offer is for, and an offer ("new customer discount").
_CUSTOMER_KIND = (r"\b(?:first[- ]time(?:\s+(?:buyers?|customers?|orders?|users?))?|first\s+(?:order|purchase|buy)s?"
                  r"|new\s+(?:customers?|buyers?|users?|members?)|newb(?:ie|y)s?|newcomers?|students?|regulars?"
                  r"|(?:loyal|returning|repeat)\s+customers?)\b")
# A discount taken off, and the free-shipping threshold ("threshold after discount").
_DISCOUNT = r"\b(?:coupons?|discount(?:\s+codes?)?|promo\s+codes?|vouchers?|\d+%\s+off|¥\s?\d+\s+off)\b"
_THRESHOLD = (r"(?:\bfree\s+(?:standard\s+)?(?:shipping|delivery|postage)\b|\bthreshold\b|\bminimum\b"
              # "is that ¥199 counted before or after my coupon?": the amount, counted
              r"|[¥$]\s?\d+\s+(?:\w+\s+)?(?:counted|calculated|worked\s+out|measured)\b"
              r"|\b(?:shipping|delivery|postage)\b(?:\s+[\w']+){0,4}?\s+free\b)")
# The goods written down as something else ("list the items as", "describe our purchase as").
_GOODS_AS = (r"\b(?:list|describe|name|record|show|put\s+down|write\s+down)\s+(?:the\s+|my\s+|our\s+|these\s+|it\s+)?"
             r"(?:goods|items?|products?|purchases?|order|tea)?\s*as\b")
# Money asked back: "a refund", "my money back", "do I get the ¥25 back?"
_MONEY_BACK = (r"\b(?:refund\w*|money\s+back|compensat\w*|(?:get|have)\s+(?:the|my|that)\s+[\w¥$]+"
               r"\s+(?:\w+\s+)?back)")
# A Chinese clause that speaks of no invoice, refund, reply or exchange: how long until it comes, asked in it, is a
# parcel's ("一般几天能收到", "寿宴之前能收到吗"; not "发票一般几天能收到").
_NOT_A_PARCELS_CLAUSE = _zh_clause_without("发票", "票", "退", "钱", "款", "回复", "答复", "审核", "补发", "换")
_OFFER = r"\b(?:discounts?|coupons?|promo(?:tions?|\s+codes?)?|vouchers?|deals?|offers?|(?:discount\s+)?codes?)\b"


# Everyday phrasings of a shop concept that share no word with it, as patterns of the question's shape rather
# than of its words ("送到了再付钱", "先收货再给钱" are 货到付款 as "pay on delivery" is cash on delivery):
# (the concept, as a word of a group above, the pattern), matched on the question in lower case, NFKC.
CONCEPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cash on delivery", re.compile(
        r"\bpay(?:ing|ment)?\s+(?:in\s+cash\s+)?(?:on|upon|at)\s+(?:delivery|arrival|the\s+door)\b"
        r"|\b(?:pay(?:ing)?|hand(?:ing)?|giv(?:e|ing))\s+(?:the\s+)?(?:courier|driver|delivery\s+(?:guy|man|person|driver)"
        r"|postman|postie|[a-z]+\s+(?:guy|man|driver|courier))\b(?:\s+(?:the\s+)?(?:money|cash))?"
        # "do I have to pay the courier myself?" on a return: who bears the postage, not paying at the door
        r"(?!\s+(?:myself|ourselves|yourselves|for\s+(?:the\s+)?(?:return|postage|shipping|sending)))"
        # ("pay with cash when it comes", "pay him in cash once he turns up", "pay huodao fukuan like cash when…")
        r"|\bpay(?:ing)?\s+(?:(?:[\w-]+\s+){0,3}?(?:in\s+|with\s+|by\s+|like\s+|using\s+)?cash\s+|for\s+(?:it|them)\s+"
        r"|only\s+)?(?:when|once|after)\s+"
        # the parcel or the one bringing it ("when the SF guy shows up", "once he drops it off")
        r"(?:it|they|he|she|the\s+(?:[\w-]+\s+)?\w+|my\s+\w+)\s+"
        r"(?:arrives?|arrived|(?:is|are|gets?|got)\s+delivered|comes?|came|brings\s+(?:it|them|the\s+\w+)"
        r"|(?:shows?|showed|turns?|turned)\s+up|drops?\s+(?:it|them)\s+off|gets?\s+here)\b")),
    ("货到付款", re.compile(
        # 到付 of a return sent back is its postage paid by the shop on receipt ("寄回去可以用到付吗"), no paying at the
        # door
        _zh_clause_without("寄回", "退回", "寄还", "退货", "寄过去", "寄给你们") + r"(?<![收得送拿])到付"
        r"|(?:送到|送来|到了|到手|到货|收到|收货|签收|拿到|验货)[\u4e00-\u9fff]{0,5}?[，,\s]*"
        r"(?:再|才|然后)"
        r"(?:付钱|付款|给钱|交钱|结账|支付|掏钱|付|给[^，。！？,.!?]{0,6}?(?:现金|钱))"
        # cash handed over when it comes: "快递送到的时候可以直接给现金吗", "现金给快递小哥"
        r"|(?:送到|送来|到了|到货|收到|签收)的?时候[^，。！？,.!?]{0,6}?(?:给|付|交)[^，。！？,.!?]{0,4}?现金"
        r"|现金[^，。！？,.!?]{0,4}?(?:给|付给|交给)(?:快递|快递员|快递小哥|送货的)")),
    # "I ordered the white tea but you sent me black tea", "买的是白茶，结果寄来的是红茶": a wrong item, no word of
    # which says so.
    ("wrong item", re.compile(
        r"\b(?:ordered|bought|paid\s+for|asked\s+for)\b[^.!?]{1,40}?\b(?:but|yet|instead)\s+(?:you\s+|they\s+|i\s+)?"
        r"(?:got|received|sent(?:\s+me)?|gave\s+me|delivered)\b"
        # "ordered a green tea and got a black tea instead", "got the black one instead of the green I ordered"
        r"|\b(?:ordered|bought|paid\s+for|asked\s+for)\b[^.!?]{1,40}?\b(?:and|,)\s+(?:then\s+)?(?:i\s+)?"
        r"(?:got|received)\b[^.!?,;]{1,40}?\binstead\b"
        r"|\b(?:ordered|bought|paid\s+for|asked\s+for)\b[^.!?]{1,40}?\b(?:and|but)\s+what\s+(?:turned\s+up|showed\s+up"
        r"|arrived|came|i\s+got|i\s+received|you\s+sent)\s+(?:was|is)\b"
        r"|\b(?:got|received|was\s+sent|were\s+sent|sent\s+me)\b[^.!?]{1,40}?\binstead\s+of\b[^.!?]{1,40}?"
        r"\b(?:i|we)\s+(?:had\s+)?(?:actually\s+|really\s+|originally\s+|definitely\s+|clearly\s+)?"
        r"(?:ordered|bought|paid\s+for|asked\s+for)\b")),
    ("发错货", re.compile(
        r"(?:买|订|下单|要)[^，。！？,.!?]{0,8}?(?:是|的)[^，。！？,.!?]{1,8}[，,]\s*(?:结果|但是|可是|却|但)?"
        r"[^，。！？,.!?]{0,6}?(?:寄来|发来|收到|送来|到手|拿到)的?(?:是|却是|成了|变成)"
        # a sentence or two between, the turn said ("买的是正山小种，他念叨了好久。结果今天收到一拆开是茉莉花茶")
        r"|(?:买|订|下单|要)[^，。！？,.!?]{0,8}?(?:是|的)[^，。！？,.!?]{1,8}[，,。；]"
        r"[^？?]{0,30}?(?:结果|但是|可是|却|没想到|谁知道?)[^，。！？,.!?]{0,6}?(?:寄来|发来|收到|送来|到手|拿到)"
        r"[^，。！？,.!?]{0,5}?(?:是|却是|成了|变成)")),
    # "nobody was home to sign", "I missed the courier", "家里没人签收": a delivery that failed, no word of which
    # says so.
    ("failed delivery", re.compile(
        r"\b(?:nobody|no\s*-?\s*one)\s+(?:was|is|will\s+be|'?s)?\s*(?:at\s+)?(?:home|in|there|around)\b"
        r"|\b(?:was|were|am|wasn'?t|weren'?t|won'?t\s+be|not)\s+(?:at\s+)?home\s+(?:to|when|for)\b"
        r"|\b(?:won'?t|will\s+not|not\s+(?:gonna|going\s+to)|can'?t|cannot)\s+be\s+(?:at\s+)?home\b"
        r"|\bmiss(?:ed)?\s+(?:the\s+)?(?:courier|delivery|driver|parcel|package)\b"
        # "the courier rang while I was at the dentist and I couldn't answer", "I missed their call"
        r"|\b(?:courier|driver|delivery\s+(?:guy|man|person|driver)|sf|postman)\s+(?:\w+\s+){0,2}?(?:rang|called|phoned)\b"
        r"[^.?!]{0,60}?\b(?:couldn'?t|could\s+not|didn'?t|did\s+not|wasn'?t\s+able\s+to|unable\s+to)\s+"
        r"(?:answer|pick\s+up|get\s+to\s+(?:it|the\s+phone))\b"
        r"|\bmissed\s+(?:the\s+|their\s+|his\s+|her\s+)?(?:courier'?s\s+|driver'?s\s+)?(?:phone\s+)?call\b")),
    ("派送失败", re.compile(r"(?:送货|派送|送到|到货|快递到)[^，。！？,.!?]{0,6}?(?:不在家|没人在家|家里没人)"
                          r"|(?:家里|家)?(?:没人|没有人|不在家|没在家)[^，。！？,.!?]{0,4}?"
                          r"(?:签收|收货|收件|收|在家|开门)"
                          r"|(?:快递|包裹|快递员)[^，。！？,.!?]{0,4}?(?:没送到|送不到|没派送成功)"
                          # "快递员来送的时候我不在家"
                          r"|送(?:货|件|快递)?(?:来|过来)?的?(?:时候|那天|那会儿)[^，。！？,.!?]{0,3}?(?:不在家|没人在家|家里没人)"
                          # "快递来了两趟家里都没人"
                          r"|(?:快递|快递员|快递小哥|顺丰|送货的|派件员)[^。！？!?]{0,8}?(?:来|送)[^。！？!?]{0,6}?"
                          r"(?:家里|家)?[都也]?(?:没人|没有人|不在家|没在家)"
                          # "快递员打电话的时候我在开会没接到"
                          # (not the customer's call to the courier: "我给快递打电话他没接")
                          r"|(?<!给)(?:快递|快递员|快递小哥|顺丰|送货的|派件员)[^。！？!?]{0,6}?(?:打|来)了?(?:电话|电)"
                          r"[^。！？!?]{0,12}?(?:没接|没听到|错过|接不了|没法接)"
                          # the call missed told first: "没接到快递小哥的电话", "错过了顺丰的电话"
                          r"|(?:没接到|没接|漏接了?|错过了?)(?:快递|快递员|快递小哥|顺丰|送货的|派件员)的?电话"
                          # a delivery that did not happen: "两次都没送成", "说是派送不成功"
                          r"|没送成|送不成|没派送成|派送不成功|没能送达|未能送达")),
    # "how long is it going to take to get out here?", "how long till it gets to me": how long delivery takes, asked
    # without a word of delivery (the place, if any, is the story's).
    ("delivery", re.compile(
        r"\bhow\s+(?:long|many\s+days)\s+(?:will|would|does|do|is|till|until|before)\s+(?:it|they|this|that|my\s+[\w-]+"
        r"|the\s+[\w-]+)?\s*(?:\w+\s+){0,4}?(?:get|gets|come|comes|arrive|arrives|reach|reaches|make\s+it)\s+"
        r"(?:out\s+|over\s+|down\s+|up\s+)?(?:here|there|to\s+(?:me|us|her|him|them|my\s+[\w-]+))\b"
        # "will her tea take longer to get there?", "does it take extra days to reach Urumqi?": the time delivery
        # takes, compared
        # (not a journey's: "will the train take longer to get there")
        r"|\b(?:it|they|this|that|(?:my|her|his|the|our|their|your)\s+(?!(?:train|bus|coach|flight|plane|car|taxi|cab|drive"
        r"|trip|journey|walk|ride|metro|subway|ferry|boat)\b)[\w-]+(?:\s+[\w-]+)?)\s+(?:will\s+|would\s+"
        r"|might\s+|may\s+|going\s+to\s+|gonna\s+)?(?:take|takes|took|taking)\s+(?:any\s+|much\s+|a\s+(?:bit|lot|little)\s+"
        r"|way\s+|even\s+)?(?:longer|more\s+time|extra\s+(?:time|days?)|(?:a\s+few\s+|several\s+|some\s+)?(?:more|extra)\s+"
        r"days|ages|forever)\s+to\s+(?:get|arrive|reach|come|turn\s+up|show\s+up)\b"
        # "will it reach Chengdu in time?", "would the parcel get to my mum's by Friday?", "can it make it to Xi'an
        # before the weekend?": a delivery's time asked against a day (not a journey's: "will the train get there")
        r"|\b(?:(?:will|would|can|could|does|do|is|are)\s+)?"
        r"(?:it|they|this|that|(?:my|her|his|the|our|their)\s+(?:[\w-]+'s\s+)?"
        r"(?!(?:train|bus|coach|flight|plane|car|taxi|cab|trip|journey|metro|subway|ferry|boat)\b)[\w-]+)\s+"
        # "my mum's package needs to get to Kunming before Saturday"
        r"(?:(?:needs?|has|have)\s+to\s+|must\s+|should\s+|(?:is|are)\s+going\s+to\s+)?(?:still\s+)?"
        r"(?:reach|get\s+to|arrive\s+(?:in|at)|make\s+it\s+to|be\s+(?:in|at))\s+[\w'’ -]{1,30}?\s+"
        r"(?:in\s+time|on\s+time|by\s+(?:then|(?:this\s+|next\s+)?(?:monday|tuesday|wednesday|thursday|friday"
        r"|saturday|sunday|tomorrow|the\s+weekend|the\s+\d+\w*))|before\s+(?:then|the\s+weekend|(?:monday|tuesday"
        r"|wednesday|thursday|friday|saturday|sunday)))\b"
        # "roughly when would it show up in Kashgar?": when it comes to a place (not money to an account: "when will
        # the refund show up in my account?")
        r"|\bwhen\s+(?:would|will|does|do|could|might|should)\s+(?:it|they|(?:my|her|his|the|our|their)\s+"
        r"(?!(?:money|refund|payment|cash|funds|invoice|fapiao|reply|email|answer)\b)[\w-]+)\s+(?:actually\s+)?"
        r"(?:show\s+up|turn\s+up|arrive|land|get\s+there)\s+(?:in|at)\s+"
        r"(?!(?:my|your|the|our|his|her|their)\s+(?:account|wallet|card|bank|inbox|app|email)\b)[a-z]")),
    # "茶叶到那边要比到上海多几天吗", "寄到拉萨会比上海慢吗": how long delivery takes to a place, compared or asked
    # with the place as "there" ("到我家要几天"), without a word of delivery
    ("送达", re.compile(
        r"(?<![拿收想做找遇看听得感受达直等])到(?:那边|那儿|那里|这边|这儿|这里|我家|家里|我这儿?|我这里|她那儿?|他那儿?"
        r"|她家|他家|我们这儿?|老家)[^，。？?！!]{0,6}?(?:几天|多少天|多久|多长时间|慢|久)"
        r"|比(?:寄|送|发)?到[\u4e00-\u9fff]{1,5}?(?:多(?:几|一|两|好几)天|慢|久)"
        # the parcel compared ("走普通快递的话会比内地其他城市慢很多吗")
        r"|(?:寄|发|送|快递|物流|包裹)[^，。？?！!]{0,12}?比[\u4e00-\u9fff]{1,8}?(?:慢|久)"
        # "下单后大概多久能收到": the parcel received, not an invoice ("发票多久能收到")
        r"|(?:下单|付款|付完款|下完单|买了?|订了?)(?:以?后|之后)?[^，。？?！!发票]{0,8}?(?:多久|几天|多少天|多长时间)"
        r"(?:能|可以|才能|就能|会)?(?:收到|到手|到货|送到|拿到)(?!发票|票|电子发票)"
        # "我在乌鲁木齐，一般几天能收到": told where one is, then how long until it comes (a clause without an
        # invoice, a refund or a reply in it)
        r"|" + _NOT_A_PARCELS_CLAUSE
        + r"(?:一般|大概|大约|通常|正常|平时|估计)(?:要|需要)?(?:几天|多少天|多久|多长时间)(?:能|可以|才能|就能|会)?"
        r"(?:收到|到手|到货|送到|到)(?!发票|票|电子发票|账)"
        # "寿宴之前能收到吗", "周五前能寄到吗": whether it comes before a day or an occasion
        r"|" + _NOT_A_PARCELS_CLAUSE
        + r"(?:之前|以前|前)(?:能|可以|能不能|可不可以|会|来得及)?(?:收到|到货|送到|寄到|到)(?:吗|么|嘛|不|没|啊)")),
    # "when does it actually leave your place?", "how soon will my order go out?": dispatch, asked without its word.
    ("dispatch", re.compile(
        r"\b(?:leave|leaves|left|leaving|go\s+out|goes\s+out|head\s+out|heads\s+out)\s+(?:from\s+)?(?:your|the|ur)\s+"
        r"(?:place|warehouse|studio|shop|store|end|side|workshop|premises)\b"
        # "once it's left you": the shop named as "you" (not "I left you a message")
        r"|\b(?:it|they|it'?s|they'?ve|it\s+has|order|parcel|package)\s+(?:has\s+|have\s+|had\s+)?(?:left|leaves|leave)\s+"
        r"(?:you|you\s+guys|u)\b(?!\s+(?:a|an|the|my|some|two|several|guys\s+a)\b)"
        r"|\b(?:when|how\s+soon)\s+(?:does|do|will|would|can)\s+(?:it|they|my\s+[\w-]+|the\s+[\w-]+)\s+"
        r"(?:actually\s+|finally\s+|usually\s+)?(?:leave|go\s+out|head\s+out|get\s+sent\s+out)\b"
        r"(?!\s+(?:a|an|the|my|your|it|for|of)\b)"
        # "when will you actually send it out?", "how soon do you guys ship my order out"
        r"|\b(?:when|how\s+soon)\s+(?:will|would|do|does|can|could|are)\s+(?:you|u|you\s+guys|y'?all)\s+(?:actually\s+"
        r"|finally\s+|usually\s+|normally\s+)?(?:send|ship|post|dispatch|mail)(?:ing)?\s+(?:it|them|this|that"
        r"|(?:my|the|our)\s+[\w-]+)\s+out\b")),
    # "my cart is ¥215 with a ¥25 coupon, do I still get free shipping?", "用了优惠券实付不到199，还包邮吗": whether the
    # free-shipping threshold counts a coupon, which an article giving the threshold does not say (before free
    # shipping's own phrasings, which would take its words)
    # "how do I find out where my tea is?", "where's my parcel?": tracking, asked without its word
    ("tracking", re.compile(
        r"\b(?:find\s+out|know|see|check|tell\s+me|figure\s+out)\s+where\s+(?:it|they|my\s+[\w-]+|the\s+[\w-]+)"
        r"\s+(?:is|are|'s)\b|\bwhere(?:'s|\s+is|\s+are)\s+my\s+(?:parcel|package|order|tea|box|delivery|stuff|things"
        r"|cups?|gaiwan|teapot|tins?)\b(?!\s+(?:from|made|grown))")),
    ("threshold after discount", re.compile(
        rf"{_DISCOUNT}[^?!]{{0,80}}?{_THRESHOLD}|{_THRESHOLD}[^?!]{{0,80}}?{_DISCOUNT}")),
    ("优惠后包邮", re.compile(
        r"(?:优惠券|券|满减|折扣|优惠码|打折|优惠|减了|减掉)[^？！?!]{0,30}?(?:包邮|免运费|免邮|满\s*¥?\s*\d+)"
        r"|(?:包邮|免运费|免邮|满\s*¥?\s*\d+)[^？！?!]{0,30}?(?:优惠券|券|满减|折扣|优惠码|打折|优惠前|优惠后)")),
    # "so I'm not paying extra for the courier", "so that shipping is free", "买到多少就不用出快递费了": free shipping,
    # asked as the fee not paid (not the postage of a return: "I'm not paying for the courier to send it back")
    ("free shipping", re.compile(
        r"\b(?:not|never|avoid|skip|dodge|without|no\s+need\s+to|\w+n't)\s+(?:have\s+to\s+|having\s+to\s+)?"
        r"pay(?:ing)?\s+(?:(?:any(?:thing)?|extra|more)\s+)*(?:for\s+)?(?:the\s+)?(?:courier|shipping|postage|delivery"
        r"|p&p)\b" + _NOT_A_RETURN +
        r"|\b(?:shipping|delivery|postage|p&p)\s+(?:is|becomes|will\s+be|gets|to\s+be|would\s+be|be)\s+"
        r"(?:free|waived|on\s+the\s+house)\b"
        r"|\b(?:skip|avoid|waive|dodge|save\s+on)\s+(?:the\s+)?(?:postage|shipping|delivery|courier)"
        r"(?:\s+(?:fee|charge|cost)s?)?\b" + _NOT_A_RETURN)),
    ("包邮", re.compile(
        r"(?<!退)(?<!退货)(?<!退回)(?<!寄回)(?<!换货)(?:不用|无需|不需要|免)(?:再)?(?:出|付|给|掏|交|花)?"
        r"(?:快递费|运费|邮费|配送费|快递钱|运费钱)"
        r"|(?:快递费|运费|邮费)(?:就)?(?:全免|免了|免掉|不要钱|不收了?)"
        # "买多少能免邮", "凑单到多少免邮啊": 免邮 in a clause with no return in it before ("退货可以免邮吗" is a
        # return's postage)
        r"|" + _zh_clause_without("退", "寄回", "换货") + r"免邮(?!费)")),
    # "今天下单有没有办法快一点到", "想早点收到": faster delivery, asked without its word.
    ("express", re.compile(r"(?:快一点|快点|早点|早一点|更快|尽快)(?:到|送到|寄到|收到|到货|发货|发出|送达)")),
    # "the cup inside is in 3 pieces", "arrived in pieces", "snapped in half", "碎成三块", "断成两截": broken, no word
    # of which says so (not "comes in three pieces", a set as sold).
    ("broken", re.compile(
        r"\b(?:is|was|are|were|arrived|came|turned\s+up|showed\s+up|ended\s+up|got\s+here|lay|lies|lying|now)\s+"
        r"(?:\w+\s+)?in\s+(?:(?:\d+|two|three|four|five|six|several|a\s+few|many|a\s+million|a\s+hundred|tiny|little"
        r"|small)\s+(?:[a-z]+\s+)?)?pieces\b"
        r"|\b(?:broke|broken|snapped|cracked)\s+(?:clean\s+|right\s+)?in\s+(?:half|two)\b")),
    ("破损", re.compile(r"(?:碎|裂|断|摔|掰)成了?(?:[\d两二三四五六七八九十几好多]+)?(?:半|块|片|瓣|截|段|渣)"
                       # "快递送来的时候茶杯已经碎了", "收到一拆开杯子裂了": broken as it came, the arrival read as the
                       # concept (what broke, and how, stay words of their own)
                       r"|(?:送来|送到|收到|到货|到手|签收|拆开|打开)(?=[^，。！？,.!?]{0,3}?(?:的时候|时|后|以后|之后|一看|发现)?"
                       r"[^。！？!?]{0,10}?(?:已经|都|全|就)?(?:碎|裂|破)(?:了|掉了|开了|成))"
                       # "倒了开水杯子炸了": burst by heat, not cooking ("炸鸡翅", "油炸")
                       r"|(?<![油煎])炸(?:裂|开|碎|掉)|(?<![油煎])炸了(?=[吗吧啊呀么，。！？,.!?\s]|$|算|怎么|咋|能|可以|还)")),
    # "盖子一直盖不严，晃来晃去的": a lid that does not fit, the warranty's defect, said as what it does (named once,
    # the article's own 盖不严 is about it, as the English "rattles" meets "does not fit" through the synonyms above)
    ("不严", re.compile(
        r"盖(?:子)?[^，。！？,.!?]{0,4}?(?:不严|不紧|盖不上|盖不住|合不上|对不上|晃|松|咣当|不贴合|不密封|老掉)")),
    # "until what time can I reach your support?", "客服几点下班", "晚上十点还找得到人吗": the hours of the people who
    # answer, asked without their word.
    # (someone reached, not someone who delivers: "when will someone deliver it?")
    ("customer service", re.compile(
        r"\b(?:when|what\s+time|what\s+hours|how\s+late|until\s+when|until\s+what\s+time|till\s+what\s+time)\s+"
        r"(?:is|are|does|do|can|could|will)\s+(?:i\s+|we\s+)?(?:still\s+)?"
        r"(?:(?:reach|contact|call|talk\s+to|chat\s+(?:with|to)|get\s+hold\s+of)\s+(?:your\s+|the\s+)?"
        r"(?:customer\s+(?:service|support|care)|support|(?:service|support)\s+team|agents?|staff|someone|somebody|anyone"
        r"|a\s+(?:real\s+)?(?:person|human))"
        r"|(?:your\s+|the\s+)?(?:customer\s+(?:service|support|care)|support|(?:service|support)\s+team|agents|staff))\b")),
    # (the people who answer, not someone at home to sign: "周末家里有没有人签收")
    ("客服", re.compile(
        r"(?:客服|人工)[^，。！？,.!?]{0,4}?(?:几点|什么时候|啥时候|几时)(?:下班|上班|在线|有人|休息|下线|开始|结束|开门|关门)?"
        r"|(?:客服|人工)(?:的)?(?:上班|工作|在线|服务)时间"
        r"|(?:晚上|夜里|半夜|凌晨|周末|节假日|假期)[^，。！？,.!?家]{0,8}?(?:还有|有没有|还能找到|能找到|找得到|联系得上|联系到)"
        r"(?:人(?![在签收发送派寄])|客服)")),
    # "changed my mind", "don't want it anymore", "不想要了": a return for the customer's own reasons, the articles'
    # "change of mind" and "个人原因". Read before a return's own phrasings, which its look-aheads need ("I don't
    # like the colour, can I send it back?").
    ("change of mind", re.compile(
        r"\bchang(?:e|ed|ing)\s+(?:my|our|your|his|her|their)\s+minds?\b|\bchange\s+of\s+mind\b"
        r"|\b(?:don'?t|do\s+not|no\s+longer)\s+(?:really\s+)?(?:want|need|like)\s+(?:it|them|this|these)"
        r"(?:\s+any\s*more)\b"
        # not liking what came, asked back: "I don't really like the colour, can I return it?"
        r"|\b(?:don'?t|didn'?t|do\s+not|did\s+not)\s+(?:really\s+|much\s+)?like\s+(?:it|them|this|these|that|the\s+\w+)"
        r"(?=[^?]{0,40}\b(?:return|refund|(?:send|ship|post|mail|bring|take)\s+(?:it\s+|them\s+)?back|exchange))"
        # "brewed it once, not for me. can it still go back?": not to the customer's taste, a question after it
        # ("not for me, it's for my dad" is someone else's)
        r"|\bnot\s+(?:really\s+)?(?:for\s+me|my\s+(?:cup\s+of\s+tea|thing|taste|style)|to\s+my\s+(?:taste|liking))\b"
        r"(?![^?.!]{0,20}\bfor\s+(?:my|a|an|the|him|her|them|someone)\b)(?=[^?]{0,80}\?)"
        r"|\b(?:don'?t|didn'?t|do\s+not|did\s+not)\s+(?:really\s+|much\s+)?(?:like|enjoy|love)\s+the\s+"
        r"(?:taste|flavou?r|smell)\b(?=[^?]{0,80}\?)")),
    ("个人原因", re.compile(
        r"不想要了|(?:又|突然)?不(?:太|怎么|是很)?(?:想)?要了|改(?:变)?主意|后悔(?:了|买)|不喜欢了|用不上了|买多了"
        # "颜色不喜欢，能退吗": not liking what came, with a return asked for
        r"|不(?:太|怎么|是很)?喜欢(?=[^？?。！!]{0,12}(?:退|换))"
        # "感觉不合我口味，还能退吗", "喝不惯": not to the customer's taste, with a return asked for
        r"|(?:不(?:太|怎么|是很)?(?:合|对)(?:我的?|自己的?)?(?:口味|胃口|心意)|喝不惯|不好喝)(?=[^？?。！!]{0,12}(?:退|换))"
        # "太淡了不是我喜欢的味道，剩下大半包还能退吗"
        r"|(?:不是|并不是)(?:我|自己|我们)(?:喜欢|爱喝|爱)的(?:味道|口味|款|颜色|类型|风格|那种)?"
        r"(?=[^？?。！!]{0,14}(?:退|换))")),
    # "send it back", "ship the teapot back", "mail the broken cups back to you": returning, whatever is between.
    ("return", re.compile(r"\b(?:send|sending|sent|ship|shipping|shipped|mail|mailing|mailed|post|posting|posted"
                          r"|bring|bringing|take|taking)(?=\s+(?:[\w'-]+\s+){1,6}?back\b)"
                          # "can it still go back to you?"
                          r"|\b(?:it|they|this|these|them|that)\s+(?:still\s+)?(?:go|goes|come|comes)\s+back\s+to\s+you\b"
                          # "can that go back?", "can it still go back" asked on its own (not "go back in the box",
                          # "go back to normal")
                          r"|\b(?:can|could|may|will)\s+(?:it|they|this|these|that|those)\s+(?:still\s+)?go\s+back"
                          r"(?=\s*(?:[?.!]|$|\s+(?:too|either|then|though|now|as\s+well)\b))")),
    ("duplicate", re.compile(r"\b(?:charged|billed|paid|debited)\s+(?:me\s+)?(?:twice|two\s+times|double)\b"
                             r"|\bdouble[- ](?:charged|billed|charge)\b")),
    # "the money was taken but the order still says unpaid", "钱扣了订单还显示待付款": a payment that went through
    # for the bank and not for the order, no word of which says so.
    ("unpaid", re.compile(
        r"\b(?:money|payment|it|i)\s+(?:was|got|has\s+been|had\s+been|is|have\s+been|got\s+been)\s+(?:already\s+)?"
        r"(?:taken|deducted|charged|debited|withdrawn)\b[^.!?]{0,60}?\b(?:unpaid|pending|not\s+paid|awaiting\s+payment)\b"
        # "my bank app shows the money gone while your site says unpaid", "the site says unpaid but the money's left
        # my account"
        r"|\b(?:money|payment|funds|cash)(?:'s|\s+(?:is|was|has|had|got))?\s+(?:already\s+|just\s+)?(?:been\s+)?"
        r"(?:gone|taken|deducted|debited|withdrawn|left|went\s+out|come\s+out|came\s+out)\b[^.!?]{0,60}?"
        r"\b(?:unpaid|not\s+paid|awaiting\s+payment)\b"
        r"|\b(?:unpaid|not\s+paid|awaiting\s+payment)\b[^.!?]{0,60}?\b(?:money|payment|funds|cash)(?:'s|\s+(?:is|was"
        r"|has|had|got))?\s+(?:already\s+|just\s+)?(?:been\s+)?(?:gone|taken|deducted|debited|withdrawn|left"
        r"|went\s+out|came\s+out)\b")),
    ("扣款", re.compile(
        r"(?:钱|款|费)[^，。！？,.!?]{0,4}?(?:被)?扣(?:了|掉|走)[^。！？!?]{0,20}?(?:待付款|未付款|没付款|待支付|未支付|没支付)"
        r"|扣(?:了钱|款了|费了)[^。！？!?]{0,20}?(?:待付款|未付款|没付款|待支付|未支付|没支付)"
        # "短信说扣了286块，回到订单里一看还是显示待付款": the amount said instead of 钱
        r"|扣(?:了|掉|走)?\s*[\d一二两三四五六七八九十百千]+(?:\.\d+)?\s*(?:块钱|块|元)[^。！？!?]{0,25}?"
        r"(?:待付款|未付款|没付款|待支付|未支付|没支付)")),
    # "the seal is broken", "I broke the seal": opened, not a broken thing (封口破了: 拆封)
    ("opened", re.compile(r"\bseals?(?:'s|\s+(?:is|was|has\s+been|got|are|were))?\s+(?:already\s+)?"
                          r"(?:broken|open(?:ed)?|torn|off|gone)\b|\b(?:broke|broken|opened|torn|cut)\s+(?:the\s+)?seals?\b"
                          # "I tore open a pouch", "ripped the bag open"
                          r"|\b(?:tore|torn|ripped|rip|cut|split)\s+(?:(?:it|them|the|a|my|one)\s+)?(?:[\w-]+\s+)?open\b")),
    ("拆封", re.compile(r"(?:封口|封条|密封)(?:已经|都|也)?(?:破|开|撕|拆)(?:了|开了|掉了)?")),
    # "can you engrave her name on the lid?", "could you personalise it", "盖碗可以刻字吗", "能印个logo吗": a thing
    # made the customer's own, a service no article of a shop that does not offer it names
    ("personalisation", re.compile(
        r"\bengrav(?:e|ed|ing|ings)\b|\bpersonali[sz](?:e|ed|ing|ation)\b|\bmonogram(?:med|s)?\b"
        r"|\bcustomi[sz](?:e|ed|ing|ation)\b|\bcustom[\s-](?:print(?:ed|ing)?|text|name|logo|message)\b"
        r"|\b(?:print|put|add)\s+(?:our|my|a|the|her|his)\s+(?:company\s+)?(?:logo|name|initials)\s+on\b")),
    ("定制", re.compile(r"刻(?:个|上|一下)?(?:字|名字|名|logo|图案)|雕刻|印(?:个|上)?(?:字|logo|名字|图案)"
                      r"|烫金|定制|刺绣|个性化")),
    # "I've already paid, can I still cancel?", "已经付款了，能直接取消吗": cancelling a paid order, which the articles
    # do not say how to do (they say an unpaid one is cancelled by itself: "unpaid" is no "paid")
    ("paid order cancellation", re.compile(
        # (the question may follow the telling: "I just paid for an order by mistake, it hasn't shipped yet. Can I
        # cancel it?")
        r"\b(?:already\s+)?paid\b[^?!\n]{0,80}?\b(?:can|could|may|want\s+to|like\s+to|need\s+to|able\s+to)\s+"
        r"(?:i\s+|we\s+|you\s+)?(?:still\s+|just\s+|please\s+)?cancel\b"
        r"|\bcancel\s+(?:an?\s+|my\s+|the\s+|this\s+)?(?:order\s+)?(?:(?:that\s+)?(?:i'?ve|i\s+have|we'?ve|is|was|that'?s"
        r"|already)\s+)*(?:already\s+)?paid(?:\s+for)?\b|\bcancel\b[^.?!\n]{0,30}?\bafter\s+(?:paying|payment|i\s+paid)\b")),
    ("取消已付订单", re.compile(
        r"(?:已经?|已|刚刚?)(?:付款|付了款|付过款|付钱|付了钱|支付|付完款?|付了)[^。？?！!]{0,20}?(?:能|可以|能不能|可不可以|怎么"
        r"|想|要|如何)(?:直接)?(?:取消|撤销|退掉订单)|取消(?:已|已经)?(?:付款|付过款|支付)(?:了)?的订单"
        r"|付(?:完|了|过)款(?:以后|之后|后)[^。？?！!]{0,8}?(?:取消|撤销)")),
    # "can I still cancel before you ship it?", "付款后还能取消吗": the customer asking to cancel an order, which no
    # article of a shop that only cancels unpaid orders itself names
    ("order cancellation", re.compile(
        r"\b(?:can|could|may|how\s+(?:do|can|could)|want\s+to|like\s+to|need\s+to|able\s+to|possible\s+to"
        r"|too\s+late\s+to)\s+(?:i\s+|we\s+|you\s+|u\s+)?(?:still\s+|just\s+)?cancel\s+"
        r"(?:(?:my|the|this|an?|whole|our|that)\s+)*(?:order|purchase)\b"
        r"|\bcancel\s+(?:it\s+|them\s+|(?:the|my|this)\s+(?:whole\s+)?order\s+)?before\s+(?:you|u|it|they)\s+"
        r"(?:ship|send|dispatch|post|go)")),
    ("取消订单", re.compile(
        # not another thing cancelled ("可以取消发票吗")
        r"(?:能|可以|能不能|可不可以|怎么|如何|想|要|申请|帮我|还能)(?:再|直接)?取消"
        r"(?!发票|开票|退货|退款|申请|订阅|会员|自动)(?:订单|这单|这个订单|掉|购买)?"
        r"|(?<!被)取消(?:订单|这单)")),
    # "can you split my order into two invoices?", "pay half with Alipay and half by card", "一个订单能拆成两张发票吗",
    # "能分开寄吗": one order, invoice, payment or parcel made several, which no article offers unless it says so
    ("split order", re.compile(
        r"\bsplit\s+(?:(?:the|my|this|that|an?|one|our|each)\s+)?(?:[\w-]+\s+)?(?:orders?|invoices?|fapiaos?|payments?"
        r"|parcels?|shipments?|bills?|deliver(?:y|ies)|boxes)\b"
        r"|\bsplit\s+(?:it|them|this|that)\s+(?:up\s+)?(?:into|between|across|over)\b"
        r"|\b(?:into|as|in|on)\s+(?:two|2|three|3|several|separate|multiple)\s+(?:[\w-]+\s+)?(?:invoices|fapiaos|payments"
        r"|parcels|shipments|orders|deliveries|transactions|cards)\b"
        r"|\bhalf\s+(?:with|by|on|via)\s+[\w-]+(?:\s+[\w'-]+){0,2}?\s+and\s+(?:the\s+other\s+)?half\b"
        # one order paid with two cards: "can we pay for the one order with two cards?"
        r"|\bpay\s+(?:for\s+)?(?:it|(?:the|one|this|my|our)\s+(?:one\s+)?order)\s+(?:with|using|on|by)\s+(?:two|2|three|3"
        r"|several|multiple|different)\s+(?:cards|accounts|payment\s+methods|methods|wallets)\b"
        # part of an order sent ahead of the rest: "ship what you have in stock now and the rest later"
        r"|\b(?:ship|send|dispatch|post|mail)\s+(?:out\s+)?(?:what(?:ever)?\s+(?:you\s+have|you'?ve\s+got|is|'s)"
        r"(?:\s+(?:in\s+stock|available|ready))?|the\s+(?:rest|other\s+(?:items?|things?|ones?|stuff))|everything\s+else"
        r"|the\s+(?:available|in-stock)\s+(?:items?|ones?))\b[^.?!]{0,40}?\b(?:first|now|ahead|separately|later)\b"
        r"|\b(?:send|ship|post|mail)\s+the\s+(?:rest|missing\s+(?:one|item|part)s?)\s+(?:later|separately|when)\b")),
    ("拆单", re.compile(
        r"拆(?:成|分)|拆单|分(?:开|成)(?:两|几|多|2|3|三)?(?:张|个|次|单|笔|份|批)?(?:开|发|寄|付)"
        r"|拆开(?:开成|开|成)?(?:两|几|多|2|3|三)张(?:发票|票|普票|专票)"  # "一个订单能拆开开成两张发票吗"
        r"|分(?:两|几|多|2|3|三)(?:张|次|单|笔|份|批)(?:开|发|寄|付)|一半(?:用|走|刷|付)[^，。！？,.!?]{0,8}?另一半"
        # part of an order sent ahead of the rest: "能不能先把其他的发了，缺的那罐到货再补发"
        r"|先(?:把|将)?(?:其他|其余|剩下|别)的?[^，。！？,.!?]{0,4}?(?:发|寄)(?!票|回|错|现)"
        r"|(?:缺|没货|缺货)的[^，。！？,.!?]{0,6}?(?:到货|有货|到了)了?再(?:补发|补寄|发|寄)")),
    # "顺丰保价费多少", "寄贵的茶具你们有帮我保价吗", "do you insure the parcel's value?": a courier's insurance
    ("insured value", re.compile(
        r"\binsur(?:e|ed|ing|ance)\s+(?:for\s+)?(?:the\s+|my\s+)?(?:parcel|package|shipment|value|delivery)"
        r"|\bdeclared\s+value\b|\bshipping\s+insurance\b")),
    ("保价费", re.compile(
        r"(?:顺丰|快递|物流)(?:的)?保价(?:费|服务)?|保价费|(?:帮我|给我|帮忙|有没有)保价|保了?多少(?:钱的)?价")),
    # "it's ¥20 cheaper now, do you refund the difference?", "降价了能退差价吗": the price paid made up, no return.
    ("price protection", re.compile(
        r"\b(?:refund|pay\s+back|give\s+(?:me\s+)?back|credit)\s+(?:me\s+)?the\s+(?:price\s+)?difference\b"
        r"|\bprice\s+(?:drop|dropped|went\s+down|fell|has\s+dropped)\b[^.?!]{0,40}?\b(?:refund|difference|back)\b")),
    ("价格保护", re.compile(r"(?:退|补|返)(?:还)?(?:个|点)?差价|降价了?[^，。！？,.!?]{0,8}?(?:退|补|返)")),
    # "can you put both orders on one invoice?", "两个订单能开一张发票吗": invoices of several orders made one (read
    # before orders put together in one parcel, whose words they share)
    ("combined invoice", re.compile(
        r"\b(?:put|combine|merge|include)\s+(?:both|them|all|(?:both\s+)?(?:my|the|these|those)\s+(?:two\s+|several\s+)?"
        r"orders)\s+(?:\w+\s+){0,2}?(?:on|in|into|onto)\s+(?:one|a\s+single|the\s+same|a\s+combined)\s+(?:single\s+)?"
        r"(?:invoice|fapiao|receipt)s?\b"
        r"|\bone\s+(?:single\s+)?(?:invoice|fapiao)\s+for\s+(?:both|(?:two|several|all|my|the)\s+(?:\w+\s+)?orders)\b"
        # "a single invoice covering all three orders", "one combined fapiao"
        r"|\b(?:one|a\s+single|a\s+combined|one\s+combined)\s+(?:single\s+)?(?:invoice|fapiao|receipt)\s+(?:covering|for"
        r"|that\s+covers|across)\s+(?:both|all|(?:the|my|our)\s+(?:\w+\s+)?orders|(?:all\s+)?(?:two|three|several|\d+)"
        r"\s+(?:\w+\s+)?orders)\b|\b(?:one|a)\s+combined\s+(?:invoice|fapiao)\b")),
    ("合并开票", re.compile(r"合并开票|合开(?:一张)?"
                          r"|(?:两|几|多|三|四|五|[2-9])(?:个|张|笔)订单[^，。！？,.!?]{0,8}?(?:开|合)(?:成|在|到)?(?:一张|一起)")),
    # "can you pack both orders in one box", "已付款的订单能再加一罐一起发吗": orders put together, a matter of its own.
    ("combined shipping", re.compile(
        r"\b(?:combine|merge|consolidate)\s+(?:my\s+|the\s+|both\s+|these\s+|two\s+|them\s+)*"
        r"(?:orders?|parcels?|packages?|shipments?|them)\b"
        r"|\b(?:pack|ship|send|put)\s+(?:them|both|(?:my|the|these|those)\s+(?:two\s+)?orders|(?:both|two)\s+orders)\s+"
        r"(?:together|in(?:to)?\s+(?:one|a\s+single|the\s+same)\s+(?:box|parcel|package|shipment))\b"
        r"|\badd\s+(?:\w+\s+){0,4}?to\s+(?:my|the|an?)\s+(?:\w+\s+)?(?:paid|existing|placed)\s+order\b"
        # "add another tin to an order I've already paid for"
        r"|\badd\s+(?:\w+\s+){0,4}?to\s+(?:my|the|an?)\s+order\s+(?:that\s+)?(?:i'?ve|i\s+have|i|we'?ve|we)\s+"
        r"(?:already\s+)?(?:paid\s+for|placed|paid)\b"
        # "forgot one tin, can you add it to the same parcel?"
        r"|\badd\s+(?:\w+\s+){0,4}?to\s+(?:my|the|that|this)\s+(?:same|existing|original|first)\s+"
        r"(?:order|parcel|package|box|shipment)\b")),
    ("合单", re.compile(
        r"合并(?:成|为|到)?(?:一个|一单|一起)?(?:订单|包裹|发货|发|寄)?|合单|(?:一起|一块)(?:发|寄)(?:过来|出来)?(?:吗|呢|么|？|\?)"
        r"|(?:已经?|已)(?:付款|付|下单)的订单[^，。！？,.!?]{0,6}?(?:加|添|补)"
        # "能不能再往同一个订单里加一包", "在原来的订单里补一罐"
        r"|(?:往|在|给)(?:同一个|这个|原来的?|之前的?|刚才的?|刚下的)订单(?:里|中|里面)?(?:再)?(?:加|添|补)")),
    # "can I buy an extended warranty?", "保修能延到三年吗，加钱也行": a longer cover than the one the articles give
    ("extended warranty", re.compile(
        r"\bextended\s+(?:warranty|guarantee)\b|\bextend\s+(?:the\s+|my\s+|your\s+)?(?:[\w-]+\s+)?(?:warranty|guarantee)\b"
        r"|\b(?:buy|purchase|pay\s+for|get)\s+(?:a\s+|an\s+)?(?:longer|extra|additional)\s+(?:warranty|guarantee)\b"
        # "can I pay extra to extend it to three years?" (it: the warranty the turn before named)
        r"|\b(?:pay|paying)\s+(?:a\s+bit\s+)?(?:extra|more)\s+to\s+extend\b(?!\s+(?:the\s+|my\s+)?(?:delivery|deadline"
        r"|window|return|payment|order|invoice))"
        r"|\bextend\s+(?:it|that|this)\s+(?:to|by|for)\s+(?:another\s+)?(?:\w+\s+)?(?:years?|months?)\b")),
    ("延保", re.compile(r"延保|延长保修|(?:保修|质保)期?(?:能|可以|能不能|可不可以)?(?:再)?(?:延|延长|加长|续)"
                      r"|(?:加钱|付费|多花钱|额外付)[^，。！？,.!?]{0,6}?(?:保修|质保)"
                      # "一年保修能不能加点钱延长到三年": paying, then lengthening, after the warranty
                      r"|(?:保修|质保)期?[^，。！？,.!?]{0,8}?(?:加|多付|多花|补)(?:点|些)?钱[^，。！？,.!?]{0,4}?"
                      r"(?:延|延长|加长|续)")),
    # "does the replacement's warranty start over?", "新的保修是重新算一年还是接着算": whether a period begins again
    # after a replacement, which an article giving the period from delivery does not settle
    ("warranty restart", re.compile(
        r"\b(?:warranty|guarantee)\b[^.?!]{0,40}?\b(?:restart|restarts|restarted|reset|resets|start\s+(?:over|again|afresh"
        r"|from\s+scratch)|starts\s+(?:over|again|afresh|from\s+scratch)|begin\s+again|begins\s+again|renew|renews"
        r"|renewed)\b"
        # "does it come with a brand new warranty period?"
        r"|\b(?:come|comes|came|get|gets)\s+with\s+(?:a\s+|its\s+own\s+)?(?:brand\s+)?(?:new|fresh|separate)\s+"
        r"(?:warranty|guarantee)\b"
        # "does the year start over for the replacement?"
        r"|\b(?:the\s+)?(?:year|period|clock|cover)\s+(?:start|starts|restart|restarts|begin|begins|reset|resets)"
        r"(?:\s+(?:over|again|afresh|from\s+scratch))?\s+(?:for|with|on)\s+(?:the\s+)?(?:replacement|new\s+one)\b"
        r"|\b(?:new|replacement)\s+(?:[\w-]+\s+)?(?:get|gets|come\s+with|comes\s+with|have|has)\s+"
        r"(?:its\s+own|a\s+(?:new|fresh|full))\s+(?:[\w-]+\s+)?(?:warranty|guarantee)\b")),
    # "can the replacement be the cobalt blue one?", "补发的时候能换成青花的那款吗": the replacement's colour or style
    # chosen, which an article promising a replacement does not settle (not a replacement instead of a refund)
    ("replacement choice", re.compile(
        r"\breplacement\b[^.?!]{0,40}?\b(?:colou?rs?|style|version|design|pattern|glaze|model)\b"
        r"|\b(?:colou?r|style|version|design|pattern|glaze)\b[^.?!]{0,30}?\breplacement\b"
        r"|\breplacement\b[^.?!]{0,30}?\b(?:instead\s+of|rather\s+than)\s+(?!(?:a\s+|the\s+|my\s+)?(?:refund|money|cash|return)"
        r"|getting\b)")),
    ("换款", re.compile(
        r"(?:补发|换新|换货|换成|换个|换一个|换)[^，。？?！!]{0,8}?(?:别的|其他|另一个?|另外的?|不同的?)?的?(?:颜色|款式|花色|样式|色)"
        r"|(?:补发|换新)的?(?:时候|话)?[^，。？?！!]{0,4}?(?:能|可以|可不可以|能不能)换成")),
    ("保修重算", re.compile(
        r"(?:保修|质保)期?[^，。？?！!]{0,10}?(?:重新(?:算|计算|起算|开始算?)|从头(?:再)?(?:算|开始)|接着(?:原来的?)?(?:那个)?(?:日期)?算"
        r"|顺延)"
        r"|重新(?:算|计算|起算)[^，。？?！!]{0,6}?(?:保修|质保)")),
    # "Sunday 28 September is an official make-up working day, do you dispatch then?", "这周六是调休上班日，你们发货
    # 吗": a weekend day worked in place of a holiday, which a rule of working days "Monday to Friday" does not settle
    # (not the customer's own day off, "我那天调休在家")
    ("make-up workday", re.compile(
        r"\bmake[- ]?up\s+(?:working\s+|work\s+|business\s+)?(?:day|days|workdays?)\b"
        r"|\b(?:official|adjusted|swapped)\s+working\s+(?:day|weekend|saturday|sunday)\b")),
    ("调休上班", re.compile(
        r"调休(?:的)?(?:上班|补班|工作日)|补班(?:日|的)?"
        r"|(?:周六|周日|星期六|星期天|星期日|礼拜六|礼拜天)(?:要)?(?:上班|补班)(?:的|日)?[^。！？.!?]{0,12}?"
        r"(?:发货|发吗|发不发|配送|送货)")),
    # "It's day 95, can you make an exception to the 90-day limit?", "就晚了1个小时，能不能通融一下": the rule bent for
    # the customer, which no article grants (a person decides it), not what the rule is ("is there any exception for
    # faulty tea?", "有例外吗" ask what the articles may say)
    ("exception", re.compile(
        r"\bmake\s+(?:an?\s+|one\s+|a\s+little\s+)?exception\b|\bbend\s+(?:the|your)\s+(?:rules?|polic(?:y|ies))\b"
        r"|\b(?:let|make)\s+(?:it|this|me)\s+(?:slide|off\s+the\s+hook)\b"
        r"|\b(?:any|some|a\s+bit\s+of|a\s+little)\s+(?:flexibility|leeway|wiggle\s+room|grace)\b"
        r"|\b(?:be|are\s+you)\s+(?:a\s+(?:bit|little)\s+)?flexible\b(?!\s+(?:about\s+)?(?:delivery|dates?|times?))"
        r"|\bjust\s+this\s+once\b|\b(?:a|an)\s+(?:one-off|one\s+off)\b(?=[^.?!]{0,20}\b(?:exception|favou?r)\b)")),
    ("通融", re.compile(
        r"通融|破例|网开一面|特事特办|行个方便|宽限(?:几天|一下|一天|两天|些)?|(?:能不能|可不可以|可以|能)特殊处理")),
    # "I chipped it myself, can you fix it if I pay for the repair?", "摔坏的能自费修吗": a repair the customer offers
    # to pay for, which a warranty's free repair of defects does not answer (not whether a repair costs anything: "do I
    # have to pay for the repair?", "保修期内要付费维修吗")
    ("paid repair", re.compile(
        r"\b(?:repair|fix|mend)\w*\b[^.?!]{0,40}?\b(?:if|when|once)\s+(?:i|we)\s+(?:pay|cover\s+the\s+cost)\b"
        r"|(?<!have\sto\s)(?<!need\sto\s)(?<!must\s)(?<!should\s)(?<!will\s)(?<!would\s)\b(?:pay|paying)\s+"
        r"(?:you\s+)?(?:for\s+(?:a|the|its|any)?\s*(?:repairs?|fix(?:ing)?|mending)|to\s+(?:have\s+(?:it|them)\s+)?"
        r"(?:repaired|fixed|mended|repair|fix|mend))\b"
        r"|\b(?:i'?d|i\s+would|i'?ll|i\s+will|happy\s+to|willing\s+to|don'?t\s+mind)\s+(?:to\s+)?pay(?:ing)?\b"
        r"[^.?!]{0,30}?\b(?:repair|fix|mend)\w*"
        r"|\bpaid\s+repairs?\b")),
    ("付费维修", re.compile(
        r"(?<!要)(?<!需要)(?<!得)(?<!会)(?:付费|自费|有偿|收费)(?:的)?(?:帮(?:我|忙)?)?(?:维修|修理|修补|修)"
        r"|(?:我)?(?:花钱|出钱|加钱|给钱|掏钱)[^，。！？,.!?]{0,3}?(?:维修|修理|修补|修)"
        r"|(?:维修|修理|修补|修)[^，。！？,.!?]{0,8}?(?:付费|自费|我出钱|花钱|收费)(?:也|都)(?:行|可以|没问题|没关系)")),
    # "can I come and pick it up myself?", "能到店自提吗": collecting from the shop, no delivery at all (not a parcel
    # collected from a courier's service point: "快递放驿站了我自己去取")
    ("self pickup", re.compile(
        # the customer collecting (not "the courier will pick it up from your warehouse")
        r"\b(?:i|we)\s+(?:[\w']+\s+){0,3}?(?:pick|collect)\s+(?:it|them|(?:my|the|our)\s+(?:order|parcel|package|tea|stuff"
        r"|things|purchase))?\s*(?:up\s+)?(?:myself|ourselves|in\s+person|(?:at|from)\s+(?:your|the)\s+(?:studio|shop"
        r"|store|warehouse|office|workshop))\b"
        # "pick up my order in person at the Hangzhou studio": the verb's particle before its object
        r"|\b(?:i|we)\s+(?:[\w']+\s+){0,3}?(?:pick|collect)\s+up\s+(?:it|them|(?:my|the|our)\s+(?:order|parcel|package"
        r"|tea|stuff|things|purchase))\s+(?:myself|ourselves|in\s+person|(?:at|from)\s+(?:your|the)\s+(?:[\w-]+\s+)?"
        r"(?:studio|shop|store|warehouse|office|workshop))\b"
        r"|\bin[- ]store\s+pick[- ]?up\b|\bclick[- ]and[- ]collect\b|\bself[- ]pick[- ]?up\b"
        r"|\b(?:store|shop)\s+pick[- ]?up\b"
        r"|\bcome\s+(?:by|in|over|round|down)\s+(?:and|to)\s+(?:pick|collect|grab)\b")),
    ("自提", re.compile(r"自提|(?:到店|门店|店里|工作室|你们那儿?|仓库)(?:自己)?(?:自取|取|拿|提)(?!消)")),
    # "if I give the teapot to my sister, does the warranty go with it?", "a friend gave it to me, so the order isn't in
    # my name: can I still claim?", "送人之后还能保修吗": the warranty for someone other than the buyer, which an
    # article giving it from the delivery date does not settle
    ("warranty transfer", re.compile(
        r"\b(?:warranty|guarantee)\b[^.?!]{0,40}?\b(?:transfer|transfers|transferred|transferable|go\s+with|goes\s+with"
        r"|go\s+along\s+with|goes\s+along\s+with|carry\s+over|carries\s+over|pass\s+on|passes\s+on|pass\s+to|passes\s+to"
        r"|move\s+to|moves\s+to|follow|follows)\b"
        r"|\b(?:order|purchase|receipt|account)\s+(?:is|was)\s*(?:n'?t|\s+not)\s+(?:in|under)\s+my\s+name\b"
        r"|\b(?:gave|given|gifted|sold)\s+(?:it|them|the\s+[\w-]+|my\s+[\w-]+)\s+to\s+(?:me|my\s+[\w-]+|a\s+friend|someone)"
        r"\b[^?!]{0,60}?\b(?:warranty|guarantee)\b"
        # bought from someone else, or on someone else's account: "is it still under warranty if I bought it
        # second-hand?", "my colleague ordered it on her account: can I claim the warranty in my own name?"
        r"|\b(?:second[- ]?hand|pre[- ]?owned)\b[^?!]{0,60}?\b(?:warranty|guarantee)\b"
        r"|\b(?:warranty|guarantee)\b[^?!]{0,60}?\b(?:second[- ]?hand|pre[- ]?owned)\b"
        r"|\b(?:on|under|with|from)\s+(?:his|her|their|(?:my\s+)?[\w-]+'s|someone\s+else's)\s+account\b[^?!]{0,80}?"
        r"\b(?:warranty|guarantee|claim)\b"
        r"|\b(?:claim|warranty|guarantee)\b[^.?!]{0,40}?\bin\s+my\s+own\s+name\b")),
    ("保修转让", re.compile(
        r"(?:保修|质保)(?:期|卡)?[^，。！？,.!?]{0,6}?(?:能|可以|能不能|可不可以)?(?:转让|转移|转给|过户|跟着走|一起转)"
        r"|(?:送人|送给[\u4e00-\u9fff]{1,6}|转送|转卖|转手|二手)[^？?]{0,16}?(?:保修|质保)"
        r"|(?:不是我|别人|朋友|家人)(?:本人)?(?:下的单|买的|付的款)[^？?]{0,20}?(?:保修|质保|售后)")),
    # "can it arrive today?", "今天下单今天能到吗": delivery within the day, which a shop that names none does not do
    ("same day", re.compile(
        # asked, not told ("it was supposed to arrive today")
        r"\bsame[- ]day\b|\b(?:can|could|will|would)\s+(?:it|they|my\s+\w+|the\s+\w+|i|we)\s+(?:still\s+)?(?:arrive"
        r"|be\s+delivered|get\s+here|come|get\s+(?:it|them)|have\s+(?:it|them)|receive\s+(?:it|them))\s+"
        r"(?:by\s+)?(?:today|tonight|this\s+(?:afternoon|evening))\b")),
    ("当日达", re.compile(r"当日达|当天(?:就)?(?:能|可以)?(?:送到|到货|送达|到|达|收到)(?!了)"
                         r"|今天(?:下单|买|付款)[^，。！？,.!?]{0,4}?今天(?:就)?(?:能|可以)?(?:到|送到|收到)")),
    # "can I pay in three instalments?", "能分期吗": paying over time, an arrangement no payment list names
    ("instalments", re.compile(
        r"\binstal?l?ments?\b|\bpay\s+(?:it\s+|for\s+it\s+)?in\s+(?:\d+|two|three|four|six|several|monthly)\s+"
        r"(?:parts|payments|instal?l?ments|chunks|goes)\b|\bbuy\s+now,?\s+pay\s+later\b|\bpay\s+(?:it\s+)?(?:off\s+)?monthly\b")),
    ("分期", re.compile(r"分期(?!发|寄|送)|分(?:[二三六十]|\d+)期")),  # not shipping in batches ("分期发货")
    # "do I earn points on each order?", "有积分吗": a loyalty scheme, which a shop that has none never names
    ("loyalty points", re.compile(
        r"\b(?:loyalty|reward|rewards|bonus|member(?:ship)?)\s+(?:points?|programmes?|programs?|schemes?|cards?)\b"
        # (not "can I get my cash back?", a refund)
        r"|\b(?:earn|collect|redeem|spend)\s+(?:any\s+|my\s+)?(?:points|cash\s*back|rewards)\b"
        r"|\bget\s+(?:any\s+)?(?:points|rewards|cashback)\b|\bcashback\b")),
    ("积分", re.compile(r"积分|返现|返利|会员(?:等级|折扣|价|卡)")),
    # "got a discount code for first-time orders?", "有没有新人优惠券": an offer for a kind of customer (new ones,
    # students, regulars), which a shop that has none never names; not a coupon the customer used ("I used a
    # first-order coupon")
    ("new customer discount", re.compile(
        rf"{_CUSTOMER_KIND}(?:(?!\bused\b|\bapplied\b|\bredeemed\b)[^.?!;]){{0,40}}?{_OFFER}"
        rf"|{_OFFER}(?:(?!\bused\b|\bapplied\b|\bredeemed\b)[^.?!;]){{0,40}}?{_CUSTOMER_KIND}")),
    ("新人优惠", re.compile(
        r"(?:新人|新用户|新客户?|新顾客|首单|第一单|头一单|第一次(?:买|下单|购买)|学生|老客户?|老顾客)"
        r"(?:(?!用了|使用了|用的)[^。！？.!?]){0,12}?(?:优惠|券|折扣|打折|减免|立减|福利|便宜)"
        r"|(?:优惠券|折扣码|优惠码)(?:(?!用了|使用了)[^，。！？,.!?]){0,6}?(?:新人|新用户|新客|首单|学生)")),
    # "can the fapiao say 'office supplies' instead of tea?", "发票上的商品名称能写成办公用品吗": what the invoice
    # names as the goods, chosen by the customer, which an article on invoice types and titles does not settle
    ("invoice goods description", re.compile(
        r"\b(?:item|goods|product)\s+(?:descriptions?|names?|lines?|categor(?:y|ies))\b"
        r"(?=[^.?!]{0,60}\b(?:invoice|fapiao)s?\b)"
        r"|\b(?:invoice|fapiao)s?\b[^.?!]{0,40}?\b(?:say|says|read|reads|show|list|describe|describes)\s+(?:it\s+as\s+)?"
        r"['\"‘“]?(?:office|stationery|general\s+goods|consult\w*|gifts?|services?)\b"
        r"|\b(?:put|write|list|call\s+it)\s+['\"‘“][^'\"’”]{2,30}['\"’”]\s+(?:on|as|in)\b(?=[^.?!]{0,40}\b(?:invoice|fapiao)s?\b)"
        # "can the fapiao list the goods as gifts?": the goods named as something
        rf"|\b(?:invoice|fapiao)s?\b[^.?!]{{0,40}}?{_GOODS_AS}|{_GOODS_AS}(?=[^.?!]{{0,40}}\b(?:invoice|fapiao)s?\b)")),
    ("开票内容", re.compile(
        r"(?:商品名称|品名|品目|项目名称|开票项目|开票内容|发票内容|发票项目|发票上的项目)[^，。！？,.!?]{0,6}?(?:写|开|改|填)成?"
        r"|(?:发票|票|fapiao)[^，。！？,.!?]{0,8}?(?:写|开|改)成[“\"「『]?(?!专票|普票|电子|纸质|增值税|个人|公司|单位|我|抬头|两|几|多|一张|\d)"
        r"[\u4e00-\u9fff]{2,6}")),
    # "下单送运费险吗": insurance of a return's postage, a service of its own (not the courier's insured value)
    ("return insurance", re.compile(r"\breturns?[- ](?:shipping\s+|postage\s+)?insurance\b")),
    ("运费险", re.compile(r"(?:退货|退换货?)?运费险|退货险|退换货险")),
    # "can you just send the right one", "再给我寄一个对的": a replacement, not a second order.
    ("replacement", re.compile(
        r"\b(?:send|ship|give|post|mail)\s+(?:me\s+|us\s+)?(?:the\s+|a\s+)?(?:right|correct|proper)\s+"
        r"(?!(?:address|answer|info|information|details?|e-?mail|number|way|time|date|amount|price|name|link|code)\b)"
        r"[a-z][\w'-]*"
        r"|\b(?:send|ship|post|mail)\s+(?:me\s+|us\s+)?(?:another|a\s+new|a\s+fresh)\s+(?:one|[\w'-]+)\s+instead\b")),
    ("换货", re.compile(
        r"(?:重新|再|另)(?:给我|帮我)?(?:发|寄|补)(?:一|个)?(?:个|份|罐|盒|套|次)?(?:对的|正确的|新的)"
        r"|(?:换|发|寄)(?:成|个|一个)?(?:对的|正确的)")),
    # "came back an hour later to pay and the order is just gone", "订单不见了": an order the shop cancelled (an unpaid
    # one), no word of which says so; the articles' own word, not the customer's "cancel" (asking to cancel a paid
    # order is another matter).
    ("cancelled", re.compile(
        r"\b(?:my\s+|the\s+)?order\s+(?:is|was|has|had|just|got)\s+(?:just\s+|simply\s+|completely\s+)?(?:been\s+)?"
        r"(?:gone|vanished|disappeared|deleted)\b(?!\s+(?:out|through|off|to|into|on)\b)"
        r"|\b(?:my\s+|the\s+)?order\s+(?:just\s+)?(?:vanished|disappeared)\b"
        r"|\b(?:can'?t|cannot|couldn'?t)\s+find\s+(?:my|the)\s+order\s+any\s*more\b"
        # "the order says CANCELLED", "my order is showing as cancelled": the status the shop gave it
        r"|\b(?:order|status)\s+(?:now\s+|just\s+|suddenly\s+|page\s+)?(?:says|said|shows|showed|is\s+showing"
        r"|was\s+showing|reads|is\s+marked|was\s+marked|got\s+marked|changed\s+to|went\s+to)\s+(?:as\s+)?"
        r"[\"'“‘]?cancell?ed\b")),
    ("取消", re.compile(r"订单(?:怎么|咋|突然|就|一下子|居然){0,3}(?:没了|不见了|消失了|找不到了)")),
    # "are your prices inclusive of VAT?", "标价含税吗": whether tax is in the price, which an article says once where
    # it says it at all ("All prices … include VAT"); one concept in both languages, named by any word of tax
    ("含税", re.compile(
        r"\b(?:inclusive\s+of|including|incl\.?|include[sd]?)\s+(?:the\s+|any\s+)?(?:tax|taxes|vat|gst)\b"
        r"|\b(?:tax|taxes|vat)[- ](?:inclusive|included|incl)\b"
        r"|\b(?:plus|excluding|exclusive\s+of|excl\.?)\s+(?:tax|taxes|vat)\b"
        # "does tax get added at checkout?", "is VAT added on top?"
        r"|\b(?:tax|taxes|vat|gst)\s+(?:gets?|is|are|will\s+be|be|being)\s+added\b|\b(?:tax|taxes|vat)\s+on\s+top\b"
        r"|含税|含不含(?:增值)?(?:税|vat)|不含税|含增值税|(?:包含|包括|含)了?(?:增值)?(?:税|vat)|税费?(?:另算|另计|另付|另加)"
        r"|(?:另外|额外|另|再|还要|还得)(?:另外|再)?加(?:增值)?(?:税|vat)")),
    # "what's the VAT rate on the special invoice?", "专票税率是多少": a rate of tax, which an article that only says
    # prices include VAT does not give
    # (and the tax in an amount: "how much VAT exactly is in a ¥199 order?", "增值税具体是多少钱")
    ("tax rate", re.compile(r"\b(?:vat|tax)\s+rates?\b|\brate\s+of\s+(?:vat|tax)\b"
                            r"|\bhow\s+much\s+(?:of\s+(?:that|it|this)\s+is\s+)?(?:vat|tax)\s+(?:\w+\s+)?"
                            r"(?:is|are|was|do|does|would|will)\b")),
    ("税率", re.compile(r"税率|税点(?:是)?多少|几个点的?(?:税|票|专票|普票)"
                      r"|(?:增值税|税额|税费|税)(?:具体|大概|到底)?(?:是|有|占|要)?多少钱?")),
    # "can you deliver to the locker in my building?", "能寄到丰巢吗": a parcel locker, which an article names or not
    # (a courier's service point holding a failed delivery is not one)
    ("parcel locker", re.compile(r"\b(?:parcel|smart|delivery|package|sf)\s+lockers?\b|\blockers?\s+(?:in|at|near)\b")),
    ("快递柜", re.compile(r"快递柜|丰巢|智能柜|自提柜|储物柜")),
    # "what time do I have to pay by to ship today?", "每天几点前付款当天发": a daily cut-off, which "within 24 hours on
    # working days" is not
    ("order cutoff", re.compile(
        # (not a deadline for something else: "the cut-off for asking for a fapiao")
        r"\b(?:order|dispatch|shipping|delivery|same[- ]day|next[- ]day|daily)\s+cut-?\s?off\b"
        r"|\bcut-?\s?off\s+(?:time|hour|point)\b|\bcut-?off\s+for\s+(?:same[- ]day|next[- ]day|today'?s?|dispatch"
        r"|shipping|delivery|orders?)\b|\b(?:order|pay|buy)\s+by\s+what\s+time\b"
        r"|\bwhat\s+time\s+(?:do|should|must|would)\s+(?:i|we)\s+(?:have\s+to\s+|need\s+to\s+)?(?:order|pay|buy)\s+by\b"
        r"|\bbefore\s+what\s+time\b|\b(?:latest|last)\s+(?:time|hour)\s+(?:i|we|you)\s+can\s+(?:order|pay|buy)\b")),
    ("截单", re.compile(r"截单|(?:几点|什么时[候间])(?:之?前|以前)(?:下单|付款|支付|拍下?|买)")),
    # "tracking says delivered but nothing came", "显示签收了但没收到": a parcel lost, which no article here covers (a
    # failed delivery is tried again)
    ("lost parcel", re.compile(
        r"\b(?:says|said|shows|showed|marked(?:\s+as)?)\s+(?:it\s+was\s+|as\s+)?delivered\b[^.?!]{0,40}?"
        r"\b(?:not|never|didn'?t|haven'?t|hasn'?t|nothing|no\s+parcel)\b"
        r"|\b(?:parcel|package|order|box)\s+(?:was|got|gets|goes|has\s+been|is)\s+(?:lost|stolen|missing)\b"
        r"|\blost\s+(?:in\s+(?:the\s+)?(?:post|mail|transit))\b"
        # the courier as the one who lost it: "if they've lost it", "SF lost my parcel"
        r"|\b(?:they|sf|the\s+courier)(?:'ve|\s+have|\s+has)?\s+lost\s+(?:it|my\s+(?:parcel|package|order|box))\b")),
    ("丢件", re.compile(r"(?:显示|已经?|已)(?:被)?签收[^。？?！!]{0,12}?(?:没|未)(?:有)?(?:收到|拿到|见到)|丢件"
                      r"|快递(?:被)?(?:丢|弄丢)了?|包裹(?:被)?(?:丢|弄丢|偷)了"
                      # "如果包裹在顺丰运输途中丢了" (not "快递单号丢了", a number)
                      r"|(?:包裹|快递|货物?|东西)(?!单|员|小哥)[^，。？?！!]{0,10}?(?:丢了|丢失|弄丢|寄丢|被偷)")),
    # "the next-day parcel came on day three, do I get the ¥25 back?", "选了次日达结果第三天才到，运费能退吗": money
    # back for a late delivery, which an article giving the delivery times does not promise
    ("late delivery refund", re.compile(
        r"\b(?:next[- ]day|express|expedited|overnight)\b[^?!]{0,60}?\b(?:late|didn'?t\s+(?:arrive|come|get\s+here)"
        rf"|took\s+\w+\s+days|(?:arrived|came)\s+(?:\w+\s+){{0,3}}?(?:late|after))\b[^?!]{{0,60}}?{_MONEY_BACK}"
        # after the express was named: "and if it turns up a day late, do I get the ¥25 back?"
        r"|\b(?:turns?\s+up|arrives?|comes?|shows?\s+up|gets?\s+(?:here|there))\s+(?:a\s+day|(?:a\s+)?\w+\s+days?|a\s+bit)?"
        rf"\s*late\b[^?!]{{0,40}}?{_MONEY_BACK}")),
    ("超时赔付", re.compile(
        r"(?:次日达|加急|特快|当日达)[^？?]{0,20}?(?:没到|才到|晚到|迟到|延误|超时|没送到|没能送到)[^？?]{0,20}?"
        r"(?:退|赔|补偿)")),
    # "if I return an item, do I get back the coupon I used?", "退货后优惠券会退回吗": a coupon given back, which an
    # article on refunds (the money) does not settle
    ("coupon return", re.compile(
        r"\b(?:get|getting|give|given)\s+(?:me\s+)?back\s+(?:the|my)\s+(?:[\w-]+\s+)?(?:coupon|voucher|promo\s+code"
        r"|discount\s+code)s?\b"
        # (given back, not refunded as money: "can this coupon be refunded?" is the coupon's own rule)
        r"|\b(?:coupon|voucher|promo\s+code|discount\s+code)s?\b[^.?!]{0,30}?\b(?:back|returned|restored|reinstated"
        r"|reissued)\b")),
    # "do you sell gift cards?", "你们卖不卖购物卡": stored value to buy with, which a list of payment methods does not
    # name (not the shop's cards accepted)
    ("gift card", re.compile(r"\bgift\s*cards?\b|\bgift\s+vouchers?\b|\bstore\s+credit\b|\be-?gift\s+cards?\b")),
    ("礼品卡", re.compile(r"礼品卡|购物卡|储值卡|提货卡|礼券|电子卡券")),
    # "could it come in a plain box without your logo?", "能不能用不带店名和logo的纯色外箱": packaging that does not
    # say what is inside or who sent it, which an article on packing does not offer
    ("plain packaging", re.compile(
        r"\b(?:plain|unbranded|unmarked|discreet|neutral|blank)\s+(?:outer\s+)?(?:box|boxes|packaging|package|parcel"
        r"|wrapping|carton)\b|\bwithout\s+(?:your|the|any)\s+(?:shop'?s?\s+)?(?:logo|name|branding|brand)\b"
        r"|\bno\s+(?:logo|branding)\b")),
    ("隐私包装", re.compile(
        r"(?:不带|没有|去掉|不要|不印|别印)[^，。？?！!]{0,8}?(?:店名|logo|标志|商标|品牌)"
        r"|纯色(?:的)?(?:外箱|箱子|纸箱|包装)|隐私包装|保密包装|匿名(?:发货|寄)")),
    ("退券", re.compile(
        # (given back, not refunded: "这张券能退吗" is the coupon's own rule)
        r"(?:优惠券|券|优惠码|代金券)[^，。？?！!]{0,8}?(?:退回|返还|退还|还给|恢复|返回)|退(?:回|还)(?:优惠券|代金券)")),
    # "does SF deliver on Sundays?", "顺丰周日派件吗": the courier's delivery days, which an article saying when the
    # shop dispatches ("orders paid at the weekend are dispatched on the next working day") does not give
    ("weekend delivery", re.compile(
        r"\bdeliver(?:s|ies|y|ing)?\s+(?:(?:on|at|over|during)\s+)?(?:the\s+|a\s+)?(?:weekends?|saturdays?|sundays?"
        r"|(?:public\s+|bank\s+)?holidays?)\b|\b(?:weekend|saturday|sunday|holiday)\s+deliver(?:y|ies)\b")),
    ("周末派送", re.compile(
        r"(?:周末|周六|周日|星期六|星期天|星期日|礼拜六|礼拜天|礼拜日|节假日)(?:也|还)?(?:派送|派件|送货|配送|上门送|送件)"
        r"|(?:周末|周六|周日|星期六|星期天|星期日|节假日)(?:也|还)?(?:送|派)(?:吗|不|么)")),
    # "how many days will the service point keep it?", "包裹在驿站能放几天": how long a parcel waiting for the customer
    # is held, which an article that says it may be held does not give
    ("holding period", re.compile(  # held by the courier, not kept by the customer ("how long can I keep it")
        r"\bhow\s+(?:long|many\s+days|many\s+weeks)\s+(?:will|would|do|does|can|could)\s+(?:they|sf|sf\s+express|it"
        r"|the\s+(?:courier|service\s+point|pick-?up\s+point|station|locker|depot))\s+(?:\w+\s+)?(?:hold|keep|store)\s+"
        r"(?:it|them|my\s+(?:parcel|package)|the\s+(?:parcel|package))\b"
        r"|\b(?:hold|keep|store)\s+(?:it|them|my\s+(?:parcel|package)|the\s+(?:parcel|package))\s+(?:there\s+)?"
        r"(?:for\s+)?how\s+(?:long|many\s+days)\b")),
    ("存放期限", re.compile(  # a parcel's, not tea's ("没拆封的绿茶能放多久": how long it keeps)
        r"(?:驿站|服务点|网点|快递柜|代收点|丰巢|包裹|快递)[^，。？?]{0,10}?(?:放|存|保留|留)[^，。？?]{0,4}?"
        r"(?:几天|多久|多长时间)")),
    # "can the courier just leave it at my door?", "能让快递放门口吗": a parcel left unattended, which an article on
    # failed deliveries (tried again, or held at a service point) does not allow for
    ("doorstep drop", re.compile(
        r"\bleave\s+(?:it|them|the\s+(?:parcel|package|box)|my\s+(?:parcel|package))\s+(?:at|by|outside|on|with|in)\s+"
        r"(?:my|the|our)\s+(?:door|doorstep|porch|front\s+door|neighbou?r|reception|concierge|building|gate|mailbox)\b")),
    ("放门口", re.compile(r"(?<!被)放(?:在)?(?:我家)?(?:门口|门卫|物业|前台|保安室|邻居家|家门口)"
                       r"|(?:门口|门卫|物业|前台)代收")),
    # "I typed the wrong street, it hasn't shipped yet, can you fix it?", "地址填错了，还没发货，能帮我改吗": an order's
    # address corrected by the shop before dispatch, which an article on redirecting a parcel under way does not settle
    # (read before "redirect", which would take its "change the address")
    ("address fix before dispatch", re.compile(
        r"\b(?:address|adress|addy|street)\b[^!]{0,80}?(?:\bbefore\s+(?:it|you|they|the\s+[\w-]+)\s+(?:ships?|shipped"
        r"|go(?:es)?|leaves?|is\s+(?:shipped|sent|dispatched)|gets?\s+(?:shipped|sent|dispatched))\b|\bbefore\s+(?:dispatch"
        r"|shipping)\b|\b(?:hasn'?t|has\s+not|haven'?t|not)\s+(?:shipped|been\s+(?:shipped|sent|dispatched)|left)\s+yet\b)"
        r"|\b(?:hasn'?t|has\s+not|not)\s+(?:shipped|been\s+(?:shipped|sent|dispatched))\s+yet\b[^?!]{0,60}?"
        r"\b(?:address|adress|street)\b")),
    ("发货前改地址", re.compile(
        r"地址[^？?！!]{0,12}?(?:填错|写错|错了|打错|不对)[^？?！!]{0,16}?(?:发货前|还没发货|没发货|没发出|还没发出|发货之前|后台)"
        r"|(?:发货前|还没发货|没发货|发货之前)[^？?！!]{0,12}?(?:改|修改|更改|换)(?:一下)?(?:收货)?地址")),
    # "can I change where it's delivered?", "could you send it to a different address?": the parcel redirected,
    # which the courier's app does (not an invoice's or an account's address)
    ("redirect", re.compile(
        r"\bchange\s+(?:where|the\s+place)\s+(?:it'?s|it\s+is|it\s+gets|it\s+will\s+be|they'?re|they\s+are"
        r"|(?:my|the)\s+[\w-]+\s+(?:is|gets|will\s+be))\s+(?:being\s+)?(?:delivered|sent|going|dropped\s+off|shipped"
        r"|headed|heading)\b"
        r"|\b(?:change|update|switch|correct|fix|edit|amend|modify)\s+(?:the\s+|my\s+|our\s+)?(?:delivery\s+|shipping\s+"
        r"|postal\s+|receiving\s+)?address\b(?!\s+(?:on|in|of|for)\s+(?:the\s+|my\s+)?(?:invoice|fapiao|account|profile))"
        r"|\b(?:send|deliver|ship|redirect|reroute|forward)\s+(?:it|them|the\s+[\w-]+|my\s+[\w-]+)\s+(?:to\s+)?(?:a\s+|my\s+)?"
        r"(?:different|another|new|other|work|office)\s+address\b|\breroute\b")),
    # "can I change the quantity on my order?", "付完款还能改数量吗": an order's contents changed after it is placed
    # (not its address, which the courier's app redirects)
    ("order edit", re.compile(
        r"\b(?:change|edit|modify|amend|update|adjust)\s+(?:the\s+|my\s+)?(?:quantity|quantities|number\s+of\s+"
        r"(?:items|boxes|tins|cups|pieces|bags)|items?\s+in\s+(?:my|the)\s+order|contents?\s+of\s+(?:my|the)\s+order)\b"
        r"|\b(?:change|edit|modify|amend)\s+(?:my|the|an)\s+(?:paid\s+|existing\s+|placed\s+)?order\b"
        r"(?![^.?!]{0,20}\b(?:address|delivery)\b)"
        # one thing of the order swapped for another ("swap the black tea in my order for a green one")
        r"|\b(?:swap|switch|change|replace|exchange)\s+(?:the\s+|my\s+|a\s+|one\s+|that\s+)?(?:[\w-]+\s+){0,3}?in\s+"
        r"(?:my|the|this|that|our)\s+order\s+(?:for|with|to|into)\b")),
    ("改单", re.compile(
        r"(?:修改|更改|改|调整)(?:一下)?(?:订单|下单)?(?:里|中|里面)?的?(?:商品)?(?:数量|件数|款式|规格)"
        r"|(?:修改|更改)订单(?!地址|的地址|收货地址|的收货)|改订单(?!地址|的地址|收货地址|的收货)"
        # one thing of the order swapped for another ("把订单里的红茶换成绿茶"; not its address)
        r"|(?:订单|这单|那单)(?:里|中|里面)?的?(?:(?!地址|发票|抬头)[^，。！？,.!?]){1,8}?(?:换成|改成|换为|改为)")),
    # "could you hold off shipping until next month?", "能不能等我下个月回国了再发货": the order sent later than the
    # shop would, at the customer's asking, which no article offers (not the delivery rescheduled with the courier,
    # which the shipping article's app does: "can I delay the delivery?")
    ("delayed dispatch", re.compile(
        r"\b(?:delay|postpone|defer|push\s+back|hold\s+off(?:\s+on)?)\s+(?:the\s+|my\s+|our\s+)?(?:dispatch|dispatching"
        r"|shipping|shipment|sending|posting)\b(?!\s+(?:fee|fees|cost|costs|address))"
        # "can you wait until after my birthday to send the order?", "hold on till the 20th before shipping it"
        # (asked of the shop, not whether the customer must wait: "do I have to wait until Monday for you to ship it?")
        r"|\b(?:(?:can|could|would|will)\s+(?:you|u)(?:\s+guys)?|please)\s+(?:please\s+)?(?:just\s+)?"
        r"(?:wait|hold\s+(?:off|on))\s+(?:until|till|til|for)\b[^.?!]{0,40}?\b(?:to|before|and\s+then)\s+"
        r"(?:sending|shipping|dispatching|posting|mailing|send|ship|dispatch|post|mail)\b"
        r"|\b(?:send|ship|dispatch|post|mail)\s+(?:it|them|my\s+order|the\s+order|my\s+parcel|the\s+parcel)\s+(?:out\s+)?"
        r"(?:only\s+)?(?:later|next\s+(?:week|month)|after\s+the\s+\d{1,2}(?:st|nd|rd|th)?|in\s+(?:two|three|a\s+few|\d+)\s+weeks?)\b")),
    ("延迟发货", re.compile(
        # asked for ("能不能等我…", "等我回国了再…"), not whether the shop's own days make it wait
        # ("是要等节后才发货吗"), nor waiting for a payment, an invoice or a return, which the articles' steps are
        # ("等付完款再发吗")
        r"(?:(?:能不能|可不可以|可以|能否|能|麻烦|请|帮我|先别|别)[^，。！？,.!?]{0,4}?等(?:我|我们|到|他|她)?|等(?:我|我们))"
        r"(?:(?!付|支付|发票|票|退|换|修|补)[^，。！？,.!?]){1,12}?(?:了|之后|以后|后)?(?:再|才)"
        r"(?:发货|发出|寄出|寄给我|发给我|寄过来|发过来|发(?![票现错])|寄(?!回))"
        r"|(?:晚点|晚些|晚几天|延迟|推迟|延后|过几天|过段时间|下个?月|下周|下礼拜)再(?:发货|发出|寄出)")),
    # "is there a minimum order amount?", "下单有最低消费吗", "起订量是多少": a least an order must come to, which no
    # article of a shop without one names (not the free-shipping threshold: "what's the minimum for free shipping?",
    # "最少买多少包邮")
    ("minimum order", re.compile(
        r"(?:^|(?<=[.?!\n]))(?![^.?!\n]*\b(?:free\s+(?:standard\s+)?(?:shipping|delivery|postage)|(?:shipping|delivery"
        r"|postage)\s+(?:is\s+|be\s+|for\s+)?free|shipping|postage)\b)[^.?!\n]*?"
        r"(?:\bminimum\s+(?:order|purchase|spend|basket|cart|checkout)(?:\s+(?:amount|value|size|total|quantity))?\b"
        r"|\border\s+minimum\b|\bminimum\s+(?:amount|value|quantity|spend)\s+(?:to|for|before|per)\s+"
        r"(?:an?\s+)?(?:order|buy|check\s*out|place|purchase|checking\s+out)\b)")),
    ("最低消费", re.compile(
        _zh_clause_without("包邮", "免运费", "免邮", "运费", "邮费")
        + r"(?:最低消费|最低起订|起订量|起订金额|起购(?:量|金额)?|最少(?:要|得|需要)?(?:买|消费|下单|订)(?:多少|几)"
        r"|至少(?:要|得|需要)?(?:买|消费|下单|订)(?:多少|几))(?![^，。！？,.!?]*(?:包邮|免运费|免邮|运费|邮费))")),
    # "do I send the free sample back too?", "赠品要一起寄回吗": what came free with an order, which no article names
    ("free gift", re.compile(
        r"\bfree\s+(?:gifts?|samples?|sample\s+packs?|extras?)\b|\bfreebies?\b|\bgifts?\s+with\s+purchase\b"
        r"|\bcomplimentary\s+(?:gifts?|samples?|items?)\b")),
    ("赠品", re.compile(r"赠品|赠送的|小样|试用装|送的小?礼物")),
    ("重复扣款", re.compile(
        r"扣了?(?:我|我们)?(?:两|二|2)(?:次|遍|回|笔)|扣了?双份|多扣了?(?:一次|一笔|钱)?|重复扣|付了?(?:两|2)(?:次|遍)")),
)


def concept_phrased_in(concept: str, text: str) -> bool:
    """Whether a line of the text says the concept in one of the phrasings that read it from a question: only that
    concept's patterns, so a whole knowledge base is looked through at the cost of one pattern per line."""
    patterns = _concept_patterns().get(concept, ())
    if not patterns:  # a concept read from the question's shape (a restock, the shop's phone), no phrasing of it
        return False
    lowered = unicodedata.normalize("NFKC", text).lower()
    return any(pattern.search(line) for line in lowered.splitlines() if line for pattern in patterns)


@lru_cache(maxsize=1)
def _concept_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    patterns: dict[str, list[re.Pattern[str]]] = {}
    for concept, pattern in CONCEPTS:
        patterns.setdefault(concept, []).append(pattern)
    return {concept: tuple(found) for concept, found in patterns.items()}


def concepts_in(text: str) -> tuple[list[str], str]:
    """(the shop concepts an everyday phrasing in the text stands for, the text without those phrasings)."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    found = []
    for concept, pattern in CONCEPTS:
        if pattern.search(lowered):
            found.append(concept)
            lowered = pattern.sub("，", lowered)
    return found, lowered if found else text
