"""/metrics: who may scrape it, and what it exposes after real conversations on the production stack."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fake_ollama import FakeOllama, Reply
from tests.processes import process_table
from tests.support.environment import ROOT, uses_postgres
from tests.support.serve import ServedStack, own_database, serve_env

TOKEN = "scrape-token-for-tests"


def families(text: str) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(text)}


@pytest.mark.django_db
def test_metrics_need_the_token_or_an_allowed_address(client, settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    response = client.get("/metrics")  # the test client comes from 127.0.0.1
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_with_a_token_set_an_allowed_address_alone_opens_nothing(client, settings) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert client.get("/metrics").status_code == 403
    assert all(set(check) == {"ok"} for check in client.get("/healthz").json()["checks"].values())  # no details
    settings.METRICS_REQUIRE_TOKEN = False
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_request_metrics_have_a_bounded_set_of_labels(client) -> None:
    import random
    import string

    for _ in range(200):
        method = "".join(random.choices(string.ascii_uppercase, k=12))
        client.generic(method, "/livez")
    found = families(client.get("/metrics").content.decode())
    methods = {s.labels["method"] for s in found["helpdesk_http_requests"].samples}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "other"}
    assert "other" in methods


@pytest.mark.django_db
def test_metrics_count_requests_and_the_queue_in_this_process(client) -> None:
    client.get("/livez")
    found = families(client.get("/metrics").content.decode())
    requests = found["helpdesk_http_requests"]
    assert any(s.labels == {"method": "GET", "status": "200"} and s.value >= 1 for s in requests.samples)
    [depth] = found["helpdesk_generation_queue_depth"].samples
    assert depth.value >= 0


def test_live_gauges_of_dead_processes_on_this_host_stop_counting(tmp_path, monkeypatch) -> None:
    import socket

    from helpdesk.observability import metrics

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    host = socket.gethostname()
    dead = tmp_path / f"gauge_livesum_{host}-{2**22 + 7}.db"  # above any pid this kernel hands out
    alive = tmp_path / f"gauge_livesum_{host}-{os.getpid()}.db"
    other_host = tmp_path / "gauge_livesum_other-container-1.db"
    counter = tmp_path / f"counter_{host}-{2**22 + 7}.db"
    for path in (dead, alive, other_host, counter):
        path.write_bytes(b"")
    metrics.forget_dead_processes()
    assert not dead.exists() and alive.exists() and other_host.exists() and counter.exists()


# --- the production stack: Daphne, Celery prefork workers, beat, PostgreSQL, Redis ----------------------------


@pytest.fixture
def production_stack(fake_ollama_server: FakeOllama) -> Iterator[tuple[str, dict[str, str], int]]:
    """`manage.py serve` as an operator runs it, on its own PostgreSQL database and Redis db (and its pid)."""
    import redis
    from django.conf import settings

    if settings.EMBEDDED or not uses_postgres():
        pytest.skip("needs PostgreSQL and Redis")
    redis_url = settings.REDIS_URL.rsplit("/", 1)[0] + "/9"  # away from the test worker's queues
    with own_database("metrics") as database:
        redis.Redis.from_url(redis_url).flushdb()
        env = serve_env(database_url=database.url, redis_url=redis_url, ollama_url=fake_ollama_server.url,
                        METRICS_TOKEN=TOKEN, CELERY_GENERATION_CONCURRENCY="2", LOG_LEVEL="WARNING",
                        RATE_LIMITS_ENABLED="false")
        with ServedStack(env, ready_timeout=90, keep_log_as="metrics-stack.log") as served:
            served.start()
            yield served.url, served.env, served.process.pid


def session_niceness(session_id: int) -> dict[str, int]:
    """The nice value of each process of a session (`manage.py serve` and what it started), by command line."""
    return {info.command: info.nice for info in process_table().values() if info.session == session_id}


def http_json(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def chat_until(ws, frame_type: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.1)))
        if frame["type"] == frame_type:
            return frame


async def converse_then_scrape(base: str, env: dict, answered: dict, failed: dict) -> str:
    """A conversation answered and one handed off (the model busy), resolved and rated; then /metrics,
    scraped while both sockets are open."""
    import websockets

    ws_url = base.replace("http", "ws")
    origin = {"Origin": base}
    async with websockets.connect(ws_url + answered["websocket"], additional_headers=origin) as ws:
        await chat_until(ws, "history")
        await ws.send(json.dumps({"type": "message", "text": "Where is my parcel?", "client_id": "m1"}))
        done = await chat_until(ws, "done")
        async with websockets.connect(ws_url + failed["websocket"], additional_headers=origin) as second:
            await chat_until(second, "history")
            await second.send(json.dumps({"type": "message", "text": "And my refund?", "client_id": "m2"}))
            await chat_until(second, "status")  # handed off: the model was unavailable
            resolve = ("from conversations.services import handoff; from conversations.models import Conversation; "
                       "from django.contrib.auth.models import User; "
                       "u = User.objects.create(username='ops-agent', is_staff=True); "
                       f"c = Conversation.objects.get(token={failed['token']!r}); "
                       "handoff.conversation_resolve(conversation_id=c.pk, agent=u)")
            await asyncio.to_thread(subprocess.run, [sys.executable, "manage.py", "shell", "-c", resolve],
                                    cwd=ROOT, env=env, check=True, capture_output=True)
            await chat_until(second, "status")
            await second.send(json.dumps({"type": "csat", "score": 4}))
            await chat_until(second, "csat")
            # Scraped while both sockets are open.
            request = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            text = await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=10).read().decode())
        assert done["message"]["status"] == "complete"
        return text


@pytest.mark.production
@pytest.mark.timeout(240)
def test_metrics_expose_every_family_after_conversations_on_the_production_stack(
    production_stack, fake_ollama_server: FakeOllama
) -> None:

    base, env, serve_pid = production_stack
    fake_ollama_server.reset()
    fake_ollama_server.script(
        Reply(content="Your parcel left Hangzhou this morning.", thinking="look it up", ttft=0.05, per_token=0.01),
        Reply(status=503, error="server busy, please try again.  maximum pending requests exceeded"),
    )
    answered = http_json(base + "/api/v1/conversations")
    failed = http_json(base + "/api/v1/conversations")
    text = asyncio.run(converse_then_scrape(base, env, answered, failed))
    found = families(text)

    # Daphne keeps the processor's first call on one host; the workers run nicer (WORKER_NICE).
    niceness = session_niceness(serve_pid)
    [daphne] = [nice for command, nice in niceness.items() if "helpdesk.webserver" in command]
    assert daphne == os.nice(0)
    workers = [nice for command, nice in niceness.items() if "celery" in command]
    # generation, logging and beat, and their pool processes
    assert len(workers) >= 3 and set(workers) == {min(daphne + 10, 19)}, niceness

    def samples(name: str, **labels: str) -> list:
        return [s for s in found[name].samples if all(s.labels.get(k) == v for k, v in labels.items())]

    assert samples("helpdesk_http_requests", method="POST", status="201")[0].value >= 2
    assert samples("helpdesk_messages", role="customer")[0].value == 2
    assert samples("helpdesk_messages", role="bot")[0].value == 2  # the answer and the failed attempt
    assert samples("helpdesk_websocket_connections", socket="chat")[0].value == 2
    node = fake_ollama_server.url
    assert [s.value for s in samples("helpdesk_time_to_first_token_seconds", profile="default", node=node)
            if s.name.endswith("_count")] == [1.0]
    assert [s.value for s in samples("helpdesk_reply_seconds", profile="default", node=node)
            if s.name.endswith("_count")] == [1.0]
    assert samples("helpdesk_tokens_generated", profile="default", node=node)[0].value > 0
    assert samples("helpdesk_ollama_errors", kind="busy", node=node)[0].value == 1
    assert samples("helpdesk_bot_answers", source="llm")[0].value == 2
    assert samples("helpdesk_handoffs", reason="model_error")[0].value == 1
    assert [s.value for s in found["helpdesk_csat_score"].samples if s.name.endswith("_sum")] == [4.0]
    assert samples("helpdesk_generation_queue_depth")[0].value == 0
