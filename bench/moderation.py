#!/usr/bin/env python
"""The moderation matcher's cost per message (conversations.moderation): median and p95 over a varied corpus in
English and Chinese, with 1k and 10k terms, against a baseline of plain `term in text` loops over the same terms
in the same process (which, unlike the matcher, sees no full-width, traditional or spaced-out form). Also the
cost of building the automaton (once per version of the lists, per process) and of the stream filter over a
whole reply fed in small pieces.

    .venv/bin/python bench/moderation.py             # 1k and 10k terms, 50 rounds over the corpus
    .venv/bin/python bench/moderation.py --rounds 10 --terms 1000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversations.moderation.matching import Matcher, Term, normalise
from conversations.moderation.stream import ModerationFilter

CORPUS = [
    "Hi!",
    "谢谢",
    "where is my order #20240611?",
    "我的快递到哪了，订单号：E2024061100012",
    "Ｉ ｗａｎｔ ａ ｒｅｆｕｎｄ ｎｏｗ",
    "這個茶壺是手工的嗎？運費多少？",
    "s.e.n.d m.e t.h.e m.o.n.e.y",
    "Can I get a refund for the gaiwan? call me on 138 0013 8000",
    "退款什么时候到账",
    "Is the glaze lead-free?",
    "Honestly the worst customer service I have had in years, three emails and nobody answered. " * 3,
    "请问你们的紫砂壶是纯手工的吗？如果不满意可以退吗？我之前买的那个盖碗质量很好，这次想再买两个送人。" * 2,
]
REPLY = (
    "Thank you for your question! The Yixing teapot is handmade in Jiangsu; each one takes about three days. "
    "您好！这款紫砂壶是宜兴手工制作的，每把大约需要三天。运费在满 199 元时免费，一般两到三天送达。 "
) * 2


def synthetic_terms(count: int, chance: random.Random) -> list[str]:
    """Half pseudo-words in Latin letters (5-12), half CJK phrases (2-4 characters), none of them real."""
    latin = "abcdefghijklmnopqrstuvwxyz"
    terms = set()
    while len(terms) < count:
        if len(terms) % 2:
            terms.add("".join(chance.choice(latin) for _ in range(chance.randint(5, 12))))
        else:
            terms.add("".join(chr(chance.randint(0x4E00, 0x9FA5)) for _ in range(chance.randint(2, 4))))
    return sorted(terms)


def percentiles(timings: list[float]) -> str:
    timings = sorted(timings)
    return f"median {statistics.median(timings):7.1f} µs, p95 {timings[int(len(timings) * 0.95) - 1]:7.1f} µs"


def baseline(words: list[str]) -> Callable[[str], list[str]]:
    """The plain way: every term looked for in the lower-cased text, one `in` each."""
    return lambda text: [word for word in words if word in text.lower()]


def timed(run, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        for text in CORPUS:
            started = time.perf_counter()
            run(text)
            timings.append((time.perf_counter() - started) * 1e6)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--terms", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    chance = random.Random(16)
    print(f"{len(CORPUS)} messages x {args.rounds} rounds; median message {statistics.median(map(len, CORPUS))} chars")
    for count in args.terms:
        words = synthetic_terms(count, chance)
        started = time.perf_counter()
        matcher = Matcher(Term(i, word, "other") for i, word in enumerate(words))
        built_ms = (time.perf_counter() - started) * 1000
        matcher.find(CORPUS[0])
        print(f"\n{count} terms (automaton built in {built_ms:.0f} ms)")
        print(f"  matcher (normalise + automaton): {percentiles(timed(matcher.find, args.rounds))}")
        print(f"  of which normalisation:          {percentiles(timed(normalise, args.rounds))}")
        print(f"  baseline `term in text` loop:    {percentiles(timed(baseline(words), args.rounds))}")
        stream_timings = []
        pieces = [REPLY[i : i + 4] for i in range(0, len(REPLY), 4)]
        for _ in range(args.rounds):
            started = time.perf_counter()
            moderation = ModerationFilter(matcher)
            for piece in pieces:
                moderation.feed(piece)
            moderation.finish()
            stream_timings.append((time.perf_counter() - started) * 1e3)
        print(
            f"  stream filter, a {len(REPLY)}-char reply in {len(pieces)} pieces: "
            f"median {statistics.median(stream_timings):.2f} ms per reply"
        )


if __name__ == "__main__":
    main()
