"""`manage.py serve`'s supervision of its workers: one that exits is started again, after a pause that grows
while it keeps failing at once (the whole stack through outages: tests/faults/test_outages.py)."""

from __future__ import annotations

import sys
import time

from helpdesk.management.commands.serve import Supervised


def settle(worker: Supervised) -> str:
    """Until the process has exited and been noticed."""
    deadline = time.monotonic() + 10
    while (note := worker.tend()) == "":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return note


def test_a_worker_that_exits_is_started_again_after_a_pause_that_doubles_up_to_the_limit(settings) -> None:
    settings.WORKER_RESTART_MAX_DELAY_S = 2
    worker = Supervised("the test worker", [sys.executable, "-c", "raise SystemExit(3)"])
    pauses = []
    for _ in range(3):
        note = settle(worker)
        assert note.startswith("the test worker exited (code 3)")
        assert worker.process is None
        pauses.append(worker.restart_at - time.monotonic())
        worker.restart_at = 0  # no waiting in the test
        assert worker.tend().startswith("Restarted the test worker")
    assert worker.restarts == 3
    assert [round(p) for p in pauses] == [1, 2, 2]


def test_a_worker_that_ran_long_before_exiting_is_restarted_after_the_shortest_pause(settings) -> None:
    settings.WORKER_RESTART_MAX_DELAY_S = 30
    worker = Supervised("the test worker", [sys.executable, "-c", "pass"])
    worker.delay = 16.0  # after many quick exits
    worker.started_at -= Supervised.HEALTHY_RUN_S
    settle(worker)
    assert round(worker.restart_at - time.monotonic()) == 1
