"""One settings module for every deployment.

Everything comes from the environment. With nothing set, the product runs on
embedded defaults (SQLite, in-memory channel layer, local-memory cache, Celery
tasks in-process) so that `make run` works on a fresh machine; with
`DATABASE_URL`, `REDIS_URL` and `OLLAMA_HOST(S)` set, the same code runs on
PostgreSQL, Redis, real Celery workers and real Ollama nodes.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

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


DEBUG = env_bool("DEBUG", True)
# The development key is only acceptable while DEBUG is on; production must set its own.
SECRET_KEY = env_str("SECRET_KEY") or "dev-only-insecure-key-change-me-in-production"
if not DEBUG and SECRET_KEY.startswith("dev-only"):
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
# Kubernetes probes and Prometheus reach a pod by its IP address, which no ALLOWED_HOSTS entry can know in
# advance (Django answers 400 to any other Host): the pod passes it in POD_IP (downward API, status.podIP).
ALLOWED_HOSTS += [f"[{ip}]" if ":" in ip else ip for ip in env_list("POD_IP")]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto: requests count as https, and cookies are
# sent over https only.
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "channels",
    "helpdesk",
    "conversations",
    "knowledge",
    "agents",
]

MIDDLEWARE = [
    "helpdesk.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: a view that got no database connection in time answers 503 + Retry-After, with CORS headers.
    "helpdesk.dbbusy.DatabaseBusyMiddleware",
]

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
        "default": dj_database_url.parse(f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
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

# --- Redis: channel layer, cache, Celery broker -------------------------------
REDIS_URL = env_str("REDIS_URL")
EMBEDDED = not REDIS_URL

# Daphne closes idle websockets after this many seconds.
WEBSOCKET_TIMEOUT = env_int("WEBSOCKET_TIMEOUT", 86400)

if REDIS_URL:
    # Redis pub/sub, not channels_redis's list-based core layer: there, all sockets of a Daphne process
    # share one queue popped by whichever socket's receive is running, and a socket closing while its
    # receive was popping lost the event it popped for another socket (django/channels#1683,
    # channels_redis#366): about 2 `done` events in 100 with 10 customers finishing at once
    # (bench/first_token.py). Pub/sub reads each process's messages in one task of its own, and
    # membership ends with the socket, so there is no capacity to overflow or group to expire either.
    # Pub/sub channels ignore the Redis db number: the prefix carries it, so that deployments
    # (or test runs) sharing one Redis server on different dbs never hear each other.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"helpdesk.{REDIS_URL.rsplit('/', 1)[-1] or '0'}.",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "helpdesk",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "helpdesk"}}

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
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
    "knowledge.*": {"queue": "knowledge"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection before and after every
# task unless told to reuse it; a new connection costs milliseconds before the
# first token. 0 closes it every time (when processes outnumber max_connections).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 100)
CELERY_GENERATION_CONCURRENCY = env_int("CELERY_GENERATION_CONCURRENCY", 8)
CELERY_LOGGING_CONCURRENCY = env_int("CELERY_LOGGING_CONCURRENCY", 1)
# `manage.py serve` starts its Celery workers this much nicer than Daphne (0: same priority).
WORKER_NICE = env_int("WORKER_NICE", 10)
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
# Node health: probed this often (beat in production, a thread in embedded mode); a node that fails this many
# times in a row is taken out of rotation for the cool-down, then probed back in.
OLLAMA_HEALTH_INTERVAL_S = env_float("OLLAMA_HEALTH_INTERVAL_S", 10.0)
OLLAMA_NODE_MAX_FAILURES = env_int("OLLAMA_NODE_MAX_FAILURES", 3)
OLLAMA_NODE_COOLDOWN_S = env_float("OLLAMA_NODE_COOLDOWN_S", 30.0)
# A node that sends no first chunk within this long is failed over (a cold load of a big model counts).
OLLAMA_FIRST_CHUNK_TIMEOUT_S = env_float("OLLAMA_FIRST_CHUNK_TIMEOUT_S", 90.0)
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
KNOWLEDGE_IMPORT_MAX_BYTES = env_int("KNOWLEDGE_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
KNOWLEDGE_IMPORT_MAX_ARCHIVE_BYTES = env_int("KNOWLEDGE_IMPORT_MAX_ARCHIVE_BYTES", 50 * 1024 * 1024)
KNOWLEDGE_IMPORT_MAX_FILES = env_int("KNOWLEDGE_IMPORT_MAX_FILES", 500)
# Sources put into the prompt, and how many candidates each ranking contributes to the fusion.
RETRIEVAL_TOP_K = env_int("RETRIEVAL_TOP_K", 4)
RETRIEVAL_CANDIDATES = env_int("RETRIEVAL_CANDIDATES", 50)
# A chunk found only by vector search must be at least this similar to count as a source.
RETRIEVAL_MIN_VECTOR_SCORE = env_float("RETRIEVAL_MIN_VECTOR_SCORE", 0.45)
# An FAQ answers directly when the question is this similar to one of its phrasings.
FAQ_SIMILARITY_THRESHOLD = env_float("FAQ_SIMILARITY_THRESHOLD", 0.9)
ANSWER_CACHE_ENABLED = env_bool("ANSWER_CACHE_ENABLED", True)
ANSWER_CACHE_TTL_S = env_int("ANSWER_CACHE_TTL_S", 24 * 3600)
# Load the demo shop's knowledge base on `make run` when the knowledge base is empty.
LOAD_DEMO_KNOWLEDGE = env_bool("LOAD_DEMO_KNOWLEDGE", True)

# --- Confidence and handoff -----------------------------------------------------
# A bot reply less confident than this hands the conversation to a human.
HANDOFF_THRESHOLD = env_float("HANDOFF_THRESHOLD", 0.5)
# Vector similarity of an unrelated text, and of a clearly relevant one, for the embedding model in use.
CONFIDENCE_VECTOR_FLOOR = env_float("CONFIDENCE_VECTOR_FLOOR", 0.35)
CONFIDENCE_VECTOR_CEILING = env_float("CONFIDENCE_VECTOR_CEILING", 0.75)
# The BM25 score at which a source counts as half relevant.
CONFIDENCE_KEYWORD_HALF = env_float("CONFIDENCE_KEYWORD_HALF", 4.0)
# Customer messages asking for a person. Single words must be the whole message ("人工", "agent");
# longer phrases may appear anywhere in it ("我要转人工", "can I talk to a human please").
HANDOFF_PHRASES = env_list(
    "HANDOFF_PHRASES",
    "人工,转人工,人工客服,找人工,真人,客服人员,human,agent,operator,representative,real person,"
    "talk to a human,speak to a human,talk to a person,speak to a person,human agent,live agent,talk to someone",
)

# When colleagues answer, e.g. "Mon-Fri 09:00-18:00" or "Mon-Sun 08:30-22:00"; empty: always.
# Outside these hours, with no agent's console connected, a handed-off customer is told when to
# expect a reply and asked for an email address.
SUPPORT_HOURS = env_str("SUPPORT_HOURS")
SUPPORT_TIME_ZONE = env_str("SUPPORT_TIME_ZONE") or env_str("TIME_ZONE", "UTC")

# --- Conversations --------------------------------------------------------------
MESSAGE_MAX_CHARS = env_int("MESSAGE_MAX_CHARS", 4000)
# Deltas are sent at most this often; fewer, larger frames keep the channel layer from overflowing.
DELTA_COALESCE_MS = env_int("DELTA_COALESCE_MS", 50)
# A customer may send this many frames per window before being told to slow down.
CHAT_RATE_LIMIT = env_int("CHAT_RATE_LIMIT", 20)
CHAT_RATE_WINDOW_S = env_int("CHAT_RATE_WINDOW_S", 10)
HISTORY_LIMIT = env_int("HISTORY_LIMIT", 200)

# Origins that may embed the widget ("*" allows any). The demo page is same-origin.
WIDGET_ALLOWED_ORIGINS = env_list(
    "WIDGET_ALLOWED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"
)
CORS_ALLOWED_ORIGINS = [o for o in WIDGET_ALLOWED_ORIGINS if o != "*"]
CORS_ALLOW_ALL_ORIGINS = "*" in WIDGET_ALLOWED_ORIGINS
CORS_URLS_REGEX = r"^/api/.*$"

# Identity verification: the host site signs its logged-in user's id, hash = HMAC-SHA256(secret, id) in hex,
# so a customer's conversation follows them across devices. ENFORCE_IDENTITY refuses anonymous chats.
WIDGET_IDENTITY_SECRET = env_str("WIDGET_IDENTITY_SECRET")
ENFORCE_IDENTITY = env_bool("ENFORCE_IDENTITY", False)
# Ask for an (optional) name and email before the first message.
WIDGET_PRECHAT_FORM = env_bool("WIDGET_PRECHAT_FORM", False)

# --- Metrics ----------------------------------------------------------------------
# /metrics answers a scraper that sends `Authorization: Bearer <METRICS_TOKEN>`, or one from these addresses.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
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
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
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
        # Extra attributes (conversation_id, message_id: see helpdesk.logs) become fields of their own.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain"}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # pypdf warns about every oddity of a damaged file; the import reports what matters.
        "pypdf": {"level": "ERROR"},
        # In embedded mode tasks run inside the web server: one line per task would drown its log.
        "celery.app.trace": {"level": "WARNING" if EMBEDDED else "INFO"},
    },
}
