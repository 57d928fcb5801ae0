"""What production mode refuses to start with: weak secret keys, DEBUG, any Host.

Plain functions, called by helpdesk/settings.py while it loads (so nothing here may import Django's settings):
a deployment that is configured unsafely stops at once with a message saying what to change, instead of
running with signed cookies anyone can forge or tracebacks anyone can read.
"""

from __future__ import annotations

# Embedded mode (`make run` on a laptop) signs with this when SECRET_KEY is not set; anywhere else it is refused.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
# Django's own rules for a secret key (check --deploy, security.W009).
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5
# Prefixes of keys made for development or a build step, and words of placeholders left in a template.
WEAK_SECRET_KEY_PREFIXES = ("django-insecure-", "dev-only", "build-only", "bench-only", "test-only")
WEAK_SECRET_KEY_WORDS = ("changeme", "change-me", "change_me", "replace_me", "replace-me", "replaceme", "insecure")
SECRET_KEY_HOWTO = (
    'Generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(50))" and set SECRET_KEY to it '
    "(deploy/.env for docker compose, the helpdesk Secret in Kubernetes, the environment for `make run`)."
)


def secret_key_problem(key: str) -> str | None:
    """Why `key` is too weak to sign sessions and CSRF tokens in production, or None when it will do.

    A forged session cookie is a login as anyone, staff included, so guessable keys are refused, not warned
    about: placeholders from the deployment files, development keys, short or low-variety ones.
    """
    if not key:
        return "is not set"
    lowered = key.lower()
    if lowered.startswith(WEAK_SECRET_KEY_PREFIXES) or any(word in lowered for word in WEAK_SECRET_KEY_WORDS):
        return "is a placeholder or development key"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is too short ({len(key)} characters, at least {SECRET_KEY_MIN_LENGTH})"
    if len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        return f"has fewer than {SECRET_KEY_MIN_DISTINCT} different characters"
    if key in (key + key)[1:-1]:
        return "is a shorter text repeated"
    return None


ENCRYPTION_KEYS_HOWTO = (
    'Generate an encryption key with: python3 -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())" and a lookup key with: python3 -c "import secrets; '
    'print(secrets.token_urlsafe(32))"; keep both where the other secrets are, and never lose them: what they '
    "encrypt cannot be read without them (README: Encryption at rest)."
)
LOOKUP_HASH_KEY_MIN_LENGTH = 32


def encryption_key_problems(*, keys: list[str], lookup_key: str, required: bool) -> list[str]:
    """What is wrong with FIELD_ENCRYPTION_KEYS (Fernet keys, the first encrypts) and LOOKUP_HASH_KEY (keys the
    look-up hashes and the search index). Missing keys are a problem only where `required` (production mode):
    embedded mode makes its own beside the SQLite file (helpdesk.encryption)."""
    from cryptography.fernet import Fernet

    problems = []
    if required and not keys:
        problems.append(
            "FIELD_ENCRYPTION_KEYS is not set: production mode encrypts customers' names, emails and messages at "
            f"rest with it. {ENCRYPTION_KEYS_HOWTO}"
        )
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            problems.append(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 bytes, url-safe base64). "
                f"{ENCRYPTION_KEYS_HOWTO}"
            )
    if (required or lookup_key) and len(lookup_key) < LOOKUP_HASH_KEY_MIN_LENGTH:
        state = "is not set" if not lookup_key else f"is too short ({len(lookup_key)} characters)"
        problems.append(
            f"LOOKUP_HASH_KEY {state}: it keys the hashes that find a customer by id or email and the search index "
            f"of encrypted messages (at least {LOOKUP_HASH_KEY_MIN_LENGTH} characters). {ENCRYPTION_KEYS_HOWTO}"
        )
    return problems


def production_refusals(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> list[str]:
    """Every reason production mode (DATABASE_URL or REDIS_URL set) refuses these settings, each saying what to do."""
    refusals = []
    if debug:
        refusals.append(
            "DEBUG=true is refused in production mode (DATABASE_URL or REDIS_URL is set): it shows tracebacks "
            "with local variables and settings to anyone who causes an error, keeps every SQL query in memory and "
            "creates demo accounts. Remove DEBUG or set DEBUG=false; for development, unset DATABASE_URL and "
            "REDIS_URL (embedded mode)."
        )
    if problem := secret_key_problem(secret_key):
        refusals.append(
            f"SECRET_KEY {problem}: production mode (DATABASE_URL or REDIS_URL is set) signs sessions and CSRF "
            f"tokens with it, so a guessable key lets anyone sign in as staff. {SECRET_KEY_HOWTO}"
        )
    if "*" in allowed_hosts:
        refusals.append(
            "ALLOWED_HOSTS=* is refused in production mode: any Host header would be believed (links and "
            "redirects pointing at an attacker's host). List the helpdesk's public host names, e.g. "
            "ALLOWED_HOSTS=help.example.com."
        )
    return refusals
