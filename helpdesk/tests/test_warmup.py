"""Warm-up: readiness waits for it, and each Celery pool process warms itself after it forks."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time

import pytest

from helpdesk.runtime import warmup
from tests.support.environment import ROOT


@pytest.mark.django_db(transaction=True)
def test_readiness_turns_ready_only_after_the_warm_up(client, fake_ollama) -> None:
    from knowledge.retrieval import snapshot

    snapshot.snapshot_forget()
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
        assert {"chunks", "faq"} <= set(snapshot._snapshots)
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


@pytest.mark.django_db(transaction=True)
def test_a_pool_process_is_ready_only_after_its_reply_queries_ran(client, fake_ollama, monkeypatch) -> None:
    """The reply task's first look-up and its first progress save (on the saving thread) run in the warm-up."""
    from conversations.selectors import replies as replies_selectors
    from conversations.services import replies

    looked_up = threading.Event()
    gate = threading.Event()
    saved_on: list[str] = []
    look_up, save = replies_selectors.customer_message_for_reply, replies.reply_progress_save

    def look_up_gated(*, message_id: int):
        looked_up.set()
        gate.wait(30)
        return look_up(message_id=message_id)

    def save_seen(**kwargs):
        saved_on.append(threading.current_thread().name)
        return save(**kwargs)

    monkeypatch.setattr(replies_selectors, "customer_message_for_reply", look_up_gated)
    monkeypatch.setattr(replies, "reply_progress_save", save_seen)
    try:
        thread = warmup.warm_start("worker")
        assert looked_up.wait(30)
        assert client.get("/healthz").status_code == 503  # the look-up is still running
        assert not saved_on
        gate.set()
        thread.join(60)
        response = client.get("/healthz")
        assert response.status_code == 200, response.json()
        assert "reply queries" in response.json()["checks"]["warm_up"]["seconds"]
        assert len(saved_on) == 1 and saved_on[0].startswith("db"), saved_on  # a database thread, as a reply's
    finally:
        gate.set()


@pytest.mark.production
def test_the_web_warm_up_readies_celery_for_the_first_message() -> None:
    """The app finalized, its sender built and one result backend for every thread: before, the first customer's
    message waited 14-21 ms for them in the thread that queued its reply."""
    check = (
        "import django, threading; django.setup()\n"
        "from helpdesk.celery import app\n"
        "from helpdesk.apps import _task_queues_warm\n"
        "def state(): return (app.finalized, app._backend_cache is not None, 'send_task_message' in vars(app.amqp))\n"
        "print(state())\n"
        "_task_queues_warm()\n"
        "print(state())\n"
        "seen = []\n"
        "thread = threading.Thread(target=lambda: seen.append(app.backend)); thread.start(); thread.join()\n"
        "print(seen[0] is app.backend)\n"
    )
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
           "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["(False, False, False)", "(True, True, True)", "True"], done.stdout
