#!/usr/bin/env python
"""N open app event streams (GET /api/v1/app/events) against a running stack: memory per stream, and delta latency
beside the websocket's.

Opens N conversations through the app API, each with its event stream open (read by this process), and measures
the web process's resident memory before and after (Daphne's process, found by its port: `helpdesk.webserver
-p PORT`, or --server-pid). Then, with the N streams open, asks --samples questions one after another, each in a
conversation whose event stream AND widget websocket are both open here, and records when each delta arrives on
each: the first delta's latency from the POST (p50/p95), and per delta how much later it reached the stream than
the socket (p95). The stack's Ollama should stream (the fake: `python -m tests.fake_ollama --tokens 80
--per-token 0.02`), with an app key whose rate limit allows N + samples conversations (admin: Apps), and
RATE_LIMITS_ENABLED=false and ANSWER_CACHE_ENABLED=false on the stack (every stream comes from this one address,
and every sample asks the same question: it must be generated, not served from the cache).

    .venv/bin/python bench/sse_streams.py --url http://127.0.0.1:8000 --key hdk_... --streams 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def web_pid(port: int) -> int | None:
    """Daphne's process for `port` (helpdesk.webserver ... -p PORT)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if "helpdesk.webserver" in words and str(port) in words:
            return int(entry.name)
    return None


def post(url: str, path: str, key: str, body: dict, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if token:
        headers["X-Conversation-Token"] = token
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Stream:
    """One event stream, read on this loop; `deltas` maps a delta's (message_id, seq) to when it arrived."""

    def __init__(self, url: str, key: str, token: str) -> None:
        self.url, self.key, self.token = url, key, token
        self.deltas: dict[tuple[int, int], float] = {}
        self.opened = asyncio.get_running_loop().create_future()

    async def run(self) -> None:
        parts = urlsplit(self.url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write((f"GET /api/v1/app/events HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {self.key}"
                      f"\r\nX-Conversation-Token: {self.token}\r\nAccept: text/event-stream\r\n\r\n").encode())
        await writer.drain()
        try:
            while line := await reader.readline():
                if line.startswith(b"data: "):
                    event = json.loads(line[6:])
                    if event["type"] == "status" and not self.opened.done():
                        self.opened.set_result(True)
                    elif event["type"] == "delta":
                        self.deltas[(event["message_id"], event["seq"])] = time.perf_counter()
        finally:
            writer.close()


async def socket_deltas(url: str, token: str, deltas: dict[tuple[int, int], float], ready: asyncio.Event) -> None:
    import websockets

    async with websockets.connect(url.replace("http", "ws") + f"/ws/chat/{token}/", max_size=None) as ws:
        ready.set()
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "delta":
                deltas[(frame["message_id"], frame["seq"])] = time.perf_counter()
            elif frame["type"] == "done":
                return


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else 0.0)


async def main_async(args: argparse.Namespace) -> int:
    port = urlsplit(args.url).port or 80
    pid = args.server_pid or web_pid(port)
    if pid is None:
        print(f"no helpdesk.webserver process for port {port} on this machine: give --server-pid", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    tokens = [await loop.run_in_executor(None, lambda: post(args.url, "/api/v1/app/conversations", args.key, {})
                                         ["token"]) for _ in range(args.streams + args.samples)]
    before = rss_kib(pid)
    streams = [Stream(args.url, args.key, token) for token in tokens[: args.streams]]
    tasks = [asyncio.ensure_future(stream.run()) for stream in streams]
    await asyncio.wait_for(asyncio.gather(*(s.opened for s in streams)), 120)
    await asyncio.sleep(2)
    after = rss_kib(pid)
    print(f"{args.streams} event streams open: web process RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB, "
          f"{(after - before) / max(args.streams, 1):.1f} KiB per stream")

    first_sse, first_ws, later = [], [], []
    for number, token in enumerate(tokens[args.streams:]):
        stream = Stream(args.url, args.key, token)
        sse_task = asyncio.ensure_future(stream.run())
        await asyncio.wait_for(stream.opened, 30)
        ws_deltas: dict[tuple[int, int], float] = {}
        ready = asyncio.Event()
        ws_task = asyncio.ensure_future(socket_deltas(args.url, token, ws_deltas, ready))
        await ready.wait()
        sent = time.perf_counter()
        await loop.run_in_executor(None, partial(post, args.url, "/api/v1/app/messages", args.key,
                                                 {"text": args.question, "client_id": f"b-{number}"}, token))
        await asyncio.wait_for(ws_task, 120)
        await asyncio.sleep(0.2)
        sse_task.cancel()
        if not ws_deltas or not stream.deltas:
            print(f"sample {number}: no deltas (answered whole, or handed off): check the stack's knowledge/Ollama")
            continue
        first = min(ws_deltas, key=lambda k: k[1])
        first_ws.append((ws_deltas[first] - sent) * 1000)
        if first in stream.deltas:
            first_sse.append((stream.deltas[first] - sent) * 1000)
        later.extend((stream.deltas[k] - ws_deltas[k]) * 1000 for k in ws_deltas if k in stream.deltas)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if first_ws:
        print(f"first delta after the message, {len(first_ws)} replies: websocket p50 "
              f"{statistics.median(first_ws):.0f} ms p95 {percentile(first_ws, 95):.0f} ms; event stream p50 "
              f"{statistics.median(first_sse):.0f} ms p95 {percentile(first_sse, 95):.0f} ms")
        print(f"every delta, event stream minus websocket ({len(later)} deltas): p50 {statistics.median(later):.1f} ms,"
              f" p95 {percentile(later, 95):.1f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("HELPDESK_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", required=True, help="an app key (admin: Apps) with room for the conversations")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--samples", type=int, default=10, help="questions asked with the streams open")
    parser.add_argument("--question", default="How long does shipping take?")
    parser.add_argument("--server-pid", type=int, default=None)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
