"""The Ollama gateway: the only module that imports `ollama`.

Long on purpose: kept whole as the one importer of the ollama client, so every call to it passes one gate.

It hides what the official client leaves to its callers: timeouts (the
client's default waits forever), errors that arrive as four different
exception types, failover to another node before the first token, one client
per node per event loop (building one costs ~16 ms), and DeepSeek-R1's
reasoning, which newer servers send in `message.thinking` and older ones
inline in `<think>...</think>` (sometimes without the opening tag).

Streamed chats are read by the gateway itself unless OLLAMA_STREAM_READER=client: /api/chat is POSTed and each
NDJSON line parsed by orjson into a plain dict, where `client.chat(stream=True)` validates every chunk into a
typed ChatResponse. By default (`aiohttp`) on an aiohttp session per node and event loop, with the official
client's URL, headers and timeouts; `light` POSTs on the official client's own httpx client instead. Both hand
over every line received before a connection is reset or cut short, then raise (aiohttp's stream reader would
drop what it held unread: `_aiohttp_lines` keeps nothing waiting in it). Both fail as the client
does (`ollama.ResponseError` with the HTTP status, -1 for an error line; the transport's errors as they come), so
the error mapping, the retry without `think` and failover treat every reader alike; and both read each body to
its end, so the connection goes back to the pool (the client's stream, closed at `done` with its body unread,
costs a new connection per reply). Measured by bench/stream_reader.py (300-token replies from the fake Ollama,
processor time of the reading process, on the shared 2-core machine): httpx's light reader took 0.78-0.93 of the
client's; aiohttp's 0.50 of the client's unpaced and 0.59 of httpx's with 50 replies at once at 20 ms a token
(24-25 against 41-42 ms a reply): at a model's pace each token is an HTTP chunk of its own, and most of its cost is the
loop waking and the transport reading it, which aiohttp's compiled parser does for less.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import ollama
import orjson
from django.conf import settings

from helpdesk.llm import nodes
from helpdesk.observability import metrics

logger = logging.getLogger(__name__)

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
# Servers before this version ignore `think` and put reasoning inline.
THINKING_FIELD_SINCE = (0, 9, 0)


class OllamaError(Exception):
    """A failure talking to Ollama; `kind` is stable for metrics and logs."""

    kind = "error"

    def __init__(self, detail: str, *, host: str = "", model: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.host = host
        self.model = model

    def __str__(self) -> str:
        where = f" (host {self.host})" if self.host else ""
        return f"{self.detail}{where}"


class OllamaUnavailable(OllamaError):
    """Connection refused, DNS failure or timeout: the node cannot be reached."""

    kind = "unavailable"


class ModelNotFound(OllamaError):
    kind = "model_not_found"


class ServerBusy(OllamaError):
    """503: the node's request queue is full."""

    kind = "busy"


class StreamBroken(OllamaError):
    """The stream started, then failed: an error line or a dropped connection."""

    kind = "stream_broken"


class TooSlow(OllamaError):
    """The reply went on past its caller's deadline (REPLY_MAX_DURATION_S): a node writing too slowly."""

    kind = "too_slow"


class OllamaRequestError(OllamaError):
    kind = "request_error"


class ToolsNotSupported(OllamaRequestError):
    """400 "... does not support tools": the model's template has no tool calling (DeepSeek-R1). Every node
    answers the same for the same model, so it does not fail over; the caller asks another way."""

    kind = "tools_not_supported"


# Another node may still serve the request: it may be up, idle, or have the model pulled.
FAILOVER_ERRORS = (OllamaUnavailable, ServerBusy, ModelNotFound)


@dataclass(frozen=True)
class ChatOptions:
    """Per-request generation options (the seed's model.json, as Ollama names them)."""

    model: str
    temperature: float
    top_p: float
    num_predict: int
    num_ctx: int
    think: bool
    keep_alive: str = "30m"

    def ollama_options(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "num_predict": self.num_predict,
            "num_ctx": self.num_ctx,
        }


@dataclass
class ChatStats:
    """What Ollama reports on the final chunk (durations in nanoseconds)."""

    done_reason: str = ""
    prompt_tokens: int = 0
    reply_tokens: int = 0
    total_duration_ns: int = 0
    load_duration_ns: int = 0
    eval_duration_ns: int = 0


