"""The answer cache: a frequent standalone question answered once per knowledge-base version.

The key holds the normalised question, the knowledge-base version, a digest
of everything else that shaped the answer (model, options, system prompt,
language, prompt format, retrieval settings: see conversations.prompting) and
a generation: publishing or unpublishing anything (which bumps the version)
or a staff purge (which changes the generation) makes every older entry
unreachable, so a stale or unwanted answer is never served.

The question it is given has the customer's personal data masked (conversations.privacy.masking), and the
pipeline never stores a reply to a conversation where anything was masked: neither key nor answer can carry a
customer's phone, email, ID or card number or address.

What may be stored is decided by the pipeline; this module only refuses an
answer that carries links, addresses or numbers its sources do not
(`unsourced_material`): whatever the model was talked into saying, a
customer must never be able to plant contact details for everyone else.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.locmem import LocMemCache

from .retrieval.terms import normalise_question

GENERATION_KEY = "answer-cache:generation"


@dataclass
class CachedAnswer:
    content: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    model_name: str = ""
    confidence: float | None = None


def answer_cache_generation() -> str:
    """The current generation of the cache. A missing one (never set, or evicted from Redis) is replaced
    by a new random one, so losing it makes the old entries unreachable rather than bringing back purged ones."""
    generation = cache.get(GENERATION_KEY)
    if generation:
        return str(generation)
    cache.add(GENERATION_KEY, secrets.token_hex(8), None)
    return str(cache.get(GENERATION_KEY) or "")


def answer_cache_purge() -> str:
    """Make every cached answer unreachable at once (in Redis and in the in-process cache alike); the entries
    themselves expire with their TTL. Returns the new generation."""
    generation = secrets.token_hex(8)
    cache.set(GENERATION_KEY, generation, None)
    return generation


def _question_digest(question: str) -> str:
    return hashlib.sha256(normalise_question(question).encode()).hexdigest()[:32]


def answer_cache_key(*, question: str, version: int, profile: str) -> str:
    """`profile` is the digest of everything besides the question and the version that shaped the answer. The
    question's digest is a part of its own, so that a customer's erasure finds their questions' answers under
    every profile, version and generation (answer_cache_erase)."""
    generation = answer_cache_generation()
    profile_digest = hashlib.sha256(profile.encode()).hexdigest()[:16]
    return f"answer:{generation}:v{version}:{_question_digest(question)}:{profile_digest}"


def answer_cache_erase(questions: Iterable[str]) -> int:
    """Delete the answers cached for these questions (a customer's erasure: the key is derived from their words,
    the answer may repeat them), whatever profile, version or generation they were stored under. Returns how many
    entries went. Redis is scanned by pattern, the in-process cache walked; any other backend is purged whole."""
    digests = {_question_digest(question) for question in questions if normalise_question(question)}
    if not digests:
        return 0
    backend = caches[DEFAULT_CACHE_ALIAS]
    if hasattr(backend, "delete_pattern"):  # django-redis
        return sum(backend.delete_pattern(f"answer:*:{digest}:*") or 0 for digest in digests)
    if isinstance(backend, LocMemCache):
        # One process's own dictionary (embedded mode): its keys are "prefix:version:answer:…".
        with backend._lock:
            found = [key for key in backend._cache if key.split(":", 3)[2:3] == ["answer"]
                     and key.split(":")[-2] in digests]
            for key in found:
                backend._delete(key)
        return len(found)
    answer_cache_purge()
    return 0


def answer_cache_get(*, question: str, version: int, profile: str) -> CachedAnswer | None:
    if not settings.ANSWER_CACHE_ENABLED or not normalise_question(question):
        return None
    value = cache.get(answer_cache_key(question=question, version=version, profile=profile))
    if not isinstance(value, dict) or not value.get("content"):
        return None
    return CachedAnswer(
        content=value["content"], sources=value.get("sources", []), model_name=value.get("model", ""),
        confidence=value.get("confidence"),
    )


def answer_cache_put(*, question: str, version: int, profile: str, answer: CachedAnswer) -> None:
    if not settings.ANSWER_CACHE_ENABLED or not normalise_question(question) or not answer.content:
        return
    cache.set(
        answer_cache_key(question=question, version=version, profile=profile),
        {"content": answer.content, "sources": answer.sources, "model": answer.model_name,
         "confidence": answer.confidence},
        settings.ANSWER_CACHE_TTL_S,
    )


# --- material a cached answer may carry ----------------------------------------------------------

# What may follow a link's host: anything but spaces, quotes, brackets and Chinese text or punctuation.
_PATH_CHARS = "[^\\s<>\"'`\u3000-\u9fff\uff00-\uffef]"
URL_PATTERN = re.compile(r"(?:https?://|www\.)" + _PATH_CHARS + "+", re.IGNORECASE)
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A bare domain ("refunds-help.com/start"), for the endings a customer-service reply would plausibly use.
DOMAIN_PATTERN = re.compile(
    r"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|net|org|info|biz|io|co|cn|hk|tw|me|app|dev|xyz|top|shop|site|online|store|link|ly|us|uk|de|jp|ru|cc|vip)"
    r"(?![a-z0-9-])(?:/" + _PATH_CHARS + "*)?",
    re.IGNORECASE,
)
# Phone numbers and other long numbers (accounts, cards): digits in groups with single separators.
_NUMBER = re.compile(r"\+?\(?\d+(?:[ \-.()/]{1,3}\d+)*")
NUMBER_MIN_DIGITS = 7
URL_TRAILING = ".,;:!?)]}>'\"。，；：！？）】》"


def url_form(text: str) -> str:
    text = text.lower().rstrip(URL_TRAILING)
    for prefix in ("https://", "http://", "www."):
        text = text.removeprefix(prefix)
    return text.rstrip("/")


def material_of(text: str) -> set[str]:
    """Links, email addresses and long numbers (phone numbers, accounts) in `text`, each in one comparable form:
    links without scheme, `www.` or trailing slash, addresses lowercased, numbers as their digits."""
    text = unicodedata.normalize("NFKC", text)
    found: set[str] = set()
    emails = [match.group(0) for match in EMAIL_PATTERN.finditer(text)]
    found.update("mailto:" + email.lower().rstrip(URL_TRAILING) for email in emails)
    rest = EMAIL_PATTERN.sub(" ", text)
    found.update(url_form(match.group(0)) for match in URL_PATTERN.finditer(rest))
    rest = URL_PATTERN.sub(" ", rest)
    found.update(url_form(match.group(0)) for match in DOMAIN_PATTERN.finditer(rest))
    for match in _NUMBER.finditer(rest):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) >= NUMBER_MIN_DIGITS:
            found.add("number:" + digits)
    return {item for item in found if item and item != "mailto:"}


def unsourced_material(answer: str, sources: Iterable[str]) -> list[str]:
    """What `answer` carries that none of `sources` does: links, email addresses, phone and other long numbers.

    A link counts as sourced when a source has it or a longer link on the same site under it ("shop.example"
    for "https://shop.example/help"); a number when its digits appear in a source's number (a source's
    "+86 400-820-8820" covers "400 820 8820").
    """
    given = set().union(*(material_of(text) for text in sources))
    numbers = [item for item in given if item.startswith("number:")]
    links = [item for item in given if not item.startswith(("number:", "mailto:"))]
    missing = []
    for item in sorted(material_of(answer)):
        if item in given:
            continue
        if item.startswith("number:") and any(item[7:] in number for number in numbers):
            continue
        if not item.startswith(("number:", "mailto:")) and any(link.startswith(item + "/") for link in links):
            continue
        missing.append(item)
    return missing
