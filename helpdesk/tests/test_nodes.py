"""Several Ollama nodes: least busy first, failover before the first token, cool-down and probing back.

Two real fake-Ollama HTTP servers per test, driven through the real `ollama` client.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings

from helpdesk.llm import nodes
from helpdesk.llm import ollama as gateway
from tests.fake_ollama import FakeOllama, Reply
from tests.support.environment import ROOT
from tests.support.redis_traffic import redis_traffic

MESSAGES = [{"role": "user", "content": "hello"}]
OPTIONS = gateway.ChatOptions(model="deepseek-r1:7b", temperature=0.7, top_p=0.9, num_predict=64, num_ctx=2048,
                              think=False)


@pytest.fixture
def two_nodes(fake_ollama: FakeOllama, settings) -> Iterator[tuple[FakeOllama, FakeOllama]]:
    """The session's fake (a) and a second one (b), both configured; b is stopped at the end if still up."""
    second = FakeOllama().start()
    settings.OLLAMA_HOSTS = [fake_ollama.url, second.url]
    settings.OLLAMA_NODE_MAX_FAILURES = 3
    nodes.nodes_forget([second.url])
    try:
        yield fake_ollama, second
    finally:
        nodes.nodes_forget([second.url])
        second.stop()


async def reply_from(**kwargs: object) -> tuple[str, str]:
    """(the node that answered, the visible text)."""
    stream = await gateway.open_chat_stream(MESSAGES, OPTIONS, **kwargs)
    text = "".join([piece.visible async for piece in stream])
    return stream.host, text


def state_of(host: str) -> nodes.NodeState:
    [state] = nodes.nodes_state([host])
    return state


@contextmanager
def looking_busier(host: str) -> Iterator[None]:
    """One request in flight on `host` while inside: routing tries the other node first."""
    token = nodes.request_started(host)
    try:
        yield
    finally:
        nodes.request_finished(host, token)


async def test_a_request_goes_to_the_node_with_fewer_requests_in_flight(two_nodes) -> None:
    a, b = two_nodes
    a.state.default_reply = b.state.default_reply = Reply(content="slow " * 40, per_token=0.02)
    first = await gateway.open_chat_stream(MESSAGES, OPTIONS)  # held open: one request in flight
    assert state_of(first.host).in_flight == 1
    second_host, _ = await reply_from()
    assert second_host != first.host
    await first.aclose()
    assert state_of(a.url).in_flight == state_of(b.url).in_flight == 0


async def test_busy_nodes_share_the_load_evenly(two_nodes) -> None:
    a, b = two_nodes
    a.state.default_reply = b.state.default_reply = Reply(content="x " * 30, per_token=0.01)
    streams = [await gateway.open_chat_stream(MESSAGES, OPTIONS) for _ in range(6)]
    assert sorted(s.host for s in streams).count(a.url) == 3
    for stream in streams:
        await stream.aclose()


@pytest.mark.production
def test_requests_in_flight_are_counted_across_processes(settings) -> None:
    """A worker process's stream counts against the node for every other process (Redis)."""
    host = "http://10.255.0.1:11434"
    nodes.nodes_forget([host])
    script = f"from helpdesk.llm import nodes; print(nodes.request_started({host!r}))"
    env = {"DJANGO_SETTINGS_MODULE": "helpdesk.settings"}
    token = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"], cwd=ROOT, check=True,
        capture_output=True, text=True, env={**__import__("os").environ, **env},
    ).stdout.strip()
    assert state_of(host).in_flight == 1
    nodes.request_finished(host, token)
    assert state_of(host).in_flight == 0


async def test_a_node_killed_mid_run_fails_its_stream_and_the_other_serves_the_rest(two_nodes) -> None:
    survivor, victim = two_nodes  # the session's own fake must survive for the tests after this one
    victim.state.default_reply = Reply(content="word " * 100, per_token=0.05)
    survivor.state.default_reply = Reply(content="one two three four five six")
    with looking_busier(survivor.url):  # the survivor looks busier: the stream goes to the victim
        stream = await gateway.open_chat_stream(MESSAGES, OPTIONS)
    assert stream.host == victim.url
    pieces = aiter(stream)
    await anext(pieces)
    await asyncio.to_thread(victim.stop)  # the node dies mid-reply
    with pytest.raises(gateway.StreamBroken):
        async for _ in pieces:
            pass
    served = []
    for _ in range(6):
        with looking_busier(survivor.url):  # still the busier one: the dead node is tried first...
            served.append(await reply_from())
    assert served == [(survivor.url, "one two three four five six")] * 6
    dead = state_of(victim.url)
    # ...until it has failed three times in a row: then it is out, and no longer tried at all.
    assert dead.cooling_down and dead.failures == 0 and dead.in_flight == 0
    assert [s.host for s in nodes.nodes_ranked(model="deepseek-r1:7b")] == [survivor.url, victim.url]
    assert len(survivor.chat_requests()) == 6


