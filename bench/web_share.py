#!/usr/bin/env python
"""The web process's (Daphne's) own cost: processor time per customer message and per relayed delta.

bench/first_token.py measures the whole stack, where the workers, PostgreSQL and the other benchmarks on the
machine move every figure; this one starts Daphne alone (production mode: PostgreSQL, Redis, no workers), so
what it reads from /proc is the web process's work only:

- N customers, each on a new conversation, send their first message in the same instant (a burst): Daphne's
  processor time per message (frame, checks, FAQ look-up, writes, the echo, the "thinking" event, the reply task
  queued; no worker takes it) and the echo's time as the customers saw it (p50 / p95);
- then the replies' deltas, published to the conversations' groups as a generation worker publishes them
  (`--deltas` per conversation, one every `--interval` s, all conversations at once): Daphne's processor time per
  relayed delta, and per reply (one message and its deltas).

    .venv/bin/python bench/web_share.py                      # N = 100, 100 deltas a reply
    .venv/bin/python bench/web_share.py --n 100 --rounds 3   # three bursts, the figures of each
    .venv/bin/python bench/web_share.py --rate-limits        # with the abuse limits counted (in Redis)
    .venv/bin/python bench/web_share.py --servers daphne uvicorn  # the ASGI server as a lever, in one run
Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, as bench/first_token.py; the Redis database is emptied
first and last: the queued reply tasks are left for no worker). py-spy (requirements-dev.txt) shows where the
time goes: `py-spy record -p <the pid printed> --format speedscope -o web.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import websockets  # noqa: E402
from first_token import (  # noqa: E402
    _empty_redis,
    _ensure_database,
    conversation_create,
    free_port,
    percentile,
    production_secrets,
    wait_http,
)


def cpu_seconds(pid: int) -> float:
    """A process's processor time so far (user + system), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The ASGI servers compared: Daphne as `manage.py serve` starts it, and uvicorn (the lever measured for issue 18:
# its websocket on the `websockets` library and uvloop, instead of Twisted and autobahn; `pip install uvicorn uvloop
# httptools` to measure it; the product does not run it).
SERVERS = {
    "daphne": lambda port: [sys.executable, "-m", "helpdesk.webserver", "-b", "127.0.0.1", "-p", str(port)],
    "uvicorn": lambda port: [sys.executable, "-m", "uvicorn", "helpdesk.asgi:application", "--host", "127.0.0.1",
                             "--port", str(port), "--ws", "websockets", "--loop", "uvloop", "--http", "httptools",
                             "--lifespan", "off", "--no-access-log", "--log-level", "warning",
                             "--timeout-graceful-shutdown", "5"],
}


def start_web(env: dict[str, str], server: str = "daphne") -> tuple[subprocess.Popen, str]:
    """The web process alone, as `manage.py serve` starts it (after migrating the database)."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    process = subprocess.Popen(SERVERS[server](port), cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/livez")  # not /healthz: it wants workers, and there are none
    except BaseException:
        process.terminate()
        raise
    return process, base


class Customer:
    """One widget: its conversation, its socket, and the frames it waits for."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.deltas = 0
        self.all_deltas = asyncio.Event()
        self.expected_deltas = 0

    async def open(self) -> None:
        self.token = await conversation_create(self.base)
        url = self.base.replace("http", "ws") + f"/ws/chat/{self.token}/"
        self.socket = await websockets.connect(url, max_size=None, open_timeout=60)
        json.loads(await self.socket.recv())  # history

    async def ask(self, start: asyncio.Event) -> float:
        """The first message; returns the milliseconds to its echo."""
        await start.wait()
        sent = time.perf_counter()
        await self.socket.send(json.dumps({"type": "message", "text": "How long does shipping take?",
                                           "client_id": "w-1"}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 60))
            if frame["type"] == "message" and frame["message"]["role"] == "customer":
                self.message_id = frame["message"]["id"]
                return (time.perf_counter() - sent) * 1000

    async def read_deltas(self) -> None:
        while self.deltas < self.expected_deltas:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 60))
            if frame["type"] == "delta":
                self.deltas += 1


async def conversation_ids(customers: list[Customer]) -> None:
    """The conversations' numbers, which the history frame does not carry: read from the database by token."""
    from conversations.models import Conversation
    from helpdesk.runtime import aio

    def lookup() -> dict[str, int]:
        tokens = [customer.token for customer in customers]
        return dict(Conversation.objects.filter(token__in=tokens).values_list("token", "id"))

    ids = await aio.db_call(lookup)
    for customer in customers:
        customer.conversation_id = ids[customer.token]


async def publish_deltas(customer: Customer, deltas: int, interval: float) -> None:
    """What a generation worker publishes for one reply (conversations.events.reply_delta), paced."""
    from conversations import events

    for seq in range(deltas):
        await events.reply_delta(conversation_id=customer.conversation_id, message_id=customer.message_id, seq=seq,
                                 text=f"word{3 * seq} word{3 * seq + 1} word{3 * seq + 2} ")
        await asyncio.sleep(interval)


