#!/usr/bin/env python
# One script run as a file, whose stack helpers bench/handoff.py and bench/retrieval.py import; the /proc
# accounting (processor time and memory by part of the stack, streams per process) is bench/stackwatch.py.
"""Time to first token as customers see it, in production mode, against a paced fake Ollama, and what the stack
spends per streamed reply: processor time and memory by part, against issue 18's targets.

Starts the fake Ollama (its own process), then `manage.py serve` with PostgreSQL, Redis, Daphne and the Celery
workers, and for each N has N websocket customers ask:

- burst: all at the same moment (every message of the burst is stored, checked against the FAQ and searched
  before its reply starts: the burst's tail is the per-message cost times the messages ahead, printed as the
  slope of the echo, of the reply task's start and of the first token over the customers' order);
- spread: each at a random moment within one reply's length, so up to N replies stream at once;
- ramp: N customers arriving evenly over --ramp-s seconds (default 60), each connecting when they arrive and
  staying connected until every reply is done (N live conversations at the end); run --ramp-runs times
  (default 2) in the same stack, and the memory of every kind of process compared between the ends of the runs
  (a second run must not grow it).

It prints, per N and arrivals:

- the fake's own time to first token, measured with a direct `ollama` client in the same run (the floor nobody
  can beat; during a ramp, one probe every two seconds among the customers), the time to first token the
  customers saw, and the difference (overhead), against the target where the issue sets one;
- echo, reply start and total reply time; replies complete and correct (final text the expected one, every
  delta in order), lost or wrong;
- a blocking relay in the style of the seed article (POST, wait for the whole answer, return it) on the same
  fake, and the ratio of first visible text;
- the processor time each part of the stack used per streamed reply (web, generation workers, other workers,
  beat and serve, PostgreSQL, Redis; the fake Ollama and the benchmark's clients apart) and their TOTAL against
  the target (<= 60 ms);
- the peak of concurrent streams, how many one process held at most (target >= 100), the RSS of every kind of
  process before, at the peak and after (PSS after), and the generation workers' memory per additional stream
  (target <= 1 MB);
- a cold start, repeated over `--cold-starts` starts of the stack (default 3; at the first N only): per start,
  the first-token overhead of the first customer after it against the median of customers 2-10 (each alone),
  and the median of those ratios over the starts, the one judged against 2x;
- the HTTP 5xx answers the customers got (a 503 is tried again after its Retry-After, as the widget does;
  a 500 never should be);
- at the end, every target of issue 18 with the figure measured and met or missed.

serve runs with DATABASE_BUDGET=fit: at N beyond what PostgreSQL's connections allow (100 by default),
it starts as many generation workers as fit and says so; the rest of the customers wait in the queue.

    .venv/bin/python bench/first_token.py            # the default plan: N = 1 burst, N = 100 burst and spread,
                                                     # N = 1000 ramp (twice): every target, in ~15 minutes
    .venv/bin/python bench/first_token.py --n 1 10   # these N, burst
    .venv/bin/python bench/first_token.py --n 100 --arrivals burst spread
    .venv/bin/python bench/first_token.py --n 1000 --arrivals ramp --ramp-s 60 --skip-cold
    .venv/bin/python bench/first_token.py --n 1 --cold-starts 5 --skip-relay
Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaults: local ones), each a database of its own: the
benchmark empties the Redis database before it starts, so that tasks left by an earlier, interrupted run
(re-delivered an hour later, Celery's visibility timeout) do not take the workers' time. Other settings in the
environment reach serve (a generation worker design, say); `--concurrency` sets CELERY_GENERATION_CONCURRENCY.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ollama  # noqa: E402 - after the path is set
import stackwatch  # noqa: E402
import websockets  # noqa: E402

from tests.processes import process_table  # noqa: E402

# Issue 18's targets (production mode, this machine, the fake paced 200 ms / 20 ms a token, 300-token replies).
TARGET_CPU_MS = 60.0  # processor time per streamed reply, web + workers + PostgreSQL + Redis
TARGET_STREAMS_PER_PROCESS = 100
TARGET_MB_PER_STREAM = 1.0
# (N, arrivals) -> (which percentile, at most ms) of the first-token overhead over the direct client's.
OVERHEAD_TARGETS = {(1, "burst"): ("p50", 10.0), (1, "spread"): ("p50", 10.0), (100, "spread"): ("p95", 50.0),
                    (100, "burst"): ("p95", 500.0)}
# A second ramp run may leave the stack this much bigger and still count as flat (allocator noise).
FLAT_GROWTH_SHARE, FLAT_GROWTH_MB = 0.02, 10.0
DEFAULT_PLAN = ((1, ("burst",)), (100, ("burst", "spread")), (1000, ("ramp",)))
# A customer gives up after this long without a frame (a ramp's last customers wait behind the queue).
SILENCE_S = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"p50 {statistics.median(values):7.1f} ms  p95 {percentile(values, 95):7.1f} ms"


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


# --- the direct baseline --------------------------------------------------------------


async def direct_first_tokens(ollama_url: str, n: int, model: str) -> list[float]:
    """N requests at once with the official client, each stopped at its first token (the rest of the reply
    would only cost the benchmark time: the first token is the floor being measured)."""
    client = ollama.AsyncClient(host=ollama_url, timeout=60)

    async def one() -> float:
        started = time.perf_counter()
        stream = await client.chat(
            model=model, messages=[{"role": "user", "content": "hi"}], stream=True, think=False
        )
        async for chunk in stream:
            if chunk.message.content:
                first = (time.perf_counter() - started) * 1000
                await stream.aclose()
                return first
        return 0.0

    return await asyncio.gather(*(one() for _ in range(n)))


# --- the seed article's blocking relay -----------------------------------------------------


def start_blocking_relay(ollama_url: str, model: str) -> str:
    """POST /chat waits for Ollama's whole answer, then returns it (the seed's FastAPI relay, in stdlib)."""
    client = ollama.Client(host=ollama_url, timeout=120)

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answer = client.chat(model=model, messages=[{"role": "user", "content": body["prompt"]}], stream=False)
            data = json.dumps({"response": answer.message.content}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512  # N browsers connect at once

    server = Server(("127.0.0.1", free_port()), Relay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/chat"


def relay_once(relay_url: str) -> float:
    """One POST to the relay: the time until its whole answer (the first text its customer sees)."""
    started = time.perf_counter()
    request = urllib.request.Request(
        relay_url, data=json.dumps({"prompt": "hi"}).encode(), headers={"Content-Type": "application/json"}
    )
    json.load(urllib.request.urlopen(request, timeout=120))
    return (time.perf_counter() - started) * 1000


async def relay_first_text(relay_url: str, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=n) as pool:  # every request at once, as N browsers would
        return await asyncio.gather(*(loop.run_in_executor(pool, relay_once, relay_url) for _ in range(n)))


async def floor_probes(ollama_url: str, relay_url: str | None, model: str, seconds: float,
                       every: float = 2.0) -> tuple[list[float], list[float]]:
    """While a ramp runs: every `every` seconds one direct request (the fake's own first token under the same
    load) and one relay request; returns both lists."""
    direct: list[asyncio.Task] = []
    relay: list[asyncio.Future] = []
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=max(1, math.ceil(60 / every))) as pool:
        for _ in range(max(1, round(seconds / every))):
            direct.append(asyncio.create_task(direct_first_tokens(ollama_url, 1, model)))
            if relay_url:
                relay.append(loop.run_in_executor(pool, relay_once, relay_url))
            await asyncio.sleep(every)
        return [ms for probe in await asyncio.gather(*direct) for ms in probe], list(await asyncio.gather(*relay))


# --- customers on websockets ---------------------------------------------------------------


# HTTP statuses the widget's endpoint answered in this run (a 503 or 429 is retried, as the widget does).
http_statuses: list[int] = []
MESSAGE = json.dumps({"type": "message", "text": "How long does shipping take?", "client_id": "b-1"})


async def conversation_create(base: str) -> str:
    """POST as the widget does: a 503 or 429 is tried again after its Retry-After; any other error is final."""
    def post() -> tuple[int, dict, str]:
        request = urllib.request.Request(base + "/api/v1/conversations", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response), ""
        except urllib.error.HTTPError as exc:
            return exc.code, {}, exc.headers.get("Retry-After", "1")

    for _ in range(30):
        status, body, retry_after = await asyncio.to_thread(post)
        http_statuses.append(status)
        if status not in (429, 503):
            break
        await asyncio.sleep(float(retry_after) * random.uniform(1, 1.5))
    if status != 201:
        raise RuntimeError(f"POST /api/v1/conversations answered {status}")
    return body["token"]


@dataclass
class Live:
    """The customers' sockets open and replies in flight now, the most of each at once, and when every customer
    of a ramp has their reply (or failed): until then each keeps their conversation open."""

    customers: int
    open: int = 0
    in_flight: int = 0
    most_open: int = 0
    most_in_flight: int = 0
    finished: int = 0
    everyone_done: asyncio.Event = field(default_factory=asyncio.Event)

    def opened(self, delta: int) -> None:
        self.open += delta
        self.most_open = max(self.most_open, self.open)

    def asking(self, delta: int) -> None:
        self.in_flight += delta
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def finish(self) -> None:
        self.finished += 1
        if self.finished >= self.customers:
            self.everyone_done.set()


async def ask(ws: websockets.ClientConnection, expected: str, live: Live) -> dict:
    """Send the question on an open conversation and read until its reply is done: the times the customer saw
    (echo of their own message, the reply task starting, first token, whole reply) and whether the reply is
    complete and correct."""
    live.asking(+1)
    try:
        return await _read_reply(ws, expected)
    finally:
        live.asking(-1)


async def _read_reply(ws: websockets.ClientConnection, expected: str) -> dict:
    sent = time.perf_counter()
    await ws.send(MESSAGE)
    first = echo = typing = None
    busy = 0
    pieces: list[str] = []
    expected_seq = 0
    skips = restarts = 0
    seen: list[str] = []
    while True:
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), SILENCE_S))
        except TimeoutError:
            raise TimeoutError(f"silence for {SILENCE_S:.0f} s after {seen[-6:]}") from None
        seen.append(frame["type"])
        if frame["type"] == "error" and frame.get("code") == "busy":
            busy += 1  # stored nothing: resent after the wait, as the widget does
            await asyncio.sleep(frame.get("retry_after", 1))
            await ws.send(MESSAGE)
        elif frame["type"] == "message" and echo is None:
            echo = (time.perf_counter() - sent) * 1000
        elif frame["type"] == "typing" and typing is None:
            typing = (time.perf_counter() - sent) * 1000
        elif frame["type"] == "delta":
            if first is None:
                first = (time.perf_counter() - sent) * 1000
            if frame["seq"] == 0 and expected_seq > 0:
                restarts += 1  # the reply was started over (a re-delivered task)
                pieces = []
            elif frame["seq"] != expected_seq:
                skips += 1  # a delta never arrived
            expected_seq = frame["seq"] + 1
            pieces.append(frame["text"])
        elif frame["type"] == "message" and frame["message"]["role"] == "bot":
            raise RuntimeError(f"answered without generating ({frame['message'].get('status')}): not measured")
        elif frame["type"] == "done":
            final = frame["message"]["content"]
            return {
                "first": first,
                "echo": echo,
                "typing": typing,
                "total": (time.perf_counter() - sent) * 1000,
                "ok": final == expected and frame["message"]["status"] == "complete",
                "deltas_ok": "".join(pieces) == final and not skips,
                "restarts": restarts,
                "frames": len(pieces),
                "busy": busy,
            }


def reply_words(count: int) -> list[str]:
    """The fake's reply, one word a token, the last citing the first source ("[1]", taken out before the
    customer sees it): an answer from the knowledge base as the product gives most. Letters only, no digits:
    replies of "word17" tokens were each held for a person by the fact check (an unverified number), so every
    reply measured before carried a handoff, and its queries and events, that an answered question does not."""
    def letters(number: int) -> str:
        text = ""
        while True:
            number, digit = divmod(number, 26)
            text = chr(ord("a") + digit) + text
            if not number:
                return text
    return [f"word{letters(i)}" for i in range(count)]


def chat_url(base: str, token: str) -> str:
    return base.replace("http", "ws") + f"/ws/chat/{token}/"


# Websocket handshakes that failed in this run (the server closed the connection or answered an error before
# accepting it), by exception: the customer connects again, as the widget does.
handshake_failures: list[str] = []


async def connect_as_widget(base: str, token: str, attempts: int = 12) -> websockets.ClientConnection:
    """The conversation's socket, opened again after a failed handshake as the widget does: after 0.5 s, doubling
    up to 30 s, jittered."""
    for attempt in range(attempts):
        try:
            return await websockets.connect(chat_url(base, token), max_size=None, open_timeout=60)
        except (websockets.InvalidHandshake, OSError, TimeoutError) as exc:
            handshake_failures.append(type(exc).__name__)
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(min(30.0, 0.5 * 2**attempt) * random.uniform(0.75, 1.25))
    raise AssertionError("unreachable")


async def customer(base: str, expected: str, start: asyncio.Event, delay: float, live: Live) -> dict:
    """Burst and spread: connect, wait for everyone to be connected, then ask after `delay` seconds."""
    token = await conversation_create(base)
    async with await connect_as_widget(base, token) as ws:
        json.loads(await ws.recv())  # history
        await start.wait()
        await asyncio.sleep(delay)
        return await ask(ws, expected, live)


async def ramp_customer(base: str, expected: str, delay: float, live: Live) -> dict:
    """Ramp: arrive after `delay` seconds (open the conversation, connect, ask), then stay connected, a live
    conversation, until every customer has their reply. The result has "connect": arrival to the history
    received (the conversation created, the socket opened, again after a failed handshake)."""
    counted = False
    try:
        await asyncio.sleep(delay)
        arrived = time.perf_counter()
        token = await conversation_create(base)
        async with await connect_as_widget(base, token) as ws:
            live.opened(+1)
            try:
                json.loads(await ws.recv())  # history
                connected = (time.perf_counter() - arrived) * 1000
                result = {**await ask(ws, expected, live), "connect": connected}
                live.finish()
                counted = True
                await live.everyone_done.wait()
                return result
            finally:
                live.opened(-1)
    finally:
        if not counted:
            live.finish()  # failed before its reply: the others must not wait for it


def _failed(results: list) -> list[dict]:
    failed = {"first": None, "total": None, "ok": False}
    return [r if isinstance(r, dict) else {**failed, "error": repr(r)} for r in results]


async def customers_round(base: str, n: int, expected: str, spread: float = 0.0) -> list[dict]:
    """N customers connect, then ask: all at the same moment, or at random moments within `spread` seconds."""
    start = asyncio.Event()
    live = Live(n)
    delays = [random.uniform(0, spread) for _ in range(n)] if spread else [0.0] * n
    tasks = [asyncio.create_task(customer(base, expected, start, delay, live)) for delay in delays]
    await asyncio.sleep(0.5 + n * 0.03)  # everyone connected
    start.set()
    return _failed(await asyncio.gather(*tasks, return_exceptions=True))


@dataclass
class RampOutcome:
    results: list[dict]
    direct: list[float]
    relay: list[float]
    live: Live


async def ramp_round(bench: Bench, n: int) -> RampOutcome:
    """N customers arriving evenly over --ramp-s seconds, with the floor and the relay probed meanwhile."""
    ramp_s = bench.args.ramp_s
    # Each arrival's POST runs on a thread: enough of them that arrivals never queue for one.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=64))
    live = Live(n)
    tasks = [asyncio.create_task(ramp_customer(bench.base, bench.expected, i * ramp_s / n, live)) for i in range(n)]
    probes = asyncio.create_task(floor_probes(bench.ollama_url, None if bench.args.skip_relay else bench.relay_url,
                                              bench.model, ramp_s))
    results = _failed(await asyncio.gather(*tasks, return_exceptions=True))
    direct, relay = await probes
    return RampOutcome(results, direct, relay, live)


async def first_token_alone(base: str) -> float:
    """One customer alone: the time to the first token of their reply, then stopped (the worker is free again)."""
    token = await conversation_create(base)
    async with websockets.connect(chat_url(base, token), open_timeout=30) as ws:
        json.loads(await ws.recv())  # history
        sent = time.perf_counter()
        await ws.send(MESSAGE)
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if frame["type"] == "delta":
                first = (time.perf_counter() - sent) * 1000
                await ws.send(json.dumps({"type": "stop"}))
                break
            if frame["type"] == "error" and frame.get("code") == "busy":
                await asyncio.sleep(frame.get("retry_after", 1))
                await ws.send(MESSAGE)
            if frame["type"] == "done" or (frame["type"] == "message" and frame["message"]["role"] == "bot"):
                raise RuntimeError("answered without generating: not measured")
        while frame["type"] != "done":  # the stopped reply is stored before the next customer comes
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
    return first


def cold_start_overheads(ollama_url: str, base: str, model: str, customers: int = 10) -> list[float]:
    """The first customers after a start, one at a time: each one's first-token overhead over a direct request
    made just before it (the fake's own time to first token varies with the machine's load)."""
    overheads = []
    for _ in range(customers):
        [direct_ms] = asyncio.run(direct_first_tokens(ollama_url, 1, model))
        overheads.append(asyncio.run(first_token_alone(base)) - direct_ms)
    return overheads


def cold_start_ratio(overheads: list[float]) -> float:
    """The first customer's overhead against the median of the others' in the same start (at least 1 ms)."""
    return overheads[0] / max(statistics.median(overheads[1:]), 1.0)


def report_cold_start(start: int, starts: int, overheads: list[float]) -> None:
    """One start: the first customer must not wait for caches being built."""
    print(f"  cold start {start} of {starts}, first-token overhead: first customer {overheads[0]:7.1f} ms, "
          f"customers 2-{len(overheads)} p50 {statistics.median(overheads[1:]):7.1f} ms "
          f"({cold_start_ratio(overheads):.1f}x)")


def report_cold_starts(runs: list[list[float]]) -> None:
    """Every start together: the median ratio is the verdict, the single ratios show the noise."""
    ratios = [cold_start_ratio(overheads) for overheads in runs]
    ratio = statistics.median(ratios)
    firsts = [overheads[0] for overheads in runs]
    others = [overhead for overheads in runs for overhead in overheads[1:]]
    print(f"  cold starts, all {len(runs)}                : first customer p50 {statistics.median(firsts):7.1f} ms, "
          f"customers 2-{len(runs[0])} p50 {statistics.median(others):7.1f} ms; median ratio {ratio:.1f}x "
          f"({'within' if ratio <= 2 else 'NOT within'} 2x; per start {', '.join(f'{r:.1f}x' for r in ratios)})")


# --- the stack -----------------------------------------------------------------------------------


def start_fake_ollama(*options: str) -> tuple[subprocess.Popen, str]:
    """The test suite's fake Ollama in its own process, answering; returns it and its address."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_ollama", "--port", str(port), *options], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/api/version")
    return process, url


