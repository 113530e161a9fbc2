"""The case lifecycle, declared once: the transition table, who may take each step, the
reopen window and the first-response targets. `cases.services` enforces it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings

from cases.models import Case
from customers.models import SupportTier

State = Case.State


class Side(StrEnum):
    CUSTOMER = "customer"  # customer users and reseller agents acting for them
    SUPPORT = "support"  # the support organisation
    SYSTEM = "system"  # periodic jobs (auto-close)


OPEN_STATES = (State.NEW, State.IN_PROGRESS_GOOGLE_SUPPORT, State.ACTION_REQUIRED, State.SOLUTION_PROVIDED)
_ANYONE = frozenset({Side.CUSTOMER, Side.SUPPORT})

TRANSITIONS: dict[tuple[str, str], frozenset[Side]] = {
    (State.NEW, State.IN_PROGRESS_GOOGLE_SUPPORT): frozenset({Side.SUPPORT}),
    (State.NEW, State.ACTION_REQUIRED): frozenset({Side.SUPPORT}),
    (State.NEW, State.SOLUTION_PROVIDED): frozenset({Side.SUPPORT}),
    (State.IN_PROGRESS_GOOGLE_SUPPORT, State.ACTION_REQUIRED): frozenset({Side.SUPPORT}),
    (State.IN_PROGRESS_GOOGLE_SUPPORT, State.SOLUTION_PROVIDED): frozenset({Side.SUPPORT}),
    # A customer-side reply hands the case back to support.
    (State.ACTION_REQUIRED, State.IN_PROGRESS_GOOGLE_SUPPORT): _ANYONE,
    (State.ACTION_REQUIRED, State.SOLUTION_PROVIDED): frozenset({Side.SUPPORT}),
    (State.SOLUTION_PROVIDED, State.IN_PROGRESS_GOOGLE_SUPPORT): _ANYONE,
    (State.SOLUTION_PROVIDED, State.ACTION_REQUIRED): frozenset({Side.SUPPORT}),
    **{(state, State.CLOSED): frozenset({Side.CUSTOMER, Side.SUPPORT, Side.SYSTEM}) for state in OPEN_STATES},
    # Reopening, within the reopen window only (see `case_is_locked`).
    (State.CLOSED, State.IN_PROGRESS_GOOGLE_SUPPORT): _ANYONE,
}

# States in which the case waits on the customer side; a customer-side reply returns it to support.
WAITING_ON_CUSTOMER = (State.ACTION_REQUIRED, State.SOLUTION_PROVIDED)


def transition_allowed(*, current: str, target: str, side: Side) -> bool:
    return side in TRANSITIONS.get((current, target), frozenset())


def next_states(*, current: str, side: Side) -> list[str]:
    return [to for (frm, to), sides in TRANSITIONS.items() if frm == current and side in sides]


def reopen_deadline(case: Case) -> datetime | None:
    if case.closed_at is None:
        return None
    return case.closed_at + timedelta(days=settings.CASE_REOPEN_DAYS)


def case_is_locked(case: Case, *, now: datetime) -> bool:
    """A case closed longer than the reopen window is locked: no reopen, comment,
    attachment or severity change. Decided at request time, never by a periodic job."""
    deadline = reopen_deadline(case)
    return deadline is not None and now >= deadline


# First-response targets in hours, per support tier and priority (SPEC §4).
FIRST_RESPONSE_HOURS: dict[str, dict[str, float]] = {
    SupportTier.STANDARD: {"P0": 4, "P1": 4, "P2": 8, "P3": 24, "P4": 24},
    SupportTier.ENHANCED: {"P0": 1, "P1": 1, "P2": 4, "P3": 8, "P4": 8},
    SupportTier.PREMIUM: {"P0": 0.25, "P1": 0.25, "P2": 2, "P3": 4, "P4": 8},
}


def first_response_due(*, created_at: datetime, tier: str, priority: str) -> datetime:
    return created_at + timedelta(hours=FIRST_RESPONSE_HOURS[tier][priority])


def next_response_hours(*, tier: str, priority: str) -> float:
    return settings.CASE_NEXT_RESPONSE_HOURS[tier][priority]


@dataclass(frozen=True)
class DueTimes:
    first_response_due_at: datetime
    next_response_due_at: datetime | None


def case_due_times(
    *,
    state: str,
    tier: str,
    priority: str,
    created_at: datetime,
    first_response_at: datetime | None,
    waiting_on: str,
    waiting_since: datetime | None,
) -> DueTimes:
    """The response targets of a case, decided here alone (the services store them).

    - first response: filing time + the first-response target (tier × severity);
    - next response: only while support owes a reply on an open case — the first-response
      target before the first reply, then the time the customer side replied (the first
      unanswered reply) + the next-response target."""
    first = first_response_due(created_at=created_at, tier=tier, priority=priority)
    if state == State.CLOSED or waiting_on != "SUPPORT":
        return DueTimes(first, None)
    if first_response_at is None:
        return DueTimes(first, first)
    since = waiting_since or created_at
    return DueTimes(first, since + timedelta(hours=next_response_hours(tier=tier, priority=priority)))
