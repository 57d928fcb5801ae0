"""A protocol-faithful fake Ollama server for tests and benchmarks.

A real HTTP/1.1 server on 127.0.0.1 that streams NDJSON in chunked encoding
the way Ollama does, so the official `ollama` client is exercised for real.
Each test scripts what the next chat requests get: text, thinking (in the
`thinking` field or inline `<think>`), pace, HTTP errors, an error line in the
middle of the stream, or a dropped connection.

One module of ~700 lines on purpose: `python -m tests.fake_ollama` runs it standalone (`make run` without a GPU,
the benchmarks, the screenshots), so the server, its script and its command line travel as one file.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN_PATTERN = re.compile(r"[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+\s*|\s+")


def split_tokens(text: str) -> list[str]:
    """Words (with their trailing space) and single CJK characters, roughly as a tokenizer would."""
    return TOKEN_PATTERN.findall(text)


_EMBED_WORD = re.compile(r"[a-z0-9]+")
_EMBED_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_EMBED_STOP = frozenset("a an the is are do does i my me you your to of for and or in on it can how what".split())


def text_features(text: str) -> list[str]:
    """English words (plural "s" dropped, common words out) and Chinese character bigrams."""
    lowered = text.lower()
    features = [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _EMBED_WORD.findall(lowered)]
    features = [w for w in features if w not in _EMBED_STOP]
    for run in _EMBED_CJK_RUN.findall(lowered):
        features += [run[i : i + 2] for i in range(len(run) - 1)] or [run]
    return features


def hashed_word_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic embedding that still means something: texts sharing words point the same way.

    English words (plural "s" dropped) and Chinese character bigrams are each
    hashed to a signed dimension; paraphrases that share words score high,
    unrelated texts near zero. Independent of the product's own tokenizer.
    """
    vector = [0.0] * dimensions
    for feature in text_features(text):
        digest = hashlib.md5(feature.encode()).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


@dataclass
class Reply:
    """What the fake answers to one chat request."""

    content: str = "Hello! How can I help you today?"
    thinking: str = ""
    # "field": thinking in message.thinking (servers >= 0.9); "inline": <think>..</think>
    # in content; "inline_no_open": reasoning then </think>, the opening tag in the prompt.
    thinking_style: str = "field"
    ttft: float = 0.0
    per_token: float = 0.0
    status: int = 200
    error: str = ""
    error_after_tokens: int | None = None
    drop_after_tokens: int | None = None
    done_reason: str = "stop"
    # For trying the product by hand and for evaluations: when the prompt carries numbered sources, answer
    # with the two sentences of the first source closest to the customer's question and cite it as [1].
    cite_first_source: bool = False
    # The same, but one number of the answer is wrong (a model misquoting its source): what number
    # verification must catch. Implies citing; the reply has a changed number whenever the source has any.
    change_number: bool = False
    # Stream the content as exactly these pieces (e.g. a string split across two chunks) instead of by words.
    chunks: tuple[str, ...] = ()
    # Structured outputs (a request whose `format` is a JSON schema, as Ollama takes it): answer with exactly this
    # object as the message's JSON content, whatever the schema (a test drives the model's choice with it) ...
    structured: dict[str, Any] | None = None
    # ... or, without one, with the first instance of the schema a model constrained to it could write: every
    # required property, each enum's first value, empty strings and lists, zeros (schema_instance). Off by
    # default: a reply scripted with JSON in `content` (the intent and judge tests) goes out as it is.
    fill_schema: bool = False
    # Tool calling (a request with `tools`, as Ollama takes them): answer with exactly these calls, each
    # {"name": ..., "arguments": {...}}, in `message.tool_calls` as Ollama writes them (a test drives the model's
    # call, or makes it call a tool that was not offered) ...
    tool_calls: tuple[dict[str, Any], ...] | None = None
    # ... or, without them, call the first tool offered with arguments taken from the last user message
    # (tool_call_auto). Off by default: the scripted content goes out, a model answering in words.
    call_tools: bool = False


