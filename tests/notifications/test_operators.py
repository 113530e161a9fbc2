"""Issue 5 §6: operators see how the outbox stands (`manage.py outbox_status`) and the failed
sends in the admin, with a retry action; the beat schedule holds every periodic job."""

import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User
from notifications.inbound_services import inbound_mail_receive
from notifications.models import InboundMail, OutboxMessage
from tests.notifications.conftest import reply_address_of
from tests.notifications.test_inbound import reply_mail


@pytest.fixture
def failed_and_pending(w, file_case, smtp_settings, django_capture_on_commit_callbacks):
    """One mail that failed for good (the server refused the address) and one still pending."""
    smtp_settings.refuse.add("user@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        failed = file_case(w.acme_user, w.acme, title="Refused by the server")
    with django_capture_on_commit_callbacks(execute=False):
        pending = file_case(w.agent, w.acme, title="Still waiting")
    return OutboxMessage.objects.get(case=failed), OutboxMessage.objects.get(case=pending)


def test_outbox_status_counts_pending_sent_failed_and_the_oldest_pending_age(failed_and_pending):
    failed, pending = failed_and_pending
    assert failed.status == "FAILED" and pending.status == "PENDING"
    with time_machine.travel(pending.created_at + timedelta(seconds=90), tick=False):
        out = StringIO()
        call_command("outbox_status", "--json", stdout=out)
        status = json.loads(out.getvalue())
        text = StringIO()
        call_command("outbox_status", stdout=text)
    assert status["pending"] >= 1 and status["failed"] >= 1
    assert status["oldest_pending_age_seconds"] >= 90
    assert "failed:" in text.getvalue() and "oldest pending:" in text.getvalue()


def test_outbox_status_fails_for_monitoring_when_mail_waits_too_long(failed_and_pending):
    _failed, pending = failed_and_pending
    with time_machine.travel(pending.created_at + timedelta(minutes=10), tick=False):
        with pytest.raises(CommandError, match="oldest pending mail waits"):
            call_command("outbox_status", "--max-age", "300", stdout=StringIO())
    OutboxMessage.objects.filter(status="PENDING").update(status="SKIPPED")
    call_command("outbox_status", "--max-age", "300", stdout=StringIO())


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@support.example", "operator-pass-2024")


def test_failed_mail_is_visible_to_operators_with_its_error(client, operator, failed_and_pending):
    failed, _pending = failed_and_pending
    client.force_login(operator)
    page = client.get("/django-admin/notifications/outboxmessage/?status=FAILED")
    assert page.status_code == 200
    body = page.content.decode()
    assert "user@acme.example" in body and "550" in body
    assert "agent@reseller.example.com" not in body  # the pending one is not in the failed list
    detail = client.get(f"/django-admin/notifications/outboxmessage/{failed.pk}/change/")
    assert detail.status_code == 200 and "No such user here" in detail.content.decode()


def test_operators_retry_failed_mail_and_it_is_sent_once(
    client, operator, failed_and_pending, smtp_settings, django_capture_on_commit_callbacks
):
    failed, pending = failed_and_pending
    smtp_settings.refuse.clear()  # the address was fixed
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/django-admin/notifications/outboxmessage/",
            {"action": "retry", "_selected_action": [failed.pk, pending.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    pending.refresh_from_db()
    assert (failed.status, failed.attempts) == ("SENT", 1)
    assert pending.status == "PENDING"  # only failed mail is retried
    assert len(smtp_settings.to("user@acme.example")) == 1


def test_the_outbox_cannot_be_edited_in_the_admin(client, operator, failed_and_pending):
    failed, _pending = failed_and_pending
    client.force_login(operator)
    assert client.post(f"/django-admin/notifications/outboxmessage/{failed.pk}/delete/").status_code == 403
    assert client.get("/django-admin/notifications/outboxmessage/add/").status_code == 403


def test_received_mail_and_its_outcome_are_visible_to_operators(client, operator, w, file_case):
    case = file_case(w.agent, w.acme)
    agents_address = reply_address_of(case, "agent@reseller.example.com")
    inbound_mail_receive(reply_mail(case, sender="mallory@evil.example", to=agents_address))
    client.force_login(operator)
    page = client.get("/django-admin/notifications/inboundmail/").content.decode()
    assert "mallory@evil.example" in page and "not the recipient this reply address was issued to" in page
    assert InboundMail.objects.filter(outcome="REFUSED").exists()


def test_beat_runs_every_periodic_job():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {
        "notifications.tasks.outbox_sweep",
        "notifications.tasks.cases_auto_close",
        "notifications.tasks.cases_mark_locked",
        "notifications.tasks.cases_flag_first_response_breaches",
        "cases.tasks.pending_uploads_expire",
        "notifications.tasks.cases_flag_next_response_breaches",
        "jobs.tasks.jobs_cleanup",  # expired export files, lost jobs
    }
    from portal.celery import app

    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)


def test_celery_is_configured_for_reliability():
    from notifications.tasks import outbox_send

    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert outbox_send.acks_late and outbox_send.max_retries == settings.OUTBOX_MAX_ATTEMPTS
    assert outbox_send.time_limit and outbox_send.soft_time_limit < outbox_send.time_limit
