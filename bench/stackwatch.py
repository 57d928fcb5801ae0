"""Where a served stack's processor time and memory go, read from /proc (Linux), for bench/first_token.py.

The stack is whatever `manage.py serve` started: its process tree, each process classified by its command line
(Daphne, a Celery worker's main or pool process by queue, beat, serve itself). Every figure is a sum over the
processes of a kind, so it stays right whatever the generation worker's design: a prefork pool with one process
per stream, or one process carrying many streams on threads or an event loop.

Outside the tree: PostgreSQL counts the backends of the benchmark's own database (other databases on the same
server are other people's) and the server's own processes (checkpointer, WAL writer: shared); Redis is the whole
server (shared by anyone else's database number on it); the fake Ollama and the benchmark's own process are
counted apart, never in the stack's total.

Streams per process: the fake Ollama lists the client ports of the chat replies it is streaming now
(GET /fake/streams); each port is traced to the process holding the socket (/proc/net/tcp, /proc/PID/fd).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.processes import ProcessInfo, process_table

WEB = "web (Daphne)"
GENERATION = "generation workers"
OTHER_WORKERS = "other workers (logging, knowledge)"
SUPERVISION = "beat, serve"
POSTGRES = "PostgreSQL"
REDIS = "Redis"
FAKE = "fake Ollama"
CLIENTS = "benchmark clients"
# The platform's own parts, what "processor time per streamed reply" counts: not the model, not the browsers.
STACK_PARTS = (WEB, GENERATION, OTHER_WORKERS, SUPERVISION, POSTGRES, REDIS)
PARTS = (*STACK_PARTS, FAKE, CLIENTS)

BACKENDS = "PostgreSQL backends (this database)"
POSTGRES_SERVER = "PostgreSQL server processes"
# "postgres: [cluster: ]user database host(port) state": a client's backend, as PostgreSQL titles it.
_BACKEND_TITLE = re.compile(r"^postgres: (?:\S+: )?(\S+) (\S+) (?:\S+\(\d+\)|\[local\])")


@dataclass(frozen=True)
class Stack:
    """What to watch: serve's process tree, this database's PostgreSQL backends, Redis, the fake Ollama."""

    serve_pid: int
    fake_pid: int
    database: str
    fake_url: str
    redis_port: int = 6379

    def accounted(self, table: dict[int, ProcessInfo]) -> dict[int, tuple[str, str]]:
        """pid -> (part, role) of every process whose time and memory the benchmark reports."""
        found = tree_roles(table, self.serve_pid)
        for pid, info in table.items():
            if pid in found:
                continue
            if pid == self.fake_pid:
                found[pid] = (FAKE, FAKE)
            elif pid == os.getpid():
                found[pid] = (CLIENTS, CLIENTS)
            elif _is_redis(info) and f":{self.redis_port}" in info.command and not _is_redis(table.get(info.parent)):
                found[pid] = (REDIS, "Redis server")  # the stack's (not its snapshot child: the server counts its time)
            elif info.command.startswith("postgres: "):
                backend = _BACKEND_TITLE.match(info.command)
                if backend is None:
                    found[pid] = (POSTGRES, POSTGRES_SERVER)
                elif backend.group(2) == self.database:
                    found[pid] = (POSTGRES, BACKENDS)
        return found


def _is_redis(info: ProcessInfo | None) -> bool:
    return info is not None and os.path.basename(info.command.split(" ", 1)[0]).startswith("redis-")


def tree_roles(table: dict[int, ProcessInfo], root: int) -> dict[int, tuple[str, str]]:
    """serve and its descendants, each with its part and role."""
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info.parent, []).append(pid)
    found: dict[int, tuple[str, str]] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in found or pid not in table:
            continue
        found[pid] = role_of(table[pid], table.get(table[pid].parent))
        pending += children.get(pid, [])
    return found


def role_of(info: ProcessInfo, parent: ProcessInfo | None) -> tuple[str, str]:
    """The part of the stack a process of serve's tree belongs to, and its role there, from its command line.

    A Celery pool process runs its parent's command line (forked, not executed): that is how it is told from
    the worker's main process."""
    words = info.command.split()
    if "helpdesk.webserver" in words or any(os.path.basename(word) == "daphne" for word in words):
        return WEB, "Daphne"
    if "celery" in words or any(os.path.basename(word) == "celery" for word in words):
        if "beat" in words:
            return SUPERVISION, "beat"
        queues = words[words.index("-Q") + 1] if "-Q" in words[:-1] else "celery"
        part = GENERATION if "generation" in queues.split(",") else OTHER_WORKERS
        name = "generation worker" if part == GENERATION else f"{queues} worker"
        pooled = parent is not None and parent.command == info.command
        return part, f"{name}, {'pool process' if pooled else 'main process'}"
    if "serve" in words:
        return SUPERVISION, "serve"
    return SUPERVISION, f"other ({os.path.basename(words[0]) if words else '?'})"


