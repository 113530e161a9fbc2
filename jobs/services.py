"""Writes for background jobs: start one (through the caller's gate, at the moment of the
request), take it up in a worker, report progress, finish or fail it, and the periodic
clean-up (files expire after a day; jobs whose worker died are marked failed).

How a job runs (docs/performance.md, "Large exports"):

1. `job_start` writes the row in the request's transaction and queues the task after
   commit. The same request again within a few minutes returns the same job.
2. `job_begin` (in the worker) counts the attempt under the row's lock; a job taken up
   more than JOB_MAX_ATTEMPTS times (its worker kept dying) fails with a message.
3. The work writes to a temporary file and reports progress through `Progress`, on a
   connection of its own, so that the page sees it while the work's own transaction
   (one consistent snapshot) is still open.
4. Only a complete file is saved to storage, and `job_finish` marks the job DONE with its
   row count in the same transaction that queues the mail. A worker killed before that
   leaves no file and a job that is retried, or failed by `jobs_cleanup_run`.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from jobs.models import Job
from jobs.selectors import job_find_reusable, jobs_expired, jobs_lost

logger = logging.getLogger(__name__)

Status = Job.Status

# Stored untranslated and shown translated (the page is in the reader's language).
LOST_MESSAGE = gettext_noop("The work stopped unexpectedly and could not be finished. Please start it again.")
TOO_MANY_ATTEMPTS = gettext_noop(
    "The work was interrupted several times and was stopped. Please start it again, or narrow the filters."
)
FAILED_MESSAGE = gettext_noop("The work failed. Please start it again; if it fails again, contact support.")
TOO_LONG_MESSAGE = gettext_noop("The work took too long and was stopped. Please narrow the filters.")


@transaction.atomic
def job_start(*, user: User, kind: str, params: dict) -> Job:
    """Start a job for `user`, or return the same one asked for in the last
    JOB_REUSE_SECONDS (a reload or a second click makes no second job). The task is
    queued after commit."""
    since = timezone.now() - timedelta(seconds=settings.JOB_REUSE_SECONDS)
    existing = job_find_reusable(user=user, kind=kind, params=params, since=since)
    if existing is not None:
        return existing
    job = Job.objects.create(user=user, kind=kind, params=params)
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id) -> None:
    from jobs.tasks import job_run  # the tasks module imports this one

    try:
        job_run.delay(str(job_id))
    except Exception:
        # Broker down: the job stays QUEUED and the clean-up fails it with a message
        # after JOB_QUEUED_MAX_SECONDS, so the page never waits forever.
        logger.exception("Job %s could not be queued.", job_id)


def job_begin(*, job_id) -> Job | None:
    """Take a job up in a worker. Returns None when there is nothing (more) to do: no
    such job, already finished or failed (a duplicate delivery), or too many attempts
    (then the job is FAILED with a message)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status not in {Status.QUEUED, Status.RUNNING}:
            return None
        now = timezone.now()
        job.attempts += 1
        if job.attempts > settings.JOB_MAX_ATTEMPTS:
            job.status, job.message, job.finished_at = Status.FAILED, TOO_MANY_ATTEMPTS, now
            job.save(update_fields=["status", "message", "finished_at", "attempts"])
            logger.error("Job %s failed: taken up %d times.", job.pk, job.attempts - 1)
            return None
        job.status, job.done, job.started_at, job.heartbeat_at = Status.RUNNING, 0, now, now
        job.save(update_fields=["status", "done", "started_at", "heartbeat_at", "attempts"])
    return job


class Progress:
    """How far a running job got, written at most every JOB_PROGRESS_SECONDS on a database
    connection of its own (autocommit): the work's own transaction stays open for its
    whole run, and the page must see the progress meanwhile. In a test that runs the job
    inside its own transaction the row is not visible to that connection and nothing is
    written, which changes nothing else."""

    def __init__(self, job: Job):
        self.job_id = job.pk
        self.interval = settings.JOB_PROGRESS_SECONDS
        self.last = 0.0
        self.total: int | None = None
        self._connection = (
            connections.create_connection("default") if connection.vendor == "postgresql" else None
        )

    def _write(self, done: int) -> None:
        self.last = time.monotonic()
        if self._connection is None:
            return
        with self._connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Job._meta.db_table} SET done = %s, total = %s, heartbeat_at = %s "
                "WHERE id = %s AND status = %s",
                [done, self.total, timezone.now(), self.job_id, Status.RUNNING],
            )

    def start(self, total: int | None) -> None:
        self.total = total
        self._write(0)

    def step(self, done: int) -> None:
        if time.monotonic() - self.last >= self.interval:
            self._write(done)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@transaction.atomic
def job_finish(*, job_id, file_name: str, download_name: str, row_count: int, size: int) -> Job | None:
    """Mark a job DONE with its file, which is already complete in storage, and queue the
    "ready" mail in the same transaction. Returns None (and deletes the file) when the job
    is no longer running: another delivery of the task finished it first."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status != Status.RUNNING:
        default_storage.delete(file_name)
        return None
    now = timezone.now()
    job.status = Status.DONE
    job.file_name, job.download_name = file_name, download_name
    job.row_count, job.done, job.total, job.size = row_count, row_count, row_count, size
    job.finished_at, job.heartbeat_at = now, now
    job.expires_at = now + timedelta(seconds=settings.JOB_FILE_SECONDS)
    job.message = ""
    job.save()
    from notifications.job_mail import job_mail_queue  # notifications imports jobs

    job_mail_queue(job=job)
    return job


@transaction.atomic
def job_fail(*, job_id, message: str) -> None:
    """Mark a job FAILED with a message for the person (stored untranslated)."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status not in {Status.QUEUED, Status.RUNNING}:
        return
    job.status, job.message, job.finished_at = Status.FAILED, message, timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def jobs_cleanup_run() -> dict[str, int]:
    """Periodic: delete the files of jobs past their expiry (the job stays, EXPIRED, so
    the page can say so), and fail jobs that were lost. Safe to run twice at once: rows
    are taken with SKIP LOCKED, and deleting a missing file is not an error."""
    now = timezone.now()
    expired = 0
    with transaction.atomic():
        for job in jobs_expired(now=now).select_for_update(skip_locked=True)[:500]:
            default_storage.delete(job.file_name)
            job.status, job.file_name = Status.EXPIRED, ""
            job.save(update_fields=["status", "file_name"])
            expired += 1
    with transaction.atomic():
        lost = jobs_lost(
            heartbeat_before=now - timedelta(seconds=settings.JOB_HEARTBEAT_MAX_SECONDS),
            queued_before=now - timedelta(seconds=settings.JOB_QUEUED_MAX_SECONDS),
        ).select_for_update(skip_locked=True)
        failed = lost.update(status=Status.FAILED, message=LOST_MESSAGE, finished_at=now)
    if expired or failed:
        logger.info("Jobs clean-up: %d file(s) expired, %d lost job(s) failed.", expired, failed)
    return {"expired": expired, "failed": failed}