def production_secrets() -> dict[str, str]:
    """The secrets a production-mode serve refuses to start without (SECRET_KEY, the encryption and lookup keys):
    this environment's, else new ones for the run."""
    from cryptography.fernet import Fernet

    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS") or Fernet.generate_key().decode(),
        "LOOKUP_HASH_KEY": os.environ.get("LOOKUP_HASH_KEY") or secrets.token_urlsafe(32),
    }


def start_serve(env: dict) -> tuple[subprocess.Popen, str]:
    """`manage.py serve` with `env` (its output appended to bench/serve.log), answering; returns it and its address."""
    port = free_port()
    log = open(ROOT / "bench" / "serve.log", "a")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/livez")
    return process, base


def start_stack(
    n: int, concurrency: int, ollama_url: str, database_url: str, redis_url: str, *, announce: bool = True
) -> tuple[list[subprocess.Popen], str]:
    """`manage.py serve` in production mode, its generation worker sized for `concurrency` concurrent replies, or
    as many as PostgreSQL's connections allow (DATABASE_BUDGET=fit: serve sizes it down and says so). `announce`
    prints the N and the sizing (once per N, not again for each cold start)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OLLAMA_HOSTS": ollama_url,
        "CELERY_GENERATION_CONCURRENCY": str(concurrency),
        "CHAT_RATE_LIMIT": "1000",
        "RATE_LIMITS_ENABLED": "false",  # every simulated customer comes from 127.0.0.1
        # Every customer asks the same question: the answer cache would answer all but the first at once,
        # and this benchmark measures generated replies (bench/retrieval.py measures cache hits).
        "ANSWER_CACHE_ENABLED": "false",
        "DATABASE_BUDGET": "fit",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        **production_secrets(),
    }
    log_start = (ROOT / "bench" / "serve.log").stat().st_size
    process, base = start_serve(env)
    budget = next((line.strip() for line in (ROOT / "bench" / "serve.log").read_text()[log_start:].splitlines()
                   if line.startswith("Database connections")), "")
    pool = env.get("CELERY_GENERATION_POOL", "threads")
    # With threads, the budget sizes the worker's pool of connections, not the replies it streams at once.
    fitted = int(re.search(r"generation (\d+)", budget).group(1)) if "generation" in budget and pool == "prefork" \
        else concurrency
    _wait_for_workers(env, fitted)
    wait_http(base + "/healthz")  # Daphne warm, and its connection budget fits
    _wait_for_warm_workers(log_start, process.pid)  # and every worker process
    if announce:
        print(f"\nN = {n}   (generation concurrency {fitted}: CELERY_GENERATION_CONCURRENCY, {pool} pool)\n  {budget}")
    return [process], base


def stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def generation_concurrency(n: int, arrivals: tuple[str, ...], args: argparse.Namespace) -> int:
    """How many replies the generation worker is sized to run at once for N customers: N, or for a ramp the
    replies expected to overlap (arrivals per second x one reply's length) with a quarter more for the noise;
    --concurrency decides instead where given."""
    if args.concurrency:
        return args.concurrency
    needed = [n if mode != "ramp" else min(n, math.ceil(1.25 * n * reply_seconds(args) / args.ramp_s))
              for mode in arrivals]
    return max(needed)


def reply_seconds(args: argparse.Namespace) -> float:
    return args.ttft + args.tokens * args.per_token


# --- what a run measured, and the reports -------------------------------------------------------------


@dataclass
class Bench:
    """One stack under test and what its rounds need: the arguments, the addresses, what stackwatch watches."""

    args: argparse.Namespace
    base: str
    stack: stackwatch.Stack
    ollama_url: str
    relay_url: str
    model: str

    @property
    def expected(self) -> str:
        return " ".join(reply_words(self.args.tokens))


@dataclass
class Measured:
    """One arrivals mode at one N (one run of a ramp): what the final targets are judged on."""

    n: int
    arrivals: str
    label: str
    overhead: tuple[float, float] | None  # p50, p95 ms
    complete: int
    customers: int
    cpu_ms: tuple[float, float] | None  # the stack's processor time per streamed reply: as measured, less idle
    peak_streams: int
    process_peak: tuple[int, str]
    generation_rss_before: int
    generation_rss_at_peak: int
    end_memory: stackwatch.Memory
    slopes: dict[str, float] = field(default_factory=dict)


def overheads(direct: list[float], results: list[dict]) -> tuple[float, float] | None:
    """The customers' first token over the direct client's, at the median and at p95."""
    seen = [r["first"] for r in results if r.get("first") is not None]
    if not seen or not direct:
        return None
    return (statistics.median(seen) - statistics.median(direct), percentile(seen, 95) - percentile(direct, 95))


def complete_and_correct(results: list[dict]) -> int:
    """Replies whose final text is the expected one, complete, with every delta in order."""
    return sum(bool(r["ok"] and r.get("deltas_ok")) for r in results)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(n: int, direct: list[float], results: list[dict], relay: list[float], arrivals: str) -> None:
    seen = [r["first"] for r in results if r.get("first") is not None]
    totals = [r["total"] for r in results if r.get("total") is not None]
    complete = complete_and_correct(results)
    lost = sum(not r["ok"] for r in results)
    broken_deltas = sum(not r.get("deltas_ok", False) for r in results)
    restarted = sum(r.get("restarts", 0) > 0 for r in results)
    print(f"  direct ollama client, first token : {summary(direct)}")
    print(f"  customer, first token             : {summary(seen)}")
    if overhead := overheads(direct, results):
        target = OVERHEAD_TARGETS.get((n, arrivals))
        judged = ""
        if target:
            measured = overhead[0] if target[0] == "p50" else overhead[1]
            judged = f"   target {target[0]} <= {target[1]:.0f} ms: {verdict(measured <= target[1])}"
        print(f"  overhead (customer - direct)      : p50 {overhead[0]:7.1f} ms  p95 {overhead[1]:7.1f} ms{judged}")
    print(f"  customer, echo of own message     : {summary([r['echo'] for r in results if r.get('echo')])}")
    print(f"  customer, reply task started      : {summary([r['typing'] for r in results if r.get('typing')])}")
    print(f"  customer, whole reply             : {summary(totals)}")
    if frames := [r["frames"] for r in results if r.get("frames")]:
        print(f"  delta frames per reply            : p50 {statistics.median(frames):7.0f}      "
              f"(DELTA_COALESCE_MS {os.environ.get('DELTA_COALESCE_MS', 'default')})")
    if relay:
        print(f"  blocking relay, first visible text: {summary(relay)}")
    if seen and relay:
        print(f"  first visible text, relay/stream  : {statistics.median(relay) / statistics.median(seen):.1f}x")
    print(f"  replies complete and correct      : {complete} of {len(results)}   (lost or wrong final replies: "
          f"{lost}; delta streams missing a piece: {broken_deltas}; replies started over: {restarted})")
    if any("connect" in r for r in results):
        print(f"  customer, arrival to connected    : {summary([r['connect'] for r in results if 'connect' in r])}"
              "   (conversation created, socket open, history received)")
    print(f"  websocket handshakes failed       : {len(handshake_failures)}"
          + (f" ({', '.join(sorted(set(handshake_failures)))}; connected again as the widget does)"
             if handshake_failures else ""))
    server_errors = [status for status in http_statuses if status >= 500]
    print(f"  HTTP 5xx answers (conversations)  : {len(server_errors)} of {len(http_statuses)} requests "
          f"(500: {server_errors.count(500)}, 503 then retried: {server_errors.count(503)}); busy frames: "
          f"{sum(r.get('busy', 0) for r in results)}")
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        print(f"  errors ({len(errors)}): {errors[:3]}")


def per_message_slopes(rounds: list[list[dict]]) -> dict[str, float]:
    """In a burst, how much later each further customer sees their echo, the reply start and the first token:
    the least-squares slope of the sorted times over the customers' order (ms per message ahead), the median
    over the rounds of at least ten customers."""
    slopes: dict[str, list[float]] = {}
    for results in rounds:
        for key in ("echo", "typing", "first"):
            times = sorted(r[key] for r in results if r.get(key) is not None)
            if len(times) >= 10:
                slopes.setdefault(key, []).append(statistics.linear_regression(range(len(times)), times).slope)
    return {key: statistics.median(values) for key, values in slopes.items()}


def report_slopes(slopes: dict[str, float]) -> None:
    if slopes:
        names = {"echo": "echo", "typing": "reply task started", "first": "first token"}
        print("  per message ahead in the burst    : " + ", ".join(
            f"{names[key]} +{value:.1f} ms" for key, value in slopes.items()
        ) + "   (the slope over the customers' order: the tail is about this x the messages ahead)")


def report_usage(watch: stackwatch.Watch, replies: int, idle: dict[str, float], before: stackwatch.Memory,
                 after: stackwatch.Memory) -> None:
    """Processor time per reply by part, the streams, the memory of every kind of process, memory per stream."""
    for line in stackwatch.cpu_lines(watch, replies, idle, TARGET_CPU_MS):
        print(line)
    print(stackwatch.streams_line(watch))
    for line in stackwatch.memory_lines(before, watch.peak, after):
        print(line)
    if watch.peak.streams:
        grown = watch.peak.memory.total(part=stackwatch.GENERATION) - before.total(part=stackwatch.GENERATION)
        print(f"  generation workers' RSS per concurrent stream, this stack: {grown / watch.peak.streams / 2**20:+.2f} "
              f"MB (the peak's over the RSS before the round; a process started for the stream before is not in it)")
    if note := stackwatch.sampling_note(watch):
        print(note)


def measured_of(n: int, arrivals: str, label: str, direct: list[float], results: list[dict],
                watch: stackwatch.Watch, idle: dict[str, float], before: stackwatch.Memory,
                after: stackwatch.Memory) -> Measured:
    return Measured(
        n=n, arrivals=arrivals, label=label, overhead=overheads(direct, results),
        complete=complete_and_correct(results), customers=len(results),
        cpu_ms=stackwatch.stack_per_reply_ms(watch, len(results), idle) if watch.cpu and results else None,
        peak_streams=watch.peak.streams, process_peak=watch.process_peak,
        generation_rss_before=before.total(part=stackwatch.GENERATION),
        generation_rss_at_peak=watch.peak.memory.total(part=stackwatch.GENERATION), end_memory=after,
    )


def settled_memory(bench: Bench) -> stackwatch.Memory:
    """Every process's memory once the round's last writes and frees are done."""
    time.sleep(2)
    return stackwatch.memory_now(bench.stack)


# --- the rounds -------------------------------------------------------------------------------------


def measure_rounds(bench: Bench, n: int, arrivals: str, idle: dict[str, float]) -> Measured:
    """Burst or spread: enough rounds of N customers for --samples, each after N direct requests (the floor),
    the stack's processor time measured during the customers' rounds only."""
    args = bench.args
    spread = reply_seconds(args) if arrivals == "spread" else 0.0
    direct: list[float] = []
    rounds: list[list[dict]] = []
    http_statuses.clear()
    handshake_failures.clear()
    watch = stackwatch.Watch(bench.stack, args.sample_s)
    before = stackwatch.memory_now(bench.stack)
    for _ in range(max(1, -(-args.samples // n))):
        direct += asyncio.run(direct_first_tokens(bench.ollama_url, n, bench.model))
        with watch.measuring():
            rounds.append(asyncio.run(customers_round(bench.base, n, bench.expected, spread)))
    after = settled_memory(bench)
    results = [r for found in rounds for r in found]
    print(f"  {arrivals}: " + ("everyone asks at the same moment" if not spread else
          f"each asks at a random moment within {spread:.1f} s (one reply's length)"))
    relay = [] if args.skip_relay else asyncio.run(relay_first_text(bench.relay_url, n))
    report(n, direct, results, relay, arrivals)
    measured = measured_of(n, arrivals, arrivals, direct, results, watch, idle, before, after)
    if arrivals == "burst":
        measured.slopes = per_message_slopes(rounds)
        report_slopes(measured.slopes)
    report_usage(watch, len(results), idle, before, after)
    return measured


def measure_ramp(bench: Bench, n: int, idle: dict[str, float]) -> list[Measured]:
    """The ramp, --ramp-runs times in the same stack; then each kind of process's memory at the end of the last
    run against the first's."""
    args = bench.args
    runs: list[Measured] = []
    for run in range(1, args.ramp_runs + 1):
        http_statuses.clear()
        handshake_failures.clear()
        watch = stackwatch.Watch(bench.stack, args.sample_s)
        before = stackwatch.memory_now(bench.stack)
        started = time.perf_counter()
        with watch.measuring():
            outcome = asyncio.run(ramp_round(bench, n))
        after = settled_memory(bench)
        print(f"  ramp, run {run} of {args.ramp_runs}: {n} customers arriving evenly over {args.ramp_s:.0f} s, each "
              f"connected until every reply was done ({time.perf_counter() - started:.0f} s in all)")
        print(f"  live conversations at once        : {outcome.live.most_open} (sockets open); replies in flight at "
              f"once, as customers saw them: {outcome.live.most_in_flight}")
        report(n, outcome.direct, outcome.results, outcome.relay, "ramp")
        runs.append(measured_of(n, "ramp", f"ramp run {run}", outcome.direct, outcome.results, watch, idle, before,
                                after))
        report_usage(watch, len(outcome.results), idle, before, after)
    if len(runs) > 1:
        report_growth(runs[0].end_memory, runs[-1].end_memory)
    return runs


def stack_growth(first: stackwatch.Memory, last: stackwatch.Memory) -> tuple[float, float]:
    """MB the platform's own processes grew between two ends (PSS: shared pages counted once, so neither a
    forked pool nor PostgreSQL's shared buffers touched by more backends reads as growth), and the most that still
    counts as flat. Redis is left out: the whole server, shared."""
    roles = tuple(role for role in first.rss if role != "Redis server")
    before = first.total(roles=roles, pss=True)
    return (last.total(roles=roles, pss=True) - before) / 2**20, max(FLAT_GROWTH_MB,
                                                                      FLAT_GROWTH_SHARE * before / 2**20)


def report_growth(first: stackwatch.Memory, last: stackwatch.Memory) -> None:
    print("  memory after the last run against after the first (every process of each kind):")
    for line in stackwatch.growth_lines(first, last):
        print(line)
    grown, allowed = stack_growth(first, last)
    print(f"  stack without Redis, PSS: {grown:+.1f} MB; flat within {allowed:.0f} MB: {verdict(grown <= allowed)}")


def measure_stack(bench: Bench, n: int, arrivals: tuple[str, ...], warm_up: int) -> list[Measured]:
    """A warm-up round (every worker process has run a reply), the idle stack's processor time, then each
    arrivals mode in turn."""
    asyncio.run(customers_round(bench.base, warm_up, bench.expected))
    time.sleep(2)  # the warm-up's last writes
    idle = stackwatch.idle_rates(bench.stack, bench.args.idle_s, bench.args.sample_s)
    print(f"  idle stack, {bench.args.idle_s:.0f} s with no customer, share of one core: " + "; ".join(
        f"{part} {idle.get(part, 0.0) * 100:.1f}%" for part in stackwatch.STACK_PARTS))
    measured: list[Measured] = []
    for mode in arrivals:
        measured += measure_ramp(bench, n, idle) if mode == "ramp" else [measure_rounds(bench, n, mode, idle)]
    return measured


# --- the targets, all together ----------------------------------------------------------------------


def target_line(label: str, value: str, met: bool | None = None) -> None:
    print(f"  {label:<62}: {value}" + ("" if met is None else f"   {verdict(met)}"))


def report_targets(measured: list[Measured]) -> None:
    """Issue 18's targets: each with what this run measured, met or missed (or not measured in this run)."""
    print("\nIssue 18's targets, as measured in this run:")
    for m in measured:
        if m.cpu_ms is not None:
            target_line(f"processor time per streamed reply <= {TARGET_CPU_MS:.0f} ms, N = {m.n} {m.label}",
                        f"{m.cpu_ms[1]:7.1f} ms less idle ({m.cpu_ms[0]:.1f} ms as measured)",
                        m.cpu_ms[1] <= TARGET_CPU_MS)
    busiest = max(measured, key=lambda m: m.process_peak[0], default=None)
    if busiest and busiest.process_peak[0]:
        most, role = busiest.process_peak
        target_line(f"one worker process carries >= {TARGET_STREAMS_PER_PROCESS} concurrent streams",
                    f"{most:7d} at most in one ({role}, N = {busiest.n} {busiest.label})",
                    most >= TARGET_STREAMS_PER_PROCESS)
    report_memory_per_stream(measured)
    for (n, arrivals), (which, limit) in OVERHEAD_TARGETS.items():
        label = f"first-token overhead, N = {n} {arrivals} {which} <= {limit:.0f} ms"
        found = [m for m in measured if m.n == n and m.arrivals == arrivals and m.overhead]
        if found:
            value = found[0].overhead[0 if which == "p50" else 1]
            target_line(label, f"{value:7.1f} ms", value <= limit)
        elif n != 1 or arrivals == "burst":
            target_line(label, "not measured in this run")
    for m in measured:
        if m.slopes:
            target_line(f"per-message cost, N = {m.n} burst, per message ahead",
                        f"first token +{m.slopes.get('first', 0):.1f} ms, reply start +{m.slopes.get('typing', 0):.1f}"
                        f" ms, echo +{m.slopes.get('echo', 0):.1f} ms")
    report_ramp_targets([m for m in measured if m.arrivals == "ramp"])


def report_memory_per_stream(measured: list[Measured]) -> None:
    """The generation workers' RSS per additional concurrent stream, between the measurement with the fewest
    streams at its peak and the one with the most (N = 1 and N = 100, say: each stack with the processes its
    streams need). Judged only between two stacks: within one, the processes started before the round (a prefork
    pool's) are not seen as the streams' cost."""
    peaked = [m for m in measured if m.peak_streams]
    if not peaked:
        return
    low, high = min(peaked, key=lambda m: m.peak_streams), max(peaked, key=lambda m: m.peak_streams)
    label = f"memory per additional stream <= {TARGET_MB_PER_STREAM:.0f} MB (generation workers' RSS)"
    if high.n == low.n or high.peak_streams == low.peak_streams:
        within = (high.generation_rss_at_peak - high.generation_rss_before) / high.peak_streams / 2**20
        target_line(label, f"not judged: one stack only (within it, before the round -> the peak: {within:+.2f} MB "
                    "per stream); run N = 1 and N = 100 together")
        return
    per_stream = (high.generation_rss_at_peak - low.generation_rss_at_peak) / (high.peak_streams - low.peak_streams)
    mb = per_stream / 2**20
    target_line(label, f"{mb:7.2f} MB ({low.generation_rss_at_peak / 2**20:.0f} MB at {low.peak_streams} stream(s), "
                f"N = {low.n} {low.label} -> {high.generation_rss_at_peak / 2**20:.0f} MB at {high.peak_streams}, "
                f"N = {high.n} {high.label})", mb <= TARGET_MB_PER_STREAM)


def report_ramp_targets(ramps: list[Measured]) -> None:
    if not ramps:
        target_line("N = 1000 ramp, every reply complete and correct", "not measured in this run")
        return
    n = ramps[0].n
    complete, customers = sum(m.complete for m in ramps), sum(m.customers for m in ramps)
    note = "" if n >= 1000 else " (the target is at N = 1000)"
    target_line(f"ramp N = {n}, every reply complete and correct, none lost{note}", f"{complete} of {customers}",
                complete == customers)
    if len(ramps) > 1:
        grown, allowed = stack_growth(ramps[0].end_memory, ramps[-1].end_memory)
        target_line(f"memory flat after the run (run {len(ramps)} against run 1, PSS)",
                    f"{grown:+7.1f} MB (flat within {allowed:.0f} MB)", grown <= allowed)


# --- the command line and the run -------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", help="customers per round (default: the plan, see above; with "
                        "--arrivals alone: 1 10 100)")
    parser.add_argument("--ttft", type=float, default=0.2)
    parser.add_argument("--per-token", type=float, default=0.02)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument(
        "--samples", type=int, default=20, help="at least this many customers measured per N (in rounds of N)"
    )
    parser.add_argument("--skip-relay", action="store_true", help="leave out the blocking-relay comparison")
    parser.add_argument("--skip-cold", action="store_true", help="leave out the first ten customers after a start")
    parser.add_argument(
        "--cold-starts", type=int, default=3, metavar="K",
        help="starts of the stack, at the first N, whose first ten customers are measured (stopped and started "
             "anew each time; the last one serves the rounds)",
    )
    parser.add_argument(
        "--arrivals", nargs="+", choices=["burst", "spread", "ramp"],
        help="burst: the N customers ask at the same moment; spread: at random moments within one reply's length, "
             "so that up to N replies stream at once without everyone's message arriving in the same millisecond; "
             "ramp: N customers arriving evenly over --ramp-s seconds, each staying connected until all are "
             "answered (default: the plan, see above; with --n alone: burst)",
    )
    parser.add_argument("--ramp-s", type=float, default=60.0, help="a ramp's length in seconds (default 60)")
    parser.add_argument("--ramp-runs", type=int, default=2,
                        help="ramps run one after the other in the same stack, memory compared (default 2)")
    parser.add_argument("--concurrency", type=int, default=0,
                        help="CELERY_GENERATION_CONCURRENCY (default: N, or for a ramp the replies expected at once)")
    parser.add_argument("--sample-s", type=float, default=2.0,
                        help="how often /proc is sampled for streams and memory (default 2 s)")
    parser.add_argument("--idle-s", type=float, default=10.0,
                        help="seconds the idle stack's processor time is measured, before the rounds (default 10)")
    args = parser.parse_args()
    if args.cold_starts < 1:
        parser.error("--cold-starts must be at least 1")
    if args.ramp_runs < 1:
        parser.error("--ramp-runs must be at least 1")
    return args


