"""Warm-up: build, before a process serves, what its first customer would otherwise wait for.

A fresh process builds its knowledge and FAQ snapshots, reads the model
profiles, checks the Ollama nodes and imports its lazy modules on the first
request that needs them: 2-3 s added to the first customer's first word after
every start. Apps register warmers in their AppConfig.ready (the core never
imports them); `warm()` runs them all, in the process that serves, after any
fork. /healthz reports not ready while a warm-up runs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class _State:
    warmers: list[tuple[str, Callable[[], object], tuple[str, ...]]] = field(default_factory=list)
    started: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


_state = _State()
_lock = threading.Lock()


KINDS = ("web", "worker")


def warmer_register(name: str, warmer: Callable[[], object], *, kinds: tuple[str, ...] = KINDS) -> None:
    """Run `warmer` in every warm-up of a process of these kinds: "web" (Daphne), "worker" (a Celery pool
    process). Idempotent by name: ready() may run twice in tests."""
    with _lock:
        _state.warmers = [(n, w, k) for n, w, k in _state.warmers if n != name] + [(name, warmer, kinds)]


def warmer_unregister(name: str) -> None:
    with _lock:
        _state.warmers = [(n, w, k) for n, w, k in _state.warmers if n != name]


def warm(kind: str = "web") -> dict[str, float]:
    """Run every warmer here and now; a failing one is logged and the rest still run (each warms a cache
    that the first request would fill anyway, so a failure costs time, never correctness)."""
    from django.db import connections

    with _lock:
        _state.started = True
        _state.done.clear()
        warmers = [(name, warmer) for name, warmer, kinds in _state.warmers if kind in kinds]
    started = time.perf_counter()
    try:
        for name, warmer in warmers:
            began = time.perf_counter()
            try:
                warmer()
            except Exception as exc:  # a warm-up never stops a process from serving
                _state.errors[name] = f"{type(exc).__name__}: {exc}"
                logger.warning("warm-up of %s failed: %s", name, _state.errors[name])
            _state.seconds[name] = time.perf_counter() - began
    finally:
        # The connection goes back to the pool (or is closed): never kept by a thread that will not use it again.
        connections.close_all()
        _state.done.set()
    logger.info("process %s warmed up in %.2f s: %s", os.getpid(), time.perf_counter() - started,
                ", ".join(f"{n} {s:.2f} s" for n, s in _state.seconds.items()))
    return dict(_state.seconds)


def warm_start(kind: str = "web") -> threading.Thread:
    """Warm up on a thread of its own; readiness says not ready until it ends."""
    with _lock:
        _state.started = True
        _state.done.clear()
    thread = threading.Thread(target=warm, args=(kind,), name="warm-up", daemon=True)
    thread.start()
    return thread


def warm_wait(timeout: float) -> bool:
    """Until the warm-up started here ends (True), or `timeout` seconds pass (False)."""
    return _state.done.wait(timeout)


def warm_status() -> dict[str, object]:
    """For the readiness probe: ok unless a warm-up of this process has started and not finished.

    A process that never warms (a management command, a test) is not held back.
    """
    if _state.started and not _state.done.is_set():
        return {"ok": False, "error": "warming up: the first customer would wait for caches still being built"}
    return {"warmed": _state.started, "seconds": {n: round(s, 3) for n, s in _state.seconds.items()},
            **({"errors": dict(_state.errors)} if _state.errors else {})}
