"""The fake Ollama (tests/fake_ollama.py) over real HTTP, and an address where no Ollama answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama
from tests.support.environment import free_port


@pytest.fixture(scope="session")
def fake_ollama_server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_ollama(fake_ollama_server: FakeOllama, settings: Any) -> Iterator[FakeOllama]:
    """The fake, reset, and configured as this process's only Ollama node."""
    from helpdesk.llm import nodes
    from helpdesk.llm import ollama as gateway

    fake_ollama_server.reset()
    settings.OLLAMA_HOSTS = [fake_ollama_server.url]
    gateway._server_versions.clear()
    nodes.nodes_forget([fake_ollama_server.url])
    yield fake_ollama_server
    fake_ollama_server.reset()


@pytest.fixture
def dead_ollama_url() -> str:
    """An address where nothing listens: connections are refused."""
    return f"http://127.0.0.1:{free_port()}"
