"""One settings module for every deployment.

Long on purpose: the one place for every setting the environment decides, so none hides in another module.

Everything comes from the environment. With nothing set, the product runs on
embedded defaults (SQLite, in-memory channel layer, local-memory cache, Celery
tasks in-process) so that `make run` works on a fresh machine; with
`DATABASE_URL`, `REDIS_URL` and `OLLAMA_HOST(S)` set, the same code runs on
PostgreSQL, Redis, real Celery workers and real Ollama nodes.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from helpdesk.safety import (
    DEV_SECRET_KEY,
    SECRET_KEY_HOWTO,
    encryption_key_problems,
    production_refusals,
    secret_key_problem,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Production mode: a database or Redis server is configured, so this is a deployment, not a try-out on a laptop.
# There DEBUG is off unless asked for, and unsafe settings stop the process at once (helpdesk/safety.py says why);
# embedded mode (neither set: `make run` on a fresh clone) keeps development defaults and says so when it starts.
PRODUCTION = bool(env_str("DATABASE_URL") or env_str("REDIS_URL"))
DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = env_str("SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
# Kubernetes probes and Prometheus reach a pod by its IP address, which no ALLOWED_HOSTS entry can know in
# advance (Django answers 400 to any other Host): the pod passes it in POD_IP (downward API, status.podIP).
ALLOWED_HOSTS += [f"[{ip}]" if ":" in ip else ip for ip in env_list("POD_IP")]
# --- Encryption at rest (helpdesk.encryption; README: Encryption at rest) -----------------------------------
# Fernet keys, comma-separated: the first encrypts, every one decrypts (rotation: a new key first, then
# `manage.py encryption_rotate`, then drop the old one). Required in production mode.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
# Keys the HMAC hashes of look-up columns (Customer.external_id, email) and the search index of encrypted messages;
# separate from the encryption keys so that rotating those changes no hash. Required in production mode.
LOOKUP_HASH_KEY = env_str("LOOKUP_HASH_KEY")
# Message text (content, reasoning) encrypted too, not only contact fields. On: inbox and admin search keep
# working through the keyed search index (whole words from their start, any run of Chinese characters).
ENCRYPT_MESSAGES = env_bool("ENCRYPT_MESSAGES", True)
# Encrypted messages a search decrypts at most to check the index's candidates, newest first.
SEARCH_VERIFY_MAX = env_int("SEARCH_VERIFY_MAX", 5000)
if PRODUCTION:
    refusals = production_refusals(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)
    refusals += encryption_key_problems(keys=FIELD_ENCRYPTION_KEYS, lookup_key=LOOKUP_HASH_KEY, required=True)
    if refusals:
        raise ImproperlyConfigured("\n".join(refusals))
elif problems := encryption_key_problems(keys=FIELD_ENCRYPTION_KEYS, lookup_key=LOOKUP_HASH_KEY, required=False):
    raise ImproperlyConfigured("\n".join(problems))
elif not DEBUG and (problem := secret_key_problem(SECRET_KEY)):
    raise ImproperlyConfigured(f"SECRET_KEY {problem}: with DEBUG off it signs real sessions. {SECRET_KEY_HOWTO}")
# The development key is only ever used by embedded mode with DEBUG on.
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (the deployment files say so): requests count as
# https, cookies are sent over https only, plain-HTTP requests are redirected to https, and https answers tell
# browsers to use nothing else for SECURE_HSTS_SECONDS (HSTS). Never set it without such a proxy: a client could
# then claim https itself.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", BEHIND_TLS_PROXY)
# Kubernetes probes, compose's healthcheck and Prometheus call the pod itself over plain HTTP: never redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# check --deploy asks for HSTS preload (security.W021). Preload lists take whole registrable domains (example.com),
# which the helpdesk's host (help.example.com) seldom is: enrolling is the domain owner's decision, not a default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

INSTALLED_APPS = [
    "daphne",
    "helpdesk.apps.HelpdeskAdminConfig",  # django.contrib.admin, with helpdesk.web.signin's site (second factor)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "channels",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "helpdesk",
    "conversations",
    "knowledge",
    "agents",
]

MIDDLEWARE = [
    "helpdesk.observability.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # The app API's CORS, per app (the widget's is django-cors-headers' above; CORS_URLS_REGEX keeps them apart).
    "conversations.appapi.cors.AppApiCorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Late, as django-axes asks: it turns a locked-out sign-in into helpdesk.web.signin.lockout_response.
    "axes.middleware.AxesMiddleware",
    # Last (after axes): a view that got no database connection in time answers 503 + Retry-After, with CORS headers.
    "helpdesk.web.dbbusy.DatabaseBusyMiddleware",
]

# --- Sign-in: lockout (django-axes) and the optional second factor (django-otp) ----------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out user name + address before the password
    "django.contrib.auth.backends.ModelBackend",
]
# This many wrong passwords for one user name from one address lock that pair out (admin and console alike)
# for the cool-off; attempts are kept in the database, so all web processes count together.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
AXES_ENABLED = env_bool("LOGIN_LOCKOUT_ENABLED", True)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "helpdesk.web.signin.lockout_response"
# The client address is REMOTE_ADDR only, which helpdesk.web.clientip has already set from X-Forwarded-For when (and
# only when) the peer is one of TRUSTED_PROXIES: read directly, the header would let an attacker pick a new
# address for every guess.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# With this on, the admin and the console need a code from the user's authenticator app (TOTP) at sign-in;
# an administrator gives each agent and staff member a device first (Admin › TOTP devices).
REQUIRE_2FA_FOR_STAFF = env_bool("REQUIRE_2FA_FOR_STAFF", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Helpdesk")

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agents.context_processors.console_link",  # the admin's link back to the console
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        # The embedded mode's database file (SQLITE_PATH moves it, e.g. for a test server of its own).
        "default": dj_database_url.parse(f"sqlite:///{env_str('SQLITE_PATH') or BASE_DIR / 'db.sqlite3'}"),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Generation runs in worker threads beside the web loop: WAL and IMMEDIATE
    # transactions keep concurrent writers from failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file, not shared memory: reply threads open their own connections.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Embedded mode without FIELD_ENCRYPTION_KEYS: the keys made on first use, beside the SQLite file (mode 0600).
FIELD_ENCRYPTION_KEY_FILE = (
    env_str("FIELD_ENCRYPTION_KEY_FILE") or f"{env_str('SQLITE_PATH') or BASE_DIR / 'db.sqlite3'}.keys"
)

# --- Redis: channel layer, cache, Celery broker -------------------------------
REDIS_URL = env_str("REDIS_URL")
EMBEDDED = not REDIS_URL

# --- Web server (Daphne, started by `python -m helpdesk.webserver`) -------------------
# Daphne closes every websocket this many seconds after it opened, idle or not (its only lifetime
# limit); the widget and the console reconnect at once. Pings every WEBSOCKET_PING_INTERVAL s keep
# live sockets through proxies and NAT, and close a peer that answers none within WEBSOCKET_PING_TIMEOUT s.
WEBSOCKET_TIMEOUT = env_int("WEBSOCKET_TIMEOUT", 3600)
WEBSOCKET_PING_INTERVAL = env_int("WEBSOCKET_PING_INTERVAL", 20)
WEBSOCKET_PING_TIMEOUT = env_int("WEBSOCKET_PING_TIMEOUT", 30)
# Seconds a websocket may take to finish its handshake (and the application to accept it).
WEBSOCKET_CONNECT_TIMEOUT = env_int("WEBSOCKET_CONNECT_TIMEOUT", 5)
# An HTTP connection that sends nothing for this many seconds (a half-sent request, an idle keep-alive)
# is closed; Twisted's own default holds it a minute per byte.
HTTP_IDLE_TIMEOUT = env_int("HTTP_IDLE_TIMEOUT", 15)
# Proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For is believed. Empty: no
# forwarded header is believed, and the client is the socket's peer.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
# The access log (logger `helpdesk.access`) shows client addresses with the last part zeroed
# (203.0.113.0, 2001:db8:1::) unless this is on.
ACCESS_LOG_FULL_IP = env_bool("ACCESS_LOG_FULL_IP", False)

if REDIS_URL:
    # Redis pub/sub, not channels_redis's list-based core layer: there, all sockets of a Daphne process
    # share one queue popped by whichever socket's receive is running, and a socket closing while its
    # receive was popping lost the event it popped for another socket (django/channels#1683,
    # channels_redis#366): about 2 `done` events in 100 with 10 customers finishing at once
    # (bench/first_token.py). Pub/sub reads each process's messages in one task of its own, and
    # membership ends with the socket, so there is no capacity to overflow or group to expire either.
    # Pub/sub channels ignore the Redis db number: the prefix carries it, so that deployments
    # (or test runs) sharing one Redis server on different dbs never hear each other.
    from redis.exceptions import ConnectionError as RedisConnectionError

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # A pooled connection that Redis closed (it restarted) fails the first command sent on it:
                # retried once on a fresh connection, so the first messages after an outage are not lost.
                "hosts": [{"address": REDIS_URL, "retry_on_error": [RedisConnectionError]}],
                "prefix": f"helpdesk.{REDIS_URL.rsplit('/', 1)[-1] or '0'}.",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "helpdesk",
            # While Redis is down a cache read misses and a write is skipped (each logged) rather than
            # raise: a customer's message is still stored (the answer cache is read as it is) and later
            # answered or handed on, instead of lost with the request.
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2000}}}
    # Room for the knowledge gaps' question vectors (up to GAPS_MAX_QUESTIONS of them, conversations.stats.gaps)
    # beside the answer cache and the rate limits: at the default 300 entries a page load culled the others.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "helpdesk",
                          "OPTIONS": {"MAX_ENTRIES": 5000}}}

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# One result backend object for every thread (Celery makes one per thread otherwise, on the thread's first task
# sent, looking it up among the installed packages' entry points): the web's warm-up chooses it for all of them.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
# Embedded mode runs tasks in-process, dispatched from a worker thread (see
# helpdesk.celery.enqueue): eager `.delay()` from the event loop would raise.
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 270)
# acks_late re-delivers a task still running after visibility_timeout: keep it far above the time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = "generation"
CELERY_TASK_ROUTES = {
    "conversations.generate_reply": {"queue": "generation"},
    "conversations.log_turn": {"queue": "logging"},
    "conversations.draft_reply": {"queue": "generation"},
    "helpdesk.check_ollama_nodes": {"queue": "logging"},
    "conversations.sweep_replies": {"queue": "logging"},
    "conversations.evaluation_nightly": {"queue": "logging"},  # only queues the run (its own task runs it)
    "knowledge.*": {"queue": "knowledge"},
    # Minutes of replies one after another: with the imports, never ahead of customers' replies.
    "conversations.evaluate": {"queue": "knowledge"},
    # The first fill of the daily summaries and the first retention run on a long history take minutes: not on
    # `logging`, where they would hold up the reply sweeper.
    "conversations.summaries_fill": {"queue": "knowledge"},
    "conversations.retention_enforce": {"queue": "knowledge"},
    # Outbound HTTP and SMTP, each try bounded by its timeout: beside the bookkeeping, never ahead of replies.
    "conversations.webhook_deliver": {"queue": "logging"},
    "conversations.email_reply_send": {"queue": "logging"},
    "conversations.outbound_sweep": {"queue": "logging"},
    # An embedding and perhaps a small model's answer per resolved conversation: beside the indexing, off the
    # reply's and the bookkeeping's queues.
    "conversations.faq_suggest": {"queue": "knowledge"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker rides out a broker outage of any length: it reconnects for ever (None) instead of giving up after
# Celery's default 100 tries, and `serve` restarts a worker that exits anyway.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Celery's Django fixup closes the database connection before and after every
# task unless told to reuse it; a new connection costs milliseconds before the
# first token. 0 closes it every time (when processes outnumber max_connections).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 100)
# How the generation worker runs its replies. "threads" (the default): one process carries many replies, each task
# on a thread of its own for its pipeline (database, retrieval, prompt) and every stream on one event loop of the
# process (helpdesk.runtime.aio.run_shared), so a reply streaming costs a task on that loop, not a process.
# "prefork": a process per reply, as before (kept to compare: bench/first_token.py --generation-pool prefork).
CELERY_GENERATION_POOL = env_str("CELERY_GENERATION_POOL", "threads").lower()
if CELERY_GENERATION_POOL not in ("threads", "prefork"):
    raise ImproperlyConfigured("CELERY_GENERATION_POOL must be 'threads' or 'prefork'")
# Replies a generation worker streams at once: threads of its one process, or its processes with prefork.
CELERY_GENERATION_CONCURRENCY = env_int(
    "CELERY_GENERATION_CONCURRENCY", 100 if CELERY_GENERATION_POOL == "threads" else 8
)
# Database connections of a threaded generation worker process (its pool): a reply holds one only for its
# pipeline's queries and its saves, never while it streams, so a few serve a hundred replies.
GENERATION_DB_CONNECTIONS = env_int("GENERATION_DB_CONNECTIONS", 8)
# How long a reply's task waits for one of them (its pipeline's queries, its saves) before it fails.
GENERATION_DB_WAIT_S = env_float("GENERATION_DB_WAIT_S", 120.0)
# Generation worker processes `manage.py serve` starts (threads pool), each streaming CELERY_GENERATION_CONCURRENCY
# replies with a pool of GENERATION_DB_CONNECTIONS: a process's pipelines share one interpreter lock, so on a host
# of several cores a process per core spreads them (Kubernetes: replicas of the generation pod instead).
GENERATION_WORKERS = max(1, env_int("GENERATION_WORKERS", 1)) if CELERY_GENERATION_POOL == "threads" else 1
CELERY_LOGGING_CONCURRENCY = env_int("CELERY_LOGGING_CONCURRENCY", 1)
# `manage.py serve` starts its Celery workers this much nicer than Daphne (0: same priority).
WORKER_NICE = env_int("WORKER_NICE", 10)
# `manage.py serve` starts a worker that exited again after 1 s, doubling the pause with each quick exit up to this.
WORKER_RESTART_MAX_DELAY_S = env_float("WORKER_RESTART_MAX_DELAY_S", 30.0)
# Each Celery worker writes a heartbeat to Redis this often; /metrics counts workers per queue whose heartbeat is
# at most three of these old (helpdesk_celery_workers, for the alert on missing workers). 0: no heartbeats.
WORKER_HEARTBEAT_S = env_float("WORKER_HEARTBEAT_S", 10.0)
EMBEDDED_TASK_THREADS = env_int("EMBEDDED_TASK_THREADS", 8)
# Threads of a web process that run database work for its websockets (one connection each).
DATABASE_THREADS = env_int("DATABASE_THREADS", 8)

# --- Database connection budget (PostgreSQL) ------------------------------------
# Each process keeps a pool of connections (psycopg_pool) and never opens more than its pool's maximum: a web
# process DATABASE_THREADS + 1 (its websockets' threads and the thread of its HTTP views), a Celery pool process 1
# (set when it forks, helpdesk.celery), a management command or beat 1 (they use one thread). Off: one
# persistent connection per thread, as before (DATABASE_CONN_MAX_AGE).
DATABASE_POOL = env_bool("DATABASE_POOL", True)
# How long a request waits for a free connection of its process's pool (or for the server to accept a new one)
# before the widget's endpoints answer 503 with Retry-After, and the chat socket an error frame "busy".
DATABASE_POOL_TIMEOUT_S = env_float("DATABASE_POOL_TIMEOUT_S", 3.0)
# The Retry-After (seconds) sent with those 503s and "busy" frames.
DATABASE_BUSY_RETRY_AFTER_S = env_int("DATABASE_BUSY_RETRY_AFTER_S", 2)
# What `serve` does when the connections of what it is about to start exceed what PostgreSQL allows (its
# max_connections less reserved slots and connections already in use, and the role's CONNECTION LIMIT):
# "refuse" to start, naming the numbers; "fit": size the generation workers (then the logging workers, then
# DATABASE_THREADS) down until they fit, saying so; "off": do not check.
DATABASE_BUDGET = env_str("DATABASE_BUDGET", "refuse").lower()
# Connections kept free for management commands, migrations, psql and the readiness probe of a second process.
DATABASE_BUDGET_MARGIN = env_int("DATABASE_BUDGET_MARGIN", 3)
if DATABASES["default"]["ENGINE"].endswith("postgresql") and DATABASE_POOL:
    # Django's pool refuses persistent connections: a connection goes back to the pool instead of being closed.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        # Embedded mode runs the reply tasks on EMBEDDED_TASK_THREADS threads of the web process too.
        "max_size": DATABASE_THREADS + 1 + (EMBEDDED_TASK_THREADS if EMBEDDED else 0),
        # A connection the server refused (at its or the role's limit) is retried in the background meanwhile.
        "timeout": DATABASE_POOL_TIMEOUT_S,
    }
# What DATABASE_URL reaches: "" (PostgreSQL itself, the default) or "pgbouncer" (PgBouncer, or another pooler, in
# transaction pooling mode). Behind a transaction pooler, consecutive transactions of one connection may run on
# different server connections, so nothing may outlive a transaction on the server: Django's server-side cursors
# (QuerySet.iterator() outside atomic(), a DECLARE ... WITH HOLD whose next FETCH may reach another server
# connection) and psycopg's prepared statements are turned off (Django: "Transaction pooling and server-side
# cursors"). The product sets no session state (SET, advisory locks, LISTEN); the time zone and application_name
# are startup parameters that PgBouncer keeps per client. DATABASE_POOL stays on: each process's connections then go
# to PgBouncer (cheap there), and PgBouncer's own pool bounds what PostgreSQL sees, so the connection budget is not
# compared with PostgreSQL's max_connections (helpdesk.runtime.dbbudget.budget_behind_pooler).
DATABASE_POOLER = env_str("DATABASE_POOLER").lower()
if DATABASE_POOLER not in {"", "pgbouncer"}:
    raise ImproperlyConfigured(f'DATABASE_POOLER is "" (none) or "pgbouncer", not "{DATABASE_POOLER}"')
if DATABASE_POOLER and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Django's default with psycopg 3 already; set here so that no OPTIONS change brings them back.
    DATABASES["default"].setdefault("OPTIONS", {}).update(prepare_threshold=None, server_side_binding=False)

# --- Warm-up ----------------------------------------------------------------------
# Every serving process builds what the first customer would otherwise wait for (knowledge and FAQ snapshots,
# model profiles, the Ollama node check, lazy imports) before it serves: Daphne before it listens (at most
# WARM_UP_WAIT_S; past it, it listens and /healthz says not ready until the warm-up ends), each Celery pool
# process after it forks, before it takes a task (the pool's start-up limit is raised to WARM_UP_TIMEOUT_S).
WARM_UP = env_bool("WARM_UP", True)
WARM_UP_WAIT_S = env_float("WARM_UP_WAIT_S", 60.0)
WARM_UP_TIMEOUT_S = env_float("WARM_UP_TIMEOUT_S", 60.0)
# Celery kills a pool process that does not report for duty within this long (its default: 4 s).
CELERY_WORKER_PROC_ALIVE_TIMEOUT = max(4.0, WARM_UP_TIMEOUT_S) if WARM_UP else 4.0

# --- Ollama and the model -------------------------------------------------------
OLLAMA_HOSTS = env_list("OLLAMA_HOSTS") or [env_str("OLLAMA_HOST", "http://127.0.0.1:11434")]
OLLAMA_CHAT_MODEL = env_str("OLLAMA_CHAT_MODEL", "deepseek-r1:7b")
OLLAMA_CONNECT_TIMEOUT = env_float("OLLAMA_CONNECT_TIMEOUT", 3.0)
# Longest silence between two streamed chunks; a cold model load counts here.
OLLAMA_READ_TIMEOUT = env_float("OLLAMA_READ_TIMEOUT", 120.0)
OLLAMA_KEEP_ALIVE = env_str("OLLAMA_KEEP_ALIVE", "30m")
# Who reads a streamed chat's NDJSON: "aiohttp" (the gateway's own reader on aiohttp: plain dicts, the cheapest
# per chunk), "light" (the same on the official client's httpx pool) or "client" (the official client's typed
# objects). Measured by bench/stream_reader.py; see helpdesk/llm/ollama.py.
OLLAMA_STREAM_READER = env_str("OLLAMA_STREAM_READER", "aiohttp")
if OLLAMA_STREAM_READER not in ("aiohttp", "light", "client"):
    raise ImproperlyConfigured(
        f"OLLAMA_STREAM_READER must be aiohttp, light or client, not {OLLAMA_STREAM_READER!r}")
# Node health: probed this often (beat in production, a thread in embedded mode); a node that fails this many
# times in a row is taken out of rotation for the cool-down, then probed back in.
OLLAMA_HEALTH_INTERVAL_S = env_float("OLLAMA_HEALTH_INTERVAL_S", 10.0)
OLLAMA_NODE_MAX_FAILURES = env_int("OLLAMA_NODE_MAX_FAILURES", 3)
OLLAMA_NODE_COOLDOWN_S = env_float("OLLAMA_NODE_COOLDOWN_S", 30.0)
# A node that sends no first chunk within this long is failed over (a cold load of a big model counts).
OLLAMA_FIRST_CHUNK_TIMEOUT_S = env_float("OLLAMA_FIRST_CHUNK_TIMEOUT_S", 90.0)
# The longest one reply may take, from asking Ollama to its last word: a node that sends a token now and then never
# trips the read timeout, and would hold a worker (in embedded mode, one of the task threads) for as long as it
# writes. Past it the reply is stopped, its text kept, and the conversation handed on (`model_error`). Below the
# generation task's soft time limit, so that the reply ends this way rather than by the task being killed.
REPLY_MAX_DURATION_S = env_float("REPLY_MAX_DURATION_S", 240.0)
if REPLY_MAX_DURATION_S <= 0:
    raise RuntimeError("REPLY_MAX_DURATION_S must be above 0")
# Beat's scheduler: Celery's own, which keeps its schedule's last runs in a file, made safe from a step back of the
# clock (helpdesk.celery.ClockStepSafeScheduler).
CELERY_BEAT_SCHEDULER = "helpdesk.celery:ClockStepSafeScheduler"
# Beat probes the Ollama nodes, so routing, the console and /healthz know each node's health and models.
CELERY_BEAT_SCHEDULE = {
    "check-ollama-nodes": {"task": "helpdesk.check_ollama_nodes", "schedule": OLLAMA_HEALTH_INTERVAL_S},
}

# Generation options (the seed's model.json; `max_tokens` is Ollama's num_predict).
LLM_TEMPERATURE = env_float("LLM_TEMPERATURE", 0.7)
LLM_TOP_P = env_float("LLM_TOP_P", 0.9)
LLM_NUM_PREDICT = env_int("LLM_NUM_PREDICT", 512)
LLM_NUM_CTX = env_int("LLM_NUM_CTX", 4096)
LLM_THINK = env_bool("LLM_THINK", True)
LLM_SYSTEM_PROMPT = env_str(
    "LLM_SYSTEM_PROMPT",
    "You are the friendly customer-service assistant of the company whose website the customer is on. "
    "Answer briefly and politely, in the customer's language. If you do not know, say so and offer a human colleague.",
)

LLM_SYSTEM_PROMPT_ZH = env_str(
    "LLM_SYSTEM_PROMPT_ZH",
    "你是客户所在网站这家公司的客服助手，态度友好。请用客户使用的语言简洁、礼貌地回答。不知道时请直说，并提出转接人工客服。",
)
# These LLM_* values seed the first (default) model profile; after that, profiles are edited in admin.

# --- Knowledge base -------------------------------------------------------------
# bge-m3 embeds Chinese and English alike; switching models needs `manage.py reindex`.
OLLAMA_EMBED_MODEL = env_str("OLLAMA_EMBED_MODEL", "bge-m3")
# Chunks are sized for retrieval quality, well inside the embedding model's window.
KNOWLEDGE_CHUNK_TOKENS = env_int("KNOWLEDGE_CHUNK_TOKENS", 350)
KNOWLEDGE_CHUNK_OVERLAP_TOKENS = env_int("KNOWLEDGE_CHUNK_OVERLAP_TOKENS", 50)
KNOWLEDGE_EMBED_BATCH = env_int("KNOWLEDGE_EMBED_BATCH", 16)
# Seconds one article's indexing (chunking, search terms, embedding) may take before it stops and the article is
# marked failed ("split the document"): a pathological text must not hold a worker (or, embedded, a thread) for hours.
KNOWLEDGE_INDEX_TIME_BUDGET_S = env_float("KNOWLEDGE_INDEX_TIME_BUDGET_S", 120.0)
KNOWLEDGE_IMPORT_MAX_BYTES = env_int("KNOWLEDGE_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
KNOWLEDGE_IMPORT_MAX_ARCHIVE_BYTES = env_int("KNOWLEDGE_IMPORT_MAX_ARCHIVE_BYTES", 50 * 1024 * 1024)
KNOWLEDGE_IMPORT_MAX_FILES = env_int("KNOWLEDGE_IMPORT_MAX_FILES", 500)
# Synced sources (knowledge.services.sync): web pages and sitemaps fetched again on a schedule. Beat looks for
# sources that are due this often; each fetch reads at most KNOWLEDGE_SYNC_MAX_BYTES per page within
# KNOWLEDGE_SYNC_TIMEOUT_S, a sitemap gives at most KNOWLEDGE_SYNC_MAX_PAGES pages, and one source's fetch stops
# starting pages after KNOWLEDGE_SYNC_TIME_BUDGET_S (the rest come first next time; below the task's time limit).
# Private and internal addresses (127.0.0.1, 10.x, 192.168.x, link-local, ...) are refused unless
# KNOWLEDGE_SYNC_ALLOW_PRIVATE (an intranet wiki): an admin's URL must not reach the helpdesk's own network.
KNOWLEDGE_SYNC_CHECK_S = env_float("KNOWLEDGE_SYNC_CHECK_S", 300.0)
KNOWLEDGE_SYNC_MAX_PAGES = env_int("KNOWLEDGE_SYNC_MAX_PAGES", 200)
KNOWLEDGE_SYNC_MAX_BYTES = env_int("KNOWLEDGE_SYNC_MAX_BYTES", 5 * 1024 * 1024)
KNOWLEDGE_SYNC_TIMEOUT_S = env_float("KNOWLEDGE_SYNC_TIMEOUT_S", 20.0)
KNOWLEDGE_SYNC_TIME_BUDGET_S = env_float("KNOWLEDGE_SYNC_TIME_BUDGET_S", 200.0)
KNOWLEDGE_SYNC_ALLOW_PRIVATE = env_bool("KNOWLEDGE_SYNC_ALLOW_PRIVATE", False)
CELERY_BEAT_SCHEDULE["knowledge-sync"] = {
    "task": "knowledge.sync_sources_due", "schedule": KNOWLEDGE_SYNC_CHECK_S,
    "options": {"expires": KNOWLEDGE_SYNC_CHECK_S},
}
# Sources put into the prompt, and how many candidates each ranking contributes to the fusion.
RETRIEVAL_TOP_K = env_int("RETRIEVAL_TOP_K", 4)
RETRIEVAL_CANDIDATES = env_int("RETRIEVAL_CANDIDATES", 50)
# A chunk found only by vector search must be at least this similar to count as a source.
RETRIEVAL_MIN_VECTOR_SCORE = env_float("RETRIEVAL_MIN_VECTOR_SCORE", 0.45)
# An FAQ answers directly when the question is this similar to one of its phrasings.
FAQ_SIMILARITY_THRESHOLD = env_float("FAQ_SIMILARITY_THRESHOLD", 0.9)
ANSWER_CACHE_ENABLED = env_bool("ANSWER_CACHE_ENABLED", True)
ANSWER_CACHE_TTL_S = env_int("ANSWER_CACHE_TTL_S", 24 * 3600)
# A secret marker (derived from SECRET_KEY) at the top of the system prompt: a reply that repeats it is
# stopped before the customer sees it, and the conversation goes to a human.
PROMPT_CANARY_ENABLED = env_bool("PROMPT_CANARY_ENABLED", True)
# Load the demo shop's knowledge base on `make run` when the knowledge base is empty.
LOAD_DEMO_KNOWLEDGE = env_bool("LOAD_DEMO_KNOWLEDGE", True)

# --- Confidence and handoff -----------------------------------------------------
# A bot reply less confident than this hands the conversation to a human.
HANDOFF_THRESHOLD = env_float("HANDOFF_THRESHOLD", 0.5)
# Check every number, date, phone number, address, link and order number of a generated reply against its
# sources and the customer's messages: one found in none hands the conversation to a human (conversations.verification).
VERIFY_FACTS = env_bool("VERIFY_FACTS", True)
# ...and tells the customer a colleague will confirm the reply.
VERIFY_FACTS_NOTICE = env_bool("VERIFY_FACTS_NOTICE", True)
# Personal data (phones, emails, ID-card and bank-card numbers, street addresses) in what goes to the model, its
# embeddings and the answer cache is replaced by placeholders, restored in the reply (conversations.privacy.masking).
PII_MASKING = env_bool("PII_MASKING", True)
# Vector similarity of an unrelated text, and of a clearly relevant one, for the embedding model in use.
CONFIDENCE_VECTOR_FLOOR = env_float("CONFIDENCE_VECTOR_FLOOR", 0.35)
CONFIDENCE_VECTOR_CEILING = env_float("CONFIDENCE_VECTOR_CEILING", 0.75)
# Evaluation runs (conversations.evaluation): the share of wrong answers among those the bot gives that the
# proposed handoff threshold keeps under, and how many retrieved articles "retrieval hit@k" looks at.
EVAL_TARGET_WRONG_RATE = env_float("EVAL_TARGET_WRONG_RATE", 0.05)
EVAL_HIT_K = env_int("EVAL_HIT_K", 5)
# The BM25 score at which a source counts as half relevant.
CONFIDENCE_KEYWORD_HALF = env_float("CONFIDENCE_KEYWORD_HALF", 4.0)
# Whether a source bears on the question at all (conversations.scope): its relevance (as above) must reach
# RELEVANCE_MIN and its coverage (the share of the question's content words it contains, knowledge.retrieval.coverage)
# COVERAGE_MIN, unless its vector similarity alone, rescaled like the relevance, reaches RELEVANCE_STRONG (a
# paraphrase or another language shares no words). Sources below the bar are not given to the model. Measured on
# the demo shop (conversations/tests/test_scope.py), coverage separates in- from out-of-scope questions and
# relevance does not (BM25 scores also shrink with a small knowledge base), so RELEVANCE_MIN is off by default.
RELEVANCE_MIN = env_float("RELEVANCE_MIN", 0.0)
COVERAGE_MIN = env_float("COVERAGE_MIN", 0.28)
# A question asking what something costs is given sources only when they state the amount (conversations.scope:
# "how much is the gaiwan?" is not answered from the warranty article that names gaiwans). Off by default: on the
# demo set's held-out part it declined one in-scope question for each out-of-scope one (see the README, issue 15).
PRICE_MUST_BE_STATED = env_bool("PRICE_MUST_BE_STATED", False)
# Synonyms of the shop's own, added to the built-in groups of shop vocabulary (knowledge.retrieval.synonyms):
# groups separated by ";", words by ",", e.g. "gaiwan, 盖碗, lidded bowl; oolong, 乌龙".
SEARCH_SYNONYMS = env_str("SEARCH_SYNONYMS", "")
RELEVANCE_STRONG = env_float("RELEVANCE_STRONG", 0.75)
# Knowledge gaps (the console's and admin's page, conversations.stats.gaps): at most the latest GAPS_MAX_QUESTIONS
# unanswered questions of a period are grouped into topics, by their embeddings (the questions of a topic at least
# GAPS_EMBED_SIMILARITY alike, cosine; embedding them may take up to GAPS_EMBED_TIMEOUT_S, then keywords are used)
# or, without the embedding model, by their words (GAPS_KEYWORD_SIMILARITY, cosine of the word sets).
GAPS_MAX_QUESTIONS = env_int("GAPS_MAX_QUESTIONS", 500)
GAPS_EMBED_SIMILARITY = env_float("GAPS_EMBED_SIMILARITY", 0.75)
GAPS_KEYWORD_SIMILARITY = env_float("GAPS_KEYWORD_SIMILARITY", 0.35)
GAPS_EMBED_TIMEOUT_S = env_float("GAPS_EMBED_TIMEOUT_S", 10.0)
# Article health (conversations.stats.articles): an article causes bad answers when at least
# ARTICLE_BAD_MIN_CITED answers of the period cited it and at least ARTICLE_BAD_RATE of them got a thumbs down or
# were followed by a handoff; a published article is unused when no answer cited it in ARTICLE_UNCITED_DAYS days
# (and it was published before them). At most the latest ARTICLE_HEALTH_MAX_REPLIES answers are read.
ARTICLE_BAD_MIN_CITED = env_int("ARTICLE_BAD_MIN_CITED", 5)
ARTICLE_BAD_RATE = env_float("ARTICLE_BAD_RATE", 0.3)
ARTICLE_UNCITED_DAYS = env_int("ARTICLE_UNCITED_DAYS", 90)
ARTICLE_HEALTH_MAX_REPLIES = env_int("ARTICLE_HEALTH_MAX_REPLIES", 20000)
# With no relevant source and no small talk: "decline" (a fixed reply offering a person, no model call; the
# conversation stays with the bot) or "handoff" (to a person, reason no_knowledge). Never the model's own knowledge.
NO_SOURCE_ACTION = env_str("NO_SOURCE_ACTION", "decline")
# What the knowledge base covers, for that reply ("I can only answer questions about …"), per language;
# empty: a generic wording ("questions our help articles cover").
SHOP_SUBJECT_EN = env_str("SHOP_SUBJECT_EN")
SHOP_SUBJECT_ZH = env_str("SHOP_SUBJECT_ZH")
# Optional judge (conversations.judge): a small model asked, with a JSON schema, whether each sentence of a
# generated reply is supported by its sources; empty: off. An unsupported sentence hands the conversation over.
JUDGE_MODEL = env_str("JUDGE_MODEL")
JUDGE_TIMEOUT_S = env_float("JUDGE_TIMEOUT_S", 10.0)
# Customer messages asking for a person. Single words must be the whole message ("人工", "agent");
# longer phrases may appear anywhere in it ("我要转人工", "can I talk to a human please").
HANDOFF_PHRASES = env_list(
    "HANDOFF_PHRASES",
    "人工,转人工,人工客服,找人工,真人,客服人员,human,agent,operator,representative,real person,"
    "talk to a human,speak to a human,talk to a person,speak to a person,human agent,live agent,talk to someone",
)
# Also hand off any message shaped like a request for a person, in words no list has (conversations.intents:
# "could someone from your team call me", "麻烦帮我接一下人工", "我不想跟机器人聊"); off: the list only.
HANDOFF_REQUEST_RULES = env_bool("HANDOFF_REQUEST_RULES", True)
# Intents and entities of customer messages (conversations.intents, conversations.entities). The shop's order
# number format as a regex (its first group, else the whole match, is the number); empty: the built-in patterns
# ("order 12345678", "#12345", "订单号：E2024…").
ORDER_NUMBER_PATTERN = env_str("ORDER_NUMBER_PATTERN")
# Product names recognised in messages (case-insensitive), besides knowledge-base tags starting with
# PRODUCT_TAG_PREFIX ("product:Gaiwan"; an empty prefix makes every tag a product name).
PRODUCT_NAMES = env_list("PRODUCT_NAMES", "")
PRODUCT_TAG_PREFIX = env_str("PRODUCT_TAG_PREFIX", "product:")
# A complaint (conversations.intents) hands the conversation to a person with the reason `complaint`.
HANDOFF_COMPLAINTS = env_bool("HANDOFF_COMPLAINTS", True)
# A small model that classifies each message after the rules (structured outputs); empty: rules only.
INTENT_MODEL = env_str("INTENT_MODEL")
# Its time budget (seconds) before the rules' answer stands, so the reply's first token is not held up.
INTENT_TIMEOUT_S = env_float("INTENT_TIMEOUT_S", 0.5)

# --- Moderation (conversations.moderation) -----------------------------------------
# Terms and patterns are kept in admin (blocked or sensitive, by category); what a blocked term's hit does is set
# per category: refuse (a polite refusal, no reply), handoff (to a person, reason `moderation`) or flag (let
# through, marked for agents). Unlisted categories take MODERATION_DEFAULT_ACTION.
MODERATION_ENABLED = env_bool("MODERATION_ENABLED", True)
MODERATION_ACTIONS = dict(
    item.split("=", 1) for item in env_list(
        "MODERATION_ACTIONS", "politics=refuse,abuse=refuse,fraud=handoff,self_harm=handoff,ads=flag"
    ) if "=" in item
)
MODERATION_DEFAULT_ACTION = env_str("MODERATION_DEFAULT_ACTION", "refuse")
_moderation_known = {"refuse", "handoff", "flag"}
if bad := [f"{k}={v}" for k, v in {**MODERATION_ACTIONS, "*": MODERATION_DEFAULT_ACTION}.items()
           if v not in _moderation_known]:
    raise ImproperlyConfigured(f"MODERATION_ACTIONS / MODERATION_DEFAULT_ACTION: unknown action in {', '.join(bad)}; "
                               "use refuse, handoff or flag")
# A bot reply's last characters held back while it streams, when a blocked regular-expression pattern is enabled
# (a pattern's match, unlike a term, cannot be told from its first characters): a match up to this long never
# reaches the customer, even in part.
MODERATION_PATTERN_HOLD_CHARS = env_int("MODERATION_PATTERN_HOLD_CHARS", 32)
# How long a process goes on using the lists' version it read (one query) before reading it again: a change made in
# another process (another web replica, a worker) is seen within this many seconds; one made in the same process
# at once. 0: read it for every message.
MODERATION_LISTS_RECHECK_S = env_float("MODERATION_LISTS_RECHECK_S", 2.0)
# An optional small model asked (structured outputs) about each customer message in the reply task, before the
# reply is generated, for what no list can express; empty: off. On a timeout or an error the message goes through.
MODERATION_MODEL = env_str("MODERATION_MODEL")
MODERATION_TIMEOUT_S = env_float("MODERATION_TIMEOUT_S", 1.0)

# --- FAQ suggestions (conversations.faq_suggestions) -------------------------------
# When an agent resolves a conversation they took over, their answer to the customer's question becomes a suggested
# FAQ entry for a curator (admin: FAQ suggestions). Off: nothing is suggested.
FAQ_SUGGESTIONS_ENABLED = env_bool("FAQ_SUGGESTIONS_ENABLED", True)
# An answer shorter than this (characters, the agent's messages together, small talk left out) is not suggested:
# "Done!" or "请稍等" teaches the knowledge base nothing.
FAQ_SUGGESTION_MIN_ANSWER_CHARS = env_int("FAQ_SUGGESTION_MIN_ANSWER_CHARS", 20)
# A suggestion whose question is at least this similar (cosine of the embeddings) to a phrasing of an existing FAQ
# entry in its language proposes an alternative phrasing for that entry instead of a new entry ...
FAQ_SUGGESTION_SIMILARITY = env_float("FAQ_SUGGESTION_SIMILARITY", 0.75)
# ... or, for entries without vectors (no embedding model), this share of words in common (Dice's coefficient of
# the words, Chinese segmented).
FAQ_SUGGESTION_KEYWORD_OVERLAP = env_float("FAQ_SUGGESTION_KEYWORD_OVERLAP", 0.7)
# A small model (an Ollama model name, or a model profile's name) that tidies the question and answer (structured
# outputs) before a curator sees them; empty: they are suggested as written. On an error, as written.
FAQ_SUGGESTION_TIDY_MODEL = env_str("FAQ_SUGGESTION_TIDY_MODEL")
FAQ_SUGGESTION_TIDY_TIMEOUT_S = env_float("FAQ_SUGGESTION_TIDY_TIMEOUT_S", 30.0)

# --- Evaluation gates and runs (conversations.evaluation) -------------------------
# A profile made the default, or given a canary share above EVAL_GATE_FREE_SHARE (%), must have a done run of
# the default evaluation set whose pass rate is no more than EVAL_GATE_TOLERANCE below the default profile's.
EVAL_GATE_ENABLED = env_bool("EVAL_GATE_ENABLED", True)
EVAL_GATE_FREE_SHARE = env_float("EVAL_GATE_FREE_SHARE", 10.0)
EVAL_GATE_TOLERANCE = env_float("EVAL_GATE_TOLERANCE", 0.02)
# A run of the default set with the default profile every night from EVAL_NIGHTLY_HOUR (local time, 0-23);
# and, when EVAL_ON_PUBLISH is on, one after each change to published knowledge.
EVAL_NIGHTLY = env_bool("EVAL_NIGHTLY", True)
EVAL_NIGHTLY_HOUR = env_int("EVAL_NIGHTLY_HOUR", 3)
if not 0 <= EVAL_NIGHTLY_HOUR <= 23:
    raise RuntimeError("EVAL_NIGHTLY_HOUR is an hour of the day, 0-23")
EVAL_ON_PUBLISH = env_bool("EVAL_ON_PUBLISH", False)

# When colleagues answer, e.g. "Mon-Fri 09:00-18:00" or "Mon-Sun 08:30-22:00"; empty: always.
# Outside these hours, with no agent's console connected, a handed-off customer is told when to
# expect a reply and asked for an email address.
SUPPORT_HOURS = env_str("SUPPORT_HOURS")
SUPPORT_TIME_ZONE = env_str("SUPPORT_TIME_ZONE") or env_str("TIME_ZONE", "UTC")

# --- Conversations --------------------------------------------------------------
MESSAGE_MAX_CHARS = env_int("MESSAGE_MAX_CHARS", 4000)
# Replies that lost their worker. A streaming reply's partial text and heartbeat are written this often;
# one whose heartbeat is older than REPLY_HEARTBEAT_TIMEOUT_S is started over (REPLY_MAX_RETRIES times),
# then failed with its partial text kept and handed to a person. The broker's own redelivery (the
# visibility timeout) takes an hour, and is kept that long so that imports are never run twice.
REPLY_SAVE_INTERVAL_S = env_float("REPLY_SAVE_INTERVAL_S", 2.0)
REPLY_HEARTBEAT_TIMEOUT_S = env_float("REPLY_HEARTBEAT_TIMEOUT_S", 60.0)
REPLY_MAX_RETRIES = env_int("REPLY_MAX_RETRIES", 1)
if not 0 < REPLY_SAVE_INTERVAL_S * 3 <= REPLY_HEARTBEAT_TIMEOUT_S:
    raise RuntimeError(
        "REPLY_HEARTBEAT_TIMEOUT_S must be at least 3 x REPLY_SAVE_INTERVAL_S (and both above 0): a worker "
        "that saves less often than that would be taken for dead while it is writing"
    )
# A customer message in a bot conversation with no reply this long after it was written (its task was lost,
# e.g. sent while Redis was down) is handed to a person. Longer than the slowest first token of a healthy model.
UNANSWERED_TIMEOUT_S = env_float("UNANSWERED_TIMEOUT_S", 300.0)
# How often the sweeper looks for both (beat in production, a thread of the web process in embedded mode).
SWEEP_INTERVAL_S = env_float("SWEEP_INTERVAL_S", 15.0)
# A sweep held up in the queue (behind an import on the logging worker) is dropped: the next one does its work.
CELERY_BEAT_SCHEDULE["sweep-replies"] = {
    "task": "conversations.sweep_replies", "schedule": SWEEP_INTERVAL_S, "options": {"expires": SWEEP_INTERVAL_S},
}
# Looks every 10 minutes whether tonight's evaluation run is due (an interval, which the embedded beat runs too).
CELERY_BEAT_SCHEDULE["evaluation-nightly"] = {
    "task": "conversations.evaluation_nightly", "schedule": 600.0, "options": {"expires": 600.0},
}
# --- Webhooks and email replies (conversations.webhooks, conversations.mail) --------------------------------
# Deliveries run on the `logging` queue, never the replies': an endpoint that hangs holds up bookkeeping by at
# most WEBHOOK_TIMEOUT_S a try, never a customer's reply.
# One POST's whole time (connect, send, wait, read): past it the try fails and is retried.
WEBHOOK_TIMEOUT_S = env_float("WEBHOOK_TIMEOUT_S", 10.0)
# Tries per delivery, the first one included; then it is marked failed in the delivery log.
WEBHOOK_MAX_ATTEMPTS = max(1, env_int("WEBHOOK_MAX_ATTEMPTS", 6))
# The wait before try n+1 is WEBHOOK_BACKOFF_BASE_S * 2**(n-1), at most WEBHOOK_BACKOFF_MAX_S (kept under the
# broker's visibility timeout, which would deliver a waiting retry twice).
WEBHOOK_BACKOFF_BASE_S = env_float("WEBHOOK_BACKOFF_BASE_S", 30.0)
WEBHOOK_BACKOFF_MAX_S = min(env_float("WEBHOOK_BACKOFF_MAX_S", 1800.0), 3000.0)
# Bytes of a receiver's answer read at most (kept as the error's detail); the rest is never downloaded.
WEBHOOK_RESPONSE_MAX_BYTES = env_int("WEBHOOK_RESPONSE_MAX_BYTES", 4096)
# An endpoint that did not answer (a timeout, a refused connection) is paused this long: its other deliveries wait
# without trying, so a dead endpoint costs one WEBHOOK_TIMEOUT_S per pause, not one per event, on the shared queue.
WEBHOOK_PAUSE_S = env_float("WEBHOOK_PAUSE_S", 60.0)
# A receiver should refuse a signature older than this (the README's verification code); test events use it too.
WEBHOOK_TOLERANCE_S = env_int("WEBHOOK_TOLERANCE_S", 300)

# An agent's reply goes by email to a customer who left an address and has no chat window open.
EMAIL_REPLIES = env_bool("EMAIL_REPLIES", True)
# Django's email backend: SMTP in production mode; embedded mode prints emails on the console unless EMAIL_HOST
# is set.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION or env_str("EMAIL_HOST") else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 587 if env_bool("EMAIL_USE_TLS", False) else 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other: set one")
# Seconds an SMTP connection or command may take before the try fails (and is retried).
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Support <support@localhost>"
SERVER_EMAIL = env_str("SERVER_EMAIL") or DEFAULT_FROM_EMAIL
# Tries per email (a refusal by the server, 5xx, is not retried); the wait doubles from EMAIL_BACKOFF_BASE_S.
EMAIL_MAX_ATTEMPTS = max(1, env_int("EMAIL_MAX_ATTEMPTS", 5))
EMAIL_BACKOFF_BASE_S = env_float("EMAIL_BACKOFF_BASE_S", 60.0)
# The helpdesk's own address as customers reach it, for the transcript link in emails ("" : no link). Embedded
# mode defaults to `make run`'s address.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if PUBLIC_BASE_URL and not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PUBLIC_BASE_URL is an http(s) address, e.g. https://help.example.com")
# How long an emailed transcript link works.
TRANSCRIPT_LINK_MAX_AGE_DAYS = env_int("TRANSCRIPT_LINK_MAX_AGE_DAYS", 30)
# Beat's sweep, this often, queues again the webhook deliveries and emails that have waited past their time by more
# than OUTBOUND_STALE_S (their task was lost: Redis away when queued, a process stopped while a retry waited).
OUTBOUND_SWEEP_S = env_float("OUTBOUND_SWEEP_S", 60.0)
OUTBOUND_STALE_S = env_float("OUTBOUND_STALE_S", 300.0)
CELERY_BEAT_SCHEDULE["outbound-sweep"] = {
    "task": "conversations.outbound_sweep", "schedule": OUTBOUND_SWEEP_S, "options": {"expires": OUTBOUND_SWEEP_S},
}

# --- Retention and daily summaries (conversations.privacy.retention, conversations.stats.summaries) ----------
# How long personal data is kept, in days, per category ("category=days", comma-separated; a category left out or
# set to 0 is kept forever). A channel may have its own period ("web.messages=90" beats "messages=…" for the web
# widget's conversations; `web` is the only channel today). Finite by default, as storage limitation (GDPR art.
# 5(1)(e), PIPL art. 19) expects: chat content half a year, the Ollama call log three months, the agents' audit
# trail two years (it answers "who saw or changed what" long after the chat is gone). RETENTION_ENABLED=false
# stops the beat job (the command and the admin's dry run still work).


def env_periods(name: str, default: str) -> dict[str, int]:
    """The periods, from "category=days,web.category=days" as {"category": days, "web.category": days}; a
    malformed entry stops the process, since a typo would otherwise keep (or delete) data nobody meant to."""
    periods: dict[str, int] = {}
    for item in env_list(name, default):
        key, _, days = item.partition("=")
        key = key.strip().lower()
        if not key or not days.strip().isdigit() or key.count(".") > 1:
            raise RuntimeError(f'{name}: "{item}" is not category=days (e.g. messages=180 or web.messages=90)')
        periods[key] = int(days)
    return periods


RETENTION_DAYS = env_periods(
    "RETENTION_DAYS", "messages=180,conversations=180,feedback=180,customers=180,llm_calls=90,audit=730"
)
RETENTION_ENABLED = env_bool("RETENTION_ENABLED", True)
# Rows deleted per transaction: short transactions, so the job never holds locks or bloats one huge DELETE.
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 1000)
if RETENTION_BATCH_SIZE < 1:
    raise RuntimeError("RETENTION_BATCH_SIZE is the rows deleted per transaction, at least 1")
# Seconds between two runs of the retention job, and of the daily summaries' fill (which keeps today and
# yesterday current for the dashboard's history).
RETENTION_INTERVAL_S = env_float("RETENTION_INTERVAL_S", 3600.0)
SUMMARIES_INTERVAL_S = env_float("SUMMARIES_INTERVAL_S", 900.0)
# Each hour of a daily summary keeps at most this many reply latencies (for the dashboard's percentiles).
SUMMARY_LATENCY_SAMPLES = env_int("SUMMARY_LATENCY_SAMPLES", 2000)
CELERY_BEAT_SCHEDULE["summaries-fill"] = {
    "task": "conversations.summaries_fill", "schedule": SUMMARIES_INTERVAL_S,
    "options": {"expires": SUMMARIES_INTERVAL_S},
}
CELERY_BEAT_SCHEDULE["retention-enforce"] = {
    "task": "conversations.retention_enforce", "schedule": RETENTION_INTERVAL_S,
    "options": {"expires": RETENTION_INTERVAL_S},
}
# Embedded mode runs the beat schedule on a thread of the web process (the test suite turns it off).
EMBEDDED_BEAT = env_bool("EMBEDDED_BEAT", True)
# Deltas are sent at most this often; fewer, larger frames keep the channel layer from overflowing.
DELTA_COALESCE_MS = env_int("DELTA_COALESCE_MS", 50)
# A stream hears a stop announced at once (Redis pub/sub, helpdesk.runtime.flags); its flags are read again this
# often in any case, for an announcement lost while the subscription was broken (pub/sub delivers at most once).
STOP_FLAGS_RECHECK_S = env_float("STOP_FLAGS_RECHECK_S", 1.0)
# --- Abuse limits (helpdesk/web/ratelimits.py): per client IP and per conversation, counted in Redis
# (production: shared by every process) or in memory (embedded). Rates are `limits` strings
# ("10/minute", "20 per 10 seconds"). RATE_LIMITS_ENABLED=false turns every one off (benchmarks,
# load tests: they all come from one address).
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
# Frames (every frame a customer's sockets send, invalid ones included) per conversation: over the
# limit a frame is refused with an error; over three times the limit the socket is closed (4429).
CHAT_RATE_LIMIT = env_int("CHAT_RATE_LIMIT", 20)
CHAT_RATE_WINDOW_S = env_int("CHAT_RATE_WINDOW_S", 10)
RATE_LIMIT_FRAMES_PER_IP = env_str("RATE_LIMIT_FRAMES_PER_IP", "60/10 seconds")
RATE_LIMIT_CONVERSATIONS_PER_IP = env_str("RATE_LIMIT_CONVERSATIONS_PER_IP", "10/minute")
# Messages stored (a refused one gets an error with the client_id, and is not stored).
RATE_LIMIT_MESSAGES_PER_CONVERSATION = env_str("RATE_LIMIT_MESSAGES_PER_CONVERSATION", "20/minute")
RATE_LIMIT_MESSAGES_PER_IP = env_str("RATE_LIMIT_MESSAGES_PER_IP", "60/minute")
# Replies from the model: over either, the message is stored but not answered by the model, and the
# customer is told to wait (an error frame `reply_rate_limited` with retry_after).
RATE_LIMIT_MODEL_CALLS_PER_CONVERSATION = env_str("RATE_LIMIT_MODEL_CALLS_PER_CONVERSATION", "10/minute")
RATE_LIMIT_MODEL_CALLS_PER_IP = env_str("RATE_LIMIT_MODEL_CALLS_PER_IP", "30/minute")
# Open customer sockets per conversation (all processes); the next is refused with close 4429.
CHAT_MAX_SOCKETS_PER_CONVERSATION = env_int("CHAT_MAX_SOCKETS_PER_CONVERSATION", 5)
# Agents' consoles: frames per agent (all their sockets), and draft replies (model calls) per agent.
RATE_LIMIT_AGENT_FRAMES = env_str("RATE_LIMIT_AGENT_FRAMES", "100/10 seconds")
RATE_LIMIT_DRAFTS_PER_AGENT = env_str("RATE_LIMIT_DRAFTS_PER_AGENT", "20/minute")
# The widget's "download this conversation" (a transcript per request, every request counted, bad tokens too).
RATE_LIMIT_TRANSCRIPTS_PER_IP = env_str("RATE_LIMIT_TRANSCRIPTS_PER_IP", "10/hour")
HISTORY_LIMIT = env_int("HISTORY_LIMIT", 200)
# --- The app channel (conversations.appapi: REST + server-sent events for mobile apps, README "App channel").
# An app made without a rate limit of its own gets this one (requests per window, the whole app).
APP_API_DEFAULT_RATE_LIMIT = env_str("APP_API_DEFAULT_RATE_LIMIT", "600/minute")
# Messages per page of GET /api/v1/app/messages (a client may ask for fewer).
APP_API_PAGE_SIZE = env_int("APP_API_PAGE_SIZE", 50)
# An event stream whose client does not read (Daphne gives no backpressure of its own): once the socket's buffers
# are full, events wait in the stream's own queue; past this many bytes there the stream is closed, and the
# client resumes with Last-Event-ID when it reads again. A reply's deltas and its `done` are ~2x its text.
APP_SSE_MAX_QUEUED_BYTES = env_int("APP_SSE_MAX_QUEUED_BYTES", 256 * 1024)
if APP_SSE_MAX_QUEUED_BYTES <= 0:
    raise RuntimeError("APP_SSE_MAX_QUEUED_BYTES must be above 0")
# The kernel's send buffer of each event stream's socket (autotuned, it may grow to megabytes per client).
APP_SSE_SOCKET_SEND_BUFFER_BYTES = env_int("APP_SSE_SOCKET_SEND_BUFFER_BYTES", 64 * 1024)
# A comment line this often on a quiet stream, so proxies and mobile networks keep it open.
APP_SSE_KEEPALIVE_S = env_float("APP_SSE_KEEPALIVE_S", 20.0)
# Conversations per page of the console's inbox (waiting customers always come first; "load more" pages on).
INBOX_PAGE_SIZE = env_int("INBOX_PAGE_SIZE", 50)

# Origins that may embed the widget ("*" allows any). The demo page is same-origin.
WIDGET_ALLOWED_ORIGINS = env_list(
    "WIDGET_ALLOWED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"
)
CORS_ALLOWED_ORIGINS = [o for o in WIDGET_ALLOWED_ORIGINS if o != "*"]
CORS_ALLOW_ALL_ORIGINS = "*" in WIDGET_ALLOWED_ORIGINS
# Not the app API (/api/v1/app/...): its origins are each app's own (conversations.appapi.cors).
CORS_URLS_REGEX = r"^/api/(?!v1/app/).*$"
CORS_EXPOSE_HEADERS = ["Retry-After"]  # a 429's wait, readable by the widget's script on another origin

# Identity verification: the host site signs its logged-in user, hash = HMAC-SHA256(secret, id\nname\nemail\nts)
# in hex (ts: Unix seconds), so a customer's conversation follows them across devices. ENFORCE_IDENTITY refuses
# anonymous chats.
WIDGET_IDENTITY_SECRET = env_str("WIDGET_IDENTITY_SECRET")
# `make run` on a fresh machine (no secret set, the development key): the demo shop signs its demo customer in
# (conversations.views.demo_shop) with a secret derived from the development key, so the bot can look up their
# orders (conversations.actions). Any configured secret or key turns this off.
DEMO_SIGN_IN = not WIDGET_IDENTITY_SECRET and DEBUG and not PRODUCTION and SECRET_KEY == DEV_SECRET_KEY
if DEMO_SIGN_IN:
    WIDGET_IDENTITY_SECRET = hashlib.sha256(f"widget-identity:{SECRET_KEY}".encode()).hexdigest()
# A signed identity is accepted this long after its ts (a hash copied from a page cannot be replayed for ever),
# and this far ahead of the server's clock.
WIDGET_IDENTITY_MAX_AGE_S = env_int("WIDGET_IDENTITY_MAX_AGE_S", 24 * 3600)
WIDGET_IDENTITY_CLOCK_SKEW_S = env_int("WIDGET_IDENTITY_CLOCK_SKEW_S", 300)
# Accept the first scheme's hash of the id alone (no expiry; name and email are then not stored), while a site
# moves to the signed timestamp. Off by default: such a hash is refused, saying what to sign.
WIDGET_IDENTITY_ACCEPT_LEGACY_HASH = env_bool("WIDGET_IDENTITY_ACCEPT_LEGACY_HASH", False)
ENFORCE_IDENTITY = env_bool("ENFORCE_IDENTITY", False)

# --- Actions (conversations.actions): the bot looks things up in the company's systems -------------------------
# The model that chooses the action and its arguments (structured outputs); empty: the conversation's profile's.
ACTION_MODEL = env_str("ACTION_MODEL")
# How long the choice may take (the reply waits for it); past it no action is used and the reply goes on.
ACTION_CHOICE_TIMEOUT_S = env_float("ACTION_CHOICE_TIMEOUT_S", 20.0)
# The most any action may wait for its endpoint's whole answer, whatever its own timeout says.
ACTION_TIMEOUT_MAX_S = env_float("ACTION_TIMEOUT_MAX_S", 10.0)
# An endpoint's answer is read up to this many bytes; a longer one is a failed call.
ACTION_MAX_RESPONSE_BYTES = env_int("ACTION_MAX_RESPONSE_BYTES", 1_000_000)
# A customer the site has not signed in who asks for an action that needs it: "sign_in" (asked to sign in) or
# "handoff" (to a person, reason action_failed). No call is made either way.
ACTION_UNVERIFIED = env_str("ACTION_UNVERIFIED", "sign_in")
# A proposal (an action that changes something) waits this long for the customer's "yes".
ACTION_CONFIRM_WINDOW_S = env_int("ACTION_CONFIRM_WINDOW_S", 600)
# The demo shop (conversations.views): its order API's key, and the customer its page signs in (empty: none).
DEMO_ORDERS_KEY = env_str("DEMO_ORDERS_KEY") or hashlib.sha256(f"demo-orders:{SECRET_KEY}".encode()).hexdigest()[:32]
DEMO_CUSTOMER_ID = env_str("DEMO_CUSTOMER_ID", "demo-customer-1" if DEMO_SIGN_IN else "")
# Ask for an (optional) name and email before the first message.
WIDGET_PRECHAT_FORM = env_bool("WIDGET_PRECHAT_FORM", False)
# A privacy notice shown at the start of a chat, with a link to this page (empty: none). The text can be
# overridden per language; WIDGET_PRIVACY_NOTICE_VERSION is recorded with the moment it was shown, so which
# notice a customer saw is known after it changes.
WIDGET_PRIVACY_NOTICE_URL = env_str("WIDGET_PRIVACY_NOTICE_URL")
WIDGET_PRIVACY_NOTICE_TEXT = env_str("WIDGET_PRIVACY_NOTICE_TEXT")
WIDGET_PRIVACY_NOTICE_TEXT_ZH = env_str("WIDGET_PRIVACY_NOTICE_TEXT_ZH")
WIDGET_PRIVACY_NOTICE_VERSION = env_str("WIDGET_PRIVACY_NOTICE_VERSION", "1")
if WIDGET_PRIVACY_NOTICE_URL and not WIDGET_PRIVACY_NOTICE_URL.startswith(("https://", "http://", "/")):
    raise RuntimeError("WIDGET_PRIVACY_NOTICE_URL is an http(s) address or a path on this site")

# --- Metrics ----------------------------------------------------------------------
# /metrics answers a scraper that sends `Authorization: Bearer <METRICS_TOKEN>`, or one from these addresses
# (the client address: see TRUSTED_PROXIES). With a token set, only the token opens it, unless
# METRICS_REQUIRE_TOKEN is off.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
METRICS_REQUIRE_TOKEN = env_bool("METRICS_REQUIRE_TOKEN", True)
# prometheus-client's multiprocess mode: every Daphne and Celery process writes its samples here
# (`make run` sets it up; in containers, a shared emptyDir/volume).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
# A Celery worker's main process serves its own samples on this port (0: off), for deployments where
# workers do not share PROMETHEUS_MULTIPROC_DIR with the web process (one pod each in Kubernetes).
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0)

# --- Internationalisation, static files -----------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
# The message catalogs: locale/zh_Hans/LC_MESSAGES/django.po (the server's strings) and djangojs.po (the widget's and
# the console's, handed to them by the server), compiled to .mo by `make` (GNU gettext's msgfmt).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic (the image's build, `make run` in production) writes a gzipped copy beside each file, which
    # WhiteNoise sends to browsers that accept it: the widget's visitors download a third of its size.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Development serves the source files as they change; production only the collected ones (files found in static/
# would be served in their place, uncompressed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging ---------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "json": one JSON object per line (for log collectors), with conversation and message ids where known.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # Extra attributes (conversation_id, message_id: see helpdesk.observability.logs) become fields of their own.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    # Conversation tokens never reach a log line, the access log's included (helpdesk/observability/redact.py).
    "filters": {"redact_tokens": {"()": "helpdesk.observability.redact.RedactTokensFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # redis-py logs every pub/sub message at DEBUG (customers' words): withheld anyway (observability.redact).
        "push_response": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # pypdf warns about every oddity of a damaged file; the import reports what matters.
        "pypdf": {"level": "ERROR"},
        # django-axes: failures and lockouts are warnings; every successful sign-in would be an info line.
        "axes": {"level": "WARNING"},
        # In embedded mode tasks run inside the web server: one line per task would drown its log.
        "celery.app.trace": {"level": "WARNING" if EMBEDDED else "INFO"},
    },
}
# Error reports (DEBUG pages, mailed 500s) without conversation tokens.
DEFAULT_EXCEPTION_REPORTER_FILTER = "helpdesk.observability.redact.TokenRedactingReporterFilter"
