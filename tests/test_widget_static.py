"""The widget's files themselves: the size budget, and every string in both languages."""

from __future__ import annotations

import re

from conftest import ROOT

STATIC = ROOT / "static"
BUDGET_BYTES = 41_000  # widget.js + widget.css, unminified: the embed must stay light on the host's page


def widget_strings() -> dict[str, dict[str, str]]:
    """The STRINGS table of widget.js, per language, read as the source has it."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    table = source[source.index("var STRINGS = {"): source.index("var lang =")]
    languages = {}
    for name, body in re.findall(r'^    "?([\w-]+)"?: \{\n(.*?)\n    \}', table, re.MULTILINE | re.DOTALL):
        languages[name] = dict(re.findall(r'(\w+): "((?:[^"\\]|\\.)*)"', body))
    return languages


def test_widget_js_and_css_stay_under_the_size_budget() -> None:
    size = sum((STATIC / name).stat().st_size for name in ("widget.js", "widget.css"))
    assert size < BUDGET_BYTES, f"widget.js + widget.css are {size} bytes"


def test_every_widget_string_is_in_english_and_simplified_chinese() -> None:
    strings = widget_strings()
    assert set(strings) == {"en", "zh-hans"}
    english, chinese = strings["en"], strings["zh-hans"]
    assert len(english) > 40
    assert set(english) == set(chinese)
    untranslated = [key for key, text in chinese.items() if not re.search(r"[\u4e00-\u9fff]", text)]
    assert not untranslated
    # The same placeholders on both sides, so a formatted string never shows "{name}".
    for key, text in english.items():
        assert sorted(re.findall(r"\{\w+\}", text)) == sorted(re.findall(r"\{\w+\}", chinese[key])), key