@dataclass
class StreamPiece:
    visible: str = ""
    reasoning: str = ""


class ReasoningSplitter:
    """Separates DeepSeek-R1 reasoning from the answer in streamed content.

    With `reasoning_first` (old servers that ignore `think`, whose template
    opens the `<think>` block in the prompt), everything before `</think>` is
    reasoning even without an opening tag; it is held back until the tag shows,
    or released as the answer if the stream ends without one. Otherwise only an
    explicit `<think>` at the very start opens a reasoning block.
    """

    def __init__(self, *, reasoning_first: bool) -> None:
        self._state = "undecided" if not reasoning_first else "reasoning_maybe"
        self._buffer = ""
        self._after_reasoning = False

    def feed(self, text: str) -> StreamPiece:
        if not text:
            return StreamPiece()
        self._buffer += text
        return self._drain(final=False)

    def finish(self) -> StreamPiece:
        return self._drain(final=True)

    def _drain(self, *, final: bool) -> StreamPiece:
        piece = StreamPiece()
        while True:
            buffer = self._buffer
            if self._state == "answer":
                if self._after_reasoning:
                    # The answer after "</think>" starts with blank lines, maybe in later chunks.
                    buffer = buffer.lstrip()
                    self._after_reasoning = not buffer
                piece.visible += buffer
                self._buffer = ""
                return piece
            if self._state == "undecided":
                stripped = buffer.lstrip()
                if stripped.startswith(THINK_OPEN):
                    self._buffer = stripped[len(THINK_OPEN) :]
                    self._state = "reasoning"
                    continue
                if not final and (not stripped or THINK_OPEN.startswith(stripped)):
                    return piece  # could still become "<think>"
                self._state = "answer"
                continue
            if self._state == "reasoning_maybe" and buffer.lstrip().startswith(THINK_OPEN):
                self._buffer = buffer.lstrip()[len(THINK_OPEN) :]
                self._state = "reasoning"
                continue
            # "reasoning" or "reasoning_maybe": look for the closing tag.
            end = buffer.find(THINK_CLOSE)
            if end >= 0:
                piece.reasoning += buffer[:end]
                self._buffer = buffer[end + len(THINK_CLOSE) :]
                self._state = "answer"
                self._after_reasoning = True
                continue
            if final:
                if self._state == "reasoning_maybe":
                    piece.visible += buffer  # never closed: it was the answer all along
                else:
                    piece.reasoning += buffer
                self._buffer = ""
                return piece
            if self._state == "reasoning":
                # Keep a tail that could be the start of "</think>".
                keep = len(THINK_CLOSE) - 1
                safe = buffer[:-keep] if len(buffer) > keep else ""
                piece.reasoning += safe
                self._buffer = buffer[len(safe) :]
            return piece


# --- clients ---------------------------------------------------------------------

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ollama.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
# The aiohttp reader's sessions, one per node per event loop like the clients (a session holds its connection pool).
_stream_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aiohttp.ClientSession]] = (
    weakref.WeakKeyDictionary()
)
_server_versions: dict[str, tuple[float, tuple[int, ...]]] = {}
VERSION_TTL_S = 600.0
# The most of an unfinished NDJSON line the aiohttp reader buffers: a chunk is a token or two, the `done` line a
# few hundred bytes; a line not ended within it ends the stream as broken.
STREAM_LINE_MAX_BYTES = 1 << 20


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.OLLAMA_CONNECT_TIMEOUT,
        read=settings.OLLAMA_READ_TIMEOUT,
        write=10.0,
        pool=10.0,
    )


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=None, max_keepalive_connections=settings.CELERY_GENERATION_CONCURRENCY)