async def burst(base: str, pid: int, n: int, deltas: int, interval: float) -> dict[str, float]:
    """One round: N new customers ask at once, then their replies' deltas are relayed."""
    customers = [Customer(base) for _ in range(n)]
    await asyncio.gather(*(customer.open() for customer in customers))
    await conversation_ids(customers)
    await asyncio.sleep(0.5)
    start = asyncio.Event()
    asks = [asyncio.create_task(customer.ask(start)) for customer in customers]
    await asyncio.sleep(0.1)
    before = cpu_seconds(pid)
    start.set()
    echoes = await asyncio.gather(*asks)
    await asyncio.sleep(0.3)  # the work queued after each echo (the "thinking" event, the task sent)
    message_cpu = cpu_seconds(pid) - before
    for customer in customers:
        customer.expected_deltas = deltas
    readers = [asyncio.create_task(customer.read_deltas()) for customer in customers]
    before = cpu_seconds(pid)
    await asyncio.gather(*(publish_deltas(customer, deltas, interval) for customer in customers))
    await asyncio.gather(*readers)
    delta_cpu = cpu_seconds(pid) - before
    await asyncio.gather(*(customer.socket.close() for customer in customers))
    return {
        "message_ms": message_cpu * 1000 / n,
        "delta_us": delta_cpu * 1e6 / (n * deltas),
        "echo_p50": statistics.median(echoes),
        "echo_p95": percentile(echoes, 95),
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="customers asking at once")
    parser.add_argument("--deltas", type=int, default=100, help="deltas a reply (300 tokens coalesced: ~100)")
    parser.add_argument("--interval", type=float, default=0.06, help="seconds between a reply's deltas")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds, after one warm-up round")
    parser.add_argument("--servers", nargs="+", choices=sorted(SERVERS), default=["daphne"],
                        help="ASGI servers to measure, one after the other in this run (default: daphne)")
    parser.add_argument("--rate-limits", action="store_true",
                        help="count the abuse limits (in Redis), each set far above what the burst sends")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    _ensure_database(database_url)
    _empty_redis(redis_url)
    limits = {name: "1000000/minute" for name in (
        "RATE_LIMIT_FRAMES_PER_IP", "RATE_LIMIT_MESSAGES_PER_IP", "RATE_LIMIT_MESSAGES_PER_CONVERSATION",
        "RATE_LIMIT_MODEL_CALLS_PER_IP", "RATE_LIMIT_MODEL_CALLS_PER_CONVERSATION",
        "RATE_LIMIT_CONVERSATIONS_PER_IP")}
    env = {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "DEBUG": "false",
        "LOG_LEVEL": "WARNING", "ANSWER_CACHE_ENABLED": "false", "CHAT_RATE_LIMIT": "1000",
        "RATE_LIMITS_ENABLED": "true" if args.rate_limits else "false", **limits, **production_secrets(),
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    per_server: dict[str, list[float]] = {}
    for server in args.servers:
        per_server[server] = measure(server, env, args)
        _empty_redis(redis_url)
    if len(per_server) > 1:
        baseline, *others = args.servers
        for other in others:
            ratio = statistics.median(per_server[other]) / statistics.median(per_server[baseline])
            print(f"{other} against {baseline}: {ratio:.2f}x the processor time per reply (medians of the rounds)")


def measure(server: str, env: dict[str, str], args: argparse.Namespace) -> list[float]:
    """A warm-up round and `args.rounds` measured rounds against one server; its processor time per reply each."""
    web, base = start_web(env, server)
    per_reply_ms: list[float] = []
    try:
        print(f"{server} alone (pid {web.pid}), N = {args.n} customers asking at once, {args.deltas} deltas a reply "
              f"every {args.interval * 1000:.0f} ms; rate limits {'on' if args.rate_limits else 'off'}")
        asyncio.run(burst(base, web.pid, args.n, args.deltas, args.interval))  # warm-up
        for round_number in range(1, args.rounds + 1):
            result = asyncio.run(burst(base, web.pid, args.n, args.deltas, args.interval))
            per_reply = result["message_ms"] + result["delta_us"] * args.deltas / 1000
            per_reply_ms.append(per_reply)
            print(f"  round {round_number}: per message {result['message_ms']:5.2f} ms, per delta "
                  f"{result['delta_us']:5.0f} us, per reply (message + {args.deltas} deltas) {per_reply:5.1f} ms; "
                  f"echo p50 {result['echo_p50']:6.1f} ms  p95 {result['echo_p95']:6.1f} ms")
    finally:
        web.terminate()
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
    return per_reply_ms

if __name__ == "__main__":
    main()
