#!/usr/bin/env python
"""Processor time and queries of one customer message's whole path, in this one process, production mode.

What the consumer and the generation task run for a message, called in turn here: the message stored with its
FAQ and answer-cache check (`message_post_customer`, as the consumer calls it, the conversation loaded fresh), the
reply generated (`reply_generate`: retrieval, the prompt, the stream read from the fake Ollama on the process's
stream loop, the reply stored) and its model call logged (`llm_call_record`, the log_turn task). The fake runs in
its own process (a cited 300-word answer, unpaced, no reasoning), so this process's processor time (time.process_time:
all its threads) is the platform's side alone; PostgreSQL's and Redis's own time is not in it. It prints the
processor time per message (median and p95 over the replies, and its message / reply parts) and the queries per
message. Compare two checkouts by running it in each against the same database.

Needs DATABASE_URL and REDIS_URL (production mode; the database is migrated, and the test suite's small knowledge
base loaded into it when it has no article). The answer cache and rate limits are off, as in bench/first_token.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/reply_cpu.py --replies 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from first_token import start_fake_ollama  # noqa: E402 - the same fake, started and awaited alike

# A benchmark database's keys, never a deployment's: its rows are encrypted with them from one run to the next.
BENCH_SECRETS = {
    "SECRET_KEY": "bench-reply-cpu-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "FIELD_ENCRYPTION_KEYS": "YmVuY2gtcmVwbHktY3B1LWZpZWxkLWtleS0zMmJ5dGU=",
    "LOOKUP_HASH_KEY": "bench-reply-cpu-lookup-key-not-a-secret-0123456789",
}


# A grounded answer the knowledge base supports (its numbers are in the shipping article), cited: the reply completes
# without a handoff, as most do. 300 words, streamed a word a chunk.
ANSWER = " ".join(["Parcels leave within 24 hours and arrive in 2-4 days [1]."] * 30)
QUESTIONS = ("How long until my parcel arrives?", "包裹多久能到？How long does delivery take?")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--per-token", type=float, default=0.0)
    parser.add_argument("--show-queries", action="store_true", help="print the last message's statements")
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise SystemExit("set DATABASE_URL and REDIS_URL: this measures production mode")
    fake, fake_url = start_fake_ollama("--ttft", "0", "--per-token", str(args.per_token), "--content", ANSWER,
                                       "--thinking", "")
    os.environ.update({
        "OLLAMA_HOSTS": fake_url, "ANSWER_CACHE_ENABLED": "false", "RATE_LIMITS_ENABLED": "false",
        "DEBUG": "false", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "localhost", **BENCH_SECRETS,
    })
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    try:
        run(args)
    finally:
        fake.terminate()
        fake.wait(timeout=10)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.db.backends.signals import connection_created

    from conversations.models import Conversation, Message
    from conversations.pipeline.reply import reply_generate
    from conversations.selectors.access import conversation_get
    from conversations.services import messages
    from conversations.services.identity import conversation_create
    from conversations.services.replies import llm_call_record
    from helpdesk.celery import app
    from knowledge.models import Article

    call_command("migrate", verbosity=0)
    if not Article.objects.exists():
        from knowledge.tests.factories import knowledge_base_create

        knowledge_base_create()  # indexed here, synchronously: no worker runs

    queries = [0]
    seen: list[str] = []  # the last message's statements, for --show-queries

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries[0] += 1
        seen.append(sql)
        return execute(sql, params, many, context)

    def install(sender, connection, **kwargs):  # type: ignore[no-untyped-def]
        if count not in connection.execute_wrappers:
            connection.execute_wrappers.append(count)

    connection_created.connect(install, weak=False)
    for connection in connections.all(initialized_only=True):
        install(None, connection)

    samples: list[tuple[float, float, int]] = []
    sources: set[str] = set()
    handed_off = 0
    for i in range(args.warmup + args.replies):
        conversation_id = conversation_create().pk
        queries[0] = 0
        seen.clear()
        started = time.process_time()
        message, _ = messages.message_post_customer(
            conversation=conversation_get(conversation_id=conversation_id), text=QUESTIONS[i % len(QUESTIONS)],
            client_id=f"bench-{time.time_ns()}",
        )
        stored = time.process_time()
        reply = reply_generate(customer_message_id=message.pk)
        if reply is not None:
            llm_call_record(message_id=reply.pk)
        done = time.process_time()
        counted = queries[0]
        if reply is None or reply.status != Message.Status.COMPLETE:
            raise SystemExit(f"message {i}: no complete reply ({reply and reply.status}): not what is measured")
        sources.add(reply.answer_source)
        handed_off += conversation_get(conversation_id=conversation_id).status != Conversation.Status.BOT
        if i >= args.warmup:
            samples.append(((stored - started) * 1000, (done - stored) * 1000, counted))
    app.control.purge()  # the generate_reply tasks queued for a worker this benchmark does not run
    totals = [message + reply for message, reply, _ in samples]
    print(f"{args.replies} messages ({args.warmup} before them as a warm-up), {len(ANSWER.split())}-word replies "
          f"({', '.join(sorted(sources))}; {handed_off} handed off), fake Ollama at {args.per_token * 1000:g} ms "
          f"per token, in {ROOT.name}")
    print(f"  processor time per message, whole path: median {statistics.median(totals):.1f} ms, "
          f"p95 {percentile(totals, 0.95):.1f} ms")
    print(f"    stored and checked (the consumer's service): median "
          f"{statistics.median(m for m, _, _ in samples):.1f} ms; reply task and its log: median "
          f"{statistics.median(r for _, r, _ in samples):.1f} ms")
    print(f"  queries per message: {statistics.median(q for _, _, q in samples):g} (median)")
    if args.show_queries:
        print("  the last message's:\n" + "\n".join(f"    {sql[:160]}" for sql in seen))


if __name__ == "__main__":
    main()
