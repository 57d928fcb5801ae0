"""The gazetteer: a place a customer names is found, in either language, with the regions an article would name."""

from __future__ import annotations

import dataclasses

import pytest

from knowledge.retrieval.places import MAINLAND, OVERSEAS, PROVINCES, Place, places_in


def names(text: str) -> list[str]:
    return [place.name for place in places_in(text)]


def regions(text: str) -> tuple[str, ...]:
    (place,) = places_in(text)
    return place.regions


@pytest.mark.parametrize(("text", "name", "province"), [
    ("寄到广州要几天", "广州", ("guangdong", "广东")),
    ("Do you ship to Chengdu?", "chengdu", ("sichuan", "四川")),
    ("我在杭州，明天能到吗", "杭州", ("zhejiang", "浙江")),
    ("how long to Xi'an", "xi'an", ("shaanxi", "陕西")),
    ("how long to Xian", "xian", ("shaanxi", "陕西")),
    ("寄到深圳南山区", "深圳", ("guangdong", "广东")),
    ("Is Harbin too cold for the glaze?", "harbin", ("heilongjiang", "黑龙江")),
    ("北京能当天送达吗", "北京", ("beijing", "北京")),
    ("内蒙古包邮吗", "内蒙古", ("inner mongolia", "内蒙古")),
])
def test_a_mainland_city_or_province_has_its_province_and_the_mainland_words(text, name, province) -> None:
    (place,) = places_in(text)
    assert place.name == name
    assert set(province) <= set(place.regions) and set(MAINLAND) <= set(place.regions)
    assert not set(OVERSEAS) & set(place.regions) and "港澳台" not in place.regions


@pytest.mark.parametrize(("text", "province"), [
    ("can you deliver to Lhasa?", ("tibet", "xizang", "西藏")),
    ("寄到拉萨要多久", ("tibet", "xizang", "西藏")),
    ("how long to Urumqi", ("xinjiang", "新疆")),
    ("how long to Wulumuqi", ("xinjiang", "新疆")),
    ("乌鲁木齐发货吗", ("xinjiang", "新疆")),
    ("Kashgar please", ("xinjiang", "新疆")),
    ("shipping to Xining", ("qinghai", "青海")),
    ("西宁能到吗", ("qinghai", "青海")),
])
def test_a_remote_city_has_the_province_a_delivery_article_names(text, province) -> None:
    assert set(province) <= set(regions(text)) and "mainland china" in regions(text)


@pytest.mark.parametrize(("text", "region"), [
    ("send a gift to my sister in Taipei", "taiwan"),
    ("寄到台北要多久", "台湾"),
    ("Kaohsiung address OK?", "taiwan"),
    ("I live in Kowloon", "hong kong"),
    ("寄香港顺丰吗", "香港"),
    ("deliver to Hong Kong", "hong kong"),
    ("澳门可以寄吗", "澳门"),
    ("Macau", "macao"),
])
def test_hong_kong_macao_and_taiwan_are_their_own_region_not_the_mainland(text, region) -> None:
    words = regions(text)
    assert region in words and "港澳台" in words
    assert not {"mainland", "mainland china", "中国大陆", "大陆", "国内", "domestic"} & set(words)
    assert not set(OVERSEAS) & set(words)


@pytest.mark.parametrize(("text", "name", "country"), [
    ("能寄到美国吗", "美国", ("united states", "usa", "美国")),
    ("我人在纽约", "纽约", ("united states", "美国")),
    ("shipping to Paris", "paris", ("france", "法国")),
    ("寄到东京", "东京", ("japan", "日本")),
    ("deliver to São Paulo?", "sao paulo", ("brazil", "巴西")),
    ("my son studies in Melbourne", "melbourne", ("australia", "澳大利亚")),
    ("Do you ship to the UK?", "uk", ("united kingdom", "英国")),
    ("ship to the U.S. please", "u.s.", ("united states", "美国")),
    ("can I order from America", "america", ("united states", "美国")),
    ("发货到新加坡吗", "新加坡", ("singapore", "新加坡")),
    ("kuala lumpur", "kuala lumpur", ("malaysia", "马来西亚")),
    ("寄德国多少钱", "德国", ("germany", "德国")),
])
def test_a_place_abroad_has_its_country_and_the_overseas_words(text, name, country) -> None:
    (place,) = places_in(text)
    assert place.name == name
    assert set(country) <= set(place.regions) and set(OVERSEAS) <= set(place.regions)
    assert not {"mainland", "中国大陆", "港澳台"} & set(place.regions)


def test_china_itself_has_the_mainland_words_and_not_the_overseas_ones() -> None:
    for text in ("Do you ship within China?", "中国大陆包邮吗", "寄到中国"):
        assert set(MAINLAND) <= set(regions(text)) and not set(OVERSEAS) & set(regions(text))


