"""Settings: everything comes from the environment (see the repo's .env.example).

Defaults are safe: DEBUG is off unless DJANGO_DEBUG=1, production refuses to start without real secrets,
and with no provider keys the backend talks to the offline provider sandbox on 127.0.0.1:8100.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

# Lets `admin.ModelAdmin[Model]` and friends be subscripted at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR.parent / ".env", overwrite=False)


def _str(name: str, default: str) -> str:
    """An env var whose empty value means "use the default" (as .env.example lists them empty)."""
    value: str = env.str(name, default="")
    return value or default


DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105 - refused when DEBUG is off
SECRET_KEY = _str("DJANGO_SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")

ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "sofia_checkout.core",
    "sofia_checkout.appointments",
    "sofia_checkout.payments",
    "sofia_checkout.checkout",
    "sofia_checkout.notifications",
]

MIDDLEWARE = [
    "sofia_checkout.core.middleware.RequestIdMiddleware",
    "sofia_checkout.core.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # After the security headers, before anything that checks the Host header.
    "sofia_checkout.core.middleware.HealthProbeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # The polled read's 304, ahead of the admin's middleware and DRF (checkout/early_not_modified.py).
    "sofia_checkout.checkout.early_not_modified.EarlyNotModifiedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database ------------------------------------------------------------------------------------
_SQLITE_PATH = BASE_DIR / "db.sqlite3"
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{_SQLITE_PATH}")
    if env.str("DATABASE_URL", default="")
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_SQLITE_PATH)}
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction starts and wait (busy timeout) instead of failing
    # mid-transaction with "database is locked"; WAL lets readers run beside one writer.
    # No transaction is ever open while a provider is called (payments/leases.py), so the write lock is
    # held for milliseconds; the busy timeout only has to cover a queue of such short writers (50 at once
    # in the race tests), not a provider's timeout and retries as it did while calls ran inside them.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.float("SQLITE_BUSY_TIMEOUT_SECONDS", default=10.0),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        # Parameters bound by the server, and a statement run a few times on a connection is prepared there:
        # PostgreSQL then skips parsing and planning it (about two thirds of its work for the polled read).
        # Off (0) behind a PgBouncer older than 1.21 in transaction mode, which cannot keep them.
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    _pool_max = env.int("DB_POOL_MAX_SIZE", default=10)
    if _pool_max > 0:
        # One bounded pool per process (psycopg_pool through Django 5.2), shared by its threads. A request
        # hands its connection back while it waits on a provider (sofia_checkout/core/db.py), so the pool is
        # bounded by database work, not by requests in flight (docs/decisions/0008). A pool rules out
        # persistent connections (CONN_MAX_AGE 0).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # Django's backend plus a pool check only for connections idle a while (core/postgres/base.py).
        DATABASES["default"]["ENGINE"] = "sofia_checkout.core.postgres"
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(env.int("DB_POOL_MIN_SIZE", default=2), _pool_max),
            "max_size": _pool_max,
            # How long a request waits for a free connection before it fails.
            "timeout": env.float("DB_POOL_TIMEOUT_SECONDS", default=10.0),
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Request bodies: the API takes small JSON; anything larger is refused with 413 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=64 * 1024)

# --- Cache ---------------------------------------------------------------------------------------
# The rate limits (DRF throttles) count in the default cache. Local memory is per process: right for one
# process only (`make run`, one gunicorn worker). Several workers or replicas must share Redis, or each
# counts on its own and a limit becomes workers x replicas times looser (start-up warns: gunicorn.conf.py).
# CACHE_URL takes any django-environ cache URL; REDIS_URL is the common name for the same thing.
CACHE_URL = _str("CACHE_URL", "") or _str("REDIS_URL", "")


def _cache_config(url: str) -> dict[str, Any]:
    config: dict[str, Any] = environ.Env.cache_url_config(url)
    # django-environ 0.14 leaves query options such as ?key_prefix= lower-case; Django reads upper-case.
    for name in ("key_prefix", "timeout", "version"):
        if name in config:
            config[name.upper()] = config.pop(name)
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        # An unreachable Redis costs a request at most a second (not a hung worker thread), and then the
        # rate limits fail open rather than the request failing (sofia_checkout/core/cache.py).
        config["BACKEND"] = "sofia_checkout.core.cache.FailOpenRedisCache"
        config.setdefault("OPTIONS", {}).update({"socket_connect_timeout": 1, "socket_timeout": 1})
    return config


CACHES: dict[str, dict[str, Any]] = {
    "default": _cache_config(CACHE_URL)
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sofia-checkout"}
}

# A name for this replica, answered as X-Backend-Replica on every response (empty: no header). Not secret:
# an operator's label such as "backend2", so a load balancer's spread can be seen from outside.
BACKEND_REPLICA_NAME = _str("BACKEND_REPLICA_NAME", "")

# --- API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["sofia_checkout.core.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sofia_checkout.core.exception_handler.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [],
    # Rate limits key on the client address: with 0 proxies REMOTE_ADDR, and a client-sent X-Forwarded-For
    # is ignored (else anyone could dodge the limits); behind N proxies, the Nth address from the right.
    "NUM_PROXIES": int(_str("TRUSTED_PROXY_COUNT", "0")),
    "DEFAULT_THROTTLE_RATES": {
        "booking": env.str("THROTTLE_BOOKING", default="30/min"),
        "payment_session": env.str("THROTTLE_PAYMENT_SESSION", default="60/min"),
        "sync": env.str("THROTTLE_SYNC", default="120/min"),
        # Reads of one appointment or payment session: the return page polls; nobody needs more.
        "appointment_read": env.str("THROTTLE_APPOINTMENT_READ", default="120/min"),
        # Only deliveries that fail authentication count: a provider's real retries are never slowed.
        "webhook_rejected": env.str("THROTTLE_WEBHOOK_REJECTED", default="30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sofia Health Checkout API",
    "DESCRIPTION": "Book an appointment and pay by card (Stripe Checkout) or HSA/FSA (Truemed).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "sofia_checkout.appointments.models.AppointmentStatus",
        "PaymentStatusEnum": "sofia_checkout.payments.statuses.PaymentStatus",
    },
}

CORS_ALLOWED_ORIGINS: list[str] = env.list(
    "CORS_ALLOWED_ORIGINS", default=["http://127.0.0.1:5173", "http://localhost:5173"]
)
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID", "ETag"]
# The SPA sends the access token (Authorization: allowed by default) and revalidates with If-None-Match.
CORS_ALLOW_HEADERS = (*default_cors_headers, "if-none-match")
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Production hardening (python manage.py check --deploy is clean with DJANGO_DEBUG=0) -----------
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Empty (as .env.example lists it) means on: only an explicit 0 turns the https redirect off.
    SECURE_SSL_REDIRECT = _str("DJANGO_SECURE_SSL_REDIRECT", "1").lower() in {"1", "true", "yes", "on"}
    # Health probes come over plain HTTP from inside the cluster / compose network.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$", r"^api/ready/$"]
    X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_SECURE_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# --- Checkout ------------------------------------------------------------------------------------
FRONTEND_BASE_URL = _str("FRONTEND_BASE_URL", "http://127.0.0.1:5173").rstrip("/")
APPOINTMENT_HOLD_MINUTES = env.int("APPOINTMENT_HOLD_MINUTES", default=60)
# Switching payment methods extends the hold to the new page's expiry, never past this after booking.
APPOINTMENT_HOLD_MAX_MINUTES = env.int("APPOINTMENT_HOLD_MAX_MINUTES", default=180)
# Payment sessions (both methods together) one booking may start.
PAYMENT_ATTEMPTS_MAX = env.int("PAYMENT_ATTEMPTS_MAX", default=8)
# Rejected (unauthenticated) webhook deliveries are kept this long (digest and a short prefix only).
WEBHOOK_REJECTED_RETENTION_DAYS = env.int("WEBHOOK_REJECTED_RETENTION_DAYS", default=7)
# Printed on receipts (and emails) as the seller.
CLINIC_NAME = _str("CLINIC_NAME", "Sofia Health")
# A patient may cancel a paid appointment (full refund), or move it, until this many hours before it starts.
CANCELLATION_REFUND_CUTOFF_HOURS = env.int("CANCELLATION_REFUND_CUTOFF_HOURS", default=24)
# A refund the provider accepted but has not confirmed this long after is flagged for staff.
REFUND_CONFIRM_HOURS = env.int("REFUND_CONFIRM_HOURS", default=48)
# The interactive API docs (Swagger UI): always in development, in production only when enabled.
API_DOCS_ENABLED: bool = env.bool("API_DOCS_ENABLED", default=DEBUG)
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=90)
BOOKING_MIN_LEAD_MINUTES = env.int("BOOKING_MIN_LEAD_MINUTES", default=60)
# Slot starts lie on this grid (minutes from local midnight in the practitioner's zone).
BOOKING_SLOT_STEP_MINUTES = env.int("BOOKING_SLOT_STEP_MINUTES", default=15)
# The longest date range one availability query may ask for.
AVAILABILITY_MAX_DAYS = env.int("AVAILABILITY_MAX_DAYS", default=31)
CURRENCY = _str("CURRENCY", "usd").lower()
PAYMENT_PROVIDERS: list[str] = env.list("PAYMENT_PROVIDERS", default=["stripe", "truemed"])
# Sessions stuck in open/processing longer than this are re-polled by the reconcile job.
RECONCILE_STALE_MINUTES = env.int("RECONCILE_STALE_MINUTES", default=15)

# --- Email ---------------------------------------------------------------------------------------
# One URL (django-environ): smtp://user:password@host:port, smtp+tls://... (STARTTLS), smtps://... (TLS).
# Default: the provider sandbox's mail sink on this machine (`make run` starts it; compose uses Mailpit).
# Messages are stored in the outbox first and sent after the commit; the reconcile job retries them.
_email = environ.Env.email_url_config(_str("EMAIL_URL", "smtp://127.0.0.1:1025"))
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.setdefault("EMAIL_HOST", None) or "localhost"
EMAIL_PORT = _email.setdefault("EMAIL_PORT", None) or 25
EMAIL_HOST_USER = _email.setdefault("EMAIL_HOST_USER", None) or ""
EMAIL_HOST_PASSWORD = _email.setdefault("EMAIL_HOST_PASSWORD", None) or ""
EMAIL_USE_TLS = bool(_email.setdefault("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.setdefault("EMAIL_USE_SSL", False))
# An unreachable mail server must not hold a webhook or the reconcile job for long.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT_SECONDS", default=5.0)
DEFAULT_FROM_EMAIL = _str("DEFAULT_FROM_EMAIL", "Sofia Health <appointments@sofia-health.example>")
# Outbox retries: the wait doubles from the first to the longest; after the last attempt the message is
# marked failed for staff (admin: retry) instead of being sent for ever.
EMAIL_RETRY_FIRST_SECONDS = env.int("EMAIL_RETRY_FIRST_SECONDS", default=60)
EMAIL_RETRY_MAX_SECONDS = env.int("EMAIL_RETRY_MAX_SECONDS", default=3600)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=30)

# --- Providers -----------------------------------------------------------------------------------
SANDBOX_BASE_URL = _str("SANDBOX_BASE_URL", "http://127.0.0.1:8100")
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=10.0)
PROVIDER_MAX_RETRIES = env.int("PROVIDER_MAX_RETRIES", default=2)

# Provider request limits (payments/provider_limits.py): requests per second per provider account
# ("global") and per endpoint, as the provider documents them; 0 means none. Defaults: Stripe's sandbox
# figures (25 and 25; live mode allows 100 per account: https://docs.stripe.com/rate-limits). Truemed
# publishes none: the same, until it tells us otherwise. Every replica shares one schedule (Redis cache).
PROVIDER_RATE_LIMITS: dict[str, dict[str, Any]] = {
    "stripe": {
        "global_per_second": env.int("STRIPE_RATE_LIMIT_PER_SECOND", default=25),
        "endpoint_per_second": env.int("STRIPE_ENDPOINT_RATE_LIMIT_PER_SECOND", default=25),
        "endpoints": {},
    },
    "truemed": {
        "global_per_second": env.int("TRUEMED_RATE_LIMIT_PER_SECOND", default=25),
        "endpoint_per_second": env.int("TRUEMED_ENDPOINT_RATE_LIMIT_PER_SECOND", default=25),
        "endpoints": {},
    },
}
# We send at most this share of a limit: room for clock jitter and the network bunching requests up.
PROVIDER_RATE_LIMIT_SAFETY = env.float("PROVIDER_RATE_LIMIT_SAFETY", default=0.92)
# A shopper's call waits at most this long for its turn, then answers 503 provider_busy with Retry-After.
PROVIDER_RATE_LIMIT_WAIT_SECONDS = env.float("PROVIDER_RATE_LIMIT_WAIT_SECONDS", default=1.5)
# Background calls (reconcile job, refunds) take only turns no shopper waits for, polling this long.
PROVIDER_RATE_LIMIT_BACKGROUND_WAIT_SECONDS = env.float(
    "PROVIDER_RATE_LIMIT_BACKGROUND_WAIT_SECONDS", default=3
)
# A provider's own 429 is retried with backoff (its Retry-After when given) for at most this long.
PROVIDER_BUSY_RETRY_SECONDS = env.float("PROVIDER_BUSY_RETRY_SECONDS", default=1.5)
# The cache that holds the shared schedule: Redis when configured (several processes), else per process.
PROVIDER_RATE_LIMIT_CACHE = _str("PROVIDER_RATE_LIMIT_CACHE", "default")

STRIPE_API_BASE = _str("STRIPE_API_BASE", f"{SANDBOX_BASE_URL}/stripe")
STRIPE_SECRET_KEY = _str("STRIPE_SECRET_KEY", "sk_test_sandbox")
STRIPE_WEBHOOK_SECRET = _str("STRIPE_WEBHOOK_SECRET", "whsec_sandbox_not_a_secret")

TRUEMED_API_BASE = _str("TRUEMED_API_BASE", f"{SANDBOX_BASE_URL}/truemed")
TRUEMED_API_KEY = _str("TRUEMED_API_KEY", "tm_sandbox_api_key")
TRUEMED_WEBHOOK_SECRET = _str("TRUEMED_WEBHOOK_SECRET", "tm_sandbox_webhook_secret")
TRUEMED_WEBHOOK_MODE = _str("TRUEMED_WEBHOOK_MODE", "legacy")
TRUEMED_SESSION_TTL_MINUTES = env.int("TRUEMED_SESSION_TTL_MINUTES", default=60)
STRIPE_SESSION_TTL_MINUTES = env.int("STRIPE_SESSION_TTL_MINUTES", default=60)

PAYMENTS_LIVE_MODE: bool = env.bool("PAYMENTS_LIVE_MODE", default=False)

# `python manage.py test` runs the pytest suite (tests/test_manage_py_test.py).
TEST_RUNNER = "config.test_runner.PytestTestRunner"

# The provider registry: each adapter class and the setting that feeds each of its constructor arguments.
_COMMON_PROVIDER_SETTINGS = {"timeout": "PROVIDER_TIMEOUT_SECONDS", "max_retries": "PROVIDER_MAX_RETRIES"}
PAYMENT_PROVIDER_ADAPTERS: dict[str, dict[str, Any]] = {
    "stripe": {
        "class": "sofia_checkout.payments.providers.stripe_checkout.adapter.StripeCheckoutProvider",
        "settings": {
            "secret_key": "STRIPE_SECRET_KEY",
            "webhook_secret": "STRIPE_WEBHOOK_SECRET",
            "api_base": "STRIPE_API_BASE",
            "session_ttl_minutes": "STRIPE_SESSION_TTL_MINUTES",
            **_COMMON_PROVIDER_SETTINGS,
        },
    },
    "truemed": {
        "class": "sofia_checkout.payments.providers.truemed.adapter.TruemedProvider",
        "settings": {
            "api_key": "TRUEMED_API_KEY",
            "api_base": "TRUEMED_API_BASE",
            "webhook_secret": "TRUEMED_WEBHOOK_SECRET",
            "webhook_mode": "TRUEMED_WEBHOOK_MODE",
            "session_ttl_minutes": "TRUEMED_SESSION_TTL_MINUTES",
            **_COMMON_PROVIDER_SETTINGS,
        },
    },
}

from config.startup_checks import check_provider_settings  # noqa: E402 - needs the values above

check_provider_settings(globals())

# --- Logging -------------------------------------------------------------------------------------
LOG_FORMAT = _str("LOG_FORMAT", "json")
LOG_LEVEL = _str("LOG_LEVEL", "INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "sofia_checkout.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in {"json", "text"} else "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "httpx": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
    },
}