def async_client(host: str) -> ollama.AsyncClient:
    """One client per node per event loop, so connections are reused across replies.

    Not bounded by httpx's default of 100 connections: the stream loop carries every reply of its process on
    one client per node (CELERY_GENERATION_CONCURRENCY bounds them), and a stream waiting for a connection of
    its own client's pool would wait for another customer's whole reply."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(host)
    if client is None:
        client = ollama.AsyncClient(host=host, timeout=_timeout(), limits=_limits())
        per_loop[host] = client
    return client


def sync_client(host: str, *, timeout: float | None = None) -> ollama.Client:
    return ollama.Client(host=host, timeout=timeout or _timeout())


def probe(host: str, *, timeout: float = 3.0) -> nodes.NodeHealth:
    """Ask one node what it is and what it has: version (timed: the latency probe), pulled and loaded models."""
    started = time.perf_counter()
    try:
        client = sync_client(host, timeout=timeout)
        response = client._client.get("/api/version")  # the official client has no version call
        response.raise_for_status()
        latency_ms = (time.perf_counter() - started) * 1000
        version = str(response.json().get("version", ""))
        pulled = [m.model for m in client.list().models if m.model]
        loaded = [m.model for m in client.ps().models if m.model]
    except Exception as exc:
        error = _translate(exc, host=host, model="", started=False)
        return nodes.NodeHealth(host=host, up=False, checked_at=time.time(), error=error.detail)
    return nodes.NodeHealth(host=host, up=True, checked_at=time.time(), version=version, models=pulled,
                            loaded=loaded, latency_ms=round(latency_ms, 1))


def nodes_status() -> list[nodes.NodeState]:
    """Every node as routing sees it, probed first when the last health check is too old (status pages)."""
    states = nodes.nodes_state()
    if nodes.health_is_stale(states, max_age=max(settings.OLLAMA_HEALTH_INTERVAL_S * 3, 30)):
        nodes_check()
        states = nodes.nodes_state()
    return states


def nodes_check(hosts: Sequence[str] | None = None) -> list[nodes.NodeHealth]:
    """Probe every node at once and record what was found (the periodic health check, and status pages)."""
    from concurrent.futures import ThreadPoolExecutor

    hosts = list(hosts or settings.OLLAMA_HOSTS)
    with ThreadPoolExecutor(max_workers=min(len(hosts), 16) or 1) as pool:
        found = list(pool.map(probe, hosts))
    for health in found:
        nodes.health_record(health)
        if not health.up:
            logger.warning("Ollama node %s is down: %s", health.host, health.error)
    return found


def _parse_version(text: str) -> tuple[int, ...]:
    numbers = []
    for part in text.split("-")[0].split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits) if digits else 0)
    return tuple(numbers)


async def server_version(host: str) -> tuple[int, ...]:
    """The node's version, cached; (0,) when it cannot be told.

    Only an answer is cached: a node that was down for the check would otherwise pass for a server older
    than 0.9 for ten minutes after it came back, and its replies would be held back as possible reasoning.
    """
    cached = _server_versions.get(host)
    now = time.monotonic()
    if cached and now - cached[0] < VERSION_TTL_S:
        return cached[1]
    try:
        # The official client has no version call; its own HTTP client is reused.
        response = await async_client(host)._client.get("/api/version")
        version = _parse_version(response.json().get("version", "0"))
    except (httpx.HTTPError, ValueError):
        return (0,)
    _server_versions[host] = (now, version)
    return version


def _translate(exc: BaseException, *, host: str, model: str, started: bool) -> OllamaError:
    """Map the client's many exception types onto ours."""
    if isinstance(exc, OllamaError):
        return exc
    if isinstance(exc, ollama.ResponseError):
        status = exc.status_code
        detail = str(exc.error)
        if status == 404 or ("not found" in detail.lower() and "model" in detail.lower()):
            return ModelNotFound(
                f"model '{model}' is not available on this node; run `ollama pull {model}`",
                host=host,
                model=model,
            )
        if status == 503:
            return ServerBusy(f"Ollama is busy: {detail}", host=host, model=model)
        if status == -1 or started:
            return StreamBroken(f"Ollama stopped the reply: {detail}", host=host, model=model)
        if status == 400 and "does not support tools" in detail.lower():
            return ToolsNotSupported(f"model '{model}' does not support tools: {detail}", host=host, model=model)
        if status >= 500:
            return OllamaUnavailable(f"Ollama answered {status}: {detail}", host=host, model=model)
        return OllamaRequestError(f"Ollama refused the request ({status}): {detail}", host=host, model=model)
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        # TimeoutError: aiohttp's socket read and connect timeouts (an OSError, so before the branch below).
        if started:
            return StreamBroken("Ollama stopped sending (read timeout)", host=host, model=model)
        return OllamaUnavailable(f"Ollama did not answer in time ({type(exc).__name__})", host=host, model=model)
    if isinstance(exc, (httpx.ConnectError, ConnectionError, OSError)):
        return OllamaUnavailable(f"cannot connect to Ollama: {exc}", host=host, model=model)
    if isinstance(exc, (httpx.HTTPError, aiohttp.ClientError, ValueError)):
        if started:
            return StreamBroken(f"the stream from Ollama broke: {exc}", host=host, model=model)
        return OllamaUnavailable(f"Ollama request failed: {exc}", host=host, model=model)
    return OllamaError(f"unexpected Ollama failure: {exc!r}", host=host, model=model)


