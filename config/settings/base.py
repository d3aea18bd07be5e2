"""Settings shared by every environment; each value comes from the environment.

Production differs from development only by environment values (see `prod.py` for the
checks that make unsafe values fail loudly).
"""

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

MIN_SIGNING_KEY_BYTES = 32


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def require_strong_key(name: str, value: str) -> str:
    """HS256 is only as strong as its key: refuse to start with a short one."""
    if len(value.encode()) < MIN_SIGNING_KEY_BYTES:
        raise ImproperlyConfigured(
            f"{name} must be at least {MIN_SIGNING_KEY_BYTES} bytes long "
            f"(got {len(value.encode())}); set a long random value in the environment."
        )
    return value


# A development default, long enough to pass the check; production must set its own (and
# config/serving.py refuses to serve it beyond loopback).
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = require_strong_key("SECRET_KEY", os.environ.get("SECRET_KEY", DEV_SECRET_KEY))
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
# The app's own origins; the socket admits pages from these and CORS_ALLOWED_ORIGINS only,
# scheme, host and port alike (realtime/origins.py). By default the local addresses on the
# PORT `make run` serves.
_PORT = os.environ.get("PORT", "8000")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS",
    f"http://127.0.0.1:{_PORT},http://localhost:{_PORT},http://[::1]:{_PORT}",
)
# Web pages on these origins may call the API from the browser (tokens travel in the
# Authorization header, never in cookies). Empty: only the app's own origin, the dashboard.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Retry-After"]

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
    # Django Ninja's own copy of Swagger UI (/api/docs), served from our static files: the
    # page must load no script from a CDN on the origin where the tokens live.
    "ninja",
    "channels",
    "django_celery_beat",
    "accounts",
    "habits",
    "instances",
    "telegram",
    "realtime",
    "transfer",
    "calendars",
    "webhooks",
    "dashboard",
    "installation",
]

# The header-setting middleware sit outside JsonErrorsForApi, so the JSON answers it builds
# carry the security and CORS headers too.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.JsonErrorsForApi",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.UnavailableWhileInfrastructureIsDown",
]

# API paths are exact: a missing slash is a JSON 404, not a redirect that drops the body.
APPEND_SLASH = False
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_BODY_BYTES", str(1024 * 1024)))
# Paths that take a larger body than that, exactly these (a file upload): the import's 20 MB
# file (transfer.models.IMPORT_MAX_BYTES) with room for the multipart envelope around it.
BODY_LIMITS_BY_PATH = {"/api/import/": 20 * 1024 * 1024 + 64 * 1024}
# How many reverse proxies in front of us append to X-Forwarded-For (0: trust none of it).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
# Where `core.events.record` hands each event (a dotted path: core imports no app).
EVENT_DISPATCHER = "config.dispatch.dispatcher"
WSGI_APPLICATION = None

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

# With no DATABASE_URL a newcomer gets an embedded SQLite file; tests and production use
# PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# The embedded default is written by several processes at once (web workers, the Celery
# worker, beat, the bot). A deferred transaction that reads, then writes, fails at once with
# "database is locked" when another process holds the write lock, whatever the timeout: each
# transaction takes the write lock at BEGIN instead (IMMEDIATE), where the busy timeout
# applies, and WAL lets readers go on beside the one writer. The timeout outlasts the
# longest write (a sweep batch of SWEEP_BATCH rows takes well under a second); a write still
# waiting past it answers 503 with Retry-After (config/middleware.py), as an outage does.
SQLITE_BUSY_TIMEOUT_SECONDS = float(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS", "20"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, but a reused connection's health check is a poll of its socket
    # while nothing came from the server (config/postgresql/base.py): no round trip.
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # The hot statements planned once per connection (config/postgresql/base.py) at their
    # fifth run; `off` for a pooler in transaction mode that keeps no prepared statements.
    if "DB_PREPARE_THRESHOLD" in os.environ:
        threshold = os.environ["DB_PREPARE_THRESHOLD"].strip().lower()
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
            None if threshold in ("", "off") else int(threshold)
        )
    # A database that does not answer fails the request within seconds (a 503) instead of
    # holding it; a value in DATABASE_URL (`?connect_timeout=`) wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DB_CONNECT_TIMEOUT", "3"))
    )
    # No JIT compilation (docs/DECISIONS.md, "No JIT on our connections"): PostgreSQL decides
    # it on the plan's estimated cost, which counts subplans that never run (the course
    # check's count behind its probe), and then spends 100 ms compiling a 10 ms statement.
    # Asked at connect; `DB_JIT=server` asks nothing (a pooler that refuses startup options:
    # set it on the role instead). `options` in DATABASE_URL wins.
    DB_JIT = os.environ.get("DB_JIT", "off").strip().lower()
    if DB_JIT not in ("off", "server"):
        raise ImproperlyConfigured(f"DB_JIT must be 'off' or 'server', not {DB_JIT!r}.")
    if DB_JIT == "off":
        DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Development and tests serve static files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# --- Redis: channel layer, cache, Celery broker, throttling -------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "2"))