def plan(args: argparse.Namespace) -> list[tuple[int, tuple[str, ...]]]:
    """Which N with which arrivals: the default plan (every target) unless --n or --arrivals chose."""
    if args.n is None and args.arrivals is None:
        return [(n, arrivals) for n, arrivals in DEFAULT_PLAN]
    return [(n, tuple(args.arrivals or ["burst"])) for n in (args.n or [1, 10, 100])]


def started_cold(
    args: argparse.Namespace, n: int, concurrency: int, ollama_url: str, model: str, database_url: str,
    redis_url: str, *, cold: bool,
) -> tuple[list[subprocess.Popen], str]:
    """The stack for N, started `--cold-starts` times when `cold` (each time its first ten customers measured,
    then stopped, as start_stack and stop do for every N); the last start is left running for the rounds."""
    runs: list[list[float]] = []
    for start in range(1, args.cold_starts + 1):
        stack, base = start_stack(n, concurrency, ollama_url, database_url, redis_url, announce=start == 1)
        if args.skip_cold or not cold:
            return stack, base
        try:
            runs.append(cold_start_overheads(ollama_url, base, model))
        except BaseException:
            stop(stack)
            raise
        report_cold_start(start, args.cold_starts, runs[-1])
        if start < args.cold_starts:
            stop(stack)
    report_cold_starts(runs)
    return stack, base