# --- streams: which process holds each reply the fake is streaming ----------------------------------------


def streaming_ports(fake_url: str) -> list[int] | None:
    """The client ports of the chat replies the fake Ollama streams now; None if it cannot say (an older fake)."""
    try:
        with urllib.request.urlopen(fake_url + "/fake/streams", timeout=5) as response:
            return json.load(response)["client_ports"]
    except (OSError, ValueError, KeyError):
        return None


def _inodes_by_local_port(remote_port: int) -> dict[int, int]:
    """Local port -> socket inode of every TCP connection to `remote_port` in this network namespace."""
    found = {}
    wanted = f":{remote_port:04X} "  # the remote address's port, in /proc/net/tcp's hexadecimal
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as table:
                lines = table.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            if wanted not in line:
                continue
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                found[int(fields[1].rsplit(":", 1)[1], 16)] = int(fields[9])
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def stream_owners(ports: list[int], remote_port: int, pids: list[int],
                  owners: dict[int, int] | None = None) -> dict[int, int]:
    """pid -> how many of the connections from `ports` to `remote_port` it holds, among the given processes.

    `owners` (socket inode -> pid) is kept between calls: a process's descriptors are read only when a stream's
    socket is not in it yet (reading them all costs ~1 ms a process), in the order given."""
    owners = {} if owners is None else owners
    by_port = _inodes_by_local_port(remote_port)
    wanted = [by_port[port] for port in ports if port in by_port]
    missing = {inode for inode in wanted if owners.get(inode) not in pids}
    for pid in pids:
        if not missing:
            break
        inodes = _socket_inodes(pid)
        owners.update(dict.fromkeys(inodes, pid))
        missing -= inodes
    counts: dict[int, int] = {}
    for inode in wanted:
        if (pid := owners.get(inode)) in pids:
            counts[pid] = counts.get(pid, 0) + 1
    return counts


# --- memory --------------------------------------------------------------------------------------------


def proportional_set_size(pid: int) -> int | None:
    """PSS in bytes (shared pages divided among the processes sharing them: forked pool processes share most of
    their parent's); None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@dataclass
class Memory:
    """Resident memory of each process, by role (and part), at one moment; PSS where asked for."""

    rss: dict[str, list[int]] = field(default_factory=dict)
    pss: dict[str, list[int]] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)  # role -> part

    def total(self, *, part: str | None = None, roles: tuple[str, ...] | None = None, pss: bool = False) -> int:
        """Bytes over the roles asked for (of a part, or named): RSS, or PSS where it was read (else RSS)."""
        return sum(sum(self.pss[role] if pss and role in self.pss else values) for role, values in self.rss.items()
                   if (part is None or self.parts[role] == part) and (roles is None or role in roles))


def memory_of(accounted: dict[int, tuple[str, str]], table: dict[int, ProcessInfo], *, pss: bool) -> Memory:
    memory = Memory()
    for pid, (part, role) in accounted.items():
        if part in (FAKE, CLIENTS) or role == POSTGRES_SERVER or pid not in table:
            continue
        memory.parts[role] = part
        memory.rss.setdefault(role, []).append(table[pid].rss_bytes)
        if pss and (size := proportional_set_size(pid)) is not None:
            memory.pss.setdefault(role, []).append(size)
    return memory


def memory_now(stack: Stack, *, pss: bool = True) -> Memory:
    table = process_table()
    return memory_of(stack.accounted(table), table, pss=pss)


# --- the watch: processor time over measured windows, the peak of concurrent streams -----------------------


@dataclass
class Peak:
    """The moment the stack's processes held the most streams at once."""

    streams: int = 0
    memory: Memory = field(default_factory=Memory)
    streams_by_role: dict[str, list[int]] = field(default_factory=dict)


