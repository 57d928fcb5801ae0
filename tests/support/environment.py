"""What this run has, the settings of the test process, and the state every test starts from.

`make test` runs the suite in whatever configuration the environment gives
(CI: PostgreSQL + Redis), then, when that was not the embedded one, runs it
again with DATABASE_URL and REDIS_URL removed (SQLite, in-memory channel
layer, in-process tasks), leaving out the tests that need a real worker. With CI=true a
test that needs PostgreSQL, Redis or Chromium fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
ROOT = Path(__file__).resolve().parents[2]


def require(condition: bool, what: str) -> None:
    """Skip a test whose real dependency is missing here; in CI, fail it."""
    if condition:
        return
    if CI:
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not available")


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def postgres_server() -> str:
    """libpq conninfo of the test database's server as the test database's user, without a database name."""
    db = settings.DATABASES["default"]
    return f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']}"


def postgres_url(name: str | None = None) -> str:
    """The URL of database `name` (default: the test database) as the test database's user, for a subprocess."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick): for a server a test starts, or a refused connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def catalogs_compile() -> None:
    """The .mo files are built, not committed: a suite started without `make` compiles those older than their
    .po as the Makefile's %.mo rule does, so that no test, and no server a test starts, reads a stale one."""
    for po in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if not shutil.which("msgfmt"):
            raise pytest.UsageError(f"{mo.name} must be compiled: install GNU gettext (apt-get install gettext)")
        done = subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], capture_output=True, text=True)
        if done.returncode:
            raise pytest.UsageError(f"msgfmt refused {po.relative_to(ROOT)}:\n{done.stderr}")


def pytest_configure(config: pytest.Config) -> None:
    catalogs_compile()
    # Database threads (helpdesk.runtime.aio.db_call) would keep their connections open
    # past the last test, and PostgreSQL then refuses to drop the test database.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    # No embedded beat sweeping the test database behind the tests' backs (tests run the sweep themselves).
    settings.EMBEDDED_BEAT = False
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict):
        pool["max_size"] += 1  # the test's own thread holds one (its transaction) beside Daphne's threads
    # The test process serves nothing: importing helpdesk.asgi must not start a warm-up (tests/test_warmup.py
    # runs its own); the servers and workers that tests start warm up as in production.
    settings.WARM_UP = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_embedded = pytest.mark.skip(reason="embedded-mode test: runs in the pass without DATABASE_URL/REDIS_URL")
    for item in items:
        if "embedded" in item.keywords and not settings.EMBEDDED:
            item.add_marker(skip_embedded)


@pytest.fixture(autouse=True)
def _production_needs(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("production"):
        require(not settings.EMBEDDED, "Redis (REDIS_URL)")
        require(uses_postgres(), "PostgreSQL (DATABASE_URL)")


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """Each test gets its own channel-layer instance: channels_redis keeps connections and subscriptions per
    event loop, and one test's loop must not leave them to the next."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _nobody_online() -> None:
    """Every test starts with no agent's console open: a console an earlier test left without its disconnect
    counts as online for PRESENCE_TTL_S, and a handoff then went to that agent instead of the queue (whether a
    test saw it depended on how soon it ran after the other)."""
    from conversations import presence_store

    if settings.EMBEDDED:
        presence_store._local_presence = presence_store._LocalPresence()
        return
    from django_redis import get_redis_connection

    get_redis_connection("default").delete(presence_store.PRESENCE_KEY)


@pytest.fixture(autouse=True)
def _no_kept_gap_vectors() -> None:
    """Every test embeds its knowledge-gap questions afresh: vectors an earlier test (or run, in Redis) kept would
    group a test's questions by meaning when it meant to have no embedding model."""
    from conversations.stats.gaps import gap_vectors_forget_all

    gap_vectors_forget_all()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Every test starts with unspent limits: the whole suite comes from one address."""
    from helpdesk.web import ratelimits

    ratelimits.reset()


@pytest.fixture(autouse=True)
def _fresh_kept_rows() -> None:
    """Every test reads the profiles, actions and endpoints it made, in this process and in the session worker:
    a rolled-back test's rows must not stay kept (helpdesk.runtime.versioned)."""
    from helpdesk.runtime.versioned import versioned_forget_all

    versioned_forget_all()


@pytest.fixture
def staff_client(client: Any) -> Any:
    """The test client signed in as a superuser (admin pages); `client.user` is that user."""
    from django.contrib.auth import get_user_model

    client.user = get_user_model().objects.create_superuser("staff", "staff@example.invalid", "pw")
    client.force_login(client.user)
    return client
