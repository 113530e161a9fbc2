"""What the speed work changed in the pages, checked on the persona world: the customer
filter is bounded and finds the others by search (never another domain's), the visibility
rewrite still answers exactly R1–R5, keyset pages start at the cursor, and the timing
header exists only when the benchmark asks for it."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import filters
from cases.models import Case
from cases.selectors import case_page, case_visible_to
from customers.models import AccessGrant, Relationship
from customers.selectors import customer_visible_to

pytestmark = pytest.mark.django_db


def options(html: str) -> list[str]:
    return re.findall(r'<option value="(\d+)"', html)


def customer_select(page: str) -> str:
    return re.search(r'<select name="customer".*?</select>', page, re.S).group(0)


# --------------------------------------------------------------------------- the customer filter


@pytest.fixture
def many_customers(w, monkeypatch):
    """Shrink the bound so that the persona world's customers exceed it."""
    monkeypatch.setattr(filters, "CUSTOMER_OPTIONS", 1)
    monkeypatch.setattr("cases.views.CUSTOMER_OPTIONS", 1)
    return customer_visible_to(w.agent).order_by("name")


def test_customer_filter_lists_a_bounded_number_of_customers(w, signed_in, many_customers):
    assert many_customers.count() > 1
    page = signed_in(w.agent).get(reverse("cases:list")).content.decode()
    assert options(customer_select(page)) == [str(many_customers.first().pk)]


def test_customer_filter_always_shows_the_chosen_customer(w, signed_in, many_customers):
    chosen = many_customers.last()
    page = signed_in(w.agent).get(reverse("cases:list") + f"?customer={chosen.pk}").content.decode()
    select = customer_select(page)
    assert str(chosen.pk) in options(select)
    assert re.search(rf'<option value="{chosen.pk}" selected>', select)


def test_customer_search_finds_customers_of_the_domain_only(w, signed_in):
    client = signed_in(w.agent)
    found = client.get(reverse("cases:customer_options") + "?customer_q=umbrella").content.decode()
    assert options(found) == [str(w.umbrella.pk)]
    # Initech is reseller2's customer (R1): the same as a customer that does not exist.
    assert (
        options(client.get(reverse("cases:customer_options") + "?customer_q=initech").content.decode()) == []
    )
    assert (
        "No customer matches."
        in client.get(reverse("cases:customer_options") + "?customer_q=initech").content.decode()
    )


def test_customer_search_needs_case_access(w, signed_in):
    assert signed_in(w.viewer).get(reverse("cases:customer_options") + "?customer_q=a").status_code == 403


def test_customer_search_field_never_filters_the_list(w, signed_in):
    page = signed_in(w.agent).get(reverse("cases:list")).content.decode()
    search = re.search(r'<input type="search" name="customer_q"[^>]*>', page).group(0)
    assert 'form="customer-finder"' in search and 'id="customer-finder"' in page


# --------------------------------------------------------------------------- the same rules


def test_visibility_rewrite_answers_r1_to_r5_like_the_rules_say(w, file_case):
    """The selector is written as consent ∧ active ∧ (managed ∨ partnership); this
    recomputes R3–R5 row by row from the rules themselves and compares, for every
    reseller persona, after a support partner and a consent change."""
    from customers.services import customer_consent_set, support_partner_add

    support_partner_add(customer=w.initech, domain=w.reseller, actor=w.initech_admin)
    file_case(w.agent2, w.initech, title="Filed while reseller supports Initech")
    customer_consent_set(customer=w.acme, domain=w.reseller, support_cases=False, actor=w.acme_admin)
    for user in (w.agent, w.agent2, w.agent3, w.alex, w.alex2):
        expected = set()
        for case in Case.objects.all():
            domain = user.domain_id
            consent = AccessGrant.objects.filter(
                customer=case.customer, reseller_domain_id=domain, support_cases=True
            ).exists()
            active = Relationship.objects.filter(
                customer=case.customer, reseller_domain_id=domain, ended_at=None
            )
            managed = case.managing_domain_id == domain and active.exists()
            partnership = active.filter(kind="SUPPORT_PARTNER", started_at__lte=case.created_at).exists()
            if consent and (managed or partnership):
                expected.add(case.pk)
        assert set(case_visible_to(user).values_list("pk", flat=True)) == expected, user.email


