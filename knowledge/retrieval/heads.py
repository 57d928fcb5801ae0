"""A question's head words: what it asks about and what it asks to have done, which a source must contain to
cover it, whatever else it shares with the question.

Why: coverage (knowledge.retrieval.coverage) is the share of a question's content words a source contains, and
a question made of the shop's own words can be about something else: "how do I transfer money to a friend with
WeChat Pay" shares "WeChat Pay" and "money" with the payment article, "淘宝买的衣服怎么退货" shares "退货" with
the returns article, "信用卡逾期了怎么办" shares "信用卡" with it. What puts such questions out of scope is one
word the shop's articles never have: the action asked for ("transfer", "解冻", "申报"), another party whose
matter it is ("another shop", "Amazon", "别家店", "拼多多"), a product asked for that the articles never name
("do you sell laptops", "有笔记本电脑卖吗"), or a word of a field no shop's help centre is about (a loan, a
medicine, a lawsuit: "逾期", "失眠", "起诉"). Those words are the question's head: a source without them does not
cover it, however many of its other words it has.

Rules, not phrasings: the head is read from the question's shape (the verb after "how do I", "怎么" or "如何";
the object of "do you sell", "你们卖", "有…卖"), plus three small lexicons of commerce concepts in both
languages: other sellers (another shop, a marketplace), fields outside a shop (personal finance, health, law,
taxes of one's own), and generic shop verbs ("buy", "contact", "查") that say nothing about the subject and so
are never a head. A head word the knowledge base has (a shop that sells on Tmall and says so, a shop whose
articles cover shipping insurance) is covered as any word is.
"""

from __future__ import annotations

import re

from .terms import STOPWORDS, _stem, segmenter

# Sellers other than the shop: a generic "another shop" (the articles are about this shop only), marketplaces and
# carriers by name, English and Chinese (a shop's own carrier is in its articles, and so covered). Matched on the
# question as written (lower case, NFKC).
# "Other" and a word for a seller with at most two words between ("some other online store", "a different web
# shop", "其他网上商城", "别家店铺"), or the Chinese words that say it alone (别家, 外面买).
_SELLER_WORDS = (r"shop|store|seller|website|site|web ?shop|merchant|vendor|platform|retailer|marketplace|mall"
                 r"|outlet|supermarket|boutique")
# Words that end the seller's description ("other cups in store" is not another store).
_NOT_A_SELLERS_NAME = r"(?:in|at|on|of|from|for|to|with|by|and|or|but|the|a|an|your|our|my|this|that|is|are|was)"
_ZH_OTHER = r"(?:别的|别家|别人家?的?|其他|其它|另外的?|另一家)"
_ANOTHER_SELLER = re.compile(
    rf"\b(?:another|other|different|third[- ]party)\s+(?:(?!{_NOT_A_SELLERS_NAME}\b)[a-z'-]+\s+){{0,2}}?"
    rf"(?:{_SELLER_WORDS})s?\b"
    rf"|{_ZH_OTHER}\s*[^\s，。,.!?！？]{{0,3}}?"
    r"(?:店|商城|商店|店铺|网店|平台|网站|商家|卖家|超市|专柜)"
    r"|别家|外面买"
)
# Courier companies: other sellers' services, and the names a customer may ask the shop to send with
# (`couriers_asked_of_shop`).
_EN_COURIER_COMPANY = r"jd|zto|yto|yunda|ems|dhl|fedex|ups|usps|china\s+post"
_ZH_COURIER_COMPANY = r"京东|中通|圆通|申通|韵达|极兔|德邦|中国邮政|邮政"
_NAMED_SELLER = re.compile(
    r"\b(?:amazon|ebay|taobao|tmall|aliexpress|pinduoduo|temu|shein|etsy|walmart|costco|ikea"
    r"|royal\s+mail|canada\s+post|australia\s+post|japan\s+post"
    r"|deutsche\s+post|la\s+poste|parcelforce|dpd|gls|cainiao|apple(?!\s*pay)|samsung|huawei|xiaomi|sony|dell"
    r"|lenovo|microsoft|google|paypal|starbucks|alibaba|tencent|baidu|meituan|bytedance|tiktok|jd(?:\.com)?"
    r"|suning|dangdang|xianyu|douyin|xiaohongshu|vipshop"
    # ride-hailing and meal-delivery apps: their orders, riders and receipts are theirs
    r"|didi|uber(?:\s*eats)?|lyft|grab\s*(?:food|car|taxi|ride|app)|(?:on|via|through)\s+grab|deliveroo|doordash"
    rf"|instacart|ele\.?me|{_EN_COURIER_COMPANY})\b"  # after "jd(?:\.com)?", which takes "jd.com" whole
    rf"|淘宝|天猫|拼多多|闲鱼|唯品会|苏宁|亚马逊|得物|{_ZH_COURIER_COMPANY}|菜鸟|华为|三星|阿里巴巴|腾讯|百度|美团|字节跳动|抖音"
    r"|滴滴|饿了么|盒马|携程|去哪儿|12306"
)
OTHER_SELLER = "〈other seller〉"

# The customer as the sender and a courier as their own carrier ("how much would SF charge me to send a box of my
# books", "我想用顺丰寄个文件到北京"): the courier's service to them, which no shop article is about, though the
# shop's delivery articles name the courier and its prices. Sending a return back is the shop's matter
# (_SENDING_BACK), and so is asking the shop to use a courier ("你们能用顺丰发吗": no "我" sending).
_COURIER = r"(?:sf(?:\s+express)?|shunfeng|the\s+courier|a\s+courier|couriers?|ems|the\s+post\s+office)"
_OWN_SENDING = re.compile(
    rf"\b{_COURIER}\s+(?:\w+\s+){{0,2}}?(?:charge|cost)\s+(?:me|us)\s+(?:\w+\s+){{0,2}}?to\s+(?:send|ship|post|mail)\b"
    # "how much does SF charge to send a 2kg box": something of the customer's, not "my order"
    rf"|\b{_COURIER}\s+(?:\w+\s+){{0,2}}?(?:charge|cost)\s+(?:\w+\s+){{0,2}}?to\s+(?:send|ship|post|mail)\s+"
    r"(?:a|an|some|my\s+own)\b"
    rf"|\b(?:use|using|through|via)\s+{_COURIER}\s+(?:myself\s+)?to\s+(?:send|ship|post|mail)\b"
    # "I sent a box of mooncakes to my sister with SF Express": the customer's own parcel, sent
    rf"|\b(?:i|we)\s+(?:sent|posted|shipped|mailed)\s+(?:[\w'-]+\s+){{1,12}}?(?:with|via|by|through|using)\s+{_COURIER}"
    r"|(?:我|自己)[^，。！？,.!?你]{0,4}?(?:用|找|通过|走)(?:顺丰|快递|邮政|ems)[^，。！？,.!?]{0,3}?(?:寄|发)(?![回还])"
)
_SENDING_BACK = re.compile(r"\breturn|\bback\b|\brefund|\bexchange|\brepair|退|寄回|换货|返修|维修|保修")
OWN_SENDING = "〈the customer's own parcel〉"

# Words of fields a shop's help centre is not about (nor words a shop uses too: "stock", "interest"): a question
# that has one is about that field (the customer's loan, health, lawsuit, own tax return), whatever shop words it
# shares. English words are met through their roots ("medicines", "overdue"), Chinese as words or inside one.
OTHER_FIELDS = frozenset(
    """
    loan mortgage overdue debt invest investment dividend insurance pension
    salary wage landlord tenant lawyer attorney sue lawsuit court divorce
    police passport doctor medicine medication pill symptom headache fever
    pregnant pregnancy diabetes diabetic allergy allergic burn burns rash insomnia prescription hospital
    sleep caffeine digestion digestive cholesterol detox 睡眠 助眠 安神 养胃 减肥 降压 降血压 降血脂 排毒 养生 咖啡因
    贷款 房贷 车贷 逾期 欠款 利息 理财 股票 基金 股价 保险 养老金 工资 房租 房东 租房 押金 律师 起诉 法院 官司 合同 离婚
    报警 护照 签证 医生 药 吃药 症状 头疼 头痛 发烧 怀孕 孕妇 糖尿病 高血压 过敏 烫伤 失眠 医院 处方
    所得税 个税 申报 征信 汇率 外汇 forex
    job jobs career hire hiring vacancy interview resume recruit recruitment 招聘 应聘 简历 求职 面试
    pet pets puppy kitten 宠物 活体 recipe recipes cooking bake baking 菜谱 食谱 做法 parking 停车 罚单 违章
    cook boil fry roast marinate 煮 炒 炖 蒸 腌 卤 烤 炸 入味
    utility utilities electricity broadband 话费 电费 水费 燃气费 水电费 物业费 宽带费
    poem poems poetry haiku sonnet limerick lyrics 诗 诗歌 古诗 作诗 写诗 歌词 对联 作文
    sql python javascript programming coding 代码 编程 写代码 程序员
    translate translating translation translator 翻译
    invent invented inventor invention 发明
    legal illegal liability 法律 法律责任 违法 犯法 刑事 税务局
    forecast weather rain umbrella 天气预报 天气 气温 雨 伞
    takeaway takeout 外卖 骑手
    train trains railway metro subway 高铁 火车 动车 地铁 火车票 高铁票
    flight flights airline airlines airfare 机票 航班 航空公司 atm 年费 sim 流量 中国移动 中国联通 中国电信 联通 电信
    闪退 死机 蓝屏 黑屏 卡机 重启 刷机 越狱
    """.split()
)

# Languages a sentence may be asked in (a translation): English, and as Chinese names them.
_LANGUAGE_NAME = (r"(?:japanese|english|chinese|mandarin|cantonese|korean|french|german|spanish|italian|russian"
                  r"|arabic|thai|vietnamese|portuguese|dutch|hindi)")
_ZH_LANGUAGE_NAME = r"(?:日语|日文|英语|英文|韩语|韩文|法语|法文|德语|德文|西班牙语|俄语|粤语|中文|普通话|泰语|越南语)"

