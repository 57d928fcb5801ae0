"""The test suite's settings: the product's own (helpdesk/settings.py), in whatever mode the environment gives.

Production mode (DATABASE_URL or REDIS_URL set, as in CI) refuses to start without a strong SECRET_KEY; a test run
is not a deployment, so it makes one for itself when the environment has none. It goes into the environment, so
the servers and workers the tests start sign with the same key.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from helpdesk.settings import *  # noqa: F403