def schema_instance(schema: Any) -> Any:
    """The first value a JSON schema allows, as a grammar-constrained model's first choice at each step would
    write it: `const`, else the first `enum` value, else by `type` (an object with its properties, every one of
    them, an empty array, "", 0, false); `anyOf`/`oneOf`: the first branch."""
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return schema_instance(schema[key][0])
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if kind == "object" or "properties" in schema:
        return {name: schema_instance(spec) for name, spec in (schema.get("properties") or {}).items()}
    return {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False}.get(kind)


def structured_content(body: dict[str, Any], reply: Reply) -> str | None:
    """The JSON content of a structured-output answer (a `format` schema in the request), or None when the
    reply is to go out as scripted."""
    schema = body.get("format")
    if not isinstance(schema, dict):
        return None
    if reply.structured is not None:
        return json.dumps(reply.structured, ensure_ascii=False)
    if reply.fill_schema:
        return json.dumps(schema_instance(schema), ensure_ascii=False)
    return None


_CODE = re.compile(r"[A-Za-z]*\d[A-Za-z0-9_-]*")
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9.])-?\d+(?:\.\d+)?(?![A-Za-z0-9])")


def tool_call_auto(body: dict[str, Any]) -> dict[str, Any] | None:
    """The call a tool-capable model would plausibly make, deterministically: the first tool offered, its
    arguments from the last user message. A string argument takes the message's next code with a digit in it
    (an order number: "10234", "SF1400238855"), in the order the properties are declared; an integer or number
    the message's first number standing on its own; an enum the first of its values the message names as a
    word. What the message does not give is left out, unless required (then the schema's first instance, as a
    model constrained to it would)."""
    tools = body.get("tools") or [{}]
    function = (tools[0] or {}).get("function") or {}
    if not function.get("name"):
        return None
    users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    text = str(users[-1].get("content", "")) if users else ""
    codes = _CODE.findall(text)
    numbers = _NUMBER_IN_TEXT.findall(text)
    parameters = function.get("parameters") or {}
    required = set(parameters.get("required") or [])
    arguments: dict[str, Any] = {}
    for name, spec in (parameters.get("properties") or {}).items():
        spec = spec or {}
        kind = spec.get("type", "string")
        value: Any = None
        if spec.get("enum"):
            value = next((v for v in spec["enum"] if _named(str(v), text)), None)
        elif kind == "string" and codes:
            value = codes.pop(0)
        elif kind in ("integer", "number") and numbers:
            value = int(float(numbers[0])) if kind == "integer" else float(numbers[0])
        if value is None and name in required:
            value = schema_instance(spec)
        if value is not None:
            arguments[name] = value
    return {"name": function["name"], "arguments": arguments}


def _named(word: str, text: str) -> bool:
    """Whether `text` has `word` on its own (any case): "ems" names EMS, "SF1400238855" does not name SF."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


def tool_calls_for(body: dict[str, Any], reply: Reply) -> list[dict[str, Any]] | None:
    """`message.tool_calls` for a request offering `tools`, as Ollama writes them ({"function": {"index": n,
    "name": ..., "arguments": {...}}}), or None when the reply answers in words."""
    if not body.get("tools"):
        return None
    calls = list(reply.tool_calls) if reply.tool_calls is not None else None
    if calls is None and reply.call_tools:
        auto = tool_call_auto(body)
        calls = [auto] if auto else None
    if not calls:
        return None
    return [{"function": {"index": index, "name": call["name"], "arguments": call.get("arguments", {})}}
            for index, call in enumerate(calls)]


def reply_pieces(reply: Reply, *, thinking_in_field: bool) -> list[tuple[str, str]]:
    """The (field, text) pieces a reply streams: its thinking (in the `thinking` field, or inline in the content
    between <think> tags, or with only the closing tag when the opening one is in the prompt), then its content."""
    pieces: list[tuple[str, str]] = []
    if reply.thinking:
        if thinking_in_field:
            pieces += [("thinking", t) for t in split_tokens(reply.thinking)]
        elif reply.thinking_style == "inline":
            pieces += [("content", "<think>")] + [("content", t) for t in split_tokens(reply.thinking)]
            pieces += [("content", "</think>\n\n")]
        elif reply.thinking_style == "inline_no_open":
            pieces += [("content", t) for t in split_tokens(reply.thinking)] + [("content", "</think>\n\n")]
    pieces += [("content", t) for t in (reply.chunks or split_tokens(reply.content))]
    return pieces


_FIRST_SOURCE = re.compile(r"^\[1\] [^\n]*\n(.+?)\n</source>", re.DOTALL | re.MULTILINE)
_CUSTOMER_MESSAGE = re.compile(r"<customer_message>\n(.*?)\n</customer_message>", re.DOTALL)
# A full stop ends a sentence only before a space (not inside "99.00" or "lumenleaf.example"); Chinese ones always.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
_LIST_MARKER = re.compile(r"^(?:[-*+]|\d+\.)\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def source_sentences(text: str) -> list[str]:
    """A source's sentences in order: list items count as sentences, headings are left out."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            sentences += [s for s in _SENTENCE_END.split(_LIST_MARKER.sub("", line)) if s.strip()]
    return sentences


