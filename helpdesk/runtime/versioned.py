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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
        looked = _looked.get()
        if looked is not None:
            if looked.versions is None:  # the unit's first use: every kept value's version in one read
                looked.versions = _versions_read()
            version = looked.versions.get(self.key)
            if version:
                return version
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, uuid.uuid4().hex, None)  # the first process to miss it names the new version
            version = cache.get(self.key) or ""
        if looked is not None and looked.versions is not None and version:
            looked.versions[self.key] = version
        return version

    def changed(self, **kwargs: Any) -> None:
        """The rows changed (a signal receiver, or called after a bulk update): every process reads them again
        on its next use, and once more after the transaction commits."""
        self._move()
        transaction.on_commit(self._move)

    def _move(self) -> None:
        self._held = None
        looked = _looked.get()
        if looked is not None and looked.versions is not None:
            looked.versions.pop(self.key, None)  # this unit too sees its own change at once
        cache.set(self.key, uuid.uuid4().hex, None)


class _Looked:
    """The versions one unit of work read (None: not yet)."""

    versions: dict[str, str] | None = None


_looked: ContextVar[_Looked | None] = ContextVar("versions_read_once", default=None)


def _versions_read() -> dict[str, str]:
    """Every kept value's version, one MGET (those missing from the shared cache, or all while Redis is away,
    are read one by one as outside `versions_read_once`)."""
    return {key: version for key, version in cache.get_many([held.key for held in _all]).items() if version}


@contextmanager
def versions_read_once() -> Iterator[None]:
    """Within, one unit of work (a customer message stored and checked, a reply generated) reads every kept
    value's version once, all together at its first use, instead of a GET per use (nine per message before).

    What the module promises holds per unit rather than per use: a change committed before the unit began is
    seen by it, one committed while it runs by the next unit (as a change committed just after a use's GET was
    before). A change this unit makes itself is seen by its next use. Nested, the outer unit's reads hold."""
    if _looked.get() is not None:
        yield
        return
    token = _looked.set(_Looked())
    try:
        yield
    finally:
        _looked.reset(token)


def versioned_forget_all() -> None:
    """Every process reads every kept value again (the test suite, between tests whose rows were rolled back)."""
    cache.delete_many([held.key for held in _all])
    for held in _all:
        held._held = None
