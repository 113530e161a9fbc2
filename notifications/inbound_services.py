"""Reply by email (SPEC §6, R7): a mail to a reply address becomes a comment when it comes
from the one recipient that address was issued to — a portal user who can still see the
case, or an address the case is still shared with — with its attachments, under the same
upload rules as the pages. The `From:` header alone proves nothing: the address names the
recipient (`notifications.addresses`), the sender must be that recipient, the receiving
MTA's `Authentication-Results` must not say the mail is forged, and nothing sent by mail is
ever stored as a support reply (support answers in the support console). Anything else is
refused, and every outcome is logged and recorded in `InboundMail` (the Django admin)."""

import hashlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from accounts.models import Domain
from cases import services as case_services
from cases import system_services
from cases.models import COMMENT_MAX_LENGTH, Case
from notifications import mailparse
from notifications.addresses import (
    RecipientKind,
    ReplyTarget,
    parse_reply_address,
    reply_token_valid,
    user_epoch,
)
from notifications.models import InboundMail
from notifications.selectors import (
    case_for_reply_address,
    reply_subscriber,
    reply_user,
    user_may_see_case,
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


def reply_recipients(
    message, *, envelope_recipients: list[str] | None = None
) -> list[tuple[str, ReplyTarget]]:
    """The reply addresses this mail went to, with what they name: the envelope's when the
    listener or the MTA gave them, else the delivery and address headers."""
    candidates = envelope_recipients if envelope_recipients else mailparse.addressed_to(message)
    found: list[tuple[str, ReplyTarget]] = []
    for address in candidates:
        address = address.strip().strip("<>").lower()
        target = parse_reply_address(address)
        if target is not None and all(target != t for _a, t in found):
            found.append((address, target))
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
        # Kept for the operators too (the Django admin lists received mail).
        to = ",".join(envelope_recipients or mailparse.addressed_to(message))[:254]
        InboundMail.objects.get_or_create(
            message_id=message_id,
            recipient=to,
            defaults={
                "sender": sender[:254],
                "subject": subject,
                "outcome": Outcome.REFUSED,
                "reason": "not sent to a valid reply address",
            },
        )
        return []
    automatic = mailparse.automatic_reason(message, envelope_sender=envelope_sender)
    forged = mailparse.authentication_failure(message)
    results = []
    for address, target in targets:
        number = target.number
        result = _receive_one(
            message,
            message_id=message_id,
            sender=sender,
            subject=subject,
            address=address,
            target=target,
            automatic=automatic,
            forged=forged,
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


def _receive_one(
    message, *, message_id, sender, subject, address, target, automatic, forged
) -> InboundResult:
    number = target.number
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
        result = _decide_and_apply(message, sender=sender, target=target, automatic=automatic, forged=forged)
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


def _decide_and_apply(
    message, *, sender: str, target: ReplyTarget, automatic: str | None, forged: str | None
) -> _Applied:
    if automatic:
        return _Applied(Outcome.IGNORED, automatic)
    if forged:
        return _Applied(Outcome.REFUSED, forged)
    case = case_for_reply_address(number=target.number)
    if case is None:
        return _Applied(Outcome.REFUSED, "no such case")
    if not sender:
        return _Applied(Outcome.REFUSED, "no sender address", case.pk)
    user, refusal = _issued_to(target, case=case, sender=sender)
    if refusal:
        return _Applied(Outcome.REFUSED, refusal, case.pk)
    text = mailparse.reply_text(mailparse.body_text(message), max_length=COMMENT_MAX_LENGTH)
    files = mailparse.attachments(message)
    if not text and files:
        text = "(" + ", ".join(f.filename for f in files) + ")"
    if not text:
        return _Applied(Outcome.REFUSED, "the mail has no text above the quoted mail", case.pk)
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


def _issued_to(target: ReplyTarget, *, case: Case, sender: str):
    """(the account replying or None for a subscriber, None) when the mail comes from the
    recipient the address was issued to and they may still comment; else (None, why not)."""
    if target.kind == RecipientKind.USER:
        user = reply_user(user_id=target.recipient_id)
        if user is None or not reply_token_valid(
            target, epoch=user_epoch(sign_in_address=user.email, mail_address=user.mail_address)
        ):
            return None, "the reply address is not valid (forged, or issued before the account changed)"
        if sender not in {user.email.lower(), user.mail_address.lower()}:
            return None, "the sender is not the recipient this reply address was issued to"
        if user.domain.kind == Domain.Kind.SUPPORT:
            # Support answers only in the support console, behind its sign-in (issue 16).
            return None, "support replies are taken only in the support console"
        if not user_may_see_case(user=user, case_id=case.pk):
            return None, "the recipient may no longer see this case"
        return user, None
    share = reply_subscriber(case_id=case.pk, subscriber_id=target.recipient_id)
    if share is None:
        return None, "the case is no longer shared with the recipient of this reply address"
    if not reply_token_valid(target, epoch=share.email):
        return None, "the reply address is not valid (forged)"
    if sender != share.email.strip().lower():
        return None, "the sender is not the recipient this reply address was issued to"
    return None, None


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
