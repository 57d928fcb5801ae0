"""The socket base's event loop (conversations.sockets.events_dispatch), which replaces channels' own."""

from __future__ import annotations

import asyncio

import pytest

from conversations.sockets import events_dispatch


async def test_events_are_dispatched_one_at_a_time_in_arrival_order_and_a_source_error_ends_the_loop() -> None:
    socket, layer = asyncio.Queue(), asyncio.Queue()
    seen: list[str] = []
    all_seen = asyncio.Event()
    running = 0

    async def dispatch(event: dict) -> None:
        nonlocal running
        running += 1
        assert running == 1, "one event at a time"
        await asyncio.sleep(0.001)  # a handler that awaits: the next event waits for it
        seen.append(event["type"])
        running -= 1
        if len(seen) == 5:
            all_seen.set()

    async def broken() -> dict:
        raise RuntimeError("redis went away")

    loop = asyncio.create_task(events_dispatch([socket.get, layer.get], dispatch))
    for source, name in ((layer, "delta.0"), (layer, "delta.1"), (layer, "delta.2"), (socket, "frame"),
                         (layer, "delta.3")):
        source.put_nowait({"type": name})  # arriving while the first handlers still run
        for _ in range(3):
            await asyncio.sleep(0)
    await asyncio.wait_for(all_seen.wait(), 10)
    assert seen == ["delta.0", "delta.1", "delta.2", "frame", "delta.3"]
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop

    with pytest.raises(RuntimeError, match="redis went away"):
        await events_dispatch([socket.get, broken], dispatch)


async def test_a_handler_s_exception_ends_the_loop_and_cancels_the_sources() -> None:
    cancelled: list[str] = []

    async def source() -> dict:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append("source")  # the channel layer unsubscribes here
            raise
        return {}

    first = asyncio.Queue()
    first.put_nowait({"type": "websocket.disconnect"})

    async def dispatch(event: dict) -> None:
        raise LookupError(event["type"])  # as StopConsumer ends a consumer

    with pytest.raises(LookupError):
        await events_dispatch([first.get, source], dispatch)
    assert cancelled == ["source"]


async def test_a_socket_that_keeps_answering_disconnect_is_read_no_more_after_it() -> None:
    """After the customer leaves, an ASGI server may answer every further receive() at once with the disconnect
    again (uvicorn does; Daphne's never returns): the loop must stop reading it, or the pump spins without ever
    yielding and the whole web process stops serving everyone."""
    reads = 0

    async def gone() -> dict:
        nonlocal reads
        reads += 1
        return {"type": "websocket.disconnect", "code": 1000}

    layer: asyncio.Queue = asyncio.Queue()
    seen: list[str] = []
    disconnected = asyncio.Event()

    async def dispatch(event: dict) -> None:
        seen.append(event["type"])
        if event["type"] == "websocket.disconnect":
            disconnected.set()

    loop = asyncio.create_task(events_dispatch([gone, layer.get], dispatch))
    await asyncio.wait_for(disconnected.wait(), 5)
    for _ in range(20):
        await asyncio.sleep(0)  # the rest of the event loop still runs
    layer.put_nowait({"type": "delta.late"})  # what the channel layer still delivers is dispatched
    for _ in range(5):
        await asyncio.sleep(0)
    assert reads == 1 and seen == ["websocket.disconnect", "delta.late"]
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
