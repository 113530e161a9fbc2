"""Accounts in the admin console: create (and the auto-licensing confirmation), suspend and
reactivate (sessions end at once), notification address, roles on the account's page.
Another domain's account is a 404 like a missing one (R8, R9)."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import AdminRole, LicencePool, LicenceSku, OrgUnit, Privilege, RoleAssignment, User
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def user_url(user) -> str:
    return reverse("admin_console:user", args=[user.pk])


def unit(w, name="Support staff", domain=None) -> OrgUnit:
    return OrgUnit.objects.get(domain=domain or w.reseller, name=name)


def create(client, w, **fields):
    data = {
        "email": "new.agent@reseller.example.com",
        "full_name": "New Agent",
        "org_unit": unit(w).pk,
        "password": "",
        "language": "en",
        "time_zone": "Asia/Seoul",
    }
    data.update(fields)
    return client.post(reverse("admin_console:users"), data)


# --------------------------------------------------------------------------- list and detail


def test_user_list_shows_the_own_domains_accounts_only(w, signed_in):
    page = signed_in(w.admin).get(reverse("admin_console:users")).content.decode()
    assert "agent@reseller.example.com" in page and "viewer@reseller.example.com" in page
    assert "reseller2.example.com" not in page and "reseller3.example.net" not in page


def test_user_list_search_narrows_the_list(w, signed_in):
    page = signed_in(w.admin).get(reverse("admin_console:users") + "?q=viewer").content.decode()
    assert "viewer@reseller.example.com" in page and "agent@reseller.example.com" not in page


@pytest.mark.parametrize("persona", ["agent2", "alex2", "agent3", "acme_user", "engineer"])
def test_another_domains_account_is_not_found_like_a_missing_one(w, signed_in, persona):
    client = signed_in(w.admin)
    other = getattr(w, persona)
    assert client.get(user_url(other)).status_code == 404
    assert client.get(reverse("admin_console:user", args=[987654321])).status_code == 404
    response = client.post(user_url(other), {"action": "suspend"})
    assert response.status_code == 404
    assert User.objects.get(pk=other.pk).is_active


def test_user_page_shows_roles_licences_and_mail_address(w, signed_in):
    page = signed_in(w.admin).get(user_url(w.alex))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Reseller Admin" in text and "Cloud Identity Free" in text


# --------------------------------------------------------------------------- create


def test_super_admin_creates_an_account_with_a_cloud_identity_licence(w, signed_in):
    client = signed_in(w.admin)
    response = create(client, w, password="a-Long-pass-2024!")
    user = User.objects.get(email="new.agent@reseller.example.com")
    assert response.status_code == 302 and response["Location"] == user_url(user)
    assert user.domain == w.reseller and user.org_unit == unit(w) and user.full_name == "New Agent"
    assert set(user.licences.values_list("sku", flat=True)) == {LicenceSku.CLOUD_IDENTITY_FREE}
    assert Client().login(email="new.agent@reseller.example.com", password="a-Long-pass-2024!")


def test_account_made_without_a_password_cannot_sign_in_until_it_sets_one(w, signed_in):
    create(signed_in(w.admin), w)
    user = User.objects.get(email="new.agent@reseller.example.com")
    assert not user.has_usable_password()


def test_auto_licensing_unit_warns_and_needs_confirmation(w, signed_in):
    client = signed_in(w.admin)
    page = client.get(reverse("admin_console:users")).content.decode()
    assert 'data-testid="auto-licensing-warning"' in page and "Sales" in page
    refused = create(client, w, email="rep@reseller.example.com", org_unit=unit(w, "Sales").pk)
    assert refused.status_code == 400
    assert "Workspace licence too" in refused.content.decode()
    assert not User.objects.filter(email="rep@reseller.example.com").exists()
    accepted = create(
        client, w, email="rep@reseller.example.com", org_unit=unit(w, "Sales").pk, confirm_auto_licensing="on"
    )
    assert accepted.status_code == 302
    rep = User.objects.get(email="rep@reseller.example.com")
    assert set(rep.licences.values_list("sku", flat=True)) == {
        LicenceSku.CLOUD_IDENTITY_FREE,
        LicenceSku.WORKSPACE,
    }


def test_no_licence_left_is_a_clear_refusal(w, signed_in):
    LicencePool.objects.filter(domain=w.reseller, sku=LicenceSku.CLOUD_IDENTITY_FREE).update(total=0)
    response = create(signed_in(w.admin), w)
    assert response.status_code == 400
    assert "Request more licences" in response.content.decode()
    assert not User.objects.filter(email="new.agent@reseller.example.com").exists()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "not-an-address"}, "valid email"),
        ({"email": "someone@reseller2.example.com"}, "must end in @reseller.example.com"),
        ({"email": "someone@gmail.com"}, "must end in @reseller.example.com"),
        ({"email": "agent@reseller.example.com"}, "already exists"),
        ({"email": ""}, "required"),
        ({"org_unit": "999999"}, "valid choice"),
        ({"org_unit": "abc"}, "valid choice"),
        ({"password": "123"}, "too short"),
        ({"time_zone": "Mars/Olympus"}, "valid choice"),
        ({"language": "xx"}, "valid choice"),
        ({"full_name": "x" * 201}, "at most 200"),
    ],
)
def test_bad_input_on_create_gets_a_message_and_a_400(w, signed_in, fields, message):
    before = User.objects.count()
    response = create(signed_in(w.admin), w, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_an_org_unit_of_another_domain_cannot_be_chosen(w, signed_in):
    response = create(signed_in(w.admin), w, org_unit=unit(w, domain=w.reseller2).pk)
    assert response.status_code == 400
    assert not User.objects.filter(email="new.agent@reseller.example.com").exists()


def test_agent_cannot_create_accounts(w, signed_in):
    assert create(signed_in(w.agent), w).status_code == 403
    assert not User.objects.filter(email="new.agent@reseller.example.com").exists()


# --------------------------------------------------------------------------- suspend


def sessions_of(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk))


def test_suspending_an_account_ends_its_sessions_at_once(w, signed_in):
    agent_browser = Client()
    assert agent_browser.login(email="agent@reseller.example.com", password=DEMO_PASSWORD)
    other_browser = Client()
    assert other_browser.login(email="agent@reseller.example.com", password=DEMO_PASSWORD)
    assert agent_browser.get("/").status_code == 200 and sessions_of(w.agent) == 2

    response = signed_in(w.admin).post(user_url(w.agent), {"action": "suspend"})
    assert response.status_code == 302
    assert not User.objects.get(pk=w.agent.pk).is_active
    assert sessions_of(w.agent) == 0
    for browser in (agent_browser, other_browser):
        page = browser.get("/")
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert not Client().login(email="agent@reseller.example.com", password=DEMO_PASSWORD)
    assert sessions_of(w.admin) == 1  # the admin's own session stays


def test_reactivated_account_signs_in_again_with_its_roles(w, signed_in):
    client = signed_in(w.admin)
    client.post(user_url(w.agent), {"action": "suspend"})
    page = client.get(user_url(w.agent)).content.decode()
    assert 'data-testid="suspended"' in page
    response = client.post(user_url(w.agent), {"action": "reactivate"})
    assert response.status_code == 302
    assert Client().login(email="agent@reseller.example.com", password=DEMO_PASSWORD)
    assert RoleAssignment.objects.filter(user=w.agent, role__builtin="RESELLER_ADMIN").exists()


def test_admin_cannot_suspend_themselves(w, signed_in):
    response = signed_in(w.admin).post(user_url(w.admin), {"action": "suspend"})
    assert response.status_code == 400
    assert "your own account" in response.content.decode()
    assert User.objects.get(pk=w.admin.pk).is_active


def test_only_a_super_admin_suspends_a_super_admin(w, signed_in, give_role):
    give_role(w.nobody, Privilege.MANAGE_USERS)
    response = signed_in(w.nobody).post(user_url(w.admin), {"action": "suspend"})
    assert response.status_code == 403
    assert "Only a super admin" in response.content.decode()
    assert User.objects.get(pk=w.admin.pk).is_active


def test_a_super_admin_may_suspend_another_while_one_stays(w, signed_in):
    super_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.SUPER_ADMIN)
    RoleAssignment.objects.create(user=w.agent, role=super_admin)
    response = signed_in(w.agent).post(user_url(w.admin), {"action": "suspend"})
    assert response.status_code == 302
    assert not User.objects.get(pk=w.admin.pk).is_active


def test_unknown_action_is_a_400(w, signed_in):
    response = signed_in(w.admin).post(user_url(w.agent), {"action": "explode"})
    assert response.status_code == 400


# --------------------------------------------------------------------------- notification address


def test_notification_address_redirects_mail_to_the_workspace_address(w, signed_in):
    client = signed_in(w.admin)
    response = client.post(
        user_url(w.viewer), {"action": "notification", "notification_email": "Vera@Workspace.example"}
    )
    assert response.status_code == 302
    # Outside the domain: it waits for the owner of that address (tests/accounts/test_addresses.py).
    assert User.objects.get(pk=w.viewer.pk).mail_address == "viewer@reseller.example.com"
    assert (
        "confirmation mail went to vera@workspace.example"
        in client.get(response["Location"]).content.decode()
    )
    client.post(
        user_url(w.viewer), {"action": "notification", "notification_email": "Vera@Reseller.example.com"}
    )
    assert User.objects.get(pk=w.viewer.pk).mail_address == "vera@reseller.example.com"
    client.post(user_url(w.viewer), {"action": "notification", "notification_email": ""})
    assert User.objects.get(pk=w.viewer.pk).mail_address == "viewer@reseller.example.com"


@pytest.mark.parametrize("address", ["not an address", "a@b", "x" * 250 + "@example.com"])
def test_bad_notification_address_is_a_400(w, signed_in, address):
    response = signed_in(w.admin).post(
        user_url(w.viewer), {"action": "notification", "notification_email": address}
    )
    assert response.status_code == 400
    assert User.objects.get(pk=w.viewer.pk).notification_email == ""


# --------------------------------------------------------------------------- roles on the user page


def test_role_assigned_on_the_user_page_applies_on_the_next_request(w, signed_in):
    viewer_role = AdminRole.objects.get(domain=w.reseller, name="Customer viewer")
    nobody_client = Client()
    nobody_client.force_login(w.nobody)
    assert nobody_client.get(reverse("customers:list")).status_code == 403
    response = signed_in(w.admin).post(user_url(w.nobody), {"action": "assign", "role": viewer_role.pk})
    assert response.status_code == 302
    assert nobody_client.get(reverse("customers:list")).status_code == 200
    response = signed_in(w.admin).post(user_url(w.nobody), {"action": "unassign", "target": viewer_role.pk})
    assert response.status_code == 302
    assert nobody_client.get(reverse("customers:list")).status_code == 403


def test_gmail_account_can_never_be_made_super_admin(w, signed_in):
    consumer = User.objects.create_user("someone@gmail.com", "x", domain=w.reseller)
    super_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.SUPER_ADMIN)
    response = signed_in(w.admin).post(user_url(consumer), {"action": "assign", "role": super_admin.pk})
    assert response.status_code == 400
    assert "@gmail.com account can never be a super admin" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=consumer).exists()


def test_another_domains_custom_role_cannot_be_assigned(w, signed_in, give_role):
    foreign = give_role(w.agent3, Privilege.SUPPORT, name="Reseller3 role")
    response = signed_in(w.admin).post(user_url(w.nobody), {"action": "assign", "role": foreign.pk})
    assert response.status_code == 400
    assert not RoleAssignment.objects.filter(user=w.nobody).exists()


def test_unassigning_a_role_the_account_does_not_know_is_a_404(w, signed_in, give_role):
    foreign = give_role(w.agent3, Privilege.SUPPORT, name="Reseller3 role")
    response = signed_in(w.admin).post(user_url(w.agent), {"action": "unassign", "target": foreign.pk})
    assert response.status_code == 404


def test_the_last_super_admin_cannot_be_removed(w, signed_in):
    super_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.SUPER_ADMIN)
    response = signed_in(w.admin).post(user_url(w.admin), {"action": "unassign", "target": super_admin.pk})
    assert response.status_code == 400
    assert "at least one active super admin" in response.content.decode()


def test_user_manager_without_manage_roles_cannot_assign_roles(w, signed_in, give_role):
    give_role(w.nobody, Privilege.MANAGE_USERS)
    viewer_role = AdminRole.objects.get(domain=w.reseller, name="Customer viewer")
    response = signed_in(w.nobody).post(user_url(w.agent), {"action": "assign", "role": viewer_role.pk})
    assert response.status_code == 400
    assert not RoleAssignment.objects.filter(user=w.agent, role=viewer_role).exists()
