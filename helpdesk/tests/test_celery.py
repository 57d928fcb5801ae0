"""Routing: each task reaches exactly its own queue."""

from __future__ import annotations

import pytest

from helpdesk.celery import app


def _route(task_name: str) -> tuple[str, str]:
    options = app.amqp.router.route({}, task_name)
    queue = options["queue"]
    return queue.name, queue.routing_key


def test_each_queue_has_its_own_routing_key() -> None:
    keys = {name: queue.routing_key for name, queue in app.amqp.queues.items()}
    assert keys == {"generation": "generation", "logging": "logging", "knowledge": "knowledge"}


def test_tasks_route_to_their_own_queue() -> None:
    assert _route("conversations.generate_reply") == ("generation", "generation")
    assert _route("conversations.log_turn") == ("logging", "logging")
    assert _route("knowledge.index_article") == ("knowledge", "knowledge")
    assert _route("knowledge.import_files") == ("knowledge", "knowledge")
    assert _route("conversations.faq_suggest") == ("knowledge", "knowledge")


def test_a_task_is_enqueued_by_its_registered_name(monkeypatch) -> None:
    from helpdesk import celery, tasks

    sent = []
    task = celery.task_named("helpdesk.check_ollama_nodes")
    assert task.name == tasks.check_ollama_nodes.name
    # Caught where it would leave: on a worker thread (embedded mode) or towards the broker (production).
    monkeypatch.setattr(celery, "_run_eagerly", lambda task, args, kwargs: sent.append((task.name, args, kwargs)))
    monkeypatch.setattr(task, "apply_async", lambda args, kwargs: sent.append((task.name, args, kwargs)))
    future = celery.enqueue("helpdesk.check_ollama_nodes", 7, force=True)
    if future is not None:
        future.result(timeout=10)
    assert sent == [("helpdesk.check_ollama_nodes", (7,), {"force": True})]


def test_a_wait_for_in_process_tasks_names_those_still_pending_and_an_abandoned_one_is_not_waited_for_again(
    settings, monkeypatch
) -> None:
    import threading

    from helpdesk import celery

    if not settings.EMBEDDED:
        pytest.skip("in-process tasks run in embedded mode")
    release = threading.Event()
    monkeypatch.setattr(celery, "_run_eagerly", lambda task, args, kwargs: release.wait(10))
    celery.enqueue("helpdesk.check_ollama_nodes", 7)
    celery.enqueue_in(3600, "helpdesk.check_ollama_nodes", 8)
    try:
        left = celery.embedded_tasks_wait(timeout=0.2)
        assert left == ["helpdesk.check_ollama_nodes(7,)", "helpdesk.check_ollama_nodes(8,) in 3600 s"]
        celery.embedded_tasks_abandon()
        assert celery.embedded_tasks_pending() == 0 and celery.embedded_tasks_wait(timeout=0.2) == []
    finally:
        release.set()
        celery.embedded_tasks_abandon()


def test_enqueuing_a_task_name_nobody_registered_raises_a_clear_error() -> None:
    import pytest

    from helpdesk.celery import enqueue

    with pytest.raises(LookupError, match=r"no Celery task is registered as 'knowledge\.no_such_task'"):
        enqueue("knowledge.no_such_task", 1)


def test_a_heartbeat_timeout_a_live_worker_could_miss_is_refused_at_start() -> None:
    import subprocess
    import sys

    from tests.support.environment import ROOT

    env = {"REPLY_SAVE_INTERVAL_S": "5", "REPLY_HEARTBEAT_TIMEOUT_S": "10", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", "import helpdesk.settings"], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert run.returncode != 0 and "REPLY_HEARTBEAT_TIMEOUT_S must be at least 3 x" in run.stderr


def test_the_beat_schedule_runs_the_reply_sweeper_on_the_logging_queue(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-replies"]
    assert entry["task"] == "conversations.sweep_replies" and entry["schedule"] == settings.SWEEP_INTERVAL_S
    assert _route("conversations.sweep_replies") == ("logging", "logging")


def test_workers_reconnect_to_a_lost_broker_for_ever() -> None:
    from helpdesk.celery import app

    assert app.conf.broker_connection_retry is True and app.conf.broker_connection_max_retries is None


def test_beat_goes_on_from_now_after_the_clock_stepped_back(settings, tmp_path) -> None:
    from datetime import timedelta

    from helpdesk.celery import ClockStepSafeScheduler

    assert app.conf.beat_scheduler == "helpdesk.celery:ClockStepSafeScheduler"
    scheduler = ClockStepSafeScheduler(app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    scheduler.setup_schedule()
    try:
        for entry in scheduler.schedule.values():  # every last run stamped before the clock stepped ten minutes back
            entry.last_run_at = entry.default_now() + timedelta(minutes=10)

        delay = scheduler.tick()

        assert delay <= settings.SWEEP_INTERVAL_S, "the sweeper runs within its interval, not ten minutes later"
        sweep = scheduler.schedule["sweep-replies"]
        assert sweep.last_run_at <= sweep.default_now()
    finally:
        scheduler.close()


def test_a_step_of_the_clock_neither_hides_a_live_worker_nor_counts_a_dead_one(settings, monkeypatch) -> None:
    import time

    from django_redis import get_redis_connection

    from helpdesk import celery

    if settings.EMBEDDED:
        pytest.skip("workers write heartbeats in production mode")
    redis = get_redis_connection("default")
    key = celery._WORKERS_KEY.format(queue="knowledge")
    try:
        alive = celery.workers_alive()["knowledge"]
        celery._worker_heartbeat_write(redis, "clock-test@host", ["knowledge"], settings.WORKER_HEARTBEAT_S)
        true_time = time.time
        monkeypatch.setattr(time, "time", lambda: true_time() + 600)  # this host's clock stepped forward
        assert celery.workers_alive()["knowledge"] == alive + 1
        redis.zadd(key, {"clock-test@host": true_time() - 10 * settings.WORKER_HEARTBEAT_S})  # gone since
        monkeypatch.setattr(time, "time", lambda: true_time() - 600)  # and back
        assert celery.workers_alive()["knowledge"] == alive
    finally:
        redis.zrem(key, "clock-test@host")
