"""The Celery app. Tasks run in-process (eager) when no REDIS_URL is configured."""

import os

from celery import Celery

# Like wsgi.py: what serves defaults to production settings, which refuse to start unconfigured.
# (This module is imported first by anything in the package, portal.wsgi included, so a local
# default here would have made gunicorn run local settings with DEBUG on.) scripts/run sets local.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
