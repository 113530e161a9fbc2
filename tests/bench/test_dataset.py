"""The benchmark's dataset generator at a tiny scale: the rows it loads keep every rule of
the data model, the reseller agent of the biggest domain can sign in and work, search
finds generated words, and every page costs the same number of queries whatever the
dataset's size."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Domain, User
from bench.dataset import (
    BENCH_PASSWORD,
    BULK_TABLES,
    COMMON_TERM,
    SEARCH_TRIGGER_TABLES,
    BenchNames,
    dataset_sizes,
    secondary_structures,
    zipf_counts,
)
from bench.run import COUNTS_REQUEST
from cases.models import Case, CaseEvent, Comment
from cases.selectors import STATE_COUNT_CAP, case_keyword_filter, case_visible_to
from customers.models import AccessGrant, Customer, Relationship

pytestmark = pytest.mark.django_db

TINY = 0.002  # 2,000 cases over 40 customers: a few seconds


def case_numbers(response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-case="(\d+)"', response.content.decode())]


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --------------------------------------------------------------------------- consistency


def test_zipf_split_is_exact_skewed_and_leaves_nobody_empty():
    counts = zipf_counts(1_000_000, 20_000, 1.0)
    assert sum(counts) == 1_000_000 and min(counts) >= 1
    assert counts[0] > 50_000 and sorted(counts)[10_000] <= 10  # a few thousands-strong, most a handful


def test_load_restores_every_index_foreign_key_and_trigger(load):
    before = secondary_structures(connection.cursor().cursor, BULK_TABLES)
    load(scale=TINY, prefix="tiny")
    after = secondary_structures(connection.cursor().cursor, BULK_TABLES)
    assert after == before
    enabled = dict(
        rows(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[])",
            [list(BULK_TABLES + SEARCH_TRIGGER_TABLES)],
        )
    )
    assert {"cases_case_search_vector", "cases_comment_search_vector", "cases_caseevent_append_only"} <= set(
        enabled
    )
    assert set(enabled.values()) == {"O"}  # "O": enabled


def test_generated_rows_keep_the_rules_of_the_data_model(load):
    report = load(scale=TINY, prefix="tiny")
    cases = Case.objects.filter(customer__primary_domain__name__endswith=".tiny-customer.example")
    n_cases, n_customers = dataset_sizes(TINY)
    assert cases.count() == report.counts["cases"] == n_cases
    assert (
        Customer.objects.filter(primary_domain__name__endswith=".tiny-customer.example").count()
        == n_customers
    )
    # every state and severity, a skew, a few long cases, about five messages a case
    assert set(cases.values_list("state", flat=True)) == set(Case.State.values)
    assert {"P1", "P2", "P3", "P4"} <= set(cases.values_list("priority", flat=True))
    per_case = report.counts["comments"] / n_cases
    assert 4 <= per_case <= 7
    assert (
        rows(
            "SELECT count(*) FROM (SELECT case_id FROM cases_comment c JOIN cases_case k ON k.id = c.case_id "
            "JOIN customers_customer u ON u.id = k.customer_id JOIN accounts_domain d ON d.id = u.primary_domain_id "
            "WHERE d.name LIKE %s GROUP BY case_id HAVING count(*) >= 50) x",
            ["%.tiny-customer.example"],
        )[0][0]
        > 0
    )
    # public numbers as case_create gives them; closed ⇔ closed_at is a CHECK, still:
    assert not cases.exclude(number=settings.CASE_NUMBER_BASE + F("id")).exists()
    assert not cases.filter(state="CLOSED", closed_at__isnull=True).exists()
    # the audit trail: one CREATED per case, one COMMENTED per message
    events = CaseEvent.objects.filter(case__in=cases)
    assert events.filter(kind="CREATED").count() == n_cases
    assert events.filter(kind="COMMENTED").count() == Comment.objects.filter(case__in=cases).count()
    # a delegated case always names its reseller domain, which managed the customer then
    assert not cases.filter(channel="DELEGATED", managing_domain__isnull=True).exists()
    # one active reseller per customer (also a unique index), consent audited
    tiny = Customer.objects.filter(primary_domain__name__endswith=".tiny-customer.example")
    assert Relationship.objects.filter(customer__in=tiny, kind="RESELLER", ended_at__isnull=True).count() == (
        n_customers
    )
    assert not AccessGrant.objects.filter(customer__in=tiny, changes__isnull=True).exists()


def test_search_vector_is_what_the_trigger_computes(load):
    """The same words with the same weights as the trigger of migration 0003 gives. Word
    positions may differ: the trigger joins the messages in whatever order the table
    returns them (string_agg without ORDER BY), and search never uses positions."""
    load(scale=TINY, prefix="tiny")
    sample = list(
        Case.objects.filter(customer__primary_domain__name__endswith=".tiny-customer.example")
        .order_by("?")
        .values_list("pk", flat=True)[:40]
    )
    words = "(SELECT array_agg(DISTINCT u.lexeme || ':' || w) FROM unnest({}) u, unnest(u.weights) w)"
    changed = rows(
        "WITH old AS (SELECT id, search_vector FROM cases_case WHERE id = ANY(%s)), "
        # Touching the title fires the trigger again.
        "fired AS (UPDATE cases_case c SET title = c.title FROM old WHERE c.id = old.id "
        "RETURNING c.search_vector AS new, old.search_vector AS old) "
        f"SELECT {words.format('new')} = {words.format('old')}, {words.format('new')} FROM fired",
        [sample],
    )
    assert len(changed) == len(sample)
    assert all(equal for equal, _words in changed)
    assert any(word.endswith(":C") for _equal, found in changed for word in found or [])  # messages too


def test_same_seed_same_rows(load):
    load(scale=0.0005, prefix="one")
    load(scale=0.0005, prefix="two")

    def shape(prefix):
        return list(
            Case.objects.filter(customer__primary_domain__name__endswith=f".{prefix}-customer.example")
            .order_by("pk")
            .values_list("title", "state", "priority", "channel")
        )

    assert shape("one") == shape("two") and len(shape("one")) == 500


# --------------------------------------------------------------------------- the agent


def test_reseller_agent_of_the_biggest_domain_signs_in_and_sees_its_cases(load):
    load(scale=TINY, prefix="tiny")
    names = BenchNames("tiny")
    client = Client()
    response = client.post(reverse("account_login"), {"login": names.agent, "password": BENCH_PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("cases:list"))
    assert page.status_code == 200 and len(case_numbers(page)) == 25
    agent = User.objects.get(email=names.agent)
    visible = case_visible_to(agent)
    biggest = Domain.objects.get(name=names.reseller(0))
    assert visible.count() > Case.objects.filter(managing_domain__name=names.reseller(1)).count()
    # R1/R4: nothing of another domain unless this domain is the customer's support partner
    foreign = visible.exclude(managing_domain=biggest)
    assert not foreign.exclude(
        customer__relationships__reseller_domain=biggest, customer__relationships__kind="SUPPORT_PARTNER"
    ).exists()
    # R3: consent off hides the customer's cases
    off = AccessGrant.objects.filter(reseller_domain=biggest, support_cases=False).values_list(
        "customer", flat=True
    )
    assert not visible.filter(customer__in=off).exists()


def test_search_finds_a_generated_word(load):
    load(scale=TINY, prefix="tiny")
    agent = User.objects.get(email=BenchNames("tiny").agent)
    found = case_keyword_filter(case_visible_to(agent), COMMON_TERM)
    assert found.exists()
    client = Client()
    client.force_login(agent)
    numbers = case_numbers(client.get(reverse("cases:list") + f"?q={COMMON_TERM}"))
    assert numbers and set(numbers) <= set(found.values_list("number", flat=True))


# --------------------------------------------------------------------------- query budgets


def page_query_counts(prefix: str) -> dict[str, int]:
    agent = User.objects.get(email=BenchNames(prefix).agent)
    visible = case_visible_to(agent)
    customer = visible.values_list("customer_id", flat=True).order_by("customer_id").first()
    longest = visible.annotate(n=Count("comments")).order_by("-n").values_list("number", flat=True).first()
    client = Client()
    client.force_login(agent)
    first = client.get(reverse("cases:list"))
    older = re.search(r'rel="next" href="([^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")
    pages = {
        "my cases": reverse("cases:list"),
        "my cases, page 2": reverse("cases:list") + older,
        "search": reverse("cases:list") + f"?q={COMMON_TERM}",
        "filter": reverse("cases:list") + f"?state=OPEN&priority=P3&customer={customer}",
        "case page": reverse("cases:detail", args=[longest]),
    }
    counts = {}
    for name, path in pages.items():
        for headers in ({}, {} if name == "case page" else COUNTS_REQUEST):
            client.get(path, headers=headers)  # warm: sessions, caches
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path, headers=headers)
            assert response.status_code == 200, name
            counts[name + (", state counts" if headers else "")] = len(queries)
    counts.update(other_page_query_counts(prefix, agent))
    return counts


def other_page_query_counts(prefix: str, agent: User) -> dict[str, int]:
    """The pages issue 14 changed: the dashboard for each kind of user, the customer
    portal of the biggest customer (plain, filtered, its counts), and the API's list."""
    from accounts.services import api_token_create

    names = BenchNames(prefix)
    biggest = names.customer_domain(0)
    personas = {
        "agent": agent,
        "support": User.objects.get(email=f"engineer00@{names.support}"),
        "customer": User.objects.get(email=f"user1@{biggest}"),
    }
    pages = [
        ("dashboard, agent", "agent", reverse("dashboard"), {}),
        ("dashboard, support", "support", reverse("dashboard"), {}),
        ("dashboard, customer", "customer", reverse("dashboard"), {}),
        ("customer portal", "customer", reverse("customer_portal:home"), {}),
        ("customer portal, counts", "customer", reverse("customer_portal:home"), COUNTS_REQUEST),
        (
            "customer portal, filter",
            "customer",
            reverse("customer_portal:home") + "?state=CLOSED&priority=P3",
            {},
        ),
        ("support queue", "support", reverse("support:queue"), {}),
    ]
    counts = {}
    for name, persona, path, headers in pages:
        client = Client()
        client.force_login(personas[persona])
        client.get(path, headers=headers)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, headers=headers)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    token = api_token_create(user=agent, name="query budget")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    first = api.get("/v2/organizations/-/cases?pageSize=100")
    assert first.status_code == 200
    following = "/v2/organizations/-/cases?pageSize=100&pageToken=" + first.json()["nextPageToken"]
    for name, path in (
        ("API cases.list", "/v2/organizations/-/cases?pageSize=100"),
        ("API page 2", following),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200, name
        counts[name] = len(queries)
    return counts


def test_pages_cost_the_same_number_of_queries_at_two_dataset_sizes(load):
    load(scale=0.0005, prefix="small")  # 500 cases
    load(scale=0.005, prefix="large")  # 5,000 cases
    assert page_query_counts("small") == page_query_counts("large")


def test_no_page_counts_all_of_a_domains_cases(load):
    load(scale=TINY, prefix="tiny")
    client = Client()
    client.force_login(User.objects.get(email=BenchNames("tiny").agent))
    for path in ("", f"?q={COMMON_TERM}", "?state=OPEN&priority=P2"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:list") + path).status_code == 200
        assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:list") + path, headers=COUNTS_REQUEST).status_code == 200
        counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        assert counting
        for sql in counting:  # every count runs over a LIMITed subquery
            limits = re.findall(r"LIMIT (\d+)\) (?:AS bounded|subquery)", sql)
            assert len(limits) == sql.upper().count("COUNT(")
            assert {int(limit) for limit in limits} == {STATE_COUNT_CAP + 1}
