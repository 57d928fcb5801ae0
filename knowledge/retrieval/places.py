"""A gazetteer: which regions a place named in a customer's question belongs to, in English and Chinese.

Why: a shop's delivery article names regions ("mainland China", "Tibet, Xinjiang and Qinghai", "Hong Kong,
Macao, Taiwan or overseas addresses", "中国大陆", "西藏、新疆、青海", "港澳台及海外"), while its customers name
places ("can you deliver to Lhasa?", "我人在纽约", "send a gift to my sister in Taipei", "寄到广州要几天"). No word
of the question is in the article, so keyword coverage reads the place as something the shop never wrote about.
`places_in` finds the places, and each `Place` carries the words of every region it lies in (its province or
country, and "mainland", "港澳台" or "overseas"), so that an article's region words can stand for the place.

A place says where a question is about, not what it asks: "how long to Urumqi" asks about delivery time, and
Urumqi only says which of the article's regions applies. A place covered by a region word is one word of the
question covered, never the question's subject. Products named after where they come from ("云南普洱",
"made in China") still name a place: tea towns that are mostly a product's name (普洱, 安溪, 武夷山, 宜兴,
景德镇, 黄山) are left out, and so are Chinese names that are everyday words (开封 "opened", 大同, 日照 "sunshine",
德州 also "Texas", 汉堡 "hamburger"), English names that are everyday words ("nice", "reading", "bath",
"split", "jordan", "chad", "georgia"), and "us". "Turkey" and "china" are kept: a question about a turkey or a
china cup names a country, which costs one word of coverage at most; "bone china" and "fine china" do not.

Hong Kong, Macao and Taiwan get their own names and "港澳台", never the mainland's words nor "overseas": a
shop writes them as a region of their own ("港澳台及海外"). Remote areas ("偏远地区") differ from courier to courier,
so no province carries that word: a shop's article names its remote provinces, and those match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

MAINLAND = ("china", "中国", "mainland china", "mainland", "中国大陆", "大陆", "国内", "domestic", "内地")
OVERSEAS = ("overseas", "abroad", "international", "foreign", "海外", "国外", "境外", "国际")

CHINA = "china|mainland china|prc|people's republic of china|中国|中国大陆|中华人民共和国|内地"

# Mainland China's 31 provincial-level divisions: (names, cities as "english|other=中文|其他; ..."). English in
# lower case; a city without a Chinese name has no "=" part.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("beijing|北京|北京市", ""),
    ("tianjin|天津|天津市", ""),
    ("shanghai|上海|上海市", ""),
    ("chongqing|重庆|重庆市", ""),
    ("hebei|河北|河北省", "shijiazhuang=石家庄; tangshan=唐山; baoding=保定; langfang=廊坊; qinhuangdao=秦皇岛; "
                       "handan=邯郸; chengde=承德"),
    ("shanxi|山西|山西省", "taiyuan=太原; datong"),
    ("inner mongolia|nei mongol|neimenggu|内蒙古|内蒙|内蒙古自治区",
     "hohhot|huhehaote=呼和浩特; baotou; ordos=鄂尔多斯; chifeng=赤峰"),
    ("liaoning|辽宁|辽宁省", "shenyang=沈阳; dalian=大连; anshan=鞍山; dandong=丹东; jinzhou=锦州"),
    ("jilin|吉林|吉林省", "changchun=长春; yanji=延吉"),
    ("heilongjiang|黑龙江|黑龙江省", "harbin=哈尔滨; qiqihar=齐齐哈尔; daqing; mudanjiang=牡丹江"),
    ("jiangsu|江苏|江苏省", "nanjing=南京; suzhou=苏州; wuxi=无锡; changzhou=常州; xuzhou=徐州; nantong=南通; "
                         "yangzhou=扬州; kunshan=昆山; zhenjiang=镇江"),
    ("zhejiang|浙江|浙江省", "hangzhou=杭州; ningbo=宁波; wenzhou=温州; shaoxing=绍兴; jiaxing=嘉兴; jinhua=金华; "
                            "yiwu=义乌; taizhou=台州; huzhou=湖州"),
    ("anhui|安徽|安徽省", "hefei=合肥; wuhu=芜湖; anqing=安庆; bengbu=蚌埠"),
    ("fujian|福建|福建省", "fuzhou=福州; xiamen=厦门; quanzhou=泉州; zhangzhou=漳州; putian=莆田"),
    ("jiangxi|江西|江西省", "nanchang=南昌; ganzhou=赣州; jiujiang=九江"),
    ("shandong|山东|山东省", "jinan=济南; qingdao=青岛; yantai=烟台; weifang=潍坊; zibo=淄博; linyi=临沂; "
                          "weihai=威海; jining=济宁"),
    ("henan|河南|河南省", "zhengzhou=郑州; luoyang=洛阳; kaifeng; nanyang=南阳; xinxiang=新乡"),
    ("hubei|湖北|湖北省", "wuhan=武汉; yichang=宜昌; xiangyang=襄阳; jingzhou=荆州; shiyan=十堰"),
    ("hunan|湖南|湖南省", "changsha=长沙; zhuzhou=株洲; xiangtan=湘潭; hengyang=衡阳; yueyang=岳阳; "
                       "zhangjiajie=张家界; changde=常德"),
    ("guangdong|广东|广东省", "guangzhou=广州; shenzhen=深圳; dongguan=东莞; foshan=佛山; zhuhai=珠海; shantou=汕头; "
                             "zhongshan=中山; huizhou=惠州; jiangmen=江门; zhanjiang=湛江; chaozhou=潮州"),
    ("guangxi|广西|广西壮族自治区", "nanning=南宁; guilin=桂林; liuzhou=柳州; beihai=北海"),
    ("hainan|海南|海南省", "haikou=海口; sanya=三亚"),
    ("sichuan|四川|四川省", "chengdu=成都; mianyang=绵阳; yibin=宜宾; leshan=乐山; luzhou=泸州; deyang=德阳"),
    ("guizhou|贵州|贵州省", "guiyang=贵阳; zunyi=遵义"),
    ("yunnan|云南|云南省", "kunming=昆明; dali=大理; lijiang=丽江; xishuangbanna=西双版纳; qujing=曲靖"),
    ("tibet|xizang|西藏|西藏自治区", "lhasa=拉萨; shigatse|xigaze=日喀则; nyingchi=林芝"),
    ("shaanxi|陕西|陕西省", "xi'an|xian=西安; baoji=宝鸡; yan'an|yanan=延安"),
    ("gansu|甘肃|甘肃省", "lanzhou=兰州; dunhuang=敦煌; tianshui=天水; jiayuguan=嘉峪关"),
    ("qinghai|青海|青海省", "xining=西宁; golmud=格尔木"),
    ("ningxia|宁夏|宁夏回族自治区", "yinchuan=银川"),
    ("xinjiang|新疆|新疆维吾尔自治区", "urumqi|wulumuqi|urumchi=乌鲁木齐; kashgar|kashi=喀什; karamay=克拉玛依; "
                                  "korla=库尔勒; turpan|turfan=吐鲁番; yining|ghulja=伊宁"),
)

# Hong Kong, Macao and Taiwan: (names, the region words they share, cities).
GREATER_CHINA: tuple[tuple[str, str, str], ...] = (
    ("hong kong|hongkong|hk|香港", "港澳台|港澳",
     "kowloon=九龙; new territories=新界; tsim sha tsui=尖沙咀; mong kok=旺角; causeway bay=铜锣湾; sha tin=沙田; "
     "tsuen wan=荃湾; lantau=大屿山"),
    ("macao|macau|澳门|澳門", "港澳台|港澳", "taipa=氹仔; cotai=路氹"),
    ("taiwan|台湾|臺灣|台灣", "港澳台",
     "taipei=台北|臺北; new taipei=新北; kaohsiung=高雄; taichung=台中|臺中; tainan=台南|臺南; taoyuan=桃园|桃園; "
     "hsinchu=新竹; keelung=基隆; hualien=花莲"),
)

# Countries, and the parts of the world a customer names as a destination: (names, cities).
COUNTRIES: tuple[tuple[str, str], ...] = (
    ("united states|united states of america|usa|u.s.|u.s.a.|america|美国|美利坚",
     "new york|new york city|nyc=纽约; los angeles=洛杉矶; san francisco=旧金山|三藩市; chicago=芝加哥; "
     "seattle=西雅图; boston=波士顿; houston=休斯敦|休斯顿; washington|washington dc|washington d.c.=华盛顿; "
     "miami=迈阿密; las vegas=拉斯维加斯"),
    ("canada|加拿大", "toronto=多伦多; vancouver=温哥华; montreal=蒙特利尔"),
    ("mexico|墨西哥", "mexico city=墨西哥城"),
    ("brazil|巴西", "sao paulo=圣保罗; rio de janeiro=里约热内卢|里约"),
    ("argentina|阿根廷", "buenos aires=布宜诺斯艾利斯"),
    ("chile|智利", ""), ("peru|秘鲁", ""), ("colombia|哥伦比亚", ""), ("panama|巴拿马", ""),
    ("united kingdom|uk|u.k.|britain|great britain|england|scotland|英国|英格兰|苏格兰",
     "london=伦敦; manchester=曼彻斯特; edinburgh=爱丁堡; york"),
    ("ireland|爱尔兰", "dublin=都柏林"),
    ("france|法国", "paris=巴黎"),
    ("germany|德国", "berlin=柏林; munich=慕尼黑; frankfurt=法兰克福; hamburg"),
    ("italy|意大利", "rome=罗马; milan=米兰"),
    ("spain|西班牙", "madrid=马德里; barcelona=巴塞罗那"),
    ("portugal|葡萄牙", "lisbon=里斯本"),
    ("netherlands|the netherlands|holland|荷兰", "amsterdam=阿姆斯特丹"),
    ("belgium|比利时", "brussels=布鲁塞尔"),
    ("switzerland|瑞士", "zurich=苏黎世; geneva=日内瓦"),
    ("austria|奥地利", "vienna=维也纳"),
    ("sweden|瑞典", "stockholm=斯德哥尔摩"), ("norway|挪威", "oslo=奥斯陆"),
    ("denmark|丹麦", "copenhagen=哥本哈根"), ("finland|芬兰", "helsinki=赫尔辛基"), ("iceland|冰岛", ""),
    ("poland|波兰", "warsaw=华沙"), ("czech republic|czechia|czech|捷克", "prague=布拉格"),
    ("hungary|匈牙利", "budapest=布达佩斯"), ("greece|希腊", "athens=雅典"),
    ("romania|罗马尼亚", ""), ("bulgaria|保加利亚", ""), ("croatia|克罗地亚", ""), ("serbia|塞尔维亚", ""),
    ("slovakia|斯洛伐克", ""), ("slovenia|斯洛文尼亚", ""), ("luxembourg|卢森堡", ""), ("cyprus|塞浦路斯", ""),
    ("estonia|爱沙尼亚", ""), ("latvia|拉脱维亚", ""), ("lithuania|立陶宛", ""),
    ("russia|俄罗斯|俄国", "moscow=莫斯科; saint petersburg|st petersburg|st. petersburg=圣彼得堡"),
    ("ukraine|乌克兰", ""), ("belarus|白俄罗斯", ""),
    ("turkey|turkiye|土耳其", "istanbul=伊斯坦布尔"),
    ("israel|以色列", "tel aviv=特拉维夫"),
    ("saudi arabia|沙特阿拉伯|沙特", "riyadh=利雅得"),
    ("united arab emirates|uae|阿联酋", "dubai=迪拜; abu dhabi=阿布扎比"),
    ("qatar|卡塔尔", "doha=多哈"), ("kuwait|科威特", ""), ("iran|伊朗", "tehran=德黑兰"), ("lebanon|黎巴嫩", ""),
    ("egypt|埃及", "cairo=开罗"),
    ("south africa|南非", "johannesburg=约翰内斯堡; cape town=开普敦"),
    ("nigeria|尼日利亚", "lagos=拉各斯"), ("kenya|肯尼亚", "nairobi=内罗毕"), ("morocco|摩洛哥", ""),
    ("ethiopia|埃塞俄比亚", ""), ("tanzania|坦桑尼亚", ""),
    ("india|印度", "mumbai|bombay=孟买; delhi|new delhi=新德里|德里; bangalore|bengaluru=班加罗尔"),
    ("pakistan|巴基斯坦", "karachi=卡拉奇"), ("bangladesh|孟加拉国|孟加拉", "dhaka=达卡"),
    ("sri lanka|斯里兰卡", ""), ("nepal|尼泊尔", ""), ("maldives|马尔代夫", ""),
    ("japan|日本", "tokyo=东京; osaka=大阪; kyoto=京都; yokohama=横滨; nagoya=名古屋; hokkaido=北海道"),
    ("south korea|korea|republic of korea|韩国|南韩", "seoul=首尔; busan=釜山"),
    ("north korea|朝鲜", ""),
    ("mongolia|蒙古|蒙古国", "ulaanbaatar|ulan bator=乌兰巴托"),
    ("kazakhstan|哈萨克斯坦", ""), ("uzbekistan|乌兹别克斯坦", ""), ("kyrgyzstan|吉尔吉斯斯坦", ""),
    ("vietnam|viet nam|越南", "hanoi=河内; ho chi minh city|ho chi minh|saigon=胡志明市"),
    ("thailand|泰国", "bangkok=曼谷"),
    ("malaysia|马来西亚", "kuala lumpur=吉隆坡"),
    ("singapore|新加坡", ""),
    ("indonesia|印度尼西亚|印尼", "jakarta=雅加达; bali=巴厘岛"),
    ("philippines|菲律宾", "manila=马尼拉"),
    ("cambodia|柬埔寨", ""), ("laos|老挝", ""), ("myanmar|burma|缅甸", ""), ("brunei|文莱", ""),
    ("australia|澳大利亚|澳洲", "sydney=悉尼; melbourne=墨尔本; brisbane=布里斯班; perth=珀斯; "
                            "new south wales=新南威尔士"),
    ("new zealand|新西兰", "auckland=奥克兰"),
    ("europe|欧洲", ""), ("european union|eu|欧盟", ""), ("north america|北美|北美洲", ""),
    ("south america|南美|南美洲", ""), ("latin america|拉美|拉丁美洲", ""), ("africa|非洲", ""),
    ("middle east|中东", ""), ("southeast asia|south-east asia|东南亚", ""), ("oceania|大洋洲", ""),
)

# Text in which a place's name is part of another word: matched first and skipped. Patterns, on the lowered text.
NOT_PLACES = (
    "长沙发",  # a long sofa, not Changsha
    "东西藏",  # 把东西藏在… (hide things in…), not Tibet
    "大理石",  # marble, not Dali
    "新界面",  # a new interface, not the New Territories
    "复合肥",  # compound fertiliser, not Hefei
    "中东部",  # central and eastern (China), not the Middle East
    "[平舞柜阳后前讲站]台中",  # in the platform / on the stage / at the counter…, not Taichung
    "[变完做分换改造形弄写搞当看摔碎折组装打合构]成都",  # 变成+都 (became … all), not Chengdu
    "[今昨明每节当]日本",  # 今日+本店 (today our shop), not Japan
    r"\b(?:bone|fine)\s+china\b",  # porcelain
    r"\bmanila\s+(?:envelope|paper|folder)s?\b",
)


@dataclass(frozen=True)
class Place:
    """A place named in a text (`name` as matched, lower case for Latin script) and the words of every region that
    contains it, in English and Chinese (`regions`): province or country, and the mainland, 港澳台 or overseas."""

    name: str
    regions: tuple[str, ...]


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split("|") if name.strip()]


def _cities(text: str) -> list[list[str]]:
    cities = []
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        english, _, chinese = entry.partition("=")
        cities.append([*_names(english), *_names(chinese)])
    return cities


def _unique(*groups: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word for group in groups for word in group))


@cache
def _gazetteer() -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    """(one pattern for every name, longest first after the skipped words; each name's regions)."""
    regions: dict[str, tuple[str, ...]] = {}

    def add(names: list[str], words: tuple[str, ...]) -> None:
        for name in names:
            if name in regions:
                raise ValueError(f"{name!r} is named twice in the gazetteer")
            if not name.isascii() and len(name) < 2:
                raise ValueError(f"{name!r}: a single Chinese character is no place name")
            regions[name] = words

    add(_names(CHINA), _unique(_names(CHINA), MAINLAND))
    for names, cities in PROVINCES:
        words = _unique(_names(names), MAINLAND)
        add(_names(names), words)
        for city in _cities(cities):
            add(city, words)
    for names, shared, cities in GREATER_CHINA:
        words = _unique(_names(names), _names(shared))
        add(_names(names), words)
        for city in _cities(cities):
            add(city, words)
    for names, cities in COUNTRIES:
        words = _unique(_names(names), OVERSEAS)
        add(_names(names), words)
        for city in _cities(cities):
            add(city, words)

    def pattern(name: str) -> str:
        if not name.isascii():
            return re.escape(name)
        return r"(?<![a-z0-9])" + r"\s+".join(map(re.escape, name.split())) + r"(?![a-z0-9])"

    alternatives = "|".join(pattern(name) for name in sorted(regions, key=len, reverse=True))
    return re.compile(f"(?P<skip>{'|'.join(NOT_PLACES)})|{alternatives}"), regions


def place_text(text: str) -> str:
    """A text as places are looked for in it, and their names written (`Place.name`): NFKC, lower case, accents off
    ("São Paulo", "Zürich", "Türkiye") and curly apostrophes straight."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return unicodedata.normalize("NFKC", "".join(c for c in text if not unicodedata.combining(c))).lower()


def places_in(text: str) -> list[Place]:
    """Every place named in `text`, in the order first named, each name once.

    English names match whole words in any case ("New York", "inner mongolia"), Chinese names anywhere in the
    text; at each point of the text the longest name wins ("New York", not "York"; "内蒙古", not "蒙古"), and
    words that only contain a name ("长沙发", a long sofa) are skipped. Two names of one place ("Urumqi 乌鲁木齐")
    are two places found: each is a word of the question that its regions may cover.
    """
    pattern, regions = _gazetteer()
    found: dict[str, Place] = {}
    for match in pattern.finditer(place_text(text)):
        if match.group("skip") is not None:
            continue
        name = " ".join(match.group(0).split())
        if name not in found:
            found[name] = Place(name, regions[name])
    return list(found.values())


def places_out(text: str) -> tuple[list[Place], str]:
    """(the places named in `text`, as `places_in` finds them; the text in lower case with each one replaced by
    a comma), so the words around a place are read without it: "拉萨工作的朋友" cut with 拉萨 in it gives
    words no article has."""
    pattern, regions = _gazetteer()
    found: dict[str, Place] = {}

    def replace(match: re.Match[str]) -> str:
        if match.group("skip") is not None:
            return match.group(0)
        name = " ".join(match.group(0).split())
        found.setdefault(name, Place(name, regions[name]))
        return "，"

    rest = pattern.sub(replace, place_text(text))
    return list(found.values()), rest if found else text