# Fields named in words a shop uses too: a bill is an invoice, but a phone bill is the phone company's; an exchange
# is a swap of goods, but an exchange rate is a bank's.
_OTHER_FIELD_PHRASES = re.compile(
    r"\b(?:phone|mobile|cell|electricity|electric|water|gas|utility|utilities|internet|broadband|credit\s+card)\s+bills?\b"
    r"|\b(?:exchange|conversion|interest)\s+rates?\b|\btop(?:ping)?[- ]?up\s+(?:my\s+)?(?:phone|mobile|sim)\b"
    r"|\b(?:share|stock)\s+prices?\b|\bstock\s+market\b|\b(?:buy|buying|sell|selling)\s+(?:some\s+)?(?:stocks?|shares)\b"
    # a person's taxes are the tax office's: "income tax", "my tax return" (a shop's VAT is its own)
    r"|\b(?:income|personal|property|inheritance|capital\s+gains)\s+tax(?:es)?\b|\btax\s+(?:returns?|brackets?)\b"
    # a translation asked for without the word: "how do you say 'too bitter' in Japanese", "苦用日语怎么说"
    rf"|(?i:\bhow\s+(?:do|would|can|could|should)\s+(?:you|i|we|one|u)\s+(?:say|spell|pronounce)\b[^?？\n]{{1,80}}?"
    rf"\bin\s+{_LANGUAGE_NAME}\b(?!\s+(?:terms|words|version|text))"
    rf"|\bwhat(?:'s|s|\s+is|\s+are)\b[^?？\n]{{1,60}}?\b(?:in|called\s+in)\s+{_LANGUAGE_NAME}\b(?!\s+(?:terms|words|version|text)))"
    rf"|(?:用|拿)?{_ZH_LANGUAGE_NAME}(?:该|应该)?(?:怎么|咋|如何)(?:说|讲|写|翻|念|读|表达)"
    # money lent and not paid back: "借给朋友的 5000 块他一直拖着不还", "lent my friend 500 and he won't pay it back"
    r"|借(?:给|了)?[^，。？?！!]{0,12}?(?:块|元|钱|万)[^。？?！!]{0,12}?(?:不还|没还|拖着|要回来)|讨债|要债|催债"
    r"|\blent\s+(?:\w+\s+){0,3}?(?:\d+|money|cash)\b[^.?!]{0,40}?\b(?:pay|paid|give|gave)\s+(?:it\s+|me\s+)?back\b"
)


# Verbs of shopping and of filling in forms that name no subject ("how do I buy…", "怎么查…", "how can I contact
# you", "在哪里提交"), and verbs of being or becoming ("how do I become a member", "怎么成为会员": the subject is
# the noun after them): never a head.
GENERIC_ACTIONS = frozenset(
    """
    buy purchase order get find see check know contact reach call email talk speak ask tell change update
    use make do have put go take keep give submit fill enter upload provide be become stay remain turn
    pick choose select opt
    买 购买 下单 查 查看 查询 看 找 联系 问 改 修改 弄 办 处理 做 用 操作 知道 了解 确认 提交 填 填写 上传 提供
    找到 看到 查到 拿到
    成为 变成 当 是
    """.split()
)

# English: "how do I <verb>", "how to <verb>", "can I <verb>", "can you <verb>" (what the shop is asked to do),
# "where can I <verb>", "is it possible to <verb>"; and "how many / how much <noun>", what is to be counted.
_EN_ACTION_FRAME = re.compile(
    r"\b(?:how\s+(?:do|can|could|would|should|will|does|did|must)\s+(?:i|we|you|one|u)|how\s+to"
    r"|(?:can|could|may)\s+(?:i|we|u)|(?:can|could|would|will)\s+you(?:\s+guys)?(?:\s+please)?"
    r"|where\s+(?:can|do|should|could|would)\s+(?:i|we|u)|how\s+(?:many|much)"
    r"|is\s+it\s+possible\s+to|what(?:'s| is)\s+the\s+way\s+to)\s+"
    r"((?:[a-z']+\s+){0,2}[a-z']+)"
)
# Words before the verb asked: "just", "please", and a start of doing it ("when will you start shipping": ship).
_EN_FILLERS = frozenset(
    "just still also even please pls plz really actually ever simply quickly i we you u my start begin".split()
)
# After "how many" or "how much": words of asking, not what is counted ("how much is it", "how much will I pay").
_EN_NOT_COUNTED = frozenset("is are was were do does did will would should can could longer more time times".split())
# English: "do you sell/stock/carry <object>", "does your shop sell <object>", "do you have <object> in stock".
_EN_SELL_FRAME = re.compile(
    r"\b(?:do|does|can)\s+(?:you|u|your\s+(?:shop|store|company))\s+(?:guys\s+)?(?:also\s+)?"
    r"(?:sell|stock|carry|supply)\s+((?:[a-z'-]+\s*){1,4})"
    r"|\b(?:do|does)\s+(?:you|u)\s+(?:guys\s+)?(?:have|got)\s+(?:any\s+)?((?:[a-z'-]+\s+){1,4})(?:in\s+stock|for\s+sale)\b"
)
_EN_OBJECT_END = frozenset("for to in at on with from by of as than too well please that which".split())
# English: what is to be sent, shipped, delivered, posted or paid for, or priced ("shipping a sofa", "send a
# letter to Germany", "pay for a new car in instalments", "the price of bitcoin", "the cost of living"): the thing
# is the question's subject, and a shop's articles about delivery and payment are about its own goods. The
# object's last word before a preposition is the head ("a gift box to my sister": box); a pronoun is no object
# ("ship it", "send me a replacement": replacement).
_EN_OBJECT_FRAME = re.compile(
    r"\b(?:send(?:ing)?|sent|ship(?:ping|ped)?|deliver(?:ing|ed)?|post(?:ing)?|mail(?:ing)?|pa(?:y|ying|id)\s+for"
    r"|(?:price|prices|cost|costs|fee|fees|charge|charges)\s+(?:of|for))"
    r"\s+(?:(?:me|us|him|her|them)\s+)?"
    r"(?:(?:a|an|the|my|our|your|his|her|their|this|that|these|those|some|new|big|large|small|little|old|whole"
    r"|entire|used|second-hand|heavy|couple\s+of|pair\s+of)\s+)*"
    r"([a-z'-]+(?:\s+[a-z'-]+){0,2})"
)
# English: what the customer broke or found broken ("I cracked my phone screen", "my laptop is broken"): a
# question about the warranty of a thing the articles never name is about another maker's goods.
_EN_DAMAGED_FRAME = re.compile(
    r"\b(?:broke|cracked|smashed|dropped|damaged|scratched|chipped|shattered)\s+(?:my|our|his|her|the)\s+"
    r"((?:[a-z'-]+\s+){0,2}[a-z'-]+)"
    r"|\bmy\s+((?:[a-z'-]+\s+){0,2}?[a-z'-]+)\s+(?:is|was|got|has\s+been|came)\s+(?:\w+\s+)?"
    r"(?:broken|cracked|smashed|damaged|chipped|scratched|shattered|dead|faulty)\b"
)
# The customer's own thing named before a damaged "the …" ("dropped my kettle and cracked the spout"): its part.
_EN_PART_OF_OWN = re.compile(r"\b(?:my|our|his|her)\s+[a-z'-]+")
_EN_PRONOUNS = frozenset("it them this that these those one ones something anything everything me us".split())
# Words for whatever the shop sells, in the role it plays ("send her a present from your shop", "寄个礼物"): the
# shop's goods, never a thing of another field.
_EN_ANY_GOODS = frozenset("gift present surprise item product stuff thing goods purchase souvenir".split())
# The form a thing is sent in, not the thing: "a paper copy of the invoice", "a printout of my order" (stemmed).
_EN_FORMS = frozenset("copy copie version printout print scan pdf duplicate".split())
_EN_FORM_OF = re.compile(r"of\s+(?:(?:a|an|the|my|our|your|this|that)\s+)?([a-z'-]+(?:\s+[a-z'-]+){0,2})")
_ZH_ANY_GOODS = frozenset("礼物 礼品 东西 商品 货 宝贝 产品 物品".split())
# What a counted thing has, not a thing ("有一套颜色不对": the set's colour): never goods of their own.
_ZH_ATTRIBUTES = frozenset(
    "颜色 尺寸 大小 尺码 款式 样式 型号 味道 口味 质量 包装 价格 数量 重量 规格 花色 图案 外观 做工".split()
)
_EN_PARTICLES = frozenset("back over out off up away home abroad overseas today tomorrow now".split())
_EN_WHEN = frozenset("yesterday again last earlier recently once twice".split())

# Chinese: "怎么 / 如何 / 怎样 / 咋 / 去哪里 <verb>", an optional "给朋友" / "跟银行" / "帮我" before the verb.
_ZH_ACTION_FRAME = re.compile(r"(?:怎么样才能|怎么才能|怎么|如何|怎样|咋|[去在]?哪里|[去在]?哪儿|[去在]哪)")
_ZH_PREPOSITIONS = frozenset("给 跟 和 向 替 为 对 帮 找 让 叫 在 从 把 用 拿 去 来 才 能 可以 要 再 先 才能".split())
_ZH_PARTICLES = frozenset("的 了 着 过 地 得".split())
# Dealing with a thing at all ("发票怎么处理", "这单咋办"): the verb says nothing of what; the word before it does.
_ZH_HANDLED = frozenset("处理 办 弄 搞 解决".split())
_ZH_NOT_ACTIONS = frozenset("回事 这么 那么 这样 那样 样 会 又 没 不 一直 总是 老是 突然 还是 就是 说".split())
_ZH_TAKES_OBJECT = frozenset("给 跟 和 向 替 为 对 帮 找 让 叫 在 从 把 用 拿".split())  # "给朋友": the friend goes too
# Chinese: "你们卖X吗", "有没有卖X", "有X卖吗", "出售X".
_ZH_SELL_FRAME = re.compile(
    r"(?:卖|出售|售卖|有没有卖|有卖)(?!的)([\u4e00-\u9fff]{1,8}?)(?:吗|么|不|没|呢|？|\?|$|，|,|。)"
    r"|有([\u4e00-\u9fff]{1,8}?)卖"
)


def other_field_phrases(text: str) -> set[str]:
    """The fields outside a shop a question names in several words ("my phone bill", "today's exchange rate")."""
    return {match.group(0) for match in _OTHER_FIELD_PHRASES.finditer(text)}


# A visit to a physical place ("what time does your Hangzhou studio open", "can I drop by the store", "楼下的顺丰
# 营业点周日几点关门", "能到门店自提吗"): its hours and its door are no matter of the help articles, which name the
# shop's studio or a courier's service point only in passing (where orders are packed, where a parcel waits).
# A help article that does cover a shop's visits says "opening hours" or "营业时间" (PLACE_VISIT's group) and covers
# it; the customer service's hours ("when is your support open") are no place's.
_PLACE = (r"(?:studio|store|shop|showroom|outlet|branch|warehouse|office|service\s+point|depot|counter|kiosk"
          r"|tea\s*room|tasting\s+room|workshop|factory|premises)s?")
