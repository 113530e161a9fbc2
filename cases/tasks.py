"""Periodic work of the cases app."""

from celery import shared_task

from cases import services


@shared_task
def pending_uploads_expire() -> int:
    """Remove files chosen on forms that were never submitted (older than a day)."""
    return services.pending_uploads_expire()
