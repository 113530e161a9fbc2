"""Writes made by the system rather than by a signed-in person: the periodic jobs
(reminder and automatic closing, lock marking, first-response breaches) and the messages
a subscriber without portal access sends by mail (R7).

They follow the same rules as `cases.services`: the one transition table
(`cases.lifecycle`, as Side.SYSTEM or Side.CUSTOMER), a CaseEvent for every change in the
same transaction (through `_event`, so the mail about it goes out through the outbox).
Every job is safe to run twice at the same time: it takes each case with
SELECT … FOR UPDATE SKIP LOCKED and checks its condition again under the lock, so a
second run either skips the case another run holds or finds the work already done."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import DateTimeField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.lifecycle import (
    WAITING_ON_CUSTOMER,
    Side,
    case_is_locked,
    first_response_due,
    transition_allowed,
)
from cases.models import COMMENT_MAX_LENGTH, Attachment, Case, CaseEvent, Comment
from cases.selectors import first_response_due_expression
from cases.services import (
    _clean_text,
    _event,
    _refuse_if_locked,
    _save,
    attachment_store,
    files_removed_on_failure,
)
from notifications.services import job_mail_cutoff
from portal.errors import InvalidTransition, NotFound, PermissionRefused

State = Case.State
JOB_BATCH = 500


def _take(case_id: int) -> Case | None:
    """The case, row-locked for this transaction, or None when another job holds it."""
    return Case.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=case_id).first()


def _system_transition(case: Case, *, side: Side, target: str, actor_email: str = "") -> None:
    if not transition_allowed(current=case.state, target=target, side=side):
        raise InvalidTransition(
            _("A case in state “%(current)s” cannot be moved to “%(target)s”.")
            % {"current": Case.State(case.state).label, "target": Case.State(target).label}
        )
    before = case.state
    case.state = target
    case.closed_at = timezone.now() if target == State.CLOSED else None
    _save(case, "state", "closed_at")
    _event(
        case,
        actor=None,
        actor_email=actor_email,
        kind=CaseEvent.Kind.STATE_CHANGED,
        field="state",
        before=before,
        after=target,
    )


# --------------------------------------------------------------------------- auto-close


def _entered_waiting():
    """When the case last entered a state that waits on the customer side."""
    return (
        CaseEvent.objects.filter(case=OuterRef("pk"), kind=CaseEvent.Kind.STATE_CHANGED)
        .filter(Q(after=State.ACTION_REQUIRED.value) | Q(after=State.SOLUTION_PROVIDED.value))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )


def waiting_since_expression():
    """Since when a waiting case has waited for a customer-side reply: the last move into
    ACTION_REQUIRED or SOLUTION_PROVIDED (a customer-side reply moves it out of them, so
    there is none since), or the last update for a case put there without an event."""
    return Coalesce(Subquery(_entered_waiting()), "updated_at", output_field=DateTimeField())


def _waiting_since(case: Case) -> datetime:
    return (
        Case.objects.filter(pk=case.pk).annotate(since=waiting_since_expression()).values("since")[0]["since"]
    )


def _reminder_lead() -> timedelta:
    return timedelta(days=min(settings.CASE_AUTO_CLOSE_REMINDER_DAYS, settings.CASE_AUTO_CLOSE_DAYS))


def reminder_due_at(since: datetime) -> datetime:
    return since + timedelta(days=settings.CASE_AUTO_CLOSE_DAYS) - _reminder_lead()


def auto_close_due_at(*, since: datetime, reminder_sent_at: datetime) -> datetime:
    """N days after the wait began, and never sooner than the reminder promised."""
    return max(since + timedelta(days=settings.CASE_AUTO_CLOSE_DAYS), reminder_sent_at + _reminder_lead())


def _reminded_for(case: Case, since: datetime) -> bool:
    return case.reminder_sent_at is not None and case.reminder_sent_at >= since


def _mailed(due: datetime, mail_since: datetime | None) -> dict:
    """The mark on a job's event that fell due before the job first ran here: recorded,
    never mailed (notifications.services.job_mail_cutoff)."""
    return {"mailed": False} if mail_since is not None and due < mail_since else {}


@transaction.atomic
def case_auto_close_remind(*, case_id: int, now: datetime, mail_since: datetime | None = None) -> bool:
    """Send the reminder of a waiting case whose reply is overdue by N−2 days (once per
    wait); one that fell due before `mail_since` is recorded without mail. Returns whether
    it did."""
    case = _take(case_id)
    if case is None or case.state not in WAITING_ON_CUSTOMER:
        return False
    since = _waiting_since(case)
    if _reminded_for(case, since) or now < reminder_due_at(since):
        return False
    case.reminder_sent_at = now
    # A system note, not a change anybody made: no new version, no move in "My cases".
    case.save(update_fields=["reminder_sent_at"])
    _event(
        case,
        actor=None,
        kind=CaseEvent.Kind.AUTO_CLOSE_REMINDER,
        field="reminder_sent_at",
        after={
            "closes_at": auto_close_due_at(since=since, reminder_sent_at=now).isoformat(),
            **_mailed(reminder_due_at(since), mail_since),
        },
    )
    return True


@transaction.atomic
def case_auto_close(*, case_id: int, now: datetime) -> bool:
    """Close a waiting case N days after the wait began, if its reminder went out at least
    the reminder lead before. Returns whether it did."""
    case = _take(case_id)
    if case is None or case.state not in WAITING_ON_CUSTOMER:
        return False
    since = _waiting_since(case)
    if not _reminded_for(case, since) or now < auto_close_due_at(
        since=since, reminder_sent_at=case.reminder_sent_at
    ):
        return False
    _system_transition(case, side=Side.SYSTEM, target=State.CLOSED)
    return True


def cases_auto_close_run(*, now: datetime | None = None, limit: int = JOB_BATCH) -> dict[str, int]:
    """The periodic job: reminders first, closing two days later."""
    now = now or timezone.now()
    mail_since = job_mail_cutoff(job="cases_auto_close", now=now)
    earliest = timedelta(days=settings.CASE_AUTO_CLOSE_DAYS) - _reminder_lead()
    candidates = (
        Case.objects.filter(state__in=WAITING_ON_CUSTOMER)
        .annotate(since=waiting_since_expression())
        .filter(since__lte=now - earliest)
        .order_by("since", "id")
        .values_list("pk", flat=True)[:limit]
    )
    done = {"reminded": 0, "closed": 0}
    for case_id in list(candidates):
        if case_auto_close(case_id=case_id, now=now):
            done["closed"] += 1
        elif case_auto_close_remind(case_id=case_id, now=now, mail_since=mail_since):
            done["reminded"] += 1
    return done


# --------------------------------------------------------------------------- lock marking


@transaction.atomic
def case_mark_locked(*, case_id: int, now: datetime) -> bool:
    """Record that a closed case passed its reopen window. The pages refuse by time
    (`case_is_locked`) whether or not this ran; this only records it, once."""
    case = _take(case_id)
    if case is None or case.locked_at is not None or not case_is_locked(case, now=now):
        return False
    case.locked_at = now
    case.save(update_fields=["locked_at"])
    _event(case, actor=None, kind=CaseEvent.Kind.LOCKED, field="locked_at")
    return True


def cases_mark_locked_run(*, now: datetime | None = None, limit: int = 2000) -> int:
    now = now or timezone.now()
    candidates = (
        Case.objects.filter(
            state=State.CLOSED,
            locked_at__isnull=True,
            closed_at__lte=now - timedelta(days=settings.CASE_REOPEN_DAYS),
        )
        .order_by("closed_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(case_mark_locked(case_id=case_id, now=now) for case_id in list(candidates))


# --------------------------------------------------------------------------- first response


@transaction.atomic
def case_flag_first_response_breach(
    *, case_id: int, now: datetime, mail_since: datetime | None = None
) -> bool:
    """Flag an open case that support has not answered within its first-response target
    (tier × priority, SPEC §4), once; the flag's event mails the customer side unless the
    target passed before `mail_since`."""
    case = _take(case_id)
    if (
        case is None
        or not case.is_open
        or case.is_test
        or case.first_response_at is not None
        or case.first_response_breached_at is not None
    ):
        return False
    due = first_response_due(
        created_at=case.created_at, tier=case.customer.support_tier, priority=case.priority
    )
    if now < due:
        return False
    case.first_response_breached_at = now
    case.save(update_fields=["first_response_breached_at"])
    _event(
        case,
        actor=None,
        kind=CaseEvent.Kind.FIRST_RESPONSE_BREACHED,
        field="first_response_breached_at",
        after={"due": due.isoformat(), "priority": case.priority, **_mailed(due, mail_since)},
    )
    return True


def cases_flag_first_response_breaches_run(*, now: datetime | None = None, limit: int = JOB_BATCH) -> int:
    now = now or timezone.now()
    mail_since = job_mail_cutoff(job="cases_flag_first_response_breaches", now=now)
    candidates = (
        Case.objects.filter(
            first_response_at__isnull=True, first_response_breached_at__isnull=True, is_test=False
        )
        .exclude(state=State.CLOSED)
        .annotate(due=first_response_due_expression())
        .filter(due__lte=now)
        .order_by("due", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(
        case_flag_first_response_breach(case_id=case_id, now=now, mail_since=mail_since)
        for case_id in list(candidates)
    )


# --------------------------------------------------------------------------- replies by mail


def _subscriber_case(*, case_id: int, sender: str) -> Case:
    """The case, locked, when `sender` is one of its subscribers and it takes messages."""
    try:
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
    except Case.DoesNotExist:
        raise NotFound() from None
    if not case.subscribers.filter(email__iexact=sender).exists():
        raise PermissionRefused(_("Only people the case is shared with can reply to it by mail."))
    _refuse_if_locked(case)
    if not case.is_open:
        raise InvalidTransition(_("Reopen the case before sending a message."))
    return case


@transaction.atomic
def case_comment_add_by_subscriber(*, case_id: int, sender: str, body: str) -> Comment:
    """A message that a subscriber without access sent by mail (R7: sharing lets them
    reply by mail, never view the case). It counts as a customer-side reply: a case
    waiting on the customer goes back to support."""
    sender = sender.strip().lower()
    case = _subscriber_case(case_id=case_id, sender=sender)
    body = _clean_text(body, field=_("Message"), max_length=COMMENT_MAX_LENGTH)
    comment = Comment.objects.create(
        case=case, author=None, author_email=sender, body=body, from_support=False
    )
    _event(case, actor=None, actor_email=sender, kind=CaseEvent.Kind.COMMENTED, after={"comment": comment.pk})
    if case.state in WAITING_ON_CUSTOMER:
        _system_transition(
            case, side=Side.CUSTOMER, target=State.IN_PROGRESS_GOOGLE_SUPPORT, actor_email=sender
        )
    else:
        _save(case)
    return comment


def attachment_add_by_subscriber(*, case_id: int, sender: str, file: File, filename: str) -> Attachment:
    """A file a subscriber without access sent by mail, under the same upload rules as
    the pages (`upload_check`). The stored file is removed again if the database work fails."""
    sender = sender.strip().lower()
    with files_removed_on_failure() as stored, transaction.atomic():
        case = _subscriber_case(case_id=case_id, sender=sender)
        return attachment_store(
            case, file=file, filename=filename, uploader=None, actor_email=sender, stored=stored
        )
