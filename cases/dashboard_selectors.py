"""Reads for the dashboard. Every number starts from `case_visible_to(user)` or its
rollup twin `case_rollup_visible_to(user)` (R10), and is summed in the database: a fixed
number of queries whatever the number of cases (docs/performance.md)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncWeek

from accounts.models import User
from cases.lifecycle import FIRST_RESPONSE_HOURS, OPEN_STATES
from cases.models import Case, CaseRollup
from cases.selectors import case_rollup_visible_to, case_visible_to

WEEKS = 13  # a quarter
# The longest first-response target: an unanswered case filed longer ago is past it.
MAX_TARGET = timedelta(
    hours=max(h for by_priority in FIRST_RESPONSE_HOURS.values() for h in by_priority.values())
)


def first_response_due_expression() -> ExpressionWrapper:
    """`lifecycle.first_response_due` as SQL: created_at plus the target of the case's
    support tier and priority, from the one table in cases.lifecycle."""
    target = SqlCase(
        *[
            When(customer__support_tier=tier, priority=priority, then=Value(timedelta(hours=hours)))
            for tier, by_priority in FIRST_RESPONSE_HOURS.items()
            for priority, hours in by_priority.items()
        ],
        output_field=DurationField(),
    )
    return ExpressionWrapper(F("created_at") + target, output_field=DateTimeField())


def first_response_breached(now: datetime) -> Q:
    """A case breaches its first-response target when nobody answered and the target
    has passed, or when the first answer came after it. Needs the `due` annotation."""
    return Q(first_response_at__isnull=True, due__lt=now) | Q(first_response_at__gt=F("due"))


@dataclass(frozen=True)
class Dashboard:
    open_by_state: dict[str, int]
    open_by_priority: dict[str, int]
    overdue_by_priority: dict[str, int]
    weeks: list[date]
    opened: list[int]
    closed: list[int]
    breached: list[int]

    @property
    def open_total(self) -> int:
        return sum(self.open_by_state.values())

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue_by_priority.values())

    @property
    def opened_total(self) -> int:
        return sum(self.opened)

    @property
    def closed_total(self) -> int:
        return sum(self.closed)

    @property
    def breached_total(self) -> int:
        return sum(self.breached)


def week_starts(*, now: datetime, tz: tzinfo, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last `weeks` weeks in the viewer's time zone, this week last."""
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _empty_counts(mondays: list[date]) -> dict:
    return {
        "by_state": dict.fromkeys(OPEN_STATES, 0),
        "by_priority": dict.fromkeys(Case.Priority.values, 0),
        "overdue": dict.fromkeys(Case.Priority.values, 0),
        "opened": dict.fromkeys(mondays, 0),
        "closed": dict.fromkeys(mondays, 0),
        "breached": dict.fromkeys(mondays, 0),
    }


def _count_directly(counts: dict, cases: QuerySet[Case], *, now: datetime, start: datetime) -> None:
    """Add the numbers of `cases` to `counts`, counting the cases themselves (three
    queries). The rollup's leftover, the SQLite demo, and the tests' reference."""
    open_rows = (
        cases.filter(state__in=OPEN_STATES)
        .annotate(due=first_response_due_expression())
        .values("state", "priority")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(first_response_at__isnull=True, due__lt=now)))
    )
    for row in open_rows:
        counts["by_state"][row["state"]] += row["n"]
        counts["by_priority"][row["priority"]] += row["n"]
        counts["overdue"][row["priority"]] += row["overdue"]
    opened_rows = (
        cases.filter(created_at__gte=start)
        .annotate(week=TruncWeek("created_at", tzinfo=UTC), due=first_response_due_expression())
        .values("week")
        .annotate(n=Count("id"), breached=Count("id", filter=first_response_breached(now)))
    )
    for row in opened_rows:
        week = _local_date(row["week"])
        counts["opened"][week] += row["n"]
        counts["breached"][week] += row["breached"]
    closed_rows = (
        cases.filter(closed_at__gte=start)
        .annotate(week=TruncWeek("closed_at", tzinfo=UTC))
        .values("week")
        .annotate(n=Count("id"))
    )
    for row in closed_rows:
        counts["closed"][_local_date(row["week"])] += row["n"]