@dataclass
class ChatStream:
    """An open streaming chat on one node; iterate for pieces, then read `stats`."""

    host: str
    model: str
    _chunks: AsyncIterator[Any]
    _first: Any
    _splitter: ReasoningSplitter
    stats: ChatStats = field(default_factory=ChatStats)
    # Counts this stream against its node's requests in flight until it is closed.
    _inflight_token: str = ""

    async def __aiter__(self) -> AsyncIterator[StreamPiece]:
        chunk = self._first
        try:
            while chunk is not None:
                piece = self._piece(chunk)
                if piece.visible or piece.reasoning:
                    yield piece
                if chunk.get("done"):
                    break
                chunk = await anext(self._chunks, None)
        except Exception as exc:
            error = _translate(exc, host=self.host, model=self.model, started=True)
            metrics.ollama_failed(kind=error.kind, node=self.host)
            nodes.node_failed(self.host, kind=error.kind)
            raise error from exc
        finally:
            # The reader's generator stops at the `done` chunk without being
            # exhausted: close it now, so the HTTP response is released (the
            # light reader's connection back to the pool, the client's closed)
            # instead of lingering until garbage collection.
            await self.aclose()
        tail = self._splitter.finish()
        if tail.visible or tail.reasoning:
            yield tail

    def _piece(self, chunk: Any) -> StreamPiece:
        # By key: the light reader's chunks are dicts, the client's are its response objects, which answer `get`.
        message = chunk.get("message") or {}
        piece = self._splitter.feed(message.get("content") or "")
        thinking = message.get("thinking") or ""
        if thinking:
            piece.reasoning = thinking + piece.reasoning
        if chunk.get("done"):
            self.stats = ChatStats(
                done_reason=chunk.get("done_reason") or "",
                prompt_tokens=chunk.get("prompt_eval_count") or 0,
                reply_tokens=chunk.get("eval_count") or 0,
                total_duration_ns=chunk.get("total_duration") or 0,
                load_duration_ns=chunk.get("load_duration") or 0,
                eval_duration_ns=chunk.get("eval_duration") or 0,
            )
        return piece

    async def aclose(self) -> None:
        """Close the HTTP stream, which makes Ollama stop generating."""
        closer = getattr(self._chunks, "aclose", None)
        if closer is not None:
            try:
                await closer()
            except Exception:
                logger.debug("closing Ollama stream failed", exc_info=True)
        if self._inflight_token:
            nodes.request_finished(self.host, self._inflight_token)
            self._inflight_token = ""


def stream_reader() -> str:
    """Which reader streams chats: "aiohttp" (the default), "light" (httpx, on the official client's own pool) or
    "client" (the official client's typed chunks)."""
    return getattr(settings, "OLLAMA_STREAM_READER", "aiohttp")


async def _chat_chunks(
    client: ollama.AsyncClient, messages: Sequence[dict[str, str]], options: ChatOptions, *, think: bool | None
) -> AsyncIterator[Any]:
    """The streamed chat's chunks, unread: nothing is sent until the first is asked for (as the client does)."""
    if stream_reader() == "client":
        return await client.chat(
            model=options.model,
            messages=list(messages),
            stream=True,
            think=think,
            options=options.ollama_options(),
            keep_alive=options.keep_alive,
        )
    body: dict[str, Any] = {
        "model": options.model,
        "messages": list(messages),
        "stream": True,
        "options": options.ollama_options(),
        "keep_alive": options.keep_alive,
    }
    if think is not None:
        body["think"] = think
    if stream_reader() == "aiohttp":
        return _aiohttp_chunks(client, body)
    return _light_chunks(client._client, body)


