"""The test suite's root: every test gets the shared fixtures and hooks of tests/support/ (see its __init__).

Test files import helpers from those modules (`from tests.support.environment import ROOT`), not from here.
"""

import pytest

# Their asserts (a frame that must not \u-escape text, a socket that must connect) report as a test's own do.
pytest.register_assert_rewrite("tests.support")

# Autouse fixtures run in this order, then alphabetically within a module; pytest-django's come before all of them.
pytest_plugins = [
    "tests.support.environment",
    "tests.support.ollama",
    "tests.support.stack",
    "tests.support.chat",
    "tests.support.live",
    "tests.support.webhooks",
    "tests.support.smtp",
]