def _local_date(value) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def _to_dashboard(counts: dict, mondays: list[date]) -> Dashboard:
    return Dashboard(
        open_by_state={str(k): v for k, v in counts["by_state"].items()},
        open_by_priority=counts["by_priority"],
        overdue_by_priority=counts["overdue"],
        weeks=mondays,
        opened=[counts["opened"][monday] for monday in mondays],
        closed=[counts["closed"][monday] for monday in mondays],
        breached=[counts["breached"][monday] for monday in mondays],
    )


def dashboard_counted(cases: QuerySet[Case], *, now: datetime) -> Dashboard:
    """The dashboard of `cases`, counted case by case (no rollup)."""
    mondays = week_starts(now=now, tz=UTC)
    counts = _empty_counts(mondays)
    start = datetime.combine(mondays[0], time.min, tzinfo=UTC)
    _count_directly(counts, cases.filter(is_test=False).order_by(), now=now, start=start)
    return _to_dashboard(counts, mondays)


def dashboard_for(user: User, *, now: datetime) -> Dashboard:
    """Open cases by state and severity (with those overdue for a first response), and
    per week (Monday to Sunday, UTC): cases opened, closed and in breach of their
    first-response target. Test cases are left out.

    On PostgreSQL the numbers come from the rollup (cases.rollups), exact at the moment of
    the request: rows are kept in the same transaction as every change. What depends on
    the clock is whether an unanswered case is past its target; every target is at most
    a day (`MAX_TARGET`), so unanswered cases filed before the last two UTC days are all
    past it, and the few filed since are counted one by one. Five queries for a reseller,
    two for support and customers, whatever the number of cases."""
    if connection.vendor != "postgresql":
        return dashboard_counted(case_visible_to(user), now=now)
    mondays = week_starts(now=now, tz=UTC)
    counts = _empty_counts(mondays)
    start_day = mondays[0]
    # Days before `cutoff_day` ended more than MAX_TARGET ago.
    cutoff_day = (now - MAX_TARGET).astimezone(UTC).date()
    cutoff = datetime.combine(cutoff_day, time.min, tzinfo=UTC)
    scope = case_rollup_visible_to(user)
    in_view = Q(kind__in=[CaseRollup.Kind.OPEN, CaseRollup.Kind.OPEN_UNANSWERED]) | Q(day__gte=start_day)
    summed = [
        row
        for rows in (scope.rows, scope.minus)
        if rows is not None
        for row in rows.filter(in_view)
        .order_by()
        .values_list("kind", "day", "state", "priority")
        .annotate(total=Sum("signed"))
    ]
    for kind, day, state, priority, total in summed:
        if kind == CaseRollup.Kind.OPEN:
            counts["by_state"][state] += total
            counts["by_priority"][priority] += total
        elif kind == CaseRollup.Kind.OPEN_UNANSWERED:
            if day < cutoff_day:
                counts["overdue"][priority] += total
        elif kind == CaseRollup.Kind.FILED:
            counts["opened"][_week_of(day)] += total
        elif kind == CaseRollup.Kind.CLOSED:
            counts["closed"][_week_of(day)] += total
        elif kind == CaseRollup.Kind.ANSWERED_LATE or (
            kind == CaseRollup.Kind.UNANSWERED and day < cutoff_day
        ):
            counts["breached"][_week_of(day)] += total
    # Unanswered cases filed since the cutoff, which the rollup covers: past their target yet?
    recent = (
        scope.covered.filter(is_test=False, first_response_at__isnull=True, created_at__gte=cutoff)
        .order_by()
        .annotate(due=first_response_due_expression(), day=TruncDate("created_at", tzinfo=UTC))
        .filter(due__lt=now)
        .values("day", "priority", "state")
        .annotate(n=Count("id"))
    )
    for row in recent:
        counts["breached"][_week_of(row["day"])] += row["n"]
        if row["state"] != Case.State.CLOSED:
            counts["overdue"][row["priority"]] += row["n"]
    start = datetime.combine(start_day, time.min, tzinfo=UTC)
    _count_directly(counts, scope.leftover.filter(is_test=False).order_by(), now=now, start=start)
    return _to_dashboard(counts, mondays)
