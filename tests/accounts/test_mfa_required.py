"""Two-step verification is required for super admins, support engineers and Django admin
operators when MFA_REQUIRED is on (production's default); the Django admin signs in only
through the portal's sign-in (issue 16, finding 5)."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse

from accounts.models import User
from portal.demo import DEMO_PASSWORD

SETUP = reverse("mfa_activate_totp")


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED = True


def sign_in(client, email):
    User.objects.filter(email=email).update(language="en")
    response = client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def test_production_requires_it_by_default():
    from portal.settings import base

    assert base.MFA_REQUIRED is False  # the local demo and the tests
    source = (base.BASE_DIR / "portal" / "settings" / "production.py").read_text()
    assert 'MFA_REQUIRED = env_bool("MFA_REQUIRED", True)' in source


@pytest.mark.parametrize(
    "email", ["admin@reseller.example.com", "engineer@support.example", "admin@acme.example"]
)
def test_a_super_admin_or_support_engineer_without_a_second_factor_is_sent_to_set_one_up(
    client, w, mfa_required, email
):
    sign_in(client, email)
    for path in ("/", "/cases/", "/support/", "/admin-console/"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, SETUP), path
    # allauth asks for the password again before a factor is added; then the setup opens.
    response = client.get(SETUP, follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0].startswith(
        "/accounts/reauthenticate/"
    )
    response = client.post(response.redirect_chain[-1][0], {"password": DEMO_PASSWORD})
    assert response["Location"] == SETUP
    assert client.get(SETUP).status_code == 200
    assert client.get("/accounts/2fa/").status_code == 200


def test_other_accounts_are_not_asked(client, w, mfa_required):
    sign_in(client, "agent@reseller.example.com")
    assert client.get("/cases/").status_code == 200


def test_with_a_second_factor_the_pages_open_and_recovery_codes_exist(client, w, mfa_required):
    engineer = w.engineer
    secret = generate_totp_secret()
    TOTP.activate(engineer, secret)
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    RecoveryCodes.activate(engineer)
    assert Authenticator.objects.filter(user=engineer, type=Authenticator.Type.RECOVERY_CODES).exists()
    User.objects.filter(pk=engineer.pk).update(language="en")
    response = client.post("/accounts/login/", {"login": engineer.email, "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")  # the second step
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.get("/support/").status_code == 200


def test_the_setting_off_asks_nobody(client, w, settings):
    settings.MFA_REQUIRED = False
    sign_in(client, "engineer@support.example")
    assert client.get("/support/").status_code == 200


def test_the_django_admin_signs_in_only_through_the_portal_sign_in(client, w, mfa_required):
    response = client.get("/django-admin/login/?next=/django-admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # Its own password form takes nothing.
    response = client.post(
        "/django-admin/login/", {"username": "engineer@support.example", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_a_django_admin_operator_needs_a_second_factor(client, w, mfa_required):
    operator = User.objects.create_superuser("ops@support.example", DEMO_PASSWORD, domain=w.support)
    client.post("/accounts/login/", {"login": operator.email, "password": DEMO_PASSWORD})
    assert client.get("/django-admin/")["Location"] == SETUP
