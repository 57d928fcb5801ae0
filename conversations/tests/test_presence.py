"""Agents at a console: presence pings from many consoles at once must each count."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from conversations.selectors import availability as availability_selectors
from conversations.services.presence import agent_presence_set

CONSOLES = 4
ROUNDS = 30


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Threads switch every microsecond, so a read-change-write of a shared value is interleaved as it would be
    between two processes."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.django_db
def test_pings_of_many_consoles_at_once_all_count(switch_often) -> None:
    agent_ids = [1000 + n for n in range(CONSOLES * ROUNDS)]
    start = threading.Barrier(CONSOLES)
    errors: list[BaseException] = []

    def console(index: int) -> None:
        try:
            for round_ in range(ROUNDS):
                start.wait(timeout=30)  # every console pings at the same moment, each round a new agent
                agent_presence_set(agent_id=agent_ids[round_ * CONSOLES + index], online=True)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=console, args=(n,)) for n in range(CONSOLES)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert availability_selectors.agents_online_count() == len(agent_ids)
    finally:
        for agent_id in agent_ids:
            agent_presence_set(agent_id=agent_id, online=False)
    assert availability_selectors.agents_online_count() == 0


@pytest.mark.django_db
def test_an_agent_online_still_counts_after_the_clock_stepped_forward(monkeypatch) -> None:
    agent_presence_set(agent_id=9101, online=True)
    try:
        true_time = time.time
        monkeypatch.setattr(time, "time", lambda: true_time() + 600)  # this host's clock stepped (NTP)
        assert availability_selectors.agents_online_count() == 1
    finally:
        monkeypatch.undo()
        agent_presence_set(agent_id=9101, online=False)
