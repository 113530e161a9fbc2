"""Query budgets: every console page costs the same number of queries for 10 rows and
for 100 (no per-row query), and stays under a fixed ceiling."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import (
    AdminRole,
    Domain,
    LicenceAssignment,
    LicenceSku,
    OrgUnit,
    Privilege,
    RoleAssignment,
    RolePrivilege,
    User,
)
from customers.models import Customer
from customers.services import customer_reseller_set

pytestmark = pytest.mark.django_db


def add_users(w, n, start=0):
    unit = OrgUnit.objects.get(domain=w.reseller, name="Support staff")
    role = AdminRole.objects.get(builtin=AdminRole.BuiltIn.RESELLER_ADMIN)
    for i in range(start, start + n):
        user = User.objects.create_user(
            f"bulk{i}@reseller.example.com", None, domain=w.reseller, org_unit=unit
        )
        RoleAssignment.objects.create(user=user, role=role)
        LicenceAssignment.objects.create(user=user, sku=LicenceSku.CLOUD_IDENTITY_FREE)


def add_roles(w, n, start=0):
    for i in range(start, start + n):
        role = AdminRole.objects.create(name=f"Bulk role {i}", domain=w.reseller)
        RolePrivilege.objects.create(role=role, privilege=Privilege.SUPPORT)
        RolePrivilege.objects.create(role=role, privilege=Privilege.RESELLER_VIEW_CUSTOMERS)


def add_units(w, n, start=0):
    for i in range(start, start + n):
        OrgUnit.objects.create(domain=w.reseller, name=f"Bulk unit {i}")


def add_customers(w, n, start=0):
    for i in range(start, start + n):
        domain = Domain.objects.create(name=f"bulk{i}.example", kind=Domain.Kind.CUSTOMER)
        customer = Customer.objects.create(name=f"Bulk {i}", primary_domain=domain)
        customer_reseller_set(customer=customer, domain=w.reseller)


def queries_for(client, url) -> int:
    # The first page of a session also records the account in the session's account
    # chooser; measure a steady page.
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url_name, add, ceiling",
    [
        ("admin_console:users", add_users, 14),
        ("admin_console:roles", add_roles, 10),
        ("admin_console:org_units", add_units, 10),
        ("admin_console:customers", add_customers, 10),
        ("admin_console:home", add_users, 14),
    ],
)
def test_console_lists_cost_the_same_for_10_and_100_rows(
    w, signed_in, django_assert_max_num_queries, url_name, add, ceiling
):
    client = signed_in(w.admin)
    url = reverse(url_name)
    add(w, 10)
    few = queries_for(client, url)
    add(w, 90, start=10)
    many = queries_for(client, url)
    assert few == many
    with django_assert_max_num_queries(ceiling):
        client.get(url)


def test_role_page_costs_the_same_for_10_and_100_holders(w, signed_in):
    client = signed_in(w.admin)
    role = AdminRole.objects.get(builtin=AdminRole.BuiltIn.RESELLER_ADMIN)
    url = reverse("admin_console:role", args=[role.pk])
    add_users(w, 10)
    few = queries_for(client, url)
    add_users(w, 90, start=10)
    assert queries_for(client, url) == few


def test_user_page_costs_the_same_however_many_roles_exist(w, signed_in):
    client = signed_in(w.admin)
    url = reverse("admin_console:user", args=[w.agent.pk])
    add_roles(w, 10)
    few = queries_for(client, url)
    add_roles(w, 90, start=10)
    assert queries_for(client, url) == few


def test_licence_page_costs_the_same_however_many_accounts_hold_licences(w, signed_in):
    client = signed_in(w.admin)
    url = reverse("admin_console:licences")
    add_users(w, 10)
    few = queries_for(client, url)
    add_users(w, 90, start=10)
    assert queries_for(client, url) == few
