"""Issue 13, mail that helps: the changes of one case within NOTIFICATION_COALESCE_SECONDS
reach each recipient as one mail listing every change as it happened; support hears of
customer replies and escalations; support-only events never reach the customer side; a
job's first run is quiet about old work."""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case, CaseEvent, Comment
from cases.services import (
    _event,
    case_assign,
    case_change_priority,
    case_comment_add,
    case_escalate,
    case_note_add,
    case_set_state,
)
from cases.system_services import cases_auto_close_run, cases_flag_first_response_breaches_run
from notifications.models import OutboxMessage
from notifications.services import outbox_sweep

WINDOW = 120
T0 = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
AGENT = "agent@reseller.example.com"
BOSS = "boss@acme.example"
ENGINEER = "engineer@support.example"


@contextmanager
def at(moment):
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def coalescing(settings):
    settings.NOTIFICATION_COALESCE_SECONDS = WINDOW
    return settings


@pytest.fixture
def change(django_capture_on_commit_callbacks):
    """Make a change at a moment, as a request would (its commit queues its mail)."""

    def run(moment, func):
        with at(moment), django_capture_on_commit_callbacks(execute=True):
            return func()

    return run


@pytest.fixture
def beat(mailoutbox, django_capture_on_commit_callbacks):
    """The sweep at a moment (beat, every minute): sends every mail whose time has come.
    Returns the mail sent by this run."""

    def run(moment):
        before = len(mailoutbox)
        with at(moment), django_capture_on_commit_callbacks(execute=True):
            outbox_sweep()
        return mailoutbox[before:]

    return run


@pytest.fixture
def case(w, file_case, change, beat, mailoutbox):
    """A delegated case of Acme shared with a colleague; its filing mail already sent."""
    filed = change(T0, lambda: file_case(w.agent, w.acme, subscribers=[BOSS]))
    beat(T0 + timedelta(minutes=4))
    assert {m.to[0] for m in mailoutbox} == {AGENT, BOSS}
    return filed


def by_recipient(mails) -> dict[str, list]:
    found: dict[str, list] = {}
    for mail in mails:
        found.setdefault(mail.to[0], []).append(mail)
    return found


# --------------------------------------------------------------------------- coalescing


def test_three_changes_in_30_seconds_are_one_mail_per_recipient_naming_all_three(
    w, coalescing, case, change, beat
):
    t = T0 + timedelta(minutes=10)
    change(t, lambda: case_comment_add(user=w.engineer, case=case, body="Which browser shows the error?"))
    change(
        t + timedelta(seconds=15), lambda: case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
    )
    change(t + timedelta(seconds=30), lambda: case_change_priority(user=w.engineer, case=case, priority="P2"))
    assert beat(t + timedelta(seconds=60)) == []  # still collecting
    mails = by_recipient(beat(t + timedelta(seconds=WINDOW + 61)))
    assert set(mails) == {AGENT, BOSS}
    for _address, (mail,) in mails.items():  # exactly one each
        body, html = mail.body, mail.alternatives[0][0]
        assert "Which browser shows the error?" in body and "Which browser shows the error?" in html
        assert "The state of the case changed from “New” to “Action required”" in body
        assert "Support is waiting for your answer to the question above." in body
        assert "The severity of the case changed from “P3 – Medium impact” to “P2 – High impact”" in body
        assert (
            body.index("Which browser") < body.index("“Action required”") < body.index("“P2 – High impact”")
        )
        assert mail.subject == (
            f"[Case {case.number}] New reply from support · State: Action required · "
            f"Severity: P2 – High impact — {case.title}"
        )
        assert mail.extra_headers["X-Portal-Notice"] == "reply,state,severity"
    assert OutboxMessage.objects.filter(case=case, status="PENDING").count() == 0
    assert OutboxMessage.objects.filter(case=case, status="SENT").count() == 2 + 6  # filing + 3 changes × 2

    # A change three minutes after the first one is a second mail, about it alone.
    change(t + timedelta(minutes=3), lambda: case_comment_add(user=w.engineer, case=case, body="Any news?"))
    second = by_recipient(beat(t + timedelta(minutes=3, seconds=WINDOW + 61)))
    assert set(second) == {AGENT, BOSS}
    for address, (mail,) in second.items():
        assert "Any news?" in mail.body and "Which browser" not in mail.body
        assert mail.extra_headers["Message-ID"] != mails[address][0].extra_headers["Message-ID"]
    assert beat(t + timedelta(minutes=30)) == []  # and nothing twice


