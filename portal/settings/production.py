"""Production: everything from the environment, secure cookies and HTTPS, JSON logs.
`manage.py check --deploy --settings=portal.settings.production` is clean."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, env_bool, env_int, env_list

DEBUG = False

# --------------------------------------------------------------------------- required configuration
# Production refuses to start rather than fall back to what only suits a laptop: SQLite, a
# per-process cache (the API rate limit would count per process), tasks run inside web requests,
# a known secret, any host name, mail links to localhost. One error names everything missing.
_missing: list[str] = []

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    _missing.append("DJANGO_SECRET_KEY must be set to a random string of at least 50 characters.")

_database_url = env("DATABASE_URL")
if not _database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
    _missing.append("DATABASE_URL must point at PostgreSQL (postgres://user:password@host:5432/name).")
else:
    DATABASES = {
        "default": dj_database_url.parse(  # noqa: F405
            _database_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")  # base.py says why

REDIS_URL = env("REDIS_URL")
if not REDIS_URL.startswith(("redis://", "rediss://")):
    _missing.append("REDIS_URL must point at Redis (redis://host:6379/0): Celery's broker and the cache.")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = False

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if "DJANGO_ALLOWED_HOSTS" not in os.environ or not ALLOWED_HOSTS:
    _missing.append(
        "DJANGO_ALLOWED_HOSTS must list the host names the portal answers to (portal.example.com)."
    )

SITE_URL = env("SITE_URL").rstrip("/")
if not SITE_URL.startswith(("https://", "http://")):
    _missing.append(
        "SITE_URL must be the portal's public address for links in mail (https://portal.example.com)."
    )

if _missing:
    raise ImproperlyConfigured(
        "Production settings refuse to start:\n  - " + "\n  - ".join(_missing) + "\nREADME.md, Configuration."
    )
# --------------------------------------------------------------------------- end of required configuration

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Only a local docker compose demo over plain http turns these off.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
LOG_JSON = env_bool("LOG_JSON", True)
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_JSON else "plain"  # noqa: F405

# --------------------------------------------------------------------------- hardening (issue 16)
MFA_REQUIRED = env_bool("MFA_REQUIRED", True)
# The cache fails safe (portal/cache.py): a Redis outage is logged, never a 500 at sign-in.
CACHES["default"]["BACKEND"] = "portal.cache.FailSafeRedisCache"
CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
# Cookies bound to this exact host over HTTPS (no Domain, Path=/): a sibling subdomain
# cannot set or overwrite them. A plain-http demo (DJANGO_SECURE_COOKIES=false) keeps the plain names.
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# X-Forwarded-Proto decides "is this HTTPS?" only when a proxy of ours sets it (it must
# overwrite what clients send): TRUSTED_PROXY_COUNT > 0, or DJANGO_TRUST_X_FORWARDED_PROTO.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", TRUSTED_PROXY_COUNT > 0)  # noqa: F405
    else None
)
