"""Encryption at rest: the keys, the cipher (cryptography's MultiFernet), and the keyed hashes that keep
exact look-ups and inbox search working on encrypted columns (helpdesk.encrypted_fields stores them).

Keys come from the environment (FIELD_ENCRYPTION_KEYS: the first encrypts, all decrypt, so a key is rotated by
putting a new one first and running `manage.py encryption_rotate`). LOOKUP_HASH_KEY keys the hashes: it is a key
of its own so that rotating the encryption keys never changes a hash, which would lose every look-up. Embedded
mode without keys makes both once and keeps them in a 0600 file beside the SQLite database; production mode
refuses to start without them (helpdesk/safety.py).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import unicodedata
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# What an encrypted value starts with: a stored value without it is plain text written before encryption was on
# (read as it is, encrypted by the migration or encryption_rotate).
PREFIX = "enc1:"
# Latin-script words are indexed by their prefixes of 2 up to this many letters (longer words by this prefix).
SEARCH_PREFIX_MAX = 12
# A token of the search index: 48 bits of HMAC, base64url. Collisions only add candidates, which are checked.
SEARCH_TOKEN_CHARS = 8
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002ffff]")
_WORD = re.compile(r"[^\W_]+")
_CJK_RUNS = re.compile(f"{_CJK.pattern}+|(?:(?!{_CJK.pattern}).)+")  # a word's CJK runs and the runs between


class DecryptionFailed(ImproperlyConfigured):
    """A stored value no key in FIELD_ENCRYPTION_KEYS opens: a key was dropped too early, or the value is damaged.
    Raised, never answered with the ciphertext, so a wrong key cannot pass for data."""


def key_file_read_or_create(path: Path) -> dict[str, str]:
    """Embedded mode's keys: FIELD_ENCRYPTION_KEYS and LOOKUP_HASH_KEY lines of `path`, made on first use with
    mode 0600 (O_EXCL, so two processes starting at once agree on one file). Lazily, at the first encryption, so
    a build step (collectstatic in the image) never bakes a key in."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(
                "# Made by the helpdesk in embedded mode: losing this file loses every encrypted value.\n"
                f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
                f"LOOKUP_HASH_KEY={base64.urlsafe_b64encode(os.urandom(32)).decode()}\n"
            )
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if value and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


@functools.cache
def _keys_from(configured: tuple[str, ...], lookup_key: str, key_file: str) -> tuple[tuple[str, ...], bytes]:
    if not configured or not lookup_key:
        if settings.PRODUCTION:  # settings already refused this; a second guard for code that bypassed them
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS and LOOKUP_HASH_KEY must be set in production mode")
        stored = key_file_read_or_create(Path(key_file))
        configured = configured or tuple(k for k in stored["FIELD_ENCRYPTION_KEYS"].split(",") if k)
        lookup_key = lookup_key or stored["LOOKUP_HASH_KEY"]
    return configured, lookup_key.encode()


def _keys() -> tuple[tuple[str, ...], bytes]:
    return _keys_from(
        tuple(settings.FIELD_ENCRYPTION_KEYS), settings.LOOKUP_HASH_KEY, str(settings.FIELD_ENCRYPTION_KEY_FILE)
    )


@functools.cache
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _cipher() -> MultiFernet:
    return _fernets(_keys()[0])[0]


def is_encrypted(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


def encrypt(text: str) -> str:
    """`text` as stored: PREFIX + a Fernet token under the first key. The empty text stays empty (nothing to
    hide, and `.exclude(content="")` keeps working)."""
    if not text:
        return text
    return PREFIX + _cipher().encrypt(text.encode()).decode("ascii")


def decrypt(stored: str, *, where: str = "a stored value") -> str:
    """The text of a stored value; plain text (no PREFIX) is returned as it is. Raises DecryptionFailed."""
    if not is_encrypted(stored):
        return stored
    try:
        return _cipher().decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionFailed(
            f"{where} cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: the key it was written with is "
            "missing (put it back after the new first key until `manage.py encryption_rotate` has run) or the "
            "value is damaged"
        ) from exc


def under_first_key(stored: str) -> bool:
    """Whether an encrypted value is already under the first key (encryption_rotate skips it then)."""
    try:
        _fernets(_keys()[0])[1].decrypt(stored[len(PREFIX) :].encode("ascii"))
    except InvalidToken:
        return False
    return True


def lookup_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of `value` under LOOKUP_HASH_KEY, per purpose, in hex: equal values, equal hashes, so a
    unique constraint and an exact look-up work on it while the value itself is encrypted. "" for ""."""
    if not value:
        return ""
    return hmac.new(_keys()[1], f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def email_normalise(email: str) -> str:
    """The form of an email address that its hash is taken of: addresses differ in case only by accident."""
    return email.strip().casefold()


def search_normalise(text: str) -> str:
    """Full-width letters as half-width, case folded: what search compares, on both sides."""
    return unicodedata.normalize("NFKC", text).casefold()


def _terms(text: str, *, query: bool) -> set[str]:
    """Plain search terms of `text`: Latin-script (and digit) words by prefixes of 2..SEARCH_PREFIX_MAX letters,
    Chinese (CJK) runs by every character and pair of characters. For a query, a word stands for its own prefix
    and a CJK run for its pairs (or its one character), so a query found inside a text has all its terms in it."""
    terms = set()
    # Each word once (a reply repeats many), and split into CJK and other runs only where it has CJK.
    for word in set(_WORD.findall(search_normalise(text))):
        for piece in _CJK_RUNS.findall(word) if _CJK.search(word) else (word,):
            if _CJK.match(piece):
                pairs = {piece[i : i + 2] for i in range(len(piece) - 1)}
                terms |= pairs if query and pairs else pairs | set(piece)
            elif query:
                if len(piece) >= 2:
                    terms.add(piece[:SEARCH_PREFIX_MAX])
            else:
                terms |= {piece[:n] for n in range(2, min(len(piece), SEARCH_PREFIX_MAX) + 1)}
    return terms


@functools.lru_cache(maxsize=65536)
def _keyed_token(key: bytes, term: str) -> str:
    """Kept for the next text: a reply of 300 words indexes over a thousand terms, most of them in every reply
    (7 % of a generation worker's time went to computing them again). Keyed by the key, so a rotation is never
    served an old token."""
    digest = hmac.new(key, f"search\x00{term}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SEARCH_TOKEN_CHARS]


def search_index(text: str) -> str:
    """The keyed tokens of a text's terms, space-separated with a space at each end (so " token " finds one)."""
    key = _keys()[1]
    tokens = sorted({_keyed_token(key, term) for term in _terms(text, query=False)})
    return f" {' '.join(tokens)} " if tokens else ""


def search_query_tokens(query: str) -> list[str]:
    """The tokens an indexed text must all hold to contain `query`; [] when the query has no searchable term
    (one Latin letter, punctuation): such a query finds no encrypted message."""
    key = _keys()[1]
    return sorted({_keyed_token(key, term) for term in _terms(query, query=True)})


def search_matches(query: str, text: str) -> bool:
    """Whether `text` contains `query`, as the index's candidates are checked after decryption."""
    return search_normalise(query.strip()) in search_normalise(text)
