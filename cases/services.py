"""Writes to cases. Every change goes through a function here; each one re-reads the case
through `case_visible_to` under a row lock, checks the lifecycle, bumps the version and
writes its `CaseEvent` in the same transaction."""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import KNOWN_TIME_ZONES, Domain, Language, User
from cases.lifecycle import WAITING_ON_CUSTOMER, Side, case_due_times, case_is_locked, transition_allowed
from cases.models import (
    COMMENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Attachment,
    CannedReply,
    Case,
    CaseEvent,
    CaseSubscriber,
    Classification,
    Comment,
    SavedQueueView,
    WaitingOn,
)
from cases.selectors import case_visible_to, reseller_can_access_cases
from cases.uploads import upload_check
from customers.models import Customer, SupportTier
from customers.selectors import customer_consent_for, customer_reseller_of_record, customer_visible_to
from notifications.services import outbox_write_for_event
from portal.errors import (
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionRefused,
    StaleWrite,
)

MAX_SUBSCRIBERS = 50
MAX_ANSWER_LENGTH = 2_000
CUSTOMER_PRIORITIES = ("P1", "P2", "P3", "P4")


def side_of(user: User) -> Side:
    return Side.SUPPORT if user.domain.kind == Domain.Kind.SUPPORT else Side.CUSTOMER


# --------------------------------------------------------------------------- helpers

# The group of the events being written: one submit that makes several changes (a reply,
# a state and a severity change) writes them as one group (`event_group`).
_current_group: ContextVar[uuid.UUID | None] = ContextVar("case_event_group", default=None)


@contextmanager
def event_group() -> Iterator[uuid.UUID]:
    """Every CaseEvent written inside shares one group id (the mail side sends one mail
    per recipient for a group). Nested groups join the outer one."""
    outer = _current_group.get()
    group = outer or uuid.uuid4()
    token = _current_group.set(group)
    try:
        yield group
    finally:
        _current_group.reset(token)


def _event(
    case: Case,
    *,
    actor: User | None,
    kind: str,
    field: str = "",
    before: Any = None,
    after: Any = None,
    actor_email: str = "",
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        actor=actor,
        actor_email=actor_email or (actor.email if actor else ""),
        kind=kind,
        field=field,
        before=before,
        after=after,
        group=_current_group.get(),
    )
    outbox_write_for_event(event)  # the mail about it, in this same transaction (notifications)
    return event


def _locked(*, user: User, case: Case, expected_version: int | None = None) -> Case:
    """The case again, re-authorised and locked for this transaction. A stale
    `expected_version` means somebody else changed the case since the user saw it."""
    try:
        fresh = case_visible_to(user).select_for_update(of=("self",)).get(pk=case.pk)
    except Case.DoesNotExist:
        raise NotFound() from None
    if expected_version is not None and fresh.version != expected_version:
        raise StaleWrite()
    return fresh


DUE_FIELDS = ("waiting_on", "waiting_since", "first_response_due_at", "next_response_due_at")


def due_times_apply(case: Case) -> tuple[str, ...]:
    """Store the response targets that `cases.lifecycle.case_due_times` gives for the
    case as it is now; returns the fields to save."""
    due = case_due_times(
        state=case.state,
        tier=case.customer.support_tier,
        priority=case.priority,
        created_at=case.created_at,
        first_response_at=case.first_response_at,
        waiting_on=case.waiting_on,
        waiting_since=case.waiting_since,
    )
    case.first_response_due_at = due.first_response_due_at
    case.next_response_due_at = due.next_response_due_at
    return DUE_FIELDS


def waiting_on_set(case: Case, *, who: str, at: datetime) -> None:
    """Record who owes the next reply. A wait that continues keeps its start (two
    customer replies in a row: support owes an answer since the first)."""
    if who == "" or case.waiting_on != who:
        case.waiting_on = who
        case.waiting_since = at if who else None
        if who == WaitingOn.SUPPORT:
            case.next_response_breached_at = None


def waiting_after_transition(case: Case, *, target: str, at: datetime) -> None:
    """Who owes the next reply after a state change: nobody once closed, support after a
    reopen, the customer side while the case waits on it."""
    if target == Case.State.CLOSED:
        waiting_on_set(case, who="", at=at)
    elif case.waiting_on == "" or target == Case.State.NEW:
        waiting_on_set(case, who=WaitingOn.SUPPORT, at=at)
    elif target in WAITING_ON_CUSTOMER:
        waiting_on_set(case, who=WaitingOn.CUSTOMER, at=at)