@pytest.mark.parametrize(("text", "expected"), [
    ("New York", ["new york"]),  # not "york"
    ("a parcel to York", ["york"]),
    ("Inner Mongolia", ["inner mongolia"]),  # not "mongolia"
    ("内蒙古", ["内蒙古"]),  # not 蒙古
    ("New Taipei", ["new taipei"]),
    ("墨西哥城", ["墨西哥城"]),
    ("印度尼西亚", ["印度尼西亚"]),  # not 印度
    ("白俄罗斯", ["白俄罗斯"]),
    ("中国大陆", ["中国大陆"]),
    ("mainland China", ["mainland china"]),
    ("北海道", ["北海道"]),  # Japan, not Beihai
    ("South Korea or North Korea", ["south korea", "north korea"]),
    ("Hong   Kong", ["hong kong"]),
    ("ho chi minh city", ["ho chi minh city"]),
])
def test_the_longest_name_wins(text, expected) -> None:
    assert names(text) == expected


def test_english_matches_in_any_case_on_whole_words_only() -> None:
    assert names("LHASA") == names("lhasa") == names("Lhasa") == ["lhasa"]
    assert names("NEW YORK") == ["new york"]
    assert names("ＴＯＫＹＯ") == ["tokyo"]  # full-width letters
    assert names("an American friend, Chinese tea, Parisian style, Japanese glaze") == []
    assert names("Japan's customs") == ["japan"]


def test_each_place_once_in_the_order_first_named() -> None:
    assert names("Lhasa, LHASA and lhasa; then Paris and Lhasa") == ["lhasa", "paris"]
    assert names("美国美国美国，纽约") == ["美国", "纽约"]
    # Two names of one place are two words of the question, each with the place's regions.
    places = places_in("Urumqi 乌鲁木齐")
    assert [p.name for p in places] == ["urumqi", "乌鲁木齐"] and places[0].regions == places[1].regions


def test_both_languages_and_several_places_in_one_question() -> None:
    assert names("能寄到美国吗？我人在纽约，also Toronto") == ["美国", "纽约", "toronto"]
    assert names("我在Shanghai，想寄到台北") == ["shanghai", "台北"]


@pytest.mark.parametrize("text", [
    "I want to return my teapot",
    "我想退货，盒子坏了",
    "长沙发能寄吗",  # a long sofa, not Changsha
    "把东西藏在盒子里就行",  # hide things, not Tibet
    "已经开封了还能退吗",  # opened, not Kaifeng
    "包裹变成都碎了",  # became all broken, not Chengdu
    "新界面找不到订单",  # a new interface, not the New Territories
    "今日本店满200包邮",  # today our shop, not Japan
    "这个大理石茶盘多重",  # marble, not Dali
    "请问在平台中怎么申请发票",  # in the platform, not Taichung
    "中东部地区发货快吗",  # central and eastern, not the Middle East
    "the lid is cracked, can I get a refund?",
    "Is the gaiwan dishwasher safe? It is bone china.",
    "a fine china set for my mum",
    "what a nice teapot, reading the care guide now",
    "I paid twice, please help us",
    "can I change my address after ordering",
    "紫砂壶漏水怎么办",
    "我的快递怎么还没到",
])
def test_no_place_in_an_ordinary_sentence(text) -> None:
    assert places_in(text) == []


def test_a_food_or_a_porcelain_cup_may_name_a_country() -> None:
    # Accepted: "turkey" and a "china cup" name a country; at most one word of coverage goes wrong.
    assert names("Can I order a turkey roaster?") == ["turkey"]
    assert names("a china cup") == ["china"]


def test_place_is_a_frozen_value() -> None:
    place = places_in("Lhasa")[0]
    assert place == Place("lhasa", place.regions) and hash(place)
    with pytest.raises(dataclasses.FrozenInstanceError):
        place.name = "paris"  # type: ignore[misc]


def test_the_gazetteer_has_every_mainland_province_and_its_data_is_clean() -> None:
    assert len(PROVINCES) == 31  # with Hong Kong, Macao and Taiwan: all 34 provincial-level divisions
    for province, _cities in (*PROVINCES, ("hong kong|香港", ""), ("macao|澳门", ""), ("taiwan|台湾", "")):
        for name in province.split("|"):  # every name of each, alone, is that place
            assert names(name) == [name]
    every = places_in("Beijing, Tibet, Kowloon, Tokyo, 拉萨, 台北, 纽约")
    for place in every:
        assert place.name == place.name.lower() and place.regions
        assert all(word == word.lower() for word in place.regions)
        assert len(set(place.regions)) == len(place.regions)
