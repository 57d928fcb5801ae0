"""Warm-up: readiness waits for it, and each Celery pool process warms itself after it forks."""

from __future__ import annotations

import re
import threading
import time

import pytest

from helpdesk import warmup
from tests.support.environment import ROOT


@pytest.mark.django_db(transaction=True)
def test_readiness_turns_ready_only_after_the_warm_up(client, fake_ollama) -> None:
    from knowledge import retrieval

    retrieval.snapshot_forget()
    gate = threading.Event()
    warmup.warmer_register("test gate", gate.wait)
    try:
        thread = warmup.warm_start()
        response = client.get("/healthz")
        assert response.status_code == 503
        assert not response.json()["checks"]["warm_up"]["ok"]
        assert "warming up" in response.json()["checks"]["warm_up"]["error"]
        gate.set()
        thread.join(60)
        response = client.get("/healthz")
        assert response.status_code == 200, response.json()
        assert response.json()["checks"]["warm_up"]["warmed"] is True
        # What the first question would have built is there already.
        assert {"chunks", "faq"} <= set(retrieval._snapshots)
    finally:
        gate.set()
        warmup.warmer_unregister("test gate")


@pytest.mark.production
@pytest.mark.django_db(transaction=True)
def test_each_celery_pool_process_warms_up_after_it_forks(celery_worker_process) -> None:
    from tests.processes import process_table

    log_path = ROOT / ".pytest_cache" / "celery-worker.log"
    deadline = time.monotonic() + 60
    while True:
        warmed = {int(pid) for pid in re.findall(r"process (\d+) warmed up", log_path.read_text())}
        children = {info.pid for info in process_table().values() if info.parent == celery_worker_process.pid}
        if (children and children <= warmed) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(children) == 2, children  # -c 2
    assert children <= warmed, (children, warmed)
    assert celery_worker_process.pid not in warmed  # never the parent: nothing warm is shared across a fork
