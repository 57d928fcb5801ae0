"""Production mode (DATABASE_URL or REDIS_URL set) refuses unsafe settings; embedded mode keeps development defaults.

Each test loads helpdesk/settings.py afresh on an environment of its own (runpy), so a refusal is the one a process
meets on start, and the settings of this test run are left alone.
"""

from __future__ import annotations

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk import safety
from tests.support.environment import free_port

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "helpdesk" / "settings.py"
STRONG_KEY = secrets.token_urlsafe(50)
PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://helpdesk:pw@db.example.com:5432/helpdesk",
    "REDIS_URL": "redis://redis.example.com:6379/0",
}
# Everything these tests set, cleared first so the environment of the test run does not leak in.
SETTINGS_ENV = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "BEHIND_TLS_PROXY", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SQLITE_PATH", "POD_IP",
)
WEAK_KEYS = [
    "changeme",
    "secret",
    "dev-only-REPLACE_ME",  # the Kubernetes Secret's placeholder (deploy/k8s/02-secret.yaml)
    safety.DEV_SECRET_KEY,
    "django-insecure-" + secrets.token_urlsafe(50),
    secrets.token_urlsafe(30),  # random, but short
    "a" * 60,
    "ab" * 30,
    "secret" * 10,
    "please-changeme-" + secrets.token_urlsafe(50),
]


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The settings module's names, as a process started with `env` (and nothing else of ours) would have them."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_production_mode_defaults_to_debug_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY)["DEBUG"] is False
    assert load(monkeypatch, DATABASE_URL=PRODUCTION_ENV["DATABASE_URL"], SECRET_KEY=STRONG_KEY)["DEBUG"] is False
    assert load(monkeypatch, REDIS_URL=PRODUCTION_ENV["REDIS_URL"], SECRET_KEY=STRONG_KEY)["DEBUG"] is False


def test_production_mode_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        load(monkeypatch, **PRODUCTION_ENV)
    message = str(refused.value)
    assert "SECRET_KEY is not set" in message
    assert "secrets.token_urlsafe(50)" in message  # and says how to make one


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_production_mode_refuses_a_weak_secret_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"SECRET_KEY (is|has) .*token_urlsafe"):
        load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=key)


@pytest.mark.parametrize("key", ["", *WEAK_KEYS])
def test_debug_off_refuses_a_weak_secret_key_in_embedded_mode_too(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load(monkeypatch, DEBUG="false", SECRET_KEY=key)


def test_a_strong_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    assert safety.secret_key_problem(STRONG_KEY) is None
    from django.core.management.utils import get_random_secret_key

    assert safety.secret_key_problem(get_random_secret_key()) is None
    assert load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY)["SECRET_KEY"] == STRONG_KEY


def test_production_mode_refuses_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="DEBUG=true is refused in production mode"):
        load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY, DEBUG="true")


def test_production_mode_refuses_any_host(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"ALLOWED_HOSTS=\* is refused"):
        load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="help.example.com,*")


def test_every_refusal_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY="changeme", DEBUG="true", ALLOWED_HOSTS="*")
    assert all(name in str(refused.value) for name in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"))


def test_embedded_mode_keeps_development_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    names = load(monkeypatch)
    assert names["DEBUG"] is True
    assert names["SECRET_KEY"] == safety.DEV_SECRET_KEY
    assert names["PRODUCTION"] is False


def test_embedded_mode_database_file_can_move(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    names = load(monkeypatch, SQLITE_PATH=str(tmp_path / "dev.sqlite3"))
    assert names["PRODUCTION"] is False and names["DEBUG"] is True
    assert names["DATABASES"]["default"]["NAME"] == str(tmp_path / "dev.sqlite3")


def test_behind_a_tls_proxy_cookies_are_secure_and_browsers_are_told_to_keep_to_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY, BEHIND_TLS_PROXY="true")
    assert names["SESSION_COOKIE_SECURE"] is True and names["CSRF_COOKIE_SECURE"] is True
    assert names["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert names["SECURE_SSL_REDIRECT"] is True
    assert names["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert names["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True


def test_https_redirect_spares_probes_and_hsts_goes_out_over_https(
    monkeypatch: pytest.MonkeyPatch, client: Any, settings: Any
) -> None:
    """The settings a TLS-proxied deployment gets, applied to real requests: a browser on plain HTTP is sent to
    https, Kubernetes probes and Prometheus (plain HTTP to the pod) are not, and https answers carry HSTS."""
    names = load(monkeypatch, **PRODUCTION_ENV, SECRET_KEY=STRONG_KEY, BEHIND_TLS_PROXY="true")
    for name in ("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_HSTS_SECONDS",
                 "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        setattr(settings, name, names[name])
    page = client.get("/admin/login/")
    assert page.status_code == 301 and page["Location"].startswith("https://")
    for probe in ("/livez", "/healthz", "/metrics"):
        assert client.get(probe).status_code != 301, probe
    secure = client.get("/livez", headers={"x-forwarded-proto": "https"})
    assert secure["Strict-Transport-Security"] == f"max-age={names['SECURE_HSTS_SECONDS']}; includeSubDomains"
    login = client.get("/admin/login/", headers={"x-forwarded-proto": "https"})
    assert login.status_code == 200
    assert "secure" in str(login.cookies["csrftoken"]).lower()


# --- what `manage.py serve` says -----------------------------------------------------------------------------------


def serve_env(**env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV and k != "DJANGO_SETTINGS_MODULE"}
    return {**base, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env}


def test_serve_in_production_without_a_secret_key_says_how_to_make_one() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "serve", "--no-migrate"], cwd=ROOT, env=serve_env(**PRODUCTION_ENV),
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr and "secrets.token_urlsafe(50)" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_serve_in_embedded_mode_says_it_runs_with_development_defaults(tmp_path: Path) -> None:
    port = free_port()
    env = serve_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), OLLAMA_HOSTS=f"http://127.0.0.1:{free_port()}",
                    LOAD_DEMO_KNOWLEDGE="false")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "Serving on" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=20)
    output = "".join(lines)
    assert "development defaults" in output and "not for production" in output, output
    # Stopped while its children were starting, serve still stops them: no Daphne is left behind on the port.
    from tests.processes import process_table

    left = [info.command for info in process_table().values() if f"-p {port}" in info.command]
    assert not left, left
