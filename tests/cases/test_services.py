"""SPEC §4 through the case services: both sides of each rule."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings

from cases.lifecycle import Side, next_states, transition_allowed
from cases.models import Case, CaseEvent
from cases.services import (
    case_change_priority,
    case_close,
    case_comment_add,
    case_create,
    case_escalate,
    case_reopen,
    case_set_state,
    case_subscribers_set,
)
from portal.errors import InvalidInput, InvalidTransition, NotFound, PermissionRefused, StaleWrite

State = Case.State


def test_filing_gives_a_unique_number_and_a_created_event(w, file_case):
    first, second = file_case(w.agent, w.acme), file_case(w.agent, w.acme)
    assert first.number != second.number and first.number > settings.CASE_NUMBER_BASE
    assert list(first.events.values_list("kind", flat=True)) == [CaseEvent.Kind.CREATED]
    assert first.state == State.NEW and first.contact_email == w.agent.email


def test_double_submit_with_one_request_key_files_one_case(w, file_case):
    first = file_case(w.agent, w.acme, request_key="abc-123")
    again = file_case(w.agent, w.acme, request_key="abc-123")
    assert first.pk == again.pk
    assert Case.objects.filter(request_key="abc-123").count() == 1


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"title": "   "}, "Title is required"),
        ({"title": "x" * 201}, "at most 200"),
        ({"priority": "P0"}, "P1 to P4"),
        ({"language": "de"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time zone"),
        ({"subscribers": ["not-an-email"]}, "not a valid email"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(w, file_case, overrides, message):
    with pytest.raises(InvalidInput) as refused:
        file_case(w.agent, w.acme, **overrides)
    assert message in str(refused.value.message)


def test_only_leaf_categories_can_be_filed(w, file_case):
    with pytest.raises(InvalidInput):
        file_case(w.agent, w.acme, classification=w.leaf("Gmail"))


def test_support_engineers_do_not_file_cases(w, file_case):
    with pytest.raises(PermissionRefused):
        file_case(w.engineer, w.acme)


def test_transition_table_is_the_one_authority():
    assert transition_allowed(current=State.NEW, target=State.IN_PROGRESS_GOOGLE_SUPPORT, side=Side.SUPPORT)
    assert not transition_allowed(
        current=State.NEW, target=State.IN_PROGRESS_GOOGLE_SUPPORT, side=Side.CUSTOMER
    )
    assert not transition_allowed(current=State.CLOSED, target=State.SOLUTION_PROVIDED, side=Side.SUPPORT)
    assert next_states(current=State.NEW, side=Side.CUSTOMER) == [State.CLOSED]


def test_customer_side_cannot_set_support_states(w, file_case):
    case = file_case(w.agent, w.acme)
    with pytest.raises(InvalidTransition):
        case_set_state(user=w.agent, case=case, state=State.SOLUTION_PROVIDED)
    case = case_set_state(user=w.engineer, case=case, state=State.SOLUTION_PROVIDED)
    assert case.state == State.SOLUTION_PROVIDED
    assert case.events.filter(
        kind=CaseEvent.Kind.STATE_CHANGED, before=State.NEW, after=State.SOLUTION_PROVIDED
    ).exists()


@pytest.mark.parametrize("waiting", [State.ACTION_REQUIRED, State.SOLUTION_PROVIDED])
def test_customer_reply_returns_a_waiting_case_to_support(w, file_case, waiting):
    case = case_set_state(user=w.engineer, case=file_case(w.agent, w.acme), state=waiting)
    case_comment_add(user=w.acme_user, case=case, body="Here is the information you asked for.")
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS_GOOGLE_SUPPORT


def test_support_reply_does_not_move_a_waiting_case_and_records_first_response(w, file_case):
    case = case_set_state(user=w.engineer, case=file_case(w.agent, w.acme), state=State.ACTION_REQUIRED)
    case_comment_add(user=w.engineer, case=case, body="Any news?")
    case.refresh_from_db()
    assert case.state == State.ACTION_REQUIRED and case.first_response_at is not None


def test_close_then_reopen(w, file_case):
    case = case_close(user=w.acme_user, case=file_case(w.agent, w.acme))
    assert case.state == State.CLOSED and case.closed_at is not None
    case = case_reopen(user=w.agent, case=case)
    assert case.state == State.IN_PROGRESS_GOOGLE_SUPPORT and case.closed_at is None


def test_reopen_works_a_second_before_the_window_ends_and_not_a_second_after(w, file_case):
    case = case_close(user=w.agent, case=file_case(w.agent, w.acme))
    window = timedelta(days=settings.CASE_REOPEN_DAYS)
    with time_machine.travel(case.closed_at + window + timedelta(seconds=1)):
        with pytest.raises(InvalidTransition) as refused:
            case_reopen(user=w.agent, case=case)
        assert "follow-up" in str(refused.value.message)
        with pytest.raises(InvalidTransition):
            case_comment_add(user=w.agent, case=case, body="still broken")
    with time_machine.travel(case.closed_at + window - timedelta(seconds=1)):
        assert case_reopen(user=w.agent, case=case).state == State.IN_PROGRESS_GOOGLE_SUPPORT


def test_severity_changes_on_open_cases_only_and_p0_is_support_only(w, file_case):
    case = file_case(w.agent, w.acme)
    case = case_change_priority(user=w.acme_user, case=case, priority="P1")
    assert case.priority == "P1"
    with pytest.raises(InvalidInput):
        case_change_priority(user=w.agent, case=case, priority="P0")
    assert case_change_priority(user=w.engineer, case=case, priority="P0").priority == "P0"
    case = case_close(user=w.agent, case=case)
    with pytest.raises(InvalidTransition):
        case_change_priority(user=w.agent, case=case, priority="P2")


def test_stale_version_is_refused_so_no_update_is_lost(w, file_case):
    case = file_case(w.agent, w.acme)
    seen_version = case.version
    case_change_priority(user=w.acme_user, case=case, priority="P2", expected_version=seen_version)
    with pytest.raises(StaleWrite):
        case_change_priority(user=w.agent, case=case, priority="P4", expected_version=seen_version)
    case.refresh_from_db()
    assert case.priority == "P2"


def test_escalation_is_for_open_premium_cases_once(w, file_case):
    premium = file_case(w.agent, w.acme)
    with pytest.raises(InvalidInput):
        case_escalate(user=w.agent, case=premium, reason="BUSINESS_IMPACT", justification=" ")
    case = case_escalate(user=w.agent, case=premium, reason="BUSINESS_IMPACT", justification="Launch blocked")
    assert case.is_escalated
    with pytest.raises(InvalidTransition):
        case_escalate(user=w.agent, case=premium, reason="BUSINESS_IMPACT", justification="again")
    standard = file_case(w.agent2, w.initech)  # ENHANCED
    with pytest.raises(InvalidTransition) as refused:
        case_escalate(user=w.agent2, case=standard, reason="RESOLUTION_TIME", justification="slow")
    assert "Premium" in str(refused.value.message)


def test_sharing_adds_and_removes_valid_addresses_with_events(w, file_case):
    case = file_case(w.agent, w.acme)
    case_subscribers_set(user=w.agent, case=case, add=["Team@Acme.example", "team@acme.example"])
    assert list(case.subscribers.values_list("email", flat=True)) == ["team@acme.example"]
    case_subscribers_set(user=w.agent, case=case, remove=["team@acme.example"])
    assert not case.subscribers.exists()
    kinds = list(case.events.values_list("kind", flat=True))
    assert (
        kinds.count(CaseEvent.Kind.SUBSCRIBER_ADDED) == 1
        and kinds.count(CaseEvent.Kind.SUBSCRIBER_REMOVED) == 1
    )


def test_follow_up_links_to_a_visible_case_only(w, file_case):
    old = file_case(w.agent, w.acme)
    follow_up = file_case(w.agent, w.acme, follow_up_of=old)
    assert follow_up.follow_up_of == old
    other = file_case(w.agent2, w.initech)
    with pytest.raises(NotFound):
        case_create(
            user=w.agent,
            customer=w.acme,
            classification=w.leaf(),
            title="t",
            description="d",
            priority="P3",
            language="en",
            time_zone="UTC",
            follow_up_of=other,
        )


def test_nul_characters_are_refused_with_a_message_not_a_database_error(w, file_case):
    with pytest.raises(InvalidInput) as refused:
        file_case(w.agent, w.acme, description="broken\x00text")
    assert "not allowed" in str(refused.value.message)
    case = file_case(w.agent, w.acme, answers={"0": "a\x00b"})
    assert case.answers == {"0": "ab"}
    with pytest.raises(InvalidInput):
        case_comment_add(user=w.agent, case=case, body="\x00")
