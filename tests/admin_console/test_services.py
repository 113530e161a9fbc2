"""The admin console's services on their own: the rules hold whatever page or API calls them."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import AdminRole, OrgUnit, Privilege, User
from accounts.services import (
    licence_request_create,
    org_unit_rename,
    org_unit_set_auto_licensing,
    role_create,
    role_delete,
    role_unassign,
    role_update,
    user_create,
    user_notification_address_set,
    user_reactivate,
    user_suspend,
)
from customers.services import customer_record_update
from portal.errors import InvalidInput, NotFound, PermissionRefused

pytestmark = pytest.mark.django_db


def test_a_new_account_can_reset_its_password(w, client):
    unit = OrgUnit.objects.get(domain=w.reseller, name="Support staff")
    user = user_create(actor=w.admin, email="fresh@reseller.example.com", org_unit=unit)
    assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()
    client.post(reverse("account_reset_password"), {"email": "fresh@reseller.example.com"})
    assert [m.to for m in mail.outbox] == [["fresh@reseller.example.com"]]


def test_suspend_and_reactivate_stay_in_the_own_domain(w):
    for service in (user_suspend, user_reactivate):
        with pytest.raises(NotFound):
            service(actor=w.admin, user=w.agent2)
    with pytest.raises(PermissionRefused):
        user_suspend(actor=w.agent, user=w.viewer)


def test_suspending_twice_and_reactivating_twice_is_harmless(w):
    user_suspend(actor=w.admin, user=w.viewer)
    assert not user_suspend(actor=w.admin, user=w.viewer).is_active
    user_reactivate(actor=w.admin, user=w.viewer)
    assert user_reactivate(actor=w.admin, user=w.viewer).is_active


def test_a_domain_keeps_an_active_super_admin(w):
    super_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.SUPER_ADMIN)
    w.agent.role_assignments.create(role=super_admin)
    user_suspend(actor=w.agent, user=w.admin)
    # The agent is now the only active super admin; the suspended admin does not count.
    with pytest.raises(InvalidInput):
        role_unassign(actor=w.agent, user=w.agent, role=super_admin)


def test_org_unit_changes_stay_in_the_own_domain(w):
    other = OrgUnit.objects.get(domain=w.reseller2, name="Sales")
    with pytest.raises(NotFound):
        org_unit_rename(actor=w.admin, org_unit=other, name="x")
    with pytest.raises(NotFound):
        org_unit_set_auto_licensing(actor=w.admin, org_unit=other, auto_licensing=False)
    with pytest.raises(PermissionRefused):
        org_unit_rename(
            actor=w.agent, org_unit=OrgUnit.objects.get(domain=w.reseller, name="Sales"), name="x"
        )


def test_notification_address_rules(w):
    # Outside the domain: only once its owner confirms (tests/accounts/test_addresses.py).
    assert user_notification_address_set(actor=w.admin, user=w.viewer, address=" V@W.example ") is False
    assert user_notification_address_set(actor=w.admin, user=w.viewer, address=" Desk@Reseller.example.com ")
    assert User.objects.get(pk=w.viewer.pk).mail_address == "desk@reseller.example.com"
    # The own address is no redirect at all.
    assert user_notification_address_set(actor=w.admin, user=w.viewer, address=w.viewer.email)
    assert User.objects.get(pk=w.viewer.pk).notification_email == ""
    with pytest.raises(InvalidInput):
        user_notification_address_set(actor=w.admin, user=w.viewer, address="nope")
    with pytest.raises(NotFound):
        user_notification_address_set(actor=w.admin, user=w.alex2, address="a@b.example")


def test_custom_roles_are_edited_and_deleted_only_in_their_domain(w):
    own = role_create(actor=w.admin, name="Own", privileges=[Privilege.SUPPORT])
    foreign = role_create(actor=w.admin3, name="Foreign", privileges=[Privilege.SUPPORT])
    with pytest.raises(NotFound):
        role_update(actor=w.admin, role=foreign, name="Mine", privileges=[Privilege.SUPPORT])
    with pytest.raises(NotFound):
        role_delete(actor=w.admin, role=foreign)
    updated = role_update(
        actor=w.admin,
        role=own,
        name="Own+",
        privileges=[Privilege.SUPPORT, Privilege.RESELLER_VIEW_CUSTOMERS],
    )
    assert set(updated.privileges.values_list("privilege", flat=True)) == {
        "SUPPORT",
        "RESELLER_VIEW_CUSTOMERS",
    }
    role_delete(actor=w.admin, role=own)
    assert not AdminRole.objects.filter(pk=own.pk).exists()


def test_built_in_roles_never_change(w):
    reseller_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.RESELLER_ADMIN)
    with pytest.raises(InvalidInput):
        role_update(actor=w.admin, role=reseller_admin, name="Mine", privileges=[Privilege.SUPPORT])
    with pytest.raises(InvalidInput):
        role_delete(actor=w.admin, role=reseller_admin)


def test_licence_requests_need_a_super_admin_and_sane_numbers(w):
    with pytest.raises(PermissionRefused):
        licence_request_create(actor=w.agent, sku="WORKSPACE", quantity=1)
    for quantity in (0, -1, 100_001, True, "5"):
        with pytest.raises(InvalidInput):
            licence_request_create(actor=w.admin, sku="WORKSPACE", quantity=quantity)
    with pytest.raises(InvalidInput):
        licence_request_create(actor=w.admin, sku="FREE_LUNCH", quantity=1)


def test_customer_record_rules(w):
    with pytest.raises(PermissionRefused):
        customer_record_update(actor=w.agent, customer=w.acme, city="Busan")
    with pytest.raises(PermissionRefused):
        customer_record_update(actor=w.acme_admin, customer=w.acme, city="Busan")
    with pytest.raises(NotFound):
        customer_record_update(actor=w.admin, customer=w.initech, city="Busan")
    with pytest.raises(InvalidInput):
        customer_record_update(actor=w.admin, customer=w.acme, name="Renamed")
    with pytest.raises(InvalidInput):
        customer_record_update(actor=w.admin, customer=w.acme, country_code="KOR")
    assert customer_record_update(actor=w.admin, customer=w.acme, city=" Busan ").city == "Busan"