def _save(case: Case, *fields: str) -> None:
    case.version += 1
    case.updated_at = timezone.now()
    due_fields = due_times_apply(case)
    case.save(update_fields=[*fields, *due_fields, "next_response_breached_at", "version", "updated_at"])


def _refuse_if_locked(case: Case) -> None:
    if case_is_locked(case, now=timezone.now()):
        raise InvalidTransition(
            _(
                "This case was closed more than %(days)d days ago and is locked. File a follow-up case instead."
            )
            % {"days": settings.CASE_REOPEN_DAYS}
        )


def _clean_emails(emails: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in emails:
        email = raw.strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(
                _("“%(email)s” is not a valid email address.") % {"email": raw.strip()[:100]}
            ) from None
        if email not in cleaned:
            cleaned.append(email)
    if len(cleaned) > MAX_SUBSCRIBERS:
        raise InvalidInput(_("A case can be shared with at most %(n)d addresses.") % {"n": MAX_SUBSCRIBERS})
    return cleaned


def _clean_text(value: str, *, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(_("%(field)s is required.") % {"field": field})
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; mail and API clients can send it
        raise InvalidInput(_("%(field)s contains a character that is not allowed.") % {"field": field})
    if len(value) > max_length:
        raise InvalidInput(
            _("%(field)s can be at most %(n)d characters long.") % {"field": field, "n": max_length}
        )
    return value


# --------------------------------------------------------------------------- create


def case_channel_for(user: User) -> str:
    return Case.Channel.PORTAL if user.domain.kind == Domain.Kind.CUSTOMER else Case.Channel.DELEGATED


def case_can_file_for(*, user: User, customer: Customer) -> None:
    """Raise unless `user` may file a case for `customer` now (R1–R3, R5, R6)."""
    kind = user.domain.kind
    if kind == Domain.Kind.SUPPORT:
        raise PermissionRefused(_("Support engineers answer cases; they do not file them."))
    if not customer_visible_to(user).filter(pk=customer.pk).exists():
        raise NotFound()
    if kind == Domain.Kind.RESELLER:
        if not reseller_can_access_cases(user):
            raise PermissionRefused(
                _(
                    "Filing customer cases needs the “Access customer support cases” privilege. "
                    "Ask your domain's super admin to assign it."
                )
            )
        if not customer_consent_for(customer=customer, domain_id=user.domain_id):
            raise PermissionRefused(
                _(
                    "%(customer)s has not given your domain access to support cases, so you cannot file a case "
                    "for them. Ask the customer's super admin to turn on reseller access."
                )
                % {"customer": customer.name}
            )


@transaction.atomic
def case_create(
    *,
    user: User,
    customer: Customer,
    classification: Classification,
    title: str,
    description: str,
    priority: str,
    language: str,
    time_zone: str,
    answers: dict[str, str] | None = None,
    subscribers: Iterable[str] = (),
    channel: str | None = None,
    request_key: str | None = None,
    follow_up_of: Case | None = None,
    is_test: bool = False,
) -> Case:
    """File a case. Preconditions: the user may file for the customer (`case_can_file_for`).
    Guarantees: the case has a unique public number, `managing_domain` is the customer's
    reseller of record at this moment, a CREATED event is written, and a repeated call
    with the same `request_key` returns the first case instead of filing another."""
    if request_key:
        existing = Case.objects.filter(creator=user, request_key=request_key).first()
        if existing is not None:
            return existing
    case_can_file_for(user=user, customer=customer)
    if not classification.is_leaf:
        raise InvalidInput(_("Choose a category from the list."))
    if priority not in CUSTOMER_PRIORITIES:
        raise InvalidInput(_("Choose a severity from P1 to P4."))
    if language not in Language.values:
        raise InvalidInput(_("Choose a language from the list."))
    if time_zone not in KNOWN_TIME_ZONES:
        raise InvalidInput(_("Choose a time zone from the list."))
    clean_answers = {}
    for key, value in (answers or {}).items():
        value = (value or "").replace("\x00", "").strip()
        if len(value) > MAX_ANSWER_LENGTH:
            raise InvalidInput(
                _("Each answer can be at most %(n)d characters long.") % {"n": MAX_ANSWER_LENGTH}
            )
        if value:
            clean_answers[str(key)[:20]] = value
    if follow_up_of is not None and not case_visible_to(user).filter(pk=follow_up_of.pk).exists():
        raise NotFound()
    now = timezone.now()
    reseller = customer_reseller_of_record(customer=customer)
    case = Case(
        customer=customer,
        managing_domain=reseller,
        creator=user,
        contact_email=user.mail_address,
        channel=channel or case_channel_for(user),
        classification=classification,
        title=_clean_text(title, field=_("Title"), max_length=TITLE_MAX_LENGTH),
        description=_clean_text(description, field=_("Description"), max_length=COMMENT_MAX_LENGTH),
        answers=clean_answers,
        priority=priority,
        language=language,
        time_zone=time_zone,
        request_key=request_key or None,
        follow_up_of=follow_up_of,
        is_test=is_test,
        created_at=now,
        updated_at=now,
        waiting_on=WaitingOn.SUPPORT,
        waiting_since=now,
    )
    due_times_apply(case)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        # Two submits with one request key raced: the other one won; return its case.
        if request_key:
            return Case.objects.get(creator=user, request_key=request_key)
        raise
    case.number = settings.CASE_NUMBER_BASE + case.pk
    Case.objects.filter(pk=case.pk).update(number=case.number)
    _event(case, actor=user, kind=CaseEvent.Kind.CREATED, after={"title": case.title, "priority": priority})
    for email in _clean_emails(subscribers):
        CaseSubscriber.objects.create(case=case, email=email, added_by=user)
        _event(case, actor=user, kind=CaseEvent.Kind.SUBSCRIBER_ADDED, field="subscribers", after=email)
    return case


# --------------------------------------------------------------------------- lifecycle


def _transition(case: Case, *, user: User | None, side: Side, target: str) -> None:
    if not transition_allowed(current=case.state, target=target, side=side):
        raise InvalidTransition(
            _("A case in state “%(current)s” cannot be moved to “%(target)s”.")
            % {"current": Case.State(case.state).label, "target": Case.State(target).label}
        )
    before = case.state
    now = timezone.now()
    if before == Case.State.CLOSED:
        case.waiting_on = ""  # a reopened case is support's to answer again
    case.state = target
    case.closed_at = now if target == Case.State.CLOSED else None
    waiting_after_transition(case, target=target, at=now)
    _save(case, "state", "closed_at")
    _event(case, actor=user, kind=CaseEvent.Kind.STATE_CHANGED, field="state", before=before, after=target)


@transaction.atomic
def case_set_state(*, user: User, case: Case, state: str, expected_version: int | None = None) -> Case:
    """Move a case along the transition table, as the user's side allows."""
    case = _locked(user=user, case=case, expected_version=expected_version)
    if case.state == Case.State.CLOSED:
        _refuse_if_locked(case)
    _transition(case, user=user, side=side_of(user), target=state)
    return case


@transaction.atomic
def case_close(*, user: User, case: Case, expected_version: int | None = None) -> Case:
    case = _locked(user=user, case=case, expected_version=expected_version)
    _transition(case, user=user, side=side_of(user), target=Case.State.CLOSED)
    return case


@transaction.atomic
def case_reopen(*, user: User, case: Case, expected_version: int | None = None) -> Case:
    """Reopen a closed case while `now < closed_at + CASE_REOPEN_DAYS`."""
    case = _locked(user=user, case=case, expected_version=expected_version)
    if case.state != Case.State.CLOSED:
        raise InvalidTransition(_("Only a closed case can be reopened."))
    _refuse_if_locked(case)
    _transition(case, user=user, side=side_of(user), target=Case.State.IN_PROGRESS_GOOGLE_SUPPORT)
    return case


@transaction.atomic
def case_change_priority(
    *, user: User, case: Case, priority: str, expected_version: int | None = None
) -> Case:
    """The customer side sets P1–P4 on open cases; support may also set P0."""
    case = _locked(user=user, case=case, expected_version=expected_version)
    side = side_of(user)
    allowed = Case.Priority.values if side == Side.SUPPORT else CUSTOMER_PRIORITIES
    if priority not in allowed:
        raise InvalidInput(_("Choose a severity from P1 to P4."))
    if not case.is_open:
        raise InvalidTransition(_("The severity of a closed case cannot be changed."))
    if priority == case.priority:
        return case
    before = case.priority
    case.priority = priority
    _save(case, "priority")
    _event(
        case,
        actor=user,
        kind=CaseEvent.Kind.PRIORITY_CHANGED,
        field="priority",
        before=before,
        after=priority,
    )
    return case


@transaction.atomic
def case_escalate(
    *, user: User, case: Case, reason: str, justification: str, expected_version: int | None = None
) -> Case:
    """Escalate an open case of a PREMIUM customer, once."""
    case = _locked(user=user, case=case, expected_version=expected_version)
    if side_of(user) != Side.CUSTOMER:
        raise PermissionRefused(_("Only the customer side escalates a case."))
    if case.customer.support_tier != SupportTier.PREMIUM:
        raise InvalidTransition(_("Escalation is available to Premium support customers only."))
    if not case.is_open:
        raise InvalidTransition(_("A closed case cannot be escalated."))
    if case.is_escalated:
        raise InvalidTransition(_("This case is already escalated."))
    if reason not in Case.EscalationReason.values:
        raise InvalidInput(_("Choose a reason for the escalation."))
    case.escalation_justification = _clean_text(justification, field=_("Justification"), max_length=1000)
    case.escalation_reason = reason
    case.escalated_at = timezone.now()
    case.escalated_by = user
    _save(case, "escalation_reason", "escalation_justification", "escalated_at", "escalated_by")
    _event(case, actor=user, kind=CaseEvent.Kind.ESCALATED, field="escalation", after={"reason": reason})
    return case


@transaction.atomic
def case_comment_add(*, user: User, case: Case, body: str) -> Comment:
    """Add a message. A customer-side reply to a case waiting on the customer hands it
    back to support; the first support reply records the first response."""
    case = _locked(user=user, case=case)
    _refuse_if_locked(case)
    if not case.is_open:
        raise InvalidTransition(_("Reopen the case before sending a message."))
    body = _clean_text(body, field=_("Message"), max_length=COMMENT_MAX_LENGTH)
    side = side_of(user)
    comment = Comment.objects.create(
        case=case, author=user, author_email=user.email, body=body, from_support=side == Side.SUPPORT
    )
    _event(case, actor=user, kind=CaseEvent.Kind.COMMENTED, after={"comment": comment.pk})
    fields = []
    if side == Side.SUPPORT and case.first_response_at is None:
        case.first_response_at = comment.created_at
        fields.append("first_response_at")
    waiting_on_set(
        case, who=WaitingOn.CUSTOMER if side == Side.SUPPORT else WaitingOn.SUPPORT, at=comment.created_at
    )
    if side == Side.CUSTOMER and case.state in WAITING_ON_CUSTOMER:
        # _transition saves the case (and bumps its version) itself; fields is empty on this side.
        _transition(case, user=user, side=side, target=Case.State.IN_PROGRESS_GOOGLE_SUPPORT)
    else:
        _save(case, *fields)
    return comment


@transaction.atomic
def case_subscribers_set(
    *, user: User, case: Case, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> Case:
    """Share the case with more addresses, or stop sharing. Sharing grants mail, not access (R7)."""
    case = _locked(user=user, case=case)
    _refuse_if_locked(case)
    to_add = _clean_emails(add)
    to_remove = _clean_emails(remove)
    existing = set(case.subscribers.values_list("email", flat=True))
    if len(existing | set(to_add)) > MAX_SUBSCRIBERS:
        raise InvalidInput(_("A case can be shared with at most %(n)d addresses.") % {"n": MAX_SUBSCRIBERS})
    for email in to_add:
        if email not in existing:
            CaseSubscriber.objects.create(case=case, email=email, added_by=user)
            _event(case, actor=user, kind=CaseEvent.Kind.SUBSCRIBER_ADDED, field="subscribers", after=email)
    for email in to_remove:
        if email in existing:
            case.subscribers.filter(email=email).delete()
            _event(
                case, actor=user, kind=CaseEvent.Kind.SUBSCRIBER_REMOVED, field="subscribers", before=email
            )
    _save(case)
    return case


# --------------------------------------------------------------------------- attachments


@contextmanager
def files_removed_on_failure() -> Iterator[list[str]]:
    """Collects the names of files stored inside a transaction and deletes them again if
    the transaction (or its commit) fails, so a refused upload leaves no orphan file."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


def attachment_store(
    case: Case, *, file: File, filename: str, uploader: User | None, actor_email: str = "", stored: list[str]
) -> Attachment:
    """Check and store one file on an already locked and authorised case, with its event.
    Call inside `files_removed_on_failure()` and a transaction."""
    checked = upload_check(file, filename=filename)
    attachment = Attachment(
        case=case,
        filename=checked.filename,
        mime_type=checked.mime_type,
        size=checked.size,
        sha256=checked.sha256,
        uploader=uploader,
    )
    attachment.file.save(checked.filename, file, save=False)
    stored.append(attachment.file.name)
    attachment.save()
    _event(
        case,
        actor=uploader,
        actor_email=actor_email,
        kind=CaseEvent.Kind.ATTACHMENT_ADDED,
        after={"attachment": attachment.pk, "filename": checked.filename},
    )
    _save(case)
    return attachment


def attachment_add(*, user: User, case: Case, file: File, filename: str) -> Attachment:
    """Attach a file to an open case. Anyone who sees the case may; the file is checked by
    `upload_check`, stored under a generated name outside the web root, and its sha256
    kept. When the database work fails, the stored file is removed again."""
    with files_removed_on_failure() as stored, transaction.atomic():
        case = _locked(user=user, case=case)
        _refuse_if_locked(case)
        if not case.is_open:
            raise InvalidTransition(_("Reopen the case before adding attachments."))
        return attachment_store(case, file=file, filename=filename, uploader=user, stored=stored)


@transaction.atomic
def attachment_delete(*, user: User, case: Case, attachment_id: int, reason: str) -> Attachment:
    """Support engineers only. The file goes (after commit); the row stays with who, when
    and why, and the timeline shows "attachment deleted"."""
    if side_of(user) != Side.SUPPORT:
        raise PermissionRefused(
            _("Attachments can be deleted by the support team only. Ask support to delete it.")
        )
    case = _locked(user=user, case=case)
    try:
        attachment = case.attachments.select_for_update().get(pk=attachment_id, deleted_at__isnull=True)
    except Attachment.DoesNotExist:
        raise NotFound() from None
    reason = _clean_text(reason, field=_("Reason"), max_length=500)
    stored_name = attachment.file.name
    attachment.deleted_at = timezone.now()
    attachment.deleted_by = user
    attachment.deletion_reason = reason
    attachment.file = ""
    attachment.save(update_fields=["deleted_at", "deleted_by", "deletion_reason", "file"])
    _event(
        case,
        actor=user,
        kind=CaseEvent.Kind.ATTACHMENT_DELETED,
        before={"attachment": attachment.pk, "filename": attachment.filename},
        after={"reason": reason},
    )
    _save(case)
    if stored_name:
        transaction.on_commit(lambda: default_storage.delete(stored_name))
    return attachment


@transaction.atomic
def case_create_with_attachments(
    *, user: User, attachments: Iterable[tuple[File, str]] = (), **fields: Any
) -> Case:
    """File a case and attach files in one transaction: either all of it is filed or none.
    Every file is checked before anything is written, so a bad file refuses the filing
    with its message instead of leaving a half-filed case."""
    attachments = list(attachments)
    for file, filename in attachments:
        upload_check(file, filename=filename)
    case = case_create(user=user, **fields)
    if case.attachments.exists():  # a repeated submit returned the first case
        return case
    for file, filename in attachments:
        attachment_add(user=user, case=case, file=file, filename=filename)
    return case


@transaction.atomic
def case_assign(*, user: User, case: Case, assignee: User | None) -> Case:
    """Support engineers take a case (or hand it back to the queue)."""
    if side_of(user) != Side.SUPPORT:
        raise PermissionRefused(_("Only the support team assigns cases."))
    if assignee is not None and assignee.domain.kind != Domain.Kind.SUPPORT:
        raise InvalidInput(_("Cases can be assigned to support engineers only."))
    case = _locked(user=user, case=case)
    before = case.assignee.email if case.assignee else None
    case.assignee = assignee
    _save(case, "assignee")
    _event(
        case,
        actor=user,
        kind=CaseEvent.Kind.ASSIGNED,
        field="assignee",
        before=before,
        after=assignee.email if assignee else None,
    )
    return case


@transaction.atomic
def case_rename(*, user: User, case: Case, title: str, expected_version: int | None = None) -> Case:
    """Change the title (the API's display_name) of an open case."""
    case = _locked(user=user, case=case, expected_version=expected_version)
    _refuse_if_locked(case)
    title = _clean_text(title, field=_("Title"), max_length=TITLE_MAX_LENGTH)
    if title == case.title:
        return case
    before = case.title
    case.title = title
    _save(case, "title")
    _event(case, actor=user, kind=CaseEvent.Kind.UPDATED, field="title", before=before, after=title)
    return case


# --------------------------------------------------------------------------- support console


def _support_only(user: User, message: str) -> None:
    if side_of(user) != Side.SUPPORT:
        raise PermissionRefused(message)


@transaction.atomic
def case_note_add(*, user: User, case: Case, body: str) -> Comment:
    """Add an internal note (R11): support engineers only; seen by the support
    organisation alone, never mailed, and it changes nothing the customer side sees (no
    new version, no new update time, not in the search index)."""
    _support_only(user, _("Only the support team writes internal notes."))
    case = _locked(user=user, case=case)
    body = _clean_text(body, field=_("Internal note"), max_length=COMMENT_MAX_LENGTH)
    comment = Comment.objects.create(
        case=case, author=user, author_email=user.email, body=body, from_support=True, internal=True
    )
    _event(case, actor=user, kind=CaseEvent.Kind.NOTE_ADDED, after={"comment": comment.pk})
    return comment


def support_assignee(*, email_or_id: str | int | None) -> User | None:
    """The support engineer a case can be assigned to, or None for "nobody"."""
    if email_or_id in (None, ""):
        return None
    users = User.objects.filter(domain__kind=Domain.Kind.SUPPORT, is_active=True)
    try:
        if isinstance(email_or_id, int) or str(email_or_id).isdigit():
            return users.get(pk=int(email_or_id))
        return users.get(email=str(email_or_id).strip().lower())
    except User.DoesNotExist:
        raise InvalidInput(_("Cases can be assigned to support engineers only.")) from None


@transaction.atomic
def case_support_update(
    *,
    user: User,
    case: Case,
    body: str = "",
    internal: bool = False,
    state: str | None = None,
    priority: str | None = None,
    assignee: User | None | str = "unchanged",
    expected_version: int | None = None,
) -> Case:
    """One support submit: a reply (or an internal note), a state, a severity and an
    assignee, all or nothing, written as one group of events (one mail per recipient).
    Unchanged values write nothing; a submit that changes nothing is refused."""
    _support_only(user, _("Only the support team uses this form."))
    case = _locked(user=user, case=case, expected_version=expected_version)
    changed = False
    with event_group():
        if state and state != case.state and case.state == Case.State.CLOSED:
            # Reopening comes before the reply it carries (a closed case takes no message).
            _refuse_if_locked(case)
            _transition(case, user=user, side=Side.SUPPORT, target=state)
            changed = True
        if (body or "").strip():
            if internal:
                case_note_add(user=user, case=case, body=body)
            else:
                case_comment_add(user=user, case=case, body=body)
            changed = True
            case = _locked(user=user, case=case)
        if state and state != case.state:
            _transition(case, user=user, side=Side.SUPPORT, target=state)
            changed = True
        if priority and priority != case.priority:
            case = case_change_priority(user=user, case=case, priority=priority)
            changed = True
        if assignee != "unchanged" and (assignee.pk if assignee else None) != case.assignee_id:
            case = case_assign(user=user, case=case, assignee=assignee)
            changed = True
    if not changed:
        raise InvalidInput(_("Nothing to send: write a reply or note, or change a value."))
    return case


@dataclass(frozen=True)
class BulkResult:
    number: int | None
    ok: bool
    message: str


BULK_ACTIONS = ("assign", "state", "priority", "note")
BULK_MAX = 100


def case_bulk_update(
    *, user: User, case_ids: Iterable[int], action: str, value: str = "", body: str = ""
) -> list[BulkResult]:
    """Apply one action to each selected case through the same services, each in its own
    transaction: one case that cannot take it (a closed case, a stale state) does not stop
    the others; every case is re-checked and audited on its own. Returns one result a case."""
    _support_only(user, _("Only the support team uses bulk actions."))
    if action not in BULK_ACTIONS:
        raise InvalidInput(_("Choose an action."))
    ids = list(dict.fromkeys(int(i) for i in case_ids))[:BULK_MAX]
    if not ids:
        raise InvalidInput(_("Select at least one case."))
    assignee = support_assignee(email_or_id=value) if action == "assign" else None
    if action == "note":
        body = _clean_text(body, field=_("Internal note"), max_length=COMMENT_MAX_LENGTH)
    if action == "state" and value not in Case.State.values:
        raise InvalidInput(_("Choose a status."))
    if action == "priority" and value not in Case.Priority.values:
        raise InvalidInput(_("Choose a severity."))
    numbers = dict(case_visible_to(user).filter(pk__in=ids).values_list("pk", "number"))
    results = []
    for case_id in ids:
        if case_id not in numbers:
            results.append(BulkResult(None, False, str(NotFound.default_message)))
            continue
        case = Case(pk=case_id)
        try:
            if action == "assign":
                case_assign(user=user, case=case, assignee=assignee)
            elif action == "state":
                case_set_state(user=user, case=case, state=value)
            elif action == "priority":
                case_change_priority(user=user, case=case, priority=value)
            else:
                case_note_add(user=user, case=case, body=body)
        except DomainError as error:
            results.append(BulkResult(numbers[case_id], False, str(error.message)))
        else:
            results.append(BulkResult(numbers[case_id], True, _("Done")))
    return results


# --------------------------------------------------------------------------- saved views, canned replies


SAVED_VIEWS_MAX = 50


@transaction.atomic
def saved_view_save(*, user: User, name: str, query: str) -> SavedQueueView:
    """Save (or overwrite by name) a queue view of the user's own."""
    _support_only(user, _("Only the support team has a queue."))
    name = _clean_text(name, field=_("Name"), max_length=80)
    query = (query or "").lstrip("?")[:1000].replace("\x00", "")
    existing = SavedQueueView.objects.filter(owner=user, name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if SavedQueueView.objects.filter(owner=user).count() >= SAVED_VIEWS_MAX:
        raise InvalidInput(_("You can keep at most %(n)d saved views.") % {"n": SAVED_VIEWS_MAX})
    return SavedQueueView.objects.create(owner=user, name=name, query=query)


@transaction.atomic
def saved_view_delete(*, user: User, view_id: int) -> None:
    deleted, _rows = SavedQueueView.objects.filter(owner=user, pk=view_id).delete()
    if not deleted:
        raise NotFound()


def _lead_only(user: User) -> None:
    if side_of(user) != Side.SUPPORT or not user.is_support_lead:
        raise PermissionRefused(_("Canned replies are managed by support leads."))


@transaction.atomic
def canned_reply_save(
    *, user: User, title: str, language: str, body: str, reply_id: int | None = None
) -> CannedReply:
    """Create or edit a canned reply. Support leads only."""
    _lead_only(user)
    if language not in Language.values:
        raise InvalidInput(_("Choose a language from the list."))
    title = _clean_text(title, field=_("Title"), max_length=120)
    body = _clean_text(body, field=_("Text"), max_length=COMMENT_MAX_LENGTH)
    if CannedReply.objects.filter(language=language, title=title).exclude(pk=reply_id).exists():
        raise InvalidInput(_("A canned reply with this title already exists in this language."))
    if reply_id is None:
        reply = CannedReply(title=title, language=language, body=body)
    else:
        reply = CannedReply.objects.select_for_update().filter(pk=reply_id).first()
        if reply is None:
            raise NotFound()
        reply.title, reply.language, reply.body = title, language, body
    reply.updated_by = user
    reply.updated_at = timezone.now()
    reply.save()
    return reply


@transaction.atomic
def canned_reply_delete(*, user: User, reply_id: int) -> None:
    _lead_only(user)
    deleted, _rows = CannedReply.objects.filter(pk=reply_id).delete()
    if not deleted:
        raise NotFound()


@transaction.atomic
def customer_support_tier_set(*, customer: Customer, tier: str) -> int:
    """Change a customer's support tier (operators, in the Django admin) and store the
    response targets of its open cases again, since the tier decides them. Returns how
    many cases were updated."""
    if tier not in SupportTier.values:
        raise InvalidInput(_("Choose a support tier."))
    Customer.objects.filter(pk=customer.pk).update(support_tier=tier)
    customer.support_tier = tier
    changed = []
    for case in (
        Case.objects.filter(customer=customer).exclude(state=Case.State.CLOSED).iterator(chunk_size=1000)
    ):
        case.customer = customer
        due_times_apply(case)
        changed.append(case)
    Case.objects.bulk_update(changed, ["first_response_due_at", "next_response_due_at"], batch_size=1000)
    return len(changed)
