"""The test suite's shared fixtures and helpers, a pytest plugin package registered by the root conftest.py.

- `environment`: what this run has (CI, PostgreSQL or SQLite, Redis), the settings of the test process, and the
  state every test starts from.
- `ollama`: the fake Ollama over real HTTP.
- `stack`: what generates replies (a real Celery worker, or the embedded threads) and waiting for it to finish.
- `chat`: a customer's websocket in this process.
- `live`: the browser tests' live server and Chromium (built on tests/browser.py).
- `serve`: `manage.py serve` as a subprocess (ServedStack), and a PostgreSQL database of its own (or one owned by a
  role with a CONNECTION LIMIT); a helper module, not a plugin.
- `pgbouncer`: a real PgBouncer of a test's own in transaction pooling mode; a helper module, not a plugin.

Test files import helpers from these modules (`from tests.support.chat import ChatClient`), never from conftest.
"""
