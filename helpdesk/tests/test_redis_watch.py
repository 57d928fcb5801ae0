"""The Redis watch of a web process (helpdesk.web.redisdown.RedisWatch) closes its customers' sockets when Redis is
gone, and not when one look merely came late: a look whose thread did not get to run in time (a loaded machine)
closed every socket of a starting web process for nothing (seen in tests/faults/test_clock_jump.py). A refused
connection still counts at once; tests/faults/test_redis_outage.py runs the whole outage against the real stack."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk.web import redisdown


class Socket:
    def __init__(self) -> None:
        self.lost_count = 0

    async def lost(self) -> None:
        self.lost_count += 1


def watched() -> tuple[redisdown.RedisWatch, Socket]:
    watch, socket = redisdown.RedisWatch(), Socket()
    watch.sockets.add(socket)  # registered without starting the watch's own loop: the looks are driven here
    return watch, socket


async def late(section: str) -> dict:
    await asyncio.sleep(1)
    return {"run_id": "a"}


async def on_time(section: str) -> dict:
    return {"run_id": "a"}


async def refused(section: str) -> dict:
    raise ConnectionRefusedError("nothing listens")


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch) -> None:
    monkeypatch.setattr(redisdown, "WATCH_TIMEOUT_S", 0.02)


async def test_one_late_look_closes_nothing_two_in_a_row_close_every_socket_once() -> None:
    watch, socket = watched()
    await watch.look(on_time, "server")
    await watch.look(late, "server")
    assert socket.lost_count == 0 and watch.up
    await watch.look(late, "server")
    assert socket.lost_count == 1 and not watch.up
    await watch.look(late, "server")
    assert socket.lost_count == 1, "once per outage"
    await watch.look(on_time, "server")
    assert watch.up


async def test_a_look_on_time_between_two_late_ones_starts_the_count_again() -> None:
    watch, socket = watched()
    for look in (late, on_time, late, on_time, late):
        await watch.look(look, "server")
    assert socket.lost_count == 0 and watch.up


async def test_a_refused_connection_closes_the_sockets_at_once() -> None:
    watch, socket = watched()
    await watch.look(refused, "server")
    assert socket.lost_count == 1 and not watch.up


async def test_a_restart_seen_in_one_look_closes_the_sockets() -> None:
    watch, socket = watched()
    await watch.look(on_time, "server")

    async def restarted(section: str) -> dict:
        return {"run_id": "b"}

    await watch.look(restarted, "server")
    assert socket.lost_count == 1 and watch.up
