"""BizValue settings: environment variables only, with safe defaults for the embedded mode.

Embedded mode (the default, `make run`): SQLite in `var/`, a filesystem Celery transport,
DEBUG on. Production sets DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS and DEBUG=0; the app refuses to start with DEBUG off on the default key.
"""

import base64
import binascii
import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BIZVALUE_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


INSECURE_DEFAULT_SECRET_KEY = "embedded-mode-only-not-a-secret"  # noqa: S105

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
if not DEBUG and (SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "governance",
    "roi",
    "dashboards",
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before host validation and the HTTPS redirect: probes
    # come over plain HTTP to the instance's own address (bizvalue.health).
    "bizvalue.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # NUL and lone surrogates in headers, cookies, path, query and form parameters are a 400.
    "governance.middleware.UnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware, whose APPEND_SLASH would redirect API paths (governance.middleware).
    "governance.middleware.ApiRoutingMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user verified when this session entered a TOTP token (governance.mfa).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: signs out an elevated session past its idle or absolute limit, saying why.
    "governance.session_limits.ElevatedSessionLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "governance.middleware.PlatformAdminScopeMiddleware",
    # Last, so a locked-out login never reaches the view.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Serves collected static files in production; runserver does it in embedded mode.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "bizvalue.urls"
WSGI_APPLICATION = "bizvalue.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.tenancy",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL is the role the application connects as. On PostgreSQL that role must own
# no table and lack BYPASSRLS, so row-level security applies to it; migrations run with
# the owner's DATABASE_URL and grant DATABASE_APP_ROLE what the application needs.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'bizvalue.sqlite3'}"),
        conn_max_age=0,
    )
}
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "bizvalue_app")


def postgres_fail_fast_options() -> dict[str, object]:
    """libpq options that make a dead, half-open or stalled database fail a request in seconds.

    Without them a connection whose peer vanished (a failover, a dropped NAT entry) blocks
    the worker until gunicorn kills it at 30 s, and the client gets a dropped connection
    instead of a 503. `connect_timeout` bounds a new connection, `tcp_user_timeout` bounds
    data the server never acknowledges (a half-open connection mid-COPY), keepalives find a
    silent peer while a query runs, and `statement_timeout` / `lock_timeout` bound the
    server side (0 turns one off: the migrate job does). Each ends in an OperationalError,
    answered 503 with Retry-After (governance.errors).
    """
    network = {
        "keepalives_idle": env_int("DATABASE_KEEPALIVES_IDLE", 5),
        "keepalives_interval": env_int("DATABASE_KEEPALIVES_INTERVAL", 2),
        "keepalives_count": env_int("DATABASE_KEEPALIVES_COUNT", 3),
        "tcp_user_timeout": env_int("DATABASE_TCP_USER_TIMEOUT_MS", 10_000),
    }
    server = {
        "statement_timeout": env_int("DATABASE_STATEMENT_TIMEOUT_MS", 25_000),  # under gunicorn's 30 s
        "lock_timeout": env_int("DATABASE_LOCK_TIMEOUT_MS", 10_000),
        # The server watches the connection as well, so a vanished worker's transaction and
        # its locks end in seconds, not after the kernel's two-hour keepalive.
        **{name.replace("keepalives", "tcp_keepalives"): value for name, value in network.items()},
    }
    return {
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5),
        "keepalives": 1,
        **network,
        "options": " ".join(f"-c {name}={value}" for name, value in server.items()),
    }


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's pool: connections are reused across requests, so the tenant must never
    # outlive a transaction (see governance.tenancy). What DATABASE_URL's query string sets
    # (sslmode, a timeout of its own) is kept and wins over the defaults.
    DATABASES["default"]["OPTIONS"] = {
        **postgres_fail_fast_options(),
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env_int("DATABASE_POOL_MIN", 1),
            "max_size": env_int("DATABASE_POOL_MAX", 10),
            "timeout": 10,
        },
    }
    # The pool pings a connection before a request gets it: after a database restart the
    # broken ones are replaced, so a client's first retry already succeeds.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # Every transaction takes SQLite's write lock when it begins (BEGIN IMMEDIATE), so the
    # embedded mode's writers queue (for up to `timeout` seconds) instead of racing: a
    # deferred transaction that read before writing could fail, or act on what it read
    # while another wrote. `governance.stores.sqlite` relies on it for every lock it skips.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
# Cross-tenant work (Django admin for superusers, platform audit events, `all_tenants_scope`)
# connects as a second role with BYPASSRLS that the application's role cannot become: no
# setting the application's role can change widens what it sees (governance.tenancy).
# Unset, it is DATABASE_URL's server and database as DATABASE_PLATFORM_ROLE, no password.
DATABASE_PLATFORM_ROLE = env_str("DATABASE_PLATFORM_ROLE", "bizvalue_platform")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["platform"] = (
        dj_database_url.parse(os.environ["DATABASE_PLATFORM_URL"], conn_max_age=0)
        if os.environ.get("DATABASE_PLATFORM_URL")
        else {**DATABASES["default"], "USER": DATABASE_PLATFORM_ROLE, "PASSWORD": ""}
    )
    # Admin traffic is light: its own short connections, not a second pool per process.
    DATABASES["platform"]["OPTIONS"] = {k: v for k, v in DATABASES["default"]["OPTIONS"].items() if k != "pool"}
    DATABASES["platform"]["CONN_MAX_AGE"] = 0
