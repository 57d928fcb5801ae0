"""Whether a websocket handshake comes from one of this site's own pages: scheme, host and port all alike.

Browsers send the session cookie with any page's websocket, so a socket that signs a user in by that cookie
(the agents' console) must refuse every other origin. Channels' AllowedHostsOriginValidator compares the
host only: a page on http://helpdesk.example:8080 or plain http:// would pass for https://helpdesk.example.
Here the Origin must equal the request's own origin (its scheme, as Django's `is_secure` sees it, with its
Host header) or one listed in CSRF_TRUSTED_ORIGINS, the setting Django's CSRF check trusts for forms.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_parse(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) origin, the port filled in; None for anything else."""
    try:
        parts = urlsplit(origin.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host or parts.path not in ("", "/") or parts.query or parts.username:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _headers(scope: dict[str, Any]) -> dict[bytes, str]:
    return {name.lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def _is_secure(scope: dict[str, Any], headers: dict[bytes, str]) -> bool:
    """As Django's HttpRequest.is_secure: the connection's scheme, or the trusted proxy's header."""
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, expected = proxy
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        return headers.get(header, "").split(",")[0].strip() == expected
    return False


def request_origin(scope: dict[str, Any]) -> tuple[str, str, int] | None:
    """The origin the browser was at if the socket was opened by this site's own page; None when the Host
    header is missing or not one of ALLOWED_HOSTS (Django's HTTP side would answer such a request 400)."""
    headers = _headers(scope)
    host = headers.get(b"host", "").strip()
    domain, _ = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS or (["localhost", ".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    if not domain or not validate_host(domain, allowed):
        return None
    return origin_parse(f"{'https' if _is_secure(scope, headers) else 'http'}://{host}")


def origin_allowed(origin: str, allowed: Iterable[str]) -> bool:
    """Whether `origin` is one of `allowed`, scheme, host and port alike (case and default ports aside): the one
    rule for the widget's origins (WIDGET_ALLOWED_ORIGINS) and the console's (CSRF_TRUSTED_ORIGINS). An entry
    `scheme://*.domain` matches the domain's subdomains, as in Django's CSRF check; `*` matches every origin."""
    allowed = list(allowed)
    if "*" in allowed:
        return True
    parsed = origin_parse(origin)
    if parsed is None:
        return False
    for entry in allowed:
        if "://*." in entry:
            scheme, _, pattern = entry.partition("://*")
            if parsed[0] == scheme.lower() and is_same_domain(urlsplit(origin).netloc.lower(), pattern.lower()):
                return True
        elif origin_parse(entry) == parsed:
            return True
    return False


def websocket_origin_allowed(scope: dict[str, Any]) -> bool:
    """Same origin (scheme, host and port), or a trusted one. No Origin is refused: browsers always send it."""
    origin = _headers(scope).get(b"origin", "")
    parsed = origin_parse(origin)
    if parsed is None:
        return False
    own = request_origin(scope)
    return (own is not None and parsed == own) or origin_allowed(origin, settings.CSRF_TRUSTED_ORIGINS)


class SameOriginValidator:
    """ASGI middleware: a websocket from another origin is refused at the handshake (HTTP 403)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not websocket_origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