class Watch:
    """Processor time by part over the windows measured with `measuring()` (summed), sampled every `interval`
    seconds for the peak of concurrent streams and the most streams any one process held.

    A process of serve's tree that exits has its time counted by its parent (which reaps it); a PostgreSQL
    backend's goes to the postmaster, shared with every database, so backends are sampled and each one's time
    is counted up to its last sample: one opened and closed between two samples is missed altogether (its time
    and its count in `backends_opened`), so a stack that opens a connection per task reads cheaper than it is.
    """

    def __init__(self, stack: Stack, interval: float = 1.0) -> None:
        self.stack = stack
        self.interval = interval
        self.cpu: dict[str, float] = {}
        self.seconds = 0.0
        self.peak = Peak()
        self.process_peak: tuple[int, str] = (0, "")  # most streams seen in one process, and its role
        self.backends_opened = 0
        self.backends_ended = 0
        self.sample_ms: list[float] = []  # processor time of each sample (the benchmark's own cost)
        self._fake_port = int(stack.fake_url.rsplit(":", 1)[1])
        self._socket_owners: dict[int, int] = {}  # socket inode -> pid, for stream_owners

    @contextmanager
    def measuring(self) -> Iterator[None]:
        table = process_table()
        accounted = self.stack.accounted(table)
        start = {pid: table[pid].cpu_seconds for pid in accounted}
        seen = {pid: (*accounted[pid], table[pid].cpu_seconds) for pid in accounted}
        stop = threading.Event()
        sampler = threading.Thread(target=self._sample_until, args=(stop, seen), name="stackwatch", daemon=True)
        began = time.perf_counter()
        sampler.start()
        try:
            yield
        finally:
            stop.set()
            sampler.join()
            self.seconds += time.perf_counter() - began
            table = process_table()
            alive = self._sample(table, seen)
            self._add_cpu(start, seen, alive)

    def _sample_until(self, stop: threading.Event, seen: dict[int, tuple[str, str, float]]) -> None:
        while not stop.wait(self.interval):
            began = time.thread_time()
            self._sample(process_table(), seen)
            self.sample_ms.append((time.thread_time() - began) * 1000)

    def _sample(self, table: dict[int, ProcessInfo], seen: dict[int, tuple[str, str, float]]) -> set[int]:
        """One look at every accounted process: its processor time so far and, while streams run, who holds
        them. Returns the accounted pids."""
        accounted = self.stack.accounted(table)
        for pid, (part, role) in accounted.items():
            seen[pid] = (part, role, table[pid].cpu_seconds)
        ports = streaming_ports(self.stack.fake_url)
        if ports:
            # The workers first: where the streams are expected (Daphne, with a socket per customer, last).
            candidates = [pid for pid, (part, _) in accounted.items() if part in STACK_PARTS and part != POSTGRES]
            stack_pids = sorted(candidates, key=lambda pid: accounted[pid][0] == WEB)
            held = stream_owners(ports, self._fake_port, stack_pids, self._socket_owners)
            self._note_streams(held, accounted, table)
        return set(accounted)

    def _note_streams(self, held: dict[int, int], accounted: dict[int, tuple[str, str]],
                      table: dict[int, ProcessInfo]) -> None:
        for pid, count in held.items():
            if count > self.process_peak[0]:
                self.process_peak = (count, accounted[pid][1])
        streams = sum(held.values())
        if streams > self.peak.streams:
            by_role: dict[str, list[int]] = {}
            for pid, count in held.items():
                by_role.setdefault(accounted[pid][1], []).append(count)
            self.peak = Peak(streams, memory_of(accounted, table, pss=False), by_role)

    def _add_cpu(self, start: dict[int, float], seen: dict[int, tuple[str, str, float]], alive: set[int]) -> None:
        for pid, (part, role, seconds) in seen.items():
            if pid in alive or role == BACKENDS:
                self.cpu[part] = self.cpu.get(part, 0.0) + seconds - start.get(pid, 0.0)
            if role == BACKENDS:
                self.backends_opened += pid not in start
                self.backends_ended += pid not in alive


# --- reports -------------------------------------------------------------------------------------------

ROLE_ORDER = ("serve", "Daphne", "generation worker, main process", "generation worker, pool process", "beat",
              BACKENDS, "Redis server")


def _role_key(role: str) -> tuple[int, str]:
    return (ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER) - 2, role)


def _mb(size: float) -> float:
    return size / 2**20


