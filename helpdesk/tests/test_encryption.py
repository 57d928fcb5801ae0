"""Keys of encryption at rest (helpdesk.encryption): required in production, made safely in embedded mode, and the
search index's tokens (what lets search work on encrypted text)."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from helpdesk import encryption
from helpdesk.tests.test_settings import PRODUCTION_ENV, STRONG_KEY, load

FERNET_KEY = Fernet.generate_key().decode()
LOOKUP_KEY = "k" * 8 + "lookup-key-of-thirty-two-chars-or-more"


def without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FIELD_ENCRYPTION_KEYS", "LOOKUP_HASH_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_production_mode_refuses_to_start_without_encryption_keys(monkeypatch) -> None:
    without_keys(monkeypatch)
    with pytest.raises(ImproperlyConfigured) as refused:
        load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY)
    assert "FIELD_ENCRYPTION_KEYS is not set" in str(refused.value)
    assert "LOOKUP_HASH_KEY is not set" in str(refused.value)
    assert "Fernet.generate_key()" in str(refused.value)
    with pytest.raises(ImproperlyConfigured, match="LOOKUP_HASH_KEY is not set"):
        load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY, FIELD_ENCRYPTION_KEYS=FERNET_KEY)


@pytest.mark.parametrize("keys", ["REPLACE_ME", f"{FERNET_KEY},not-a-key", "a" * 44])
def test_a_key_that_is_not_a_fernet_key_is_refused_in_either_mode(monkeypatch, keys) -> None:
    without_keys(monkeypatch)
    with pytest.raises(ImproperlyConfigured, match="is not a Fernet key"):
        load(
            monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY, FIELD_ENCRYPTION_KEYS=keys, LOOKUP_HASH_KEY=LOOKUP_KEY
        )
    with pytest.raises(ImproperlyConfigured, match="is not a Fernet key"):
        load(monkeypatch, FIELD_ENCRYPTION_KEYS=keys)


def test_a_short_lookup_key_is_refused(monkeypatch) -> None:
    without_keys(monkeypatch)
    with pytest.raises(ImproperlyConfigured, match=r"LOOKUP_HASH_KEY is too short \(9 characters\)"):
        load(monkeypatch, LOOKUP_HASH_KEY="short-key")


def test_production_mode_starts_with_both_keys_and_embedded_mode_without_any(monkeypatch) -> None:
    without_keys(monkeypatch)
    loaded = load(
        monkeypatch,
        **PRODUCTION_ENV,
        SECRET_KEY=STRONG_KEY,
        FIELD_ENCRYPTION_KEYS=f"{FERNET_KEY}, {Fernet.generate_key().decode()}",
        LOOKUP_HASH_KEY=LOOKUP_KEY,
    )
    assert loaded["FIELD_ENCRYPTION_KEYS"][0] == FERNET_KEY and len(loaded["FIELD_ENCRYPTION_KEYS"]) == 2
    assert loaded["ENCRYPT_MESSAGES"] is True
    without_keys(monkeypatch)
    embedded = load(monkeypatch, SQLITE_PATH="/srv/helpdesk/db.sqlite3")
    assert embedded["FIELD_ENCRYPTION_KEYS"] == []
    assert embedded["FIELD_ENCRYPTION_KEY_FILE"] == "/srv/helpdesk/db.sqlite3.keys"


def test_embedded_mode_makes_its_keys_once_in_a_file_only_its_owner_reads(settings, tmp_path) -> None:
    settings.PRODUCTION = False
    settings.FIELD_ENCRYPTION_KEYS, settings.LOOKUP_HASH_KEY = [], ""
    settings.FIELD_ENCRYPTION_KEY_FILE = str(tmp_path / "db.sqlite3.keys")
    stored = encryption.encrypt("Zhao Li 赵丽")
    assert stored.startswith(encryption.PREFIX) and encryption.decrypt(stored) == "Zhao Li 赵丽"
    assert stat.S_IMODE((tmp_path / "db.sqlite3.keys").stat().st_mode) == 0o600
    keys = encryption.key_file_read_or_create(tmp_path / "db.sqlite3.keys")
    Fernet(keys["FIELD_ENCRYPTION_KEYS"])
    assert len(keys["LOOKUP_HASH_KEY"]) >= 32
    assert encryption.key_file_read_or_create(tmp_path / "db.sqlite3.keys") == keys  # made once, then read


def test_production_mode_never_falls_back_to_a_key_file(settings, tmp_path) -> None:
    settings.PRODUCTION = True
    settings.FIELD_ENCRYPTION_KEYS, settings.LOOKUP_HASH_KEY = [], ""
    settings.FIELD_ENCRYPTION_KEY_FILE = str(tmp_path / "keys")
    with pytest.raises(ImproperlyConfigured, match="must be set in production mode"):
        encryption.encrypt("anything")
    assert not (tmp_path / "keys").exists()


TEXTS = [
    "Where is my parcel to Baker Street? Order A-10023, tracking SF1234567890123.",
    "我的包裹一直没有送到，请帮我查一下订单 A-10023 的物流",
    "iPhone手机的屏幕坏了 can I get a refund",
]


@pytest.mark.parametrize("text", TEXTS)
def test_every_query_found_in_a_text_has_all_its_tokens_in_the_texts_index(text) -> None:
    index = set(encryption.search_index(text).split())
    starts = [i for i in range(len(text)) if i == 0 or not text[i - 1].isalnum() or encryption._CJK.match(text[i])]
    for start in starts:
        for end in range(start + 1, len(text) + 1):
            assert set(encryption.search_query_tokens(text[start:end])) <= index, text[start:end]


@pytest.mark.parametrize("text", TEXTS)
def test_the_search_index_holds_no_word_of_the_text(text) -> None:
    index = encryption.search_index(text)
    for word in text.replace("，", " ").split():
        assert len(word) < 3 or word not in index
    assert all(len(token) == encryption.SEARCH_TOKEN_CHARS for token in index.split())


def test_search_tokens_depend_on_the_lookup_key(settings) -> None:
    before = encryption.search_query_tokens("parcel 包裹")
    settings.LOOKUP_HASH_KEY = LOOKUP_KEY
    assert set(encryption.search_query_tokens("parcel 包裹")).isdisjoint(before)


TERMS = [  # (text, its terms as indexed, its terms as a query)
    ("Refund refund REFUND", {"re", "ref", "refu", "refun", "refund"}, {"refund"}),
    ("退款 退款", {"退", "款", "退款"}, {"退款"}),
    ("iPhone手机x", {"ip", "iph", "ipho", "iphon", "iphone", "手", "机", "手机"}, {"iphone", "手机"}),
    ("ＡＢＣ 注文のキャンセル", {"ab", "abc", "注", "文", "の", "キ", "ャ", "ン", "セ", "ル", "注文", "文の", "のキ",
                            "キャ", "ャン", "ンセ", "セル"},
     {"abc", "注文", "文の", "のキ", "キャ", "ャン", "ンセ", "セル"}),
    ("환불 A-10023 a", {"환", "불", "환불", "10", "100", "1002", "10023"}, {"환불", "10023"}),
    ("internationalisation", {"internationalisation"[:n] for n in range(2, 13)}, {"internationa"}),
]


@pytest.mark.parametrize(("text", "indexed", "queried"), TERMS, ids=[text for text, _, _ in TERMS])
def test_a_texts_terms_are_its_word_prefixes_and_its_cjk_characters_and_pairs(text, indexed, queried) -> None:
    assert encryption._terms(text, query=False) == indexed
    assert encryption._terms(text, query=True) == queried