def main() -> None:
    args = arguments()
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    database = urllib.parse.urlsplit(database_url).path.lstrip("/")
    model = "deepseek-r1:7b"
    _ensure_database(database_url)
    _empty_redis(redis_url)
    (ROOT / "bench" / "serve.log").write_text("")
    fake, ollama_url = start_fake_ollama(
        "--ttft", str(args.ttft), "--per-token", str(args.per_token), "--thinking", "",
        "--content", " ".join(reply_words(args.tokens)) + "[1]",
    )
    measured: list[Measured] = []
    began = time.perf_counter()
    try:
        relay_url = start_blocking_relay(ollama_url, model)
        steps = plan(args)
        print(f"fake Ollama: {args.ttft * 1000:.0f} ms to first token, {args.per_token * 1000:.0f} ms per token, "
              f"{args.tokens}-token replies; {os.cpu_count()} CPUs shared by everything; "
              f"at least {args.samples} customers measured per N, after a warm-up round; database {database}, "
              f"Redis {redis_url}\nplan: " + "; ".join(f"N = {n} {', '.join(modes)}" for n, modes in steps))
        for index, (n, arrivals) in enumerate(steps):
            concurrency = generation_concurrency(n, arrivals, args)
            stack, base = started_cold(args, n, concurrency, ollama_url, model, database_url, redis_url,
                                       cold=index == 0)
            try:
                watched = stackwatch.Stack(stack[0].pid, fake.pid, database, ollama_url,
                                           urllib.parse.urlsplit(redis_url).port or 6379)
                bench = Bench(args, base, watched, ollama_url, relay_url, model)
                measured += measure_stack(bench, n, arrivals, warm_up=min(n, concurrency))
            finally:
                stop(stack)
        report_targets(measured)
        print(f"\n({time.perf_counter() - began:.0f} s in all)")
    finally:
        stop([fake])


