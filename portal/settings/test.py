"""Tests: real PostgreSQL and Redis at their standard local ports, fast hashing,
in-memory mail, a temporary upload folder."""

import atexit
import os
import shutil
import tempfile

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-secret-key"
DEBUG = False
DATABASES = {
    "default": dj_database_url.parse(  # noqa: F405
        env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal"), conn_max_age=0
    )
}
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# One temporary upload folder per test run, removed when the process that made it exits; the
# subprocesses a test starts (workers, the mail listener) inherit it through the environment.
if os.environ.get("PORTAL_TEST_MEDIA_ROOT"):
    MEDIA_ROOT = Path(os.environ["PORTAL_TEST_MEDIA_ROOT"])  # noqa: F405
else:
    MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="portal-test-uploads-"))  # noqa: F405
    os.environ["PORTAL_TEST_MEDIA_ROOT"] = str(MEDIA_ROOT)
    atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
# Tasks run in-process here, so mail leaves at once; the coalescing tests set a window.
NOTIFICATION_COALESCE_SECONDS = 0
# Serve static files straight from the app folders; no collectstatic needed here.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# --------------------------------------------------------------------------- development-only apps
# The benchmark (bench/: dataset generator, `manage.py bench_run`) and its Server-Timing
# middleware, first so that it times the whole stack; the header only with PORTAL_SERVER_TIMING=1.
# Production settings have neither (portal/settings/bench.py is production plus the header).
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
MIDDLEWARE = ["portal.timing.ServerTimingMiddleware", *MIDDLEWARE]  # noqa: F405
