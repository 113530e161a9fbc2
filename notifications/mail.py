"""Rendering one mail: the outbox rows (changes) it collected, each described as it
happened, from its event's before and after — never from the case as it is at send time —
in HTML and plain text, in the case's language and time zone, with the case link, the
reply address and the threading headers."""

import hashlib
import logging
import re
import smtplib
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.lifecycle import FIRST_RESPONSE_HOURS, first_response_due, next_response_hours
from cases.models import Case, CaseEvent, Comment
from notifications.addresses import thread_headers, thread_id
from notifications.models import Notice, OutboxMessage
from notifications.selectors import (
    case_state_as_of,
    comment_is_support_only,
    event_is_support_only,
    is_support_recipient,
    reply_address_for,
    support_messages_before,
)
from portal.when import zone_or_utc

logger = logging.getLogger(__name__)

# Everything below our marker line in a reply is quoted mail and dropped
# (notifications.mailparse reads any line framed as "##- … -##", in any language).
REPLY_MARKER = "##- Please type your reply above this line -##"
Kind = CaseEvent.Kind


def reply_marker() -> str:
    """The first line of every text mail, in the active language."""
    return _("##- Please type your reply above this line -##")


def case_url(number: int) -> str:
    """The case page (SPEC §5 fixes this address)."""
    return f"{settings.SITE_URL}/cases/{number}/"


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def mail_subject(case: Case, summary: str = "") -> str:
    """`[Case N] what happened — title`, in the active language, on one line."""
    prefix = _("[Case %(number)s]") % {"number": case.number}
    title = _one_line(case.title)
    return _one_line(f"{prefix} {summary} — {title}" if summary else f"{prefix} {title}")


def _zone(case: Case) -> zoneinfo.ZoneInfo:
    return zone_or_utc(case.time_zone)


def _when(value: datetime | str | None, case: Case) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
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


@dataclass
class Change:
    """One change a mail announces."""

    notice: str
    headline: str
    summary: str  # a few words for the subject
    quote: str = ""
    quote_label: str = ""
    notes: tuple[str, ...] = ()


def _comment(case: Case, event: CaseEvent) -> Comment | None:
    comment_id = (event.after or {}).get("comment") if isinstance(event.after, dict) else None
    comment = case.comments.filter(pk=comment_id).first() if comment_id else None
    return None if comment_is_support_only(comment) else comment


def _question(case: Case, event: CaseEvent) -> Comment | None:
    """The support reply that asked for what the customer side must now provide: the last
    support message (never a support-only one) written before the case was set to Action
    required."""
    for candidate in support_messages_before(case=case, event=event):
        if not event_is_support_only(candidate):
            comment = _comment(case, candidate)
            if comment is not None:
                return comment
    return None


def _reopen_note() -> str:
    days = settings.CASE_REOPEN_DAYS
    return ngettext(
        "The case can be reopened for %(days)s day from its closing; after that, file a follow-up case.",
        "The case can be reopened for %(days)s days from its closing; after that, file a follow-up case.",
        days,
    ) % {"days": days}