def _ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def _empty_redis(redis_url: str) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    if stale := connection.dbsize():
        print(f"emptying {redis_url} ({stale} keys): an interrupted run's unacknowledged tasks would come back")
        connection.flushdb()


def _wait_for_workers(env: dict, concurrency: int) -> None:
    """Until the generation worker answers a ping (its pool of `concurrency` processes is up)."""
    check = (
        "from helpdesk.celery import app; import sys, time\n"
        "deadline = time.time() + 180\n"
        "while time.time() < deadline:\n"
        "    replies = app.control.ping(timeout=1)\n"
        "    if any(any(k.startswith('generation') for k in r) for r in replies): sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, check=True)


def _wait_for_warm_workers(log_start: int, serve_pid: int, timeout: float = 180) -> None:
    """Until every worker process has said it warmed up (helpdesk.runtime.warmup logs it): the start is over.

    How many will: one per Celery pool process in serve's tree (a prefork pool's), else one per worker main
    process; a design that warms elsewhere is waited for until the count has not moved for five seconds."""
    if os.environ.get("WARM_UP", "").lower() in {"0", "false", "no", "off"}:
        time.sleep(2)  # to compare with a start that does not warm up: nothing to wait for
        return
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = (ROOT / "bench" / "serve.log").read_text()[log_start:].count(" warmed up in ")
        if now != count:
            count, since = now, time.monotonic()
        if count >= _warming_processes(serve_pid) or (count and time.monotonic() - since > 5):
            break
        time.sleep(0.2)
    time.sleep(1)


def _warming_processes(serve_pid: int) -> int:
    """The Celery worker processes expected to warm up: each pool process, and each main process without one."""
    table = process_table()
    workers = {pid: role for pid, (part, role) in stackwatch.tree_roles(table, serve_pid).items()
               if part in (stackwatch.GENERATION, stackwatch.OTHER_WORKERS)}
    pools = [pid for pid, role in workers.items() if role.endswith("pool process")]
    with_pools = {table[pid].parent for pid in pools}
    return len(pools) + sum(role.endswith("main process") and pid not in with_pools for pid, role in workers.items())


if __name__ == "__main__":
    main()
