#!/usr/bin/env python
"""What encryption at rest costs (helpdesk.encryption): per message, and for the console's inbox search.

Prints the median and 95th percentile of encrypting and decrypting one message (with its search index, as a save
does), then times inbox searches (English and Chinese words) over `--messages` stored messages with
ENCRYPT_MESSAGES on (keyed-token index, then decryption of the candidates) and off (SQL over the text in clear).
Runs on a throwaway test database of whatever the environment configures (PostgreSQL with DATABASE_URL, else
SQLite), with keys made for the run when none are set.

    .venv/bin/python bench/encryption.py                      # 10,000 messages, about a minute
    .venv/bin/python bench/encryption.py --messages 50000
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

ENGLISH = [
    "Where is my parcel? I ordered the Longjing tea last week and tracking SF1234567 has not moved since Monday.",
    "Can I get a refund for the cracked teapot, or would you rather send a replacement?",
    "The gaiwan arrived with a chipped lid; order A-10023. Photos attached.",
    "Do you ship to Hong Kong, and how long does delivery take for orders over 199 yuan?",
]
CHINESE = [
    "我的包裹一直没有送到，快递单号 SF1234567 已经三天没有更新了，请帮我查一下。",
    "茶壶收到的时候有裂缝，可以退款或者换一个新的吗？",
    "请问满199元包邮吗？发到香港需要多久？",
    "我想修改收货地址，订单还没有发货。",
]
QUERIES = ["", "parcel", "refund for", "gaiwan", "包裹", "退款", "收货地址", "SF1234567"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<44} median {statistics.median(values) * 1000:8.3f} ms   p95 {percentile(values, 0.95) * 1000:8.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages stored for the search timings")
    parser.add_argument("--repeat", type=int, default=5, help="times each search runs")
    args = parser.parse_args()
    if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
        os.environ["LOOKUP_HASH_KEY"] = secrets.token_urlsafe(32)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from helpdesk import encryption

    texts = ENGLISH + CHINESE
    timings: dict[str, list[float]] = {"encrypt": [], "decrypt": [], "index": []}
    for n in range(2000):
        text = texts[n % len(texts)]
        start = time.perf_counter()
        stored = encryption.encrypt(text)
        timings["encrypt"].append(time.perf_counter() - start)
        start = time.perf_counter()
        encryption.decrypt(stored)
        timings["decrypt"].append(time.perf_counter() - start)
        start = time.perf_counter()
        encryption.search_index(text)
        timings["index"].append(time.perf_counter() - start)
    print(line("encrypt one message (Fernet)", timings["encrypt"]))
    print(line("decrypt one message", timings["decrypt"]))
    print(line("search index of one message (HMAC tokens)", timings["index"]))

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        search_timings(args.messages, args.repeat, settings, texts)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def search_timings(count: int, repeat: int, settings: object, texts: list[str]) -> None:
    from conversations.models import Conversation, Message
    from conversations.selectors.inbox import inbox_page
    from helpdesk.encrypted_fields import model_reencrypt

    rng = random.Random(7)
    conversations = Conversation.objects.bulk_create(
        [Conversation(status=Conversation.Status.WAITING_HUMAN) for _ in range(count // 5 + 1)]
    )
    settings.ENCRYPT_MESSAGES = True
    start = time.perf_counter()
    for first in range(0, count, 1000):
        Message.objects.bulk_create(
            [
                Message(
                    conversation=conversations[n // 5], role=Message.Role.CUSTOMER, content=rng.choice(texts) + f" #{n}"
                )
                for n in range(first, min(count, first + 1000))
            ]
        )
    print(f"stored {count} encrypted messages in {time.perf_counter() - start:.1f} s ({connection_vendor()})")
    on = {query: timed(lambda q=query: inbox_page(search=q, status=""), repeat) for query in QUERIES}
    settings.ENCRYPT_MESSAGES = False
    start = time.perf_counter()
    model_reencrypt(Message, batch_size=1000)
    print(f"encryption_rotate wrote them in clear in {time.perf_counter() - start:.1f} s")
    off = {query: timed(lambda q=query: inbox_page(search=q, status=""), repeat) for query in QUERIES}
    print(f"\ninbox search over {count} messages (first page), median of {repeat}:")
    print(f"{'query':<14}{'encrypted':>12}{'in clear':>12}")
    for query in QUERIES:
        print(f"{query or '(no search)':<14}{on[query] * 1000:>9.1f} ms{off[query] * 1000:>9.1f} ms")


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


def timed(call: object, repeat: int) -> float:
    values = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        values.append(time.perf_counter() - start)
    return statistics.median(values)


if __name__ == "__main__":
    main()
