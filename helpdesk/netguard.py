"""Outbound fetches of addresses an admin typed (a synced page, a sitemap): never the helpdesk's own network.

A URL that names a private, loopback, link-local or otherwise non-public
address (or a host name that resolves to one) is refused before anything is
sent, unless the caller allows private addresses (a setting, for an intranet
wiki). Every redirect target goes through the same check. The host is
resolved once here and again by the HTTP client: a DNS answer that changes in
between (rebinding) is not caught; keep KNOWLEDGE_SYNC_ALLOW_PRIVATE off and
the worker's network policy tight where that matters.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class AddressRefused(ValueError):
    """The URL may not be fetched; the message says why, for the admin."""


def address_is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Reachable on the internet at large: not private, loopback, link-local, multicast, reserved or unspecified."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_check(url: str, *, allow_private: bool) -> None:
    """Raise AddressRefused unless `url` is http(s) with a host that resolves only to public addresses
    (any address at all when `allow_private`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(f"only http and https addresses are fetched, not {parts.scheme or 'a relative URL'!r}")
    host = parts.hostname
    if not host:
        raise AddressRefused("the address has no host")
    if parts.username or parts.password:
        raise AddressRefused("addresses with a user name or password are not fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise AddressRefused(f"the port is not valid ({exc})") from exc
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"the host {host!r} cannot be resolved ({exc})") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address_is_public(ip):
            raise AddressRefused(
                f"{host} is a private or internal address ({ip}): not fetched"
            )