def _stream_session(client: ollama.AsyncClient) -> aiohttp.ClientSession:
    """The aiohttp session for the client's node on this event loop: its URL, headers (an OLLAMA_API_KEY's
    authorization included) and timeouts are the client's, its connection pool unbounded for the reason
    `async_client` gives."""
    per_loop = _stream_sessions.setdefault(asyncio.get_running_loop(), {})
    base_url = str(client._client.base_url)
    session = per_loop.get(base_url)
    if session is None or session.closed:
        headers = {name: value for name, value in client._client.headers.items()
                   if name in ("accept", "content-type", "user-agent", "authorization")}
        session = aiohttp.ClientSession(
            base_url=base_url,
            headers=headers,
            # The read timeout is `_SilenceWatch`'s, not aiohttp's: its `sock_read` timer is cancelled and made
            # anew on every chunk received (a tenth of the reader's processor time at a model's pace).
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=settings.OLLAMA_CONNECT_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=0),
            # Any byte waiting unread pauses the socket's reading until `_aiohttp_lines` takes it: see there.
            read_bufsize=1,
            trust_env=True,  # proxies and NO_PROXY from the environment, as httpx (the client) honours them
        )
        per_loop[base_url] = session
    return session


async def stream_sessions_close() -> None:
    """Close the aiohttp sessions of the running loop (their kept-alive connections), for a loop about to end:
    left to the garbage collector, each would complain of an unclosed session."""
    for session in _stream_sessions.pop(asyncio.get_running_loop(), {}).values():
        await session.close()


@atexit.register
def _stream_sessions_close_at_exit() -> None:
    """At the process's end, close the sessions of loops still running on their own threads (the stream loop);
    a loop already closed has closed its connections' sockets with it, so its sessions are only marked closed."""
    for loop, sessions in list(_stream_sessions.items()):
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(_sessions_close(list(sessions.values())), loop)
            try:
                future.result(timeout=2)
            except Exception:  # the loop stopped meanwhile, or a close hung: the process ends anyway
                logger.debug("closing the stream sessions at exit failed", exc_info=True)
        elif loop.is_closed():
            for session in sessions.values():
                connector = session.connector
                session.detach()
                if connector is not None:
                    connector._close()  # marks it closed; its loop is gone, so there is nothing to await
    _stream_sessions.clear()


async def _sessions_close(sessions: list[aiohttp.ClientSession]) -> None:
    for session in sessions:
        await session.close()


class _Silence:
    """One aiohttp stream's read in progress, as `_SilenceWatch` sees it: since when it has waited for its
    answer's headers or its next data (None between reads, while the stream's consumer has what it read), and
    the task waiting (the first chunk may be awaited by another task than the rest: a failover's time limit)."""

    __slots__ = ("task", "timed_out", "waiting_since")

    def __init__(self) -> None:
        self.task: asyncio.Task | None = None
        self.waiting_since: float | None = None
        self.timed_out = False


class _SilenceWatch:
    """OLLAMA_READ_TIMEOUT for every aiohttp stream of one event loop, checked by one task a few times per
    timeout: a read waiting longer than that is cancelled and raised as TimeoutError, as aiohttp's `sock_read`
    raised it. The cost per chunk is two attribute writes, where `sock_read` made a timer per chunk; a silence
    is noticed within a quarter of the timeout (at most one second) after it runs out."""

    def __init__(self) -> None:
        self.reads: set[_Silence] = set()
        self.checker: asyncio.Task | None = None

    @contextlib.contextmanager
    def watching(self) -> Iterator[_Silence]:
        read = _Silence()
        self.reads.add(read)
        if self.checker is None or self.checker.done():
            self.checker = asyncio.get_running_loop().create_task(self._check())
        try:
            yield read
        except asyncio.CancelledError:
            # This watch's cancel, and no other (a stop, a deadline, a shutdown) asked for since: a timeout.
            task = asyncio.current_task()
            if read.timed_out and task is not None and task.uncancel() == 0:
                raise TimeoutError(f"no data from Ollama for {settings.OLLAMA_READ_TIMEOUT:g} s") from None
            raise
        finally:
            self.reads.discard(read)

    async def _check(self) -> None:
        loop = asyncio.get_running_loop()
        while self.reads:
            timeout = settings.OLLAMA_READ_TIMEOUT
            await asyncio.sleep(min(timeout / 4, 1.0))
            now = loop.time()
            for read in list(self.reads):
                since = read.waiting_since
                if since is not None and now - since >= timeout and not read.timed_out and read.task is not None:
                    read.timed_out = True
                    read.task.cancel()


