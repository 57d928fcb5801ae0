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

from helpdesk.settings import *  # noqa: F403

# Every message reads the moderation lists' version, as before it was kept for a while: a test's terms are rolled
# back with its transaction, which no signal reports. conversations/tests/test_moderation.py tests the window.
MODERATION_LISTS_RECHECK_S = 0.0
