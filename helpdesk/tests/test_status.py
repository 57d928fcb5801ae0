"""What operators see of the nodes: `manage.py ollama_status`, /healthz (readiness) and /livez (liveness)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from helpdesk.llm import nodes
from tests.fake_ollama import FakeOllama


@pytest.fixture
def second_node(fake_ollama: FakeOllama, settings):
    second = FakeOllama().start()
    nodes.nodes_forget([second.url])
    yield second
    nodes.nodes_forget([second.url])
    second.stop()


@pytest.mark.django_db
def test_ollama_status_lists_each_node_its_models_and_latency(fake_ollama, second_node, dead_ollama_url,
                                                              settings, capsys) -> None:
    settings.OLLAMA_HOSTS = [fake_ollama.url, second_node.url, dead_ollama_url]
    second_node.state.models = ["bge-m3"]
    second_node.state.version = "0.13.1"
    call_command("ollama_status")
    out = capsys.readouterr().out
    first, second, dead = (out.split(host, 1)[1].split("http://", 1)[0]
                           for host in (fake_ollama.url, second_node.url, dead_ollama_url))
    assert "up  Ollama 0.12.6" in first and "deepseek-r1:7b: pulled (loaded)" in first and "latency" in first
    assert "bge-m3: pulled" in first
    assert "Ollama 0.13.1" in second and "deepseek-r1:7b: missing, run `ollama pull deepseek-r1:7b`" in second
    assert "DOWN" in dead and "cannot connect" in dead
    assert "1 of 3 node(s) can serve deepseek-r1:7b" in out


@pytest.mark.django_db
def test_ollama_status_fails_when_no_node_can_serve_the_chat_model(fake_ollama, dead_ollama_url, settings) -> None:
    fake_ollama.state.models = ["bge-m3"]
    settings.OLLAMA_HOSTS = [fake_ollama.url, dead_ollama_url]
    with pytest.raises(CommandError, match="no Ollama node can serve the chat model deepseek-r1:7b"):
        call_command("ollama_status")


@pytest.mark.django_db
def test_healthz_is_ready_with_database_cache_and_a_node(client, fake_ollama) -> None:
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["ok"]
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    assert body["checks"]["ollama"]["serving"] == [fake_ollama.url]


@pytest.mark.django_db
def test_healthz_is_not_ready_without_any_ollama_node(client, settings, dead_ollama_url) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    nodes.nodes_forget([dead_ollama_url])
    response = client.get("/healthz")
    assert response.status_code == 503
    ollama = response.json()["checks"]["ollama"]
    assert not ollama["ok"] and dead_ollama_url in ollama["error"]
    assert response.json()["checks"]["database"]["ok"]


@pytest.mark.django_db
def test_healthz_tells_strangers_only_whether_it_is_ready(client, fake_ollama, settings) -> None:
    settings.METRICS_ALLOWED_IPS = []
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "checks": {"warm_up": {"ok": True}, "database": {"ok": True},
                                                      "connections": {"ok": True}, "cache": {"ok": True},
                                                      "ollama": {"ok": True}}}


def test_livez_needs_nothing(client, settings, dead_ollama_url) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]
    assert client.get("/livez").json() == {"ok": True}
