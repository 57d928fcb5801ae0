"""What the browser tests share: the live server, Chromium, a second site, a cuttable network, and the widget's DOM.

The fixtures built on these are in tests/support/live.py; docs/screenshots/make_screenshots.py uses them directly.
"""

from __future__ import annotations

import http.server
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.environment import ROOT, free_port
from tests.support.serve import ServedStack
from tests.support.stored import plain, plain_rows

IDENTITY_SECRET = "browser-test-identity-secret"


class LiveServer(ServedStack):
    """The product as `make run` starts it (`manage.py serve`, embedded mode) on a fresh SQLite file, talking to
    the fake Ollama. It can be stopped and started again on the same port and database, as a server restarts.

    Two more ports are set aside for host sites: `second_port` is in WIDGET_ALLOWED_ORIGINS, `foreign_port` is not.
    """

    def __init__(self, ollama_url: str, extra_env: dict[str, str] | None = None) -> None:
        # The host sites' servers are bound now, on ports the system picks, and kept for the session: a port only
        # found free here and bound at a test's first use was taken meanwhile by another connection once (CI,
        # 2026-12-05: "Address already in use").
        port, self.second_port, self.foreign_port = free_port(), _host_server(), _host_server()
        url = f"http://127.0.0.1:{port}"
        self.workdir = Path(tempfile.mkdtemp(prefix="helpdesk-live-"))
        self.db_path = self.workdir / "db.sqlite3"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            SQLITE_PATH=str(self.db_path),  # embedded mode (development defaults: the demo accounts), own file
            OLLAMA_HOSTS=ollama_url,
            WIDGET_ALLOWED_ORIGINS=f"{url},http://127.0.0.1:{self.second_port}",
            WIDGET_IDENTITY_SECRET=IDENTITY_SECRET,
            DEBUG="true",
            # Every test's customer comes from 127.0.0.1: one address's abuse limits would refuse the suite.
            RATE_LIMITS_ENABLED="false",
        )
        env.update(extra_env or {})
        super().__init__(env, port=port, ready_timeout=60, log_path=self.workdir / "serve.log",
                         keep_log_as="live-server.log")

    def close(self) -> None:
        super().close()
        # Kept for reading after a failure (CI prints where), beside the server's own account of the run.
        shutil.copy(self.db_path, ROOT / ".pytest_cache" / "live-server.sqlite3")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the server's database directly: fast enough to poll, and what is stored is what counts. Encrypted
        values come back decrypted, and SQL can compare them as `plain(column)`."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10) as db:
            db.create_function("plain", 1, plain, deterministic=True)
            return plain_rows(db.execute(sql, params).fetchall())


@contextmanager
def running_server(ollama_url: str, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    server = LiveServer(ollama_url, extra_env)
    try:
        server.start()
        yield server
    finally:
        server.close()


CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    "--window-size=1280,900", "--lang=en-US", "--hide-scrollbars",
)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through its chromedriver, with the page's console log readable."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    profile = tempfile.mkdtemp(prefix="helpdesk-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def browser_language(driver: Any, language: str) -> Iterator[None]:
    """The browser's own language (navigator.language and Accept-Language), as a customer's browser is set."""
    agent = driver.execute_script("return navigator.userAgent")
    driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": language})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": ""})


