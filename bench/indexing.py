#!/usr/bin/env python
"""Indexing time against text length, on the worst case: one paragraph without sentence ends.

Such a text (a log pasted into an article, a PDF whose extraction lost its
punctuation) is one "sentence" that the chunker has to cut by characters; the
old chunker measured the whole rest of the text again for every piece, so
4x the text took 16x the time (100 KB 1.0 s, 400 KB 18.6 s). This prints, per
size, the time to chunk it and to make the chunks' search terms (the CPU
work of `knowledge.services.indexing.article_index`; embedding is the model's time and
is left out), and each size's time over the previous one: about 4 means
linear growth. No database or Ollama needed.

    .venv/bin/python bench/indexing.py
    .venv/bin/python bench/indexing.py --sizes-kb 100 400 1600 6400
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def texts(size_kb: int) -> dict[str, str]:
    size = size_kb * 1024
    english = "ship " * (size // 5)
    chinese = "退货需要申请" * (size // 18)  # 3 bytes a character in UTF-8
    return {"English words": english, "Chinese characters": chinese}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-kb", type=int, nargs="+", default=[100, 400, 1600])
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.conf import settings

    from knowledge.ingest.chunking import chunk_markdown
    from knowledge.retrieval.terms import index_terms

    print(f"chunks of {settings.KNOWLEDGE_CHUNK_TOKENS} tokens, {settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS} overlap")
    print(f"{'text':<20}{'size':>9}{'chunks':>9}{'chunking s':>12}{'terms s':>10}{'total s':>10}{'x previous':>12}")
    for kind in texts(1):
        previous: float | None = None
        for size_kb in args.sizes_kb:
            body = texts(size_kb)[kind]
            started = time.perf_counter()
            drafts = chunk_markdown(
                body,
                max_tokens=settings.KNOWLEDGE_CHUNK_TOKENS,
                overlap_tokens=settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS,
            )
            chunked = time.perf_counter()
            for draft in drafts:
                index_terms(f"Title\n{draft.heading}\n{draft.text}")
            total = time.perf_counter() - started
            ratio = f"{total / previous:.1f}" if previous else "-"
            print(
                f"{kind:<20}{size_kb:>6} KB{len(drafts):>9}{chunked - started:>12.3f}"
                f"{total - (chunked - started):>10.3f}{total:>10.3f}{ratio:>12}"
            )
            previous = total


if __name__ == "__main__":
    main()