def describe(values: list[int]) -> str:
    """Total MB, and for several processes how many and their range."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{_mb(values[0]):.0f} MB"
    return f"{_mb(sum(values)):.0f} MB ({len(values)} x {_mb(min(values)):.0f}-{_mb(max(values)):.0f})"


def memory_lines(idle: Memory, peak: Peak, end: Memory) -> list[str]:
    """RSS of every kind of process before the customers came, at the peak of concurrent streams and after."""
    roles = sorted(set(idle.rss) | set(peak.memory.rss) | set(end.rss), key=_role_key)
    lines = [f"    {'RSS of each process':<42}{'before':<26}{f'at the peak ({peak.streams} streams)':<30}"
             f"{'after':<26}PSS after"]
    for role in roles:
        pss = end.pss.get(role)
        at_peak = describe(peak.memory.rss.get(role, []))
        lines.append(f"    {role:<42}{describe(idle.rss.get(role, [])):<26}{at_peak:<30}"
                     f"{describe(end.rss.get(role, [])):<26}{describe(pss) if pss else '-'}")
    return lines


def growth_lines(first: Memory, second: Memory) -> list[str]:
    """RSS and PSS growth by role between the ends of two runs: what a second run kept that the first did not.
    (A PostgreSQL backend's RSS grows as it touches more of the shared buffers: its PSS tells.)"""
    def change(before: list[int], after: list[int]) -> str:
        return f"{_mb(sum(before)):8.1f} MB -> {_mb(sum(after)):8.1f} MB ({_mb(sum(after) - sum(before)):+7.1f} MB)"

    lines = []
    for role in sorted(set(first.rss) | set(second.rss), key=_role_key):
        pss = f"   PSS {change(first.pss[role], second.pss[role])}" if role in first.pss and role in second.pss else ""
        lines.append(f"    {role:<42}RSS {change(first.rss.get(role, []), second.rss.get(role, []))}{pss}")
    return lines


def idle_rates(stack: Stack, seconds: float, interval: float = 1.0) -> dict[str, float]:
    """Each part's processor seconds per second while no customer is served (beat's schedule, health checks,
    the shared Redis and PostgreSQL serving others): what the rounds' time is net of, so that what remains is the
    replies' own cost."""
    watch = Watch(stack, interval)
    with watch.measuring():
        time.sleep(seconds)
    return {part: cpu / watch.seconds for part, cpu in watch.cpu.items()}


def per_reply_ms(watch: Watch, replies: int, idle: dict[str, float]) -> dict[str, tuple[float, float]]:
    """part -> (ms per reply as measured, ms per reply less what the part spends idle over the same time)."""
    return {part: (cpu * 1000 / replies, (cpu - idle.get(part, 0.0) * watch.seconds) * 1000 / replies)
            for part, cpu in watch.cpu.items()}


def stack_per_reply_ms(watch: Watch, replies: int, idle: dict[str, float]) -> tuple[float, float]:
    """The platform's parts together (STACK_PARTS): as measured, and net of idle."""
    parts = per_reply_ms(watch, replies, idle)
    return (sum(parts.get(part, (0.0, 0.0))[0] for part in STACK_PARTS),
            sum(parts.get(part, (0.0, 0.0))[1] for part in STACK_PARTS))


def cpu_lines(watch: Watch, replies: int, idle: dict[str, float], target_ms: float) -> list[str]:
    """Each part's processor time per reply (as measured, and net of the idle stack's) and its share of a core;
    the stack's total against the target (judged net of idle)."""
    if not watch.cpu or not watch.seconds or not replies:
        return []
    lines = [f"  processor time, customers' rounds : {sum(watch.cpu.values()) / watch.seconds * 100:4.0f}% of one "
             f"core over {watch.seconds:.0f} s ({os.cpu_count()} cores here); per streamed reply as measured, and "
             "less the idle stack's time"]
    shared = {REDIS: "  (the whole server: shared)", POSTGRES: "  (this database's backends + server processes)"}
    parts = per_reply_ms(watch, replies, idle)
    for part in PARTS:
        gross, net = parts.get(part, (0.0, 0.0))
        lines.append(f"    {part:<36}: {watch.cpu.get(part, 0.0) / watch.seconds * 100:4.0f}%   {gross:7.1f} ms  "
                     f"{net:7.1f} ms{shared.get(part, '')}")
    gross, net = stack_per_reply_ms(watch, replies, idle)
    lines.append(f"    {'TOTAL web+workers+PostgreSQL+Redis':<36}:        {gross:7.1f} ms  {net:7.1f} ms   target <= "
                 f"{target_ms:.0f} ms (less idle): {'met' if net <= target_ms else 'MISSED'}")
    if watch.backends_opened or watch.backends_ended:
        lines.append(f"    PostgreSQL connections opened / closed meanwhile: {watch.backends_opened} / "
                     f"{watch.backends_ended}")
    return lines


def streams_line(watch: Watch) -> str:
    """The peak of concurrent streams, where they were, and the most one process held."""
    if not watch.peak.streams:
        return "  concurrent streams               : none seen (the fake Ollama does not list them?)"
    where = "; ".join(f"{role}: {len(counts)} process(es), {max(counts)} at most in one"
                      for role, counts in sorted(watch.peak.streams_by_role.items()))
    return (f"  concurrent streams at the peak    : {watch.peak.streams} ({where}); most in one process over the "
            f"rounds: {watch.process_peak[0]} ({watch.process_peak[1]})")


def sampling_note(watch: Watch) -> str:
    if not watch.sample_ms:
        return ""
    return (f"  (/proc sampled every {watch.interval:.1f} s by the benchmark's process: "
            f"{statistics.median(watch.sample_ms):.0f} ms of processor time a sample)")