@contextmanager
def phone(driver: Any, width: int = 390, height: int = 844) -> Iterator[None]:
    """A phone's viewport (an iPhone 12-14 in CSS pixels), touch and all."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


class _HostPages(http.server.BaseHTTPRequestHandler):
    """Serves the pages of whichever test is running from memory (see `host_site`)."""

    pages: dict[str, str]

    def do_GET(self) -> None:
        page = self.pages.get(self.path.lstrip("/").split("?", 1)[0])
        body = (page if page is not None else "not found").encode("utf-8")
        self.send_response(200 if page is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


_host_servers: dict[int, type[_HostPages]] = {}


def _host_server(port: int = 0) -> int:
    """The port of the host site's server on `port` (0: one the system picks), started the first time."""
    if port in _host_servers:
        return port
    handler = type("HostPages", (_HostPages,), {"pages": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    _host_servers[port] = handler
    return port


@contextmanager
def host_site(pages: dict[str, str], port: int) -> Iterator[str]:
    """Pages served from another origin, as a customer's site would embed the widget; yields its address.

    One server per port for the whole session, its pages swapped per test: a server closed and bound
    again on the same port lost requests (the browser's connections, or a late thread, reached the old
    one and got 404)."""
    handler = _host_servers[_host_server(port)]
    handler.pages = dict(pages)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        handler.pages = {}


# --- the widget's DOM ---------------------------------------------------------------------------


def fresh_page(driver: Any, url: str) -> None:
    """The page as a new visitor sees it: no conversation kept from an earlier test."""
    driver.get(url)
    driver.execute_script("localStorage.clear()")
    driver.get(url)


def widget(driver: Any) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "helpdesk-widget-root").shadow_root


def wait_for(condition: Callable[[], Any], timeout: float = 20, interval: float = 0.02) -> Any:
    """Poll until `condition` is true; an element not there yet (the widget loads async) counts as not yet, and so
    does one the page replaced while it was being read: Chromium reports that either as a stale element or, when the
    node went between the lookup and the read, as an inspector error ("Node with given id does not belong to the
    document"), which failed the team-week walk-through once in CI."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        except WebDriverException as error:
            if "does not belong to the document" not in str(error):
                raise
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def in_widget(driver: Any, expression: str) -> Any:
    """Evaluate JavaScript with `root` bound to the widget's shadow root (null before it is mounted)."""
    return driver.execute_script(
        "const el = document.getElementById('helpdesk-widget-root'); const root = el && el.shadowRoot;\n"
        + expression
    )


def bot_texts(driver: Any) -> list[tuple[str, str]]:
    """(status, text) of every bot bubble, read in one script call."""
    rows = in_widget(driver, """
      return root ? [...root.querySelectorAll('.hd-bot')]
        .map(li => [li.dataset.status || '', li.querySelector('.hd-body').textContent]) : [];
    """)
    return [tuple(row) for row in rows]


def texts(driver: Any, selector: str) -> list[str]:
    """textContent of every element matching `selector` in the widget."""
    return in_widget(driver, f"return root ? [...root.querySelectorAll({selector!r})].map(n => n.textContent) : [];")


def open_panel(driver: Any) -> Any:
    """The widget's shadow root with its panel open."""
    from selenium.webdriver.common.by import By

    root = wait_for(lambda: widget(driver))
    if root.find_element(By.CSS_SELECTOR, ".hd-panel").get_attribute("hidden") is not None:
        root.find_element(By.CSS_SELECTOR, ".hd-launcher").click()
    return root


def ask_in_widget(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = open_panel(driver)
    wait_for(lambda: root.find_element(By.CSS_SELECTOR, ".hd-input")).send_keys(text, Keys.ENTER)


LAST_TURN_ANSWERED = """
  const root = document.getElementById('helpdesk-widget-root').shadowRoot;
  const items = [...root.querySelectorAll('.hd-customer, .hd-bot')];
  const last = items[items.length - 1];
  return !!last && last.classList.contains('hd-bot') && last.dataset.status !== 'streaming';
"""


AGENT_PASSWORD = "console-pass-1"


def agent_create(live: LiveServer, username: str, first_name: str) -> None:
    """A member of the agents group, who can sign in to the console."""
    live.shell(
        "from django.contrib.auth.models import Group, User\n"
        f"u, _ = User.objects.get_or_create(username={username!r}, defaults={{'first_name': {first_name!r}}})\n"
        f"u.set_password({AGENT_PASSWORD!r}); u.save()\n"
        "u.groups.add(Group.objects.get_or_create(name='agents')[0])\n"
    )


@contextmanager
def console(driver: Any, live: LiveServer, username: str, conversation_id: int) -> Iterator[None]:
    """An agent's console in a window of its own, signed in, with one conversation open. What agents do goes
    through the server's own process: in embedded mode its channel layer lives there and nowhere else."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    customer_window = driver.current_window_handle
    driver.switch_to.new_window("window")
    try:
        driver.get(live.url + "/console/login/?next=/console/")
        driver.find_element(By.NAME, "username").send_keys(username)
        driver.find_element(By.NAME, "password").send_keys(AGENT_PASSWORD, Keys.ENTER)
        search = wait_for(lambda: driver.find_element(By.ID, "hc-search"))
        search.send_keys(str(conversation_id))
        item = f'.hc-item[data-id="{conversation_id}"]'
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, item))[0].click()
        wait_for(lambda: driver.find_element(By.ID, "hc-title").text.endswith(f"#{conversation_id}"))
        yield
    finally:
        driver.close()
        driver.switch_to.window(customer_window)


def signed_user(user_id: str, **fields: str) -> dict[str, Any]:
    """A host site's user as its server would hand it to the page: id, name, email and the time, signed with the
    shared secret (the recipe the README gives host sites, written here without the product's code)."""
    import hashlib
    import hmac
    import time

    ts = int(time.time())
    message = "\n".join([user_id, fields.get("name", ""), fields.get("email", ""), str(ts)])
    digest = hmac.new(IDENTITY_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {"id": user_id, **fields, "ts": ts, "hash": digest}