_ZH_PLACE = r"(?:门店|实体店|线下店|体验店|店面|店里|店铺|营业点|营业厅|网点|服务点|仓库|办公室|工作室|展厅|专柜)"
_PLACE_VISIT = re.compile(
    rf"\bwhat\s+time\s+(?:does|do|is|will)\s+(?:\w+\s+){{0,5}}?{_PLACE}\s+(?:\w+\s+){{0,3}}?(?:open|close)"
    rf"|\b{_PLACE}\b[^.?!]{{0,40}}?\b(?:opening\s+hours|open(?:ing)?\s+(?:on|at|until|till)|close[sd]?\s+(?:on|at))\b"
    rf"|\b(?:drop|come|pop|stop|swing)\s+(?:by|in|over|round)\b[^.?!]{{0,40}}?\b{_PLACE}\b"
    rf"|\b(?:visit|come\s+to|go\s+to|walk\s+into)\s+(?:\w+\s+){{0,3}}?{_PLACE}\b"
    rf"|\baddress\s+of\s+(?:\w+\s+){{0,3}}?{_PLACE}\b"
    rf"|{_ZH_PLACE}[^，。！？,.!?]{{0,8}}?(?:几点|什么时候|啥时候)(?:开门|关门|营业|下班|上班|开|关)"
    rf"|{_ZH_PLACE}[^，。！？,.!?]{{0,4}}?营业时间|(?:到|去|来)[^，。！？,.!?寄送发]{{0,3}}?{_ZH_PLACE}"
    r"|到店(?:自提|自取|取|买|购买|看看|体验|品尝|试喝)"
    # the visit said after the place, asked ("a shop in Hangzhou I could visit", "a showroom we can drop by",
    # "工作室可以参观吗", "实体店…想去逛逛"), and the place after 参观 ("想参观一下你们的工作室"); not a visit
    # told ("the studio I visited", "参观的时候买的")
    rf"|\b{_PLACE}\b[^.?!]{{0,40}}?\b(?:i|we)\s+(?:could|can|might|may)\s+(?:visit|drop\s+by|come\s+(?:by|to|in)"
    r"|pop\s+in|stop\s+by|swing\s+by|go\s+to)\b"
    rf"|{_ZH_PLACE}[^，。,.!?！？]{{0,8}}?(?:可以|能|能不能|可不可以|让)(?:去|来)?(?:参观|逛逛|看看|坐坐|拜访)"
    rf"|(?:实体店|门店)[^。.!！]{{0,12}}?(?:想|要|能|可以)(?:去|来)(?:逛|看|坐|参观)"
    rf"|(?:想|要|能|可以)(?:去)?参观[^，。！？,.!?]{{0,6}}?{_ZH_PLACE}"
    # open to visitors, a place to walk into, coming to watch ("is your studio open for visitors?", "do you have a
    # physical store?", "can I come and watch how you pack orders at the studio?", "你们有实体店吗")
    rf"|\b{_PLACE}\b[^.?!]{{0,40}}?\b(?:open|opened)\s+(?:to|for)\s+(?:the\s+)?(?:visitors|visits|public|walk[- ]?ins"
    r"|tours)\b"
    r"|\b(?:physical|bricks?[- ]and[- ]mortar|retail|offline)\s+(?:shop|store|location|outlet)s?\b|\bwalk[- ]?ins?\b"
    rf"|\b(?:tour|touring)\s+(?:\w+\s+){{0,3}}?{_PLACE}\b"
    rf"|\bcome\s+(?:and|to)\s+(?:see|watch|look|visit|have\s+a\s+look)\b[^.?!]{{0,40}}?\b(?:at|in)\s+(?:\w+\s+){{0,3}}?"
    rf"{_PLACE}\b"
    r"|有(?:没有)?[^，。！？,.!?]{0,4}?(?:实体店|线下店|体验店)"
)
# Not a place: the customer service's hours, and a shop on the web ("visit your online shop").
_NOT_A_PLACE = re.compile(r"customer\s+(?:service|support|care)|\bsupport\b|\blive\s+chat|客服|热线"
                          r"|\b(?:online|web|internet|app)\s+(?:shop|store)|网店|线上")
# Collecting an order in person from the shop ("can I come by your studio and collect it myself?", "could I pick it
# up in person instead of having it shipped?", "能自提吗", "去你们仓库自己取"): a visit too. Only with the shop as the
# place, or in place of a delivery: "I'll collect it myself" alone may be of a parcel waiting at a courier's point,
# which a delivery article covers ("held at a nearby service point for you to collect").
_SELF_PICKUP = re.compile(
    r"\b(?:collect|pick(?:\s+up)?|pickup|fetch|grab)\s+(?:(?:it|them|(?:my|the|our|an?)\s+[a-z'-]+)\s+)?(?:up\s+)?"
    r"(?:myself|ourselves|in\s+person)\b"
    # "can I come pick up my order", "come and collect it": the customer comes for it
    r"|\b(?:i|we)\s+(?:\w+\s+){0,2}?come\s+(?:and\s+|to\s+|over\s+(?:and\s+)?)?(?:collect|pick\s+up|pickup|fetch)\b"
)
_FROM_THE_SHOP = re.compile(
    r"\b(?:from|at)\s+(?:you\b|you\s+guys|u\b|(?:your|ur)\s+(?:[a-z]+\s+)?(?:studio|store|shop|warehouse|office|place"
    r"|premises))"
    # the shop's own place asked about, then where to collect ("a shop in Beijing where I could pick it up in person")
    rf"|\b(?:have|got|is\s+there)\s+(?:a|an|any)\s+(?:physical\s+)?{_PLACE}\b[^.?!]{{0,30}}?\bwhere\b"
    r"|\binstead\s+of\s+(?:having\s+(?:it|them)\s+|getting\s+(?:it|them)\s+)?(?:waiting\s+for\s+)?"
    r"(?:shipping|shipped|delivery|delivered|posting|posted|sf|the\s+courier|a\s+courier)\b"
)
_STORE_PICKUP = re.compile(
    r"\bself[- ]?(?:pick[- ]?up|collect(?:ion)?)\b|\bin[- ]store\s+pick[- ]?up\b|\bclick[- ]and[- ]collect\b"
    r"|自提|(?:到|去|来)?(?:你们|贵店|店里|工作室|仓库)(?:那|那儿|那里|这|这儿|这里)?(?:自己|亲自)?(?:去|来)?(?:取货|提货|取件|自取|拿货)"
)
_COURIER_POINT = re.compile(r"service\s+point|locker|pick-?up\s+station|驿站|快递柜|丰巢|网点|服务点|代收点|菜鸟")
# The head it makes: covered only where an article says it as a phrase, or its Chinese word (the opening hours group).
PLACE_VISIT = "opening hours"


# Whether or when a product is to be had again ("When will the Porcelain Gaiwan be back in stock?", "is the kettle
# in stock?", "白瓷盖碗什么时候补货", "还有货吗"): its stock is the subject, which a help article must name as such
# (RESTOCK's group: "restock", "补货"), not the payment article's "items go back into stock" of a cancelled order.
# Only the asking: "it was sold out so I took the teapot" tells a story; "什么时候到货" is a delivery's arrival.
_RESTOCK_ASKED = re.compile(
    r"\b(?:when|how\s+soon|how\s+long\s+(?:until|till|before)|any\s+idea\s+when)\b[^.?!]{0,60}?"
    r"\b(?:back\s+in\s+stock|restock(?:ed)?|in\s+stock(?:\s+again)?|available\s+again|on\s+sale\s+again)\b"
    r"|\b(?:is|are)\s+(?:the\s+|your\s+|this\s+|that\s+|it\s+|they\s+)?(?:[\w'-]+\s+){0,4}?(?:still\s+|currently\s+)?"
    r"(?:in\s+stock|available|sold\s+out|out\s+of\s+stock)\s*(?:\?|$|again\b|now\b|yet\b)"
    r"|\b(?:will|do|are)\s+you\s+(?:guys\s+)?(?:\w+\s+)?(?:restock|restocking|getting\s+more)\b"
    r"|(?:什么时候|啥时候|何时|多久|哪天|几号|大概|会不会|还会|能不能|能)(?:能|会|才|可以|再)?(?:补货|有货(?!到付)|补上货|重新上架|再上架)"
    r"|(?:还有|有没有|现在有)货(?:吗|么|嘛|没|\?|？|$)|补货(?:吗|么|嘛|\?|？)|(?:缺货|断货|卖完了?|售罄)(?:了)?[^，。？?]{0,6}?"
    r"(?:什么时候|啥时候|还会|会不会|多久|还有吗)"
)
RESTOCK = "restock"

# When or whether the shop will start something it does not do yet ("When exactly are you launching shipping to
# Singapore?", "any idea when you'll start shipping to Japan?", "澳门什么时候能开通配送？", "以后会支持货到付款吗"):
# the shop's plans are the subject, which a help article must name as such (FUTURE_PLANS' group: "plan", "coming
# soon", "计划", "即将"), not the delivery article that says where it delivers now. Only the asking: "visa卡是不是要开通
# 什么功能" enables a card's feature; "I'm planning to order three" is the customer's plan.
_FUTURE_PLANS_ASKED = re.compile(
    r"\b(?:when|how\s+soon|any\s+(?:idea|news|word|update)\s+(?:on\s+)?when)\b[^.?!]{0,30}?\b(?:will\s+you|you'll"
    r"|are\s+you|you\s+(?:guys\s+)?(?:will|are\s+going\s+to|gonna)|will\s+your\s+(?:shop|store|company|team))\s+"
    r"(?:guys\s+)?(?:going\s+to\s+|gonna\s+)?(?:finally\s+|ever\s+|actually\s+|exactly\s+)?"
    r"(?:launch|roll\s+out|rolling\s+out|expand|open\s+up|opening\s+up|add|offer|support|accept"
    r"|(?:start|begin)\w*\s+(?:to\s+)?(?:ship|deliver|send|sell|accept|offer|support|tak)\w*)\w*\b"
    # what the shop does with the customer's own order or a thing of it is no plan: "start shipping my order"
    r"(?!\s+(?:my|our|your|it|them|me|us|a|an|the|this|that)\b)"
    r"|\b(?:any|are\s+there(?:\s+any)?|do\s+you\s+have(?:\s+any)?|is\s+there)\s+plans?\s+(?:to|for)\b"
    r"|\b(?:are|is)\s+(?:you|your\s+(?:shop|store|company|team))\s+(?:guys\s+)?(?:planning|thinking\s+about)\s+"
    r"(?:to\s+)?(?:start|begin|launch|expand|open|add|offer|support|ship|deliver|accept)\w*\b"
    r"|(?:什么时候|啥时候|何时|哪天|哪年|大概|还要多久|多久)(?:能|会|才|可以|准备)?(?:开通|开放|上线|开始支持|支持)(?!了)"
    r"(?=[\u4e00-\u9fff]{0,8}(?:配送|发货|寄|送|快递|付款|支付|服务|业务|功能|吗|呢|？|\?|$))"
    r"|(?:以后|将来|未来|之后|今后)(?:会|能|可能|有没有可能|会不会|能不能)(?:开通|开放|支持|上线)"
    r"|(?:你们|贵店|店里)?有没有(?:计划|打算)(?:开通|开放|支持|上线|做|卖|寄|发)|(?:计划|打算)(?:什么时候)?(?:开通|开放|支持|上线)"
)
FUTURE_PLANS = "future plans"