DATABASE_ROUTERS = ["governance.tenancy.PlatformScopeRouter"]
# The key that signs the tenant setting (`app.tenant_id` = "<id>:<HMAC>", governance.rls), so
# a session of the application's role cannot name another tenant by itself. `migrate` copies
# it into a table only the owner reads; unset, it is derived from SECRET_KEY.
DATABASE_RLS_KEY = (
    env_str("DATABASE_RLS_KEY", "") or hashlib.sha256(f"bizvalue-rls-tenant-proof:{SECRET_KEY}".encode()).hexdigest()
)
if len(DATABASE_RLS_KEY) < 32:
    raise ImproperlyConfigured("DATABASE_RLS_KEY must be at least 32 characters (a random value)")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Ledger chain heads, one JSON line per good verification, kept outside the database so a
# truncated or rewritten chain is caught (governance.anchors). Point it at storage the
# database's administrators cannot rewrite, or ship it to the auditors.
LEDGER_ANCHOR_FILE = Path(env_str("LEDGER_ANCHOR_FILE", str(VAR_DIR / "ledger-anchors.jsonl")))
# /readyz answers from a check made at most this many seconds ago (bizvalue.health): an
# unauthenticated probe cannot make a process open database connections at will.
READINESS_CHECK_EVERY_SECONDS = env_int("READINESS_CHECK_EVERY_SECONDS", 2)
# How often beat anchors every tenant's chain head: the longest a new tail can be rewritten or
# cut unseen (an hour at most by default; reports anchor too).
LEDGER_ANCHOR_INTERVAL_SECONDS = env_int("LEDGER_ANCHOR_INTERVAL_SECONDS", 3600)
# A verification recomputing more items (and checking more stored rows) than this runs as a
# worker task the API answers 202 for, instead of inside the request.
LEDGER_VERIFY_INLINE_WORK = env_int("LEDGER_VERIFY_INLINE_WORK", 20000)
if LEDGER_ANCHOR_INTERVAL_SECONDS < 1:
    raise ImproperlyConfigured("LEDGER_ANCHOR_INTERVAL_SECONDS must be a positive number of seconds")

# --- Auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_ANONYMOUS_USER_NAME = None
ANONYMOUS_USER_NAME = None

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

# --- Security -------------------------------------------------------------------------
# Django's database sessions, read with hand-written SQL (governance.sessions).
SESSION_ENGINE = "governance.sessions"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Sessions of people who must pass MFA end after this long without a request, and this long
# after signing in, whichever comes first (governance.session_limits); others keep
# SESSION_COOKIE_AGE.
_idle_minutes = env_int("ELEVATED_SESSION_IDLE_MINUTES", 30)
_max_hours = env_int("ELEVATED_SESSION_MAX_HOURS", 12)
if min(_idle_minutes, _max_hours) < 1:
    raise ImproperlyConfigured("ELEVATED_SESSION_IDLE_MINUTES and ELEVATED_SESSION_MAX_HOURS must be at least 1")
ELEVATED_SESSION_IDLE_TIMEOUT = timedelta(minutes=_idle_minutes)
ELEVATED_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=_max_hours)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No inline script, style or handler anywhere (tests/test_csp.py scans the templates): an
# injected tag or attribute runs nothing, and injected CSS cannot read the page out through
# attribute selectors. Charts are SVG with presentation attributes, which CSP leaves alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Swagger UI's icons are data: URIs in its stylesheet
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 20 * 1024 * 1024)

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Generated reports. Never served as public media: downloads go through tenant-scoped views.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- E-mail ---------------------------------------------------------------------------
# EMAIL_URL (smtp://user:password@host:587?tls=1, console://, file:///path) or the
# individual EMAIL_* variables; the console backend in embedded mode.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "BizValue <bizvalue@localhost>")
if EMAIL_URL := env_str("EMAIL_URL", ""):
    from urllib.parse import parse_qs, unquote, urlsplit

    _email = urlsplit(EMAIL_URL)
    _email_query = {key: values[-1] for key, values in parse_qs(_email.query).items()}
    if _email.scheme in {"smtp", "smtps"}:
        EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        EMAIL_HOST = _email.hostname or "localhost"
        EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 25)
        EMAIL_HOST_USER = unquote(_email.username or "")
        EMAIL_HOST_PASSWORD = unquote(_email.password or "")
        EMAIL_USE_SSL = _email.scheme == "smtps"
        EMAIL_USE_TLS = _email_query.get("tls", "") in {"1", "true", "yes", "on"}
    elif _email.scheme == "console":
        EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    elif _email.scheme == "file":
        EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
        EMAIL_FILE_PATH = _email.path or str(VAR_DIR / "mail")
    else:
        raise ImproperlyConfigured(f"EMAIL_URL scheme must be smtp, smtps, console or file, not {_email.scheme!r}")

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["governance.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "governance.schema.AutoSchema",
    "EXCEPTION_HANDLER": "governance.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PAGINATION_CLASS": "governance.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BizValue API",
    "DESCRIPTION": "IT operations turned into business value, with every figure traceable to the ledger.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "MemberRoleEnum": "governance.roles.Role.choices",
        "KeyRoleEnum": "governance.roles.KeyRole.choices",
        "AuditKindEnum": "governance.models.AuditKind.choices",
        # Two `kind` fields (audit events, reports) need a name each.
        "ReportKindEnum": "dashboards.models.ReportKind.choices",
    },
}

