"""Local development: DEBUG on, mail to the console, SQLite and in-process tasks unless
DATABASE_URL / REDIS_URL say otherwise."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Serve static files straight from the app folders; no collectstatic needed here.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# --------------------------------------------------------------------------- development-only apps
# The benchmark (bench/: dataset generator, `manage.py bench_run`) and its Server-Timing
# middleware, first so that it times the whole stack; the header only with PORTAL_SERVER_TIMING=1.
# Production settings have neither (portal/settings/bench.py is production plus the header).
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
MIDDLEWARE = ["portal.timing.ServerTimingMiddleware", *MIDDLEWARE]  # noqa: F405