def future_plans_asked(text: str) -> bool:
    """Whether the customer asks when or whether the shop will start something (lower case, NFKC)."""
    return bool(_FUTURE_PLANS_ASKED.search(text))


# The shop's own telephone number asked for ("what's your customer service phone number?", "is there a hotline?",
# "客服电话是多少", "你们有座机吗"): a head an article must give as a number to ring (SHOP_PHONE's group: "hotline",
# "contact number", "客服电话", "热线"), not the invoice article's company phone number that the customer provides,
# nor the courier's call before delivery. Asking to be rung or put through to someone is a request for a person
# (conversations.intents), read before this.
_SHOP_PHONE_ASKED = re.compile(
    r"\b(?:your|ur|the\s+(?:shop'?s|store'?s)|customer\s+(?:service|support|care)(?:'s)?|support|service|contact"
    r"|help\s?line|hot\s?line|whatsapp)\s+(?:(?:phone|telephone|tel|contact|hotline|helpline|whatsapp|landline|mobile)\s+)?"
    r"(?:number|no\.?|#)(?!\s+(?:of|for)\s+(?:the\s+)?(?:courier|sf|bank|driver))"
    r"|\b(?:phone|telephone|contact)\s+(?:number\s+)?(?:for|of)\s+(?:your|the)\s+(?:shop|store|customer\s+service|support"
    r"|team|office|studio)\b"
    r"|\b(?:is\s+there|do\s+you\s+(?:guys\s+)?have)\s+(?:a|an|any)\s+(?:phone|telephone|hotline|helpline|support\s+line"
    r"|number\s+(?:i|we)\s+(?:can|could)\s+(?:call|ring|phone))\b"
    r"|\b(?:what|which)\s+number\s+(?:do|can|should|could)\s+(?:i|we)\s+(?:call|ring|phone|dial)\b"
    r"|(?<!快递)(?<!顺丰)(?<!快递员)(?:客服|售后|人工)(?:的)?(?:电话|热线|手机|座机)|服务热线|咨询热线|联系电话"
    r"|(?:你们|贵店|店里|商家|你们店|你家|你们家)(?:的)?(?:客服)?(?:电话|手机号|手机号码|座机|热线)"
    r"|打(?:什么|哪个|哪一个)(?:电话|号码)|(?:有没有|有)(?:个)?(?:电话|座机|热线)(?:可以打|能打|吗|么|\?|？)"
)
SHOP_PHONE = "shop phone"


def shop_phone_asked(text: str) -> bool:
    """Whether the customer asks for the shop's own telephone number (lower case, NFKC)."""
    return bool(_SHOP_PHONE_ASKED.search(text))


# The days a named holiday closes the shop or stops its dispatch ("Which exact days are you closed over Chinese New
# Year?", "你们春节几号开始放假 几号恢复发货"): a head an article must give as a holiday's schedule (HOLIDAY_DATES'
# group: "holiday schedule", "放假安排", "暂停发货"), not the delivery article's rule that a holiday's orders go out the
# next working day, which answers "do you ship during National Day?" and "国庆放假那几天你们发货不".
_HOLIDAY_NAMED = re.compile(
    r"\b(?:chinese\s+new\s+year|cny|lunar\s+new\s+year|spring\s+festival|national\s+day|golden\s+week|mid-?autumn"
    r"|dragon\s+boat|qingming|labou?r\s+day|christmas)\b|春节|过年|国庆|五一|劳动节|中秋|元旦|端午|清明|黄金周"
)
_HOLIDAY_DATES_ASKED = re.compile(
    r"\b(?:which|what)\s+(?:exact\s+|specific\s+)?(?:days?|dates?)\b|\bexact\s+(?:days?|dates?)\b"
    r"|\blast\s+day\s+(?:i|we)\s+can\s+(?:order|pay)|\bcut-?off\s+(?:date|day)\b"
    r"|\bwhen\s+(?:exactly\s+)?(?:do|will|are)\s+you\s+(?:guys\s+)?(?:close|closed|closing|stop|stopping|resume|resuming"
    r"|reopen|reopening|start\s+again|back)\b"
    r"|几号|哪天|哪几天|几月几[号日]|具体(?:日期|哪天|哪几天)|(?:放假|停发|休息)(?:时间|安排|日期)"
    r"|什么时候(?:开始)?(?:放假|停发|停止发货|恢复发货|复工)"
)
# What the days asked are days of: the shop closing, stopping or starting again, not a parcel's arrival ("过年前下单，
# 哪天能到？" asks the delivery time, which the delivery article gives).
_HOLIDAY_CLOSING = re.compile(
    r"\b(?:clos(?:e|ed|es|ing|ure)|stop\w*|paus\w*|resum\w*|reopen\w*|open\s+again|back\s+at\s+work|off\s+work"
    r"|last\s+day\s+(?:i|we)\s+can\s+(?:order|pay)|cut-?off|(?:not|don'?t|won'?t|no)\s+(?:deliver\w*|ship\w*"
    r"|dispatch\w*|send\w*|open))\b|放假|停发|停止|暂停|恢复|休息|上班|开工|关门|营业|复工|不(?:配送|发货|发|送|寄)"
)
HOLIDAY_DATES = "holiday schedule"


def holiday_dates_asked(text: str) -> bool:
    """Whether the customer asks the days a named holiday stops the shop's dispatch (lower case, NFKC)."""
    return all(pattern.search(text) for pattern in (_HOLIDAY_NAMED, _HOLIDAY_DATES_ASKED, _HOLIDAY_CLOSING))



# An amount of money asked ("how much does the gaiwan cost?", "what would next-day cost me?", "white porcelain
# gaiwan, what price?", "运费大概要多少钱", "盖碗什么价"): with PRICE_MUST_BE_STATED, the sources must state it as an
# amount, or as nothing to pay (coverage.amount_stated; conversations.scope). Not how much of something there is
# ("how much caffeine is in it") or how much time ("how much longer will it take?"), nor whether a fee is charged at
# all ("is there a fee for…"), which a rule can settle.
_AMOUNT_ASKED = re.compile(
    r"\bhow\s+much\s+(?!(?:more\s+)?(?:time|longer|later|sooner|earlier|notice|of)\b)"
    r"(?:(?:is|are|was|were|does|do|did|will|would|should|'s|'re)\b|[^.?!,;]{0,60}?\b(?:costs?"
    r"|charged?|charges|pay|paying|spend|prices?|fees?|set\s+(?:me|us)\s+back)\b)"
    r"|\bwhat\s+(?:does|do|did|will|would|might|is|'s)\s+[^.?!,;]{0,50}?\bcost\b"
    r"|\bwhat(?:'s|\s+is|\s+are|\s+would\s+be)\s+(?:the\s+)?(?:price|cost|fee|charge)s?\b|\b(?:price|cost)\s+of\b"
    r"|\bhow\s+(?:pricey|expensive)\b|\bwhat\s+price\b|[,，]\s*price\s*\?"
    r"|多少钱|几块钱|多少块|什么价|价格是?多少|价钱是?多少|多少运费|运费(?:是|要|得|大概|大约|一般)*多少|费用(?:是|要)?多少"
    r"|收多少|贵不贵|怎么收费|多少元"
)


def amount_asked(text: str) -> bool:
    """Whether the customer asks what something costs (lower case, NFKC)."""
    return bool(_AMOUNT_ASKED.search(text))


def restock_asked(text: str) -> bool:
    """Whether the customer asks whether or when a product is to be had again (lower case, NFKC)."""
    return bool(_RESTOCK_ASKED.search(text))


# The company itself (who owns or runs it, when and how it began: "who actually runs Lumen & Leaf? is it a family
# business?", "你们老板是谁", "店是哪一年开的"): a matter an "about us" page covers, no help article's.
_COMPANY_STORY = re.compile(
    r"\bwho\s+(?:actually\s+|really\s+)?(?:runs|owns|founded|started|set\s+up|is\s+behind)\b"
    r"|\bwho\s+(?:is|are)\s+(?:the\s+|your\s+)?(?:owners?|founders?|ceo|boss)\b"
    r"|\b(?:when|how)\s+(?:was|were|did)\s+(?:the\s+|your\s+)?(?:shop|store|company|business|brand|you|it)\s+"
    r"(?:founded|started|set\s+up|established|begin|start|get\s+started|come\s+about)\b"
    r"|\bfamily[\s-](?:business|run|owned)\b"
    r"|(?:老板|创始人|店主|老板娘)是(?:谁|哪位)|(?:哪一?年|什么时候|几几年|多少年前)(?:开|成立|创立|创办|开业|开张)的"
    r"|开了(?:多少|几)年|谁开的|家族(?:企业|生意|经营)"
)
COMPANY_STORY = "company history"


# The customer's payday as the time they will pay or buy ("明天发工资了再付款", "等工资到账再下单", "can I pay once my
# salary comes in?"): a when, not a question about their salary (a field of its own, OTHER_FIELDS).
_PAYDAY = re.compile(
    r"(?:发|领|到)了?(?:工资|薪水|薪)了?(?:以后|之后|后|再|就|才)"
    r"|(?:工资|薪水)(?:到账|到手|下来|发了|发下来)了?(?:以后|之后|后|再|就|才)?"
    r"|等(?:到|着)?(?:发|领)?(?:工资|薪水)"
    r"|\b(?:after|when|once|till|until|before)\s+(?:i\s+(?:get|receive)\s+)?(?:my\s+|the\s+)?"
    r"(?:salary|wages?|pay\s?check|pay\s?day)\b"
    r"|\b(?:salary|wages?|pay\s?check)\s+(?:comes?\s+in|arrives?|lands?|clears?|hits)\b"
)
_PAYDAY_WORDS = ("工资", "薪", "salary", "wage", "paycheck", "payday")


def payday_told(text: str, word: str) -> bool:
    """Whether a word of the salary is only the time the customer will pay (`_PAYDAY`), lower case, NFKC."""
    return any(part in word for part in _PAYDAY_WORDS) and bool(_PAYDAY.search(text))


def company_story(text: str) -> bool:
    """Whether a message asks about the company itself (`_COMPANY_STORY`)."""
    return bool(_COMPANY_STORY.search(text))


def place_visit(text: str) -> bool:
    """Whether the customer asks about visiting a physical place or its hours (lower case, NFKC)."""
    picked_up = _STORE_PICKUP.search(text) or (_SELF_PICKUP.search(text) and _FROM_THE_SHOP.search(text))
    if picked_up and not _COURIER_POINT.search(text):
        return True
    return bool(_PLACE_VISIT.search(text)) and not _NOT_A_PLACE.search(text)