async def test_a_busy_503_node_is_skipped_for_the_other(two_nodes) -> None:
    a, b = two_nodes
    a.state.default_reply = Reply(status=503, error="server busy, please try again.  maximum pending requests exceeded")
    b.state.default_reply = Reply(content="from b")
    for _ in range(5):
        with looking_busier(b.url):  # b looks busier: a is tried first, until it cools down
            assert await reply_from() == (b.url, "from b")
    assert len(a.chat_requests()) == 3 and state_of(a.url).cooling_down


async def test_a_server_error_500_fails_over_to_the_other_node(two_nodes) -> None:
    a, b = two_nodes
    a.state.default_reply = Reply(status=500, error="llama runner process has terminated")
    b.state.default_reply = Reply(content="from b")
    with looking_busier(b.url):
        assert await reply_from() == (b.url, "from b")
    assert len(a.chat_requests()) == 1 and state_of(a.url).failures == 1


async def test_no_first_token_in_time_fails_over(two_nodes, settings) -> None:
    a, b = two_nodes
    settings.OLLAMA_FIRST_CHUNK_TIMEOUT_S = 0.3
    a.state.default_reply = Reply(content="too late", ttft=2.0)
    b.state.default_reply = Reply(content="in time")
    with looking_busier(b.url):
        assert await reply_from() == (b.url, "in time")
    assert state_of(a.url).failures == 1 and state_of(a.url).in_flight == 0


async def test_a_node_without_the_model_is_marked_and_skipped(two_nodes) -> None:
    a, b = two_nodes
    a.state.models = ["bge-m3"]
    b.state.default_reply = Reply(content="from b")
    with looking_busier(b.url):
        assert await reply_from() == (b.url, "from b")  # a answered 404 first
    assert state_of(a.url).lacks("deepseek-r1:7b") and not state_of(a.url).cooling_down
    for _ in range(3):
        assert (await reply_from())[0] == b.url
    assert len(a.chat_requests()) == 1  # asked once, then known to lack it
    # Embeddings still go to a, which has bge-m3.
    await gateway.embed(["hi"], model="bge-m3", host=a.url)


def test_the_health_check_records_versions_models_and_dead_nodes(two_nodes, dead_ollama_url, settings) -> None:
    a, b = two_nodes
    settings.OLLAMA_HOSTS = [a.url, b.url, dead_ollama_url]
    b.state.models = ["bge-m3"]
    b.state.version = "0.13.0"
    found = {h.host: h for h in gateway.nodes_check()}
    assert found[a.url].up and found[a.url].has_model("deepseek-r1:7b") and found[a.url].latency_ms is not None
    assert found[b.url].version == "0.13.0" and not found[b.url].has_model("deepseek-r1:7b")
    assert found[b.url].loaded == ["bge-m3"]
    assert not found[dead_ollama_url].up and "cannot connect" in found[dead_ollama_url].error
    ranked = [s.host for s in nodes.nodes_ranked(model="deepseek-r1:7b")]
    assert ranked[0] == a.url and ranked[-1] == b.url  # the dead node is still tried before one without it
    assert state_of(dead_ollama_url).cooling_down


async def test_a_cooled_down_node_is_probed_back_into_rotation(two_nodes, settings) -> None:
    a, b = two_nodes
    settings.OLLAMA_NODE_COOLDOWN_S = 0.4
    settings.OLLAMA_NODE_MAX_FAILURES = 2
    with a.refusing_connections():
        for _ in range(2):
            with looking_busier(b.url):
                assert (await reply_from())[0] == b.url
        assert state_of(a.url).cooling_down
        assert [s.host for s in nodes.nodes_ranked(model="deepseek-r1:7b")] == [b.url, a.url]
        await asyncio.sleep(0.5)
        assert state_of(a.url).probing
        await asyncio.to_thread(gateway.nodes_check)  # still refused: stays out
        assert not state_of(a.url).usable
    await asyncio.to_thread(gateway.nodes_check)  # back up: back in rotation
    assert state_of(a.url).usable and state_of(a.url).failures == 0


def test_health_check_task_is_scheduled_by_beat() -> None:
    from helpdesk.celery import app

    schedule = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
    assert schedule["helpdesk.check_ollama_nodes"]["schedule"] == django_settings.OLLAMA_HEALTH_INTERVAL_S
    assert app.amqp.router.route({}, "helpdesk.check_ollama_nodes")["queue"].name == "logging"


