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
from notifications.mail import render_message
from notifications.models import Notice, OutboxMessage
from notifications.selectors import notification_recipients, outbox_due_for_sweep, recipient_allowed

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
    """The mail an event makes, or None. SPEC §6: filed, support reply, state change,
    severity change, escalation, close, reopen, reminder, first-response breach — and
    "shared with you" for a subscriber added later."""
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
    }.get(kind)


def outbox_write_for_event(event: CaseEvent) -> list[OutboxMessage]:
    """Write the outbox rows for `event`, in the caller's transaction, and queue them
    once it commits. Precondition: `event` was just created in an open transaction (it is
    called from `cases.services._event`). Guarantees: at most one row per (event,
    recipient); only recipients allowed at this moment get a row."""
    if event.kind == Kind.CREATED:
        _filing_started(event.case_id)
    notice = notice_for_event(event)
    if notice is None:
        return []
    recipients = notification_recipients(event=event, notice=notice)
    if not recipients:
        return []
    number = event.case.number
    rows = [
        OutboxMessage.objects.create(
            event=event,
            case_id=event.case_id,
            notice=notice,
            recipient_email=recipient.address,
            recipient_user=recipient.user,
            reason=recipient.reason,
            message_id=thread_id(number) if notice == Notice.FILED else new_message_id(number, event.pk),
            created_at=event.created_at,
            next_attempt_at=event.created_at,
        )
        for recipient in recipients
    ]
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: outbox_enqueue(ids))
    return rows


# --------------------------------------------------------------------------- queueing


def outbox_enqueue(ids: list[int]) -> int:
    """Queue one send task per row. Never raises and never makes the caller wait for a
    broker that is down: one connection attempt, no retries. A row that could not be
    queued stays PENDING in the database and the sweep queues it later. Returns how many
    were queued."""
    from notifications.tasks import outbox_send  # the tasks module imports this one

    app = outbox_send.app
    if app.conf.task_always_eager:
        # No broker (the SQLite demo, most tests): send right here, after the commit.
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
                outbox_send.apply_async((pk,), retry=False, connection=conn)
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
    """Send one outbox row, at most once. Preconditions: none (any id, any number of
    times, from any number of workers). Guarantees: the mail is handed to the SMTP server
    only by the transaction that holds the row's lock and then marks it SENT; a recipient
    who may no longer receive it (lost access, unshared) gets nothing and the row is
    SKIPPED; a temporary failure schedules the next attempt with backoff, a permanent one
    or the last allowed attempt ends as FAILED for the operators."""
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("case__customer", "event__actor", "recipient_user")
            .filter(pk=message_id)
            .first()
        )
        if row is None:
            return Delivery("BUSY")  # being sent by another worker right now (or no such row)
        if row.status != Status.PENDING:
            return Delivery("DONE")
        now = timezone.now()
        if row.next_attempt_at > now:
            # A duplicate arriving before the backoff is over; the scheduled retry or the sweep sends it.
            return Delivery("NOT_DUE")
        if row.job_id is not None:
            allowed = job_mail_allowed(row)
        else:
            allowed = recipient_allowed(
                case_id=row.case_id, address=row.recipient_email, user=row.recipient_user, reason=row.reason
            )
        if not allowed:
            row.status = Status.SKIPPED
            row.last_error = "The recipient may no longer receive mail about this case."
            row.save(update_fields=["status", "last_error"])
            logger.info(
                "Outbox message %s skipped: %s lost access or was unshared.", row.pk, row.recipient_email
            )
            return Delivery(Status.SKIPPED)
        row.attempts += 1
        try:
            message = render_job_message(row) if row.job_id is not None else render_message(row)
        except Exception as error:
            logger.exception("Outbox message %s could not be rendered.", row.pk)
            return _failed(row, error, now=now, permanent=True)
        try:
            message.send()
        except Exception as error:
            return _failed(row, error, now=now, permanent=is_permanent_failure(error))
        row.status = Status.SENT
        row.sent_at = now
        row.last_error = ""
        row.save(update_fields=["status", "sent_at", "attempts", "last_error"])
    logger.info("Outbox message %s sent to %s.", message_id, row.recipient_email)
    return Delivery(Status.SENT)


def _failed(row: OutboxMessage, error: Exception, *, now: datetime, permanent: bool) -> Delivery:
    row.last_error = _describe(error)
    if permanent or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        row.status = Status.FAILED
        row.save(update_fields=["status", "attempts", "last_error"])
        logger.error(
            "Outbox message %s to %s failed for good after %d attempt(s): %s",
            row.pk,
            row.recipient_email,
            row.attempts,
            row.last_error,
        )
        return Delivery(Status.FAILED)
    delay = retry_delay(row.attempts)
    row.next_attempt_at = now + timedelta(seconds=delay)
    row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
    logger.warning(
        "Outbox message %s to %s failed (attempt %d), next in %d s: %s",
        row.pk,
        row.recipient_email,
        row.attempts,
        delay,
        row.last_error,
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
