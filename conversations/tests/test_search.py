"""Conversation search (conversations.selectors.search) answered from its GIN indexes on PostgreSQL, with the
same results as the plain LIKE queries it replaced: encrypted and clear messages, English and Chinese, mixed."""

from __future__ import annotations

import pytest
from django.db import connection

from conversations.models import Message
from conversations.selectors import search
from conversations.selectors.inbox import inbox_page
from conversations.selectors.search import message_ids_matching
from conversations.tests.factories import conversation_factory, customer_message_factory
from helpdesk import encryption

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN indexes exist on PostgreSQL only")

TEXTS = [
    "Where is my parcel? Tracking SF1234567 has not moved since Monday.",
    "Can I get a refund for the cracked teapot, or a replacement?",
    "The gaiwan arrived with a chipped lid; order A-10023.",
    "Refunds take 3-5 days; the teapot is on its way back.",
    "我的包裹一直没有送到，快递单号 SF1234567 已经三天没有更新了。",
    "茶壶收到的时候有裂缝，可以退款或者换一个新的吗？",
    "请问满199元包邮吗？发到香港需要多久？",
    "退款已经到账了，谢谢 thanks for the refund",
]
QUERIES = ["parcel", "refund", "REFUND for", "teapot", "sf1234567", "a-10023", "包裹", "退款", "送到", "裂", "香港需要",
           "单号 sf123", "fund", "退款了"]


def stored(texts: list[str], *, encrypted: bool, settings) -> list[Message]:
    settings.ENCRYPT_MESSAGES = encrypted
    conversation = conversation_factory()
    return [customer_message_factory(conversation, text) for text in texts]


def like_candidates(tokens: list[str]) -> set[int]:
    """What the token search found before the GIN index: LIKE '% token %' per token (the SQLite fallback)."""
    candidates = search._raw().filter(raw_content__startswith=encryption.PREFIX)
    for token in tokens:
        candidates = candidates.filter(search_index__contains=f" {token} ")
    return set(candidates.values_list("pk", flat=True))


def expected(messages: list[Message], query: str, *, encrypted: bool) -> list[int]:
    """The messages a case-insensitive substring search finds; encrypted ones within the token index's limits (a
    Latin query matches from a word's start)."""
    found = []
    for message in messages:
        if encrypted:
            if encryption.search_matches(query, message.content) and encryption.search_query_tokens(query) and all(
                token in message.search_index.split() for token in encryption.search_query_tokens(query)
            ):
                found.append(message.pk)
        elif query.casefold() in message.content.casefold():
            found.append(message.pk)
    return found


@pytest.mark.parametrize("query", QUERIES)
def test_search_finds_the_same_messages_encrypted_and_in_clear_mixed(query, settings) -> None:
    clear = stored(TEXTS, encrypted=False, settings=settings)
    encrypted = stored(TEXTS, encrypted=True, settings=settings)
    wanted = sorted(expected(clear, query, encrypted=False) + expected(encrypted, query, encrypted=True))
    assert message_ids_matching(query=query) == wanted


def test_the_token_query_finds_exactly_the_candidates_the_like_query_did(settings) -> None:
    """Tokens are base64url with both cases, "-" and "_": read as one lexeme each, as they are, never split or
    lowercased by a text-search parser (which would add candidates and push real ones out of the verified few)."""
    stored(TEXTS, encrypted=True, settings=settings)
    tokens = {token for text in TEXTS for token in encryption.search_index(text).split()}
    assert any("-" in t or "_" in t for t in tokens) and any(t != t.lower() for t in tokens)
    for query in QUERIES:
        query_tokens = encryption.search_query_tokens(query)
        assert set(search._encrypted_candidates(query_tokens).values_list("pk", flat=True)) == like_candidates(
            query_tokens
        ), query
    for token in sorted(tokens):  # every single token, including those with "-", "_" and capitals
        assert set(search._encrypted_candidates([token]).values_list("pk", flat=True)) == like_candidates([token])


def test_inbox_search_over_mixed_messages(settings) -> None:
    settings.ENCRYPT_MESSAGES = False
    old = conversation_factory(status="waiting_human")
    customer_message_factory(old, "退款还没有到账 where is my refund")
    settings.ENCRYPT_MESSAGES = True
    new = conversation_factory(status="waiting_human")
    customer_message_factory(new, "Refund 退款 for the cups too")
    other = conversation_factory(status="waiting_human")
    customer_message_factory(other, "The parcel arrived, 谢谢")
    for query, wanted in [("退款", {old.pk, new.pk}), ("refund", {old.pk, new.pk}), ("parcel", {other.pk}),
                          ("到账", {old.pk}), ("cups", {new.pk}), ("谢谢 ", {other.pk}), ("退货", set())]:
        assert {item["id"] for item in inbox_page(search=query)["items"]} == wanted, query


def bulk_messages(count: int, *, encrypted: bool, settings) -> None:
    settings.ENCRYPT_MESSAGES = encrypted
    conversation = conversation_factory()
    Message.objects.bulk_create(
        Message(conversation=conversation, role=Message.Role.CUSTOMER, content=f"{TEXTS[n % len(TEXTS)]} #{n}")
        for n in range(count)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")


def plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is small: the planner would read it whole
    return queryset.explain()


@postgres_only
@pytest.mark.parametrize("query", ["refund", "退款", "单号 sf123"])
def test_encrypted_messages_are_found_through_the_token_index(query, settings) -> None:
    bulk_messages(400, encrypted=True, settings=settings)
    candidates = search._encrypted_candidates(encryption.search_query_tokens(query)).order_by()
    assert f"Bitmap Index Scan on {search.TOKEN_INDEX}" in plan(candidates)
    assert message_ids_matching(query=query)


@postgres_only
@pytest.mark.parametrize("query", ["refund", "teapot is", "退款或者", "SF1234567"])
def test_messages_in_clear_are_found_through_the_trigram_index(query, settings) -> None:
    bulk_messages(400, encrypted=False, settings=settings)
    assert f"Bitmap Index Scan on {search.CLEAR_TEXT_INDEX}" in plan(search._in_clear(query))
    assert message_ids_matching(query=query)


@postgres_only
def test_the_token_index_is_chosen_unprompted_for_a_rare_word_among_many_messages(settings) -> None:
    bulk_messages(3000, encrypted=True, settings=settings)
    customer_message_factory(conversation_factory(), "My samovar leaks 漏水")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")
    for query in ("samovar", "漏水"):
        newest = search._encrypted_candidates(encryption.search_query_tokens(query)).order_by("-pk")[:5000]
        assert f"Bitmap Index Scan on {search.TOKEN_INDEX}" in newest.explain(), query
        assert len(message_ids_matching(query=query)) == 1