def own_sending(text: str) -> bool:
    """Whether the customer asks about sending something of their own with a courier (lower case, NFKC)."""
    return bool(_OWN_SENDING.search(text)) and not _SENDING_BACK.search(text)


# The customer buying from this shop, said in the same message as another seller ("上次在别家买等了十天，这次想在你们家
# 买", "last time I ordered from another shop…, this time I'm buying from you"): the other seller is a comparison
# in the story, the question is about the shop.
_THIS_SHOP = r"(?:you\b|you\s+guys|your\s+(?:shop|store|site|website))"  # the shop, as the customer addresses it
_BUYING_HERE = re.compile(
    r"\b(?:buy|buying|bought|order|ordering|ordered|purchase|purchasing|get|getting|shop|shopping|picked|chose)\s+"
    rf"(?:[a-z'-]+\s+){{0,3}}?(?:from|with|at)\s+{_THIS_SHOP}"
    r"|(?:在|从|跟|找)(?:你们|您们|贵店)(?:家|店|店里|这儿|这里|这边|这)?(?:[^，。,.!?！？]{0,2})(?:买|下单|订|购买|入手|囤|挑|选|拍)"
    # goods in the customer's cart, which is this shop's when told to it ("购物车里两罐龙井"): the shop's own goods
    r"|购物车(?:里|中|内)"
    # an order paid for, or come, told to the shop: "今天周六刚付完款", "到货以后一直没拆盒"
    r"|(?:刚|已经|已)?(?:付完款|付了款|付过款|下了单|下完单)|到货(?:以后|之后|后)"
    # goods sent back to the shop: "我退回去的那把茶壶"
    r"|(?:退回去|寄回去|退回给你们|寄回给你们|寄还给你们)的"
)


# Goods the customer says came to them ("上周收到一包碧螺春", "寄来的那罐", "I received two tins of jasmine"): a
# delivery from the shop, so the shop's own goods, as those bought here are.
_RECEIVED = re.compile(
    r"(?:收到|寄来|送来|发来|到手|拿到|签收)(?:了)?(?:的)?\s*(?:[一两二三四五六七八九十几\d]+|这|那)\s*"
    r"(?:台|部|件|只|张|套|双|条|把|瓶|盒|罐|包|袋|支|本|副|款|个)"
    r"|\b(?:received|got|delivered)\s+(?:[a-z'-]+\s+){0,2}?(?:tins?|boxes|box|packs?|packets?|bags?|sets?|jars?)\s+of\b"
)


def received_from_shop(text: str) -> bool:
    """Whether the message tells of goods that came to the customer (`_RECEIVED`): the shop's delivery."""
    return bool(_RECEIVED.search(text))


def buying_here(text: str) -> bool:
    """Whether the message says the customer buys (or bought) from this shop (lower case, NFKC)."""
    return bool(_BUYING_HERE.search(text))


# Other shops as what the customer is used to, asked of this one ("On other sites I always pay cash when the
# courier arrives. Can I do that with you too?", "别家都是七天无理由，你们这能退吗", "Visa 卡在别的网站都能用，
# 在你们这付款老是失败"): the question is this shop's rule, compared with theirs. Not goods bought there
# ("别家买的茶叶你们这能退吗", "I bought it from another shop, can you fix it too?"): those are the other shop's.
_ASKED_OF_THIS_SHOP = re.compile(
    rf"\b(?:with|from|at|for)\s+{_THIS_SHOP}\s+(?:too|as\s+well|also)\b"
    r"|\b(?:do|does|can|will|would)\s+you(?:\s+guys)?\s+(?:also|too)\b|\bhere\s+too\b"
    r"|(?:你们|您们|贵店)(?:这|这里|这边|这儿|家|店里?)?也"
    r"|(?:你们|您们|贵店)(?:这|这里|这边|这儿|家|店里?)[^，。,.!?！？]{0,4}?(?:能|可以|会|行|支持|怎么|为什么|老是|总是|一直)"
)
_BOUGHT_ELSEWHERE = re.compile(
    rf"{_ZH_OTHER}[^，。,.!?！？]{{0,8}}?(?:买|购|订|下单|拍)"
    r"|\b(?:bought|ordered|purchased|got)\s+(?:[\w'-]+\s+){0,4}?(?:from|on|at)\s+(?:another|other|a\s+different)\b"
)


def compares_with_others(text: str) -> bool:
    """Whether other shops are what the customer compares this one with (`_ASKED_OF_THIS_SHOP`), not where the
    goods came from (lower case, NFKC)."""
    return bool(_ASKED_OF_THIS_SHOP.search(text)) and not _BOUGHT_ELSEWHERE.search(text)


# A courier company the customer asks the shop to send with ("能不能给我发京东快递", "do you guys ever ship with
# couriers other than SF, like JD or ZTO?", "could you send mine by EMS instead?"): the shop's choice of courier,
# which the shipping article answers by naming its own, not another seller's service. The customer's own parcel
# sent with a courier is OWN_SENDING.
_COURIER_NAME = re.compile(rf"{_EN_COURIER_COMPANY}|{_ZH_COURIER_COMPANY}")
_SHOP_COURIER_ASKED = re.compile(
    rf"\byou(?:\s+guys)?\s+(?:\w+\s+){{0,2}}?(?:ship|send|deliver|post|use)\b[^.?!]{{0,60}}?\b(?:{_EN_COURIER_COMPANY})\b"
    r"|(?:(?:给我|帮我|你们)[^，。？?！!]{0,4}?(?:发|寄|走|用|换成|改成|改用)|(?:能不能|能否|可以|可不可以|能)(?:给我)?"
    rf"(?:发|换成|改成|改用))\s*(?:{_ZH_COURIER_COMPANY})"
)


def couriers_asked_of_shop(text: str, sellers: set[str]) -> set[str]:
    """The named `sellers` that are couriers the customer asks the shop to send with (`_SHOP_COURIER_ASKED`;
    lower case, NFKC)."""
    if not _SHOP_COURIER_ASKED.search(text) or _SENDING_BACK.search(text):  # a return is the customer's to send
        return set()
    return {seller for seller in sellers if _COURIER_NAME.fullmatch(seller)}


def other_sellers(text: str) -> tuple[set[str], bool]:
    """(the sellers other than the shop a question names, as written: "bought it on Amazon", "京东买的"; whether
    it speaks of another seller without a name: "from another shop", "别家店买的")."""
    return {match.group(0) for match in _NAMED_SELLER.finditer(text)}, bool(_ANOTHER_SELLER.search(text))


# How long a thing keeps ("how long does unopened tea keep?", "what's the shelf life", "is there a best-before date?",
# "保质期一般多长", "能放多久", "什么时候过期"):
# its keeping is what is asked, a matter of its own that an article must name (a storage or product article), not
# whatever else the words around it are about (the returns article's "unopened tea"). Only the asking itself: "the
# shelf life had passed when it came" tells a story.
_EN_KEEPING = re.compile(
    r"\bhow\s+long\s+(?:does|do|will|would|can|could|should|is|are)\s+(?:[\w'-]+\s+){0,6}?"
    r"(keep|keeps|last|lasts|stay|stays|store|stored)\b"
    r"|\b(?:what(?:'s|\s+is|\s+are)|how\s+long\s+is)\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}?(shelf[\s-]?life)s?\b"
    # "is there a best-before date?", "what's the expiry date", "when does it expire?"
    r"|\b(?:is\s+there|are\s+there|what(?:'s|\s+is|\s+are)|when(?:'s|\s+is)|does\s+(?:it|the\s+[\w-]+)\s+have)\s+"
    r"(?:an?\s+|the\s+|its\s+)?(?:[\w'-]+\s+){0,2}?(best[\s-]before|use[\s-]by|expiry|expiration)\b"
    r"|\b(?:when|how\s+soon|how\s+long\s+until|how\s+long\s+before)\s+(?:does|do|will|would)\s+(?:[\w'-]+\s+){0,6}?"
    r"(expire|go\s+off|go\s+stale)\b"
    # how a thing is best kept ("what's the best way to store oolong once it's opened?", "how should I store it?")
    r"|\b(?:(?:what(?:'s|\s+is)\s+(?:the\s+)?(?:best|right|proper|ideal)\s+way|how(?:'s|\s+is)\s+(?:the\s+)?best\s+way"
    r"|the\s+best\s+way)\s+to\s+|how\s+(?:should|do|can|could|would|to)\s+(?:i\s+|we\s+|you\s+)?(?:best\s+)?)"
    r"(store|keep)\s+(?:it|them|(?:the|my|your|this|that|an?|opened|unopened)\s+)?(?:[\w'-]+\s+){0,2}?"
    r"(?:once|after|when|so|in|at|for|fresh|\?|$)"
)
_ZH_KEEPING = re.compile(
    r"(保质期|保存期|保鲜期|有效期)[^，。？?！!,.]{0,6}?(?:多久|多长|几年|几个月|多少|到什么时候|到哪天|是多少|是什么时候)"
    r"|(?:能|可以|可)?(放|存|保存|存放|储存)(?:多久|多长时间|几年|几个月)"
    # "多久会过期", "什么时候过期", "会不会过期", "有保质期吗"
    r"|(?:多久|多长时间|什么时候|几时|会不会|会)(?:就|才|会)?(过期|变质)"
    r"|有(?:没有)?(保质期|保鲜期|有效期)(?:吗|嘛|么|没有|[?？])"
)