# --------------------------------------------------------------------------- keyset pages


def test_a_deep_page_starts_at_the_cursor(w, file_case):
    for i in range(6):
        file_case(w.agent, w.acme, title=f"Keyset {i}")
    visible = case_visible_to(w.agent)
    pages, cursor, seen = 0, None, []
    while True:
        page = case_page(visible, cursor=cursor, size=2)
        seen += [case.pk for case in page.rows]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == list(visible.order_by("-updated_at", "-id").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        case_page(visible, cursor=cursor, size=2)
    # The cursor is an index range (updated_at <= …), not only a filter on every row.
    assert re.search(r'"cases_case"\."updated_at" <= ', queries[0]["sql"])


def test_the_api_and_the_export_page_through_the_same_keyset_paginator(w, file_case):
    """One paginator (portal.keyset) for the lists, the API and the CSV: the API's page 2
    starts its index scan at the token like the lists, and the export yields the list order."""
    from cases.api_selectors import api_case_page
    from cases.selectors import case_iter_for_export

    for i in range(5):
        file_case(w.agent, w.acme, title=f"API keyset {i}")
    agent = w.agent
    visible = case_visible_to(agent)
    expected = list(visible.order_by("-updated_at", "-id").values_list("pk", flat=True))
    seen, token = [], None
    while True:
        with CaptureQueriesContext(connection) as queries:
            page = api_case_page(user=agent, customer_id=None, text="", search=False, size=2, token=token)
        seen += [case.pk for case in page.rows]
        if token:
            assert any(re.search(r'"cases_case"\."updated_at" <= ', q["sql"]) for q in queries)
        if not page.next_page_token:
            break
        token = page.next_page_token
    assert seen == expected
    assert [case.pk for case in case_iter_for_export(visible, chunk=2)] == expected


# --------------------------------------------------------------------------- Server-Timing


def test_server_timing_header_only_when_the_benchmark_asks(w, signed_in, monkeypatch):
    assert "Server-Timing" not in signed_in(w.agent).get(reverse("cases:list"))
    monkeypatch.setenv("PORTAL_SERVER_TIMING", "1")
    timed = Client()  # a new client builds its middleware again, reading the variable
    timed.force_login(w.agent)
    with CaptureQueriesContext(connection) as queries:
        response = timed.get(reverse("cases:list"))
    header = response["Server-Timing"]
    match = re.fullmatch(r'app;dur=([\d.]+), sql;dur=([\d.]+);desc="(\d+) queries"', header)
    assert match and int(match.group(3)) == len(queries)
    assert float(match.group(1)) >= float(match.group(2)) > 0


# --------------------------------------------------------------------------- counts


def test_state_counts_in_one_query_equal_counting_state_by_state(w, file_case):
    from cases.selectors import STATE_COUNT_CAP, case_keyword_filter, case_state_counts
    from cases.services import case_close

    closed = file_case(w.agent, w.acme, title="Walrus closed")
    case_close(user=w.agent, case=closed)
    file_case(w.agent, w.acme, title="Walrus open", priority="P1")
    visible = case_visible_to(w.agent)
    for queryset in (
        visible,
        case_keyword_filter(visible, "walrus"),
        visible.filter(priority="P1", customer=w.acme),
        visible.none(),
        case_visible_to(w.viewer),
    ):
        expected = {
            state: queryset.filter(state=state).order_by()[: STATE_COUNT_CAP + 1].count()
            for state in Case.State.values
        }
        with CaptureQueriesContext(connection) as queries:
            counted = case_state_counts(queryset)
        assert counted == expected and list(counted) == Case.State.values
        assert len(queries) in (0, 1, len(Case.State.values))  # none(); one; five for a keyword
