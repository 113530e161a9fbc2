"""SPEC §4 and issue 5: the periodic jobs — auto-close after N days without a customer-side
reply with a reminder at N−2, lock marking 30 days after closing, first-response breaches —
each safe to run twice at the same time."""

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cases.models import Case, CaseEvent
from cases.services import case_comment_add, case_set_state
from cases.system_services import (
    cases_auto_close_run,
    cases_flag_first_response_breaches_run,
    cases_mark_locked_run,
)
from notifications.models import JobRun, Notice, OutboxMessage
from portal.celery import app as celery_app

T0 = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
DAY = timedelta(days=1)


@contextmanager
def at(moment):
    with time_machine.travel(moment, tick=False):
        yield


def notices(mailoutbox) -> list[tuple[str, str]]:
    return sorted((m.extra_headers["X-Portal-Notice"], m.to[0]) for m in mailoutbox)


@pytest.fixture(autouse=True)
def settled_world(request):
    """The demo cases are settled (closed, locked, flagged), so that each job works only on
    the cases a test files and its counts are exact."""
    request.getfixturevalue("transactional_db" if "committed_world" in request.fixturenames else "db")
    if "committed_world" in request.fixturenames:
        request.getfixturevalue("committed_world")
    now = timezone.now()
    Case.objects.update(state="CLOSED", closed_at=now, locked_at=now, first_response_breached_at=now)
    # The jobs ran here before (a first run is quiet about old work: test_first_start_is_quiet).
    for job in ("cases_auto_close", "cases_flag_first_response_breaches"):
        JobRun.objects.update_or_create(
            name=job, defaults={"first_run_at": now - 365 * DAY, "last_run_at": now}
        )


@pytest.fixture
def run(django_capture_on_commit_callbacks, mailoutbox):
    """Run a job as beat would at `moment`; its mail goes out as its transactions commit."""

    def run_job(job, moment):
        mailoutbox.clear()
        with at(moment), django_capture_on_commit_callbacks(execute=True):
            return job()

    return run_job


@pytest.fixture
def waiting_case(w, file_case):
    """Filed by Acme's user at T0 and answered with a solution at once: it waits on the customer."""
    with at(T0):
        case = file_case(w.acme_user, w.acme, subscribers=["boss@acme.example"])
        case_comment_add(user=w.engineer, case=case, body="Try clearing the queue.")
        case_set_state(user=w.engineer, case=case, state="SOLUTION_PROVIDED")
    return case


# --------------------------------------------------------------------------- auto-close


def test_the_reminder_goes_n_minus_2_days_into_the_wait_and_only_once(waiting_case, run, mailoutbox):
    assert settings.CASE_AUTO_CLOSE_DAYS == 7
    assert run(cases_auto_close_run, T0 + 5 * DAY - timedelta(minutes=1)) == {"reminded": 0, "closed": 0}
    assert run(cases_auto_close_run, T0 + 5 * DAY) == {"reminded": 1, "closed": 0}
    assert notices(mailoutbox) == [
        (Notice.REMINDER, "boss@acme.example"),
        (Notice.REMINDER, "user@acme.example"),
    ]
    assert run(cases_auto_close_run, T0 + 5 * DAY + timedelta(hours=6)) == {"reminded": 0, "closed": 0}
    assert mailoutbox == []
    waiting_case.refresh_from_db()
    assert waiting_case.reminder_sent_at == T0 + 5 * DAY
    assert waiting_case.events.filter(kind=CaseEvent.Kind.AUTO_CLOSE_REMINDER).count() == 1


def test_a_waiting_case_is_closed_after_n_days_without_a_customer_reply(waiting_case, run, mailoutbox):
    run(cases_auto_close_run, T0 + 5 * DAY)
    version = Case.objects.get(pk=waiting_case.pk).version
    assert run(cases_auto_close_run, T0 + 7 * DAY - timedelta(minutes=1))["closed"] == 0
    assert run(cases_auto_close_run, T0 + 7 * DAY) == {"reminded": 0, "closed": 1}
    case = Case.objects.get(pk=waiting_case.pk)
    assert case.state == "CLOSED" and case.closed_at == T0 + 7 * DAY and case.version == version + 1
    event = case.events.filter(kind=CaseEvent.Kind.STATE_CHANGED).last()
    assert (event.before, event.after, event.actor, event.actor_email) == (
        "SOLUTION_PROVIDED",
        "CLOSED",
        None,
        "",
    )
    assert notices(mailoutbox) == [
        (Notice.AUTO_CLOSED, "boss@acme.example"),
        (Notice.AUTO_CLOSED, "user@acme.example"),
    ]
    assert run(cases_auto_close_run, T0 + 8 * DAY) == {"reminded": 0, "closed": 0}


