"""Who the client is: the socket's peer, or what a trusted proxy says it forwarded.

Daphne's own `--proxy-headers` believes X-Forwarded-For from anyone, so any
client could claim to be 127.0.0.1 and open /metrics. Here the header is read
only when the peer is one of TRUSTED_PROXIES (empty by default: never), and
then the client is the right-most address in it that is not itself a trusted
proxy: everything left of that was written by the client and proves nothing.

`ClientAddressMiddleware` puts the answer in the ASGI scope's `client`, so
Django's REMOTE_ADDR, the consumers, the rate limits, /metrics and /healthz all
read the same address.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(*, peer: str, forwarded_for: Iterable[str] = (), trusted_proxies: Iterable[str] | None = None) -> str:
    """The client's address, given the socket's peer and the X-Forwarded-For header values (in order)."""
    networks = _networks(tuple(settings.TRUSTED_PROXIES if trusted_proxies is None else trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage: the last address known good stands
        client = hop
        if not _trusted(hop, networks):
            break
    return client


def scope_client_ip(scope: dict[str, Any]) -> str:
    """The client address of an ASGI scope, once ClientAddressMiddleware has run ("" when unknown)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


class ClientAddressMiddleware:
    """ASGI middleware: the scope's `client` becomes the real client when the peer is a trusted proxy."""

    warned = False

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if not settings.TRUSTED_PROXIES and not ClientAddressMiddleware.warned and scope.get("client"):
            if any(k.lower() == b"x-forwarded-for" for k, _ in scope.get("headers") or []):
                # Behind a proxy not configured, every customer is the proxy's address to the per-address limits.
                ClientAddressMiddleware.warned = True
                logger.warning("X-Forwarded-For from %s ignored: TRUSTED_PROXIES is empty. Behind a proxy, set it "
                               "to the proxy's address, or all customers count as one.", scope["client"][0])
        if scope["type"] in ("http", "websocket") and scope.get("client") and settings.TRUSTED_PROXIES:
            peer = scope["client"][0]
            forwarded = [v.decode("latin-1") for k, v in scope.get("headers") or [] if k.lower() == b"x-forwarded-for"]
            ip = client_ip(peer=peer, forwarded_for=forwarded)
            if ip != peer:
                scope = {**scope, "client": [ip, 0]}
        return await self.app(scope, receive, send)
