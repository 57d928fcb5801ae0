"""The translation helpers: languages read from browsers, the browsers' catalogs, pages in every language."""

from __future__ import annotations

import pytest

from helpdesk import i18n


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hans", "zh-hans"), ("zh-CN", "zh-hans"), ("zh-TW", "zh-hans"), ("zh", "zh-hans"), ("en-GB", "en"),
     ("fr", "en"), ("", "en"), (None, "en")],
)
def test_a_browsers_language_maps_to_one_the_product_speaks(code: str | None, expected: str) -> None:
    assert i18n.supported_language(code) == expected


def test_a_pages_catalog_holds_its_own_context_only() -> None:
    widget, console = i18n.js_catalog("zh-hans", "widget"), i18n.js_catalog("zh-hans", "console")
    assert widget["widget\x04Send"] == "发送" and console["console\x04Take over"] == "接管"
    assert all(key.startswith("widget\x04") for key in widget)
    assert all(key.startswith("console\x04") for key in console)


def test_english_is_written_in_the_code_and_needs_no_catalog() -> None:
    assert i18n.js_catalog("en", "widget") == {} and i18n.js_catalog("en", "console") == {}


def test_a_text_for_everyone_says_it_in_every_language() -> None:
    assert str(i18n.in_every_language("The user name or password is wrong.")) == (
        "The user name or password is wrong. 用户名或密码错误。"
    )
