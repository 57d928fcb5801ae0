"""The message catalogs (locale/): every string the code marks for translation is translated, none fuzzy.

What the code marks is found as a translator's update finds it: `makemessages` over a copy of the code (so
that nothing is written into the checkout), for the server's strings (django: gettext in Python, {% translate
%} in templates) and the browsers' (djangojs: pgettext in static/*.js). Catalogs are compared as gettext reads
them once compiled by GNU gettext's msgfmt, which leaves out fuzzy and empty translations.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.support.environment import ROOT, require

LOCALES = [path.name for path in sorted((ROOT / "locale").iterdir()) if path.is_dir()]
DOMAINS = ("django", "djangojs")
# The code a catalog covers: the apps, their templates and the browsers' scripts; not tests or benchmarks.
SOURCES = ("agents", "conversations", "helpdesk", "knowledge", "templates", "static", "manage.py")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
TRANSLATING = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy"}


def require_gettext() -> None:
    require(all(shutil.which(tool) for tool in ("msgfmt", "msgen")), "GNU gettext (msgfmt, msgen)")


def compiled(po: Path, mo: Path, *, every_msgid: bool = False) -> dict[object, str]:
    """A .po file's entries as gettext reads them once compiled. `every_msgid`: all of them, untranslated ones
    included, each standing for itself (GNU msgen), i.e. the list of what the code marks for translation."""
    if every_msgid:
        english = mo.with_suffix(".en.po")
        subprocess.run(["msgen", "-o", str(english), str(po)], check=True, capture_output=True)
        po = english
    done = subprocess.run(["msgfmt", "--check", *(["--use-fuzzy"] if every_msgid else []), "-o", str(mo), str(po)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with mo.open("rb") as file:
        catalog = gettext.GNUTranslations(file)._catalog
    return {key: text for key, text in catalog.items() if key != ""}


def readable(key: object) -> str:
    """A catalog key as a translator finds it in the .po: "context | msgid", a plural by its singular."""
    msgid = key[0] if isinstance(key, tuple) else key
    return " | ".join(str(msgid).split("\x04"))


def committed(locale: str, domain: str, tmp_path: Path) -> dict[object, str]:
    return compiled(ROOT / "locale" / locale / "LC_MESSAGES" / f"{domain}.po", tmp_path / f"{domain}.mo")


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[object, str]]:
    """Per domain, every msgid today's code marks for translation (makemessages on a copy of the code)."""
    require_gettext()
    copy = tmp_path_factory.mktemp("code")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
    found = {}
    for domain in DOMAINS:
        subprocess.run([sys.executable, "manage.py", "makemessages", "--locale=en", f"--domain={domain}"],
                       cwd=copy, env=env, check=True, capture_output=True, timeout=120)
        po = copy / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"
        found[domain] = compiled(po, copy / f"{domain}.mo", every_msgid=True)
    return found


def test_the_catalogs_are_where_the_settings_read_them() -> None:
    assert Path(settings.LOCALE_PATHS[0]) == ROOT / "locale"
    languages = {code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE}
    assert {locale.lower().replace("_", "-") for locale in LOCALES} == languages


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_the_code_marks_is_translated(marked, locale: str, domain: str, tmp_path: Path) -> None:
    assert len(marked[domain]) > 40, "makemessages found almost nothing: is the copy of the code complete?"
    translated = committed(locale, domain, tmp_path)
    keys = {key[0] if isinstance(key, tuple) else key for key in translated}
    missing = sorted(readable(key) for key in marked[domain] if (key[0] if isinstance(key, tuple) else key)
                     not in keys)
    assert not missing, f"untranslated, fuzzy or missing in locale/{locale}/LC_MESSAGES/{domain}.po: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_every_placeholder(locale: str, domain: str, tmp_path: Path) -> None:
    # msgfmt --check compares python-format strings; the scripts' {name} placeholders are compared here.
    require_gettext()
    wrong = []
    for key, text in committed(locale, domain, tmp_path).items():
        msgid = str(key[0] if isinstance(key, tuple) else key).split("\x04")[-1]
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
            wrong.append((msgid, text))
    assert not wrong


@pytest.mark.parametrize("domain", DOMAINS)
def test_simplified_chinese_is_chinese(domain: str, tmp_path: Path) -> None:
    # A text left in English by mistake (a copied msgid) shows up here; figures' names such as "p50" stay.
    require_gettext()
    english = [readable(key) for key, text in committed("zh_Hans", domain, tmp_path).items()
               if not CJK.search(text) and text != readable(key).split(" | ")[-1]]
    assert not english


def test_no_translated_string_hides_in_an_f_string() -> None:
    # xgettext does not read inside f-strings: a `_("…")` there is never extracted, so never translated, and
    # the test above cannot miss it either.
    hidden = []
    for package in SOURCES[:4]:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.JoinedStr):
                    hidden += [f"{path.relative_to(ROOT)}:{call.lineno}" for call in ast.walk(node)
                               if isinstance(call, ast.Call) and getattr(call.func, "id", "") in TRANSLATING]
    assert not hidden
