"""The support console (issue 13): every queue filter and sort against an answer computed
by hand (plain Python over the persona world), the bounded counts, keyset paging without
a page cap, saved views, bulk actions, the one-submit support form and canned replies."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from cases.models import Case, CaseEvent, Comment
from cases.services import (
    canned_reply_save,
    case_assign,
    case_comment_add,
    case_escalate,
    case_set_state,
)
from cases.system_services import cases_flag_next_response_breaches_run
from notifications.mail import render_message
from notifications.models import OutboxMessage
from portal.errors import PermissionRefused

QUEUE = reverse("support:queue")


def walk(client, query: str = "") -> list[int]:
    """Every case number of a queue view, following the keyset pages to the end."""
    numbers, url, seen = [], QUEUE + ("?" + query if query else ""), 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        html = response.content.decode()
        numbers += [int(n) for n in re.findall(r'<tr data-case="(\d+)"', html)]
        link = re.search(r'<a class="button" href="([^"]+)" rel="next">', html)
        url = QUEUE + link.group(1).replace("&amp;", "&") if link else None
        seen += 1
        assert seen < 100
    return numbers


def world_cases():
    """The persona world's non-test cases, as plain Python objects."""
    return list(Case.objects.filter(is_test=False).select_related("customer"))


def open_(case) -> bool:
    return case.state != "CLOSED"


@pytest.fixture
def engineer_client(w, signed_in, file_case):
    """The world plus a few cases that make every filter value occur: an escalated
    premium case assigned to the engineer, a Korean case, a customer reply after the
    first response."""
    premium = file_case(w.agent, w.acme, priority="P1", title="Premium outage zebracorn")
    case_escalate(user=w.agent, case=premium, reason="BUSINESS_IMPACT", justification="Launch blocked")
    case_assign(user=w.engineer, case=premium, assignee=w.engineer)
    korean = file_case(w.agent2, w.initech, priority="P2", title="메일 지연", language="ko")
    case_comment_add(user=w.engineer, case=korean, body="Please send the headers.")
    case_comment_add(user=w.agent2, case=korean, body="Here they are.")
    return signed_in(w.engineer)


def by_number(cases):
    return {case.number for case in cases}


FILTERS = [
    ("", lambda c, w: open_(c)),
    ("state=NEW", lambda c, w: c.state == "NEW"),
    ("state=ACTION_REQUIRED&state=CLOSED", lambda c, w: c.state in ("ACTION_REQUIRED", "CLOSED")),
    ("state=OPEN", lambda c, w: open_(c)),
    ("priority=P1", lambda c, w: open_(c) and c.priority == "P1"),
    ("priority=P2&priority=P3", lambda c, w: open_(c) and c.priority in ("P2", "P3")),
    ("tier=PREMIUM", lambda c, w: open_(c) and c.customer.support_tier == "PREMIUM"),
    (
        "tier=STANDARD&state=CLOSED",
        lambda c, w: c.state == "CLOSED" and c.customer.support_tier == "STANDARD",
    ),
    ("language=ko", lambda c, w: open_(c) and c.language == "ko"),
    ("assignee=me", lambda c, w: open_(c) and c.assignee_id == w.engineer.pk),
    ("assignee=nobody", lambda c, w: open_(c) and c.assignee_id is None),
    ("escalated=true", lambda c, w: open_(c) and c.escalated_at is not None),
    ("escalated=false&state=CLOSED", lambda c, w: c.state == "CLOSED" and c.escalated_at is None),
    # Awaiting support, computed from what happened rather than from the stored column:
    # open, and either never answered or the customer side spoke last.
    ("awaiting=support", lambda c, w: open_(c) and c.waiting_on == "SUPPORT"),
    (
        "awaiting=support&priority=P1",
        lambda c, w: open_(c) and c.waiting_on == "SUPPORT" and c.priority == "P1",
    ),
    ("q=zebracorn", lambda c, w: open_(c) and "zebracorn" in c.title),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS, ids=[q or "default" for q, _ in FILTERS])
