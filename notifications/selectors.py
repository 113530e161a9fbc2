"""Reads for notifications. Who gets mail about a case is decided here, from the one gate
(`case_visible_to`, R10): a portal user gets mail only while they may see the case, and
a subscriber only while the case is shared with the address (R7: mail, never access)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import Domain, User
from accounts.selectors import user_is_super_admin
from cases.models import Case, CaseEvent, CaseSubscriber, Comment
from cases.selectors import case_visible_to
from notifications.addresses import RecipientKind, reply_address, user_epoch
from notifications.models import InboundMail, Notice, OutboxMessage

Reason = OutboxMessage.Reason


@dataclass(frozen=True)
class Recipient:
    address: str
    user: User | None
    reason: str


def users_with_address(address: str) -> QuerySet[User]:
    """Active accounts that sign in with `address` or have it as their notification address."""
    address = (address or "").strip().lower()
    # Sign-in addresses are stored lower-case (a check constraint), so `=` and its unique index.
    return User.objects.filter(Q(email=address) | Q(notification_email__iexact=address), is_active=True)


def user_may_see_case(*, user: User, case_id: int) -> bool:
    return user.is_active and case_visible_to(user).filter(pk=case_id).exists()


def address_is_subscribed(*, case_id: int, address: str) -> bool:
    return CaseSubscriber.objects.filter(case_id=case_id, email__iexact=(address or "").strip()).exists()


# --------------------------------------------------------------------------- support-only (R11)

# Events the reseller and customer side must never hear of (SPEC R11): internal notes and
# assignments by kind, and any event that names an internal comment.
SUPPORT_ONLY_EVENT_KINDS = frozenset({CaseEvent.Kind.NOTE_ADDED, CaseEvent.Kind.ASSIGNED})


def comment_is_support_only(comment: Comment | None) -> bool:
    return comment is not None and comment.internal


def event_is_support_only(event: CaseEvent) -> bool:
    """Is this event for the support organisation alone (SPEC R11)?"""
    if event.kind in SUPPORT_ONLY_EVENT_KINDS:
        return True
    comment_id = event.after.get("comment") if isinstance(event.after, dict) else None
    return bool(comment_id) and Comment.objects.filter(pk=comment_id, internal=True).exists()


def is_support_recipient(reason: str) -> bool:
    return reason in (Reason.ASSIGNEE, Reason.SUPPORT)


def recipient_allowed(*, case_id: int, address: str, user: User | None, reason: str) -> bool:
    """May this recipient get mail about the case now? Asked when the outbox row is written
    and again right before the mail leaves."""
    if case_id is None:  # mail about a domain: its super admins, while they still are
        return reason == Reason.SUPER_ADMIN and user is not None and user_is_super_admin(user)
    if reason == Reason.ASSIGNEE:
        # Only while the case is still theirs: a reassigned case mails the new engineer.
        return (
            user is not None
            and user_may_see_case(user=user, case_id=case_id)
            and Case.objects.filter(pk=case_id, assignee=user).exists()
        )
    if reason == Reason.SUPPORT:
        return user is None and address.lower() == settings.SUPPORT_ESCALATION_EMAIL
    if user is not None:
        return user_may_see_case(user=user, case_id=case_id)
    if reason == Reason.SUBSCRIBER:
        return address_is_subscribed(case_id=case_id, address=address)
    if reason == Reason.CONTACT:
        # A contact address without an account: mail while the case still names it.
        return Case.objects.filter(pk=case_id, contact_email__iexact=address).exists()
    return False


def _actor_addresses(event: CaseEvent) -> set[str]:
    addresses = {event.actor_email.lower()} if event.actor_email else set()
    if event.actor is not None:
        addresses |= {event.actor.email.lower(), event.actor.mail_address.lower()}
    return addresses


def _account_holders(case: Case) -> list[Recipient]:
    """The creator and the case contact, each only while allowed."""
    found: list[Recipient] = []
    if case.creator is not None and user_may_see_case(user=case.creator, case_id=case.pk):
        found.append(Recipient(case.creator.mail_address.lower(), case.creator, Reason.CREATOR))
    contact = (case.contact_email or "").strip().lower()
    if contact:
        holders = list(users_with_address(contact))
        if not holders:
            found.append(Recipient(contact, None, Reason.CONTACT))
        else:
            # Several accounts may share one mailbox (a partner's person); one that may see the case will do.
            allowed = next((u for u in holders if user_may_see_case(user=u, case_id=case.pk)), None)
            if allowed is not None:
                found.append(Recipient(contact, allowed, Reason.CONTACT))
    return found


def notification_recipients(*, event: CaseEvent, notice: str) -> list[Recipient]:
    """Who gets the mail about `event`, one entry per address: the creator and the case
    contact while they may see the case, and the subscribers. Whoever made the change is
    left out, except from the filing mail, which is their receipt. A subscriber added to
    the case hears about it alone, once, and not when they already hear as creator or contact."""
    case = event.case
    account_holders = _account_holders(case)
    if event.kind == CaseEvent.Kind.SUBSCRIBER_ADDED:
        address = str(event.after or "").lower()
        taken = {r.address for r in account_holders} | _actor_addresses(event)
        if address and address not in taken and address_is_subscribed(case_id=case.pk, address=address):
            return [Recipient(address, None, Reason.SUBSCRIBER)]
        return []
    candidates = account_holders + [
        Recipient(email.lower(), None, Reason.SUBSCRIBER)
        for email in case.subscribers.values_list("email", flat=True)
    ]
    excluded = set() if notice == Notice.FILED else _actor_addresses(event)
    chosen: dict[str, Recipient] = {}
    for recipient in candidates:
        if recipient.address not in excluded and recipient.address not in chosen:
            chosen[recipient.address] = recipient
    return wanting(list(chosen.values()), notice)


def wanting(recipients: list[Recipient], notice: str) -> list[Recipient]:
    """Issue 12: the recipients who did not turn this kind of mail off on /settings/. Only
    accounts have the choice; a subscriber's address without an account stops mail by
    being unshared."""
    return [r for r in recipients if r.user is None or notice not in (r.user.muted_notices or [])]


def _from_customer_side(event: CaseEvent) -> bool:
    if event.actor is not None:
        return event.actor.domain.kind != Domain.Kind.SUPPORT
    return bool(event.actor_email)  # a subscriber writing by mail; None and no address: a job


def support_recipients(*, event: CaseEvent) -> list[Recipient]:
    """Who on the support side hears of `event` (issue 13): the assigned engineer when the
    customer side replies, escalates, closes, reopens or changes the severity of their case;
    the support address (SUPPORT_ESCALATION_EMAIL) when an unassigned case is escalated."""
    if not _from_customer_side(event):
        return []
    case = event.case
    assignee = case.assignee
    if assignee is not None:
        if assignee.is_active and user_may_see_case(user=assignee, case_id=case.pk):
            return [Recipient(assignee.mail_address.lower(), assignee, Reason.ASSIGNEE)]
        return []
    if event.kind == CaseEvent.Kind.ESCALATED and settings.SUPPORT_ESCALATION_EMAIL:
        return [Recipient(settings.SUPPORT_ESCALATION_EMAIL, None, Reason.SUPPORT)]
    return []


def support_messages_before(*, case: Case, event: CaseEvent, limit: int = 10) -> list[CaseEvent]:
    """The last support messages of the case written before `event`, newest first."""
    return list(
        CaseEvent.objects.select_related("actor__domain")
        .filter(
            case=case, kind=CaseEvent.Kind.COMMENTED, actor__domain__kind=Domain.Kind.SUPPORT, pk__lt=event.pk
        )
        .order_by("-created_at", "-id")[:limit]
    )


def case_state_as_of(*, case: Case, event: CaseEvent) -> tuple[str, str]:
    """The case's state and priority right after `event`, from the history (a mail
    describes the case as its changes left it, not as it is when the mail leaves)."""
    Kind = CaseEvent.Kind
    history = CaseEvent.objects.filter(case=case, pk__lte=event.pk).order_by("-created_at", "-id")
    state = history.filter(kind=Kind.STATE_CHANGED).values_list("after", flat=True).first()
    priority = history.filter(kind=Kind.PRIORITY_CHANGED).values_list("after", flat=True).first()
    created = history.filter(kind=Kind.CREATED).values_list("after", flat=True).first()
    if state is None:
        state = Case.State.NEW if created is not None else case.state
    if priority is None:
        priority = created.get("priority") if isinstance(created, dict) else None
    return state, priority or case.priority


def case_for_reply_address(*, number: int) -> Case | None:
    """The case a reply address names. The address carries a token that only the portal
    can make (`notifications.addresses`); who may write to the case is decided after."""
    return Case.objects.select_related("customer").filter(number=number).first()


def reply_address_for(*, case: Case, address: str, user: User | None) -> str | None:
    """The reply address of one recipient of mail about `case`: their account's when the
    mail goes to a portal user, the share's when it goes to a subscriber; None for anyone
    else (a case contact without an account, who may not reply by mail)."""
    if user is not None:
        return reply_address(
            number=case.number,
            kind=RecipientKind.USER,
            recipient_id=user.pk,
            epoch=user_epoch(sign_in_address=user.email, mail_address=user.mail_address),
        )
    share = CaseSubscriber.objects.filter(case=case, email__iexact=(address or "").strip()).first()
    if share is None:
        return None
    return reply_address(
        number=case.number, kind=RecipientKind.SUBSCRIBER, recipient_id=share.pk, epoch=share.email
    )


def reply_user(*, user_id: int) -> User | None:
    """The active account a reply address names."""
    return User.objects.select_related("domain").filter(pk=user_id, is_active=True).first()


def reply_subscriber(*, case_id: int, subscriber_id: int) -> CaseSubscriber | None:
    """The share a reply address names, while the case is still shared with it."""
    return CaseSubscriber.objects.filter(pk=subscriber_id, case_id=case_id).first()


# --------------------------------------------------------------------------- operators


def outbox_due_for_sweep(*, now: datetime) -> QuerySet[OutboxMessage]:
    """Pending mail whose attempt was due more than OUTBOX_SWEEP_AGE_SECONDS ago and that the
    sweep has not queued within that time either: its task was lost (the broker was down
    at commit time, a worker died) or is stuck behind a long queue."""
    cutoff = now - timedelta(seconds=settings.OUTBOX_SWEEP_AGE_SECONDS)
    return OutboxMessage.objects.filter(
        Q(last_queued_at__isnull=True) | Q(last_queued_at__lte=cutoff),
        status=OutboxMessage.Status.PENDING,
        next_attempt_at__lte=cutoff,
    ).order_by("next_attempt_at", "id")


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    sent: int
    failed: int
    skipped: int
    oldest_pending_at: datetime | None
    received_accepted: int
    received_refused: int
    received_ignored: int

    @property
    def oldest_pending_age(self) -> timedelta | None:
        return timezone.now() - self.oldest_pending_at if self.oldest_pending_at else None


def outbox_status() -> OutboxStatus:
    counts = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
    oldest = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).aggregate(at=Min("created_at"))
    received = dict(InboundMail.objects.values_list("outcome").annotate(n=Count("id")).order_by())
    return OutboxStatus(
        pending=counts.get(OutboxMessage.Status.PENDING, 0),
        sent=counts.get(OutboxMessage.Status.SENT, 0),
        failed=counts.get(OutboxMessage.Status.FAILED, 0),
        skipped=counts.get(OutboxMessage.Status.SKIPPED, 0),
        oldest_pending_at=oldest["at"],
        received_accepted=received.get(InboundMail.Outcome.ACCEPTED, 0),
        received_refused=received.get(InboundMail.Outcome.REFUSED, 0),
        received_ignored=received.get(InboundMail.Outcome.IGNORED, 0),
    )