def _change(row: OutboxMessage, *, quoted_comments: set[int]) -> Change:
    """What one row's event did, as it happened."""
    case, event, notice = row.case, row.event, row.notice
    values = {
        "actor_name": _actor_name(event),
        "event_at": _when(event.created_at, case),
        "number": case.number,
    }
    after = event.after if isinstance(event.after, dict) else {}
    if notice == Notice.FILED:
        if row.reason == OutboxMessage.Reason.SUBSCRIBER:
            headline = _("%(actor_name)s filed case %(number)s and shared it with you.") % values
        else:
            headline = (
                _("%(actor_name)s filed case %(number)s. Support will answer here and by mail.") % values
            )
        return Change(notice, headline, _("Case filed"), case.description, _("Case description"))
    if notice == Notice.SHARED:
        headline = (
            _(
                "%(actor_name)s shared case %(number)s with you. You will get mail about its updates "
                "and can reply by mail."
            )
            % values
        )
        return Change(notice, headline, _("Case shared with you"), case.description, _("Case description"))
    if notice in (Notice.REPLY, Notice.CUSTOMER_REPLY):
        comment = _comment(case, event)
        if comment is not None:
            quoted_comments.add(comment.pk)
        if notice == Notice.REPLY:
            return Change(
                notice,
                _("%(actor_name)s of the support team replied:") % values,
                _("New reply from support"),
                comment.body if comment else "",
            )
        return Change(
            notice,
            _("%(actor_name)s wrote (%(event_at)s):") % values,
            _("New message from %(actor_name)s") % values,
            comment.body if comment else "",
        )
    if notice == Notice.STATE:
        values |= {"before": _label(Case.State, event.before), "after": _label(Case.State, event.after)}
        change = Change(
            notice,
            _(
                "The state of the case changed from “%(before)s” to “%(after)s” (%(actor_name)s, %(event_at)s)."
            )
            % values,
            _("State: %(state)s") % {"state": values["after"]},
        )
        if event.after == Case.State.ACTION_REQUIRED and not is_support_recipient(row.reason):
            question = _question(case, event)
            if question is not None and question.pk in quoted_comments:
                change.notes = (_("Support is waiting for your answer to the question above."),)
            elif question is not None:
                change.notes = (_("Support is waiting for your answer to this question:"),)
                change.quote = question.body
            else:
                change.notes = (_("Support is waiting for your answer."),)
        return change
    if notice == Notice.CLOSED:
        return Change(
            notice,
            _("%(actor_name)s closed the case (%(event_at)s).") % values,
            _("Case closed"),
            notes=(_reopen_note(),),
        )
    if notice == Notice.AUTO_CLOSED:
        days = settings.CASE_AUTO_CLOSE_DAYS
        headline = ngettext(
            "The case was closed automatically: it waited %(days)s day for a reply.",
            "The case was closed automatically: it waited %(days)s days for a reply.",
            days,
        ) % {"days": days}
        return Change(notice, headline, _("Case closed automatically"), notes=(_reopen_note(),))
    if notice == Notice.REOPENED:
        return Change(
            notice, _("%(actor_name)s reopened the case (%(event_at)s).") % values, _("Case reopened")
        )
    if notice == Notice.SEVERITY:
        values |= {"before": _label(Case.Priority, event.before), "after": _label(Case.Priority, event.after)}
        return Change(
            notice,
            _(
                "The severity of the case changed from “%(before)s” to “%(after)s” (%(actor_name)s, %(event_at)s)."
            )
            % values,
            _("Severity: %(severity)s") % {"severity": values["after"]},
        )
    if notice == Notice.ESCALATED:
        reason = _label(Case.EscalationReason, after.get("reason") or case.escalation_reason)
        return Change(
            notice,
            _("%(actor_name)s escalated the case (%(event_at)s).") % values,
            _("Case escalated"),
            case.escalation_justification,
            _("Justification"),
            notes=(f"{_('Reason')}: {reason}",),
        )
    if notice == Notice.REMINDER:
        closes_at = after.get("closes_at") or (
            (case.reminder_sent_at or event.created_at)
            + timedelta(days=settings.CASE_AUTO_CLOSE_REMINDER_DAYS)
        )
        headline = _(
            "This case is waiting for your reply. Without one it will be closed automatically on %(closes_at)s."
        ) % {"closes_at": _when(closes_at, case)}
        note = _(
            "To keep it open, reply to this mail or send a message on the case page. If the problem is "
            "solved, you can close the case there."
        )
        return Change(notice, headline, _("Waiting for your reply"), notes=(note,))
    if notice == Notice.BREACH and event.kind == Kind.NEXT_RESPONSE_BREACHED:
        # The next-response target that passed, as the event recorded it.
        tier = case.customer.support_tier
        priority = after.get("priority") or case.priority
        hours = next_response_hours(tier=tier, priority=priority)
        headline = _(
            "The next-response target of this case (%(target_hours)s h after your last message) passed at "
            "%(due_at)s without an answer from support."
        ) % {
            "target_hours": formats.localize(int(hours) if float(hours).is_integer() else hours),
            "due_at": _when(
                parse_datetime(after["due"]) if after.get("due") else case.next_response_due_at, case
            ),
        }
        note = _(
            "We are sorry for the wait. The case is flagged in the support queue and will be answered as soon "
            "as possible."
        )
        return Change(notice, headline, _("Next-response target missed"), notes=(note,))
    if notice == Notice.BREACH:
        tier = case.customer.support_tier
        priority = after.get("priority") or case.priority
        due = after.get("due") or first_response_due(created_at=case.created_at, tier=tier, priority=priority)
        headline = _(
            "The first-response target of this case (%(target_hours)s h) passed at %(due_at)s without an "
            "answer from support."
        ) % {
            "target_hours": formats.localize(FIRST_RESPONSE_HOURS[tier].get(priority, 24)),
            "due_at": _when(due, case),
        }
        note = _(
            "We are sorry for the wait. The case is flagged in the support queue and will be answered as soon "
            "as possible."
        )
        return Change(notice, headline, _("First-response target missed"), notes=(note,))
    return Change(notice, str(Notice(notice).label), str(Notice(notice).label))


