"""Reply by email (SPEC §6, R7): a mail to a case's reply address becomes a comment when
its sender may comment — a portal user who can see the case, or an address the case is
shared with — with its attachments, under the same upload rules as the pages. Anything
else is refused, and every outcome is logged and recorded in `InboundMail`."""

import hashlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from cases import services as case_services
from cases import system_services
from cases.models import COMMENT_MAX_LENGTH, Case
from notifications import mailparse
from notifications.addresses import reply_address_case_number
from notifications.models import InboundMail
from notifications.selectors import (
    address_is_subscribed,
    case_for_reply_address,
    user_may_see_case,
    users_with_address,
)
from portal.errors import DomainError

logger = logging.getLogger(__name__)
Outcome = InboundMail.Outcome


@dataclass(frozen=True)
class InboundResult:
    outcome: str
    reason: str
    recipient: str = ""
    case_number: int | None = None
    comment_id: int | None = None
    attachments: int = 0
    duplicate: bool = False


def reply_recipients(message, *, envelope_recipients: list[str] | None = None) -> list[tuple[str, int]]:
    """The reply addresses this mail went to, with their case numbers: the envelope's when
    the listener or the MTA gave them, else the delivery and address headers."""
    candidates = envelope_recipients if envelope_recipients else mailparse.addressed_to(message)
    found: list[tuple[str, int]] = []
    for address in candidates:
        address = address.strip().strip("<>").lower()
        number = reply_address_case_number(address)
        if number is not None and all(number != n for _a, n in found):
            found.append((address, number))
    return found


def inbound_mail_receive(
    raw: bytes, *, envelope_recipients: list[str] | None = None, envelope_sender: str | None = None
) -> list[InboundResult]:
    """Process one received mail (RFC 822 bytes): one result per reply address it went to
    (none when it went to none of ours). Idempotent: the same mail (Message-ID) delivered
    again to the same address is recognised and changes nothing."""
    message = mailparse.parse(raw)
    message_id = str(message.get("Message-ID", "")).strip()[:250] or (
        f"<sha256-{hashlib.sha256(raw).hexdigest()}@received>"
    )
    sender = mailparse.sender_address(message)
    subject = str(message.get("Subject", ""))[:300]
    targets = reply_recipients(message, envelope_recipients=envelope_recipients)
    if not targets:
        logger.warning("Mail %s from %s refused: not sent to a valid reply address.", message_id, sender)
        return []
    automatic = mailparse.automatic_reason(message, envelope_sender=envelope_sender)
    results = []
    for address, number in targets:
        result = _receive_one(
            message,
            message_id=message_id,
            sender=sender,
            subject=subject,
            address=address,
            number=number,
            automatic=automatic,
        )
        log = logger.info if result.outcome == Outcome.ACCEPTED else logger.warning
        log(
            "Mail %s from %s to case %s: %s%s (%s)",
            message_id,
            sender,
            number,
            result.outcome,
            " again" if result.duplicate else "",
            result.reason,
        )
        results.append(result)
    return results


def _receive_one(message, *, message_id, sender, subject, address, number, automatic) -> InboundResult:
    with transaction.atomic():
        try:
            # The record first: a second delivery of the same mail waits here for the first
            # one's transaction and then fails on the unique constraint.
            with transaction.atomic():
                record = InboundMail.objects.create(
                    message_id=message_id,
                    sender=sender[:254],
                    recipient=address,
                    subject=subject,
                    outcome=Outcome.REFUSED,
                )
        except IntegrityError:
            earlier = InboundMail.objects.filter(message_id=message_id, recipient=address).first()
            return InboundResult(
                outcome=earlier.outcome if earlier else Outcome.IGNORED,
                reason="this mail was received before",
                recipient=address,
                case_number=number,
                comment_id=earlier.comment_id if earlier else None,
                duplicate=True,
            )
        result = _decide_and_apply(message, sender=sender, number=number, automatic=automatic)
        record.outcome = result.outcome
        record.reason = result.reason[:300]
        record.case_id = result.case_id
        record.comment_id = result.comment_id
        record.save(update_fields=["outcome", "reason", "case", "comment"])
    return InboundResult(
        outcome=result.outcome,
        reason=result.reason,
        recipient=address,
        case_number=number,
        comment_id=result.comment_id,
        attachments=result.attachments,
    )


@dataclass
class _Applied:
    outcome: str
    reason: str
    case_id: int | None = None
    comment_id: int | None = None
    attachments: int = 0


def _decide_and_apply(message, *, sender: str, number: int, automatic: str | None) -> _Applied:
    if automatic:
        return _Applied(Outcome.IGNORED, automatic)
    case = case_for_reply_address(number=number)
    if case is None:
        return _Applied(Outcome.REFUSED, "no such case")
    if not sender:
        return _Applied(Outcome.REFUSED, "no sender address", case.pk)
    text = mailparse.reply_text(mailparse.body_text(message), max_length=COMMENT_MAX_LENGTH)
    files = mailparse.attachments(message)
    if not text and files:
        text = "(" + ", ".join(f.filename for f in files) + ")"
    if not text:
        return _Applied(Outcome.REFUSED, "the mail has no text above the quoted mail", case.pk)
    # The sender's account, when they have one that may see the case; else the share.
    user = next((u for u in users_with_address(sender) if user_may_see_case(user=u, case_id=case.pk)), None)
    if user is None and not address_is_subscribed(case_id=case.pk, address=sender):
        return _Applied(Outcome.REFUSED, "the sender may not comment on this case", case.pk)
    try:
        with transaction.atomic():
            comment = _comment(case, user=user, sender=sender, text=text)
    except DomainError as error:
        return _Applied(Outcome.REFUSED, str(error.message), case.pk)
    stored, refused = 0, []
    for received in files:
        try:
            with transaction.atomic():
                _attach(case, user=user, sender=sender, received=received)
            stored += 1
        except DomainError as error:
            refused.append(f"{received.filename}: {error.message}")
    reason = "comment added" + (f", {stored} attachment(s)" if stored else "")
    if refused:
        reason += "; attachments refused: " + "; ".join(refused)
    return _Applied(Outcome.ACCEPTED, reason, case.pk, comment.pk, stored)


def _comment(case: Case, *, user, sender: str, text: str):
    if user is not None:
        return case_services.case_comment_add(user=user, case=case, body=text)
    return system_services.case_comment_add_by_subscriber(case_id=case.pk, sender=sender, body=text)


def _attach(case: Case, *, user, sender: str, received: mailparse.ReceivedFile):
    file = ContentFile(received.content, name=received.filename)
    if user is not None:
        return case_services.attachment_add(user=user, case=case, file=file, filename=received.filename)
    return system_services.attachment_add_by_subscriber(
        case_id=case.pk, sender=sender, file=file, filename=received.filename
    )
