"""R8: a super admin manages users, org units and roles of their own domain only."""

import pytest

from accounts.models import AdminRole, LicenceAssignment, LicenceSku, OrgUnit, Privilege, User
from accounts.selectors import user_privileges
from accounts.services import org_unit_create, role_assign, role_create, role_unassign, user_create
from portal.errors import InvalidInput, NotFound, PermissionRefused


@pytest.fixture
def super_admin_role(db):
    return AdminRole.objects.get(builtin=AdminRole.BuiltIn.SUPER_ADMIN)


def test_super_admin_creates_an_account_in_an_org_unit_with_a_cloud_identity_licence(w):
    unit = OrgUnit.objects.get(domain=w.reseller, name="Support staff")
    user = user_create(
        actor=w.admin, email="New.Agent@reseller.example.com", org_unit=unit, password="x-pass-2024!"
    )
    assert user.email == "new.agent@reseller.example.com" and user.domain == w.reseller
    assert set(LicenceAssignment.objects.filter(user=user).values_list("sku", flat=True)) == {
        LicenceSku.CLOUD_IDENTITY_FREE
    }


def test_auto_licensing_unit_needs_confirmation_and_then_takes_a_workspace_licence(w):
    sales = OrgUnit.objects.get(domain=w.reseller, name="Sales")
    with pytest.raises(InvalidInput) as refused:
        user_create(actor=w.admin, email="rep@reseller.example.com", org_unit=sales)
    assert "Workspace licence" in str(refused.value.message)
    user = user_create(
        actor=w.admin, email="rep@reseller.example.com", org_unit=sales, confirm_auto_licensing=True
    )
    assert set(user.licences.values_list("sku", flat=True)) == {
        LicenceSku.CLOUD_IDENTITY_FREE,
        LicenceSku.WORKSPACE,
    }


def test_super_admin_cannot_create_accounts_in_another_domain(w):
    other_unit = OrgUnit.objects.get(domain=w.reseller2, name="Support staff")
    own_unit = OrgUnit.objects.get(domain=w.reseller, name="Support staff")
    with pytest.raises(NotFound):
        user_create(actor=w.admin, email="x@reseller2.example.com", org_unit=other_unit)
    with pytest.raises(InvalidInput):
        user_create(actor=w.admin, email="x@reseller2.example.com", org_unit=own_unit)


def test_agents_cannot_manage_users(w):
    unit = OrgUnit.objects.get(domain=w.reseller, name="Support staff")
    with pytest.raises(PermissionRefused):
        user_create(actor=w.agent, email="y@reseller.example.com", org_unit=unit)


def test_super_admin_assigns_roles_in_the_own_domain_taking_effect_next_request(w):
    role = role_create(
        actor=w.admin,
        name="Case handler",
        privileges=[Privilege.SUPPORT, Privilege.RESELLER_ACCESS_CUSTOMER_CASES],
    )
    role_assign(actor=w.admin, user=w.nobody, role=role)
    assert Privilege.RESELLER_ACCESS_CUSTOMER_CASES in user_privileges(User.objects.get(pk=w.nobody.pk))
    role_unassign(actor=w.admin, user=w.nobody, role=role)
    assert user_privileges(User.objects.get(pk=w.nobody.pk)) == frozenset()


def test_super_admin_cannot_assign_roles_across_domains(w):
    reseller_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.RESELLER_ADMIN)
    with pytest.raises(NotFound):
        role_assign(actor=w.admin, user=w.agent2, role=reseller_admin)
    custom = AdminRole.objects.get(domain=w.reseller, name="Customer viewer")
    with pytest.raises(NotFound):
        role_assign(actor=w.admin3, user=w.agent3, role=custom)


def test_gmail_account_can_never_be_super_admin(w, super_admin_role):
    consumer = User.objects.create_user("someone@gmail.com", "x", domain=w.reseller)
    with pytest.raises(InvalidInput) as refused:
        role_assign(actor=w.admin, user=consumer, role=super_admin_role)
    assert "@gmail.com" in str(refused.value.message)
    role_assign(actor=w.admin, user=w.agent, role=super_admin_role)  # a domain account may be


def test_the_last_super_admin_stays(w, super_admin_role):
    with pytest.raises(InvalidInput):
        role_unassign(actor=w.admin, user=w.admin, role=super_admin_role)


def test_only_role_managers_create_roles(w):
    with pytest.raises(PermissionRefused):
        role_create(actor=w.agent, name="Sneaky", privileges=[Privilege.MANAGE_ROLES])
    with pytest.raises(InvalidInput):
        role_create(actor=w.admin, name="Empty", privileges=[])


def test_org_units_are_made_in_the_own_domain(w):
    unit = org_unit_create(actor=w.admin, name="Partners desk", auto_licensing=True)
    assert unit.domain == w.reseller and unit.auto_licensing
    with pytest.raises(InvalidInput):
        org_unit_create(actor=w.admin, name="partners desk")
    with pytest.raises(PermissionRefused):
        org_unit_create(actor=w.agent, name="Elsewhere")