def test_every_queue_filter_matches_the_hand_computed_answer(engineer_client, w, query, expected):
    want = by_number(c for c in world_cases() if expected(c, w))
    got = walk(engineer_client, query)
    assert len(got) == len(set(got)), "a case appeared twice across pages"
    assert set(got) == want
    assert want or query.startswith("q="), "the world should make every filter value occur"


def test_awaiting_support_follows_the_conversation(engineer_client, w):
    """The stored column agrees with the history: last public message from the customer
    side (or none yet) on an open case."""
    for case in world_cases():
        last = Comment.objects.filter(case=case, internal=False).order_by("-created_at", "-id").first()
        owes = (
            open_(case)
            and (last is None or not last.from_support)
            and case.state
            not in (
                "ACTION_REQUIRED",
                "SOLUTION_PROVIDED",
            )
        )
        if case.state in ("ACTION_REQUIRED", "SOLUTION_PROVIDED"):
            assert case.waiting_on == "CUSTOMER", case.number
        elif owes:
            assert case.waiting_on == "SUPPORT" and case.next_response_due_at is not None, case.number


def test_customer_and_reseller_domain_filters(engineer_client, w):
    acme = w.acme
    assert set(walk(engineer_client, f"customer={acme.pk}&state=CLOSED&state=OPEN")) == by_number(
        c for c in world_cases() if c.customer_id == acme.pk
    )
    reseller2 = w.reseller2
    assert set(walk(engineer_client, f"domain={reseller2.pk}")) == by_number(
        c for c in world_cases() if open_(c) and c.managing_domain_id == reseller2.pk
    )
    other = w.engineer.__class__.objects.filter(email="engineer2@support.example").get()
    assert set(walk(engineer_client, f"assignee={other.pk}")) == by_number(
        c for c in world_cases() if open_(c) and c.assignee_id == other.pk
    )


def due_key(case):
    if case.next_response_due_at is None:
        return (2, case.pk, case.pk)
    return (0 if case.assignee_id is None else 1, case.next_response_due_at, case.pk)


SORTS = [
    ("sort=due", due_key),
    ("sort=-updated", lambda c: (-c.updated_at.timestamp(), -c.pk)),
    ("sort=updated", lambda c: (c.updated_at, c.pk)),
    ("sort=-created", lambda c: (-c.created_at.timestamp(), -c.pk)),
    ("sort=created", lambda c: (c.created_at, c.pk)),
    ("sort=priority", lambda c: (c.priority, c.pk)),
]


@pytest.mark.parametrize(("query", "key"), SORTS, ids=[q for q, _ in SORTS])
def test_every_sort_walks_every_case_once_in_order(engineer_client, w, query, key):
    cases = world_cases()
    want = [c.number for c in sorted(cases, key=key)]
    got = walk(engineer_client, query + "&state=OPEN&state=CLOSED")
    assert len(got) > 50, "more than one page, so the keyset paging is exercised"
    assert got == want


def test_the_default_order_is_unassigned_and_soonest_target_first(engineer_client, w):
    assert walk(engineer_client) == [c.number for c in sorted(filter(open_, world_cases()), key=due_key)]


def test_a_bad_cursor_starts_again_and_a_bad_filter_is_a_400(engineer_client):
    assert engineer_client.get(QUEUE + "?cursor=forged").status_code == 200
    response = engineer_client.get(QUEUE + "?priority=P9")
    assert response.status_code == 400 and "Some filters are not valid" in response.content.decode()
    assert engineer_client.get(QUEUE + "?assignee=999999").status_code == 400


def counts_of(client, query=""):
    html = client.get(reverse("support:counts") + ("?" + query if query else "")).content.decode()
    return {
        (name, value): int(count)
        for name, value, count in re.findall(r'href="\?[^"]*?(\w+)=(\w+)"[^>]*>[^<]*</a> <strong>(\d+)', html)
    }


