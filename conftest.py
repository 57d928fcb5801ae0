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


def pytest_configure(config: pytest.Config) -> None:
    """A pass killed from outside (make test's ceiling, CI's own) prints every thread's stack first, then dies as
    it would have: a hang is then found from the log instead of guessed at."""
    import faulthandler
    import os
    import signal
    import sys

    # A copy of the terminal's stderr taken now, as pytest's own faulthandler plugin does: the test's output
    # capture points file descriptor 2 elsewhere while a test runs.
    faulthandler.register(signal.SIGTERM, file=os.dup(sys.stderr.fileno()), all_threads=True, chain=True)
