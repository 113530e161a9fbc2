"""Settings shared by every environment. Everything an operator may change comes from
the environment; README.md lists each variable."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# --------------------------------------------------------------------------- core
SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://localhost:8000").rstrip("/")

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_filters",
    "django_htmx",
    "csp",
]
LOCAL_APPS = [
    "accounts",
    "customers",
    "cases",
    "jobs",
    "notifications",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# Development-only apps and middleware (the benchmark's) are added by local.py, test.py and
# bench.py, never here: production runs without them.
MIDDLEWARE = [
    "portal.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.middleware.QueryStringNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.multi_account.MultiAccountMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "accounts.context_processors.portal",
            ],
        },
    },
]

# --------------------------------------------------------------------------- database
# Without DATABASE_URL the portal runs on SQLite so that a newcomer needs nothing else.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs 10-100 ms a query and pays off only for long analytical
    # queries; the portal runs short indexed ones (docs/performance.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are PostgreSQL's; SQLite, the local demo, ignores the extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --------------------------------------------------------------------------- cache, sessions
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Fails safe: a Redis outage is logged and the rate limiters let requests through.
            "BACKEND": "portal.cache.FailSafeRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database: web processes keep no local state (SPEC §10), and
# ending every session of a suspended user is a single delete.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12

# --------------------------------------------------------------------------- auth (django-allauth)
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
# The sign-in page stays reachable while signed in: that is how a partner adds the
# account of another domain (accounts/multi_account.py).
ACCOUNT_AUTHENTICATED_LOGIN_REDIRECTS = False
# Failures slow the attacking client, never the account's owner (issue 16): the `key` of
# `login_failed` is the address *and* the client (accounts.adapters), so five wrong
# passwords refuse that address from that client only; per address across all clients
# there are only growing delays (LOGIN_ACCOUNT_DELAY_*). The client is REMOTE_ADDR, or
# the address TRUSTED_PROXY_COUNT hops from the right of X-Forwarded-For.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Reseller support portal"

# --------------------------------------------------------------------------- i18n
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates by each language's own rules (portal/formats; shown through portal.when).
FORMAT_MODULE_PATH = ["portal.formats"]
# A refused form in the product's layout and the user's language (issue 12).
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --------------------------------------------------------------------------- static and uploads
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads live outside the web root and are never served by URL: only the authorising
# download view reads them (SPEC §8).
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "uploads")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 100 * 1024 * 1024)
# Files chosen on a form that came back with an error wait this long for the final submit;
# the periodic job removes older ones (cases/tasks.py).
PENDING_UPLOAD_HOURS = env_int("PENDING_UPLOAD_HOURS", 24)
# Page uploads are counted while they stream and stopped at the limit (cases/uploads.py),
# then held in memory up to 2 MB and on disk beyond.
FILE_UPLOAD_HANDLERS = [
    "cases.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Stored files are readable by the portal's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --------------------------------------------------------------------------- product rules
CASE_REOPEN_DAYS = env_int("CASE_REOPEN_DAYS", 30)
CASE_AUTO_CLOSE_DAYS = env_int("CASE_AUTO_CLOSE_DAYS", 7)
CASE_NUMBER_BASE = 40_000_000
# Next-response targets in hours per support tier and severity: after every customer-side
# reply support owes the next reply within this (SPEC §4; the first-response table is the
# model). CASE_NEXT_RESPONSE_HOURS_<TIER>="P1,P2,P3,P4" overrides one tier (P0 takes P1's).
_NEXT_RESPONSE_DEFAULTS = {"STANDARD": "8,16,48,48", "ENHANCED": "2,8,16,16", "PREMIUM": "0.5,4,8,16"}


def _hours_row(tier: str) -> dict[str, float]:
    values = [
        float(v) for v in env(f"CASE_NEXT_RESPONSE_HOURS_{tier}", _NEXT_RESPONSE_DEFAULTS[tier]).split(",")
    ]
    return {"P0": values[0], "P1": values[0], "P2": values[1], "P3": values[2], "P4": values[3]}


CASE_NEXT_RESPONSE_HOURS = {tier: _hours_row(tier) for tier in _NEXT_RESPONSE_DEFAULTS}
# Calls per minute one API token may make; more answer 429 RESOURCE_EXHAUSTED (0: no limit).
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600)

# --------------------------------------------------------------------------- exports and background jobs
# A case export of more rows than this runs as a background job (jobs app) instead of
# streaming from the request: decided with a count bounded at this many rows. 20,000
# rows stream in about 2 s, far within the web worker's timeout (docs/deployment.md).
EXPORT_STREAM_MAX_ROWS = env_int("EXPORT_STREAM_MAX_ROWS", 20_000)
EXPORT_CHUNK_ROWS = env_int("EXPORT_CHUNK_ROWS", 5000)  # rows per fetch from the server-side cursor
EXPORT_MAX_ROWS_PER_SECOND = env_int("EXPORT_MAX_ROWS_PER_SECOND", 0)  # 0: as fast as it goes
JOB_FILE_SECONDS = env_int("JOB_FILE_SECONDS", 24 * 3600)  # a job's file is deleted after a day
JOB_PROGRESS_SECONDS = 0.5  # how often a running job writes its progress
JOB_POLL_SECONDS = 1  # how often the progress component asks
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)  # taken up this often (its worker died), it fails
JOB_REUSE_SECONDS = 300  # the same request again within this time returns the same job
JOB_HEARTBEAT_MAX_SECONDS = env_int("JOB_HEARTBEAT_MAX_SECONDS", 15 * 60)  # silent this long: lost
JOB_QUEUED_MAX_SECONDS = env_int("JOB_QUEUED_MAX_SECONDS", 6 * 3600)  # never taken up: lost
JOB_TIME_LIMIT_SECONDS = env_int("JOB_TIME_LIMIT_SECONDS", 30 * 60)

# --------------------------------------------------------------------------- mail
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# With EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend every mail is written
# as a file into this directory (a demo or staging machine without an SMTP server).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Reseller support portal <support@portal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
OPERATOR_EMAILS = env_list("OPERATOR_EMAILS", "operators@portal.example")
# Seconds an SMTP conversation may stall before the send counts as failed (and is retried).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# --------------------------------------------------------------------------- notifications
# Replies go to <REPLY_EMAIL_LOCALPART>+<case number>.<token>@<REPLY_EMAIL_DOMAIN>; that
# domain also names our Message-IDs. docs/notifications.md explains the whole flow.
REPLY_EMAIL_DOMAIN = env("REPLY_EMAIL_DOMAIN", "portal.example").lower()
REPLY_EMAIL_LOCALPART = env("REPLY_EMAIL_LOCALPART", "reply").lower()
# The SMTP/LMTP listener for replies (`manage.py mail_listener`).
MAIL_LISTENER_HOST = env("MAIL_LISTENER_HOST", "127.0.0.1")
MAIL_LISTENER_PORT = env_int("MAIL_LISTENER_PORT", 2525)
# Changes to one case within this many seconds reach each recipient as one mail listing
# them all (issue 13). Without a broker (the SQLite demo: no beat to send later) mail
# leaves at once.
NOTIFICATION_COALESCE_SECONDS = env_int("NOTIFICATION_COALESCE_SECONDS", 120 if REDIS_URL else 0)
# Escalations of cases nobody is assigned to are mailed here (assigned ones to the engineer).
SUPPORT_ESCALATION_EMAIL = env("SUPPORT_ESCALATION_EMAIL", "escalations@support.example").lower()
# On a periodic job's first run, nothing that fell due longer ago than this is mailed.
JOB_FIRST_RUN_LOOKBACK_SECONDS = env_int("JOB_FIRST_RUN_LOOKBACK_SECONDS", 600)
# Outbox rows still pending this many seconds after they were due are queued again by the sweep.
OUTBOX_SWEEP_AGE_SECONDS = env_int("OUTBOX_SWEEP_AGE_SECONDS", 60)
# One mail is tried at most this often; waits double from the backoff up to its cap.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_RETRY_BACKOFF_SECONDS = env_int("OUTBOX_RETRY_BACKOFF_SECONDS", 30)
OUTBOX_RETRY_BACKOFF_MAX_SECONDS = env_int("OUTBOX_RETRY_BACKOFF_MAX_SECONDS", 3600)
# The reminder goes this many days before a waiting case is closed automatically.
CASE_AUTO_CLOSE_REMINDER_DAYS = env_int("CASE_AUTO_CLOSE_REMINDER_DAYS", 2)

# --------------------------------------------------------------------------- celery
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TIMEZONE = "UTC"
# Exactly one beat runs these; each job is safe to run twice at once (row locks, SKIP LOCKED).
# A run that no worker picked up before the next one is due expires instead of piling up.
CELERY_BEAT_SCHEDULE: dict = {
    "outbox-sweep": {
        "task": "notifications.tasks.outbox_sweep",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "first-response-breaches": {
        "task": "notifications.tasks.cases_flag_first_response_breaches",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "next-response-breaches": {
        "task": "notifications.tasks.cases_flag_next_response_breaches",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "auto-close": {
        "task": "notifications.tasks.cases_auto_close",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    "jobs-cleanup": {
        "task": "jobs.tasks.jobs_cleanup",
        "schedule": 10 * 60.0,
        "options": {"expires": 9 * 60},
    },
    "mark-locked": {
        "task": "notifications.tasks.cases_mark_locked",
        "schedule": 60 * 60.0,
        "options": {"expires": 59 * 60},
    },
    "pending-uploads-expire": {
        "task": "cases.tasks.pending_uploads_expire",
        "schedule": 60 * 60.0,
        "options": {"expires": 59 * 60},
    },
}

# --------------------------------------------------------------------------- security headers
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --------------------------------------------------------------------------- logging
LOG_JSON = env_bool("LOG_JSON", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}


# --------------------------------------------------------------------------- hardening (issue 16)
# Every account signed in in a browser lives in its server-side session
# (accounts/multi_account.py); allauth's user sessions let each owner list and end them.
INSTALLED_APPS += ["allauth.usersessions"]
# The session cookie lives as long as the browser: closing it signs every account out.
ACCOUNT_SESSION_REMEMBER = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Proxies of our own in front of the portal that append to X-Forwarded-For (0: none; the
# client is REMOTE_ADDR). Behind one load balancer: 1. docs/deployment.md.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Per address, across clients: no wait for the first failures, then 0.25 s doubling up to
# the cap, while failures keep coming within the window. Never a refusal.
LOGIN_ACCOUNT_DELAY_AFTER = env_int("LOGIN_ACCOUNT_DELAY_AFTER", 5)
LOGIN_ACCOUNT_DELAY_MAX_SECONDS = float(env("LOGIN_ACCOUNT_DELAY_MAX_SECONDS", "2"))
LOGIN_ACCOUNT_DELAY_WINDOW_SECONDS = env_int("LOGIN_ACCOUNT_DELAY_WINDOW_SECONDS", 15 * 60)
# Two-step verification required for super admins, support engineers and Django admin
# operators (accounts/mfa.py). On in production; off here and in the local demo (README).
MFA_REQUIRED = env_bool("MFA_REQUIRED", False)
# After the multi-account middleware (the account acting) and messages (it leaves one).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "accounts.mfa.MfaRequiredMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("accounts.multi_account.MultiAccountMiddleware") + 1,
    "accounts.middleware.NoStoreWhenSignedInMiddleware",
)
