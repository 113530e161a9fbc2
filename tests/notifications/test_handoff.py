"""The sent-twice window (issue 16, finding 10): the handoff to the SMTP server is recorded
by a connection of its own, right before DATA and when the server answers 250; an attempt
replayed after its worker died is not made again when the server had taken the mail, and
is when it had not."""

import smtplib

import pytest
from django.db import connection

from notifications.models import OutboxMessage
from notifications.services import outbox_deliver


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing after it runs, the transaction is never committed."""


@pytest.fixture
def row(w, file_case, smtp_settings):
    case = file_case(w.agent, w.acme)
    row = OutboxMessage.objects.get(case=case)
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    return row


def handoffs(row) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM notifications_outboxhandoff WHERE outbox_id = %s", [row.pk])
        return cursor.fetchone()[0]


def die_after(monkeypatch, method: str):
    original = getattr(smtplib.SMTP, method)

    def dying(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise WorkerDied()

    monkeypatch.setattr(smtplib.SMTP, method, dying)


def test_a_worker_that_died_after_the_server_took_the_mail_does_not_send_it_again(
    row, smtp_settings, monkeypatch, django_capture_on_commit_callbacks
):
    die_after(monkeypatch, "quit")  # the server answered 250 to DATA; the worker dies after
    with pytest.raises(WorkerDied):
        outbox_deliver(message_id=row.pk)
    monkeypatch.undo()
    assert len(smtp_settings.messages) == 1
    assert OutboxMessage.objects.get(pk=row.pk).status == "PENDING"  # the commit never happened
    # The task comes back (acks late) or the sweep queues it: the same attempt again,
    # reconciled by the record of the server's answer for this Message-ID.
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_deliver(message_id=row.pk).status == "SENT"
    assert len(smtp_settings.messages) == 1  # not twice
    assert handoffs(row) == 0


def test_a_worker_that_died_waiting_for_the_answer_to_data_sends_again(row, smtp_settings, monkeypatch):
    """No answer, no knowledge: the server discards a transaction whose client went away
    before its reply (the sink does), so the mail is sent again, as before."""

    def dying(self, *args, **kwargs):
        raise WorkerDied()

    monkeypatch.setattr(smtplib.SMTP, "data", dying)
    with pytest.raises(WorkerDied):
        outbox_deliver(message_id=row.pk)
    monkeypatch.undo()
    assert smtp_settings.messages == [] and handoffs(row) == 1
    assert outbox_deliver(message_id=row.pk).status == "SENT"
    assert len(smtp_settings.messages) == 1


def test_a_worker_that_died_before_data_is_retried(row, smtp_settings, monkeypatch):
    die_after(monkeypatch, "rcpt")
    with pytest.raises(WorkerDied):
        outbox_deliver(message_id=row.pk)
    monkeypatch.undo()
    assert smtp_settings.messages == [] and handoffs(row) == 0
    assert outbox_deliver(message_id=row.pk).status == "SENT"
    assert len(smtp_settings.messages) == 1


def test_a_refused_data_is_retried_later(row, smtp_settings):
    smtp_settings.fail_next = 1
    assert outbox_deliver(message_id=row.pk).status == "PENDING"
    assert handoffs(row) == 0  # the server answered 4xx: it did not take the mail
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    assert outbox_deliver(message_id=row.pk).status == "SENT"
    assert len(smtp_settings.messages) == 1


def test_a_sent_mail_leaves_no_record_behind(row, smtp_settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_deliver(message_id=row.pk).status == "SENT"
    assert handoffs(row) == 0
    assert smtp_settings.messages[0]["Message-ID"] == row.message_id