def test_counts_per_filter_value_match_the_hand_computed_answer(engineer_client, w):
    cases = world_cases()
    counts = counts_of(engineer_client, "priority=P1")
    p1 = [c for c in cases if c.priority == "P1"]
    for state in Case.State.values:
        assert counts[("state", state)] == sum(c.state == state for c in p1), state
    open_cases = [c for c in cases if open_(c)]
    for priority in ("P1", "P2", "P3", "P4"):
        assert counts[("priority", priority)] == sum(c.priority == priority for c in open_cases)
    open_p1 = [c for c in p1 if open_(c)]
    assert counts[("awaiting", "support")] == sum(c.waiting_on == "SUPPORT" for c in open_p1)
    assert counts[("assignee", "nobody")] == sum(c.assignee_id is None for c in open_p1)
    assert counts[("escalated", "true")] == sum(c.escalated_at is not None for c in open_p1)


def test_counts_are_bounded(engineer_client, w, monkeypatch):
    monkeypatch.setattr("cases.selectors.FACET_CAP", 3)
    monkeypatch.setattr("cases.support_views.FACET_CAP", 3)
    html = engineer_client.get(reverse("support:counts")).content.decode()
    assert "3+" in html and not re.search(r"<strong>([4-9]|\d\d+)</strong>", html)


def test_queue_and_counts_cost_a_fixed_number_of_queries(engineer_client, w, django_assert_max_num_queries):
    # One page of 50 rows and a page of one row cost the same.
    for query in ("state=OPEN&state=CLOSED", "q=zebracorn", "awaiting=support&priority=P1&assignee=me"):
        with django_assert_max_num_queries(12):
            engineer_client.get(QUEUE + "?" + query)
        with django_assert_max_num_queries(8):
            engineer_client.get(reverse("support:counts") + "?" + query)


def test_the_queue_and_its_parts_are_for_support_only(w, signed_in):
    for persona in (w.agent, w.acme_admin, w.admin):
        client = signed_in(persona)
        for url in (QUEUE, reverse("support:counts"), reverse("support:canned")):
            assert client.get(url).status_code == 404
        assert client.post(reverse("support:bulk"), {"action": "note", "cases": [1]}).status_code == 404


# --------------------------------------------------------------------------- saved views


