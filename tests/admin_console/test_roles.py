"""Admin roles: built-in and custom, the privilege tree, create/edit/delete, assign and
unassign. Another domain's role is a 404; nobody hands out more than they hold."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AdminRole, Privilege, RoleAssignment, RolePrivilege, User
from accounts.selectors import role_privileges, user_privileges

pytestmark = pytest.mark.django_db


def role_url(role) -> str:
    return reverse("admin_console:role", args=[role.pk])


def builtin(code: str) -> AdminRole:
    return AdminRole.objects.get(builtin=code)


def test_role_list_has_the_built_in_roles_and_the_own_custom_roles_only(w, signed_in, give_role):
    give_role(w.agent3, Privilege.SUPPORT, name="Reseller3 secret role")
    page = signed_in(w.admin).get(reverse("admin_console:roles")).content.decode()
    assert "Super Admin" in page and "Reseller Admin" in page and "Customer viewer" in page
    assert "Reseller3 secret role" not in page


def test_role_form_shows_the_privilege_tree_of_the_help_page(w, signed_in):
    page = signed_in(w.admin).get(reverse("admin_console:role_create")).content.decode()
    for label in (
        "Support",
        "Reseller tools",
        "Customers",
        "View customers",
        "Access customer support cases",
        "Legacy reseller enterprise support",
        "Legacy enterprise",
    ):
        assert label in page
    assert page.index("Reseller tools") < page.index("Customers") < page.index("View customers")
    assert 'id="id_privileges_reseller_view_customers"' in page


def test_super_admin_creates_a_custom_role_with_view_customers_only(w, signed_in):
    response = signed_in(w.admin).post(
        reverse("admin_console:role_create"),
        {
            "name": "Customer lookup",
            "description": "Sees customers",
            "privileges": ["RESELLER_VIEW_CUSTOMERS"],
        },
    )
    role = AdminRole.objects.get(domain=w.reseller, name="Customer lookup")
    assert response.status_code == 302 and response["Location"] == role_url(role)
    assert role_privileges(role) == {"RESELLER_VIEW_CUSTOMERS"}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "privileges": ["SUPPORT"]}, "required"),
        ({"name": "   ", "privileges": ["SUPPORT"]}, "required"),
        ({"name": "No privileges"}, "Choose at least one privilege"),
        ({"name": "Bogus", "privileges": ["ROOT"]}, "valid choice"),
        ({"name": "x" * 101, "privileges": ["SUPPORT"]}, "at most 100"),
        ({"name": "Long", "description": "d" * 301, "privileges": ["SUPPORT"]}, "at most 300"),
        ({"name": "customer VIEWER", "privileges": ["SUPPORT"]}, "already exists"),
    ],
)
def test_bad_role_input_gets_a_message_and_a_400(w, signed_in, data, message):
    before = AdminRole.objects.count()
    response = signed_in(w.admin).post(reverse("admin_console:role_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert AdminRole.objects.count() == before


def test_a_custom_role_is_edited_and_holders_get_it_on_their_next_request(w, signed_in):
    role = AdminRole.objects.get(domain=w.reseller, name="Customer viewer")
    viewer = Client()
    viewer.force_login(w.viewer)
    assert viewer.get(reverse("cases:list")).status_code == 403
    response = signed_in(w.admin).post(
        role_url(role),
        {
            "action": "update",
            "name": "Case handler",
            "privileges": ["SUPPORT", "RESELLER_VIEW_CUSTOMERS", "RESELLER_ACCESS_CUSTOMER_CASES"],
        },
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.name == "Case handler"
    assert viewer.get(reverse("cases:list")).status_code == 200


def test_built_in_roles_cannot_be_edited_or_deleted(w, signed_in):
    client = signed_in(w.admin)
    role = builtin("RESELLER_ADMIN")
    page = client.get(role_url(role)).content.decode()
    assert "cannot be changed" in page and 'name="privileges"' not in page
    for action in ("update", "delete"):
        response = client.post(role_url(role), {"action": action, "name": "Mine", "privileges": ["SUPPORT"]})
        assert response.status_code == 400
    assert AdminRole.objects.filter(pk=role.pk, builtin="RESELLER_ADMIN").exists()


def test_a_role_in_use_is_not_deleted_until_it_is_unassigned(w, signed_in):
    client = signed_in(w.admin)
    role = AdminRole.objects.get(domain=w.reseller, name="Customer viewer")
    refused = client.post(role_url(role), {"action": "delete"})
    assert refused.status_code == 400 and "Unassign it first" in refused.content.decode()
    client.post(role_url(role), {"action": "unassign", "target": w.viewer.pk})
    response = client.post(role_url(role), {"action": "delete"})
    assert response.status_code == 302 and response["Location"] == reverse("admin_console:roles")
    assert not AdminRole.objects.filter(pk=role.pk).exists()
    assert not RolePrivilege.objects.filter(role_id=role.pk).exists()


def test_another_domains_role_is_not_found(w, signed_in, give_role):
    foreign = give_role(w.agent3, Privilege.SUPPORT, name="Reseller3 role")
    client = signed_in(w.admin)
    assert client.get(role_url(foreign)).status_code == 404
    for action in ("update", "delete", "assign", "unassign"):
        response = client.post(
            role_url(foreign), {"action": action, "name": "x", "privileges": ["SUPPORT"], "user": w.nobody.pk}
        )
        assert response.status_code == 404
    assert AdminRole.objects.filter(pk=foreign.pk, name="Reseller3 role").exists()
    assert not RoleAssignment.objects.filter(user=w.nobody).exists()


def test_role_page_assigns_and_unassigns_within_the_domain(w, signed_in):
    role = builtin("RESELLER_ADMIN")
    client = signed_in(w.admin)
    assert client.post(role_url(role), {"action": "assign", "user": w.nobody.pk}).status_code == 302
    assert "SUPPORT" in user_privileges(User.objects.get(pk=w.nobody.pk))
    page = client.get(role_url(role)).content.decode()
    assert "nobody@reseller.example.com" in page and "agent@reseller2.example.com" not in page
    assert client.post(role_url(role), {"action": "unassign", "target": w.nobody.pk}).status_code == 302
    assert user_privileges(User.objects.get(pk=w.nobody.pk)) == frozenset()


def test_role_cannot_be_assigned_to_another_domains_account(w, signed_in):
    role = builtin("RESELLER_ADMIN")
    client = signed_in(w.admin)
    response = client.post(role_url(role), {"action": "assign", "user": w.alex2.pk})
    assert response.status_code == 400
    response = client.post(role_url(role), {"action": "unassign", "target": w.agent2.pk})
    assert response.status_code == 404
    assert RoleAssignment.objects.filter(user=w.agent2, role=role).exists()


def test_gmail_account_cannot_be_given_the_super_admin_role_from_the_role_page(w, signed_in):
    consumer = User.objects.create_user("someone@gmail.com", "x", domain=w.reseller)
    response = signed_in(w.admin).post(
        role_url(builtin("SUPER_ADMIN")), {"action": "assign", "user": consumer.pk}
    )
    assert response.status_code == 400
    assert "@gmail.com" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=consumer).exists()


def test_a_role_manager_cannot_grant_more_than_they_hold(w, signed_in, give_role):
    give_role(w.nobody, Privilege.MANAGE_ROLES)
    client = signed_in(w.nobody)
    response = client.post(role_url(builtin("SUPER_ADMIN")), {"action": "assign", "user": w.nobody.pk})
    assert response.status_code == 403
    assert "do not hold yourself" in response.content.decode()
    response = client.post(
        reverse("admin_console:role_create"), {"name": "Escalate", "privileges": ["MANAGE_USERS"]}
    )
    assert response.status_code == 403
    assert not AdminRole.objects.filter(name="Escalate").exists()
    assert not RoleAssignment.objects.filter(user=w.nobody, role__builtin="SUPER_ADMIN").exists()


def test_a_role_manager_builds_roles_from_what_they_hold(w, signed_in, give_role):
    give_role(w.nobody, Privilege.MANAGE_ROLES, Privilege.SUPPORT)
    response = signed_in(w.nobody).post(
        reverse("admin_console:role_create"), {"name": "Portal only", "privileges": ["SUPPORT"]}
    )
    assert response.status_code == 302
