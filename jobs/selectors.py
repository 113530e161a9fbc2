"""Reads about background jobs. `job_visible_to` is the one gate: a job, its progress and
its file are for the person who started it alone (R9: anyone else gets the same 404 as
for a job that does not exist)."""

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from jobs.models import Job


def job_visible_to(user: User) -> QuerySet[Job]:
    if not user.is_authenticated or not user.is_active:
        return Job.objects.none()
    return Job.objects.filter(user_id=user.pk)


def job_downloadable_by(user: User, *, now: datetime) -> QuerySet[Job]:
    """Jobs whose file `user` may download now: their own, finished, not yet expired."""
    return job_visible_to(user).filter(status=Job.Status.DONE, expires_at__gt=now)


def job_find_reusable(*, user: User, kind: str, params: dict, since: datetime) -> Job | None:
    """The same request made again shortly after (a double click, a reload): the job
    already under way or ready, instead of a second one."""
    return (
        job_visible_to(user)
        .filter(kind=kind, params=params, created_at__gte=since)
        .exclude(status__in=[Job.Status.FAILED, Job.Status.EXPIRED])
        .order_by("-created_at")
        .first()
    )


def jobs_expired(*, now: datetime) -> QuerySet[Job]:
    return Job.objects.filter(status=Job.Status.DONE, expires_at__lte=now)


def jobs_lost(*, heartbeat_before: datetime, queued_before: datetime) -> QuerySet[Job]:
    """Running jobs that stopped giving signs of life (their worker died and the task was
    not delivered again), and queued jobs no worker ever took."""
    from django.db.models import Q

    return Job.objects.filter(
        Q(status=Job.Status.RUNNING, heartbeat_at__lt=heartbeat_before)
        | Q(status=Job.Status.QUEUED, created_at__lt=queued_before)
    )
