#!/usr/bin/env python
"""Conversation search (conversations.selectors.search) before and after its GIN indexes.

Stores `--messages` messages (half encrypted with their keyed search index, half in clear; English and Chinese
sentences from a shop's vocabulary, a few rare words, an order number each) with bulk_create on a throwaway test
database, then times `message_ids_matching` (what the inbox and admin search run, both halves) for a few queries:
first as it is now (PostgreSQL: token index as a tsvector, pg_trgm on text in clear), then the old path kept
below (LIKE '% token %' per token, LIKE on the text) with the indexes and the stored tsvector dropped, as the
database was before migration 0030. Prints p50/p95 of each and the ratio, and checks that both find the same
messages. Then times what the indexes cost a message's save, without them and with them built again.

    DATABASE_URL=postgres://... .venv/bin/python bench/search.py                 # 50,000 messages
    DATABASE_URL=postgres://... .venv/bin/python bench/search.py --messages 10000 --repeat 10
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

PRODUCTS = ["teapot", "gaiwan", "cups", "kettle", "tea tray", "Longjing tea", "oolong", "strainer"]
ISSUES = [
    "Where is my parcel with the {p}? Tracking has not moved since Monday.",
    "Can I get a refund for the cracked {p}, or a replacement?",
    "The {p} arrived with a chipped lid.",
    "Do you ship the {p} to Hong Kong, and how long does delivery take?",
    "Please change the delivery address for my {p} order.",
    "Thanks, the {p} is lovely and the refund arrived.",
]
PRODUCTS_ZH = ["茶壶", "盖碗", "茶杯", "水壶", "茶盘", "龙井", "乌龙茶", "滤网"]
ISSUES_ZH = [
    "我的{p}包裹一直没有送到，快递三天没有更新了。",
    "{p}收到的时候有裂缝，可以退款或者换一个新的吗？",
    "请问{p}满199元包邮吗？发到香港需要多久？",
    "我想修改{p}订单的收货地址，还没有发货。",
    "{p}很好用，退款也收到了，谢谢。",
]
RARE = [" The samovar leaks.", " 水壶漏水了。"]  # about one message in a thousand
QUERIES = ["refund", "the refund arrived", "samovar", "a-10023", "退款", "收货地址", "漏水", "龙井"]


def sentence(rng: random.Random, n: int) -> str:
    if n % 2:
        text = rng.choice(ISSUES).format(p=rng.choice(PRODUCTS))
    else:
        text = rng.choice(ISSUES_ZH).format(p=rng.choice(PRODUCTS_ZH))
    if rng.random() < 0.001:
        text += rng.choice(RARE)
    return f"{text} Order A-{10000 + n}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def old_message_ids_matching(query: str) -> list[int]:
    """conversations.selectors.search before the GIN indexes: LIKE per token, LIKE on the text in clear."""
    from django.conf import settings

    from conversations.selectors.search import _raw
    from helpdesk import encryption

    query = query.strip()
    in_clear = _raw().exclude(raw_content__startswith=encryption.PREFIX).filter(raw_content__icontains=query)
    found = set(in_clear.values_list("pk", flat=True))
    tokens = encryption.search_query_tokens(query)
    if tokens:
        candidates = _raw().filter(raw_content__startswith=encryption.PREFIX)
        for token in tokens:
            candidates = candidates.filter(search_index__contains=f" {token} ")
        newest = candidates.order_by("-pk").values_list("pk", "content")[: settings.SEARCH_VERIFY_MAX]
        found |= {pk for pk, text in newest if encryption.search_matches(query, text)}
    return sorted(found)


def timed(call, repeat: int) -> tuple[list[float], list[int]]:
    values, result = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        values.append(time.perf_counter() - start)
    return values, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20, help="times each query runs")
    args = parser.parse_args()
    if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
        os.environ["LOOKUP_HASH_KEY"] = secrets.token_urlsafe(32)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        run(args.messages, args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(count: int, repeat: int) -> None:
    from django.conf import settings
    from django.db import connection

    from conversations.models import Conversation, Message
    from conversations.selectors import search

    rng = random.Random(7)
    conversations = Conversation.objects.bulk_create([Conversation() for _ in range(count // 5 + 1)])
    start = time.perf_counter()
    for first in range(0, count, 2000):
        batch = range(first, min(count, first + 2000))
        settings.ENCRYPT_MESSAGES = (first // 2000) % 2 == 0  # alternate batches: half encrypted, half in clear
        Message.objects.bulk_create(
            Message(conversation=conversations[n // 5], role=Message.Role.CUSTOMER, content=sentence(rng, n))
            for n in batch
        )
    settings.ENCRYPT_MESSAGES = True
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_message")
    encrypted = Message.objects.exclude(search_index="").count()
    print(f"stored {count} messages ({encrypted} encrypted) in {time.perf_counter() - start:.1f} s "
          f"on {connection.vendor}; each query run {repeat} times\n")

    after = {query: timed(lambda q=query: search.message_ids_matching(query=q), repeat) for query in QUERIES}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the database as it was before migration 0030
            cursor.execute("ALTER TABLE conversations_message DROP COLUMN search_tokens")  # and its index
            cursor.execute(f"DROP INDEX {search.CLEAR_TEXT_INDEX}")
    before = {query: timed(lambda q=query: old_message_ids_matching(q), repeat) for query in QUERIES}

    print(f"{'query':<16}{'found':>7}  {'before p50 / p95':>20}  {'after p50 / p95':>20}  {'p50 ratio':>9}")
    for query in QUERIES:
        (old, old_ids), (new, new_ids) = before[query], after[query]
        assert old_ids == new_ids, f"{query!r}: the indexed search found other messages"
        ratio = percentile(old, 0.5) / percentile(new, 0.5)
        print(f"{query:<16}{len(new_ids):>7}  {ms(old):>20}  {ms(new):>20}  {ratio:>8.1f}x")
    if connection.vendor == "postgresql":
        writes(conversations[-1], rng)


def writes(conversation, rng: random.Random, count: int = 400) -> None:
    """What the indexes cost a write: messages saved one by one (as replies are), then each saved again with
    longer text (as a streamed reply's progress is), without the indexes and with them built again."""
    import importlib

    from django.conf import settings
    from django.db import connection

    from conversations.models import Message

    migration = importlib.import_module("conversations.migrations.0030_message_search_indexes")

    def timed_writes() -> tuple[list[float], list[float]]:
        inserts, updates, messages = [], [], []
        for n in range(count):
            settings.ENCRYPT_MESSAGES = n % 2 == 0
            start = time.perf_counter()
            messages.append(Message.objects.create(conversation=conversation, role="bot", content=sentence(rng, n)))
            inserts.append(time.perf_counter() - start)
        for message in messages:
            settings.ENCRYPT_MESSAGES = message.pk % 2 == 0
            message.content += " " + sentence(rng, message.pk)
            start = time.perf_counter()
            message.save(update_fields=["content", "search_index"])
            updates.append(time.perf_counter() - start)
        return inserts, updates

    without = timed_writes()  # the indexes are still dropped here
    with connection.cursor() as cursor:
        for sql in migration.TOKENS:
            cursor.execute(sql)
        cursor.execute(migration.CLEAR_TEXT.replace("%%", "%"))
    with_indexes = timed_writes()
    print(f"\none message saved ({count}, half encrypted), p50 / p95: without the indexes {ms(without[0])}, "
          f"with them {ms(with_indexes[0])}; saved again with longer text: {ms(without[1])} against "
          f"{ms(with_indexes[1])}")


def ms(values: list[float]) -> str:
    return f"{percentile(values, 0.5) * 1000:.1f} / {percentile(values, 0.95) * 1000:.1f} ms"


if __name__ == "__main__":
    main()
