"""Counting the Redis commands this process sends, at the client: below every library that talks to Redis (the cache
through django-redis, the channel layer through channels_redis's asyncio client, Celery's broker through kombu).
Each command packed for sending is one command, each write to the socket one round trip (a pipeline's commands go
in one). Redis's own INFO commandstats would count every client of the server, other processes' and databases'.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from redis import connection as sync_connection
from redis.asyncio import connection as async_connection


@dataclass
class RedisTraffic:
    commands: Counter[str] = field(default_factory=Counter)
    round_trips: int = 0
    calls: list[str] = field(default_factory=list)  # each command's name and first argument, in order

    @property
    def total(self) -> int:
        return sum(self.commands.values())


def _name(args: tuple[Any, ...]) -> str:
    """The command's name, as INFO commandstats would write it (EVALSHA, ZADD; a module's two words as one)."""
    first = args[0]
    name = first.decode() if isinstance(first, bytes) else str(first)
    return name.upper()


@contextmanager
def redis_traffic() -> Iterator[RedisTraffic]:
    """Every command this process's Redis clients send meanwhile, sync and asyncio, on whatever thread."""
    traffic = RedisTraffic()
    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, attribute: str, counting: Any) -> None:
        original = getattr(owner, attribute)
        patched.append((owner, attribute, original))
        setattr(owner, attribute, counting(original))

    def count_pack(original: Any) -> Any:
        def pack(self: Any, *args: Any) -> Any:
            traffic.commands[_name(args)] += 1
            key = args[1] if len(args) > 1 else b""
            traffic.calls.append(f"{_name(args)} {key.decode(errors='replace') if isinstance(key, bytes) else key}")
            return original(self, *args)
        return pack

    def count_send(original: Any) -> Any:
        def send(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            traffic.round_trips += 1
            return original(self, command, *args, **kwargs)
        return send

    def count_async_send(original: Any) -> Any:
        async def send(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            traffic.round_trips += 1
            return await original(self, command, *args, **kwargs)
        return send

    wrap(sync_connection.PythonRespSerializer, "pack", count_pack)
    if hasattr(sync_connection, "HiredisRespSerializer"):
        wrap(sync_connection.HiredisRespSerializer, "pack", count_pack)
    wrap(async_connection.AbstractConnection, "pack_command", count_pack)
    wrap(sync_connection.AbstractConnection, "send_packed_command", count_send)
    wrap(async_connection.AbstractConnection, "send_packed_command", count_async_send)
    try:
        yield traffic
    finally:
        for owner, attribute, original in reversed(patched):
            setattr(owner, attribute, original)
