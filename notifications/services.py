"""Writes for notifications: the outbox rows for a case event, sending one row exactly
once, the sweep that rescues rows whose task was lost, and the operators' retry.

How a mail leaves (docs/notifications.md):

1. `outbox_write_for_event` runs inside the transaction that changed the case (it is
   called from `cases.services._event`) and writes one row per recipient. Rolled back
   with the change, committed with it.
2. After commit, `outbox_enqueue` queues one Celery task per row id. When the broker is
   down, nothing is lost: the rows wait in PostgreSQL.
3. `outbox_deliver` sends a row while holding its row lock (SELECT … FOR UPDATE SKIP
   LOCKED), re-checks the recipient's access, and marks it SENT in the same transaction.
   A duplicate task finds the row locked or no longer PENDING and does nothing; a worker
   killed mid-send releases the lock with its connection, and the row is sent again later.
4. `outbox_sweep` (every minute, by beat) queues rows still pending a minute after they
   were due.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import Domain
from cases.models import CaseEvent
from notifications.addresses import new_message_id, thread_id
from notifications.job_mail import job_mail_allowed, render_job_message
from notifications.mail import render_mail
from notifications.models import JobRun, Notice, OutboxMessage
from notifications.selectors import (
    Recipient,
    event_is_support_only,
    is_support_recipient,
    notification_recipients,
    outbox_due_for_sweep,
    recipient_allowed,
    support_recipients,
)

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
Kind = CaseEvent.Kind


# --------------------------------------------------------------------------- which events mail


def _filings() -> dict[int, str | None]:
    """Cases filed in the current transaction: case id → the savepoint of the filing's
    atomic block (None when it is the outermost one). Committed entries are dropped on
    commit; entries of rolled-back cases name ids that are never used again."""
    conn = transaction.get_connection()
    if not hasattr(conn, "_notifications_filings"):
        conn._notifications_filings = {}
    return conn._notifications_filings


def _filing_started(case_id: int) -> None:
    savepoints = [sid for sid in transaction.get_connection().savepoint_ids if sid]
    _filings()[case_id] = savepoints[-1] if savepoints else None
    transaction.on_commit(lambda: _filings().pop(case_id, None))


def _still_filing(case_id: int) -> bool:
    """Are we still inside the atomic block that filed this case (`case_create`)?"""
    if case_id not in _filings():
        return False
    savepoint = _filings()[case_id]
    return savepoint is None or savepoint in transaction.get_connection().savepoint_ids


def notice_for_event(event: CaseEvent) -> str | None:
    """The mail an event makes for the customer side, or None. SPEC §6: filed, support
    reply, state change, severity change, escalation, close, reopen, reminder,
    first-response breach — and "shared with you" for a subscriber added later. Nothing
    support-only (R11), and nothing a periodic job wrote as not to be mailed."""
    if event_is_support_only(event) or _not_to_be_mailed(event):
        return None
    kind = event.kind
    if kind == Kind.CREATED:
        return Notice.FILED
    if kind == Kind.SUBSCRIBER_ADDED:
        # Named while filing: they get the filing mail; added later: "shared with you".
        return Notice.FILED if _still_filing(event.case_id) else Notice.SHARED
    if kind == Kind.COMMENTED:
        from_support = event.actor is not None and event.actor.domain.kind == Domain.Kind.SUPPORT
        return Notice.REPLY if from_support else None
    if kind == Kind.STATE_CHANGED:
        if event.after == "CLOSED":
            system = event.actor_id is None and not event.actor_email
            return Notice.AUTO_CLOSED if system else Notice.CLOSED
        if event.before == "CLOSED":
            return Notice.REOPENED
        return Notice.STATE
    return {
        Kind.PRIORITY_CHANGED: Notice.SEVERITY,
        Kind.ESCALATED: Notice.ESCALATED,
        Kind.AUTO_CLOSE_REMINDER: Notice.REMINDER,
        Kind.FIRST_RESPONSE_BREACHED: Notice.BREACH,
        Kind.NEXT_RESPONSE_BREACHED: Notice.BREACH,
    }.get(kind)


def support_notice_for_event(event: CaseEvent) -> str | None:
    """The mail an event makes for the support side (the assignee, the escalation address):
    a customer-side message, escalation, severity change, close or reopen."""
    if event.kind == Kind.COMMENTED and not event_is_support_only(event):
        return Notice.CUSTOMER_REPLY
    if event.kind in (Kind.ESCALATED, Kind.PRIORITY_CHANGED, Kind.STATE_CHANGED):
        return notice_for_event(event)
    return None


def _not_to_be_mailed(event: CaseEvent) -> bool:
    """A periodic job's event about something that fell due before the job ever ran here
    (`job_mail_cutoff`) says so in its `after`; it stays in the history, unmailed."""
    return isinstance(event.after, dict) and event.after.get("mailed") is False


def _wanted(recipients: list[Recipient], *, notice: str) -> list[Recipient]:
    """The recipients who want this kind of mail (a per-person preference filter goes here)."""
    return recipients


def _open_mail(*, case_id: int, address: str, now: datetime) -> OutboxMessage | None:
    """The first row of the mail to `address` about this case that is still collecting
    changes (its send time has not come), row-locked; None when there is none. SKIP LOCKED:
    a request never waits for a worker; if one holds the row, the change opens a new mail."""
    open_row = (
        OutboxMessage.objects.filter(
            case_id=case_id,
            recipient_email=address,
            status=Status.PENDING,
            attempts=0,
            next_attempt_at__gt=now,
        )
        .order_by("id")
        .values("message_id")
        .first()
    )
    if open_row is None:
        return None
    leader = (
        OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=_first_row_id(message_id=open_row["message_id"], address=address))
        .first()
    )
    if leader is None or leader.status != Status.PENDING or leader.attempts or leader.next_attempt_at <= now:
        return None
    return leader


def _first_row_id(*, message_id: str, address: str) -> int | None:
    return (
        OutboxMessage.objects.filter(message_id=message_id, recipient_email=address, status=Status.PENDING)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )


def outbox_write_for_event(event: CaseEvent) -> list[OutboxMessage]:
    """Write the outbox rows for `event`, in the caller's transaction, and queue them
    once it commits. Precondition: `event` was just created in an open transaction (it is
    called from `cases.services._event`). Guarantees: at most one row per (event,
    recipient); only recipients allowed at this moment get a row; a support-only event
    never gets a row for the customer side. A row joins the mail to the same address
    about the same case that is still collecting changes (NOTIFICATION_COALESCE_SECONDS
    from its first change) or opens one."""
    if event.kind == Kind.CREATED:
        _filing_started(event.case_id)
    wanted: list[tuple[Recipient, str]] = []
    notice = notice_for_event(event)
    if notice is not None:
        wanted += [
            (r, notice) for r in _wanted(notification_recipients(event=event, notice=notice), notice=notice)
        ]
    support_notice = support_notice_for_event(event)
    if support_notice is not None:
        taken = {r.address for r, _n in wanted}
        wanted += [
            (r, support_notice)
            for r in _wanted(support_recipients(event=event), notice=support_notice)
            if r.address not in taken
        ]
    if not wanted:
        return []
    number = event.case.number
    now = timezone.now()
    window = timedelta(seconds=settings.NOTIFICATION_COALESCE_SECONDS)
    rows = []
    for recipient, row_notice in wanted:
        leader = _open_mail(case_id=event.case_id, address=recipient.address, now=now) if window else None
        if leader is not None:
            message_id, send_at = leader.message_id, leader.next_attempt_at
        else:
            message_id = thread_id(number) if row_notice == Notice.FILED else new_message_id(number, event.pk)
            send_at = event.created_at + window
        rows.append(
            OutboxMessage.objects.create(
                event=event,
                case_id=event.case_id,
                notice=row_notice,
                recipient_email=recipient.address,
                recipient_user=recipient.user,
                reason=recipient.reason,
                message_id=message_id,
                created_at=event.created_at,
                next_attempt_at=send_at,
            )
        )
    by_time: dict[datetime, list[int]] = {}
    for row in rows:
        by_time.setdefault(row.next_attempt_at, []).append(row.pk)
    for send_at, ids in by_time.items():
        transaction.on_commit(lambda ids=ids, send_at=send_at: outbox_enqueue(ids, eta=send_at))
    return rows


# --------------------------------------------------------------------------- queueing


def outbox_enqueue(ids: list[int], *, eta: datetime | None = None) -> int:
    """Queue one send task per row, to run at `eta` (a coalesced mail's send time) or at
    once. Never raises and never makes the caller wait for a broker that is down: one
    connection attempt, no retries. A row that could not be queued stays PENDING in the
    database and the sweep queues it later. Returns how many were queued."""
    from notifications.tasks import outbox_send  # the tasks module imports this one

    app = outbox_send.app
    countdown = max(0.0, (eta - timezone.now()).total_seconds()) if eta is not None else 0.0
    if app.conf.task_always_eager:
        # No broker (the SQLite demo, most tests): send right here, after the commit. A mail
        # that collects changes first is left to the sweep (there is no broker to wait in).
        if countdown:
            return 0
        for pk in ids:
            try:
                outbox_send.apply_async((pk,))
            except Exception:
                logger.exception("Sending outbox message %s in-process failed; the sweep retries it.", pk)
        return len(ids)
    queued = 0
    try:
        with app.connection_for_write(connect_timeout=2, transport_options={"max_retries": 0}) as conn:
            for pk in ids:
                outbox_send.apply_async((pk,), retry=False, connection=conn, countdown=countdown or None)
                queued += 1
    except (BrokerError, ConnectionError, OSError, TimeoutError):
        logger.warning(
            "Broker unavailable: %d outbox message(s) wait in the database for the sweep.",
            len(ids) - queued,
            exc_info=True,
        )
    return queued


# --------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did. `retry_in`: seconds until the next attempt is due."""

    status: str  # SENT, FAILED, SKIPPED, PENDING (will retry), BUSY, DONE, NOT_DUE
    retry_in: int | None = None


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt: doubling from
    OUTBOX_RETRY_BACKOFF_SECONDS, capped at OUTBOX_RETRY_BACKOFF_MAX_SECONDS."""
    base = settings.OUTBOX_RETRY_BACKOFF_SECONDS
    return int(min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_BACKOFF_MAX_SECONDS))


def _smtp_code(error: Exception) -> int | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return min(codes) if codes else None
    return getattr(error, "smtp_code", None)


def is_permanent_failure(error: Exception) -> bool:
    """A 5xx answer means the server will never take this mail; anything else (4xx,
    timeouts, refused connections, a dropped line) may work next time."""
    code = _smtp_code(error)
    return isinstance(code, int) and 500 <= code < 600


def _describe(error: Exception) -> str:
    code = _smtp_code(error)
    text = f"{type(error).__name__}: {error}"
    return (f"SMTP {code} · " if code else "") + text[:1900]


def outbox_deliver(*, message_id: int) -> Delivery:
    """Send the mail an outbox row belongs to, at most once. A mail is every PENDING row
    with the row's Message-ID and recipient (the changes it collected); it is sent by the
    transaction that holds the lock of its first row and marks them all SENT.
    Preconditions: none (any id, any number of times, from any number of workers).
    Guarantees: the mail is handed to the SMTP server only by the transaction that holds
    the first row's lock and then marks every row of it SENT; a recipient who may no
    longer receive it (lost access, unshared, unassigned) gets nothing and the rows are
    SKIPPED, as is any support-only change for a customer-side recipient (R11); a
    temporary failure schedules the next attempt with backoff, a permanent one or the last
    allowed attempt ends as FAILED for the operators."""
    with transaction.atomic():
        target = (
            OutboxMessage.objects.filter(pk=message_id)
            .values("message_id", "recipient_email", "status")
            .first()
        )
        if target is None:
            return Delivery("BUSY")  # no such row
        if target["status"] != Status.PENDING:
            return Delivery("DONE")
        first_id = _first_row_id(message_id=target["message_id"], address=target["recipient_email"])
        row = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("case__customer", "event__actor", "recipient_user")
            .filter(pk=first_id)
            .first()
        )
        if row is None:
            return Delivery("BUSY")  # being sent by another worker right now
        if row.status != Status.PENDING:
            return Delivery("DONE")
        now = timezone.now()
        if row.next_attempt_at > now:
            # Still collecting changes, or a duplicate arriving before the backoff is over;
            # the scheduled task, the retry or the sweep sends it.
            return Delivery("NOT_DUE")
        if row.job_id is not None:  # "your export is ready": one row, about a job, not a case
            return _deliver_job_mail(row, now=now)
        rows = list(
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("case__customer", "event__actor", "recipient_user")
            .filter(message_id=row.message_id, recipient_email=row.recipient_email, status=Status.PENDING)
            .order_by("event__created_at", "event_id")
        )
        if not recipient_allowed(
            case_id=row.case_id, address=row.recipient_email, user=row.recipient_user, reason=row.reason
        ):
            _mark(
                rows,
                status=Status.SKIPPED,
                last_error="The recipient may no longer receive mail about this case.",
            )
            logger.info(
                "Outbox message %s skipped: %s lost access or was unshared.", row.pk, row.recipient_email
            )
            return Delivery(Status.SKIPPED)
        if not is_support_recipient(row.reason) and row.event_id is not None:  # domain mail has no event
            hidden = [r for r in rows if event_is_support_only(r.event)]
            if hidden:
                _mark(hidden, status=Status.SKIPPED, last_error="Support-only: never mailed to this side.")
                rows = [r for r in rows if r not in hidden]
            if not rows:
                return Delivery(Status.SKIPPED)
        for member in rows:
            member.attempts += 1
        try:
            message = render_mail(rows)
        except Exception as error:
            logger.exception("Outbox message %s could not be rendered.", row.pk)
            return _failed(rows, error, now=now, permanent=True)
        try:
            message.send()
        except Exception as error:
            return _failed(rows, error, now=now, permanent=is_permanent_failure(error))
        _mark(rows, status=Status.SENT, sent_at=now, last_error="")
    logger.info("Outbox message %s sent to %s (%d change(s)).", message_id, row.recipient_email, len(rows))
    return Delivery(Status.SENT)


def _deliver_job_mail(row: OutboxMessage, *, now: datetime) -> Delivery:
    """The job's mail (notifications.job_mail), under the row lock `outbox_deliver` holds."""
    if not job_mail_allowed(row):
        _mark(
            [row], status=Status.SKIPPED, last_error="The file expired, or the account is no longer active."
        )
        return Delivery(Status.SKIPPED)
    row.attempts += 1
    try:
        message = render_job_message(row)
    except Exception as error:
        logger.exception("Outbox message %s could not be rendered.", row.pk)
        return _failed([row], error, now=now, permanent=True)
    try:
        message.send()
    except Exception as error:
        return _failed([row], error, now=now, permanent=is_permanent_failure(error))
    _mark([row], status=Status.SENT, sent_at=now, last_error="")
    logger.info("Outbox message %s (job) sent to %s.", row.pk, row.recipient_email)
    return Delivery(Status.SENT)


def _mark(rows: list[OutboxMessage], **values) -> None:
    for member in rows:
        for name, value in values.items():
            setattr(member, name, value)
    OutboxMessage.objects.bulk_update(rows, [*values, "attempts"])


def _failed(rows: list[OutboxMessage], error: Exception, *, now: datetime, permanent: bool) -> Delivery:
    row = rows[0]
    last_error = _describe(error)
    if permanent or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        _mark(rows, status=Status.FAILED, last_error=last_error)
        logger.error(
            "Outbox message %s to %s failed for good after %d attempt(s): %s",
            row.pk,
            row.recipient_email,
            row.attempts,
            last_error,
        )
        return Delivery(Status.FAILED)
    delay = retry_delay(row.attempts)
    _mark(rows, last_error=last_error, next_attempt_at=now + timedelta(seconds=delay))
    logger.warning(
        "Outbox message %s to %s failed (attempt %d), next in %d s: %s",
        row.pk,
        row.recipient_email,
        row.attempts,
        delay,
        last_error,
    )
    return Delivery(Status.PENDING, retry_in=delay)


# --------------------------------------------------------------------------- sweep and retry


def outbox_sweep(*, limit: int = 500) -> int:
    """Queue the pending rows whose task was lost (see `outbox_due_for_sweep`). Safe to
    run twice at once: each run takes its rows with SKIP LOCKED and stamps them, and
    sending is idempotent anyway. Returns how many rows were queued."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            outbox_due_for_sweep(now=now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=ids).update(last_queued_at=now)
    if ids:
        logger.info("Outbox sweep queues %d pending message(s).", len(ids))
        outbox_enqueue(ids)
    return len(ids)


@transaction.atomic
def outbox_retry(*, message_ids: list[int]) -> int:
    """An operator's retry of failed mail: the rows are PENDING again with a fresh count
    of attempts, and are queued after commit. Sent and pending rows are left alone."""
    rows = OutboxMessage.objects.select_for_update().filter(pk__in=message_ids, status=Status.FAILED)
    ids = list(rows.values_list("pk", flat=True))
    OutboxMessage.objects.filter(pk__in=ids).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_queued_at=None
    )
    if ids:
        transaction.on_commit(lambda: outbox_enqueue(ids))
    return len(ids)


# --------------------------------------------------------------------------- periodic jobs


def job_mail_cutoff(*, job: str, now: datetime) -> datetime | None:
    """What a periodic job may still mail about: on its first run here, only what fell due
    within JOB_FIRST_RUN_LOOKBACK_SECONDS (a fresh install or the demo data starts quiet);
    on every later run, everything (None). Records the run."""
    run, created = JobRun.objects.get_or_create(name=job, defaults={"first_run_at": now, "last_run_at": now})
    if not created:
        JobRun.objects.filter(pk=job).update(last_run_at=now)
        # A first run that did not finish (a batch limit, a crash) keeps its look-back.
        if run.first_run_at < now - timedelta(seconds=settings.JOB_FIRST_RUN_LOOKBACK_SECONDS):
            return None
    return run.first_run_at - timedelta(seconds=settings.JOB_FIRST_RUN_LOOKBACK_SECONDS)
