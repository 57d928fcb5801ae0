"""Fixtures of the browser tests: one live server and one Chromium per test module (see tests/browser.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import LiveServer, chromium, running_server
from tests.fake_ollama import FakeOllama
from tests.support.environment import require


@pytest.fixture(scope="module")
def live_app_env() -> dict[str, str]:
    """Settings a test module's live server runs with, beyond the defaults (override in the module)."""
    return {}


@pytest.fixture(scope="module")
def live_app(fake_ollama_server: FakeOllama, live_app_env: dict[str, str]) -> Iterator[LiveServer]:
    with running_server(fake_ollama_server.url, live_app_env) as server:
        yield server


@pytest.fixture(scope="module")
def live_server_url(live_app: LiveServer) -> str:
    return live_app.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(bool(shutil.which("chromium")) and bool(shutil.which("chromedriver")), "Chromium and chromedriver")
    with chromium() as driver:
        yield driver
