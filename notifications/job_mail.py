"""The one mail that is not about a case: "your export is ready", with its link. It goes
through the same outbox as every other mail (written in the transaction that finishes
the job, sent once, retried), to the person who started the job, in their language and
time zone. Kept apart from notifications.mail, which renders mail about cases."""

import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from jobs.models import Job
from notifications.mail import outbox_email
from notifications.models import Notice, OutboxMessage
from portal.when import zone_or_utc


def job_mail_queue(*, job: Job) -> OutboxMessage:
    """Write the "ready" mail for a finished job, in the caller's transaction, and queue it
    after commit. At most one per job and address."""
    from notifications.services import outbox_enqueue  # services imports this module

    user = job.user
    row, _created = OutboxMessage.objects.get_or_create(
        job=job,
        recipient_email=user.mail_address,
        defaults={
            "notice": Notice.JOB_READY,
            "recipient_user": user,
            "reason": OutboxMessage.Reason.REQUESTER,
            "message_id": f"<job-{job.pk}.{secrets.token_hex(6)}@{settings.REPLY_EMAIL_DOMAIN}>",
            "created_at": job.finished_at,
            "next_attempt_at": job.finished_at,
        },
    )
    transaction.on_commit(lambda: outbox_enqueue([row.pk]))
    return row


def job_mail_allowed(row: OutboxMessage) -> bool:
    """Still worth sending: the account is active and the file has not expired."""
    job = row.job
    user = row.recipient_user
    return (
        user is not None
        and user.is_active
        and job.user_id == user.pk
        and job.status == Job.Status.DONE
        and job.expires_at > timezone.now()
    )


def render_job_message(row: OutboxMessage) -> EmailMultiAlternatives:
    job, user = row.job, row.recipient_user
    language = user.language or settings.LANGUAGE_CODE
    zone = zone_or_utc(user.time_zone)
    with translation.override(language), timezone.override(zone):
        context = {
            "job": job,
            "language": language,
            "row_count": formats.localize(job.row_count, use_l10n=True),
            "expires_at": f"{formats.date_format(timezone.localtime(job.expires_at, zone), 'DATETIME_FORMAT')}"
            f" ({zone.key})",
            "job_url": settings.SITE_URL + reverse("jobs:detail", args=[job.pk]),
            "subject": _("Your export of %(count)s cases is ready")
            % {"count": formats.localize(job.row_count)},
        }
        text = render_to_string("notifications/job_ready.txt", context)
        html = render_to_string("notifications/job_ready.html", context)
    return outbox_email(row, subject=context["subject"], text=text, html=html, language=language)