# Token states and `today` lists answered from each process's memory while Redis reports no
# change of them (core/near_cache.py); off, every request reads Redis.
NEAR_CACHE = env_bool("NEAR_CACHE", True)
# Every Redis name of this installation is `aht:<namespace>:...` (core/redis.py), so that
# installations sharing a Redis database never meet. Unset, the namespace is derived from
# the database (installation/identity.py); set, it is used as it is.
REDIS_NAMESPACE = os.environ.get("REDIS_NAMESPACE", "")
# What derives it when unset, by dotted path: core/redis.py must not import an app.
REDIS_NAMESPACE_SOURCE = "installation.identity.database_namespace"
if REDIS_NAMESPACE and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", REDIS_NAMESPACE):
    raise ImproperlyConfigured(
        f"REDIS_NAMESPACE must be 1-64 letters, digits, '_', '.' or '-', got {REDIS_NAMESPACE!r}"
    )

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
        "KEY_FUNCTION": "core.redis.cache_key",
        "OPTIONS": {
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}

# The channel layer's Redis servers (comma-separated): more than one shards its channels and
# groups over them, by channels_redis's own consistent hash (docs/DECISIONS.md, "A sharded
# channel layer"). Cache, presence, throttles, token state and the broker stay on REDIS_URL.
CHANNEL_REDIS_URLS = env_list("CHANNEL_REDIS_URLS", REDIS_URL)

CHANNEL_LAYERS = {
    "default": {
        # channels_redis's layer, its channels and groups under the namespace.
        "BACKEND": "config.channel_layer.NamespacedRedisChannelLayer",
        "CONFIG": {
            # redis-py 8's async client times out idle reads after 5 s by default, which
            # drops every idle socket; the layer's receive loop must wait forever.
            "hosts": [
                {"address": url, "socket_timeout": None, "max_connections": 10_000}
                for url in CHANNEL_REDIS_URLS
            ],
            # The default of 100 drops a burst (a sweep) silently.
            "capacity": 5_000,
            "expiry": 60,
        },
    }
}

# A client sends only pings; anything bigger or faster than this is not a client of ours.
WS_MAX_FRAME_BYTES = int(os.environ.get("WS_MAX_FRAME_BYTES", str(64 * 1024)))
WS_MAX_FRAMES_PER_SECOND = int(os.environ.get("WS_MAX_FRAMES_PER_SECOND", "20"))
# Open sockets per user, across every web worker; one more is refused with 4429.
WS_MAX_SOCKETS_PER_USER = int(os.environ.get("WS_MAX_SOCKETS_PER_USER", "20"))
# How often a socket checks that Redis still answers and still holds its group membership.
WS_LAYER_CHECK_SECONDS = float(os.environ.get("WS_LAYER_CHECK_SECONDS", "5"))

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# No result backend, on either broker: every task's outcome is a database row (and its
# event), and nothing waits on a task's return value.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The broker: Redis (REDIS_URL) unless CELERY_BROKER_URL names RabbitMQ (amqp://). Either
# way, tasks are acknowledged after they ran (acks_late), one at a time per worker process.
BROKER_IS_RABBITMQ = CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://"))
if not BROKER_IS_RABBITMQ and not CELERY_BROKER_URL.startswith(
    ("redis://", "rediss://", "unix://")
):
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL must be a redis:// or amqp:// URL, got {CELERY_BROKER_URL!r}"
    )
# On Redis, a task whose worker died before acknowledging it (acks_late) is handed out again
# once this many seconds have passed: longer than any task or retry countdown here (the Redis
# default, an hour, would leave a killed worker's generation undone for that long). RabbitMQ
# has no such timeout: it requeues a delivery at once when its consumer's connection drops.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if BROKER_IS_RABBITMQ
    else {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "300"))}
)
CELERY_TASK_ALWAYS_EAGER = False
# A task that meets a database or Redis outage retries with exponential backoff (seconds),
# then gives up and logs it.
TASK_RETRY_BACKOFF_SECONDS = int(os.environ.get("TASK_RETRY_BACKOFF_SECONDS", "2"))
TASK_RETRY_BACKOFF_MAX_SECONDS = int(os.environ.get("TASK_RETRY_BACKOFF_MAX_SECONDS", "60"))
TASK_MAX_RETRIES = int(os.environ.get("TASK_MAX_RETRIES", "5"))
# The deadline sweep's parallel parts on PostgreSQL, split by habit (instances/services/
# sweep.py): one connection each while a tick runs. 1 sweeps in one transaction at a time.
SWEEP_SHARDS = int(os.environ.get("SWEEP_SHARDS", "2"))