def sentences_ranked(sentences: list[str], question: str) -> list[int]:
    """Indexes of the sentences, those sharing the most words or character bigrams with the question first
    (ties in source order): a model quoting what was asked, not the source's opening."""
    asked = set(text_features(question))
    return sorted(range(len(sentences)), key=lambda i: (-len(asked & set(text_features(sentences[i]))), i))


def number_changed(text: str, *, taken: set[str]) -> str:
    """`text` with its first number raised by a plausible amount (3 → 4, 48 → 58, 99.00 → 109.00), past any
    number in `taken` (the prompt's), so the wrong figure is supported by nothing the model was given."""
    match = _NUMBER.search(text)
    if not match:
        return text
    whole, dot, decimals = match.group().partition(".")
    step = 10 ** (len(str(int(whole))) - 1)
    changed = int(whole) + step
    while str(changed) in taken:
        changed += step
    return text[: match.start()] + str(changed) + dot + decimals + text[match.end() :]


def _joined(sentences: list[str]) -> str:
    text = ""
    for sentence in sentences:
        text += sentence if not text or text[-1] in "。！？" else " " + sentence
    return text


def cited_answer(body: dict[str, Any], *, change_number: bool = False) -> str | None:
    """What a well-behaved model would say given the sources: the two sentences of the first source that match
    the customer's question best, in source order, with its marker. With `change_number`, one number in it is
    wrong (taken from the first sentence of the source that has one, when the chosen two have none)."""
    messages = body.get("messages") or []
    prompt = messages[-1].get("content", "") if messages else ""
    match = _FIRST_SOURCE.search(prompt)
    if not match:
        return None
    asked = _CUSTOMER_MESSAGE.findall(prompt)
    sentences = source_sentences(match.group(1))
    if not sentences:  # a source of headings only: nothing to quote, the scripted content goes out
        return None
    ranked = sentences_ranked(sentences, asked[-1] if asked else "")
    chosen = sorted(ranked[:2])
    if change_number and not any(_NUMBER.search(sentences[i]) for i in chosen):
        numbered = next((i for i, sentence in enumerate(sentences) if _NUMBER.search(sentence)), None)
        chosen = chosen if numbered is None else sorted({ranked[0], numbered})
    answer = _joined([sentences[i] for i in chosen])
    if change_number:
        taken = {n for m in messages for n in re.findall(r"\d+", str(m.get("content", "")))}
        answer = number_changed(answer, taken=taken)
    return answer + " [1]"


@dataclass
class RecordedRequest:
    path: str
    body: dict[str, Any]
    received_at: float
    closed_by_client: bool = False
    tokens_sent: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case


