#!/usr/bin/env python
"""Retention in batches on a large history: 100k messages (default) in conversations spread over 400 days, in a
PostgreSQL database of its own (made from DATABASE_URL's server as Django's test database, dropped at the end),
then `conversations.privacy.retention.retention_enforce` with the default periods. Prints the first fill of the
daily summaries (which retention runs first), the dry run, and the deletion: rows per second, each batch's median
and p95, the total.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk .venv/bin/python bench/retention.py
    ... bench/retention.py --messages 20000 --batch-size 500
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("SECRET_KEY", "bench-retention-" + "x" * 40)

MESSAGES_PER_CONVERSATION = 20
DAYS = 400


def populate(messages: int) -> None:
    """Conversations of 20 messages (customer and bot in turn, Chinese and English), a vote and an Ollama call
    each, created with bulk_create, then dated over DAYS days in two UPDATEs (auto_now_add stamps them now)."""
    from django.db import connection

    from conversations.models import Conversation, Feedback, LLMCall, Message

    texts = ("Where is my order?", "我的订单在哪里？", "Can I return the teapot?", "退货需要多久？")
    count = max(1, messages // MESSAGES_PER_CONVERSATION)
    status = Conversation.Status.RESOLVED
    conversations = Conversation.objects.bulk_create([Conversation(status=status) for _ in range(count)])
    rows = []
    for conversation in conversations:
        for i in range(MESSAGES_PER_CONVERSATION):
            role = Message.Role.CUSTOMER if i % 2 == 0 else Message.Role.BOT
            rows.append(
                Message(
                    conversation=conversation,
                    role=role,
                    content=texts[i % 4],
                    answer_source="llm" if role == Message.Role.BOT else "",
                    ttft_ms=100.0 + i if role == Message.Role.BOT else None,
                )
            )
    created = Message.objects.bulk_create(rows, batch_size=5000)
    replies = [m for m in created if m.role == Message.Role.BOT][:: MESSAGES_PER_CONVERSATION // 2]
    Feedback.objects.bulk_create([Feedback(conversation_id=m.conversation_id, message=m, rating=1) for m in replies])
    LLMCall.objects.bulk_create(
        [LLMCall(conversation_id=m.conversation_id, message=m, model_name="qwen3", outcome="ok") for m in replies]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_conversation SET created_at = now() - ((id * 7919) %% %s) * interval '1 day', "
            "last_message_at = now() - ((id * 7919) %% %s) * interval '1 day' + interval '10 minutes'",
            [DAYS, DAYS],
        )
        for table, time_column in (
            ("conversations_message", "created_at"),
            ("conversations_feedback", "created_at"),
            ("conversations_llmcall", "created_at"),
        ):
            cursor.execute(
                f"UPDATE {table} t SET {time_column} = c.created_at + (t.id % 20) * interval '30 seconds' "
                "FROM conversations_conversation c WHERE c.id = t.conversation_id"
            )
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Needs PostgreSQL: set DATABASE_URL (a database of its own is made next to it, then dropped).")

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from conversations.models import DailySummary, Message
    from conversations.privacy.retention import retention_enforce, retention_plan
    from conversations.services.summaries import summaries_fill

    setup_test_environment()
    # Not the test suite's database name: a test run next to the benchmark must not clobber it, nor it them.
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        "bench_retention_" + settings.DATABASES["default"]["NAME"]
    )
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database {name}; periods {settings.RETENTION_DAYS}; batch size {args.batch_size}")
        started = time.perf_counter()
        populate(args.messages)
        print(f"populated {Message.objects.count():,} messages in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        days = summaries_fill()
        print(f"daily summaries, first fill: {days} days in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        plan = retention_plan()
        print(f"dry run in {time.perf_counter() - started:.2f} s:")
        for row in plan:
            print(
                f"  {row.category:<14} {row.model:<28} {row.count:>8,} rows (oldest {row.oldest:%Y-%m-%d})"
                if row.oldest
                else f"  {row.category:<14} {row.model:<28} {row.count:>8,} rows"
            )

        started = time.perf_counter()
        report = retention_enforce(batch_size=args.batch_size)
        elapsed = time.perf_counter() - started
        batches = sorted(report.batch_seconds)
        p95 = batches[max(0, int(len(batches) * 0.95) - 1)] if batches else 0.0
        deleted = report.total
        deleting = sum(batches)
        print(
            f"enforced in {elapsed:.1f} s, of which {elapsed - deleting:.1f} s finding rows and summarizing "
            f"{report.summarized_days} days first: {deleted:,} rows, {deleted / elapsed:,.0f} rows/s overall, "
            f"{deleted / deleting if deleting else 0:,.0f} rows/s in the delete transactions"
        )
        for model, n in sorted(report.deleted.items()):
            print(f"  deleted {n:>8,} {model}")
        if batches:
            print(
                f"  {len(batches)} batches: median {statistics.median(batches) * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms, max {batches[-1] * 1000:.0f} ms"
            )
        print(f"left: {Message.objects.count():,} messages; {DailySummary.objects.count()} daily summaries")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