# Where a thing is made, or of what ("is your gaiwan made in Jingdezhen?", "what is the teapot made of?", "盖碗是景德镇
# 产的吗", "什么材质", "产地是哪里"): its origin or material is what is asked, a product fact an article must name; the
# asking itself only ("the gaiwan I bought was made in 2019 and cracked" tells a story).
_EN_MAKING = re.compile(
    r"\b(?:is|are|was|were)\s+(?:[\w'-]+\s+){1,6}?(made|produced|manufactured|fired)\s+(?:in|of|from|by|at)\b"
    r"|\bwhere\s+(?:is|are|was|were|do|does)\s+(?:[\w'-]+\s+){1,4}?(made|produced|manufactured|fired|sourced)\b"
    r"|\bwhat\s+(?:is|are|was|were)\s+(?:[\w'-]+\s+){1,4}?(made)\s+(?:of|from)\b"
    r"|\bwhat(?:'s|\s+is|\s+are)\s+(?:the\s+)?(?:[\w'-]+\s+){0,2}?(material|materials|origin)\b"
)
_ZH_MAKING = re.compile(
    r"(?:是|在)[\u4e00-\u9fff]{1,6}?(产|生产|制造|烧制|烧)的(?:吗|么|嘛|呢|\?|？)"
    r"|(?:哪里|哪儿|什么地方|哪个地方|哪)(产|生产|制造|烧制|烧)的"
    r"|(产地|原产地|材质|材料)[^，。！!,.]{0,4}?(?:是|在)?(?:哪|什么|吗|么|\?|？)"
    r"|什么(材质|材料)"
)
# How big or heavy a thing is, or how much it holds ("what's the capacity of the gaiwan?", "how many ml does it
# hold", "容量多大", "是多少毫升的"): a product fact too.
_EN_SIZE = re.compile(
    r"\bwhat(?:'s|\s+is|\s+are)\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}?(capacity|volume|dimensions?|weight)\b"
    r"|\bhow\s+many\s+(ml|millilitres?|milliliters?|ounces|oz|grams)\b"
    # the thing named in up to three words ("how much does the Porcelain Gaiwan weigh?")
    r"|\bhow\s+much\s+(?:does|do|can|will|would)\s+(?:it|they|one|(?:the|this|that|these|those|your|each|a|an|my)"
    r"(?:\s+[\w-]+){1,3}?)\s+(hold|holds|weigh|weighs)\b"
    # "how heavy is the gaiwan?", "how tall are the cups", "how big is the teapot" (not "how big is the discount":
    # a thing of the shop's, named after it)
    r"|\bhow\s+(heavy|tall|wide|big|large|deep)\s+(?:is|are|was|were)\s+(?:it|they|(?:the|this|that|these|those|your"
    r"|each|a|an|my)(?:\s+[\w-]+){0,2}?\s+(?:gaiwans?|cups?|teapots?|pots?|mugs?|jars?|tins?|caddies|caddy|pitchers?"
    r"|bowls?|saucers?|kettles?|trays?|sets?|boxes|box|bags?|pouches|pouch|pieces?|teaware|porcelain|lids?))\b"
)
_ZH_SIZE = re.compile(
    r"(容量|尺寸|重量|体积|口径)[^，。！!,.]{0,3}?(?:是|有|大概|一般)?(?:多少|多大|多重|几)"
    r"|多少(毫升|克|厘米)"
    # "这个盖碗大概有多重？", "杯子有多高": the measure asked at the question's end (not "多重保障", "多长时间")
    r"|(?:有|大概|大约|约|是)(多(重|高|宽|厚|大|长))(?:啊|呀|呢|吗|么|？|\?|$)"  # one word ("多重") or two ("多", "高")
)

# Whether a product meets a standard or holds something ("is your tea certified organic?", "is the gaiwan lead-free?",
# "does the green tea have caffeine?", "有没有农残检测报告", "茶具能进洗碗机吗"): a product fact an article must name,
# asked, not told ("my organic tea arrived damaged").
_QUALITY_WORD = (
    r"organic|certified|certification|pesticides?|residues?|lead-free|lead(?![\s-]+times?\b)|cadmium|caffeine|caffeinated|decaf"
    r"|decaffeinated|additives?|preservatives?|gluten|vegan|kosher|halal|allergens?|dishwasher|food-grade|bpa"
)
_EN_QUALITY = re.compile(rf"\b({_QUALITY_WORD})\b|\b(?:test|lab|inspection|quality|safety)\s+(reports?|certificates?"
                         r"|results?)\b")
# where the asking starts: the quality words after it are what is asked ("is your tea certified organic?"), those
# before it the story's ("my organic tea arrived damaged, can I return it?")
_EN_QUALITY_ASKED = re.compile(r"\b(?:is|are|was|were|does|do|has|have|any|see|show|send|get)\b")
_ZH_QUALITY_WORD = (r"(有机|农残|农药残留|农药|检测报告|质检报告|检验报告|认证|含铅|无铅|铅|咖啡因|添加剂|防腐剂"
                    r"|香精|食品级|洗碗机)")
_ZH_QUALITY = re.compile(
    rf"(?:是不是|是否|有没有|有无|含不含|含|带不带|能不能|可不可以|能|可以)[^，。！？,.!?]{{0,6}}?{_ZH_QUALITY_WORD}"
    rf"|{_ZH_QUALITY_WORD}[^，。！？,.!?]{{0,4}}?(?:吗|么|嘛|呢|？|\?)"
)


def quality_heads(text: str, *, content: set[str]) -> set[str]:
    """The words of a question asking whether a product meets a standard or holds something, among its content
    words: a shop whose articles never name it has not said."""
    found: set[str] = set()
    for sentence in re.split(r"(?<=[.?!。？！])\s*", text):
        asked = _EN_QUALITY_ASKED.search(sentence)
        if asked:
            for match in _EN_QUALITY.finditer(sentence, asked.start()):
                word = match.group(1) or match.group(2)
                found |= {word, *(part for part in word.split("-") if re.fullmatch(_QUALITY_WORD, part))}
    for match in _ZH_QUALITY.finditer(text):  # "质检报告", or its words as the segmenter cut them
        found |= {part for word in match.groups() if word for part in (word, *segmenter().cut(word)) if len(part) > 1}
    return {word for word in found | {_stem(word) for word in found} if word in content}


def product_fact_heads(text: str, *, content: set[str]) -> set[str]:
    """The words of a question asking a product fact: how long a thing keeps (`_EN_KEEPING`, `_ZH_KEEPING`), where
    or of what it is made (`_EN_MAKING`, `_ZH_MAKING`), how big or heavy it is or how much it holds (`_EN_SIZE`,
    `_ZH_SIZE`), among its content words."""
    found = {word for pattern in (_EN_KEEPING, _ZH_KEEPING, _EN_MAKING, _ZH_MAKING, _EN_SIZE, _ZH_SIZE)
             for match in pattern.finditer(text)
             for word in match.groups() if word}
    found = {" ".join(word.replace("-", " ").split()) for word in found}  # "best-before": the phrase "best before"
    return {word for word in found | {_stem(word) for word in found} if word in content}


# A document asked for in a language ("can you issue the invoice in English?", "an English version of the manual",
# "能开英文发票吗"): the language is the subject, which a source must name (an invoice article that never says which
# language its invoices are in does not answer it).
_EN_DOCUMENT_IN = re.compile(
    rf"\b(?:invoices?|fapiaos?|receipts?|manuals?|instructions?|labels?|certificates?|documents?|paperwork|packing\s+slips?"
    rf"|cop(?:y|ies)|versions?)\s+(?:(?:be\s+|get\s+|is\s+|are\s+)?(?:issued|written|printed|made|done)\s+)?in\s+"
    rf"({_LANGUAGE_NAME})\b"
    rf"|\b({_LANGUAGE_NAME})[\s-](?:versions?|cop(?:y|ies)|invoices?|fapiaos?|receipts?|manuals?|instructions|labels?)\b"
)
_ZH_DOCUMENT_IN = re.compile(rf"({_ZH_LANGUAGE_NAME})(?:版|版本|版的|的)?(?:电子|纸质|普通|专用)?"
                             r"(?:发票|收据|说明书|标签|证书|单据|合同|(?i:invoice|receipt|fapiao))")  # "英文的invoice"


# Whether an amount is reckoned before or after something ("is the ¥199 counted after the discount?", "before or after
# tax?", "满199是按优惠前还是优惠后算"): what it is reckoned against is the subject, which a source must name (the
# free-shipping threshold's article does not say whether a coupon counts, however much it says of the threshold).
_EN_COUNTED_FROM = re.compile(
    r"\b(?:counted|calculated|computed|worked\s+out|based|measured|reckoned|applied|taken|charged)\s+(?:on\s+(?:the\s+)?"
    r"(?:amount|price|total)\s+)?(?:before|after)\s+(?:or\s+(?:before|after)\s+)?(?:the\s+|my\s+|a\s+|any\s+|applying\s+"
    r"(?:the\s+|my\s+|a\s+)?)?([a-z'-]+)"
    r"|\b(?:before|after)\s+or\s+(?:before|after)\s+(?:the\s+|my\s+|a\s+|any\s+|applying\s+(?:the\s+|my\s+|a\s+)?)?"
    r"([a-z'-]+)"
)
_ZH_COUNTED_FROM = re.compile(r"([\u4e00-\u9fff]{1,3}?)(?:前|之前)还是(?:[\u4e00-\u9fff]{1,3}?)?(?:后|之后)"
                              r"|([\u4e00-\u9fff]{1,3}?)(?:后|之后)还是(?:[\u4e00-\u9fff]{1,3}?)?(?:前|之前)")


def english_heads(text: str, *, content: set[str]) -> set[str]:
    """The English head words of a question: the verb asked to be done ("how do I transfer…" -> transfer) and
    the things asked to be sold ("do you sell laptops or phones" -> laptops, phones), among its content words."""
    heads: set[str] = set()
    for match in _EN_ACTION_FRAME.finditer(text):
        for word in match.group(1).split():
            if word in _EN_FILLERS:
                continue
            if word in _EN_NOT_COUNTED and match.group(0).startswith("how m"):
                break
            if _stem(word) in content and word not in GENERIC_ACTIONS:
                heads.add(_stem(word))
            break
    for match in _EN_SELL_FRAME.finditer(text):
        for word in (match.group(1) or match.group(2)).split():
            if word in _EN_OBJECT_END:
                break
            if _stem(word) in content:
                heads.add(_stem(word))
    # "the invoice in English": english; "counted after the discount": discount (each pattern's one word, in either
    # of its two forms)
    asked = [match.group(1) or match.group(2) for match in _EN_DOCUMENT_IN.finditer(text)]
    # "能开英文的invoice吗": the Chinese language name before an English document, across the two scripts
    asked += [match.group(1) for match in _ZH_DOCUMENT_IN.finditer(text) if match.group(0)[-1].isascii()]
    asked += [_stem(match.group(1) or match.group(2)) for match in _EN_COUNTED_FROM.finditer(text)]
    heads.update(word for word in asked if word in content)
    return heads


def _object_words(phrase: str, *, ends: frozenset[str] = frozenset()) -> list[str]:
    """The words of a phrase up to where the object it names ends: a preposition, a stop word, a particle ("the
    broken cups back to you": broken, cups), or one of `ends`."""
    words = []
    for word in phrase.split():
        if word in _EN_OBJECT_END or word in STOPWORDS or word in _EN_PARTICLES or word in ends:
            break
        words.append(word)
    return words


