"""Issue 5's failure tests against real processes: a private redis-server and real
`celery worker` subprocesses (never the shared instances), this session's test database,
and a real SMTP server. Mail is never lost and never sent twice."""

import re
import time
import uuid

from django.urls import reverse

from cases.models import Case
from notifications.models import OutboxMessage
from notifications.tasks import outbox_send, outbox_sweep
from tests.notifications.conftest import wait_until


def task_results(worker, status: str) -> int:
    return len(
        re.findall(rf"outbox_send\[[^\]]+\] succeeded in [0-9.e-]+s: '{status}'", worker.log.read_text())
    )


def test_redis_down_when_a_case_is_filed_then_every_mail_is_delivered_once_when_it_is_back(
    start_worker, broker, smtp_sink, client, w
):
    broker.stop()
    client.force_login(w.agent)
    started = time.monotonic()
    response = client.post(
        reverse("cases:create"),
        {
            "customer": w.acme.pk,
            "product_type": "GOOGLE_WORKSPACE",
            "title": "Filed while Redis is down",
            "classification": w.leaf().pk,
            "description": "Outgoing mail is delayed by two hours.",
            "priority": "P2",
            "language": "en",
            "time_zone": "Asia/Seoul",
            "request_key": uuid.uuid4().hex,
            "subscribers": "",
        },
    )
    assert response.status_code == 302  # the request succeeds …
    assert time.monotonic() - started < 5  # … without waiting for the broker
    case = Case.objects.get(title="Filed while Redis is down")
    row = OutboxMessage.objects.get(case=case)
    assert (row.status, row.attempts) == ("PENDING", 0)  # … and the mail waits in PostgreSQL

    broker.start()
    worker = start_worker()
    outbox_sweep.delay()  # what beat sends every minute
    wait_until(lambda: len(smtp_sink.messages) == 1, message="the mail")
    outbox_sweep.delay()
    outbox_send.delay(row.pk)  # and a stray duplicate of the lost task
    wait_until(lambda: task_results(worker, "DONE") >= 1, message="the duplicate to be handled")
    assert [m["To"] for m in smtp_sink.messages] == ["agent@reseller.example.com"]
    assert task_results(worker, "SENT") == 1  # sent by the worker, from the sweep
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("SENT", 1)


def test_a_worker_killed_while_sending_delivers_exactly_once_after_restart(
    start_worker, smtp_sink, w, file_case
):
    smtp_sink.stall = 30  # the SMTP server takes its time answering DATA
    worker = start_worker()
    case = file_case(w.acme_user, w.acme)  # committed: its task goes to the worker
    assert smtp_sink.data_started.wait(30), "the worker never started sending"
    worker.kill()  # SIGKILL in the middle of the SMTP conversation
    row = OutboxMessage.objects.get(case=case)
    # The attempt died with the worker's transaction: the row is unlocked and still pending.
    wait_until(lambda: OutboxMessage.objects.filter(pk=row.pk, status="PENDING").exists())
    assert smtp_sink.messages == []

    smtp_sink.stall = 0
    restarted = start_worker()
    outbox_sweep.delay()
    wait_until(lambda: len(smtp_sink.messages) == 1, message="the mail after the restart")
    outbox_send.delay(row.pk)  # the killed worker's task, delivered again
    wait_until(lambda: task_results(restarted, "DONE") >= 1, message="the redelivery to be handled")
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.messages[0]["To"] == "user@acme.example"
    assert task_results(worker, "SENT") == 0 and task_results(restarted, "SENT") == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("SENT", 1)


def test_smtp_failing_three_times_then_working_is_one_delivery_through_celery_retries(
    start_worker, smtp_sink, w, file_case
):
    smtp_sink.fail_next = 3
    worker = start_worker(OUTBOX_RETRY_BACKOFF_SECONDS="1")  # waits of 1, 2 and 4 seconds
    case = file_case(w.acme_user, w.acme)
    wait_until(lambda: len(smtp_sink.messages) == 1, timeout=25, message="the fourth attempt")
    # The SMTP server's "250" comes before the worker commits SENT.
    wait_until(lambda: OutboxMessage.objects.get(case=case).status == "SENT", message="the row marked sent")
    row = OutboxMessage.objects.get(case=case)
    assert (row.status, row.attempts) == ("SENT", 4)
    assert smtp_sink.attempts == 4
    assert "Retry in 1s" in worker.log.read_text() and "Retry in 4s" in worker.log.read_text()
    for _ in range(3):  # the same task delivered again, several times
        outbox_send.delay(row.pk)
    wait_until(lambda: task_results(worker, "DONE") >= 3, message="the duplicates to be handled")
    assert len(smtp_sink.messages) == 1
