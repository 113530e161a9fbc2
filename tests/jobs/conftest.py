# The private Redis, broker and Celery worker subprocesses of the notification tests.
from tests.notifications.conftest import (  # noqa: F401
    broker,
    committed_world,
    private_redis,
    smtp_sink,
    start_worker,
)
