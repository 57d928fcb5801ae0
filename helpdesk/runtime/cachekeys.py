"""Deleting keys of the shared cache and saying how many were there: an erasure reports what it removed."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache


def cache_keys_forget(keys: Iterable[str]) -> int:
    """Delete `keys`; returns how many of them existed."""
    keys = list(keys)
    if not keys:
        return 0
    found = cache.get_many(keys)
    cache.delete_many(keys)
    return len(found)
