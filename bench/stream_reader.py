#!/usr/bin/env python
"""Processor time of reading one streamed chat from Ollama, through the gateway, with each reader.

Starts the fake Ollama in its own process (300-token replies, no pacing unless `--per-token`, no reasoning),
then reads N replies through `helpdesk.llm.ollama.open_chat_stream` in this process, alternating the official
client's reader (`OLLAMA_STREAM_READER=client`: a typed response object per chunk), the light one (`light`:
httpx lines parsed with orjson into plain dicts) and the default (`aiohttp`: the same on aiohttp). This process's
processor time is all the reading side's: the server's is in the other process. It prints, per reader, the
processor time per reply and per chunk (median and p95 over the replies; a reply's per-chunk figure is its time
over its chunks) and each reader's ratio to the client's. With `--concurrent C`, each reader's turn reads C
replies at once on the one loop, as a generation worker's stream loop does (a reply's time is the turn's over C).

    .venv/bin/python bench/stream_reader.py                     # 200 replies each, unpaced
    .venv/bin/python bench/stream_reader.py --replies 50 --per-token 0.002   # chunks arriving one by one
    .venv/bin/python bench/stream_reader.py --replies 4 --per-token 0.02 --concurrent 50 --warmup 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The gateway's node bookkeeping in this one process (embedded mode), not in someone's Redis.
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

READERS = ("client", "light", "aiohttp")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_fake(port: int, *, tokens: int, per_token: float) -> subprocess.Popen:
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_ollama", "--port", str(port), "--ttft", "0", "--per-token",
         str(per_token), "--tokens", str(tokens), "--thinking", ""],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version", timeout=1).read()
            return fake
        except OSError:
            time.sleep(0.1)
    fake.kill()
    raise SystemExit("the fake Ollama did not start")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * fraction + 0.5) - 1, 0)]


async def read_replies(host: str, replies: int, warmup: int, concurrent: int = 1) -> dict[str, list[tuple[float, int]]]:
    """(processor seconds, chunks) per reply and reader, the readers taking turns (`concurrent` replies a turn)."""
    from django.conf import settings

    from helpdesk.llm import ollama as gateway

    options = gateway.ChatOptions(model="deepseek-r1:7b", temperature=0.7, top_p=0.9, num_predict=512,
                                  num_ctx=4096, think=True)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    found: dict[str, list[tuple[float, int]]] = {reader: [] for reader in READERS}

    async def one(reader: str) -> int:
        stream = await gateway.open_chat_stream(messages, options, hosts=[host])
        pieces = 0
        async for _ in stream:
            pieces += 1
        if stream.stats.done_reason != "stop" or pieces < 2:
            raise SystemExit(f"{reader}: the reply did not complete ({pieces} pieces)")
        # The chunks Ollama sent: one per token, and the final one with the stats.
        return stream.stats.reply_tokens + 1

    for round_ in range(warmup + replies):
        for reader in READERS if round_ % 2 else READERS[::-1]:
            settings.OLLAMA_STREAM_READER = reader
            started = time.process_time()
            chunks = await asyncio.gather(*(one(reader) for _ in range(concurrent)))
            spent = (time.process_time() - started) / concurrent
            if round_ >= warmup:
                found[reader].extend((spent, count) for count in chunks)
    await gateway.stream_sessions_close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=200, help="replies read by each reader")
    parser.add_argument("--tokens", type=int, default=300, help="words per reply (a chunk each)")
    parser.add_argument("--per-token", type=float, default=0.0, help="the fake's seconds between chunks")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=1, help="replies read at once in each reader's turn")
    args = parser.parse_args()

    import django

    django.setup()
    port = free_port()
    fake = start_fake(port, tokens=args.tokens, per_token=args.per_token)
    try:
        found = asyncio.run(read_replies(f"http://127.0.0.1:{port}", args.replies, args.warmup, args.concurrent))
    finally:
        fake.terminate()
        fake.wait()

    print(f"{args.replies} turns of {args.concurrent} replies of {args.tokens} tokens per reader, the fake pacing "
          f"{args.per_token:g} s per token (processor time of the reading process)")
    medians = {}
    for reader in READERS:
        per_reply = [spent * 1e3 for spent, _ in found[reader]]
        per_chunk = [spent / chunks * 1e6 for spent, chunks in found[reader]]
        medians[reader] = statistics.median(per_reply)
        print(f"  {reader:7}: per reply median {statistics.median(per_reply):.1f} ms, "
              f"p95 {percentile(per_reply, 0.95):.1f} ms; per chunk median {statistics.median(per_chunk):.0f} µs, "
              f"p95 {percentile(per_chunk, 0.95):.0f} µs")
    print(f"  light / client, aiohttp / client, aiohttp / light (median per reply): "
          f"{medians['light'] / medians['client']:.2f}, {medians['aiohttp'] / medians['client']:.2f}, "
          f"{medians['aiohttp'] / medians['light']:.2f}")


if __name__ == "__main__":
    main()
