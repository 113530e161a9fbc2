"""Addresses that decide where mail goes and who signs in (issue 16, findings 6 and 7): a
notification address outside the account's domain takes effect only when its owner
confirms from it, asked for by a super admin only, and the account is told; nobody changes
their own sign-in address; a super admin never gets a @gmail.com sign-in address."""

import re

import pytest
from django.core import mail

from accounts.models import Privilege, User
from accounts.services import user_notification_address_set
from portal.errors import PermissionRefused


def user_url(user) -> str:
    return f"/admin-console/users/{user.pk}/"


def confirm_link(message) -> str:
    return re.search(r"http://[^\s]+/accounts/notification-address/confirm/[^\s]+/", message.body).group(0)


def test_an_outside_address_takes_effect_only_after_its_owner_confirms(
    w, signed_in, client, django_capture_on_commit_callbacks
):
    admin_client = signed_in(w.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            user_url(w.agent), {"action": "notification", "notification_email": "agent@outside.example"}
        )
    assert response.status_code == 302
    assert User.objects.get(pk=w.agent.pk).mail_address == "agent@reseller.example.com"  # not yet
    [confirm] = [m for m in mail.outbox if m.to == ["agent@outside.example"]]
    [told] = [m for m in mail.outbox if "agent@reseller.example.com" in m.to]
    assert "agent@outside.example" in told.body  # the account is told at once
    link = confirm_link(confirm).split("localhost:8000", 1)[1]
    client.logout()
    page = client.get(link)  # opening the link changes nothing (mail scanners)
    assert page.status_code == 200 and "agent@outside.example" in page.content.decode()
    assert User.objects.get(pk=w.agent.pk).mail_address == "agent@reseller.example.com"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(link).status_code == 200
    assert User.objects.get(pk=w.agent.pk).mail_address == "agent@outside.example"
    told = [m for m in mail.outbox if "agent@reseller.example.com" in m.to]
    assert told and "agent@outside.example" in told[0].body
    # A link works once: the address it was issued against has changed.
    assert client.post(link).status_code == 400


def test_a_forged_confirmation_link_changes_nothing(w, client):
    assert client.get("/accounts/notification-address/confirm/forged-token/").status_code == 400
    response = client.post("/accounts/notification-address/confirm/forged-token/")
    assert response.status_code == 400
    assert User.objects.get(pk=w.agent.pk).notification_email == ""


def test_a_user_manager_cannot_send_another_accounts_mail_outside_the_domain(w, give_role):
    manager = w.nobody
    give_role(manager, Privilege.MANAGE_USERS)
    with pytest.raises(PermissionRefused):
        user_notification_address_set(actor=manager, user=w.agent, address="me@evil.example")
    assert User.objects.get(pk=w.agent.pk).mail_address == "agent@reseller.example.com"


def test_an_address_in_the_domain_takes_effect_at_once_and_the_account_is_told(
    w, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert user_notification_address_set(actor=w.admin, user=w.agent, address="desk@reseller.example.com")
    assert User.objects.get(pk=w.agent.pk).mail_address == "desk@reseller.example.com"
    assert any("agent@reseller.example.com" in m.to for m in mail.outbox)


def test_users_cannot_change_their_own_sign_in_address(w, signed_in):
    client = signed_in(w.acme_admin)
    assert client.get("/accounts/email/").status_code == 403
    response = client.post("/accounts/email/", {"action_add": "", "email": "me@gmail.com"})
    assert response.status_code == 403
    assert User.objects.get(pk=w.acme_admin.pk).email == "admin@acme.example"
    from allauth.account.models import EmailAddress

    assert not EmailAddress.objects.filter(email="me@gmail.com").exists()


def test_operators_cannot_give_a_super_admin_a_gmail_sign_in_address(w, admin_client):
    admin = w.acme_admin
    page = admin_client.get(f"/django-admin/accounts/user/{admin.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "email": "boss@gmail.com",
            "domain": admin.domain_id,
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        }
    )
    response = admin_client.post(f"/django-admin/accounts/user/{admin.pk}/change/", data)
    assert response.status_code == 200 and "never be a super admin" in response.content.decode()
    assert User.objects.get(pk=admin.pk).email == "admin@acme.example"


def test_a_super_admin_changes_a_sign_in_address_in_the_console(
    w, signed_in, django_capture_on_commit_callbacks
):
    client, agent = signed_in(w.admin), w.agent
    assert "Change sign-in address" in client.get(user_url(agent)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            user_url(agent), {"action": "sign_in_address", "email": "Agent.New@reseller.example.com"}
        )
    assert response.status_code == 302
    agent = User.objects.get(pk=agent.pk)
    assert agent.email == "agent.new@reseller.example.com"
    assert any("agent@reseller.example.com" in m.to for m in mail.outbox)  # the old address is told
    # Outside the domain, or taken: refused at the field.
    for address in ("agent@gmail.com", "admin@reseller.example.com"):
        response = client.post(user_url(agent), {"action": "sign_in_address", "email": address})
        assert response.status_code == 400
    assert User.objects.get(pk=agent.pk).email == "agent.new@reseller.example.com"


def test_a_user_manager_who_is_not_super_admin_cannot_change_sign_in_addresses(w, signed_in, give_role):
    manager = w.nobody
    give_role(manager, Privilege.MANAGE_USERS)
    client = signed_in(manager)
    assert "Change sign-in address" not in client.get(user_url(w.agent)).content.decode()
    response = client.post(
        user_url(w.agent), {"action": "sign_in_address", "email": "x@reseller.example.com"}
    )
    assert response.status_code == 400
    assert User.objects.get(pk=w.agent.pk).email == "agent@reseller.example.com"


def test_the_gmail_rule_holds_for_a_super_admins_sign_in_address(w):
    from accounts.services import user_sign_in_address_set
    from portal.errors import InvalidInput

    with pytest.raises(InvalidInput, match="gmail"):
        user_sign_in_address_set(actor=w.acme_admin, user=w.acme_admin, address="boss@gmail.com")
