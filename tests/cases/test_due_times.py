"""The stored response targets (who owes the next reply, since when, first- and
next-response due) stay equal to what the lifecycle table says after any sequence of
replies, notes, state, severity and assignment changes (a Hypothesis property test).

The expected values are computed here from the sequence itself, by the rules as SPEC §4
states them, not by calling the code under test."""

from datetime import timedelta

import time_machine
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cases.lifecycle import FIRST_RESPONSE_HOURS, case_due_times
from cases.models import Case
from cases.services import (
    case_change_priority,
    case_close,
    case_comment_add,
    case_create,
    case_note_add,
    case_reopen,
    case_set_state,
    case_support_update,
)
from portal.errors import DomainError

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("support_reply"), st.none()),
        st.tuples(st.just("customer_reply"), st.none()),
        st.tuples(st.just("note"), st.none()),
        st.tuples(st.just("support_state"), st.sampled_from(Case.State.values)),
        st.tuples(st.just("priority"), st.sampled_from(["P0", "P1", "P2", "P3", "P4"])),
        st.tuples(st.just("close"), st.none()),
        st.tuples(st.just("reopen"), st.none()),
        st.tuples(st.just("reply_and_state"), st.sampled_from(["ACTION_REQUIRED", "SOLUTION_PROVIDED"])),
    ),
    min_size=1,
    max_size=12,
)
WAITING = ("ACTION_REQUIRED", "SOLUTION_PROVIDED")


class Expected:
    """The rules, restated: support owes a reply from filing, from every customer-side
    reply that follows a support reply, and from a reopen; the customer side owes one
    after a support reply or while the case waits on it; nobody once closed."""

    def __init__(self, case):
        self.who, self.since, self.first_response_at = "SUPPORT", case.created_at, None

    def owe(self, who, at):
        if who != self.who:
            self.who, self.since = who, (at if who else None)

    def apply(self, action, value, before_state, after_state, at):
        if action in ("support_reply", "reply_and_state"):
            self.first_response_at = self.first_response_at or at
            self.owe("CUSTOMER", at)
        elif action == "customer_reply":
            self.owe("SUPPORT", at)
        if after_state != before_state:
            if after_state == "CLOSED":
                self.owe("", at)
            elif before_state == "CLOSED":
                self.owe("SUPPORT", at)
            elif after_state in WAITING:
                self.owe("CUSTOMER", at)

    def due(self, case):
        tier = case.customer.support_tier
        first = case.created_at + timedelta(hours=FIRST_RESPONSE_HOURS[tier][case.priority])
        if case.state == "CLOSED" or self.who != "SUPPORT":
            return first, None
        if self.first_response_at is None:
            return first, first
        return first, self.since + timedelta(hours=settings.CASE_NEXT_RESPONSE_HOURS[tier][case.priority])


def run(action, value, case, w, agent):
    if action == "support_reply":
        case_comment_add(user=w.engineer, case=case, body="Support says")
    elif action == "customer_reply":
        case_comment_add(user=agent, case=case, body="Customer says")
    elif action == "note":
        case_note_add(user=w.engineer, case=case, body="Note")
    elif action == "support_state":
        case_set_state(user=w.engineer, case=case, state=value)
    elif action == "priority":
        case_change_priority(user=w.engineer, case=case, priority=value)
    elif action == "close":
        case_close(user=agent, case=case)
    elif action == "reopen":
        case_reopen(user=agent, case=case)
    elif action == "reply_and_state":
        case_support_update(user=w.engineer, case=case, body="Please check", state=value)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS, tier_customer=st.sampled_from(["acme", "initech"]))
def test_stored_due_times_follow_the_lifecycle_table(w, actions, tier_customer):
    customer = getattr(w, tier_customer)
    agent = w.agent if tier_customer == "acme" else w.agent2
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False) as clock:
        case = case_create(
            user=agent,
            customer=customer,
            classification=w.leaf(),
            title="Property",
            description="Property test",
            priority="P3",
            language="en",
            time_zone="UTC",
        )
        expected = Expected(case)
        for action, value in actions:
            clock.shift(timedelta(minutes=37))
            before = Case.objects.get(pk=case.pk).state
            try:
                run(action, value, case, w, agent)
            except DomainError:
                continue  # refused by the lifecycle: nothing changed
            case = Case.objects.select_related("customer").get(pk=case.pk)
            expected.apply(action, value, before, case.state, case.updated_at)
            assert case.waiting_on == expected.who, (action, value)
            assert case.waiting_since == expected.since, (action, value)
            first, nxt = expected.due(case)
            assert case.first_response_due_at == first
            assert case.next_response_due_at == nxt, (action, value, case.state)
            # …and the lifecycle function agrees with what is stored.
            assert (case.first_response_due_at, case.next_response_due_at) == tuple(
                vars(
                    case_due_times(
                        state=case.state,
                        tier=case.customer.support_tier,
                        priority=case.priority,
                        created_at=case.created_at,
                        first_response_at=case.first_response_at,
                        waiting_on=case.waiting_on,
                        waiting_since=case.waiting_since,
                    )
                ).values()
            )


def test_a_tier_change_moves_the_targets_of_open_cases(w, file_case):
    from cases.services import customer_support_tier_set

    case = file_case(w.agent2, w.initech, priority="P1")  # Enhanced P1: first response within 1 h
    assert case.next_response_due_at == case.created_at + timedelta(hours=1)
    customer_support_tier_set(customer=w.initech, tier="PREMIUM")
    case.refresh_from_db()
    assert case.first_response_due_at == case.created_at + timedelta(minutes=15)
    assert case.next_response_due_at == case.first_response_due_at
    customer_support_tier_set(customer=w.initech, tier="ENHANCED")
