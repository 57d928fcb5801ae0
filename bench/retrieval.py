#!/usr/bin/env python
"""Retrieval speed: hybrid search over 1k, 10k and 50k chunks, and direct answers through the websocket.

Part 1 (`manage.py serve` in production mode, Daphne + Celery workers, demo
knowledge base, fake Ollama): one customer at a time asks an FAQ question
(answered without the LLM) and a question already in the answer cache; the
time from sending the question to receiving the answer is printed.

Part 2 (in this process, on DATABASE_URL, default the local PostgreSQL
database helpdesk_bench): synthetic bilingual chunks with 1024-dimension
vectors (bge-m3's size) are stored as the indexer stores them; the snapshot is
rebuilt from the database (time and memory printed), then queries run with
their vector given (the embedding call is excluded, as the target says). A
baseline in the same process does the same search the obvious way (pure
Python BM25 postings, a full sort of every vector score); the ratio is printed.

    .venv/bin/python bench/retrieval.py                  # both parts
    .venv/bin/python bench/retrieval.py --sizes 1000     # smaller
    .venv/bin/python bench/retrieval.py --skip-websocket
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from first_token import (  # noqa: E402
    _ensure_database,
    _wait_for_workers,
    start_fake_ollama,
    start_serve,
    stop,
    summary,
)

DIM = 1024
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench")


# --- part 1: the index ----------------------------------------------------------------------


def vocabulary(rng: random.Random) -> tuple[list[str], list[str]]:
    syllables = ["ka", "lo", "mi", "ten", "ship", "re", "fund", "tea", "pay", "or", "der", "de", "li", "ver", "in"]
    english = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(6000)})
    hanzi = "运费退货款发票支付宝微信包邮快递订单茶叶龙井普洱乌龙盖碗保修破损物流仓库客服时间地址换货积分优惠券会员"
    chinese = sorted({rng.choice(hanzi) + rng.choice(hanzi) for _ in range(3000)})
    return english, chinese


def synthetic_chunk(rng: random.Random, english: list[str], chinese: list[str]) -> str:
    if rng.random() < 0.6:
        return ". ".join(" ".join(rng.choice(english) for _ in range(12)) for _ in range(10)) + "."
    return "。".join("".join(rng.choice(chinese) for _ in range(10)) for _ in range(8)) + "。"


def fill(size: int, rng: random.Random, np, english: list[str], chinese: list[str]) -> list[str]:
    """Replace the knowledge base with `size` published chunks (50 per article); returns their texts."""
    from django.db import transaction

    from knowledge.models import Article, Chunk
    from knowledge.retrieval.terms import index_terms
    from knowledge.services.version import knowledge_version_bump

    Article.objects.all().delete()
    texts: list[str] = []
    per_article = 50
    vector_rng = np.random.default_rng(size)
    for start in range(0, size, 2000):
        with transaction.atomic():
            articles = Article.objects.bulk_create(
                [Article(title=f"Article {start + i}", body="(synthetic)", status="published", index_status="indexed",
                         indexed_version=1, chunk_count=per_article, embedded=True, embed_model="bge-m3")
                 for i in range(0, min(2000, size - start), per_article)]
            )
            chunks = []
            batch = vector_rng.normal(size=(min(2000, size - start), DIM)).astype(np.float32)
            batch /= np.linalg.norm(batch, axis=1, keepdims=True)
            for offset in range(min(2000, size - start)):
                text = synthetic_chunk(rng, english, chinese)
                texts.append(text)
                vector = batch[offset]
                chunks.append(Chunk(
                    article=articles[offset // per_article], ordinal=offset % per_article, heading="Section",
                    text=text, search_tokens=" ".join(index_terms(text)), token_count=200,
                    embedding=vector.tobytes(), embedding_dim=DIM, embed_model="bge-m3", article_version=1,
                ))
            Chunk.objects.bulk_create(chunks, batch_size=500)
    with transaction.atomic():
        knowledge_version_bump()
    return texts


def baseline_search(texts_tokens: list[list[str]], vectors, query_terms: list[str], query_vector, np) -> list[int]:
    """The obvious implementation: Python dict postings, every vector scored and fully sorted."""
    postings: dict[str, list[tuple[int, int]]] = baseline_search.postings  # type: ignore[attr-defined]
    lengths = baseline_search.lengths  # type: ignore[attr-defined]
    average = sum(lengths) / len(lengths)
    scores: dict[int, float] = defaultdict(float)
    for term in set(query_terms):
        docs = postings.get(term, [])
        idf = math.log(1 + (len(lengths) - len(docs) + 0.5) / (len(docs) + 0.5))
        for doc, tf in docs:
            scores[doc] += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * lengths[doc] / average))
    keyword = sorted(scores, key=lambda d: -scores[d])[:50]
    similarity = vectors @ query_vector
    vector = list(np.argsort(-similarity)[:50])
    fused: dict[int, float] = defaultdict(float)
    for ranking in (keyword, vector):
        for rank, doc in enumerate(ranking):
            fused[int(doc)] += 1 / (61 + rank)
    return sorted(fused, key=lambda d: -fused[d])[:4]


def bench_index(sizes: list[int], queries: int) -> None:
    import numpy as np

    from knowledge.embedding import QueryVector
    from knowledge.retrieval.terms import tokenize

    rng = random.Random(7)
    english, chinese = vocabulary(rng)
    print(f"Hybrid search, {DIM}-dimension vectors, {os.cpu_count()} CPUs, database "
          f"{DATABASE_URL.rsplit('@', 1)[-1]}; query embedding excluded")
    for size in sizes:
        started = time.perf_counter()
        texts = fill(size, rng, np, english, chinese)
        fill_s = time.perf_counter() - started
        snapshot, rebuild_s, current, peak = snapshot_measure()
        questions = []
        for _ in range(queries):
            words = tokenize(rng.choice(texts))
            questions.append(" ".join(rng.sample(words, min(5, len(words)))))
        vectors = [QueryVector(v / np.linalg.norm(v)) for v in np.random.default_rng(1).normal(size=(queries, DIM))
                   .astype(np.float32)]
        timings = search_timings(questions, vectors)
        baseline = baseline_timings(texts, snapshot.vectors, list(zip(questions, vectors, strict=True)), np)
        print(f"\n{size:>6} chunks (stored in {fill_s:.1f} s)")
        print(f"  snapshot rebuild from the database : {rebuild_s * 1000:8.0f} ms (median of 3), "
              f"{current / 1_048_576:.0f} MiB held ({peak / 1_048_576:.0f} MiB peak while building)")
        print(f"  hybrid search                      : {summary(timings)}   ({len(timings)} queries)")
        print(f"  baseline (Python BM25, full sort)  : {summary(baseline)}   "
              f"ratio baseline/ours at p50: {statistics.median(baseline) / statistics.median(timings):.1f}x")
    from knowledge.models import Article

    Article.objects.all().delete()


def snapshot_measure() -> tuple[Any, float, int, int]:
    """The snapshot, its rebuild time in seconds (median of 3), and the bytes it holds and peaked at while
    building, measured in a separate build: tracing allocations slows Python down several times."""
    from knowledge.retrieval.snapshot import current_snapshot, snapshot_forget

    rebuilds = []
    for _ in range(3):
        snapshot_forget()
        started = time.perf_counter()
        current_snapshot()
        rebuilds.append(time.perf_counter() - started)
    snapshot_forget()
    tracemalloc.start()
    snapshot = current_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return snapshot, statistics.median(rebuilds), current, peak


def search_timings(questions: list[str], vectors: list) -> list[float]:
    """Milliseconds of each hybrid search, after five to warm up."""
    from knowledge.retrieval.search import search

    for question, vector in zip(questions[:5], vectors[:5], strict=True):  # warm-up
        search(question, query_vector=vector)
    timings = []
    for question, vector in zip(questions, vectors, strict=True):
        t = time.perf_counter()
        search(question, query_vector=vector)
        timings.append((time.perf_counter() - t) * 1000)
    return timings


def baseline_timings(texts: list[str], matrix, asked: list, np) -> list[float]:
    """Milliseconds of the baseline on the same data and (some of the) questions."""
    from knowledge.retrieval.terms import index_terms, query_terms

    tokens = [index_terms(text) for text in texts]
    postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for doc, terms in enumerate(tokens):
        for term, tf in Counter(terms).items():
            postings[term].append((doc, tf))
    baseline_search.postings = postings  # type: ignore[attr-defined]
    baseline_search.lengths = [len(t) for t in tokens]  # type: ignore[attr-defined]
    baseline = []
    for question, vector in asked[: max(20, len(asked) // 5)]:
        t = time.perf_counter()
        baseline_search(tokens, matrix, list(query_terms(question)), vector.vector, np)
        baseline.append((time.perf_counter() - t) * 1000)
    return baseline


# --- part 2: direct answers through the websocket ----------------------------------------------------


async def ask(base: str, text: str) -> tuple[float, dict]:
    import websockets

    request = urllib.request.Request(base + "/api/v1/conversations", method="POST")
    token = (await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(request, timeout=30))))["token"]
    async with websockets.connect(base.replace("http", "ws") + f"/ws/chat/{token}/", max_size=None) as ws:
        json.loads(await ws.recv())  # history
        sent = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "text": text, "client_id": "r-1"}, ensure_ascii=False))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
            # A streamed answer ends with "done"; a stored one (FAQ, cache) comes as a bot "message".
            if frame["type"] == "done" or (frame["type"] == "message" and frame["message"]["role"] == "bot"):
                return (time.perf_counter() - sent) * 1000, frame["message"]


def bench_websocket(samples: int) -> None:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    fake, ollama_url = start_fake_ollama("--ttft", "0.2", "--per-token", "0.02", "--tokens", "40", "--thinking", "")
    processes = [fake]
    try:
        env = {
            **os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": redis_url, "OLLAMA_HOSTS": ollama_url,
            "CHAT_RATE_LIMIT": "100000", "RATE_LIMITS_ENABLED": "false", "LOG_LEVEL": "WARNING", "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50), "CELERY_GENERATION_CONCURRENCY": "2",
        }
        serve, base = start_serve(env)
        processes.append(serve)
        _wait_for_workers(env, 2)
        subprocess.run([sys.executable, "manage.py", "load_demo"], cwd=ROOT, env=env, check=True)
        _wait_for_demo_index(env)
        faq_question = "How long does delivery take?"
        cached_question = "Which teas do you sell for a gift?"
        asyncio.run(ask(base, cached_question))  # answered by the LLM once, which fills the cache
        for _ in range(10):  # warm-up: every process has its connections and snapshots
            asyncio.run(ask(base, faq_question))
            asyncio.run(ask(base, cached_question))
        results: dict[str, list[float]] = {"faq": [], "cache": []}
        sources: dict[str, set[str]] = {"faq": set(), "cache": set()}
        for _ in range(samples):
            for kind, question in (("faq", faq_question), ("cache", cached_question)):
                elapsed, message = asyncio.run(ask(base, question))
                results[kind].append(elapsed)
                sources[kind].add(message["content"][:30])
        print(f"\nDirect answers through the websocket (production mode: Daphne, Celery, PostgreSQL, Redis), "
              f"{samples} customers each, one at a time, from sending the question to receiving the answer")
        print(f"  FAQ direct answer : {summary(results['faq'])}")
        print(f"  answer-cache hit  : {summary(results['cache'])}")
        print(f"  distinct answers seen: FAQ {len(sources['faq'])}, cache {len(sources['cache'])} (1 each expected)")
    finally:
        stop(list(reversed(processes)))


def _wait_for_demo_index(env: dict) -> None:
    check = (
        "import django, os, sys, time; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'helpdesk.settings');"
        "django.setup()\nfrom knowledge.models import Article, FAQ\n"
        "deadline = time.time() + 120\n"
        "while time.time() < deadline:\n"
        "    if Article.objects.filter(index_status='indexed').count() >= 10 and "
        "FAQ.objects.filter(embeddings__isnull=False).count() >= 10: sys.exit(0)\n"
        "    time.sleep(0.5)\n"
        "sys.exit('the demo knowledge base was not indexed')\n"
    )
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100, help="customers per kind of direct answer")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--skip-websocket", action="store_true")
    args = parser.parse_args()
    _ensure_database(DATABASE_URL)
    # The websocket part runs first: storing and deleting 50k chunks leaves PostgreSQL busy
    # (autovacuum, checkpoints) for a while, which would be measured instead of the product.
    if not args.skip_websocket:
        bench_websocket(args.samples)
    if not args.skip_index:
        os.environ["DATABASE_URL"] = DATABASE_URL
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # production mode refuses to start without
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        bench_index(args.sizes, args.queries)


if __name__ == "__main__":
    main()
