"""Origins are compared as (scheme, host, port), with the default port filled in."""

from __future__ import annotations

import pytest

from helpdesk.web.origins import origin_allowed, origin_parse, websocket_origin_allowed


@pytest.mark.parametrize("origin, parsed", [
    ("http://Example.com", ("http", "example.com", 80)),
    ("https://example.com:443", ("https", "example.com", 443)),
    ("http://[::1]:8000", ("http", "::1", 8000)),
    ("ftp://example.com", None),
    ("https://example.com:99999", None),
    ("https://user@example.com", None),
    ("https://example.com/page", None),
    ("null", None),
])
def test_origins_parse_to_scheme_host_and_port(origin, parsed) -> None:
    assert origin_parse(origin) == parsed


def test_a_host_outside_allowed_hosts_has_no_own_origin(settings) -> None:
    settings.ALLOWED_HOSTS = ["helpdesk.example"]
    scope = {"type": "websocket", "headers": [(b"host", b"evil.example"), (b"origin", b"http://evil.example")]}
    assert not websocket_origin_allowed(scope)


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        ("https://shop.example", ["https://shop.example"], True),
        ("https://SHOP.example:443/", ["https://shop.example"], True),
        ("http://shop.example", ["https://shop.example"], False),
        ("https://shop.example:8443", ["https://shop.example"], False),
        ("https://shop.example.evil", ["https://shop.example"], False),
        ("https://a.shop.example", ["https://*.shop.example"], True),
        ("http://a.shop.example", ["https://*.shop.example"], False),
        ("https://anyone.example", ["*"], True),
        ("not an origin", ["https://shop.example"], False),
    ],
)
def test_origin_allowed_compares_scheme_host_and_port(origin, allowed, expected) -> None:
    assert origin_allowed(origin, allowed) is expected
