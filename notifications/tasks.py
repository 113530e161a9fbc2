"""Celery tasks. Each takes ids (never objects), re-reads and re-checks everything when it
runs, and is safe to run twice: the work itself is guarded by row locks in PostgreSQL, so
a redelivered or duplicated message changes nothing. Acknowledged late and requeued when
the worker dies (settings: CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST)."""

import logging

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings

from cases import system_services
from notifications import services

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.OUTBOX_MAX_ATTEMPTS,
    soft_time_limit=settings.EMAIL_TIMEOUT * 2 + 30,
    time_limit=settings.EMAIL_TIMEOUT * 2 + 60,
)
def outbox_send(self, message_id: int) -> str:
    """Send one outbox row; on a temporary failure, try again after the row's backoff."""
    delivery = services.outbox_deliver(message_id=message_id)
    if delivery.retry_in is not None and not self.request.is_eager:
        try:
            raise self.retry(countdown=delivery.retry_in)
        except MaxRetriesExceededError:
            # The row still says PENDING with its next attempt; the sweep takes it from here.
            logger.warning("Outbox message %s: task retries used up; left to the sweep.", message_id)
    return delivery.status


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def outbox_sweep() -> int:
    return services.outbox_sweep()


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def cases_auto_close() -> dict[str, int]:
    return system_services.cases_auto_close_run()


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def cases_mark_locked() -> int:
    return system_services.cases_mark_locked_run()


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def cases_flag_first_response_breaches() -> int:
    return system_services.cases_flag_first_response_breaches_run()


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def cases_flag_next_response_breaches() -> int:
    return system_services.cases_flag_next_response_breaches_run()