def test_a_cool_down_started_before_the_clock_stepped_back_ends_on_time(two_nodes, settings) -> None:
    _, b = two_nodes
    settings.OLLAMA_NODE_COOLDOWN_S = 30
    nodes.cooldown_start(b.url)
    assert state_of(b.url).cooling_down
    # Its end as stamped by a clock that has since stepped ten minutes back (NTP): it lies beyond a whole cool-down.
    from django.core.cache import cache

    cache.set(nodes.COOLDOWN_KEY.format(host=b.url), time.time() + 600 + 30, timeout=None)
    assert not state_of(b.url).cooling_down and state_of(b.url).probing


# --- Redis round trips per request (tests.support.redis_traffic counts them at the client) ------------------------

MODEL = "deepseek-r1:7b"


@pytest.fixture
def lone_node(settings) -> Iterator[str]:
    """One configured node nobody serves on: only what the shared cache says of it is read."""
    host = "http://10.255.0.2:11434"
    settings.OLLAMA_HOSTS = [host]
    nodes.nodes_forget([host])
    try:
        yield host
    finally:
        nodes.nodes_forget([host])


@pytest.mark.production
def test_one_nodes_state_is_read_and_its_request_counted_in_one_round_trip(lone_node) -> None:
    nodes.node_failed(lone_node, kind="unavailable")
    nodes.health_record(nodes.NodeHealth(host=lone_node, up=True, checked_at=time.time(), models=[MODEL]))
    with redis_traffic() as traffic:
        state, token = next(nodes.nodes_to_try(model=MODEL))
    assert traffic.round_trips == 1
    # What the pipeline read decodes as the cache's own reads would: a pickled health, a raw counter.
    assert state.host == lone_node and state.failures == 1 and state.health is not None
    assert state.health.models == [MODEL] and state.usable
    assert state_of(lone_node).in_flight == 1
    with redis_traffic() as traffic:
        nodes.request_finished(lone_node, token, succeeded=state)
    assert traffic.round_trips == 1 and set(traffic.commands) == {"ZREM", "DEL"}  # the streak ends with it
    after = state_of(lone_node)
    assert after.in_flight == 0 and after.failures == 0


@pytest.mark.production
def test_a_success_on_a_node_without_failures_writes_nothing_but_its_uncount(lone_node) -> None:
    state, token = next(nodes.nodes_to_try(model=MODEL))
    with redis_traffic() as traffic:
        nodes.request_finished(lone_node, token, succeeded=state)
    assert dict(traffic.commands) == {"ZREM": 1} and traffic.round_trips == 1


@pytest.mark.production
def test_a_success_on_a_probing_node_ends_its_cool_down_as_it_is_uncounted(lone_node, settings) -> None:
    settings.OLLAMA_NODE_COOLDOWN_S = 5
    from django.core.cache import cache

    cache.set(nodes.COOLDOWN_KEY.format(host=lone_node), time.time() - 1, timeout=None)  # over: awaiting a probe
    state, token = next(nodes.nodes_to_try(model=MODEL))
    assert state.probing
    nodes.request_finished(lone_node, token, succeeded=state)
    after = state_of(lone_node)
    assert after.cooldown_until is None and after.usable


def test_several_nodes_are_counted_one_by_one_as_they_are_tried(two_nodes) -> None:
    a, b = two_nodes
    with looking_busier(a.url):
        attempts = nodes.nodes_to_try(model=MODEL)
        first, first_token = next(attempts)
        assert first.host == b.url and state_of(b.url).in_flight == 1  # the least busy, counted as handed out
        second, second_token = next(attempts)
        assert second.host == a.url and state_of(a.url).in_flight == 2
        nodes.request_finished(first.host, first_token)
        nodes.request_finished(second.host, second_token)
    assert state_of(a.url).in_flight == state_of(b.url).in_flight == 0


@pytest.mark.production
def test_the_health_check_prunes_the_entries_of_killed_workers(lone_node) -> None:
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    key = nodes.INFLIGHT_KEY.format(host=lone_node)
    redis.zadd(key, {"a-killed-workers-request": time.time() - 1})  # stopped counting, never removed
    token = nodes.request_started(lone_node)
    assert state_of(lone_node).in_flight == 1  # not counted already
    nodes.health_record(nodes.NodeHealth(host=lone_node, up=False, checked_at=time.time(), error="refused"))
    assert redis.zrange(key, 0, -1) == [token.encode()]
    nodes.request_finished(lone_node, token)


async def test_an_embedding_request_is_uncounted_whether_it_worked_or_failed(two_nodes) -> None:
    a, b = two_nodes
    await gateway.embed(["hello"], model="bge-m3", host=a.url)
    assert state_of(a.url).in_flight == 0
    b.stop()
    with pytest.raises(gateway.OllamaError):
        await gateway.embed(["hello"], model="bge-m3", host=b.url)
    assert state_of(b.url).in_flight == 0 and state_of(b.url).failures == 1
