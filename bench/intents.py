#!/usr/bin/env python
"""The rule layer's cost per customer message (conversations.intents.classify: intent and entities), which runs
on every message as it is stored: median and p95 over a varied corpus in English and Chinese.

    .venv/bin/python bench/intents.py             # 200 rounds over the corpus
    .venv/bin/python bench/intents.py --rounds 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversations.intents import classify

CORPUS = [
    "Hi!", "谢谢", "where is my order #20240611?", "我的快递到哪了，订单号：E2024061100012",
    "I want to talk to a real person", "转人工", "This is unacceptable, I was charged ¥128 twice",
    "你们这是坑人，我要打12315", "How much is shipping to Shenzhen?", "运费多少，几天能到？",
    "Can I get a refund for the gaiwan? call me on 138 0013 8000", "退款什么时候到账", "Is the glaze lead-free?",
    "这款茶适合送长辈吗", "my email is someone@example.com, order 55667788, paid $45.50",
    "Honestly the worst customer service I have had in years, three emails and nobody answered. " * 3,
    "请问你们的紫砂壶是纯手工的吗？如果不满意可以退吗？我之前买的那个盖碗质量很好，这次想再买两个送人。" * 2,
]
PRODUCTS = ["Gaiwan", "Yixing Teapot", "紫砂壶", "盖碗", "Celadon Cup", "Tea Tray"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    for text in CORPUS:  # compile and cache every pattern first
        classify(text, product_names=PRODUCTS, order_pattern="")
    timings = []
    for _ in range(args.rounds):
        for text in CORPUS:
            started = time.perf_counter()
            classify(text, product_names=PRODUCTS, order_pattern="")
            timings.append((time.perf_counter() - started) * 1e6)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"classify: {len(timings)} messages, median {statistics.median(timings):.0f} µs, p95 {p95:.0f} µs, "
          f"max {timings[-1]:.0f} µs")


if __name__ == "__main__":
    main()