def english_objects(text: str, *, content: set[str]) -> set[str]:
    """What an English question asks to have sent, shipped or paid for ("shipping a sofa" -> sofa), among its
    content words: a head when the knowledge base never names it (a shop writes about its own goods somewhere;
    "mail the broken cups back" names cups its articles mention, "pay for a new car" a car none does)."""
    objects: set[str] = set()
    for match in _EN_OBJECT_FRAME.finditer(text):
        words = _object_words(match.group(1))
        if words and _stem(words[-1]) in _EN_FORMS:  # "a paper copy of the invoice": the invoice
            after = " ".join(text[match.start(1):].split()[len(words):len(words) + 5])
            if form := _EN_FORM_OF.match(after):
                words = _object_words(form.group(1))
            else:  # "do you post a paper copy?": a form of what was said before, no thing of its own
                words = []
        sent_back = re.match(r"(?:[a-z'-]+\s+){0,4}back\b", text[match.end(1) - len(match.group(1)):])
        if (words and words[0] not in _EN_PRONOUNS and _stem(words[-1]) in content and not sent_back
                and _stem(words[-1]) not in _EN_ANY_GOODS):
            objects.add(_stem(words[-1]))  # "mail the shards back": returning, whatever is sent
    return objects


def english_damaged(text: str, *, content: set[str]) -> set[str]:
    """What an English question says the customer broke or found broken ("I cracked my phone screen" -> screen),
    among its content words: what the whole message is about ("…is that covered?"), and a head when the
    knowledge base never names it, as the objects of sending are (`english_objects`)."""
    objects: set[str] = set()
    for match in _EN_DAMAGED_FRAME.finditer(text):
        if match.group(1) and _EN_PART_OF_OWN.search(text, 0, match.start()) \
                and text[match.start():match.start(1)].rstrip().endswith(" the"):
            continue  # "I knocked my gaiwan off the counter and chipped the rim": a part of the thing named before
        words = _object_words(match.group(1) or match.group(2), ends=_EN_WHEN)
        if words and words[0] not in _EN_PRONOUNS and _stem(words[-1]) in content:
            objects.add(_stem(words[-1]))
    return objects


# Chinese: a thing counted with a measure word ("买了一台冰箱", "寄一盒白茶", "两部手机"): goods the question is about.
_ZH_COUNTED = re.compile(
    r"(?:[一两二三四五六七八九十几\d]+|这|那|每)\s*(?:台|部|件|只|张|辆|套|双|条|把|瓶|盒|罐|包|袋|支|本|副|架|款)"
    r"([\u4e00-\u9fff]{1,6})"
)


# Chinese: what the customer's thing is that broke ("我的手机屏幕碎了", "我家电视坏了"): another maker's goods
# when no article names them, as counted goods are.
_ZH_DAMAGED = re.compile(
    r"(?:我的|我家的?|我们的)([\u4e00-\u9fff]{1,6}?)(?:摔|屏幕|屏)?(?:碎了|坏了|裂了|裂开了|不亮了|进水了|摔坏了)"
)


def chinese_objects(run: str, *, content: set[str]) -> set[str]:
    """The goods a Chinese question counts ("一台冰箱" -> 冰箱) or says of its own are broken ("我的手机屏幕碎了":
    手机), among its content words: a head when the knowledge base never names them, as English objects are
    (`english_objects`)."""
    objects: set[str] = set()
    for match in [*_ZH_COUNTED.finditer(run), *_ZH_DAMAGED.finditer(run)]:
        words = [word for word in segmenter().cut(match.group(1)) if word.strip()]
        if (words and words[0] in content and len(words[0]) > 1 and words[0] not in _ZH_ANY_GOODS
                and words[0] not in _ZH_ATTRIBUTES and not _not_a_thing(words[0])):
            objects.add(words[0])
    return objects


# Parts of speech (jieba's tags) that name no thing: verbs, adjectives, adverbs, pronouns, numbers and the like.
_NOT_THING_TAGS = ("v", "a", "d", "z", "c", "p", "u", "r", "m", "q", "y", "e", "o")


def _not_a_thing(word: str) -> bool:
    """Whether a word after a measure word is no thing counted ("再凑一包划算": worth it, not goods called 划算):
    what jieba tags it, a verb or an adjective, says so."""
    tagged = segmenter().tag(word)
    return bool(tagged) and tagged[0][1].startswith(_NOT_THING_TAGS)


def chinese_heads(run: str, *, content: set[str]) -> set[str]:
    """The Chinese head words of a run of Chinese text: the verb after "怎么" or "如何" (and its object when the
    verb is one character: "发红包" -> 红包), and what "你们卖…吗" or "有…卖" asks for."""
    heads: set[str] = set()
    for match in _ZH_ACTION_FRAME.finditer(run):
        words = [word for word in segmenter().cut(run[match.end():]) if word.strip() and word not in _ZH_PARTICLES]
        while words and words[0] in _ZH_PREPOSITIONS:
            words = words[2:] if words[0] in _ZH_TAKES_OBJECT and len(words) > 1 else words[1:]
        if words and words[0] in _ZH_HANDLED and match.group(0) in ("怎么", "如何", "怎样", "咋"):
            # "之前开的发票怎么处理": what is to be dealt with is the noun before, its subject (not "发现咋办",
            # "具体咋弄")
            before = [(word, tag) for word, tag in segmenter().tag(run[:match.start()]) if word.strip()
                      and word not in _ZH_PARTICLES]
            if before and before[-1][1].startswith("n") and before[-1][0] in content and len(before[-1][0]) > 1:
                heads.add(before[-1][0])
            continue
        if not words or words[0] in GENERIC_ACTIONS or words[0] in STOPWORDS or words[0] in _ZH_NOT_ACTIONS:
            continue  # "怎么还没到", "怎么回事", "怎么这么慢": how come, not how to
        verb = words[0]
        if len(verb) > 1:
            if verb in content:
                heads.add(verb)
        elif len(words) > 1 and words[1] in content:  # "发 / 红包": a one-character verb says little, its object
            heads.add(words[1])
    for match in _ZH_SELL_FRAME.finditer(run):
        wanted = match.group(1) or match.group(2) or ""
        heads.update(word for word in segmenter().cut(wanted) if word in content)
    heads.update(match.group(1) for match in _ZH_DOCUMENT_IN.finditer(run) if match.group(1) in content)  # 英文发票
    for match in _ZH_COUNTED_FROM.finditer(run):  # "按优惠前还是优惠后算": 优惠
        words = [word for word in segmenter().cut(match.group(1) or match.group(2)) if word.strip()]
        if words and words[-1] in content and len(words[-1]) > 1:
            heads.add(words[-1])
    return heads


# A service or arrangement the shop is asked whether it offers ("do you do gift wrapping", "does your shop offer
# price matching", "可以加个礼盒吗", "能提供批发价吗"), and where a thing of the shop's may go ("is the gaiwan okay
# in the dishwasher", "dishwasher-safe", "能放洗碗机吗"): what is offered, or where, is the question's subject. A
# head when the knowledge base never names it, as an object to send is (`english_objects`): a shop's articles name
# what it does offer somewhere ("do you offer free shipping" is covered), and are silent on what it does not.
_EN_SERVICE_FRAME = re.compile(
    r"\b(?:do|does|can|could|would|will)\s+(?:you|u|your\s+(?:shop|store|company|team))\s+(?:guys\s+)?(?:also\s+)?"
    r"(?:do|offer|provide|arrange|include|have|run|host|hold|organi[sz]e|teach|give)\s+(?:any\s+|a\s+|an\s+|some\s+)?"
    r"((?:[a-z'-]+\s*){1,3})"
    # the service as the verb ("do you gift-wrap orders?", "could you wrap it as a present?")
    r"|\b(?:do|does|can|could|would|will)\s+(?:you|u|your\s+(?:shop|store|company|team))\s+(?:guys\s+)?(?:also\s+)?"
    r"(?:please\s+)?(?:gift[\s-]?)?(wrap)\b"
)
# Whether there is a thing, asked at the start of a question ("is there a monthly subscription box I can sign up
# for?", "are there any tea classes?"): the thing is the subject, as a service asked for is. Not an aspect any matter
# has ("is there a deadline for the fapiao?", "is there a limit…": an article says it as "within 90 days"), nor a
# quality or a price ("is there a cheaper option", "any hidden fees", "any extra cost"), which leave the subject to the
# words around them.
_EN_THERE_FRAME = re.compile(
    r"(?:^|[.?!,;]\s+|\n)\s*(?:(?:so|and|also|but|hey|hi|ok|okay|oh|um|btw|just\s+wondering)\s+)?(?:is|are)\s+there\s+"
    r"(?:also\s+|still\s+)?(?:any\s+|a\s+|an\s+|some\s+)?((?:[a-z'-]+\s*){1,4})"
)
_EN_ASPECTS = frozenset(
    "deadline deadlines limit limits cutoff cut-off minimum maximum requirement requirements rule rules difference "
    "catch reason extra additional other different separate special hidden cheaper cheapest quicker quickest "
    "faster fastest better best easier easiest fee fees cost costs charge charges price prices".split()
)
# A question of whether something is fit for a place or use: it starts as a yes-no question does (a story's "I put
# the wrong address in the form" asks nothing of the form).
_EN_SUITABILITY_QUESTION = re.compile(r"(?:^|[.?!]\s+|\n)\s*(?:can|could|is|are|does|do|will|would|should|may|am)\b"
                                      r"[^.?!\n]*")
