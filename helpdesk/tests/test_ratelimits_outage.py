"""The abuse limits fail open when their store is down: an outage must not refuse every customer's message."""

from __future__ import annotations

import logging
import socket

import pytest

from helpdesk.web import ratelimits


@pytest.fixture
def unreachable_store(settings):
    """The limits' store pointed at an address where no Redis listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.RATE_LIMITS_ENABLED = True
    saved = ratelimits._storage, ratelimits._limiter
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    ratelimits._storage = ratelimits._limiter = None
    ratelimits._store_down_warned_at = 0.0
    yield
    ratelimits._storage, ratelimits._limiter = saved


def test_with_the_store_down_every_check_lets_the_customer_through_and_says_so(unreachable_store, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="helpdesk.web.ratelimits"):
        for _ in range(3):
            ratelimits.conversation_create_check(client_ip="203.0.113.9")
            ratelimits.message_check(conversation_id=1, client_ip="203.0.113.9")
            ratelimits.model_call_check(conversation_id=1, client_ip="203.0.113.9")
            assert ratelimits.frame_check(conversation_id=1, client_ip="203.0.113.9") == (None, False)
    warnings = [r for r in caplog.records if "rate limits are not applied" in r.getMessage()]
    assert len(warnings) == 1  # once per interval, not once per check