def test_a_mail_describes_its_changes_as_they_happened_not_the_case_at_send_time(
    w, coalescing, case, change, beat
):
    t = T0 + timedelta(minutes=10)
    change(t, lambda: case_set_state(user=w.engineer, case=case, state="IN_PROGRESS_GOOGLE_SUPPORT"))
    change(
        t + timedelta(seconds=10), lambda: case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
    )
    # Before that mail leaves, the case moves on (a later mail announces that).
    change(
        t + timedelta(minutes=5), lambda: case_comment_add(user=w.acme_user, case=case, body="Here it is.")
    )
    assert Case.objects.get(pk=case.pk).state == "IN_PROGRESS_GOOGLE_SUPPORT"
    mail = by_recipient(beat(t + timedelta(minutes=6)))[AGENT][0]
    first = mail.body.split("\n\nCase ")[0]
    assert "from “New” to “In progress (support)”" in first
    assert "from “In progress (support)” to “Action required”" in first
    assert "State: Action required" in mail.body  # as of its last change, not "In progress"


def test_the_action_required_mail_quotes_the_question(w, coalescing, case, change, beat):
    t = T0 + timedelta(minutes=10)
    change(t, lambda: case_comment_add(user=w.engineer, case=case, body="Please send the full headers."))
    beat(t + timedelta(minutes=4))

    # An internal note after the question is never quoted (R11).
    change(t + timedelta(minutes=5), lambda: case_note_add(user=w.engineer, case=case, body="SENTINEL-note"))
    change(
        t + timedelta(minutes=6), lambda: case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
    )
    mails = by_recipient(beat(t + timedelta(minutes=10)))
    assert set(mails) == {AGENT, BOSS}
    for (mail,) in mails.values():
        assert "Support is waiting for your answer to this question:" in mail.body
        assert (
            "Please send the full headers." in mail.body
            and "Please send the full headers." in mail.alternatives[0][0]
        )
        assert "SENTINEL" not in mail.body and "SENTINEL" not in mail.alternatives[0][0]


# --------------------------------------------------------------------------- support-only (R11)