def test_a_customer_reply_starts_the_wait_again(w, waiting_case, run):
    run(cases_auto_close_run, T0 + 5 * DAY)
    with at(T0 + 6 * DAY):
        case_comment_add(user=w.acme_user, case=waiting_case, body="Still broken after clearing it.")
    assert Case.objects.get(pk=waiting_case.pk).state == "IN_PROGRESS_GOOGLE_SUPPORT"
    with at(T0 + 6 * DAY + timedelta(hours=1)):
        case_set_state(user=w.engineer, case=waiting_case, state="ACTION_REQUIRED")
    restart = T0 + 6 * DAY + timedelta(hours=1)
    assert run(cases_auto_close_run, T0 + 8 * DAY) == {"reminded": 0, "closed": 0}
    assert run(cases_auto_close_run, restart + 5 * DAY) == {"reminded": 1, "closed": 0}
    assert run(cases_auto_close_run, restart + 7 * DAY) == {"reminded": 0, "closed": 1}


def test_a_late_reminder_still_gives_the_customer_its_two_days(waiting_case, run):
    # Beat was down for days: the reminder goes out at day 10; closing waits until day 12.
    assert run(cases_auto_close_run, T0 + 10 * DAY) == {"reminded": 1, "closed": 0}
    assert run(cases_auto_close_run, T0 + 12 * DAY - timedelta(minutes=1))["closed"] == 0
    assert run(cases_auto_close_run, T0 + 12 * DAY)["closed"] == 1


def test_cases_waiting_on_support_are_never_closed_automatically(w, file_case, run):
    with at(T0):
        case = file_case(w.acme_user, w.acme)
        case_set_state(user=w.engineer, case=case, state="IN_PROGRESS_GOOGLE_SUPPORT")
    assert run(cases_auto_close_run, T0 + 60 * DAY) == {"reminded": 0, "closed": 0}
    assert Case.objects.get(pk=case.pk).state == "IN_PROGRESS_GOOGLE_SUPPORT"


def test_the_wait_follows_the_setting(waiting_case, run, settings):
    settings.CASE_AUTO_CLOSE_DAYS = 3
    assert run(cases_auto_close_run, T0 + 1 * DAY) == {"reminded": 1, "closed": 0}
    assert run(cases_auto_close_run, T0 + 3 * DAY) == {"reminded": 0, "closed": 1}


# --------------------------------------------------------------------------- lock marking


def test_a_closed_case_is_marked_locked_once_its_reopen_window_is_over(w, file_case, run, mailoutbox):
    with at(T0):
        case = file_case(w.acme_user, w.acme)
        case_set_state(user=w.acme_user, case=case, state="CLOSED")
    before = Case.objects.get(pk=case.pk)
    assert run(cases_mark_locked_run, T0 + 30 * DAY - timedelta(minutes=1)) == 0
    assert run(cases_mark_locked_run, T0 + 30 * DAY) == 1
    after = Case.objects.get(pk=case.pk)
    assert after.locked_at == T0 + 30 * DAY
    # A record, not a change anybody made: the case keeps its place in "My cases" and its version.
    assert (after.updated_at, after.version) == (before.updated_at, before.version)
    assert after.events.filter(kind=CaseEvent.Kind.LOCKED).count() == 1
    assert mailoutbox == []
    assert run(cases_mark_locked_run, T0 + 31 * DAY) == 0


# --------------------------------------------------------------------------- first response