@dataclass
class FakeOllamaState:
    version: str = "0.12.6"
    models: list[str] = field(default_factory=lambda: ["deepseek-r1:7b", "bge-m3"])
    # Models whose template has no tool calling: a chat offering them `tools` is refused with 400, as Ollama
    # refuses DeepSeek-R1 ("registry.ollama.ai/library/deepseek-r1:7b does not support tools").
    models_without_tools: set[str] = field(default_factory=lambda: {"deepseek-r1:7b"})
    script: deque[Reply] = field(default_factory=deque)
    default_reply: Reply = field(default_factory=Reply)
    requests: list[RecordedRequest] = field(default_factory=list)
    # Off when the server runs as its own process (`python -m tests.fake_ollama`): nobody can read the log there,
    # and a long run (bench/soak.py) would grow by every prompt.
    record_requests: bool = True
    embed_dimensions: int = 384
    embed_delay_s: float = 0.0  # each /api/embed answers this late, as a busy model does
    lock: threading.Lock = field(default_factory=threading.Lock)


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        with self.server.state.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.state.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    # --- plumbing ------------------------------------------------------------
    def _read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"{}")

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, payload: dict[str, Any]) -> None:
        data = (json.dumps(payload, ensure_ascii=False) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _record(self, body: dict[str, Any]) -> RecordedRequest:
        record = RecordedRequest(path=self.path, body=body, received_at=time.monotonic(),
                                 headers={name.lower(): value for name, value in self.headers.items()})
        if self.server.state.record_requests:
            with self.server.state.lock:
                self.server.state.requests.append(record)
        return record

    # --- endpoints -----------------------------------------------------------
    def do_GET(self) -> None:
        state = self.server.state
        self._record({})
        if self.path == "/api/version":
            self._send_json(200, {"version": state.version})
        elif self.path == "/api/tags":
            models = [{"name": m, "model": m, "size": 1, "digest": "0" * 64} for m in state.models]
            self._send_json(200, {"models": models})
        elif self.path == "/api/ps":
            self._send_json(200, {"models": [{"name": m, "model": m} for m in state.models[:1]]})
        elif self.path == "/fake/streams":
            # Not Ollama's: the client ports of the chat replies streaming now, so that a benchmark can tell
            # which of its processes holds each stream (bench/stackwatch.py).
            with state.lock:
                ports = sorted(self.server.streaming)
            self._send_json(200, {"client_ports": ports})
        elif self.path == "/":
            data = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._send_json(404, {"error": "not found"})

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = self._read_json()
        record = self._record(body)
        state = self.server.state
        model = body.get("model", "")
        if self.path in ("/api/chat", "/api/embed", "/api/show") and model not in state.models:
            self._send_json(404, {"error": f"model '{model}' not found"})
            return
        if self.path == "/api/show":
            self._send_json(200, {"modelfile": "", "parameters": "", "template": "", "details": {}})
        elif self.path == "/api/embed":
            inputs = body.get("input", [])
            inputs = [inputs] if isinstance(inputs, str) else inputs
            vectors = [self._vector(text, state.embed_dimensions) for text in inputs]
            time.sleep(state.embed_delay_s)
            self._send_json(200, {"model": model, "embeddings": vectors})
        elif self.path == "/api/chat":
            with state.lock:
                reply = state.script.popleft() if state.script else state.default_reply
            self._chat(body, reply, record)
        else:
            self._send_json(404, {"error": "not found"})

    @staticmethod
    def _vector(text: str, dimensions: int) -> list[float]:
        return hashed_word_vector(text, dimensions)

    def _chat(self, body: dict[str, Any], reply: Reply, record: RecordedRequest) -> None:
        model = body["model"]
        if reply.status != 200:
            self._send_json(reply.status, {"error": reply.error or f"fake error {reply.status}"})
            return
        if body.get("tools") and model in self.server.state.models_without_tools:
            name = model if "/" in model else f"library/{model}"
            self._send_json(400, {"error": f"registry.ollama.ai/{name} does not support tools"})
            return
        tool_calls = tool_calls_for(body, reply)
        if tool_calls is not None:  # Ollama's tool calling: the calls in the message, content empty
            reply = Reply(**{**reply.__dict__, "content": "", "thinking": "", "chunks": ()})
        structured = structured_content(body, reply)
        if structured is not None:  # Ollama's structured outputs: the JSON is the content, no thinking
            reply = Reply(**{**reply.__dict__, "content": structured, "thinking": "", "chunks": ()})
        cites = reply.cite_first_source or reply.change_number
        answers_in_words = structured is None and tool_calls is None
        if answers_in_words and cites and (answer := cited_answer(body, change_number=reply.change_number)):
            reply = Reply(**{**reply.__dict__, "content": answer})
        thinking_in_field = bool(body.get("think")) and reply.thinking_style == "field"
        pieces = reply_pieces(reply, thinking_in_field=thinking_in_field)
        started = time.monotonic()

        if body.get("stream") is False:
            time.sleep(reply.ttft + reply.per_token * max(len(pieces) - 1, 0))
            message: dict[str, Any] = {"role": "assistant", "content": "".join(t for f, t in pieces if f == "content")}
            if thinking_in_field:
                message["thinking"] = reply.thinking
            if tool_calls is not None:
                message["tool_calls"] = tool_calls
            self._send_json(200, self._final(model, message, reply, len(pieces), started))
            return

        self._stream(model, pieces, reply, record, started, tool_calls=tool_calls)

    def _stream(
        self, model: str, pieces: list[tuple[str, str]], reply: Reply, record: RecordedRequest, started: float,
        *, tool_calls: list[dict[str, Any]] | None = None,
    ) -> None:
        """The chunked NDJSON reply, a piece per chunk at the reply's pace, with its scripted error or drop."""
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with self.server.state.lock:
            self.server.streaming.add(self.client_address[1])
        try:
            time.sleep(reply.ttft)
            for index, (field_name, text) in enumerate(pieces):
                if index and reply.per_token:
                    time.sleep(reply.per_token)
                if reply.error_after_tokens is not None and index >= reply.error_after_tokens:
                    self._chunk({"error": reply.error or "an error was encountered while running the model"})
                    self._end_stream()
                    return
                if reply.drop_after_tokens is not None and index >= reply.drop_after_tokens:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._chunk(
                    {
                        "model": model,
                        "created_at": datetime.now(UTC).isoformat(),
                        "message": {"role": "assistant", "content": "", field_name: text}
                        if field_name == "thinking"
                        else {"role": "assistant", "content": text},
                        "done": False,
                    }
                )
                record.tokens_sent = index + 1
            if tool_calls is not None:  # Ollama streams the calls in a chunk of their own before the last
                self._chunk({"model": model, "created_at": datetime.now(UTC).isoformat(),
                             "message": {"role": "assistant", "content": "", "tool_calls": tool_calls},
                             "done": False})
            self._chunk(self._final(model, {"role": "assistant", "content": ""}, reply, len(pieces), started))
            self._end_stream()
        except (BrokenPipeError, ConnectionResetError):
            record.closed_by_client = True
            self.close_connection = True
        finally:
            with self.server.state.lock:
                self.server.streaming.discard(self.client_address[1])

    def _end_stream(self) -> None:
        """The stream's last chunk, after it leaves the list of streams: a client that has read to the end and
        asks at once (GET /fake/streams) must not see it still streaming, as it would if the list were updated after
        the write, by the handler's thread, in a race with the client."""
        with self.server.state.lock:
            self.server.streaming.discard(self.client_address[1])
        self._end_chunks()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    @staticmethod
    def _final(model: str, message: dict[str, Any], reply: Reply, count: int, started: float) -> dict[str, Any]:
        elapsed = time.monotonic() - started
        return {
            "model": model,
            "created_at": datetime.now(UTC).isoformat(),
            "message": message,
            "done": True,
            "done_reason": reply.done_reason,
            "total_duration": _ns(elapsed),
            "load_duration": _ns(0.001),
            "prompt_eval_count": 42,
            "prompt_eval_duration": _ns(reply.ttft),
            "eval_count": count,
            "eval_duration": _ns(max(elapsed - reply.ttft, 0)),
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, state: FakeOllamaState, port: int = 0) -> None:
        self.state = state
        self.connections: set[socket.socket] = set()
        self.streaming: set[int] = set()  # the client ports of the chat replies streaming now
        self.accepted = 0  # connections accepted since the start (a client's pool reuses its own)
        super().__init__(("127.0.0.1", port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        self.accepted += 1
        # As Ollama's Go server does on every connection: without it, a response written in pieces on a
        # reused keep-alive connection waits ~40 ms (Nagle's algorithm meeting the client's delayed ACK).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up on a keep-alive connection is normal, not worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        with self.state.lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class FakeOllama:
    """Start with `with FakeOllama() as fake:`; `fake.url` is the OLLAMA_HOST."""

    def __init__(self) -> None:
        self.state = FakeOllamaState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-ollama", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOllama:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()

    @contextmanager
    def refusing_connections(self) -> Iterator[None]:
        """While inside, nothing listens on the port: clients get "connection refused"."""
        port = self._server.server_address[1]
        self.stop()
        try:
            yield
        finally:
            self._server = _Server(self.state, port=port)
            self._thread = threading.Thread(target=self._server.serve_forever, name="fake-ollama", daemon=True)
            self._thread.start()

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting -----------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        with self.state.lock:
            self.state.script.extend(replies)

    def reset(self) -> None:
        with self.state.lock:
            self.state.script.clear()
            self.state.requests.clear()
            self.state.default_reply = Reply()
            self.state.version = "0.12.6"
            self.state.models = ["deepseek-r1:7b", "bge-m3"]
            self.state.models_without_tools = {"deepseek-r1:7b"}
            self.state.embed_dimensions = 384
            self.state.embed_delay_s = 0.0
            self.state.record_requests = True  # a test that turned the log off leaves it on for the next

    def connections_accepted(self) -> int:
        return self._server.accepted

    def chat_requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return [r for r in self.state.requests if r.path == "/api/chat"]

    def embed_requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return [r for r in self.state.requests if r.path == "/api/embed"]


def main() -> None:
    """Run standalone, for trying the product without a GPU and for benchmarks.

    `python -m tests.fake_ollama --port 11434 --ttft 0.2 --per-token 0.03`
    """
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--ttft", type=float, default=0.2, help="seconds before the first chunk")
    parser.add_argument("--per-token", type=float, default=0.03, help="seconds between chunks")
    parser.add_argument("--tokens", type=int, default=0, help="reply length in words (0: a short canned reply)")
    parser.add_argument("--thinking", default="The customer wrote something; I answer politely.")
    parser.add_argument(
        "--cite-sources", action="store_true",
        help="when the prompt has knowledge-base sources, answer with the first one's sentences closest to the "
        "question and cite it [1]",
    )
    parser.add_argument(
        "--change-number", action="store_true",
        help="like --cite-sources, but one number in the answer is changed (what number verification must catch)",
    )
    parser.add_argument("--content", default="", help="reply with exactly this text")
    parser.add_argument(
        "--fill-schemas", action="store_true",
        help="answer structured-output requests (a `format` schema: the action choice, the intent model) with the "
        "schema's first instance: each enum's first value (e.g. the first action offered)",
    )
    parser.add_argument(
        "--call-tools", action="store_true",
        help="answer tool-calling requests (`tools`: the action choice of a profile set to tools) by calling the "
        "first tool offered, its arguments taken from the customer's message (e.g. an order number)",
    )
    parser.add_argument(
        "--tool-models", default="",
        help="comma-separated models to serve that can call tools (e.g. qwen2.5:7b); deepseek-r1:7b refuses "
        "tools with 400, as on Ollama",
    )
    args = parser.parse_args()
    content = args.content or (
        " ".join(f"word{i}" for i in range(args.tokens))
        if args.tokens
        else "This is the fake Ollama speaking: your message arrived, and this reply streams token by token."
    )
    state = FakeOllamaState(record_requests=False)
    state.models += [m.strip() for m in args.tool_models.split(",") if m.strip() and m.strip() not in state.models]
    state.default_reply = Reply(
        content=content, thinking=args.thinking, ttft=args.ttft, per_token=args.per_token,
        cite_first_source=args.cite_sources, change_number=args.change_number, fill_schema=args.fill_schemas,
        call_tools=args.call_tools,
    )
    server = _Server(state, port=args.port)
    print(f"fake Ollama on http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
