"""Celery tasks for background jobs. Each takes the job's id and is safe to run twice:
`job_begin` takes a job up under its row lock, and only a running job can be finished.
Acknowledged late and requeued when the worker dies, so a killed worker's job runs again
(up to JOB_MAX_ATTEMPTS times) or fails with a message."""

import logging
import tempfile

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.module_loading import import_string

from jobs import services
from jobs.models import Job

logger = logging.getLogger(__name__)

# What each kind of job runs: a function (job, out, progress) -> (row count, download name)
# that writes the whole result to the binary file `out`.
RUNNERS = {
    Job.Kind.CASE_EXPORT: "cases.exports.case_export_job_write",
}


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.JOB_TIME_LIMIT_SECONDS,
    time_limit=settings.JOB_TIME_LIMIT_SECONDS + 60,
)
def job_run(job_id: str) -> str:
    job = services.job_begin(job_id=job_id)
    if job is None:
        return "NOTHING_TO_DO"
    runner = import_string(RUNNERS[job.kind])
    progress = services.Progress(job)
    # The result is written to a local temporary file first and reaches storage only once
    # complete: a worker that dies midway leaves nothing a person could download.
    with tempfile.TemporaryFile() as out:
        try:
            row_count, download_name = runner(job, out, progress)
            size = out.tell()
            out.seek(0)
            file_name = default_storage.save(f"jobs/{job.pk}/{download_name}", File(out))
        except SoftTimeLimitExceeded:
            logger.error("Job %s stopped at the time limit.", job.pk)
            services.job_fail(job_id=job.pk, message=services.TOO_LONG_MESSAGE)
            return "FAILED"
        except Exception:
            logger.exception("Job %s failed.", job.pk)
            services.job_fail(job_id=job.pk, message=services.FAILED_MESSAGE)
            return "FAILED"
        finally:
            progress.close()
    if services.job_finish(
        job_id=job.pk, file_name=file_name, download_name=download_name, row_count=row_count, size=size
    ):
        logger.info("Job %s done: %d rows, %d bytes.", job.pk, row_count, size)
        return "DONE"
    return "DUPLICATE"


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def jobs_cleanup() -> dict[str, int]:
    return services.jobs_cleanup_run()
