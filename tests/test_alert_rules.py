"""The alerting rules in deploy/prometheus/: valid, each alert fires on the failure it names and stays quiet on a
healthy stack (promtool's own unit tests, alerts_test.yml, which must cover every alert), and every product
series they read is one /metrics serves, including while a dependency is down, when the scrape must still
succeed and say so.

The workers' heartbeat behind helpdesk_celery_workers is tested with real Celery workers: one that stops on
purpose leaves the count at once, one killed outright when its heartbeat goes stale.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.environment import ROOT, free_port, postgres_url, require, uses_postgres

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"


def _promtool() -> str:
    path = shutil.which("promtool")
    require(path is not None, "promtool (Debian's prometheus package)")
    return str(path)


def test_the_rules_are_valid_and_their_unit_tests_pass() -> None:
    for command in (["check", "rules", RULES.name], ["test", "rules", RULE_TESTS.name]):
        done = subprocess.run([_promtool(), *command], cwd=RULES.parent, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def _alerts() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def test_every_alert_has_a_unit_test_where_it_fires() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing = {case["alertname"] for test in tests for case in test.get("alert_rule_test", []) if case["exp_alerts"]}
    assert _alerts() - firing == set(), "alerts no unit test sees fire"


def _series_read_by_rules() -> set[str]:
    """helpdesk_* names in the rules' expressions (recording rules' own names, helpdesk:…, are not served)."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    expressions = " ".join(rule["expr"] for group in groups for rule in group["rules"])
    return set(re.findall(r"(?<![\w:])helpdesk_[a-z0-9_]+", expressions))


def _family(name: str) -> str:
    return re.sub(r"_(total|bucket|count|sum)$", "", name)


def _scrape(client: Any, settings: Any) -> tuple[int, dict[str, Any]]:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    response = client.get("/metrics")
    return response.status_code, {f.name: f for f in text_string_to_metric_families(response.content.decode())}


@pytest.mark.production
@pytest.mark.django_db
def test_every_product_series_the_rules_read_is_served(client, settings) -> None:
    require(not settings.EMBEDDED, "Redis (REDIS_URL)")
    status, served = _scrape(client, settings)
    assert status == 200
    assert {_family(name) for name in _series_read_by_rules()} - set(served) == set()
    assert {s.labels["dependency"]: s.value for s in served["helpdesk_dependency_up"].samples} == {
        "database": 1.0, "redis": 1.0}


@pytest.mark.production
@pytest.mark.django_db
def test_with_redis_unreachable_the_scrape_succeeds_and_says_so(client, settings) -> None:
    require(not settings.EMBEDDED, "Redis (REDIS_URL)")
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: connections are refused
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": dead}}
    status, served = _scrape(client, settings)
    assert status == 200
    assert {s.labels["dependency"]: s.value for s in served["helpdesk_dependency_up"].samples} == {
        "database": 1.0, "redis": 0.0}
    # Unknown, not zero: an empty queue would read as "all is well".
    assert "helpdesk_generation_queue_depth" not in served and "helpdesk_celery_workers" not in served


@pytest.mark.django_db
def test_embedded_mode_reports_the_database_and_no_workers(client, settings) -> None:
    """Embedded mode runs tasks on the web process's threads: there are no workers to count, and its cache is
    local memory, reported as such rather than as a Redis that is down."""
    if not settings.EMBEDDED:
        pytest.skip("embedded mode")
    status, served = _scrape(client, settings)
    assert status == 200 and "helpdesk_celery_workers" not in served
    assert {s.labels["dependency"]: s.value for s in served["helpdesk_dependency_up"].samples} == {
        "database": 1.0, "cache": 1.0}


HEARTBEAT_S = 0.5


def _worker(name: str) -> subprocess.Popen:
    """A real Celery worker on the `knowledge` queue only, beating every HEARTBEAT_S."""
    env = {**os.environ, "DATABASE_URL": postgres_url(), "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
           "WORKER_HEARTBEAT_S": str(HEARTBEAT_S)}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", "knowledge", "-P", "solo", "-n", name,
         "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.1)


@pytest.fixture
def heartbeats(settings) -> Iterator[Any]:
    require(not settings.EMBEDDED, "Redis (REDIS_URL)")
    require(uses_postgres(), "PostgreSQL (DATABASE_URL)")
    from django_redis import get_redis_connection

    settings.WORKER_HEARTBEAT_S = HEARTBEAT_S
    redis = get_redis_connection("default")
    yield redis


@pytest.mark.production
def test_a_worker_counts_while_it_beats_and_leaves_the_count_when_it_stops_or_dies(heartbeats) -> None:
    """Read per worker (the suite's own worker beats on the same queue, on its own interval)."""
    from helpdesk.celery import workers_alive

    key, name = "helpdesk:workers:knowledge", f"heartbeat-{os.getpid()}@localhost"

    def counted() -> bool:  # what workers_alive counts: a heartbeat at most three intervals old
        return name.encode() in heartbeats.zrangebyscore(key, time.time() - 3 * HEARTBEAT_S, "+inf")

    stopped = _worker(name)
    killed = None
    try:
        _wait(counted)
        assert workers_alive()["knowledge"] >= 1
        stopped.send_signal(signal.SIGTERM)  # a stop on purpose: warm shutdown
        stopped.wait(timeout=30)
        assert heartbeats.zscore(key, name) is None, "it took itself off at once"

        killed = _worker(name)
        _wait(counted)
        killed.kill()  # SIGKILL: no shutdown signal, the heartbeat just stops
        killed.wait(timeout=10)
        assert heartbeats.zscore(key, name) is not None, "a killed worker cannot take itself off"
        _wait(lambda: not counted(), timeout=3 * HEARTBEAT_S + 10)
    finally:
        for process in (stopped, killed):
            if process is not None and process.poll() is None:
                process.kill()
        heartbeats.zrem(key, name)
