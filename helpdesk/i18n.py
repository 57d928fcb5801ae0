"""Translations on Django's own machinery, for what the apps cannot get from `gettext` alone.

The catalogs are `locale/<locale>/LC_MESSAGES/django.po` (the server's strings) and `djangojs.po` (the
widget's and the console's, extracted from static/*.js by `makemessages -d djangojs`), compiled to .mo by
`make`. The browsers get their part of djangojs from the server (`js_catalog`), so the widget's script
carries no table of its own: the English text is the key, as with gettext, and stands when a language or a
string has no translation.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation.trans_real import DjangoTranslation
from django.views.i18n import JavaScriptCatalog

CONTEXT_SEPARATOR = "\x04"  # how gettext joins a msgctxt to its msgid, in .mo files and Django's JS catalogs


def supported_language(code: str | None) -> str:
    """One of LANGUAGES for a browser's or a request's language code ("zh-CN" -> "zh-hans"), else the default."""
    try:
        return translation.get_supported_language_variant((code or "").strip().lower())
    except LookupError:
        # Django maps "zh-cn" and "zh-sg" itself; any other Chinese tag still reads best in Simplified Chinese.
        return "zh-hans" if (code or "").strip().lower().startswith("zh") else settings.LANGUAGE_CODE


@cache
def js_catalog(language: str, context: str) -> dict[str, str]:
    """The djangojs translations of one page (`pgettext(context, …)` in its script) into `language`.

    Keyed as Django's JavaScriptCatalog keys them ("context\\x04msgid"), and only this context's, so that
    the widget's visitors do not download the console's strings. Read once per process: the catalogs
    change with a deploy, not while serving.
    """
    catalog = JavaScriptCatalog(domain="djangojs")
    catalog.translation = DjangoTranslation(language, domain="djangojs", localedirs=settings.LOCALE_PATHS)
    prefix = context + CONTEXT_SEPARATOR
    return {key: text for key, text in catalog.get_catalog().items() if key.startswith(prefix) and text}


def _in_every_language(message: str) -> str:
    texts = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            text = translation.gettext(message)
        if text not in texts:
            texts.append(text)
    return " ".join(texts)


# Pages shown before anyone's language is known (the console's sign-in and its lockout) say what they must in
# every language, one after the other. Lazy, for module-level tables read at request time.
in_every_language = lazy(_in_every_language, str)
