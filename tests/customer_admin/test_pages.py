"""The customer super admin's pages: reseller access (R3) with its audit, support partners
(R5), portal users. Only the customer's own super admin reaches them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Domain, User
from cases.selectors import case_visible_to
from customers.models import AccessGrant, AccessGrantChange, Relationship
from customers.selectors import customer_visible_to
from customers.services import customer_consent_set

pytestmark = pytest.mark.django_db

ACCESS = reverse("customer_admin:home")
PARTNERS = reverse("customer_admin:partners")
USERS = reverse("customer_admin:users")


def grant(customer, domain) -> AccessGrant:
    return AccessGrant.objects.get(customer=customer, reseller_domain=domain)


# --------------------------------------------------------------------------- who gets in


@pytest.mark.parametrize("url", [ACCESS, PARTNERS, USERS])
def test_pages_need_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [ACCESS, PARTNERS, USERS])
def test_customer_super_admin_reaches_every_page(w, signed_in, url):
    assert signed_in(w.acme_admin).get(url).status_code == 200


@pytest.mark.parametrize("url", [ACCESS, PARTNERS, USERS])
def test_other_customer_users_are_told_to_ask_their_super_admin(w, signed_in, url):
    response = signed_in(w.acme_user).get(url)
    assert response.status_code == 403
    assert "Ask your super admin" in response.content.decode()


@pytest.mark.parametrize("persona", ["admin", "agent", "admin3", "engineer"])
def test_accounts_of_other_kinds_of_domain_find_no_such_pages(w, signed_in, persona):
    for url in (ACCESS, PARTNERS, USERS):
        assert signed_in(getattr(w, persona)).get(url).status_code == 404


def test_a_customer_without_portal_access_is_told_so(w, signed_in):
    response = signed_in(w.hooli_admin).get(ACCESS)
    assert response.status_code == 403
    assert "does not have access to the support portal" in response.content.decode()


def test_a_non_super_admin_post_changes_nothing(w, signed_in):
    response = signed_in(w.acme_user).post(ACCESS, {"domain": w.reseller.pk, "support_cases": "off"})
    assert response.status_code == 403
    assert grant(w.acme, w.reseller).support_cases


# --------------------------------------------------------------------------- reseller access


def test_reseller_access_page_lists_each_domain_with_its_state_and_explains_turning_off(w, signed_in):
    page = signed_in(w.acme_admin).get(ACCESS).content.decode()
    assert 'data-domain="reseller.example.com"' in page
    assert "reseller2.example.com" not in page
    assert "no longer sees any of your cases" in page
    assert "can no longer file new cases" in page


def test_turning_access_off_hides_the_cases_and_records_who_and_when(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    client = signed_in(w.acme_admin)
    response = client.post(ACCESS, {"domain": w.reseller.pk, "support_cases": "off", "confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == ACCESS
    current = grant(w.acme, w.reseller)
    assert not current.support_cases and current.changed_by == w.acme_admin
    change = AccessGrantChange.objects.filter(grant=current).first()
    assert (change.support_cases, change.changed_by) == (False, w.acme_admin)
    assert not case_visible_to(w.agent).filter(pk=case.pk).exists()

    page = client.get(ACCESS).content.decode()
    assert "can no longer file or see your support cases" in page  # the success message
    history = page[page.index('data-testid="access-history"') :]
    assert "admin@acme.example" in history and "turned off" in history

    client.post(ACCESS, {"domain": w.reseller.pk, "support_cases": "on"})
    assert case_visible_to(w.agent).filter(pk=case.pk).exists()
    assert AccessGrantChange.objects.filter(grant=current).count() >= 3  # history kept


def test_the_agent_cannot_file_for_the_customer_once_access_is_off(w, signed_in, client):
    signed_in(w.acme_admin).post(ACCESS, {"domain": w.reseller.pk, "support_cases": "off", "confirm": "yes"})
    client.force_login(w.agent)
    customer = customer_visible_to(w.agent).get(pk=w.acme.pk)
    page = client.get(reverse("cases:create") + f"?customer={customer.pk}")
    assert page.status_code == 200 and "disabled" in page.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"domain": "abc", "support_cases": "off"},
        {"domain": "", "support_cases": "off"},
        {"support_cases": "off"},
        {"domain": "1", "support_cases": "maybe"},
        {"domain": "-4", "support_cases": "on"},
    ],
)
def test_bad_input_gets_a_400_and_changes_nothing(w, signed_in, data):
    response = signed_in(w.acme_admin).post(ACCESS, data)
    assert response.status_code == 400
    assert grant(w.acme, w.reseller).support_cases


def test_a_domain_that_does_not_work_with_the_customer_is_not_found(w, signed_in):
    client = signed_in(w.acme_admin)
    for domain in (w.reseller2, w.reseller3):
        assert client.post(ACCESS, {"domain": domain.pk, "support_cases": "on"}).status_code == 404
    assert client.post(ACCESS, {"domain": 99999999, "support_cases": "on"}).status_code == 404
    assert not AccessGrant.objects.filter(customer=w.acme, reseller_domain=w.reseller2).exists()


def test_one_customers_admin_cannot_touch_another_customers_grants(w, signed_in):
    # Globex's admin names Acme's reseller: the page works on Globex only.
    response = signed_in(w.globex_admin).post(ACCESS, {"domain": w.reseller.pk, "support_cases": "on"})
    assert response.status_code == 302
    assert grant(w.globex, w.reseller).support_cases
    assert grant(w.acme, w.reseller).changed_by != w.globex_admin


# --------------------------------------------------------------------------- support partners


def test_a_support_partner_is_added_by_domain_name_and_active_at_once(w, signed_in):
    client = signed_in(w.acme_admin)
    response = client.post(PARTNERS, {"action": "add", "domain_name": "  Reseller3.Example.NET "})
    assert response.status_code == 302
    assert Relationship.objects.filter(
        customer=w.acme, reseller_domain=w.reseller3, kind="SUPPORT_PARTNER", ended_at__isnull=True
    ).exists()
    assert customer_visible_to(w.agent3).filter(pk=w.acme.pk).exists()
    page = client.get(PARTNERS).content.decode()
    assert "reseller3.example.net is now a support partner" in page
    assert "reseller3.example.net" in page[page.index('data-testid="support-partners"') :]
    assert 'data-domain="reseller3.example.net"' in client.get(ACCESS).content.decode()


def test_a_removed_support_partner_loses_the_customer_and_the_history_stays(w, signed_in):
    client = signed_in(w.acme_admin)
    client.post(PARTNERS, {"action": "add", "domain_name": "reseller3.example.net"})
    response = client.post(PARTNERS, {"action": "remove", "domain": w.reseller3.pk})
    assert response.status_code == 302
    assert not customer_visible_to(w.agent3).filter(pk=w.acme.pk).exists()
    ended = Relationship.objects.get(customer=w.acme, reseller_domain=w.reseller3)
    assert ended.ended_at is not None and ended.ended_by == w.acme_admin
    page = client.get(PARTNERS).content.decode()
    assert "is no longer a support partner" in page
    assert "Past relationships" in page and "admin@acme.example" in page


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "required"),
        ("nowhere.example", "No reseller domain named"),
        ("globex.example", "No reseller domain named"),
        ("support.example", "No reseller domain named"),
        ("reseller.example.com", "already works with this customer"),
        ("x" * 254, "at most 253"),
    ],
)
def test_bad_support_partner_input_gets_a_message_and_a_400(w, signed_in, name, message):
    before = Relationship.objects.count()
    response = signed_in(w.acme_admin).post(PARTNERS, {"action": "add", "domain_name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Relationship.objects.count() == before


def test_removing_a_domain_that_is_not_a_support_partner_is_not_found(w, signed_in):
    client = signed_in(w.acme_admin)
    # the reseller of record is not a support partner, and reseller2 has nothing to do with Acme
    for domain in (w.reseller, w.reseller2):
        assert client.post(PARTNERS, {"action": "remove", "domain": domain.pk}).status_code == 404
    assert Relationship.objects.filter(
        customer=w.acme, reseller_domain=w.reseller, ended_at__isnull=True
    ).exists()
    assert client.post(PARTNERS, {"action": "remove", "domain": "x"}).status_code == 400
    assert client.post(PARTNERS, {"action": "dance"}).status_code == 400


# --------------------------------------------------------------------------- portal users


def test_portal_users_lists_the_customers_accounts_and_who_may_use_the_portal(w, signed_in):
    User.objects.filter(pk=w.acme_user.pk).update(is_active=False)
    page = signed_in(w.acme_admin).get(USERS).content.decode()
    table = page[page.index('data-testid="portal-users"') :]
    assert "admin@acme.example" in table and "user@acme.example" in table
    assert "No: suspended" in table and "Super Admin" in table
    assert "globex.example" not in table and "reseller.example.com" not in table


# --------------------------------------------------------------------------- query budgets


def add_history(w, n):
    for i in range(n):
        customer_consent_set(actor=w.acme_admin, customer=w.acme, domain=w.reseller, support_cases=i % 2 == 1)


def add_partners(w, n, start=0):
    for i in range(start, start + n):
        domain = Domain.objects.create(name=f"partner{i}.example", kind=Domain.Kind.RESELLER)
        Relationship.objects.create(customer=w.acme, reseller_domain=domain, kind="SUPPORT_PARTNER")
        AccessGrant.objects.create(customer=w.acme, reseller_domain=domain, support_cases=True)


def add_accounts(w, n, start=0):
    for i in range(start, start + n):
        User.objects.create_user(f"bulk{i}@acme.example", None, domain=w.acme.primary_domain)


def steady_queries(client, url) -> int:
    client.get(url)  # the first page of a session also fills the session's account chooser
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url, add",
    [(ACCESS, add_history), (ACCESS, add_partners), (PARTNERS, add_partners), (USERS, add_accounts)],
)
def test_pages_cost_the_same_for_10_and_100_rows(w, signed_in, django_assert_max_num_queries, url, add):
    client = signed_in(w.acme_admin)
    add(w, 10)
    few = steady_queries(client, url)
    add(w, 90) if add is add_history else add(w, 90, start=10)
    assert steady_queries(client, url) == few
    with django_assert_max_num_queries(12):
        client.get(url)
