"""The dashboard's rollup (cases/rollups.py) against a direct count, property-based: after
any sequence of filings (at any time in the last quarter), state changes, closes, reopens,
first answers (on time or late), severity changes, moves between resellers, consent
changes and support partners, every number of the dashboard — for resellers, support and
customer users, at any moment after — equals what counting the visible cases gives."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.dashboard_selectors import dashboard_counted, dashboard_for
from cases.models import Case, CaseRollup
from cases.selectors import case_visible_to
from cases.services import (
    case_change_priority,
    case_close,
    case_comment_add,
    case_create,
    case_reopen,
    case_set_state,
)
from customers.services import access_grant_set, customer_reseller_set, support_partner_add
from portal.errors import DomainError

pytestmark = pytest.mark.django_db

FILERS = ["agent", "agent2", "agent3", "acme_admin", "globex_admin", "initech_admin", "umbrella_admin"]
CUSTOMERS = ["acme", "globex", "initech", "umbrella", "hooli"]
CUSTOMER_ADMINS = {
    "acme": "acme_admin",
    "globex": "globex_admin",
    "initech": "initech_admin",
    "umbrella": "umbrella_admin",
    "hooli": "hooli_admin",
}
RESELLERS = ["reseller", "reseller2", "reseller3"]
VIEWERS = ["agent", "agent2", "agent3", "alex2", "engineer", "acme_user", "umbrella_admin", "initech_admin"]

case_pick = st.integers(min_value=0, max_value=10_000)
filing = st.tuples(
    st.just("file"),
    st.sampled_from(FILERS),
    st.sampled_from(CUSTOMERS),
    st.sampled_from(["P1", "P2", "P3", "P4"]),
    # hours ago: often within the last three days, where the clock decides breaches
    st.one_of(st.integers(min_value=0, max_value=72), st.integers(min_value=0, max_value=100 * 24)),
)
operations = st.one_of(
    filing,
    filing,
    filing,
    st.tuples(
        st.just("state"),
        case_pick,
        st.sampled_from(["IN_PROGRESS_GOOGLE_SUPPORT", "ACTION_REQUIRED", "SOLUTION_PROVIDED"]),
    ),
    st.tuples(st.just("close"), case_pick),
    st.tuples(st.just("reopen"), case_pick),
    st.tuples(
        st.just("answer"), case_pick, st.integers(min_value=0, max_value=30 * 60)
    ),  # minutes after filing
    st.tuples(st.just("priority"), case_pick, st.sampled_from(["P0", "P1", "P2", "P3", "P4"])),
    st.tuples(st.just("move"), st.sampled_from(CUSTOMERS), st.sampled_from(RESELLERS), st.booleans()),
    st.tuples(st.just("consent"), st.sampled_from(CUSTOMERS), st.sampled_from(RESELLERS), st.booleans()),
    st.tuples(st.just("partner"), st.sampled_from(CUSTOMERS), st.sampled_from(RESELLERS)),
)


def apply(w, op, real_now) -> None:
    name = op[0]
    cases = list(Case.objects.order_by("id"))
    case = cases[op[1] % len(cases)] if name in ("state", "close", "reopen", "answer", "priority") else None
    try:
        if name == "file":
            _, filer, customer, priority, hours_ago = op
            with time_machine.travel(real_now - timedelta(hours=hours_ago), tick=False):
                case_create(
                    user=getattr(w, filer),
                    customer=getattr(w, customer),
                    classification=w.leaf(),
                    title="Property",
                    description="Filed by the property test.",
                    priority=priority,
                    language="en",
                    time_zone="UTC",
                )
        elif name == "state":
            case_set_state(user=w.engineer, case=case, state=op[2])
        elif name == "close":
            case_close(user=w.engineer, case=case)
        elif name == "reopen":
            case_reopen(user=w.engineer, case=case)
        elif name == "answer":
            at = min(case.created_at + timedelta(minutes=op[2]), real_now)
            with time_machine.travel(at, tick=False):
                case_comment_add(user=w.engineer, case=case, body="An answer.")
        elif name == "priority":
            case_change_priority(user=w.engineer, case=case, priority=op[2])
        elif name == "move":
            customer_reseller_set(customer=getattr(w, op[1]), domain=getattr(w, op[2]), consent=op[3])
        elif name == "consent":
            access_grant_set(
                customer=getattr(w, op[1]), domain=getattr(w, op[2]), support_cases=op[3], actor=None
            )
        elif name == "partner":
            customer = op[1]
            support_partner_add(
                actor=getattr(w, CUSTOMER_ADMINS[customer]),
                customer=getattr(w, customer),
                domain=getattr(w, op[2]),
            )
    except (DomainError, PermissionError):
        pass  # refused by the rules (consent off, a locked case, a transition not allowed …)
    except Exception as error:  # a refusal of another kind must still leave the data consistent
        if type(error).__name__ not in {"PermissionDenied", "ValidationError"}:
            raise


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operations, min_size=1, max_size=14),
    check_after_hours=st.sampled_from([0, 1, 5, 23, 25, 49, 24 * 8]),
)
def test_dashboard_from_rollups_equals_a_direct_count(w, ops, check_after_hours):
    real_now = timezone.now()
    with transaction.atomic():
        for op in ops:
            apply(w, op, real_now)
        now = real_now + timedelta(hours=check_after_hours)
        for viewer in VIEWERS:
            user = getattr(w, viewer)
            assert dashboard_for(user, now=now) == dashboard_counted(case_visible_to(user), now=now), (
                viewer,
                ops,
            )
        transaction.set_rollback(True)


def test_the_rollup_is_kept_by_any_write_even_a_bulk_update(w, file_case):
    case = file_case(w.agent, w.acme, priority="P2")
    open_p2 = CaseRollup.objects.filter(kind="S", customer=w.acme, state="NEW", priority="P2")
    before = sum(open_p2.values_list("n", flat=True))
    Case.objects.filter(pk=case.pk).update(priority="P4")
    assert sum(open_p2.values_list("n", flat=True)) == before - 1
    assert dashboard_for(w.agent, now=timezone.now()) == dashboard_counted(
        case_visible_to(w.agent), now=timezone.now()
    )


@pytest.mark.parametrize("hours_ago", [1, 20, 30, 47, 50, 24 * 20])
def test_unanswered_cases_near_the_cutoff_count_once(w, hours_ago):
    """The rollup counts unanswered cases of days before the cutoff; those after it are
    counted one by one. A case on either side of it counts exactly once."""
    real_now = timezone.now()
    filed = Case.objects.count()
    apply(w, ("file", "acme_admin", "acme", "P4", hours_ago), real_now)
    assert Case.objects.count() == filed + 1
    for viewer in ("agent", "engineer", "acme_user"):
        user = getattr(w, viewer)
        assert dashboard_for(user, now=real_now) == dashboard_counted(case_visible_to(user), now=real_now)
