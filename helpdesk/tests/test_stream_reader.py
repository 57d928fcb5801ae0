"""The three readers of a streamed chat (OLLAMA_STREAM_READER): the gateway's own on aiohttp and on httpx
("light"), and the official client's,
each driven against the fake Ollama over real HTTP, with the same outcomes expected of both: the same request,
the same pieces and stats, the same typed errors, the same failover before the first token and in-flight
accounting, and a close that stops the server's stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import ollama
import pytest

from helpdesk.llm import nodes
from helpdesk.llm import ollama as gateway
from helpdesk.tests.test_ollama import MESSAGES, collect, options
from tests.fake_ollama import FakeOllama, Reply


@pytest.fixture(params=["aiohttp", "light", "client"])
def reader(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.OLLAMA_STREAM_READER = request.param
    return request.param


@pytest.fixture
def second_fake(fake_ollama: FakeOllama, settings: Any) -> Iterator[FakeOllama]:
    """Another node beside `fake_ollama`, both configured."""
    with FakeOllama() as other:
        settings.OLLAMA_HOSTS = [fake_ollama.url, other.url]
        nodes.nodes_forget([other.url])
        yield other
        nodes.nodes_forget([other.url])


def in_flight(host: str) -> int:
    return next(state.in_flight for state in nodes.nodes_state([host]) if state.host == host)


async def tried_first(first: str, then: str, request: Any) -> Any:
    """Run `request` with `first` ranked ahead of `then` (nodes tie in random order): `then` counts one
    request in flight meanwhile."""
    token = nodes.request_started(then)
    try:
        return await request()
    finally:
        nodes.request_finished(then, token)


# --- which reader, and the same request from both -----------------------------------------


async def test_the_setting_chooses_the_reader(fake_ollama, reader) -> None:
    stream = await gateway.open_chat_stream(MESSAGES, options())
    expected = ollama.ChatResponse if reader == "client" else dict
    assert type(stream._first) is expected
    await collect(stream)


async def test_every_reader_sends_the_same_request(fake_ollama, settings) -> None:
    bodies = []
    for name in ("client", "light", "aiohttp"):
        settings.OLLAMA_STREAM_READER = name
        await collect(await gateway.open_chat_stream(MESSAGES, options(num_ctx=2048, keep_alive="5m")))
        bodies.append(fake_ollama.chat_requests()[-1].body)
    # The client adds an empty tool list, which Ollama takes as none; everything else is the same.
    assert bodies[0].pop("tools") == []
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[1]["think"] is True and bodies[1]["stream"] is True and bodies[1]["keep_alive"] == "5m"


# --- what a stream yields -------------------------------------------------------------------


async def test_thinking_field_is_reasoning_and_content_is_the_answer(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(content="Your parcel left today.", thinking="Look up the parcel."))
    assert await collect(await gateway.open_chat_stream(MESSAGES, options())) == (
        "Your parcel left today.", "Look up the parcel.")


@pytest.mark.parametrize("style", ["inline", "inline_no_open"])
async def test_inline_think_from_old_servers_is_split_off(fake_ollama, reader, style) -> None:
    fake_ollama.state.version = "0.5.7"
    fake_ollama.script(Reply(content="Yes, it is lead-free.", thinking="Check the glaze.", thinking_style=style))
    assert await collect(await gateway.open_chat_stream(MESSAGES, options())) == (
        "Yes, it is lead-free.", "Check the glaze.")


async def test_done_chunk_stats_are_reported(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(content="one two three four five", thinking="", done_reason="length"))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    assert (await collect(stream))[0] == "one two three four five"
    assert stream.stats.done_reason == "length"
    assert stream.stats.reply_tokens == 5 and stream.stats.prompt_tokens == 42
    assert stream.stats.load_duration_ns == 1_000_000 and stream.stats.total_duration_ns > 0


# --- typed errors ---------------------------------------------------------------------------------


async def test_error_line_mid_stream_is_stream_broken_after_the_text_before_it(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(content="one two three four", thinking="", error_after_tokens=2, error="CUDA error"))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    seen = []
    with pytest.raises(gateway.StreamBroken, match="CUDA error") as error:
        async for piece in stream:
            seen.append(piece.visible)
    assert "".join(seen) == "one two "
    assert error.value.host == fake_ollama.url
    assert in_flight(fake_ollama.url) == 0


async def test_dropped_connection_mid_stream_is_stream_broken(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(content="one two three four", thinking="", drop_after_tokens=2))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    with pytest.raises(gateway.StreamBroken):
        await collect(stream)
    assert in_flight(fake_ollama.url) == 0


async def test_lines_received_before_a_dropped_connection_are_all_handed_over(fake_ollama, reader) -> None:
    """Every line that reached the reader before the connection dropped comes out before StreamBroken, however
    slowly the consumer takes them: here the rest of the reply and the drop arrive while it is busy with the
    first piece (a stream worker publishing it), so they wait in the reader's buffers, not in the kernel's."""
    fake_ollama.script(Reply(content="one two three four", thinking="", drop_after_tokens=3))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    seen = []
    with pytest.raises(gateway.StreamBroken):
        async for piece in stream:
            seen.append(piece.visible)
            await asyncio.sleep(0.3)  # the fake sends the other two lines and drops the connection meanwhile
    assert "".join(seen) == "one two three "
    assert in_flight(fake_ollama.url) == 0


async def test_the_aiohttp_reader_breaks_the_stream_at_a_line_too_long(fake_ollama, settings, monkeypatch) -> None:
    """It splits lines itself, so it bounds them itself: a line unfinished past STREAM_LINE_MAX_BYTES is not
    buffered on (a megabyte line takes several socket reads: asyncio reads at most 256 KiB at a time)."""
    settings.OLLAMA_STREAM_READER = "aiohttp"
    monkeypatch.setattr(gateway, "STREAM_LINE_MAX_BYTES", 400)
    fake_ollama.script(Reply(chunks=("short ", "x" * (1 << 20), " tail"), thinking=""))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    seen = []
    with pytest.raises(gateway.StreamBroken, match="longer than 400 bytes"):
        async for piece in stream:
            seen.append(piece.visible)
    assert "".join(seen) == "short "
    assert in_flight(fake_ollama.url) == 0


async def test_a_silence_past_the_read_timeout_is_stream_broken(fake_ollama, reader, settings) -> None:
    settings.OLLAMA_READ_TIMEOUT = 0.3
    fake_ollama.script(Reply(content="one two three", thinking="", per_token=2.0))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    with pytest.raises(gateway.StreamBroken, match="read timeout"):
        await collect(stream)


async def test_the_read_timeout_is_the_longest_silence_not_the_whole_reply(fake_ollama, reader, settings) -> None:
    """A reply taking many times the read timeout, each chunk well within it, is read to its end (the aiohttp
    reader's timeout is its own silence watch, checked a few times per timeout)."""
    settings.OLLAMA_READ_TIMEOUT = 0.4
    fake_ollama.script(Reply(content="one two three four five six seven", thinking="", per_token=0.15))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    assert (await collect(stream))[0] == "one two three four five six seven"


async def test_missing_model_is_model_not_found(fake_ollama, reader) -> None:
    with pytest.raises(gateway.ModelNotFound, match="ollama pull deepseek-r1:70b"):
        await gateway.open_chat_stream(MESSAGES, options(model="deepseek-r1:70b"))
    assert in_flight(fake_ollama.url) == 0


async def test_full_queue_503_is_server_busy(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(status=503, error="server busy, please try again.  maximum pending requests exceeded"))
    with pytest.raises(gateway.ServerBusy):
        await gateway.open_chat_stream(MESSAGES, options())


async def test_a_refused_request_is_a_request_error(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(status=400, error="invalid options"))
    with pytest.raises(gateway.OllamaRequestError, match="invalid options"):
        await gateway.open_chat_stream(MESSAGES, options(think=False))


async def test_refused_connection_is_unavailable(dead_ollama_url, reader) -> None:
    with pytest.raises(gateway.OllamaUnavailable) as error:
        await gateway.open_chat_stream(MESSAGES, options(), hosts=[dead_ollama_url])
    assert error.value.host == dead_ollama_url


# --- failover before the first token ----------------------------------------------------------------


async def test_a_node_without_the_model_fails_over_to_one_with_it(fake_ollama, second_fake, reader) -> None:
    fake_ollama.state.models = ["bge-m3"]
    second_fake.script(Reply(content="from the node that has it", thinking=""))
    stream = await tried_first(fake_ollama.url, second_fake.url,
                               lambda: gateway.open_chat_stream(MESSAGES, options()))
    assert (await collect(stream))[0] == "from the node that has it"
    assert stream.host == second_fake.url
    assert len(fake_ollama.chat_requests()) == 1, "the node without the model was asked first"


async def test_a_busy_node_fails_over(fake_ollama, second_fake, reader) -> None:
    fake_ollama.script(Reply(status=503, error="server busy"))
    second_fake.script(Reply(content="from the idle node", thinking=""))
    stream = await tried_first(fake_ollama.url, second_fake.url,
                               lambda: gateway.open_chat_stream(MESSAGES, options()))
    assert (await collect(stream))[0] == "from the idle node"
    assert len(fake_ollama.chat_requests()) == 1


async def test_a_refusing_node_fails_over(fake_ollama, dead_ollama_url, reader) -> None:
    fake_ollama.script(Reply(content="from the live node", thinking=""))
    stream = await tried_first(dead_ollama_url, fake_ollama.url, lambda: gateway.open_chat_stream(
        MESSAGES, options(), hosts=[dead_ollama_url, fake_ollama.url]))
    assert (await collect(stream))[0] == "from the live node"
    assert stream.host == fake_ollama.url


async def test_no_first_chunk_in_time_fails_over(fake_ollama, second_fake, reader, settings) -> None:
    settings.OLLAMA_FIRST_CHUNK_TIMEOUT_S = 0.3
    fake_ollama.script(Reply(content="too late", ttft=3.0))
    second_fake.script(Reply(content="on time", thinking=""))
    stream = await tried_first(fake_ollama.url, second_fake.url,
                               lambda: gateway.open_chat_stream(MESSAGES, options()))
    assert (await collect(stream))[0] == "on time"
    assert in_flight(fake_ollama.url) == 0


# --- in flight, and closing -------------------------------------------------------------------------


async def test_a_stream_counts_in_flight_until_it_ends(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(content="one two three", thinking=""))
    stream = await gateway.open_chat_stream(MESSAGES, options())
    assert in_flight(fake_ollama.url) == 1
    await collect(stream)
    assert in_flight(fake_ollama.url) == 0


async def test_closing_the_stream_stops_the_servers_stream(fake_ollama, reader) -> None:
    fake_ollama.script(Reply(content=" ".join(["word"] * 200), thinking="", per_token=0.01))
    stream = await gateway.open_chat_stream(MESSAGES, options(think=False))
    seen = 0
    async for _ in stream:
        seen += 1
        if seen == 3:
            break
    await stream.aclose()
    assert in_flight(fake_ollama.url) == 0
    request = fake_ollama.chat_requests()[-1]
    for _ in range(50):  # the fake notices at its next write, within a token's pace
        if request.closed_by_client:
            break
        await asyncio.sleep(0.02)
    assert request.closed_by_client
    assert request.tokens_sent < 200


async def test_a_finished_stream_frees_its_connection(fake_ollama, reader) -> None:
    """Left open, the response would hold its pooled connection until garbage collection."""
    stream = await gateway.open_chat_stream(MESSAGES, options())
    await collect(stream)
    assert stream._chunks.ag_frame is None, "the reader's generator is still suspended, holding its response"


async def test_replies_one_after_another_reuse_one_pooled_connection(fake_ollama, settings) -> None:
    """The light reader reads each body to its end; the official client's stream, closed at `done` with its
    body unread, closes its connection, and the next reply connects anew."""
    settings.OLLAMA_STREAM_READER = "light"
    for _ in range(3):
        await collect(await gateway.open_chat_stream(MESSAGES, options()))
    pool = gateway.async_client(fake_ollama.url)._client._transport._pool
    assert len(pool.connections) == 1


async def test_the_aiohttp_reader_reuses_one_connection_and_sends_the_clients_headers(
    fake_ollama, settings, monkeypatch
) -> None:
    """Three replies in a row on one kept-alive connection (counted by the server), with the official client's
    authorization (OLLAMA_API_KEY) and user agent: a node behind an authenticating proxy is reached alike."""
    settings.OLLAMA_STREAM_READER = "aiohttp"
    monkeypatch.setenv("OLLAMA_API_KEY", "node-secret")
    gateway._clients.pop(asyncio.get_running_loop(), None)
    gateway._stream_sessions.pop(asyncio.get_running_loop(), None)
    await collect(await gateway.open_chat_stream(MESSAGES, options()))
    after_the_first = fake_ollama.connections_accepted()  # its chat's, and the server version's (httpx)
    for _ in range(2):
        await collect(await gateway.open_chat_stream(MESSAGES, options()))
    assert fake_ollama.connections_accepted() == after_the_first
    headers = fake_ollama.chat_requests()[-1].headers
    assert headers.get("authorization") == "Bearer node-secret"
    assert headers.get("user-agent", "").startswith("ollama-python/")
