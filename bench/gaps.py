#!/usr/bin/env python
"""What grouping knowledge gaps into topics costs (conversations.stats.topics), the part of the gaps page that grows
with GAPS_MAX_QUESTIONS: by keywords (segmenting every question, then grouping their word sets) and by embeddings
(grouping unit vectors of bge-m3's 1,024 dimensions; the embedding call itself is Ollama's and is bounded by
GAPS_EMBED_TIMEOUT_S). Questions are synthetic, English and Chinese, from a few dozen topics.

    .venv/bin/python bench/gaps.py                  # 100, 500 and 2,000 questions
    .venv/bin/python bench/gaps.py --sizes 500 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import django

django.setup()

import numpy as np  # noqa: E402

from conversations.stats.topics import vectors_group, words_matrix  # noqa: E402

SUBJECTS_EN = ["refund", "gift wrapping", "shipping to Iceland", "invoice", "warranty", "gaiwan glaze", "coupon",
               "password reset", "order tracking", "bulk discount", "teapot cleaning", "store opening hours"]
SUBJECTS_ZH = ["退货", "发票", "运费", "保修", "优惠券", "紫砂壶保养", "会员积分", "发货时间", "换货", "礼品包装"]
FRAMES_EN = ["How do I get {}?", "Question about {} please", "Is there any {} for my order?", "{} does not work",
             "Can you explain {}?"]
FRAMES_ZH = ["{}怎么办", "请问{}怎么弄", "关于{}的问题", "{}要多久", "我想了解一下{}"]


def questions(count: int, chance: random.Random) -> list[str]:
    found = []
    for _ in range(count):
        if chance.random() < 0.5:
            found.append(chance.choice(FRAMES_EN).format(chance.choice(SUBJECTS_EN)))
        else:
            found.append(chance.choice(FRAMES_ZH).format(chance.choice(SUBJECTS_ZH)))
    return found


def timed(work, rounds: int) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        result = work()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), result


def measure(texts: list[str], rounds: int) -> str:
    """One size's row: segmenting and grouping by keywords, and grouping vectors as embeddings would give."""
    words_ms, matrix = timed(lambda: words_matrix(texts), rounds)
    group_ms, grouping = timed(lambda: vectors_group(matrix, threshold=0.35), rounds)
    # Vectors of 1,024 dimensions, one direction per question text plus noise (paraphrases of a subject).
    base = np.random.default_rng(7).normal(size=(64, 1024)).astype(np.float32)
    vectors = np.stack([base[zlib.crc32(text.encode()) % 64] for text in texts])
    vectors += np.random.default_rng(8).normal(scale=0.5, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    embed_ms, embedded = timed(lambda: vectors_group(vectors, threshold=0.75), rounds)
    return (f"{len(texts):>9}  {words_ms:>12.1f} ms  {group_ms:>4.0f} ms  {len(grouping.members):>6}  "
            f"{embed_ms:>14.1f} ms  {len(embedded.members):>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chance = random.Random(7)
    words_matrix(["warm up the segmenter's dictionary", "加载分词词典"])
    print(f"{'questions':>9}  {'keywords: words':>15}  {'group':>7}  {'topics':>6}  "
          f"{'embeddings: group':>17}  {'topics':>6}")
    for size in args.sizes:
        print(measure(questions(size, chance), args.rounds))


if __name__ == "__main__":
    main()