def test_a_missed_first_response_target_is_flagged_and_mailed_once(w, file_case, run, mailoutbox):
    with at(T0):  # Acme is Premium: P1 must be answered within 15 minutes
        case = file_case(w.acme_user, w.acme, priority="P1", subscribers=["boss@acme.example"])
    assert run(cases_flag_first_response_breaches_run, T0 + timedelta(minutes=14)) == 0
    assert run(cases_flag_first_response_breaches_run, T0 + timedelta(minutes=15)) == 1
    assert notices(mailoutbox) == [(Notice.BREACH, "boss@acme.example"), (Notice.BREACH, "user@acme.example")]
    assert Case.objects.get(pk=case.pk).first_response_breached_at == T0 + timedelta(minutes=15)
    assert run(cases_flag_first_response_breaches_run, T0 + timedelta(hours=3)) == 0
    assert mailoutbox == []


def test_targets_follow_tier_and_priority(w, file_case, run):
    with at(T0):  # Globex is Standard (P4: 24 h), Initech Enhanced (P2: 4 h)
        globex = file_case(w.globex_admin, w.globex, priority="P4")
        initech = file_case(w.initech_admin, w.initech, priority="P2")
    assert run(cases_flag_first_response_breaches_run, T0 + timedelta(hours=4)) == 1
    assert Case.objects.get(pk=initech.pk).first_response_breached_at is not None
    assert Case.objects.get(pk=globex.pk).first_response_breached_at is None
    assert run(cases_flag_first_response_breaches_run, T0 + timedelta(hours=24)) == 1


def test_an_answered_case_or_a_test_case_is_never_flagged(w, file_case, run):
    with at(T0):
        answered = file_case(w.acme_user, w.acme, priority="P1")
        case_comment_add(user=w.engineer, case=answered, body="On it.")
        file_case(w.acme_user, w.acme, priority="P1", is_test=True)
    assert run(cases_flag_first_response_breaches_run, T0 + DAY) == 0


# --------------------------------------------------------------------------- twice at the same time


def _in_threads(count: int, job):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def target():
        try:
            barrier.wait()
            results.append(job())
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def test_beats_job_run_twice_at_once_closes_once_and_mails_once(committed_world, w, file_case, mailoutbox):
    assert celery_app.conf.task_always_eager  # each run's mail leaves when its transaction commits
    with at(T0):
        case = file_case(w.acme_user, w.acme)
        case_set_state(user=w.engineer, case=case, state="SOLUTION_PROVIDED")
    with at(T0 + 5 * DAY):
        assert cases_auto_close_run()["reminded"] == 1
    mailoutbox.clear()
    with at(T0 + 7 * DAY):
        results = _in_threads(2, cases_auto_close_run)
    assert sum(r["closed"] for r in results) == 1 and sum(r["reminded"] for r in results) == 0
    assert Case.objects.get(pk=case.pk).state == "CLOSED"
    assert CaseEvent.objects.filter(case=case, kind="STATE_CHANGED", after="CLOSED").count() == 1
    assert notices(mailoutbox) == [(Notice.AUTO_CLOSED, "user@acme.example")]
    assert OutboxMessage.objects.filter(case=case, notice=Notice.AUTO_CLOSED).count() == 1


def test_breach_job_run_twice_at_once_flags_once(committed_world, w, file_case, mailoutbox):
    with at(T0):
        case = file_case(w.acme_user, w.acme, priority="P1")
    mailoutbox.clear()
    with at(T0 + timedelta(hours=1)):
        results = _in_threads(2, cases_flag_first_response_breaches_run)
    assert sum(results) == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FIRST_RESPONSE_BREACHED).count() == 1
    assert notices(mailoutbox) == [(Notice.BREACH, "user@acme.example")]


def test_a_job_skips_a_case_another_run_holds_instead_of_waiting(committed_world, w, file_case):
    with at(T0):
        case = file_case(w.acme_user, w.acme)
        case_set_state(user=w.engineer, case=case, state="SOLUTION_PROVIDED")
    with at(T0 + 5 * DAY):
        cases_auto_close_run()
    with at(T0 + 7 * DAY):
        with transaction.atomic():
            Case.objects.select_for_update().get(pk=case.pk)  # another run is working on it
            started = time.monotonic()
            assert _in_threads(1, cases_auto_close_run) == [{"reminded": 0, "closed": 0}]
            assert time.monotonic() - started < 5
        assert cases_auto_close_run()["closed"] == 1
