"""A real webhook receiver for the tests: an HTTP server on a free port that checks each request's signature with
the endpoint's secret (conversations.webhooks.signing, as a receiver following the README would) and records it.

`plan` says how it answers, request by request: a status code, "hang" (hold the request for `hang_s` without
answering), "huge" (a 500 with a 50 MB body), or "redirect" (302 to /elsewhere, which records a request if anyone
ever follows it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conversations.webhooks.signing import SIGNATURE_HEADER, SignatureInvalid, signature_verify

HUGE_BYTES = 50 * 1024 * 1024


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    signature_error: str
    started: float
    finished: float | None = None
    written: int = 0  # bytes of the answer's body the receiver got out before the sender hung up

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str
    url: str = ""
    plan: list[int | str] = field(default_factory=list)  # consumed request by request; then `otherwise`
    otherwise: int | str = 200
    hang_s: float = 30.0
    requests: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> int | str:
        with self.lock:
            return self.plan.pop(0) if self.plan else self.otherwise

    def events(self) -> list[str]:
        return [request.payload["type"] for request in self.requests if request.path.startswith("/hook")]

    def in_flight(self) -> int:
        return sum(1 for request in self.requests if request.finished is None)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                signature_verify(receiver.secret, self.headers.get(SIGNATURE_HEADER, ""), body)
                ok, error = True, ""
            except SignatureInvalid as exc:
                ok, error = False, str(exc)
            record = Received(path=self.path, headers=dict(self.headers), body=body, signature_ok=ok,
                              signature_error=error, started=time.monotonic())
            receiver.requests.append(record)
            try:
                self._answer(receiver.next_answer() if self.path.startswith("/hook") else 200, record)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                record.finished = time.monotonic()

        def _answer(self, answer: int | str, record: Received) -> None:
            if answer == "hang":
                receiver.released.wait(receiver.hang_s)
                answer = 200
            if answer == "huge":  # a 500 with a 50 MB body, written until the sender hangs up
                self.send_response(500)
                self.send_header("Content-Length", str(HUGE_BYTES))
                self.end_headers()
                chunk = b"x" * 65536
                while record.written < HUGE_BYTES:
                    self.wfile.write(chunk)
                    record.written += len(chunk)
                return
            if answer == "redirect":
                self.send_response(302)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            text = b"ok" if answer == 200 else b"receiver says no"
            self.send_response(int(answer))
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

    return Handler


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver(secret="whsec-test-0123456789abcdef")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.released.set()
    server.shutdown()
    server.server_close()