# --- Webhooks (SPEC §10) -----------------------------------------------------------------
# Loopback receivers admitted (development and tests of a local receiver; never production).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
# Retries: base x 3^(n-1), plus up to 25 % jitter, capped (docs/DECISIONS.md has the schedule).
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30"))
WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", str(6 * 3600)))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_DISABLE_AFTER = int(os.environ.get("WEBHOOK_DISABLE_AFTER", "10"))
# A worker's claim on a hook (it alone sends the hook's deliveries until then): longer than a
# pass of WEBHOOK_PER_HOOK_BATCH sends at the timeout each.
WEBHOOK_LEASE_SECONDS = float(os.environ.get("WEBHOOK_LEASE_SECONDS", "60"))
WEBHOOK_PER_HOOK_BATCH = int(os.environ.get("WEBHOOK_PER_HOOK_BATCH", "5"))
# How often beat sends the due retries and takes over deliveries a killed worker held.
WEBHOOK_SWEEP_SECONDS = int(os.environ.get("WEBHOOK_SWEEP_SECONDS", "10"))

# --- Auth tokens ----------------------------------------------------------------------------
JWT_SIGNING_KEY = require_strong_key(
    "JWT_SIGNING_KEY", os.environ.get("JWT_SIGNING_KEY", SECRET_KEY)
)
JWT_ACCESS_TTL_SECONDS = int(os.environ.get("JWT_ACCESS_TTL_SECONDS", str(15 * 60)))
JWT_REFRESH_TTL_SECONDS = int(os.environ.get("JWT_REFRESH_TTL_SECONDS", str(14 * 24 * 3600)))
JWT_LEEWAY_SECONDS = int(os.environ.get("JWT_LEEWAY_SECONDS", "5"))

# Failed logins counted in Redis; past a limit the login answers 429 until the window ends.
# PER_EMAIL counts one e-mail from one client address, PER_EMAIL_TOTAL one e-mail from all
# (accounts/throttle.py). The admin's login page shares these counters.
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("LOGIN_THROTTLE_WINDOW_SECONDS", "900"))
LOGIN_THROTTLE_PER_EMAIL = int(os.environ.get("LOGIN_THROTTLE_PER_EMAIL", "5"))
LOGIN_THROTTLE_PER_EMAIL_TOTAL = int(os.environ.get("LOGIN_THROTTLE_PER_EMAIL_TOTAL", "100"))
LOGIN_THROTTLE_PER_IP = int(os.environ.get("LOGIN_THROTTLE_PER_IP", "20"))
# Wrong current passwords at a password change, per user, within the login window.
PASSWORD_CHANGE_THROTTLE_PER_USER = int(os.environ.get("PASSWORD_CHANGE_THROTTLE_PER_USER", "5"))
# Registrations (each hashes a password) per client address within the window.
REGISTER_THROTTLE_PER_IP = int(os.environ.get("REGISTER_THROTTLE_PER_IP", "10"))
REGISTER_THROTTLE_WINDOW_SECONDS = int(os.environ.get("REGISTER_THROTTLE_WINDOW_SECONDS", "3600"))

# --- Telegram (the bot runs only when all three are set) -------------------------------------
TELEGRAM_API_ID = os.environ.get("TELEGRAM_API_ID", "")
TELEGRAM_API_HASH = os.environ.get("TELEGRAM_API_HASH", "")
TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_BOT_USERNAME = os.environ.get("TELEGRAM_BOT_USERNAME", "AtomicHabitsTrackerBot")
TELEGRAM_SESSION = os.environ.get("TELEGRAM_SESSION", str(BASE_DIR / "telegram-bot"))
# Wrong bind codes per Telegram account, and codes asked for per user, within the window.
TELEGRAM_BIND_ATTEMPTS = int(os.environ.get("TELEGRAM_BIND_ATTEMPTS", "5"))
TELEGRAM_CODES_PER_WINDOW = int(os.environ.get("TELEGRAM_CODES_PER_WINDOW", "10"))
TELEGRAM_BIND_WINDOW_SECONDS = int(os.environ.get("TELEGRAM_BIND_WINDOW_SECONDS", "600"))
# Telegram's own limit, kept by the relay's pacer (telegram/pacing.py): sends per second in
# all, and seconds between two messages to one chat.
TELEGRAM_SENDS_PER_SECOND = float(os.environ.get("TELEGRAM_SENDS_PER_SECOND", "30"))
TELEGRAM_CHAT_INTERVAL_SECONDS = float(os.environ.get("TELEGRAM_CHAT_INTERVAL_SECONDS", "1"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Telethon is chatty at INFO (crypto backend, reconnects); its warnings still show.
    "loggers": {"telethon": {"level": "WARNING"}},
}

if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, got {REDIS_URL!r}")
for _url in CHANNEL_REDIS_URLS:
    if not _url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"CHANNEL_REDIS_URLS must be redis:// URLs separated by commas, got {_url!r}"
        )
if len(set(CHANNEL_REDIS_URLS)) != len(CHANNEL_REDIS_URLS):
    # Two entries for one server would hash half the groups to a second pool of it: harmless
    # for delivery, but a shard count that is not the number of servers misleads.
    raise ImproperlyConfigured(f"CHANNEL_REDIS_URLS names a server twice: {CHANNEL_REDIS_URLS}")
