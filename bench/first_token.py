#!/usr/bin/env python
# ~600 lines on purpose: one script run as a file, whose stack helpers bench/handoff.py and bench/retrieval.py import.
"""Time to first token as customers see it, in production mode, against a paced fake Ollama.

Starts the fake Ollama (its own process), then `manage.py serve` with
PostgreSQL, Redis, Daphne and a prefork Celery worker, and for each N opens N
websocket customers that ask at the same moment (`--arrivals spread`: at random
moments within one reply's length). It prints, per N:

- the fake's own time to first token, measured with a direct `ollama` client
  in the same run (the floor nobody can beat),
- the time to first token the customers saw, and the difference (overhead),
- total reply time, and replies lost or wrong (final text not the expected one),
- a blocking relay in the style of the seed article (POST, wait for the whole
  answer, return it) on the same fake, and the ratio of first visible text.
- the processor time each part of the stack used while the customers were
  served (Linux): what a machine needs per streamed reply,
- a cold start, repeated over `--cold-starts` starts of the stack (default 3): per start, the first-token
  overhead of the first customer after it against the median of customers 2-10 (each alone), and the median
  of those ratios over the starts, the one judged against 2x (one start's ratio is at the mercy of noise);
- the HTTP 5xx answers the customers got (a 503 is tried again after its Retry-After, as the widget does;
  a 500 never should be).

serve runs with DATABASE_BUDGET=fit: at N beyond what PostgreSQL's connections allow (100 by default),
it starts as many generation workers as fit and says so; the rest of the customers wait in the queue.

    .venv/bin/python bench/first_token.py            # N = 1, 10, 100
    .venv/bin/python bench/first_token.py --n 1 10   # fewer
    .venv/bin/python bench/first_token.py --n 100 --arrivals burst spread
    .venv/bin/python bench/first_token.py --n 1 --cold-starts 5 --skip-relay
Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaults: local ones), each
a database of its own: the benchmark empties the Redis database before it starts,
so that tasks left by an earlier, interrupted run (re-delivered an hour later,
Celery's visibility timeout) do not take the workers' time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ollama  # noqa: E402 - after the path is set
import websockets  # noqa: E402

from tests.processes import process_table  # noqa: E402


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
    client = ollama.AsyncClient(host=ollama_url, timeout=60)

    async def one() -> float:
        started = time.perf_counter()
        stream = await client.chat(
            model=model, messages=[{"role": "user", "content": "hi"}], stream=True, think=False
        )
        first = None
        async for chunk in stream:
            if first is None and chunk.message.content:
                first = (time.perf_counter() - started) * 1000
        return first or 0.0

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


async def relay_first_text(relay_url: str, n: int) -> list[float]:
    def one() -> float:
        started = time.perf_counter()
        request = urllib.request.Request(
            relay_url, data=json.dumps({"prompt": "hi"}).encode(), headers={"Content-Type": "application/json"}
        )
        json.load(urllib.request.urlopen(request, timeout=120))
        return (time.perf_counter() - started) * 1000

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=n) as pool:  # every request at once, as N browsers would
        return await asyncio.gather(*(loop.run_in_executor(pool, one) for _ in range(n)))


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


async def customer(base: str, expected: str, start: asyncio.Event, delay: float = 0.0) -> dict:
    token = await conversation_create(base)
    ws_url = base.replace("http", "ws") + f"/ws/chat/{token}/"
    async with websockets.connect(ws_url, max_size=None, open_timeout=30) as ws:
        json.loads(await ws.recv())  # history
        await start.wait()
        await asyncio.sleep(delay)
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
                frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            except TimeoutError:
                raise TimeoutError(f"conversation {token[:8]}…: silence after {seen[-6:]}") from None
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
                total = (time.perf_counter() - sent) * 1000
                final = frame["message"]["content"]
                return {
                    "first": first,
                    "echo": echo,
                    "typing": typing,
                    "total": total,
                    "ok": final == expected and frame["message"]["status"] == "complete",
                    "deltas_ok": "".join(pieces) == final and not skips,
                    "restarts": restarts,
                    "frames": len(pieces),
                    "busy": busy,
                }


async def customers_round(base: str, n: int, expected: str, spread: float = 0.0) -> list[dict]:
    """N customers connect, then ask: all at the same moment, or at random moments within `spread` seconds."""
    start = asyncio.Event()
    delays = [random.uniform(0, spread) for _ in range(n)] if spread else [0.0] * n
    tasks = [asyncio.create_task(customer(base, expected, start, delay)) for delay in delays]
    await asyncio.sleep(0.5 + n * 0.03)  # everyone connected
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = {"first": None, "total": None, "ok": False}
    return [r if isinstance(r, dict) else {**failed, "error": repr(r)} for r in results]


async def first_token_alone(base: str) -> float:
    """One customer alone: the time to the first token of their reply, then stopped (the worker is free again)."""
    token = await conversation_create(base)
    async with websockets.connect(base.replace("http", "ws") + f"/ws/chat/{token}/", open_timeout=30) as ws:
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


# --- where the processor time goes ---------------------------------------------------------


def cpu_by_part(serve_pid: int, fake_pid: int) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack (Linux only: empty where /proc is missing)."""
    processes = process_table()
    children: dict[int, list[int]] = {}
    for info in processes.values():
        children.setdefault(info.parent, []).append(info.pid)
    parts: dict[str, float] = {}
    stack, seen = [serve_pid], set()
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in processes:
            continue
        seen.add(pid)
        stack += children.get(pid, [])
        command = processes[pid].command
        web = "daphne" in command or "helpdesk.webserver" in command
        part = ("web (Daphne)" if web else "generation workers" if "generation@" in command
                else "other workers, beat, serve")
        parts[part] = parts.get(part, 0.0) + processes[pid].cpu_seconds
    for pid, info in processes.items():
        program = os.path.basename(info.command.split(" ", 1)[0])  # the server, or a backend's "postgres:" title
        part = ("fake Ollama" if pid == fake_pid else "PostgreSQL" if program.startswith("postgres")
                else "Redis" if program.startswith("redis-server") else "benchmark clients" if pid == os.getpid()
                else None)
        if part and pid not in seen:
            parts[part] = parts.get(part, 0.0) + info.cpu_seconds
    return parts


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
    n: int, ollama_url: str, database_url: str, redis_url: str, *, announce: bool = True
) -> tuple[list[subprocess.Popen], str]:
    """`manage.py serve` in production mode, with a generation worker sized for N concurrent replies, or as many
    as PostgreSQL's connections allow (DATABASE_BUDGET=fit: serve sizes it down and says so). `announce` prints
    the N and the sizing (once per N, not again for each cold start)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OLLAMA_HOSTS": ollama_url,
        "CELERY_GENERATION_CONCURRENCY": str(n),
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
    concurrency = int(re.search(r"generation (\d+)", budget).group(1)) if "generation" in budget else n
    _wait_for_workers(env, concurrency)
    wait_http(base + "/healthz")  # Daphne warm, and its connection budget fits
    _wait_for_warm_workers(log_start, concurrency + 1)  # and every pool process (generation, logging)
    if announce:
        print(f"\nN = {n}   (Celery prefork concurrency {concurrency})\n  {budget}")
    return [process], base


def stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def report_cpu(used: dict[str, float], seconds: float, replies: int) -> None:
    """Each part's processor time during the customers' rounds: share of one core, and per reply."""
    if not used or not seconds:
        return
    print(f"  processor time, customers' rounds : {sum(used.values()) / seconds * 100:4.0f}% of one core "
          f"({os.cpu_count()} cores here)")
    for part, cpu in sorted(used.items(), key=lambda item: -item[1]):
        if cpu > 0.005:
            print(f"    {part:<32}: {cpu / seconds * 100:4.0f}%   {cpu * 1000 / replies:6.1f} ms per reply")


def report(n: int, direct: list[float], results: list[dict], relay: list[float]) -> None:
    seen = [r["first"] for r in results if r.get("first") is not None]
    totals = [r["total"] for r in results if r.get("total") is not None]
    lost = sum(not r["ok"] for r in results)
    broken_deltas = sum(not r.get("deltas_ok", False) for r in results)
    restarted = sum(r.get("restarts", 0) > 0 for r in results)
    print(f"  direct ollama client, first token : {summary(direct)}")
    print(f"  customer, first token             : {summary(seen)}")
    if seen:
        p50 = statistics.median(seen) - statistics.median(direct)
        p95 = percentile(seen, 95) - percentile(direct, 95)
        print(f"  overhead (customer - direct)      : p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    print(f"  customer, echo of own message     : {summary([r['echo'] for r in results if r.get('echo')])}")
    print(f"  customer, reply task started      : {summary([r['typing'] for r in results if r.get('typing')])}")
    print(f"  customer, whole reply             : {summary(totals)}")
    if relay:
        print(f"  blocking relay, first visible text: {summary(relay)}")
    if seen and relay:
        print(f"  first visible text, relay/stream  : {statistics.median(relay) / statistics.median(seen):.1f}x")
    print(f"  lost or wrong final replies       : {lost} of {len(results)}")
    print(f"  delta streams missing a piece     : {broken_deltas}   (replies started over: {restarted})")
    server_errors = [status for status in http_statuses if status >= 500]
    print(f"  HTTP 5xx answers (conversations)  : {len(server_errors)} of {len(http_statuses)} requests "
          f"(500: {server_errors.count(500)}, 503 then retried: {server_errors.count(503)}); busy frames: "
          f"{sum(r.get('busy', 0) for r in results)}")
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        print(f"  errors: {errors[:3]}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 100])
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
        help="starts of the stack per N whose first ten customers are measured (stopped and started anew each "
             "time; the last one serves the rounds)",
    )
    parser.add_argument(
        "--arrivals", nargs="+", choices=["burst", "spread"], default=["burst"],
        help="burst: the N customers ask at the same moment; spread: at random moments within one reply's length, "
             "so that up to N replies stream at once without everyone's message arriving in the same millisecond",
    )
    args = parser.parse_args()
    if args.cold_starts < 1:
        parser.error("--cold-starts must be at least 1")
    return args


def started_cold(
    args: argparse.Namespace, n: int, ollama_url: str, model: str, database_url: str, redis_url: str
) -> tuple[list[subprocess.Popen], str]:
    """The stack for N, started `--cold-starts` times (each time its first ten customers measured, then stopped,
    as start_stack and stop do for every N); the last start is left running for the rounds."""
    runs: list[list[float]] = []
    for start in range(1, args.cold_starts + 1):
        stack, base = start_stack(n, ollama_url, database_url, redis_url, announce=start == 1)
        if args.skip_cold:
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


def rounds(
    args: argparse.Namespace, n: int, stack: list[subprocess.Popen], base: str, fake: subprocess.Popen,
    ollama_url: str, relay_url: str, model: str,
) -> None:
    """A warm-up round, then for each kind of arrivals enough rounds of N customers, reported with the
    direct client's figures measured alongside, the relay's and the processor time each part used."""
    expected = " ".join(f"word{i}" for i in range(args.tokens))
    reply_s = args.ttft + args.tokens * args.per_token
    asyncio.run(customers_round(base, n, expected))  # every worker process has run a reply
    for arrivals in args.arrivals:
        spread = reply_s if arrivals == "spread" else 0.0
        direct: list[float] = []
        results: list[dict] = []
        http_statuses.clear()
        cpu: dict[str, float] = {}
        measured_s = 0.0
        for _ in range(max(1, -(-args.samples // n))):
            direct += asyncio.run(direct_first_tokens(ollama_url, n, model))
            before, started = cpu_by_part(stack[0].pid, fake.pid), time.perf_counter()
            results += asyncio.run(customers_round(base, n, expected, spread))
            measured_s += time.perf_counter() - started
            for part, seconds in cpu_by_part(stack[0].pid, fake.pid).items():
                cpu[part] = cpu.get(part, 0.0) + seconds - before.get(part, 0.0)
        print(f"  {arrivals}: " + ("everyone asks at the same moment" if not spread else
              f"each asks at a random moment within {spread:.1f} s (one reply's length)"))
        relay = [] if args.skip_relay else asyncio.run(relay_first_text(relay_url, n))
        report(n, direct, results, relay)
        report_cpu(cpu, measured_s, len(results))


def main() -> None:
    args = arguments()
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    model = "deepseek-r1:7b"
    _ensure_database(database_url)
    _empty_redis(redis_url)
    (ROOT / "bench" / "serve.log").write_text("")
    fake, ollama_url = start_fake_ollama(
        "--ttft", str(args.ttft), "--per-token", str(args.per_token), "--tokens", str(args.tokens), "--thinking", ""
    )
    try:
        relay_url = start_blocking_relay(ollama_url, model)
        print(f"fake Ollama: {args.ttft * 1000:.0f} ms to first token, {args.per_token * 1000:.0f} ms per token, "
              f"{args.tokens}-token replies; {os.cpu_count()} CPUs shared by everything; "
              f"at least {args.samples} customers measured per N, after a warm-up round")
        for n in args.n:
            stack, base = started_cold(args, n, ollama_url, model, database_url, redis_url)
            try:
                rounds(args, n, stack, base, fake, ollama_url, relay_url, model)
            finally:
                stop(stack)
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
        "    if any(any(k.startswith('generation@') for k in r) for r in replies): sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, check=True)


def _wait_for_warm_workers(log_start: int, processes: int, timeout: float = 180) -> None:
    """Until every pool process has said it warmed up (helpdesk.runtime.warmup logs it): the start is over."""
    if os.environ.get("WARM_UP", "").lower() in {"0", "false", "no", "off"}:
        time.sleep(2)  # to compare with a start that does not warm up: nothing to wait for
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (ROOT / "bench" / "serve.log").read_text()[log_start:].count(" warmed up in ") >= processes:
            break
        time.sleep(0.2)
    time.sleep(1)


if __name__ == "__main__":
    main()
