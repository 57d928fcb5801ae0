"""The web process: Daphne, with its timeouts from the settings and an access log without secrets.

`python -m helpdesk.webserver -b 0.0.0.0 -p 8000` is what `manage.py serve`,
the Dockerfile, Compose and Kubernetes run, so every deployment gets the same
command line from one place:

- the websocket lifetime, keep-alive pings and handshake time (WEBSOCKET_*), and
  an idle limit for HTTP connections (HTTP_IDLE_TIMEOUT: a half-sent request is
  dropped, not held a minute per byte as Twisted's default allows);
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
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server

APPLICATION = "helpdesk.asgi:application"
access_logger = logging.getLogger("helpdesk.access")


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


class HelpdeskServer(Server):
    """Daphne's server with the access log above and an idle timeout on HTTP connections."""

    def __init__(self, *args: Any, action_logger: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, action_logger=AccessLog() if action_logger is not None else None, **kwargs)

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
