"""Rows an admin edits now and then but every reply reads (the model profiles, the actions, the webhook endpoints),
kept in each process while their version in the shared cache stays the same.

Every use reads the version, one Redis GET, instead of running a query against PostgreSQL (and building its model
instances); the rows are read again only when the version moved. A save or delete of such a row (post_save and
post_delete, connected by the app that owns the model) and every write that bypasses them (a queryset's update)
call `changed()`: the version moves at once and again when the transaction commits, so every process, the workers
included, reads the rows afresh for its very next reply, and a reader that slipped in between the two moves reads
again after the commit. A version missing from the shared cache (after a Redis restart, say) is a new version;
while Redis cannot be read nothing is kept (every use reads the rows, as before this module). A backstop for what
no version moves (a change made while this process could not reach Redis, a bulk update that forgot `changed()`):
a kept value is read again after MAX_AGE_S whatever its version.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

KEY_PREFIX = "helpdesk:versioned:"
MAX_AGE_S = 60.0

_all: list[Versioned[Any]] = []


class Versioned(Generic[T]):
    """`load()`'s value, kept in this process until the version under `name` in the shared cache moves."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self.name = name
        self.key = KEY_PREFIX + name
        self.load = load
        self._held: tuple[str, float, T] | None = None  # (version, when read: time.monotonic(), value)
        self._lock = threading.Lock()
        _all.append(self)

    def get(self) -> T:
        version = self._version()
        if not version:  # Redis unreachable: nothing to tell a change by, so nothing kept
            return self.load()
        held = self._held
        if self._fresh(held, version):
            return held[2]  # type: ignore[index]
        with self._lock:
            held = self._held
            if not self._fresh(held, version):
                # Read after the version: a change committed meanwhile moved it again, and the next use reads anew.
                held = (version, time.monotonic(), self.load())
                self._held = held
        return held[2]  # type: ignore[index]

    @staticmethod
    def _fresh(held: tuple[str, float, Any] | None, version: str) -> bool:
        return held is not None and held[0] == version and time.monotonic() - held[1] < MAX_AGE_S

    def _version(self) -> str:
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, uuid.uuid4().hex, None)  # the first process to miss it names the new version
            version = cache.get(self.key) or ""
        return version

    def changed(self, **kwargs: Any) -> None:
        """The rows changed (a signal receiver, or called after a bulk update): every process reads them again
        on its next use, and once more after the transaction commits."""
        self._move()
        transaction.on_commit(self._move)

    def _move(self) -> None:
        self._held = None
        cache.set(self.key, uuid.uuid4().hex, None)


def versioned_forget_all() -> None:
    """Every process reads every kept value again (the test suite, between tests whose rows were rolled back)."""
    cache.delete_many([held.key for held in _all])
    for held in _all:
        held._held = None
