"""The test suite's settings: the product's own (helpdesk/settings.py), in whatever mode the environment gives.

Production mode (DATABASE_URL or REDIS_URL set, as in CI) refuses to start without a strong SECRET_KEY and the keys
of encryption at rest; a test run is not a deployment, so it makes them for itself when the environment has none.
They go into the environment, so the servers and workers the tests start sign and encrypt with the same keys.
"""

import os
import secrets

from cryptography.fernet import Fernet

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
# Production mode also refuses to start without the keys of encryption at rest; embedded mode would make a key
# file beside the database, which a test run should not leave behind.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("LOOKUP_HASH_KEY", secrets.token_urlsafe(32))

# Webhook deliveries and emailed replies retry within a test's patience, in this process and in the workers the
# tests start (they inherit the environment): short timeouts, a few tries, backoff from 0.2 s.
os.environ.setdefault("WEBHOOK_TIMEOUT_S", "3")
os.environ.setdefault("WEBHOOK_MAX_ATTEMPTS", "3")
os.environ.setdefault("WEBHOOK_BACKOFF_BASE_S", "0.2")
os.environ.setdefault("WEBHOOK_PAUSE_S", "2")
os.environ.setdefault("EMAIL_TIMEOUT", "3")
os.environ.setdefault("EMAIL_MAX_ATTEMPTS", "3")
os.environ.setdefault("EMAIL_BACKOFF_BASE_S", "0.2")
os.environ.setdefault("PUBLIC_BASE_URL", "http://help.example.test")
# The suite's SMTP server (tests/support/smtp.py) listens here; workers started by the tests send to it.
if "EMAIL_PORT" not in os.environ:
    import socket

    with socket.socket() as _probe:
        _probe.bind(("127.0.0.1", 0))
        os.environ["EMAIL_PORT"] = str(_probe.getsockname()[1])
os.environ.setdefault("EMAIL_HOST", "127.0.0.1")
os.environ.setdefault("DEFAULT_FROM_EMAIL", "Shop Support <support@shop.example.test>")

from helpdesk.settings import *  # noqa: F403

# Every message reads the moderation lists' version, as before it was kept for a while: a test's terms are rolled
# back with its transaction, which no signal reports. conversations/tests/test_moderation.py tests the window.
MODERATION_LISTS_RECHECK_S = 0.0