# --- Celery ---------------------------------------------------------------------------
# Redis in production; in embedded mode kombu's filesystem transport gives a real worker
# and beat without any server.
REDIS_URL = env_str("REDIS_URL", "")
CELERY_DATA_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A dead or unreachable Redis fails a publish in seconds instead of holding a request.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600, "socket_connect_timeout": 3}
    CELERY_BROKER_CONNECTION_TIMEOUT = 3
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3
else:
    for folder in ("out", "processed", "results", "control"):
        (CELERY_DATA_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "out"),
        "data_folder_out": str(CELERY_DATA_DIR / "out"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        # Broadcast and remote-control messages (kombu keeps them in ./control otherwise).
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_DATA_DIR / 'results'}"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "revoke-expired-api-keys": {
        "task": "governance.tasks.api_keys_revoke_expired_all_tenants",
        "schedule": 3600.0,
    },
    # Nightly, quiet hours: rollups recomputed from raw events, so any drift lives a day at most.
    "rebuild-rollups": {
        "task": "roi.tasks.rebuild_rollups_all_tenants",
        "schedule": crontab(hour=3, minute=30),
    },
    # After the rollup rebuild: each tenant's just-closed month, quarter and year (idempotent).
    "make-closed-period-reports": {
        "task": "dashboards.tasks.reports_make_closed_all_tenants",
        "schedule": crontab(hour=4, minute=30),
    },
    # Reports whose delivery a request could not enqueue (Redis down) are sent from here.
    "deliver-pending-reports": {
        "task": "dashboards.tasks.reports_deliver_pending_all_tenants",
        "schedule": 600.0,
    },
    # Ledger chain heads anchored outside the database: bounds the window for an unseen rewrite.
    "anchor-ledger-heads": {
        "task": "governance.tasks.ledger_anchor_heads_all_tenants",
        "schedule": float(LEDGER_ANCHOR_INTERVAL_SECONDS),
    },
    # KPI alerts, hourly (and after each ingestion): catches the week and month turning over.
    "evaluate-alerts": {
        "task": "dashboards.tasks.alerts_evaluate_all_tenants",
        "schedule": crontab(minute=5),
    },
}
# Alert webhooks to private, loopback or link-local addresses are refused (a tenant admin
# sets the URL); `1` lets private and loopback ones through, for on-premise chat servers on
# the local network (link-local, the metadata service's, never: governance.outbound).
ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS", False)

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

CSRF_FAILURE_VIEW = "governance.errors.csrf_failure"

# History is evidence: it is read, never rolled back from admin.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Field encryption -----------------------------------------------------------------
# Integration secrets are stored encrypted (AES-256-GCM, governance.secrets).
# FIELD_ENCRYPTION_KEYS="id1:base64key,id2:base64key": the first key encrypts, every key
# decrypts, so a new key goes first and the old one stays until `rotate_encryption_key`
# has run. The embedded default is derived from SECRET_KEY; production must set its own.
FIELD_ENCRYPTION_KEY_BYTES = 32


def env_encryption_keys(name: str, fallback_secret: str) -> dict[str, bytes]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        if not DEBUG:
            raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see docs/integration-guide.md)")
        derived = hashlib.sha256(f"bizvalue-field-encryption:{fallback_secret}".encode()).digest()
        return {"embedded": derived}
    keys: dict[str, bytes] = {}
    for entry in raw.split(","):
        key_id, _, encoded = entry.strip().partition(":")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", key_id) or key_id in keys:
            raise ImproperlyConfigured(f"{name}: {key_id!r} is not a unique key id (letters, digits, _ . -)")
        encoded = encoded.strip().translate(str.maketrans("-_", "+/"))  # standard or URL-safe alphabet
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != FIELD_ENCRYPTION_KEY_BYTES:
            raise ImproperlyConfigured(f"{name}: key {key_id!r} must be {FIELD_ENCRYPTION_KEY_BYTES} bytes, base64")
        keys[key_id] = key
    return keys


FIELD_ENCRYPTION_KEYS = env_encryption_keys("FIELD_ENCRYPTION_KEYS", SECRET_KEY)