def test_support_only_events_never_reach_the_customer_side(
    w, case, change, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()

    def notes():
        case_note_add(user=w.engineer, case=case, body="SENTINEL-one")
        # An internal comment named by a message event is refused all the same.
        other = Comment.objects.create(
            case=case, author=w.engineer, from_support=True, internal=True, body="SENTINEL-two"
        )
        return _event(case, actor=w.engineer, kind=CaseEvent.Kind.COMMENTED, after={"comment": other.pk})

    flagged = change(T0 + timedelta(minutes=10), notes)
    assert not OutboxMessage.objects.filter(case=case, created_at__gte=T0 + timedelta(minutes=9)).exists()
    assert mailoutbox == []
    # Even a row that somehow names one (a flag set after the row was written) is never sent.
    row = OutboxMessage.objects.create(
        event=flagged,
        case=case,
        notice="reply",
        recipient_email=AGENT,
        recipient_user=w.agent,
        reason="creator",
        message_id="<x@portal.example>",
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )
    from notifications.services import outbox_deliver

    assert outbox_deliver(message_id=row.pk).status == "SKIPPED"
    assert mailoutbox == []


# --------------------------------------------------------------------------- support gets mail


def test_the_assigned_engineer_is_mailed_when_the_customer_replies_or_escalates(
    w, file_case, change, mailoutbox
):
    case = change(T0, lambda: file_case(w.agent, w.acme))
    change(T0, lambda: case_assign(user=w.engineer, case=case, assignee=w.engineer))
    mailoutbox.clear()
    change(
        T0 + timedelta(minutes=1),
        lambda: case_comment_add(user=w.acme_user, case=case, body="It happens again."),
    )
    mail = by_recipient(mailoutbox)[ENGINEER][0]
    assert "It happens again." in mail.body
    assert "because the case is assigned to you" in mail.body
    assert mail.subject.startswith(f"[Case {case.number}] New message from ")

    mailoutbox.clear()
    change(
        T0 + timedelta(minutes=2),
        lambda: case_escalate(
            user=w.acme_user, case=case, reason="BUSINESS_IMPACT", justification="Payroll is late."
        ),
    )
    mail = by_recipient(mailoutbox)[ENGINEER][0]
    assert "escalated the case" in mail.body and "Payroll is late." in mail.body
    assert "Business impact" in mail.body or "business" in mail.body.lower()

    # The engineer's own reply mails the customer side, not the engineer.
    mailoutbox.clear()
    change(T0 + timedelta(minutes=3), lambda: case_comment_add(user=w.engineer, case=case, body="On it."))
    assert ENGINEER not in by_recipient(mailoutbox) and AGENT in by_recipient(mailoutbox)


def test_an_unassigned_escalation_goes_to_the_support_address(w, file_case, change, mailoutbox, settings):
    settings.SUPPORT_ESCALATION_EMAIL = "queue@support.example"
    case = change(T0, lambda: file_case(w.agent, w.acme))
    change(T0, lambda: case_comment_add(user=w.acme_user, case=case, body="Unassigned: nobody is mailed."))
    assert "queue@support.example" not in by_recipient(mailoutbox)
    mailoutbox.clear()
    change(
        T0 + timedelta(minutes=1),
        lambda: case_escalate(
            user=w.agent, case=case, reason="RESOLUTION_TIME", justification="Two days waiting."
        ),
    )
    mail = by_recipient(mailoutbox)["queue@support.example"][0]
    assert "Two days waiting." in mail.body
    assert "escalations of cases nobody is assigned to" in mail.body


# --------------------------------------------------------------------------- quiet first start


def test_a_jobs_first_run_mails_nothing_that_fell_due_before_its_look_back(
    w, file_case, change, mailoutbox, django_capture_on_commit_callbacks
):
    Case.objects.update(state="CLOSED", closed_at=T0, first_response_breached_at=T0)
    old = change(T0, lambda: file_case(w.acme_user, w.acme, priority="P1"))  # due 15 minutes later
    mailoutbox.clear()
    with at(T0 + timedelta(hours=3)), django_capture_on_commit_callbacks(execute=True):
        assert cases_flag_first_response_breaches_run() == 1  # the first run: flagged, not mailed
    assert mailoutbox == []
    event = CaseEvent.objects.get(case=old, kind="FIRST_RESPONSE_BREACHED")
    assert event.after["mailed"] is False
    # A breach after the first run is mailed as always.
    new = change(T0 + timedelta(hours=3), lambda: file_case(w.acme_user, w.acme, priority="P1"))
    mailoutbox.clear()
    with at(T0 + timedelta(hours=3, minutes=20)), django_capture_on_commit_callbacks(execute=True):
        assert cases_flag_first_response_breaches_run() == 1
    assert [(m.extra_headers["X-Portal-Notice"], m.to[0]) for m in mailoutbox] == [
        ("breach", "user@acme.example")
    ]
    assert "mailed" not in CaseEvent.objects.get(case=new, kind="FIRST_RESPONSE_BREACHED").after


def test_the_demo_starts_quiet(db, mailoutbox, django_capture_on_commit_callbacks):
    from portal.demo import seed_demo

    seed_demo()
    rows = OutboxMessage.objects.count()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        flagged = cases_flag_first_response_breaches_run()
        cases_auto_close_run()
        outbox_sweep()
    assert flagged > 0  # the demo has overdue cases …
    assert mailoutbox == []  # … and says nothing about them
    assert OutboxMessage.objects.count() == rows


# --------------------------------------------------------------------------- real workers


def test_a_worker_killed_mid_window_loses_nothing_and_doubles_nothing(
    start_worker, smtp_sink, w, file_case, settings
):
    from notifications.tasks import outbox_send
    from notifications.tasks import outbox_sweep as sweep_task
    from tests.notifications.conftest import wait_until
    from tests.notifications.test_reliability import task_results

    worker = start_worker()
    case = file_case(w.acme_user, w.acme, subscribers=[BOSS])  # window 0: the filing mail leaves at once
    wait_until(lambda: len(smtp_sink.messages) == 2, message="the filing mail")
    settings.NOTIFICATION_COALESCE_SECONDS = 10  # long enough to kill the worker inside it on a busy machine
    case_comment_add(user=w.engineer, case=case, body="Which client do you use?")
    case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
    case_change_priority(user=w.engineer, case=case, priority="P2")
    rows = list(OutboxMessage.objects.filter(case=case, status="PENDING").values_list("pk", flat=True))
    assert len(rows) == 6  # 3 changes × 2 recipients, all waiting in one mail each
    wait_until(  # the worker holds the six delayed tasks (2 filing tasks came before)
        lambda: len(re.findall(r"outbox_send\[[^\]]+\] received", worker.log.read_text())) >= 2 + 6,
        message="the delayed tasks to reach the worker",
    )
    worker.kill()  # SIGKILL while its tasks wait for the window to end
    assert OutboxMessage.objects.filter(pk__in=rows, status="PENDING").count() == 6
    assert len(smtp_sink.messages) == 2

    restarted = start_worker(CELERY_VISIBILITY_TIMEOUT="3")  # also redelivers the killed worker's tasks
    wait_until(
        lambda: OutboxMessage.objects.filter(pk__in=rows, next_attempt_at__lte=timezone.now()).count() == 6,
        timeout=40,
        message="the window to end",
    )
    sweep_task.delay()  # what beat sends every minute
    wait_until(lambda: len(smtp_sink.messages) == 4, message="the coalesced mail")
    for pk in rows:  # and every task again, as a redelivery would
        outbox_send.delay(pk)
    wait_until(
        lambda: task_results(restarted, "DONE") >= 6, timeout=30, message="the duplicates to be handled"
    )
    later = smtp_sink.messages[2:]
    assert sorted(str(m["To"]) for m in later) == [BOSS, "user@acme.example"]
    for mail in later:
        text = mail.get_body(("plain",)).get_content()
        assert (
            "Which client do you use?" in text
            and "“Action required”" in text
            and "“P2 – High impact”" in text
        )
    assert len(smtp_sink.messages) == 4
    assert OutboxMessage.objects.filter(pk__in=rows, status="SENT", attempts=1).count() == 6
    assert task_results(worker, "SENT") == 2  # the filing mails, before it was killed


def test_a_case_reassigned_before_its_mail_leaves_mails_the_new_engineer_only(
    w, coalescing, file_case, change, beat, mailoutbox
):
    from accounts.models import User

    second = User.objects.create_user("second@support.example", "x-long-password-1", domain=w.support)
    case = change(T0, lambda: file_case(w.agent, w.acme))
    change(T0, lambda: case_assign(user=w.engineer, case=case, assignee=w.engineer))
    t = T0 + timedelta(minutes=10)
    change(t, lambda: case_comment_add(user=w.acme_user, case=case, body="Still broken."))
    change(t + timedelta(seconds=30), lambda: case_assign(user=w.engineer, case=case, assignee=second))
    mailoutbox.clear()
    assert ENGINEER not in by_recipient(beat(t + timedelta(minutes=4)))
    assert (
        OutboxMessage.objects.get(case=case, recipient_email=ENGINEER, notice="customer_reply").status
        == "SKIPPED"
    )
    change(t + timedelta(minutes=5), lambda: case_comment_add(user=w.acme_user, case=case, body="Hello?"))
    mails = by_recipient(beat(t + timedelta(minutes=9)))
    assert "Hello?" in mails["second@support.example"][0].body and ENGINEER not in mails