def test_engineers_save_their_own_views(engineer_client, w, signed_in):
    response = engineer_client.post(
        reverse("support:view_save"), {"name": "My P1s", "query": "awaiting=support&priority=P1&cursor=x"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?awaiting=support&priority=P1")
    page = engineer_client.get(QUEUE).content.decode()
    assert 'href="?awaiting=support&amp;priority=P1">My P1s</a>' in page
    other = signed_in(w.engineer.__class__.objects.get(email="lead@support.example"))
    assert "My P1s" not in other.get(QUEUE).content.decode()
    view_id = w.engineer.saved_queue_views.get().pk
    assert other.post(reverse("support:view_delete", args=[view_id])).status_code == 404
    engineer_client.force_login(w.engineer)
    assert engineer_client.post(reverse("support:view_delete", args=[view_id])).status_code == 302
    assert not w.engineer.saved_queue_views.exists()


# --------------------------------------------------------------------------- bulk actions


def test_bulk_action_checks_and_audits_each_case_on_its_own(engineer_client, w, file_case):
    first = file_case(w.agent, w.acme, title="Bulk one")
    second = file_case(w.agent2, w.initech, title="Bulk two")
    closed = file_case(w.agent, w.acme, title="Bulk closed")
    case_set_state(user=w.agent, case=closed, state="CLOSED")
    response = engineer_client.post(
        reverse("support:bulk"),
        {"action": "state", "state": "ACTION_REQUIRED", "cases": [first.pk, second.pk, closed.pk, 987654321]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'class="ok" data-case="{first.number}"', html)
    assert re.search(rf'class="ok" data-case="{second.number}"', html)
    assert re.search(rf'class="failed" data-case="{closed.number}"', html) and "cannot be moved" in html
    assert 'class="failed" data-case=""' in html  # the unknown id: not found, like any other
    for case in (first, second):
        case.refresh_from_db()
        assert case.state == "ACTION_REQUIRED"
        assert case.events.filter(kind="STATE_CHANGED", actor=w.engineer).count() == 1
    closed.refresh_from_db()
    assert closed.state == "CLOSED"


def test_bulk_assign_and_note(engineer_client, w, file_case):
    cases = [file_case(w.agent, w.acme, title=f"Bulk {i}") for i in range(3)]
    lead = w.engineer.__class__.objects.get(email="lead@support.example")
    ids = [c.pk for c in cases]
    engineer_client.post(reverse("support:bulk"), {"action": "assign", "assignee": lead.pk, "cases": ids})
    engineer_client.post(reverse("support:bulk"), {"action": "note", "note": "Known outage", "cases": ids})
    engineer_client.post(reverse("support:bulk"), {"action": "priority", "priority": "P2", "cases": ids})
    for case in cases:
        case.refresh_from_db()
        assert case.assignee == lead and case.priority == "P2"
        assert case.comments.filter(internal=True, body="Known outage").count() == 1
        assert case.events.filter(kind__in=["ASSIGNED", "NOTE_ADDED", "PRIORITY_CHANGED"]).count() == 3
    assert (
        "not valid"
        not in engineer_client.post(
            reverse("support:bulk"), {"action": "note", "cases": ids}
        ).content.decode()
    )
    assert Comment.objects.filter(case__in=cases, internal=True).count() == 3  # an empty note wrote nothing


# --------------------------------------------------------------------------- the case page


def test_one_submit_replies_sets_state_severity_and_assignee_as_one_group(engineer_client, w, file_case):
    case = file_case(w.agent, w.acme, priority="P3")
    page = engineer_client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert re.search(r'<select name="state" id="id_support_state"><option value="NEW" selected>', page)
    assert f'data-testid="contact-email"><a href="mailto:{case.contact_email}"' in page
    response = engineer_client.post(
        reverse("cases:support_update", args=[case.number]),
        {
            "version": case.version,
            "body": "Could you send the full headers?",
            "state": "ACTION_REQUIRED",
            "priority": "P1",
            "assignee": w.engineer.pk,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.priority, case.assignee) == ("ACTION_REQUIRED", "P1", w.engineer)
    events = list(case.events.exclude(kind__in=["CREATED", "SUBSCRIBER_ADDED"]))
    assert [e.kind for e in events] == ["COMMENTED", "STATE_CHANGED", "PRIORITY_CHANGED", "ASSIGNED"]
    assert len({e.group for e in events}) == 1 and events[0].group is not None
    page = engineer_client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert re.search(r'<option value="ACTION_REQUIRED" selected>', page)


def test_one_submit_is_all_or_nothing_and_keeps_the_text(engineer_client, w, file_case):
    case = file_case(w.agent, w.acme)
    case_set_state(user=w.agent, case=case, state="CLOSED")
    case.refresh_from_db()
    response = engineer_client.post(
        reverse("cases:support_update", args=[case.number]),
        {"version": case.version, "body": "Text I typed", "state": "CLOSED", "priority": case.priority},
    )
    assert response.status_code == 400
    assert "Text I typed" in response.content.decode()
    assert not case.comments.exists()
    stale = engineer_client.post(
        reverse("cases:support_update", args=[case.number]),
        {"version": case.version - 1, "body": "x", "state": case.state, "priority": case.priority},
    )
    assert stale.status_code == 409
    nothing = engineer_client.post(
        reverse("cases:support_update", args=[case.number]),
        {"version": case.version, "body": "", "state": case.state, "priority": case.priority},
    )
    assert nothing.status_code == 400


def test_customer_side_cannot_use_the_support_form(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    client = signed_in(w.agent)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'data-testid="support-form"' not in page and 'data-testid="contact-email"' not in page
    response = client.post(
        reverse("cases:support_update", args=[case.number]),
        {"version": case.version, "body": "x", "state": "SOLUTION_PROVIDED", "priority": "P1"},
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.state == "NEW" and not case.comments.exists()


def test_the_case_page_says_who_owes_the_next_reply(engineer_client, w, file_case):
    case = file_case(w.agent, w.acme, priority="P2")
    url = reverse("cases:detail", args=[case.number])
    assert 'data-next="new"' in engineer_client.get(url).content.decode()
    case_comment_add(user=w.engineer, case=case, body="Which users?")
    case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
    html = engineer_client.get(url).content.decode()
    assert 'data-next="waiting_on_customer"' in html and "Waiting on customer since" in html
    case_comment_add(user=w.agent, case=case, body="All of them.")
    html = engineer_client.get(url).content.decode()
    assert 'data-next="customer_replied"' in html and "Customer replied" in html
    assert 'data-sla="open"' in html


def test_next_response_breach_is_flagged_once_per_wait(w, file_case):
    case = file_case(w.agent, w.acme, priority="P2")  # Premium P2: next reply within 4 h
    case_comment_add(user=w.engineer, case=case, body="Looking.")
    case_comment_add(user=w.agent, case=case, body="Any news?")
    case.refresh_from_db()
    due = case.next_response_due_at
    assert due == case.waiting_since + timedelta(hours=4)
    breaches = case.events.filter(kind=CaseEvent.Kind.NEXT_RESPONSE_BREACHED)
    with time_machine.travel(due - timedelta(minutes=1)):
        cases_flag_next_response_breaches_run()
    assert not breaches.exists()
    with time_machine.travel(due + timedelta(minutes=1)):
        cases_flag_next_response_breaches_run()
        assert cases_flag_next_response_breaches_run() == 0
    assert breaches.count() == 1
    rows = OutboxMessage.objects.filter(event__in=breaches)
    assert rows.exists(), "the breach is mailed like a first-response breach"
    message = render_message(rows.first())
    assert "next-response target of this case (4 h after your last message)" in message.body
    # Answered and asked again: a new wait, a new flag when it runs late.
    case_comment_add(user=w.engineer, case=case, body="Fixed?")
    case_comment_add(user=w.agent, case=case, body="No.")
    case.refresh_from_db()
    assert case.next_response_breached_at is None
    with time_machine.travel(case.next_response_due_at + timedelta(minutes=1)):
        cases_flag_next_response_breaches_run()
    assert breaches.count() == 2


# --------------------------------------------------------------------------- canned replies


def test_canned_replies_are_managed_by_leads_and_filled_in_on_the_case(w, signed_in, file_case):
    lead = w.engineer.__class__.objects.get(email="lead@support.example")
    client = signed_in(lead)
    response = client.post(
        reverse("support:canned"),
        {"title": "Greeting", "language": "en", "body": "Hi {customer}, about {case_number} ({requester})."},
    )
    assert response.status_code == 302
    with pytest.raises(PermissionRefused):
        canned_reply_save(user=w.engineer, title="Mine", language="en", body="x")
    engineer = signed_in(w.engineer)
    assert (
        engineer.post(reverse("support:canned"), {"title": "X", "language": "en", "body": "y"}).status_code
        == 403
    )
    case = file_case(w.agent, w.acme)
    page = engineer.get(reverse("cases:detail", args=[case.number])).content.decode()
    requester = w.agent.display_name
    assert f"Hi Acme Corp, about {case.number} ({requester})." in page
    korean = engineer.get(reverse("support:canned")).content.decode()
    assert "메시지 헤더 요청" in korean  # the demo's Korean canned replies


def test_one_submit_reopens_a_closed_case_with_the_reply(engineer_client, w, file_case):
    case = file_case(w.agent, w.acme)
    case_set_state(user=w.agent, case=case, state="CLOSED")
    case.refresh_from_db()
    response = engineer_client.post(
        reverse("cases:support_update", args=[case.number]),
        {
            "version": case.version,
            "body": "Reopening: the fix did not hold.",
            "state": "IN_PROGRESS_GOOGLE_SUPPORT",
            "priority": case.priority,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "IN_PROGRESS_GOOGLE_SUPPORT" and case.comments.count() == 1
    assert case.waiting_on == "CUSTOMER"  # support spoke last
