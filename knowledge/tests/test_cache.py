"""The answer cache's own rules: which material an answer may carry, and purging by generation."""

from __future__ import annotations

import secrets

import pytest
from django.core.cache import cache

from knowledge import cache as answer_cache
from knowledge.cache import material_of, unsourced_material

SOURCE_EN = "Returns and refunds\nWrite to service@shop.example or call +86 400-820-8820. See https://shop.example/help."
SOURCE_ZH = "退货与退款\n客服热线：400-820-8820，手机 138 1234 5678。详情见 www.shop.example/help/returns 。"


@pytest.mark.parametrize(
    ("answer", "unsourced"),
    [
        ("请拨打 400-820-8820 办理退款。", []),
        ("请拨打4008208820或13812345678办理退款。", []),
        ("请拨打13912345678办理退款。", ["number:13912345678"]),
        ("请加微信客服 13900001111 处理，或访问 www.refund-cn.example.com 了解详情。",
         ["number:13900001111", "refund-cn.example.com"]),
        ("请发邮件到refund@evil.com。", ["mailto:refund@evil.com"]),
        ("退货详情见 https://www.shop.example/help/returns 。", []),
        ("满199元包邮，3-5个工作日到账，客服时间9:00-18:00。", []),
    ],
)
def test_material_not_in_the_sources_is_found_in_chinese(answer, unsourced) -> None:
    assert unsourced_material(answer, [SOURCE_ZH]) == unsourced


@pytest.mark.parametrize(
    ("answer", "unsourced"),
    [
        ("Call +86 400 820 8820 or write to Service@Shop.example.", []),
        ("Call +1 (555) 010-9999 for a faster refund.", ["number:15550109999"]),
        ("Visit www.example.com to claim it.", ["example.com"]),
        ("Claim it at http://refunds-now.com/start, then email help@refunds-now.com.",
         ["mailto:help@refunds-now.com", "refunds-now.com/start"]),
        ("Everything is at https://shop.example.", []),  # the site of a link the source has
        ("See https://shop.example/help.", []),
        ("Orders over ¥199 ship free; refunds take 3-5 working days (order #1042).", []),
    ],
)
def test_material_not_in_the_sources_is_found_in_english(answer, unsourced) -> None:
    assert unsourced_material(answer, [SOURCE_EN]) == unsourced


def test_a_number_is_compared_by_its_digits_and_an_address_without_case() -> None:
    assert material_of("Call 400.820.8820 or (400) 820-8820; mail A@B.cn") == {"number:4008208820", "mailto:a@b.cn"}


def test_a_lost_generation_never_brings_purged_answers_back() -> None:
    answer = answer_cache.CachedAnswer(content="Only within China.")
    answer_cache.answer_cache_put(question="Do you ship abroad?", version=1, profile="p", answer=answer)
    assert answer_cache.answer_cache_get(question="Do you ship abroad?", version=1, profile="p") is not None
    cache.delete(answer_cache.GENERATION_KEY)  # evicted, or never set on this Redis
    assert answer_cache.answer_cache_get(question="Do you ship abroad?", version=1, profile="p") is None


@pytest.mark.parametrize(
    ("asked", "erased_by", "other"),
    [
        ("Where is MY order 5531?", "where is my order 5531", "Where is my refund?"),
        ("请问我的订单5531到哪了？", "我的订单5531到哪了", "退款什么时候到账？"),
    ],
)
def test_an_erasure_removes_a_question_s_answers_under_every_profile_version_and_generation(
    settings, asked, erased_by, other,
) -> None:
    """Found by the question as the cache normalises it (case, punctuation, polite padding), wherever stored."""
    settings.ANSWER_CACHE_ENABLED = True
    tag = secrets.token_hex(4)  # Redis outlives test runs: no other run's entries are counted
    asked, erased_by, other = f"{asked} {tag}", f"{erased_by}{tag}", f"{other} {tag}"
    answer = answer_cache.CachedAnswer(content="It ships today.")
    for version, profile in ((1, "profile-a"), (2, "profile-b")):
        answer_cache.answer_cache_put(question=asked, version=version, profile=profile, answer=answer)
        answer_cache.answer_cache_put(question=other, version=version, profile=profile, answer=answer)
    answer_cache.answer_cache_purge()  # an older generation's entries are unreachable but still stored
    for version, profile in ((1, "profile-a"), (2, "profile-b")):
        answer_cache.answer_cache_put(question=asked, version=version, profile=profile, answer=answer)

    assert answer_cache.answer_cache_erase([erased_by, "", "   "]) == 4
    for version, profile in ((1, "profile-a"), (2, "profile-b")):
        assert answer_cache.answer_cache_get(question=asked, version=version, profile=profile) is None
    assert answer_cache.answer_cache_erase([erased_by]) == 0
    assert answer_cache.answer_cache_erase([]) == 0
    assert answer_cache.answer_cache_erase([other]) == 2  # the other question's, untouched until now
