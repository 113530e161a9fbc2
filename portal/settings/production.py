"""Production: everything from the environment, secure cookies and HTTPS, JSON logs.
`manage.py check --deploy --settings=portal.settings.production` is clean."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, env_bool, env_int

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random string of at least 50 characters.")

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
