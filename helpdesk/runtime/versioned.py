"""Rows an admin edits now and then but every reply reads (the model profiles, the actions, the webhook endpoints),
kept in each process while their version in the shared cache stays the same.

Every use reads the version, one Redis GET, instead of running a query against PostgreSQL (and building its model
instances); the rows are read again only when the version moved. A save or delete of such a row (post_save and
post_delete, connected by the app that owns the model) and every write that bypasses them (a queryset's update)
call `changed()`: the version moves at once and again when the transaction commits, so every process, the workers
included, reads the rows afresh for its very next reply, and a reader that slipped in between the two moves reads
again after the commit. No TTL: a change is seen at once or not cached at all (a version missing from the shared
cache, after a Redis restart say, is a new version).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

KEY_PREFIX = "helpdesk:versioned:"

_all: list[Versioned[Any]] = []


class Versioned(Generic[T]):
    """`load()`'s value, kept in this process until the version under `name` in the shared cache moves."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self.name = name
        self.key = KEY_PREFIX + name
        self.load = load
        self._held: tuple[str, T] | None = None
        self._lock = threading.Lock()
        _all.append(self)

    def get(self) -> T:
        version = self._version()
        held = self._held
        if held is not None and held[0] == version:
            return held[1]
        with self._lock:
            held = self._held
            if held is None or held[0] != version:
                # Read after the version: a change committed meanwhile moved it again, and the next use reads anew.
                held = (version, self.load())
                self._held = held
        return held[1]

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
