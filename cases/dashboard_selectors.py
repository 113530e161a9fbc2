"""Reads for the dashboard. Every number starts from `case_visible_to(user)` (R10) and is
aggregated in the database: three queries whatever the number of cases."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Case as SqlCase
from django.db.models import Count, DateTimeField, DurationField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import TruncWeek

from accounts.models import User
from cases.lifecycle import FIRST_RESPONSE_HOURS, OPEN_STATES
from cases.models import Case
from cases.selectors import case_visible_to

WEEKS = 13  # a quarter


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


def dashboard_for(user: User, *, now: datetime, tz: tzinfo) -> Dashboard:
    """Open cases by state and severity (with those overdue for a first response), and
    per week: cases opened, closed and in breach of their first-response target. Test
    cases are left out."""
    cases = case_visible_to(user).filter(is_test=False).order_by()
    mondays = week_starts(now=now, tz=tz)
    start = datetime.combine(mondays[0], time.min, tzinfo=tz)

    open_rows = (
        cases.filter(state__in=OPEN_STATES)
        .annotate(due=first_response_due_expression())
        .values("state", "priority")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(first_response_at__isnull=True, due__lt=now)))
    )
    by_state = dict.fromkeys(OPEN_STATES, 0)
    by_priority = dict.fromkeys(Case.Priority.values, 0)
    overdue = dict.fromkeys(Case.Priority.values, 0)
    for row in open_rows:
        by_state[row["state"]] += row["n"]
        by_priority[row["priority"]] += row["n"]
        overdue[row["priority"]] += row["overdue"]

    opened_rows = (
        cases.filter(created_at__gte=start)
        .annotate(week=TruncWeek("created_at", tzinfo=tz), due=first_response_due_expression())
        .values("week")
        .annotate(n=Count("id"), breached=Count("id", filter=first_response_breached(now)))
    )
    closed_rows = (
        cases.filter(closed_at__gte=start)
        .annotate(week=TruncWeek("closed_at", tzinfo=tz))
        .values("week")
        .annotate(n=Count("id"))
    )

    def local_date(value) -> date:
        return value.astimezone(tz).date() if isinstance(value, datetime) else value

    opened = {local_date(row["week"]): (row["n"], row["breached"]) for row in opened_rows}
    closed = {local_date(row["week"]): row["n"] for row in closed_rows}
    return Dashboard(
        open_by_state={str(k): v for k, v in by_state.items()},
        open_by_priority=by_priority,
        overdue_by_priority=overdue,
        weeks=mondays,
        opened=[opened.get(monday, (0, 0))[0] for monday in mondays],
        closed=[closed.get(monday, 0) for monday in mondays],
        breached=[opened.get(monday, (0, 0))[1] for monday in mondays],
    )