_silence_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SilenceWatch] = weakref.WeakKeyDictionary()


def _silence_watch() -> _SilenceWatch:
    loop = asyncio.get_running_loop()
    watch = _silence_watches.get(loop)
    if watch is None:
        watch = _silence_watches[loop] = _SilenceWatch()
    return watch


async def _aiohttp_chunks(client: ollama.AsyncClient, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """POST /api/chat with aiohttp and yield each NDJSON line as a plain dict; otherwise as `_light_chunks`.

    Why a second HTTP library: at a model's pace each token arrives as its own HTTP chunk, and the stream loop
    wakes for every one; aiohttp's compiled HTTP parser and stream reader take well under half of httpx's
    processor time per chunk (bench/stream_reader.py), and a generation worker reads a hundred streams at once.
    Its errors (aiohttp.ClientError; TimeoutError for its connect timeout and for the read timeout, which
    `_SilenceWatch` keeps) map like httpx's in `_translate`.
    """
    loop = asyncio.get_running_loop()
    with _silence_watch().watching() as read:
        read.task, read.waiting_since = asyncio.current_task(), loop.time()
        async with _stream_session(client).post("api/chat", data=orjson.dumps(body)) as response:
            read.waiting_since = None
            if response.status >= 300:
                raise ollama.ResponseError(await response.text(errors="replace"), response.status)
            async with contextlib.aclosing(_ndjson_parts(_aiohttp_lines(response.content, read))) as parts:
                async for part in parts:
                    yield part


async def _aiohttp_lines(content: aiohttp.StreamReader, read: _Silence | None = None) -> AsyncIterator[bytes]:
    """The body's complete lines, split here from whatever each `readany` returns, so that every line that
    arrived before the connection failed is handed over before the failure is raised.

    aiohttp's stream reader raises a connection's failure (ClientPayloadError for a reset or a body cut short)
    on the next read as soon as it is set, dropping the data it holds unread. So nothing may wait in it: the
    session's read buffer of one byte makes its flow control pause the socket's reading at the first byte that
    is not taken, and resume it only when `readany` takes it. The rest of the reply, and the reset or the end
    behind it, then wait in the kernel, which hands over data before a reset (httpx's transport, anyio, reads
    the same way: only while a read waits). What `readany` returned is split here, its complete lines handed
    over from this generator's own state, and only a line cut short by the failure is lost.
    (Measured by bench/stream_reader.py: the pausing costs ~15 µs of a paced chunk; readline on a large
    buffer lost the lines received while the consumer was busy with an earlier one.)
    """
    pending = b""
    loop = asyncio.get_running_loop()
    while True:
        if read is not None:
            read.task, read.waiting_since = asyncio.current_task(), loop.time()
        data = await content.readany()
        if read is not None:
            read.waiting_since = None
        if not data:
            break
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        if len(pending) > STREAM_LINE_MAX_BYTES:
            raise aiohttp.ClientPayloadError(f"an NDJSON line longer than {STREAM_LINE_MAX_BYTES} bytes")
        for line in lines:
            yield line
    if pending:
        yield pending


async def _light_chunks(http: httpx.AsyncClient, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """POST /api/chat on the client's own HTTP connection pool and yield each NDJSON line as a plain dict.

    Fails exactly as the official client's stream does (`ollama.ResponseError` with the HTTP status for an
    answer that is not 2xx, status -1 for an error line; httpx's own errors as they come), so `_translate` and
    the retry without `think` treat both readers alike.
    """
    async with http.stream("POST", "/api/chat", content=orjson.dumps(body)) as response:
        if not response.is_success:
            await response.aread()
            raise ollama.ResponseError(response.text, response.status_code)
        async with contextlib.aclosing(_ndjson_parts(response.aiter_lines())) as parts:
            async for part in parts:
                yield part


async def _ndjson_parts(lines: AsyncIterator[str] | AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    """A streamed chat's NDJSON lines (either reader's) as plain dicts: blank lines skipped, an error line raised
    as the official client raises it (`ollama.ResponseError`, status -1).

    The `done` chunk goes out only once the body is read to its end (Ollama ends it right after), so the
    connection returns to the pool for the next reply: the caller stops at `done` and closes the reader (which
    closes this generator with it), and a response closed unread closes its connection (the official client's
    stream does; it costs a new connection per reply)."""
    done = None
    async for line in lines:
        if done is not None or not line.strip():
            continue
        part = orjson.loads(line)
        if error := part.get("error"):
            raise ollama.ResponseError(error)
        if part.get("done"):
            done = part
            continue
        yield part
    if done is not None:
        yield done


async def _open_on(host: str, messages: Sequence[dict[str, str]], options: ChatOptions) -> ChatStream:
    client = async_client(host)
    think: bool | None = options.think
    reasoning_first = False
    if options.think and await server_version(host) < THINKING_FIELD_SINCE:
        reasoning_first = True
    for attempt in range(2):
        try:
            chunks = await _chat_chunks(client, messages, options, think=think)
            try:
                first = await asyncio.wait_for(anext(chunks, None), settings.OLLAMA_FIRST_CHUNK_TIMEOUT_S)
            except TimeoutError:
                await chunks.aclose()
                raise OllamaUnavailable(
                    f"no first token within {settings.OLLAMA_FIRST_CHUNK_TIMEOUT_S:g} s", host=host, model=options.model
                ) from None
            return ChatStream(
                host=host,
                model=options.model,
                _chunks=chunks,
                _first=first,
                _splitter=ReasoningSplitter(reasoning_first=reasoning_first),
            )
        except ollama.ResponseError as exc:
            # A model pulled before its template learnt thinking answers 400:
            # ask again without `think` and split the reasoning ourselves.
            if attempt == 0 and think and exc.status_code == 400 and "thinking" in str(exc.error).lower():
                logger.info("model %s on %s does not support think; parsing reasoning inline", options.model, host)
                think = False
                reasoning_first = True
                continue
            raise _translate(exc, host=host, model=options.model, started=False) from exc
        except Exception as exc:
            raise _translate(exc, host=host, model=options.model, started=False) from exc
    raise OllamaRequestError("unreachable", host=host, model=options.model)


async def open_chat_stream(
    messages: Sequence[dict[str, str]],
    options: ChatOptions,
    *,
    hosts: Sequence[str] | None = None,
) -> ChatStream:
    """Open a streaming chat on the least busy healthy node, failing over until the first chunk arrives.

    Refusals, timeouts, 5xx, 503 (a full queue) and a missing model each send
    the request to the next node and count against the node that failed.
    Once this returns, a failure belongs to that node and surfaces from the
    iteration as `StreamBroken`; the caller decides what the customer sees.
    """
    last_error: OllamaError | None = None
    for state, token in nodes.nodes_to_try(model=options.model, hosts=list(hosts) if hosts else None):
        try:
            stream = await _open_on(state.host, messages, options)
        except FAILOVER_ERRORS as exc:
            nodes.request_finished(state.host, token)
            _node_failure(state.host, exc)
            last_error = exc
            continue
        except BaseException as exc:
            nodes.request_finished(state.host, token)
            if isinstance(exc, OllamaError):
                metrics.ollama_failed(kind=exc.kind, node=state.host)
            raise
        stream._inflight_token = token
        nodes.node_succeeded(state)
        return stream
    assert last_error is not None
    raise last_error


def _node_failure(host: str, error: OllamaError) -> None:
    logger.warning("Ollama node %s failed before the first token: %s", host, error)
    metrics.ollama_failed(kind=error.kind, node=host)
    if isinstance(error, ModelNotFound):
        nodes.node_model_missing(host, error.model)
    elif nodes.node_failed(host, kind=error.kind):
        logger.warning("Ollama node %s is taken out for %g s after repeated failures", host,
                       settings.OLLAMA_NODE_COOLDOWN_S)


async def _on_a_node(
    model: str, request: Callable[[ollama.AsyncClient], Awaitable[Any]], *, hosts: list[str] | None = None
) -> tuple[str, Any]:
    """(the node, its response) for one non-streamed request on the least busy node that has the model,
    failing over like chats: a refusal, a full queue or a missing model sends it to the next node."""
    last_error: OllamaError | None = None
    for state, token in nodes.nodes_to_try(model=model, hosts=hosts):
        try:
            response = await request(async_client(state.host))
        except BaseException as exc:
            nodes.request_finished(state.host, token)
            if not isinstance(exc, Exception):
                raise
            last_error = _translate(exc, host=state.host, model=model, started=False)
            if not isinstance(last_error, FAILOVER_ERRORS):
                metrics.ollama_failed(kind=last_error.kind, node=state.host)
                raise last_error from exc
            _node_failure(state.host, last_error)
            continue
        # Uncounted, and its success noted (a write only when it ends a failure streak), in one round trip.
        nodes.request_finished(state.host, token, succeeded=state)
        return state.host, response
    raise last_error or OllamaUnavailable("no node has the model", host="", model=model)


async def embed(texts: Sequence[str], *, model: str, host: str | None = None) -> list[list[float]]:
    """Embed texts on the least busy node that has the model, failing over like chats."""
    _, response = await _on_a_node(model, lambda client: client.embed(model=model, input=list(texts)),
                                   hosts=[host] if host else None)
    return [list(vector) for vector in response.embeddings]


async def structured_chat(
    messages: Sequence[dict[str, str]], *, model: str, schema: dict[str, Any], timeout_s: float,
    keep_alive: str = "30m",
) -> dict[str, Any]:
    """One non-streamed answer constrained to a JSON schema (Ollama's structured outputs: `format` = the
    schema), for the small classifying models: the intent classifier, the judge, the model moderation check.

    The whole call, failover included, keeps to `timeout_s` (these run in front of or after a customer's
    reply and must never hold it up); temperature 0, no thinking. Raises OllamaError when no node answers in
    time or the answer is not a JSON object.
    """
    def ask(client: ollama.AsyncClient) -> Awaitable[Any]:
        return client.chat(model=model, messages=list(messages), stream=False, format=schema, think=False,
                           options={"temperature": 0}, keep_alive=keep_alive)

    try:
        host, response = await asyncio.wait_for(_on_a_node(model, ask), timeout_s)
    except TimeoutError:
        raise OllamaUnavailable(f"no answer within {timeout_s:g} s", host="", model=model) from None
    try:
        answer = json.loads(response.message.content or "")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise OllamaRequestError("the answer is not the JSON object asked for", host=host, model=model)
    return answer


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for: a tool's name and its arguments as the model wrote them (unchecked)."""

    name: str
    arguments: dict[str, Any]


async def tool_chat(
    messages: Sequence[dict[str, str]], *, model: str, tools: Sequence[dict[str, Any]], timeout_s: float,
    keep_alive: str = "30m",
) -> list[ToolCall]:
    """One non-streamed answer with Ollama's tool calling (`tools`: each {"type": "function", "function":
    {name, description, parameters}}): the calls in `message.tool_calls`, in order, or [] when the model
    answered in words. Kept to `timeout_s` with failover, temperature 0, no thinking, as `structured_chat`.

    Raises ToolsNotSupported when the model refuses tools (its template has none: DeepSeek-R1), OllamaError
    for the rest. A tool the client cannot send (a parameters schema that is not an object) is refused here,
    before any node is asked, so it never counts against a node.
    """
    try:
        checked = [ollama.Tool.model_validate(tool) for tool in tools]
    except ValueError as exc:
        raise OllamaRequestError(f"a tool cannot be sent to Ollama: {exc}"[:300], host="", model=model) from exc

    def ask(client: ollama.AsyncClient) -> Awaitable[Any]:
        return client.chat(model=model, messages=list(messages), tools=checked, stream=False, think=False,
                           options={"temperature": 0}, keep_alive=keep_alive)

    try:
        _, response = await asyncio.wait_for(_on_a_node(model, ask), timeout_s)
    except TimeoutError:
        raise OllamaUnavailable(f"no answer within {timeout_s:g} s", host="", model=model) from None
    return [ToolCall(name=call.function.name, arguments=dict(call.function.arguments or {}))
            for call in response.message.tool_calls or []]
