"""The web process: Daphne, with its timeouts from the settings and an access log without secrets.

`python -m helpdesk.webserver -b 0.0.0.0 -p 8000` is what `manage.py serve`,
the Dockerfile, Compose and Kubernetes run, so every deployment gets the same
command line from one place:

- the websocket lifetime, keep-alive pings and handshake time (WEBSOCKET_*), and
  an idle limit for HTTP connections (HTTP_IDLE_TIMEOUT: a half-sent request is
  dropped, not held a minute per byte as Twisted's default allows);
- a stop (SIGTERM, as a rolling deploy sends) that says goodbye: the port closes, every websocket is closed
  with 1001 "going away" and its consumer's disconnect runs (the conversation's socket slot is released, its
  groups left, an agent's presence dropped) before what is left is cancelled, as Daphne alone does at once;
  the widget and the console reconnect to the next server by themselves;
- no `--proxy-headers`: Daphne would believe X-Forwarded-For from anyone; the
  application decides whom to believe (helpdesk/web/clientip.py, TRUSTED_PROXIES);
- an access log written through Python logging (logger `helpdesk.access`), so
  the redaction filter of settings.LOGGING removes conversation tokens from it,
  client addresses are shortened (ACCESS_LOG_FULL_IP), and LOG_FORMAT=json applies.
  Daphne's own access log writes the raw path (`WSCONNECT /ws/chat/<token>/`)
  straight to stdout.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import time
from typing import Any

from autobahn.websocket.protocol import WebSocketProtocol
from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.internet import defer

APPLICATION = "helpdesk.asgi:application"
access_logger = logging.getLogger("helpdesk.access")
logger = logging.getLogger(__name__)


def daphne_options() -> list[str]:
    """Daphne's options from the settings (the command line's own `-b`/`-p` come first)."""
    from django.conf import settings

    return [
        "--websocket_timeout", str(settings.WEBSOCKET_TIMEOUT),
        "--websocket_connect_timeout", str(settings.WEBSOCKET_CONNECT_TIMEOUT),
        "--ping-interval", str(settings.WEBSOCKET_PING_INTERVAL),
        "--ping-timeout", str(settings.WEBSOCKET_PING_TIMEOUT),
    ]


def masked_address(client: str) -> str:
    """An access log's client ("203.0.113.7:53211") without its port and, unless configured, its last part."""
    from django.conf import settings

    host = client.rsplit(":", 1)[0] if client.count(":") == 1 else client
    host = host.strip("[]")
    if settings.ACCESS_LOG_FULL_IP:
        return host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "-"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


class AccessLog:
    """Daphne's "action logger" interface, writing one line per request or websocket event to logging."""

    def __call__(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        client = masked_address(str(details.get("client") or ""))
        if protocol == "http" and action == "complete":
            access_logger.info('%s "%s %s" %s %s %.0fms', client, details["method"], details["path"],
                               details["status"], details.get("size") or "-", (details.get("time_taken") or 0) * 1000)
        elif protocol == "websocket" and action in ("connected", "rejected", "disconnected"):
            verb = {"connected": "WSCONNECT", "rejected": "WSREJECT", "disconnected": "WSDISCONNECT"}[action]
            access_logger.info('%s "%s %s"', client, verb, details["path"])


# RFC 6455's "going away": the server stops. Daphne's close (autobahn's sendClose) refuses codes below 3000 but
# 1000, so the close frame is sent one level down.
GOING_AWAY = 1001


class HelpdeskServer(Server):
    """Daphne's server with the access log above, an idle timeout on HTTP connections and a stop that closes the
    websockets first."""

    def __init__(self, *args: Any, action_logger: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, action_logger=AccessLog() if action_logger is not None else None, **kwargs)
        self.ports: list[Any] = []

    def listen_success(self, port: Any) -> None:
        self.ports.append(port)
        super().listen_success(port)

    def kill_all_applications(self) -> defer.Deferred:
        """Before the reactor stops: no new connections, every open websocket closed with 1001, and up to
        `application_close_timeout` seconds for their consumers' disconnect to finish; then Daphne cancels the rest.

        Daphne alone cancels every consumer at once and drops the sockets (1006): no disconnect ran, so each
        conversation kept its socket counted (ratelimits.socket_admit) until it went stale, an hour later, and a
        customer with a few tabs open was refused one of them after a restart or two."""
        from twisted.internet import reactor  # Daphne's asyncio reactor, installed when daphne.server was imported

        for port in self.ports:
            port.stopListening()
        closing = []
        for protocol, details in list(self.connections.items()):
            if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN:
                protocol.sendCloseFrame(code=GOING_AWAY)
                if details.get("application_instance") is not None:
                    closing.append(details["application_instance"])
        logger.info("Closing %i websockets before stopping", len(closing))
        deadline = time.monotonic() + self.application_close_timeout
        finished: defer.Deferred = defer.Deferred()

        def check() -> None:
            if all(instance.done() for instance in closing) or time.monotonic() > deadline:
                finished.callback(None)
            else:
                reactor.callLater(0.05, check)

        check()
        finished.addCallback(lambda _: super(HelpdeskServer, self).kill_all_applications())
        return finished

    @property
    def http_factory(self) -> Any:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: Any) -> None:
        # Daphne's run() makes the factory and listens at once: this is the one moment to set it.
        from django.conf import settings

        factory.timeOut = settings.HTTP_IDLE_TIMEOUT or None
        self._http_factory = factory


class HelpdeskCommandLine(CommandLineInterface):
    server_class = HelpdeskServer


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    arguments = list(sys.argv[1:] if argv is None else argv)
    HelpdeskCommandLine().run([*arguments, *daphne_options(), APPLICATION])


if __name__ == "__main__":
    main()