_EN_PLACE_OF_USE = re.compile(
    r"\b(?:go|goes|put|place|used?|wash(?:ed)?|heat(?:ed)?|stay|sit|be\s+put|be\s+used)\s+"
    r"(?:(?:it|them|this|that|these|those|one|(?:the|a|an|my|our|your)\s+[a-z'-]+)\s+)?(?:in|into|inside|on)\s+"
    r"(?:the|a|an|my|our)\s+([a-z'-]+)"
    r"|\b([a-z'-]+)[- ]safe\b"
)
# What a customer asks whether they get with their orders ("do I get loyalty points?", "can we earn rewards"), and
# what a thing is asked to be like ("what's the weather going to be like", "口感怎么样"): the subject, a head when
# the knowledge base never names it ("can I get a refund" is covered).
_EN_PERK_FRAME = re.compile(
    r"\b(?:do|does|can|could|would|will)\s+(?:i|we)\s+(?:also\s+)?(?:get|earn|collect|receive|accumulate|redeem)\s+"
    r"(?:any\s+|a\s+|an\s+|some\s+|free\s+)?((?:[a-z'-]+\s*){1,3})"
    r"|\bwhat(?:'s|\s+is|\s+are|\s+will)\s+(?:the\s+|your\s+|its\s+|their\s+)?([a-z'-]+)\s+(?:going\s+to\s+be\s+|gonna\s+be\s+"
    r"|be\s+)?like\b"
)
# "get a tin sent", "get them delivered": the thing got is to be sent, not a perk the customer gets.
_EN_HAD_SENT = re.compile(
    r"(?:[a-z'-]+\s+){0,3}?(?:sent|shipped|delivered|posted|mailed|dispatched|couriered|brought|taken|forwarded)\b"
)
_ZH_LIKE_FRAME = re.compile(
    r"([\u4e00-\u9fff]{2,4}?)(?:会|将|到底|大概|一般)?(?:怎么样|如何)(?:啊|呀|呢|吗|？|\?|$|，|,|。)"
)
# What any matter has ("退货流程怎么样", "物流速度如何"): how the matter before it goes, not a subject of its own.
_ZH_GENERIC_NOUNS = frozenset("流程 步骤 过程 规定 政策 规则 情况 办法 方式 效果 服务 体验 速度 时效 进度 结果".split())
# Nouns that name no service: "do you have a way to…", "do you offer any option for…".
_EN_GENERIC_NOUNS = frozenset(
    "way ways option options choice choices chance idea time times plan service services problem problems issue "
    "issues question questions info information answer answers update updates news".split()
)
_ZH_SERVICE_FRAME = re.compile(
    r"(?:可以|能|能不能|可不可以|能否|可否|是否可以|是否能)(?:帮我|帮忙|给我|帮)?(?:加|提供|安排|开通|配|附|写|做|生成"
    r"|发(?!票|错|货|到|给|出|回|顺丰|快递))"
    # the service, up to the question's end or the next of several asked together ("做礼品包装、不放价格单吗")
    r"(?:个|一个|上|一张|张|一下|份|一份)?([\u4e00-\u9fff]{1,6}?)(?:服务)?(?:吗|么|不|没|呢|？|\?|$|，|,|。|、)"
    r"|提供([\u4e00-\u9fff]{1,6}?)(?:服务)?(?:吗|么|不|没|呢|？|\?|$|，|,|。|、)"
)
# "有没有会员卡", "你们有茶艺课吗", "店里有试喝装吗": whether there is a thing, its subject (not "有没有办法/可能/人").
_ZH_THERE_FRAME = re.compile(
    r"有没有(?:什么|啥|任何)?(?!办法|可能|机会|人|问题|时间)([\u4e00-\u9fff]{1,6}?)(?:服务|活动)?"
    r"(?:吗|么|啊|呀|呢|？|\?|$|，|,|。|可以|能|让|给)"
    r"|(?:你们|您们|贵店|店里|你家|你们家|你们店)(?:这边|这里|那边)?(?:也|还)?有(?!没有|人|问题|时间)([\u4e00-\u9fff]{1,6}?)"
    r"(?:服务|活动)?(?:吗|么|不|没有|没|？|\?)"
)
_ZH_PLACE_OF_USE = re.compile(
    r"(?:放进|放入|放到|放在|扔进|扔到|丢进|塞进)([\u4e00-\u9fff]{2,5}?)(?:里|里面|中|内)?(?:洗|加热|烤|煮|清洗|消毒|用)?"
    r"(?:吗|么|不|没|呢|？|\?|$|，|,|。)"
    r"|(?:放|进|扔|丢|塞)([\u4e00-\u9fff]{2,5}?)(?:里|里面|中|内|洗|加热|烤|煮|清洗|消毒)(?:吗|么|不|没|呢|？|\?|$|，|,|。)"
)


# A thing brought up after an answer ("What about the dishwasher, is that ok?" after the microwave; "那洗碗机呢？"): the
# thing is what is now asked, the last word of its phrase ("a slightly chipped cup": cup), a head when no article
# names it. A place brought up ("what about Shenzhen?", "那寄香港呢") is covered by its regions; a clause ("what about
# if it's my fault", "那如果是拆开了呢") and a word any matter has ("the quicker option") bring up no thing.
_EN_WHAT_ABOUT = re.compile(
    r"\b(?:what|how)\s+about\s+(?:the\s+|a\s+|an\s+|my\s+|your\s+|our\s+|using\s+(?:the\s+|a\s+|an\s+)?"
    r"|putting\s+(?:it|them)\s+(?:in|into|on)\s+(?:the\s+|a\s+|an\s+)?)?((?:[a-z'-]+\s*){1,3})"
)
_ZH_WHAT_ABOUT = re.compile(r"(?:^|(?<=[，。！？,.!?\s]))那(?:么)?([\u4e00-\u9fff]{2,6}?)呢")


# The shop asked to choose among its goods by a quality ("which of your teas has the least caffeine?", "which one is
# best for a beginner", "哪款茶最适合送长辈", "哪种最耐泡"): the quality is what is asked, an opinion or a product fact
# that an article must name.
_EN_CHOICE_FRAME = re.compile(
    r"\bwhich\s+(?:one\s+|ones\s+)?(?:of\s+(?:your|the|these|those)\s+)?(?:[a-z'-]+\s+){0,2}?"
    r"(?:is|are|has|have|would\s+be|'s|will\s+be|tastes?|goes|go)\s+(?:got\s+)?(?:the\s+)?"
    r"(?:most|least|best|better|(?:[a-z]+est))\s+(?:for\s+(?:a\s+|an\s+|the\s+|my\s+)?)?([a-z'-]+)"
)
_ZH_CHOICE_FRAME = re.compile(r"哪(?:一)?(?:款|种|个|样|类|些)[^，。？?！!,.]{0,8}?最([\u4e00-\u9fff]{1,4})")


def choice_heads(text: str, *, content: set[str]) -> set[str]:
    """The quality a question asks the shop to choose its goods by (`_EN_CHOICE_FRAME`, `_ZH_CHOICE_FRAME`), among
    its content words: a head when the knowledge base never names it."""
    found = {_stem(match.group(1)) for match in _EN_CHOICE_FRAME.finditer(text)}
    for match in _ZH_CHOICE_FRAME.finditer(text):  # the word right after 最: "最适合过年送" is 适合
        first = next((word for word in segmenter().cut(match.group(1)) if word.strip()), "")
        if len(first) > 1:
            found.add(first)
    return {word for word in found if word in content}


def english_services(text: str, *, content: set[str]) -> set[str]:
    """What an English question asks whether the shop offers ("do you do gift wrapping" -> wrapping), whether the
    customer gets ("do I get loyalty points" -> points) or what it is like ("what's the weather going to be like" ->
    weather), or where a thing of the shop's may go ("okay to go in the dishwasher", "oven-safe" -> dishwasher,
    oven), among its content words: a head when the knowledge base never names it."""
    found: set[str] = set()
    for match in [*_EN_SERVICE_FRAME.finditer(text), *_EN_PERK_FRAME.finditer(text)]:
        if match.re is _EN_PERK_FRAME and match.group(1) and _EN_HAD_SENT.match(text, match.start(1)):
            continue  # "could I get a tin sent to her?": a thing to be sent (english_objects), no perk
        for word in _object_words(next(group for group in match.groups() if group is not None)):
            stem = _stem(word)
            if stem in content and stem not in _EN_GENERIC_NOUNS:  # "gift wrapping": gift, wrapping
                found.add(stem)
    for match in _EN_THERE_FRAME.finditer(text):
        for word in _object_words(match.group(1)):
            stem = _stem(word)
            if stem in content and stem not in _EN_GENERIC_NOUNS and word not in _EN_ASPECTS:
                found.add(stem)
    for question in _EN_SUITABILITY_QUESTION.finditer(text):
        for match in _EN_PLACE_OF_USE.finditer(question.group(0)):
            word = match.group(1) or match.group(2)
            if word not in _EN_PRONOUNS and _stem(word) in content:
                found.add(_stem(word))
    for match in _EN_WHAT_ABOUT.finditer(text):  # "what about the dishwasher": its last word, the thing
        words = _object_words(match.group(1))
        word = words[-1] if words else ""
        stem = _stem(word)
        if stem in content and word not in _EN_PRONOUNS and stem not in _EN_GENERIC_NOUNS \
                and word not in _EN_ASPECTS:
            found.add(stem)
    return found


_ZH_WHICH = ("哪", "什么", "啥", "些")


def chinese_services(run: str, *, content: set[str]) -> set[str]:
    """What a Chinese question asks whether the shop offers ("可以加个礼盒吗" -> 礼盒), what a thing is like
    ("口感怎么样" -> 口感), or where a thing may go ("能放洗碗机吗" -> 洗碗机), among its content words: a head when
    the knowledge base never names it."""
    found: set[str] = set()
    for match in _ZH_LIKE_FRAME.finditer(run):  # "口感怎么样": what it is like, the last word of the phrase
        words = [word for word in segmenter().cut(match.group(1)) if word.strip()]
        if words and words[-1] in content and len(words[-1]) > 1 and words[-1] not in _ZH_GENERIC_NOUNS:
            found.add(words[-1])
    for match in _ZH_WHAT_ABOUT.finditer(run):  # "那洗碗机呢": the last word of the thing brought up
        words = [word for word in segmenter().cut(match.group(1)) if word.strip()]
        last = words[-1] if words else ""
        if len(last) > 1 and last in content and last not in _ZH_GENERIC_NOUNS and last not in _ZH_ANY_GOODS:
            found.add(last)
    for match in [*_ZH_SERVICE_FRAME.finditer(run), *_ZH_PLACE_OF_USE.finditer(run), *_ZH_THERE_FRAME.finditer(run)]:
        wanted = next(group for group in match.groups() if group is not None)
        if wanted.startswith(_ZH_WHICH):  # "需要提供哪些资料": what is needed, not whether the shop offers it
            continue
        found.update(word for word in segmenter().cut(wanted)
                     if word in content and len(word) > 1 and word not in _ZH_ANY_GOODS
                     and word not in _ZH_GENERIC_NOUNS)
    return found


# A fee of a kind ("a handling fee", "the foreign card surcharge", "手续费", "服务费", "加急费"): which fee is asked is
# the subject, a head when the knowledge base never names it (a shop's articles name the fees it charges: "shipping
# fee", "运费"). Not a word of charging itself ("收费", "免费", "付费") nor a quality ("extra", "hidden").
_EN_FEE = re.compile(r"\b([a-z'-]+)\s+(?:fees?|charges?)\b|\b(surcharges?)\b")
_ZH_NOT_A_FEE = frozenset("收费 免费 付费 花费 消费 浪费 缴费 交费 扣费 退费 费用 经费 话费 学费".split())


def fee_heads(text: str, *, content: set[str]) -> set[str]:
    """The kind of fee a question asks about (`_EN_FEE`; a Chinese word ending in 费), among its content words."""
    found = {_stem(word) for match in _EN_FEE.finditer(text) for word in match.groups()
             if word and word not in STOPWORDS and word not in _EN_ASPECTS}
    found |= {word for word in content if len(word) > 1 and word.endswith("费") and word not in _ZH_NOT_A_FEE}
    return {word for word in found if word in content}


# Trade between businesses (buying to resell, in bulk, as an agent or a franchise): no matter of a shop's help
# articles for its customers unless they say so.
TRADE_WORDS = frozenset(
    "wholesale wholesaler wholesalers bulk reseller resellers resell resale distributor distributors franchise "
    "dropship dropshipping dropshipper 批发 批发价 代理 代理商 加盟 分销 经销 经销商 代发 一件代发 拿货".split()
)
