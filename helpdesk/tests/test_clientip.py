"""Who the client is (helpdesk/web/clientip.py): forwarded headers only from trusted proxies."""

from __future__ import annotations

from helpdesk.web.clientip import client_ip


def test_forwarded_headers_are_ignored_without_trusted_proxies() -> None:
    assert client_ip(peer="203.0.113.5", forwarded_for=["127.0.0.1"], trusted_proxies=[]) == "203.0.113.5"


def test_forwarded_headers_are_ignored_from_a_peer_that_is_not_a_trusted_proxy() -> None:
    assert client_ip(peer="203.0.113.5", forwarded_for=["127.0.0.1"], trusted_proxies=["10.0.0.0/8"]) == "203.0.113.5"


def test_the_client_is_the_right_most_address_a_trusted_proxy_did_not_write() -> None:
    trusted = ["10.0.0.0/8"]
    # The client wrote "127.0.0.1" itself; the outer proxy appended the real peer, the inner one its own address.
    header = ["127.0.0.1, 198.51.100.4", "10.1.2.3"]
    assert client_ip(peer="10.0.0.2", forwarded_for=header, trusted_proxies=trusted) == "198.51.100.4"


def test_garbage_in_the_header_leaves_the_last_good_address() -> None:
    assert client_ip(peer="10.0.0.2", forwarded_for=["nonsense"], trusted_proxies=["10.0.0.2"]) == "10.0.0.2"
    assert client_ip(peer="::1", forwarded_for=["2001:db8::7"], trusted_proxies=["::1"]) == "2001:db8::7"
