"""Rendering one outbox row into a mail: HTML and plain text, in the case's language and
time zone, with the case link, the reply address and the threading headers."""

import hashlib
import logging
import re
import smtplib
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cases.lifecycle import FIRST_RESPONSE_HOURS, first_response_due
from cases.models import Case, CaseEvent
from notifications.addresses import thread_headers, thread_id
from notifications.models import Notice, OutboxMessage
from notifications.selectors import reply_address_for

logger = logging.getLogger(__name__)

# The first line of every text mail. Everything below it in a reply is quoted mail and
# dropped (notifications.mailparse); it stays ASCII-framed so that it survives any client.
REPLY_MARKER = "##- Please type your reply above this line -##"


def case_url(number: int) -> str:
    """The case page (SPEC §5 fixes this address)."""
    return f"{settings.SITE_URL}/cases/{number}/"


def mail_subject(case: Case) -> str:
    title = " ".join((case.title or "").split())
    return f"[Case {case.number}] {title}"


def _zone(case: Case) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(case.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _when(value: datetime | None, case: Case) -> str:
    if value is None:
        return ""
    zone = _zone(case)
    return f"{formats.date_format(timezone.localtime(value, zone), 'DATETIME_FORMAT')} ({zone.key})"


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _actor_name(event: CaseEvent) -> str:
    if event.actor is not None:
        return event.actor.display_name
    return event.actor_email or _("The support portal")


def _details(row: OutboxMessage) -> dict:
    """What each kind of mail says beyond the case summary."""
    case, event, notice = row.case, row.event, row.notice
    details: dict = {}
    if notice in (Notice.FILED, Notice.SHARED):
        details["description"] = case.description
    elif notice == Notice.REPLY:
        comment = case.comments.filter(pk=(event.after or {}).get("comment")).first()
        details["comment_body"] = comment.body if comment else ""
    elif notice in (Notice.STATE, Notice.CLOSED, Notice.REOPENED):
        details["before"] = _label(Case.State, event.before)
        details["after"] = _label(Case.State, event.after)
        if notice == Notice.CLOSED or notice == Notice.STATE:
            details["reopen_days"] = settings.CASE_REOPEN_DAYS
    elif notice == Notice.AUTO_CLOSED:
        details["days"] = settings.CASE_AUTO_CLOSE_DAYS
        details["reopen_days"] = settings.CASE_REOPEN_DAYS
    elif notice == Notice.SEVERITY:
        details["before"] = _label(Case.Priority, event.before)
        details["after"] = _label(Case.Priority, event.after)
    elif notice == Notice.ESCALATED:
        details["escalation_reason"] = _label(Case.EscalationReason, case.escalation_reason)
        details["justification"] = case.escalation_justification
    elif notice == Notice.REMINDER:
        reminded_at = case.reminder_sent_at or event.created_at
        details["closes_at"] = _when(
            reminded_at + timedelta(days=settings.CASE_AUTO_CLOSE_REMINDER_DAYS), case
        )
        details["days"] = settings.CASE_AUTO_CLOSE_DAYS
    elif notice == Notice.BREACH:
        tier = case.customer.support_tier
        details["target_hours"] = formats.localize(FIRST_RESPONSE_HOURS[tier].get(case.priority, 24))
        details["due_at"] = _when(
            first_response_due(created_at=case.created_at, tier=tier, priority=case.priority), case
        )
    return details


def mail_context(row: OutboxMessage) -> dict:
    """Call inside the case's language and time zone (see `render_message`)."""
    case = row.case
    return {
        "notice": row.notice,
        "case": case,
        "subject": mail_subject(case),
        "customer_name": case.customer.name,
        "state": _label(Case.State, case.state),
        "priority": _label(Case.Priority, case.priority),
        "case_url": case_url(case.number),
        "reply_address": reply_address_for(case=case, address=row.recipient_email, user=row.recipient_user),
        "reply_marker": REPLY_MARKER,
        "actor_name": _actor_name(row.event),
        "event_at": _when(row.event.created_at, case),
        "reason_code": row.reason,
        "recipient": row.recipient_email,
        "language": translation.get_language(),
        **_details(row),
    }


def render_message(row: OutboxMessage) -> EmailMultiAlternatives:
    """The mail for one outbox row. The text part is the message; the HTML part says the same."""
    case = row.case
    language = case.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(_zone(case)):
        context = mail_context(row)
        text = render_to_string(f"notifications/{row.notice}.txt", context)
        html = render_to_string(f"notifications/{row.notice}.html", context)
    # Template tags leave blank lines behind; a text mail reads better without runs of them.
    text = re.sub(r"\n[ \t]*(\n[ \t]*)+\n", "\n\n", text).strip() + "\n"
    threading = thread_headers(number=case.number, message_id=row.message_id)
    headers = {
        "Message-ID": threading.message_id,
        # Auto-responders must not answer notifications (RFC 3834); Exchange honours the second.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "Content-Language": language,
        "X-Portal-Case": str(case.number),
        "X-Portal-Notice": row.notice,
    }
    if threading.in_reply_to:
        headers["In-Reply-To"] = threading.in_reply_to
        headers["References"] = thread_id(case.number)
    message = OutboxEmail(
        subject=mail_subject(case),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient_email],
        # Each recipient's own reply address (issue 16): a reply proves whose mail it answers.
        reply_to=[address] if (address := context["reply_address"]) else [],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    # One key per attempt: an attempt replayed after its worker died has the same one (the
    # transaction that would have counted it never committed); a scheduled retry or an
    # operator's retry has a new one (attempts, next_attempt_at).
    message.handoff = (
        row.pk,
        hashlib.sha256(f"{row.attempts}|{row.next_attempt_at.isoformat()}".encode()).hexdigest(),
    )
    return message


# --------------------------------------------------------------------------- the handoff to SMTP


def _handoff_connection():
    """A connection of its own, in autocommit: the record is durable at once, whatever
    becomes of the sending transaction. PostgreSQL only (the SQLite demo has no workers)."""
    import psycopg

    return psycopg.connect(**connection.get_connection_params(), autocommit=True)


_TABLE = "notifications_outboxhandoff"


class OutboxEmail(EmailMultiAlternatives):
    handoff: tuple[int, str] | None = None

    def send(self, fail_silently: bool = False) -> int:
        """Send, keeping a record of the handoff that outlives the worker (issue 16, finding
        10): written right before DATA, marked accepted the moment the server answers 250.
        An attempt replayed after its worker died finds it: accepted → the server has this
        Message-ID, so nothing is sent again and the row is marked sent (reconciled); handed
        but not accepted → the answer never came, so it is sent again, as before."""
        if self.handoff is None or connection.vendor != "postgresql":
            return super().send(fail_silently)
        outbox_id, key = self.handoff
        message_id = self.extra_headers.get("Message-ID", "")
        with _handoff_connection() as db:
            earlier = db.execute(
                f"SELECT accepted_at FROM {_TABLE} WHERE outbox_id = %s AND attempt_key = %s",
                (outbox_id, key),
            ).fetchone()
            if earlier and earlier[0] is not None:
                logger.warning(
                    "Outbox message %s: the SMTP server accepted %s before its worker stopped; not sent again.",
                    outbox_id,
                    message_id,
                )
                transaction.on_commit(lambda: _forget_after_commit(outbox_id, key))
                return 1
            if earlier:
                logger.warning(
                    "Outbox message %s: handed to the SMTP server before, without an answer; sending %s again.",
                    outbox_id,
                    message_id,
                )

            def mark_handed() -> None:
                db.execute(
                    f"INSERT INTO {_TABLE} (outbox_id, attempt_key, message_id, handed_at) "
                    "VALUES (%s, %s, %s, now()) ON CONFLICT DO NOTHING",
                    (outbox_id, key, message_id[:250]),
                )

            def mark_accepted() -> None:
                db.execute(
                    f"UPDATE {_TABLE} SET accepted_at = now() WHERE outbox_id = %s AND attempt_key = %s",
                    (outbox_id, key),
                )

            try:
                sent = self._send_marking(mark_handed, mark_accepted)
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
                # The server answered: it did not take the mail.
                db.execute(
                    f"DELETE FROM {_TABLE} WHERE outbox_id = %s AND attempt_key = %s", (outbox_id, key)
                )
                raise
        # Once SENT is committed the record has done its work.
        transaction.on_commit(lambda: _forget_after_commit(outbox_id, key))
        return sent

    def _send_marking(self, mark_handed, mark_accepted) -> int:
        backend = get_connection()
        if not isinstance(backend, SmtpBackend):
            mark_handed()
            sent = backend.send_messages([self])
            mark_accepted()
            return sent
        # Django's SMTP backend, step by step, so that the records frame the DATA command.
        backend.open()
        try:
            smtp = backend.connection
            encoding = self.encoding or settings.DEFAULT_CHARSET
            sender = sanitize_address(self.from_email, encoding)
            recipients = [sanitize_address(address, encoding) for address in self.recipients()]
            data = self.message().as_bytes(linesep="\r\n")
            smtp.ehlo_or_helo_if_needed()
            options = [f"size={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
            code, reply = smtp.mail(sender, options)
            if code != 250:
                smtp.rset()
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused = {}
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                if code not in (250, 251):
                    refused[recipient] = (code, reply)
            if len(refused) == len(recipients):
                smtp.rset()
                raise smtplib.SMTPRecipientsRefused(refused)
            mark_handed()
            code, reply = smtp.data(data)
            if code != 250:
                smtp.rset()
                raise smtplib.SMTPDataError(code, reply)
            mark_accepted()
            return 1
        finally:
            backend.close()


def _forget_after_commit(outbox_id: int, key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM notifications_outboxhandoff WHERE outbox_id = %s AND attempt_key = %s",
            [outbox_id, key],
        )
