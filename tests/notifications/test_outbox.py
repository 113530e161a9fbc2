"""SPEC §6 and issue 5: every notifiable change writes its outbox rows in its own
transaction; each (event, recipient) is sent once; recipients come from the one gate."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction

from cases.models import Case, CaseEvent
from cases.services import (
    case_change_priority,
    case_close,
    case_comment_add,
    case_escalate,
    case_reopen,
    case_set_state,
    case_subscribers_set,
)
from customers.services import customer_consent_set
from notifications.models import Notice, OutboxMessage
from notifications.services import outbox_deliver, outbox_sweep, retry_delay
from portal.celery import app as celery_app
from tests.notifications.conftest import outbox_for

SUBSCRIBERS = ["boss@acme.example", "partner@elsewhere.example"]
AGENT = "agent@reseller.example.com"


def recipients(mailoutbox) -> set[str]:
    return {address for message in mailoutbox for address in message.to}


@pytest.fixture
def acme_case(w, file_case, django_capture_on_commit_callbacks, mailoutbox):
    """A delegated case of Acme (filed by the reseller agent) shared with two addresses
    that have no account; the filing mail is already sent and cleared."""
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case(w.agent, w.acme, subscribers=SUBSCRIBERS)
    mailoutbox.clear()
    return case


@pytest.fixture
def act(django_capture_on_commit_callbacks, mailoutbox):
    """Run a change as a request would: its mail goes out when it commits."""

    def run(change):
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = change()
        return result

    return run


# --------------------------------------------------------------------------- the outbox rows


def test_outbox_rows_are_written_in_the_same_transaction_as_the_change(w, file_case):
    with pytest.raises(RuntimeError), transaction.atomic():
        case = file_case(w.agent, w.acme, subscribers=SUBSCRIBERS)
        assert outbox_for(case).count() == 3
        raise RuntimeError("the request fails after the change")
    assert not OutboxMessage.objects.filter(case_id=case.pk).exists()
    assert not Case.objects.filter(pk=case.pk).exists()


def test_mail_leaves_only_after_commit(w, file_case, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = file_case(w.agent, w.acme)
    assert mailoutbox == []
    assert outbox_for(case, status="PENDING").count() == 1
    for callback in callbacks:
        callback()
    assert [m.to for m in mailoutbox] == [[AGENT]]
    assert outbox_for(case, status="SENT").count() == 1


def test_changes_that_are_not_notifiable_write_no_rows(w, acme_case):
    case_subscribers_set(user=w.agent, case=acme_case, remove=["boss@acme.example"])
    event = CaseEvent.objects.filter(case=acme_case, kind="SUBSCRIBER_REMOVED").get()
    assert not OutboxMessage.objects.filter(event=event).exists()


# --------------------------------------------------------------------------- who gets each mail


def test_case_filed_mails_the_creator_and_every_subscriber(w, file_case, act, mailoutbox):
    act(lambda: file_case(w.agent, w.acme, subscribers=SUBSCRIBERS))
    assert recipients(mailoutbox) == {AGENT, *SUBSCRIBERS}
    assert len(mailoutbox) == 3  # the contact is the creator's address: one mail, not two
    assert {m.extra_headers["X-Portal-Notice"] for m in mailoutbox} == {Notice.FILED}


def test_customer_filed_case_mails_the_customer_user(w, file_case, act, mailoutbox):
    act(lambda: file_case(w.acme_user, w.acme))
    assert recipients(mailoutbox) == {"user@acme.example"}


def test_mail_goes_to_the_users_notification_address(w, file_case, act, mailoutbox):
    agent = w.agent
    agent.notification_email = "agent.inbox@workspace.example"
    agent.save(update_fields=["notification_email"])
    act(lambda: file_case(agent, w.acme))
    assert recipients(mailoutbox) == {"agent.inbox@workspace.example"}


def test_an_address_finds_its_accounts_whatever_its_case(w):
    from notifications.selectors import users_with_address

    viewer = w.viewer
    viewer.notification_email = "Vera.Inbox@Workspace.example"  # kept as typed
    viewer.save(update_fields=["notification_email"])
    assert list(users_with_address(" vera.inbox@workspace.EXAMPLE ")) == [viewer]
    assert list(users_with_address(w.agent.email.upper())) == [w.agent]
    assert not users_with_address("nobody@workspace.example").exists()


def test_support_reply_mails_the_customer_side_but_not_the_engineer(w, acme_case, act, mailoutbox):
    act(lambda: case_comment_add(user=w.engineer, case=acme_case, body="Please send the message headers."))
    assert recipients(mailoutbox) == {AGENT, *SUBSCRIBERS}
    assert "Please send the message headers." in mailoutbox[0].body


def test_a_customer_side_message_is_not_mailed_as_a_reply(w, acme_case, act, mailoutbox):
    act(lambda: case_comment_add(user=w.acme_user, case=acme_case, body="More details: it started at 9."))
    assert mailoutbox == []


def test_state_change_mails_everyone_but_whoever_changed_it(w, acme_case, act, mailoutbox):
    act(lambda: case_set_state(user=w.engineer, case=acme_case, state="ACTION_REQUIRED"))
    assert recipients(mailoutbox) == {AGENT, *SUBSCRIBERS}
    # The customer side's reply hands the case back to support: a state change too, but not for its author.
    act(lambda: case_comment_add(user=w.agent, case=acme_case, body="Here are the headers."))
    assert recipients(mailoutbox) == set(SUBSCRIBERS)
    assert mailoutbox[0].extra_headers["X-Portal-Notice"] == Notice.STATE


def test_severity_change_is_mailed(w, acme_case, act, mailoutbox):
    act(lambda: case_change_priority(user=w.acme_user, case=acme_case, priority="P1"))
    assert recipients(mailoutbox) == {AGENT, *SUBSCRIBERS}
    assert mailoutbox[0].extra_headers["X-Portal-Notice"] == Notice.SEVERITY


def test_escalation_is_mailed(w, acme_case, act, mailoutbox):
    act(
        lambda: case_escalate(
            user=w.acme_user, case=acme_case, reason="BUSINESS_IMPACT", justification="Payroll mail is stuck."
        )
    )
    # … and, the case being unassigned, the support team's escalation address (issue 13).
    assert recipients(mailoutbox) == {AGENT, *SUBSCRIBERS, "escalations@support.example"}
    assert "Payroll mail is stuck." in mailoutbox[0].body


def test_close_and_reopen_are_mailed(w, acme_case, act, mailoutbox):
    act(lambda: case_close(user=w.agent, case=acme_case))
    assert recipients(mailoutbox) == set(SUBSCRIBERS)
    assert {m.extra_headers["X-Portal-Notice"] for m in mailoutbox} == {Notice.CLOSED}
    act(lambda: case_reopen(user=w.acme_user, case=acme_case))
    assert recipients(mailoutbox) == {AGENT, *SUBSCRIBERS}
    assert {m.extra_headers["X-Portal-Notice"] for m in mailoutbox} == {Notice.REOPENED}


def test_a_subscriber_added_later_is_told_once_that_the_case_was_shared(w, acme_case, act, mailoutbox):
    act(lambda: case_subscribers_set(user=w.agent, case=acme_case, add=["new.colleague@acme.example"]))
    assert recipients(mailoutbox) == {"new.colleague@acme.example"}
    assert mailoutbox[0].extra_headers["X-Portal-Notice"] == Notice.SHARED
    act(lambda: case_comment_add(user=w.engineer, case=acme_case, body="Looking into it."))
    assert "new.colleague@acme.example" in recipients(mailoutbox)


def test_a_removed_subscriber_gets_nothing_more(w, acme_case, act, mailoutbox):
    case_subscribers_set(user=w.agent, case=acme_case, remove=["boss@acme.example"])
    act(lambda: case_comment_add(user=w.engineer, case=acme_case, body="Looking into it."))
    assert recipients(mailoutbox) == {AGENT, "partner@elsewhere.example"}


def test_a_creator_who_lost_access_gets_no_mail(w, acme_case, act, mailoutbox):
    customer_consent_set(actor=w.acme_admin, customer=w.acme, domain=w.reseller, support_cases=False)
    act(lambda: case_comment_add(user=w.engineer, case=acme_case, body="Looking into it."))
    assert recipients(mailoutbox) == set(SUBSCRIBERS)


def test_access_revoked_after_the_mail_was_queued_means_that_person_gets_nothing(
    w, file_case, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = file_case(w.agent, w.acme, subscribers=SUBSCRIBERS)
    assert set(outbox_for(case).values_list("recipient_email", flat=True)) == {AGENT, *SUBSCRIBERS}
    # Between the commit and the worker: Acme turns the reseller's access off.
    customer_consent_set(actor=w.acme_admin, customer=w.acme, domain=w.reseller, support_cases=False)
    for callback in callbacks:
        callback()
    assert recipients(mailoutbox) == set(SUBSCRIBERS)
    assert outbox_for(case, recipient_email=AGENT).get().status == OutboxMessage.Status.SKIPPED


def test_a_subscriber_unshared_after_the_mail_was_queued_gets_nothing(
    w, acme_case, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case_comment_add(user=w.engineer, case=acme_case, body="Looking into it.")
    case_subscribers_set(user=w.agent, case=acme_case, remove=["boss@acme.example"])
    for callback in callbacks:
        callback()
    assert recipients(mailoutbox) == {AGENT, "partner@elsewhere.example"}


def test_a_reseller_without_access_to_the_case_is_never_a_recipient(w, file_case, act, mailoutbox):
    # agent2 (reseller2) never managed Acme: even as the case contact by address it gets nothing.
    case = act(lambda: file_case(w.acme_user, w.acme))
    Case.objects.filter(pk=case.pk).update(contact_email="agent@reseller2.example.com")
    act(lambda: case_comment_add(user=w.engineer, case=case, body="Looking into it."))
    assert recipients(mailoutbox) == {"user@acme.example"}


# --------------------------------------------------------------------------- exactly once


def test_the_same_task_delivered_twice_sends_one_mail(
    w, file_case, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case = file_case(w.agent, w.acme)
    row = outbox_for(case).get()
    for callback in callbacks:  # the task queued again (a redelivery)
        callback()
    assert outbox_deliver(message_id=row.pk).status == "DONE"
    assert len(mailoutbox) == 1


def test_the_sweep_sends_what_is_pending_after_a_minute_and_only_that(
    w, file_case, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False):
        case = file_case(w.agent, w.acme)  # committed, but its task never reached a worker
    assert outbox_sweep() == 0  # too young: its task may still be on its way
    with time_machine.travel(timezone_now() + timedelta(seconds=61), tick=False):
        assert outbox_sweep() == 1
        assert outbox_sweep() == 0  # queued once a minute at most
    assert len(mailoutbox) == 1
    assert outbox_for(case).get().status == "SENT"
    with time_machine.travel(timezone_now() + timedelta(minutes=5), tick=False):
        assert outbox_sweep() == 0


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def test_two_workers_sending_the_same_row_at_once_send_one_mail(committed_world, file_case, smtp_settings, w):
    sink = smtp_settings
    with celery_paused():
        case = file_case(w.agent, w.acme)
    row = outbox_for(case).get()
    sink.stall = 1.0  # the first sender holds the row while the SMTP server thinks
    results = []
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        try:
            results.append(outbox_deliver(message_id=row.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["BUSY", "SENT"]
    assert len(sink.messages) == 1
    row.refresh_from_db()
    assert row.status == "SENT" and row.attempts == 1


class celery_paused:
    """Commit without sending: the tasks never reach a worker (nothing listens at the
    broker address, so queueing fails at once and the rows wait for the sweep)."""

    def __enter__(self):
        self.saved = celery_app.conf.task_always_eager, celery_app.conf.broker_url
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = "redis://127.0.0.1:1/0"

    def __exit__(self, *exc):
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = self.saved


# --------------------------------------------------------------------------- failures and retries


def test_smtp_failing_three_times_then_working_delivers_once(
    w, file_case, smtp_settings, django_capture_on_commit_callbacks
):
    sink = smtp_settings
    sink.fail_next = 3
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case(w.agent, w.acme)
    row = outbox_for(case).get()
    assert (row.status, row.attempts) == ("PENDING", 1)
    for attempt in (2, 3, 4):
        assert outbox_deliver(message_id=row.pk).status == "NOT_DUE"  # a duplicate before the backoff ends
        due = row.next_attempt_at
        with time_machine.travel(due, tick=False):
            result = outbox_deliver(message_id=row.pk)
        row.refresh_from_db()
        assert row.attempts == attempt
        if result.status == "PENDING":  # waits double: 30 s, 60 s, 120 s …
            assert row.next_attempt_at - due == timedelta(seconds=retry_delay(attempt))
    assert result.status == "SENT"
    assert row.status == "SENT"
    assert sink.attempts == 4 and len(sink.messages) == 1
    assert outbox_deliver(message_id=row.pk).status == "DONE"
    assert len(sink.messages) == 1


def test_backoff_doubles_up_to_its_cap(settings):
    settings.OUTBOX_RETRY_BACKOFF_SECONDS = 30
    settings.OUTBOX_RETRY_BACKOFF_MAX_SECONDS = 3600
    assert [retry_delay(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_a_permanent_failure_ends_as_failed_at_once(
    w, file_case, smtp_settings, django_capture_on_commit_callbacks
):
    smtp_settings.refuse.add(AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case(w.agent, w.acme)
    row = outbox_for(case).get()
    assert (row.status, row.attempts) == ("FAILED", 1)
    assert "550" in row.last_error
    assert outbox_deliver(message_id=row.pk).status == "DONE"  # no endless loop
    with time_machine.travel(timezone_now() + timedelta(hours=2), tick=False):
        assert outbox_sweep() == 0


def test_temporary_failures_stop_at_the_attempt_cap(
    w, file_case, smtp_settings, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_settings.fail_next = 100
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case(w.agent, w.acme)
    row = outbox_for(case).get()
    for _ in range(5):
        with time_machine.travel(row.next_attempt_at + timedelta(seconds=1), tick=False):
            outbox_deliver(message_id=row.pk)
        row.refresh_from_db()
    assert (row.status, row.attempts) == ("FAILED", 3)
    assert smtp_settings.attempts == 3
    assert "451" in row.last_error


def test_an_unreachable_smtp_server_is_a_temporary_failure(
    w, file_case, settings, django_capture_on_commit_callbacks
):
    from tests.notifications.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case(w.agent, w.acme)
    row = outbox_for(case).get()
    assert (row.status, row.attempts) == ("PENDING", 1)
    assert row.next_attempt_at > row.created_at
