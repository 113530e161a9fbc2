"""Who reaches the admin console (R2, R8): the allowed and the refused side of each page."""

import pytest
from django.urls import reverse

from accounts.models import Privilege

pytestmark = pytest.mark.django_db

MANAGE_USERS_PAGES = ["admin_console:users", "admin_console:org_units", "admin_console:licences"]
MANAGE_ROLES_PAGES = ["admin_console:roles", "admin_console:role_create"]
SUPER_ADMIN_PAGES = ["admin_console:customers"]
ALL_PAGES = ["admin_console:home", *MANAGE_USERS_PAGES, *MANAGE_ROLES_PAGES, *SUPER_ADMIN_PAGES]


@pytest.mark.parametrize("name", ALL_PAGES)
def test_console_pages_need_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ALL_PAGES)
def test_super_admin_reaches_every_console_page(w, signed_in, name):
    assert signed_in(w.admin).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ALL_PAGES)
def test_reseller_agent_without_manage_privileges_is_refused_with_what_is_missing(w, signed_in, name):
    response = signed_in(w.agent).get(reverse(name))
    assert response.status_code == 403
    page = response.content.decode()
    assert "super admin of reseller.example.com" in page
    if name in MANAGE_USERS_PAGES:
        assert str(Privilege.MANAGE_USERS.label) in page
    elif name in MANAGE_ROLES_PAGES:
        assert str(Privilege.MANAGE_ROLES.label) in page
    elif name in SUPER_ADMIN_PAGES:
        assert "Super Admin" in page


def test_refused_posts_change_nothing(w, signed_in):
    client = signed_in(w.agent)
    response = client.post(reverse("admin_console:org_units"), {"name": "Sneaky"})
    assert response.status_code == 403
    response = client.post(
        reverse("admin_console:role_create"), {"name": "Sneaky", "privileges": ["MANAGE_ROLES"]}
    )
    assert response.status_code == 403
    assert not w.reseller.org_units.filter(name="Sneaky").exists()
    assert not w.reseller.roles.filter(name="Sneaky").exists()


def test_role_manager_without_manage_users_sees_roles_but_not_users(w, signed_in, give_role):
    give_role(w.nobody, Privilege.MANAGE_ROLES)
    client = signed_in(w.nobody)
    assert client.get(reverse("admin_console:home")).status_code == 200
    assert client.get(reverse("admin_console:roles")).status_code == 200
    refused = client.get(reverse("admin_console:users"))
    assert refused.status_code == 403 and str(Privilege.MANAGE_USERS.label) in refused.content.decode()


def test_user_manager_who_is_not_super_admin_cannot_request_licences_or_edit_customer_records(
    w, signed_in, give_role
):
    give_role(w.nobody, Privilege.MANAGE_USERS)
    client = signed_in(w.nobody)
    page = client.get(reverse("admin_console:licences"))
    assert page.status_code == 200 and "Only a super admin" in page.content.decode()
    response = client.post(reverse("admin_console:licences"), {"sku": "WORKSPACE", "quantity": 5})
    assert response.status_code == 403
    assert client.get(reverse("admin_console:customers")).status_code == 403


def test_overview_shows_only_what_the_account_may_manage(w, signed_in, give_role):
    give_role(w.nobody, Privilege.MANAGE_ROLES)
    page = signed_in(w.nobody).get(reverse("admin_console:home")).content.decode()
    assert reverse("admin_console:roles") in page
    assert reverse("admin_console:users") not in page


def test_customer_super_admin_is_sent_to_the_customer_admin_pages(w, signed_in):
    response = signed_in(w.acme_admin).get(reverse("admin_console:users"))
    assert response.status_code == 302 and response["Location"] == reverse("customer_admin:home")


def test_support_engineer_has_no_admin_console(w, signed_in):
    assert signed_in(w.engineer).get(reverse("admin_console:home")).status_code == 403


def test_overview_counts_the_own_domain_only(w, signed_in):
    page = signed_in(w.admin).get(reverse("admin_console:home")).content.decode()
    own = w.reseller.users.count()
    assert f'data-testid="user-count">{own}<' in page


def test_a_suspended_admin_is_signed_out_of_the_console(w, signed_in, client):
    admin = w.admin
    signed_in(admin)
    type(admin).objects.filter(pk=admin.pk).update(is_active=False)
    response = client.get(reverse("admin_console:home"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
