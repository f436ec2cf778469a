"""OpenIOP settings: one module, configured from the environment.

Environment variables (all optional for a local demo):
- DATABASE_URL: e.g. postgres://user:pass@host:5432/openiop (default: SQLite in var/)
- SECRET_KEY: required when DEBUG is off in production; a local key is generated in var/
- DEBUG: 1 to show Django's debug pages (default 0: the app's own error pages)
- ALLOWED_HOSTS: comma-separated (default: localhost names)
- OPENIOP_REQUIRE_MFA: 1 (default) makes staff confirm a TOTP code after the password
- OPENIOP_IDLE_MINUTES: idle logoff in minutes (default 15, HIPAA 164.312(a)(2)(iii))
- OPENIOP_TIME_ZONE: the clinic's default zone (default America/New_York)
- SECURE_SSL: 1 behind TLS: secure cookies, HSTS and redirect to https
- REDIS_URL: cache (rate limits, lockout) and sessions shared by several web nodes
- OPENIOP_AUDIT_KEY: the secret (32+ characters) keying the audit chains and signing their
  checkpoints; never stored in the database (a development key is generated in var/)
- OPENIOP_AUDIT_CHECKPOINT_DIR: where signed audit checkpoints are written (default
  var/audit-checkpoints; production: storage the database's users cannot rewrite)
- OPENIOP_TRUSTED_PROXIES: comma-separated addresses or networks of the reverse proxies
  whose X-Forwarded-For is believed (default: none, REMOTE_ADDR is the client)
- EMAIL_HOST (with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
  DEFAULT_FROM_EMAIL): send notification e-mail by SMTP; without EMAIL_HOST e-mail is
  printed to the console (`make run`)
- OPENIOP_SITE_URL: e.g. https://openiop.example.org, makes links in e-mail absolute
- OPENIOP_SMS_BACKEND: dotted path of the text-message provider class (default: console)
- OPENIOP_ENV: production refuses to start without SECRET_KEY, ALLOWED_HOSTS and a
  PostgreSQL DATABASE_URL, logs JSON lines, and keeps the cache in the database without Redis
- OPENIOP_METRICS_ALLOW: who may read /metrics (default this machine)
- OPENIOP_QUEUE_LAG_SECONDS: /readyz fails when a queued task waited longer (default 300)
- OPENIOP_JOB_STALE_SECONDS: a running job silent this long lost its worker and is queued
  again (default 600)
- OPENIOP_TASKS_BACKEND: immediate runs background jobs inside the request (scripts, tests)
- OPENIOP_LOG_FORMAT: json or plain (default json in production)
- OPENIOP_JWKS_HTTP_LOCALHOST: 1 lets a backend service's jwks_uri be plain http on
  localhost (default: as DEBUG; https is required otherwise)
- OPENIOP_API_PLAN_SECONDS: wall-clock limit of one weekly plan made through the JSON API
  (default 20, what the "Plan next week" page gives the engine)
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("OPENIOP_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def _local_secret(env_name: str, file_name: str) -> str:
    key = os.environ.get(env_name)
    if key:
        return key
    # A per-checkout key for development and the demo; production sets the variable.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / file_name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# OPENIOP_ENV=production refuses to start without the settings a real deployment needs
# (see "Runtime" below and docs/deploy.md) instead of falling back to development defaults.
OPENIOP_ENV = os.environ.get("OPENIOP_ENV", "development")
if OPENIOP_ENV not in ("development", "production"):
    raise ValueError(f"OPENIOP_ENV must be development or production, not {OPENIOP_ENV!r}")
PRODUCTION = OPENIOP_ENV == "production"


def _require_production_settings() -> None:
    from django.core.exceptions import ImproperlyConfigured

    missing = []
    if not os.environ.get("SECRET_KEY") or len(os.environ["SECRET_KEY"]) < 40:
        missing.append("SECRET_KEY (40 or more random characters)")
    if not os.environ.get("ALLOWED_HOSTS", "").strip():
        missing.append("ALLOWED_HOSTS (the site's host names, comma-separated)")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        missing.append("DATABASE_URL (a postgres:// URL)")
    if missing:
        raise ImproperlyConfigured("OPENIOP_ENV=production needs " + "; ".join(missing) + ".")


if PRODUCTION:
    _require_production_settings()
SECRET_KEY = _local_secret("SECRET_KEY", "secret_key")
# Keys the audit chains (HMAC) and signs their checkpoints: kept out of the database.
OPENIOP_AUDIT_KEY = _local_secret("OPENIOP_AUDIT_KEY", "audit_key")
OPENIOP_AUDIT_KEY_FROM_ENV = bool(os.environ.get("OPENIOP_AUDIT_KEY"))
OPENIOP_AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("OPENIOP_AUDIT_CHECKPOINT_DIR") or VAR_DIR / "audit-checkpoints")
# Reverse proxies whose X-Forwarded-For is believed (openiop.core.http.client_ip).
OPENIOP_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("OPENIOP_TRUSTED_PROXIES", "").split(",") if p.strip()
]
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    # Django's admin, for platform operators only (superusers; reads audited).
    "openiop.accounts.admin_site.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "ninja",
    "oauth2_provider",
    # OpenIOP apps, in dependency order (docs/DEVELOPING.md).
    "openiop.core",
    "openiop.accounts",
    "openiop.audit",
    "openiop.access",
    "openiop.organizations",
    "openiop.participants",
    "openiop.care",
    "openiop.notifications",
    "openiop.intake",
    "openiop.scheduling",
    "openiop.clinical",
    "openiop.skills",
    "openiop.medications",
    "openiop.outcomes",
    "openiop.billing",
    "openiop.finder",
    "openiop.portal",
    "openiop.dashboard",
    "openiop.api",
    "openiop.fhir",
    # The synthetic demo clinic: the top of the app map, imported by no other app.
    "openiop.demo",
    # Background work (see "Runtime: background jobs, health, production" below).
    "django_tasks",
    "django_tasks_db",
    "django_prometheus",
    "openiop.jobs",
]

MIDDLEWARE = [
    # Runtime (request ids for the logs, request metrics): see "Runtime" below.
    "openiop.core.logs.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "openiop.core.badinput.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "openiop.core.static.StaticFilesMiddleware",  # WhiteNoise (core/static.py)
    "csp.middleware.CSPMiddleware",
    # Django's, except that a failed session save never turns an answer into an error.
    "openiop.core.sessions.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "openiop.accounts.middleware.MFARequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "openiop.core.idempotency.IdempotencyMiddleware",
    "openiop.core.readonly.ReadOnlyDatabaseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "openiop.core.middleware.NoStoreMiddleware",
    # A read-only request asks who is on a participant's care team once, not once per check.
    "openiop.access.memo.DecisionMemoMiddleware",
    # Axes must be last: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "openiop.urls"
WSGI_APPLICATION = "openiop.wsgi.application"
ASGI_APPLICATION = "openiop.asgi.application"

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
                "openiop.core.context_processors.navigation",
                "openiop.core.readonly.read_only_banner",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'openiop.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the dev server read while the demo generator writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# After a database restart, each connection is checked before use instead of failing the
# first request of every worker.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
    # No JIT compilation: the planner prices the access and disclosure rules (correlated
    # EXISTS per row) above jit_above_cost for an ordinary page of a clinic of a thousand,
    # and compiling took 0.2 to 1.9 s of a FHIR search whose queries run in 20 to 50 ms.
    # PostgreSQL: "For short queries the added overhead of performing JIT compilation will
    # often be higher than the time it can save" (https://www.postgresql.org/docs/15/jit-decision.html).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
if os.environ.get("TEST_DATABASE_NAME") and DATABASES["default"]["ENGINE"] != (
    "django.db.backends.sqlite3"
):
    # Lets several checkouts run the PostgreSQL suite at once without sharing a test
    # database. SQLite tests stay in memory (a name there would be a shared file).
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}

if os.environ.get("OPENIOP_TEST_SQLITE_FILE") and DATABASES["default"]["ENGINE"] == (
    "django.db.backends.sqlite3"
):
    # Browser tests: a test database in a file (tmpfs), so that the live server's request
    # threads each open their own connection. With the in-memory default they share the
    # test's one sqlite3 connection, and two threads on one connection can deadlock the
    # whole process (one holds SQLite's mutex waiting for the GIL inside a Python SQL
    # function, the other holds the GIL waiting for the mutex).
    DATABASES["default"]["TEST"] = {"NAME": os.environ["OPENIOP_TEST_SQLITE_FILE"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:my_work"
LOGOUT_REDIRECT_URL = "accounts:login"

# Two-factor authentication for staff (django-otp TOTP). The demo may relax it.
OPENIOP_REQUIRE_MFA = env_bool("OPENIOP_REQUIRE_MFA", True)
OTP_TOTP_ISSUER = "OpenIOP"

# Lockout after repeated failed logins (django-axes).
AXES_FAILURE_LIMIT = env_int("OPENIOP_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("OPENIOP_LOCKOUT_MINUTES", 15))
# Each parameter on its own: too many failures for one username lock that account from
# every address (a password guesser moving between addresses), and too many from one
# address lock that address whatever usernames it tries (password spraying). NIST SP
# 800-63B section 5.2.2 (rate limiting per account).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The client address, believing X-Forwarded-For only from OPENIOP_TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "openiop.core.http.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# The JSON API's weekly planning (POST /api/scheduling/plans, a background job) gives the
# CP-SAT engine at most this long; the engine also stops on its own deterministic work limit.
OPENIOP_API_PLAN_SECONDS = float(os.environ.get("OPENIOP_API_PLAN_SECONDS") or 20)

# Idle logoff: the session cookie expires after this many idle minutes
# (HIPAA 45 CFR 164.312(a)(2)(iii), automatic logoff, addressable).
OPENIOP_IDLE_MINUTES = env_int("OPENIOP_IDLE_MINUTES", 15)
SESSION_COOKIE_AGE = OPENIOP_IDLE_MINUTES * 60
# Not every request: openiop.core.sessions.SessionMiddleware renews the idle expiry when the
# last write is over a minute old (the idle logoff comes 14 to 15 minutes after the last
# request by default; the slack is documented there).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_SSL", False):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp 4): every asset is served by the app itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-elem": ["'self'"],
        # Style attributes only (positions in the week grid, meter widths); they cannot run
        # script. <style> elements and all inline script stay blocked.
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("OPENIOP_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the app's static folders so a fresh checkout needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache",
         "LOCATION": os.environ["REDIS_URL"]}
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Logging: requests and errors only. Clinical content is never logged: loggers get ids, and
# the scrub filter removes row contents quoted by database errors (core/logs.py). JSON lines
# with the request id in production (OPENIOP_LOG_FORMAT=json|plain overrides).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "openiop.core.logs.RequestIdFilter"},
        "scrub": {"()": "openiop.core.logs.ScrubDatabaseDetail"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "openiop.core.logs.JsonFormatter"},
    },
    "handlers": {"console": {
        "class": "logging.StreamHandler", "filters": ["request_id", "scrub"],
        "formatter": os.environ.get("OPENIOP_LOG_FORMAT") or ("json" if PRODUCTION else "plain"),
    }},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"openiop": {"level": os.environ.get("OPENIOP_LOG_LEVEL", "INFO")}},
}

# Demo mode (make run): shows the demo banner on the login page.
OPENIOP_DEMO = env_bool("OPENIOP_DEMO", False)


# Notifications (openiop.notifications): e-mail through Django's backend, SMS through a
# provider class. Messages carry no clinical content.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OpenIOP <no-reply@localhost>")
OPENIOP_SITE_URL = os.environ.get("OPENIOP_SITE_URL", "")
# A backend service's keys at an http jwks_uri: loopback only, for development (fhir/jwks.py).
OPENIOP_JWKS_HTTP_LOCALHOST = env_bool("OPENIOP_JWKS_HTTP_LOCALHOST", DEBUG)
OPENIOP_COUNT_POLL_SECONDS = 60  # the navigation's My work count; not user activity
OPENIOP_SMS_BACKEND = os.environ.get("OPENIOP_SMS_BACKEND",
                                     "openiop.notifications.sms.ConsoleSMSBackend")

# OAuth2 for SMART on FHIR clients (django-oauth-toolkit): authorization code with PKCE
# (S256) and refresh tokens, and client credentials with a signed JWT for backend
# services (five-minute tokens); the scopes and launch context are SMART's
# (openiop.fhir.smart, openiop.fhir.oauth).


# django-oauth-toolkit's own models (its defaults), named so that openiop.fhir's models can
# point at them in migrations.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model name)
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105 (a model name)
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105 (a model name)


def _access_token_seconds(request: object) -> int:
    from openiop.fhir.oauth import token_lifetime

    return token_lifetime(request)


OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "SCOPES_BACKEND_CLASS": "openiop.fhir.smart.SmartScopes",
    "OAUTH2_VALIDATOR_CLASS": "openiop.fhir.oauth.SmartValidator",
    "EXTRA_SERVER_KWARGS": {"token_expires_in": _access_token_seconds},
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
}

# ------------------------------------------------------------------------------------------
# Runtime: background jobs, health, production (docs/deploy.md)
# ------------------------------------------------------------------------------------------
# Background tasks (django-tasks, Django's task API) on the database backend: the queue is a
# table in the same database (SQLite for `make run`, PostgreSQL in production), so a job is
# enqueued in the same transaction as the row that asks for it. Workers: `openiop worker`.
# OPENIOP_TASKS_BACKEND=immediate runs every task inside the request (tests, scripts).
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if os.environ.get("OPENIOP_TASKS_BACKEND") == "immediate"
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# FHIR Bulk Data $export: where the NDJSON files are written, and how many hours they are
# kept after the export finishes (a periodic job removes them; docs/FHIR.md).
OPENIOP_EXPORT_DIR = Path(os.environ.get("OPENIOP_EXPORT_DIR") or VAR_DIR / "exports")
OPENIOP_EXPORT_HOURS = env_int("OPENIOP_EXPORT_HOURS", 24)

# PDFs with more than this many characters of content (about fifteen pages) are prepared
# by a background job instead of in the request; the file is kept OPENIOP_DOWNLOAD_HOURS
# for the user who asked (openiop.jobs.downloads, docs/deploy.md).
OPENIOP_PDF_BACKGROUND_CHARS = env_int("OPENIOP_PDF_BACKGROUND_CHARS", 40_000)
OPENIOP_DOWNLOAD_DIR = Path(os.environ.get("OPENIOP_DOWNLOAD_DIR") or VAR_DIR / "downloads")
OPENIOP_DOWNLOAD_HOURS = env_int("OPENIOP_DOWNLOAD_HOURS", 24)

# Who may read /metrics (Prometheus): addresses or networks, comma-separated.
OPENIOP_METRICS_ALLOW = [
    p.strip() for p in os.environ.get("OPENIOP_METRICS_ALLOW", "127.0.0.1/32,::1/128").split(",")
    if p.strip()
]
# /readyz fails when the oldest queued task has waited longer than this (no worker keeps up).
OPENIOP_QUEUE_LAG_SECONDS = env_int("OPENIOP_QUEUE_LAG_SECONDS", 300)
# A running job whose worker reported nothing for this long is queued again (its worker
# died). Keep it well above the longest silence of a healthy job (a plan's solve is 20 s).
OPENIOP_JOB_STALE_SECONDS = env_int("OPENIOP_JOB_STALE_SECONDS", 600)

# Sessions and cache: Redis when REDIS_URL is set (shared by every web node; sessions survive
# moving between nodes). Otherwise sessions stay in the database, and the cache is the
# database in production (shared) or process memory for `make run`.
if os.environ.get("REDIS_URL"):
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
elif PRODUCTION:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "openiop_cache"}}

if PRODUCTION:
    DEBUG = False  # never Django's debug pages (they show settings and local variables)

# Behind PgBouncer in transaction pooling mode: no server-side cursors (a cursor cannot
# outlive the pooled transaction that opened it).
if env_bool("OPENIOP_PGBOUNCER", False):
    for _alias in DATABASES.values():
        _alias["DISABLE_SERVER_SIDE_CURSORS"] = True

# A PostgreSQL read replica for the finder and reports (core/dbrouter.py, docs/deploy.md).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["openiop.core.dbrouter.ReplicaRouter"]
OPENIOP_REPLICA_APPS = [
    a.strip() for a in os.environ.get("OPENIOP_REPLICA_APPS", "finder").split(",") if a.strip()
]
