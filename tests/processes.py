"""Linux's process table, read from /proc, for the tests and benchmarks that watch processes they started."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    parent: int
    session: int
    nice: int
    # Its own processor time and that of the children it has reaped (PostgreSQL's exited backends).
    cpu_seconds: float
    command: str
    rss_bytes: int = 0  # resident memory now


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_table() -> dict[int, ProcessInfo]:
    """Every process this user can see, by pid; empty where there is no /proc."""
    if not os.path.isdir("/proc"):
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                # After the command name in parentheses (which may hold spaces): state, ppid, pgrp, session, ...
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry.name}/statm") as statm:
                resident_pages = int(statm.read().split()[1])
        except OSError:
            continue  # gone since the listing
        table[int(entry.name)] = ProcessInfo(
            pid=int(entry.name),
            parent=int(fields[1]),
            session=int(fields[3]),
            nice=int(fields[16]),
            cpu_seconds=sum(int(field) for field in fields[11:15]) / tick,  # utime, stime, cutime, cstime
            command=command,
            rss_bytes=resident_pages * PAGE_SIZE,
        )
    return table


def children(pid: int) -> list[int]:
    return [info.pid for info in process_table().values() if info.parent == pid]