def _as_of(case: Case, last: CaseEvent) -> tuple[str, str]:
    """The case's state and severity right after the last change the mail announces."""
    state, priority = case_state_as_of(case=case, event=last)
    return _label(Case.State, state), _label(Case.Priority, priority)


def mail_context(rows: list[OutboxMessage]) -> dict:
    """Call inside the case's language and time zone (see `render_mail`)."""
    first = rows[0]
    case = first.case
    quoted: set[int] = set()
    changes = [_change(row, quoted_comments=quoted) for row in rows]
    summaries = list(dict.fromkeys(change.summary for change in changes))
    summary = " · ".join(summaries[:3]) + (" …" if len(summaries) > 3 else "")
    state, priority = _as_of(case, max((row.event for row in rows), key=lambda e: (e.created_at, e.pk)))
    return {
        "case": case,
        "changes": changes,
        "subject": mail_subject(case, summary),
        "customer_name": case.customer.name,
        "state": state,
        "priority": priority,
        "case_url": case_url(case.number),
        # The recipient's own reply address (issue 16): a reply proves whose mail it answers.
        "reply_address": reply_address_for(
            case=case, address=first.recipient_email, user=first.recipient_user
        ),
        "reply_marker": reply_marker(),
        "reason_code": first.reason,
        "recipient": first.recipient_email,
        "language": translation.get_language(),
    }


def render_mail(rows: list[OutboxMessage]) -> EmailMultiAlternatives:
    """One mail for the outbox rows of one (Message-ID, recipient): every change they
    collected, in order. The text part is the message; the HTML part says the same."""
    if rows[0].case_id is None:  # mail about a domain, not a case (notice_services.py)
        from notifications.notice_services import render_domain_notice

        return render_domain_notice(rows[0])
    rows = sorted(rows, key=lambda row: (row.event.created_at, row.event_id))
    first = rows[0]
    case = first.case
    language = case.language if case.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(_zone(case)):
        context = mail_context(rows)
        text = render_to_string("notifications/mail.txt", context)
        html = render_to_string("notifications/mail.html", context)
    # Template tags leave blank lines behind; a text mail reads better without runs of them.
    text = re.sub(r"\n[ \t]*(\n[ \t]*)+\n", "\n\n", text).strip() + "\n"
    threading = thread_headers(number=case.number, message_id=first.message_id)
    headers = {
        "Message-ID": threading.message_id,
        "X-Portal-Case": str(case.number),
        "X-Portal-Notice": ",".join(dict.fromkeys(row.notice for row in rows)),
    }
    if threading.in_reply_to:
        headers["In-Reply-To"] = threading.in_reply_to
        headers["References"] = thread_id(case.number)
    return outbox_email(
        first,
        subject=context["subject"],
        text=text,
        html=html,
        language=language,
        headers=headers,
        reply_to=[context["reply_address"]] if context["reply_address"] else [],
    )


def outbox_email(
    row: OutboxMessage,
    *,
    subject: str,
    text: str,
    html: str,
    language: str,
    headers: dict[str, str] | None = None,
    reply_to: list[str] | None = None,
) -> "OutboxEmail":
    """The mail of outbox `row` (the first row of its mail), with the headers every
    notification carries and the key of this attempt's handoff to SMTP (OutboxEmail.send)."""
    message = OutboxEmail(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient_email],
        reply_to=reply_to or [],
        headers={
            "Message-ID": row.message_id,
            # Auto-responders must not answer notifications (RFC 3834); Exchange honours the second.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "Content-Language": language,
            "X-Portal-Notice": row.notice,
            **(headers or {}),
        },
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


def render_message(row: OutboxMessage) -> EmailMultiAlternatives:
    """The mail of one outbox row on its own."""
    return render_mail([row])


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
