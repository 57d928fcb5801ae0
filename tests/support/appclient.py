"""A mobile app on the app channel (README "App channel"), over real HTTP: its REST calls and its event stream."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def call(base_url: str, method: str, path: str, *, key: str | None = None, token: str | None = None,
         body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One REST call: (status, headers, JSON body or text), errors included."""
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    if token is not None:
        sent["X-Conversation-Token"] = token
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, got, text = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, got, text = exc.code, dict(exc.headers), exc.read()
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text.decode(errors="replace")
    return Answer(status, got, parsed)


@dataclass
class Event:
    id: str
    event: str
    data: dict[str, Any]


@dataclass
class EventStream:
    """GET /api/v1/app/events, read event by event (a blocking reader with a deadline per event)."""

    base_url: str
    key: str
    token: str
    last_event_id: str | None = None
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.key}", "X-Conversation-Token": self.token,
                   "Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        self.connection.request("GET", "/api/v1/app/events", headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.ended = False

    def next(self, timeout: float = 30) -> Event | None:
        """The next event (comments skipped), or None when the server ended the stream; TimeoutError after
        `timeout` seconds without one (keep-alive comments do not count)."""
        deadline = time.monotonic() + timeout
        fields: dict[str, str] = {}
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no event in {timeout} s")
            self.connection.sock.settimeout(remaining)
            line = self.response.readline()
            if not line:
                self.ended = True
                return None
            line = line.decode().rstrip("\n")
            if line.startswith(":"):
                continue
            if not line:
                if "data" in fields:
                    event = Event(fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"]))
                    self.events.append(event)
                    return event
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value

    def until(self, event: str, timeout: float = 30, **match: Any) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event} event; got {[e.event for e in self.events]}")
            got = self.next(remaining)
            if got is None:
                raise AssertionError(f"the stream ended before a {event} event; got {[e.event for e in self.events]}")
            if got.event == event and all(got.data.get(k) == v for k, v in match.items()):
                return got

    @property
    def last_id(self) -> str:
        return self.events[-1].id

    def close(self) -> None:
        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()
