"""A real Celery worker (a subprocess on a private Redis) killed in the middle of an
export: the person is never offered a partial file; the task is delivered again and the
job finishes complete, or the job fails with a message."""

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.models import User
from jobs.models import Job
from tests.notifications.conftest import wait_until


@pytest.fixture
def export_worker_env(settings):
    settings.EXPORT_STREAM_MAX_ROWS = 5
    return {
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),  # the worker saves where the pages read
        "EXPORT_MAX_ROWS_PER_SECOND": "10",  # slow enough to be killed midway
        "EXPORT_CHUNK_ROWS": "5",  # progress after every five rows
    }


def test_a_worker_killed_mid_export_offers_no_partial_file_and_the_job_runs_again_complete(
    start_worker, export_worker_env, client, w
):
    worker = start_worker(**export_worker_env, CELERY_VISIBILITY_TIMEOUT="3600")
    User.objects.filter(pk=w.agent.pk).update(language="en")
    client.force_login(w.agent)
    response = client.get(reverse("cases:export"))
    assert response.status_code == 302
    job = Job.objects.get(pk=response.url.rstrip("/").split("/")[-1])

    def running_with_progress():
        job.refresh_from_db()
        return job.status == Job.Status.RUNNING and job.done > 0

    wait_until(running_with_progress, timeout=60, message="the export to make progress")
    worker.kill()  # SIGKILL midway: no clean-up, no acknowledgement

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and 0 < job.done < job.total and not job.file_name
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404
    progress = client.get(reverse("jobs:progress", args=[job.pk])).content.decode()
    assert reverse("jobs:download", args=[job.pk]) not in progress and "hx-trigger" in progress
    assert not default_storage.exists(f"jobs/{job.pk}")

    # A new worker takes the unacknowledged task up again once its visibility timeout is over.
    start_worker(**export_worker_env, CELERY_VISIBILITY_TIMEOUT="2")

    def finished():
        job.refresh_from_db()
        return job.status in {Job.Status.DONE, Job.Status.FAILED}

    wait_until(finished, timeout=90, message="the export to be taken up again")
    assert job.status == Job.Status.DONE and job.attempts == 2
    body = b"".join(client.get(reverse("jobs:download", args=[job.pk])).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) - 2 == job.row_count == job.total
    assert rows[-1] == [f"End of export: {job.row_count} cases"]
