"""The widget's files themselves: what a host page's visitor downloads, and every string in both languages."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from helpdesk.tests.test_settings import PRODUCTION_ENV, STRONG_KEY, load
from tests.support.environment import ROOT

STATIC = ROOT / "static"
# widget.js + widget.css gzipped, as WhiteNoise serves them: the embed must stay light on the host's page. The
# bytes that travel are measured, not the source, so comments and readable names cost (almost) nothing.
SERVED_BUDGET_BYTES = 16 * 1024


def widget_strings() -> dict[str, dict[str, str]]:
    """The STRINGS table of widget.js, per language, read as the source has it."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    table = source[source.index("var STRINGS = {"): source.index("var lang =")]
    languages = {}
    for name, body in re.findall(r'^    "?([\w-]+)"?: \{\n(.*?)\n    \}', table, re.MULTILINE | re.DOTALL):
        languages[name] = dict(re.findall(r'(\w+): "((?:[^"\\]|\\.)*)"', body))
    return languages


def test_widget_js_and_css_as_served_stay_under_the_size_budget(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    # Production's static-file settings, the files collected as the image and `make run` in production collect them.
    production = load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY)
    monkeypatch.undo()
    for name in ("STORAGES", "WHITENOISE_USE_FINDERS", "WHITENOISE_AUTOREFRESH"):
        if name in production:
            setattr(settings, name, production[name])
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    served = 0
    for name in ("widget.js", "widget.css"):
        response = Client().get(f"/static/{name}", headers={"accept-encoding": "gzip, deflate, br"})
        assert response.status_code == 200, name
        assert response.get("Content-Encoding") == "gzip", f"{name} is served uncompressed"
        body = b"".join(response.streaming_content)
        assert gzip.decompress(body) == (STATIC / name).read_bytes(), f"{name} is served stale"
        served += len(body)
    assert served <= SERVED_BUDGET_BYTES, f"widget.js + widget.css are {served} bytes gzipped"


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
