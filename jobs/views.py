"""The progress component's pages. A job's page (`jobs:detail`) shows its progress;
the component itself (templates/jobs/_progress.html) reloads its own fragment
(`jobs:progress`) every JOB_POLL_SECONDS with htmx while the job is queued or running and
stops once it is done, failed or expired. The download (`jobs:download`) is authorised
like an attachment: the person who started the job, while its file has not expired;
anyone else gets the same 404 as for a job that does not exist (R9)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from jobs.models import Job
from jobs.selectors import job_downloadable_by, job_visible_to

# Checks a kind of job's result needs again at download time (access can be lost after
# the job ran): the same gate the work started from.
DOWNLOAD_CHECKS = {
    Job.Kind.CASE_EXPORT: "cases.exports.export_still_allowed",
}


def _job_or_404(request, job_id) -> Job:
    return get_object_or_404(job_visible_to(request.user), pk=job_id)


def progress_context(job: Job) -> dict:
    return {"job": job, "poll_seconds": settings.JOB_POLL_SECONDS}


@login_required
@require_GET
def job_detail(request, job_id):
    job = _job_or_404(request, job_id)
    context = {**progress_context(job), "job_query": urlencode(job.params, doseq=True)}
    return render(request, "jobs/detail.html", context)


@login_required
@require_GET
def job_progress(request, job_id):
    """htmx: the progress component alone (one query)."""
    job = _job_or_404(request, job_id)
    response = render(request, "jobs/_progress.html", progress_context(job))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def job_download(request, job_id):
    job = get_object_or_404(job_downloadable_by(request.user, now=timezone.now()), pk=job_id)
    check = DOWNLOAD_CHECKS.get(job.kind)
    if check is not None and not import_string(check)(request.user):
        raise Http404
    try:
        handle = default_storage.open(job.file_name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=job.download_name, content_type="text/csv")
    response["Cache-Control"] = "private, no-store"
    return response
