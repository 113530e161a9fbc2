"""Sign-in (django-allauth), the home page per persona, the language switch."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from portal.demo import DEMO_PASSWORD

RESELLER_TRIO = {"SUPPORT", "RESELLER_VIEW_CUSTOMERS", "RESELLER_ACCESS_CUSTOMER_CASES"}
EVERYTHING = RESELLER_TRIO | {
    "LEGACY_RESELLER_ENTERPRISE_SUPPORT",
    "LEGACY_ENTERPRISE",
    "MANAGE_USERS",
    "MANAGE_ROLES",
}

# SPEC §9: every demo account, the domain it acts for, and the privileges it holds.
DEMO_ACCOUNTS = [
    ("admin@reseller.example.com", "reseller.example.com", EVERYTHING),
    ("agent@reseller.example.com", "reseller.example.com", RESELLER_TRIO),
    ("viewer@reseller.example.com", "reseller.example.com", {"RESELLER_VIEW_CUSTOMERS"}),
    ("alex@reseller.example.com", "reseller.example.com", RESELLER_TRIO),
    ("alex@reseller2.example.com", "reseller2.example.com", RESELLER_TRIO),
    ("agent@reseller2.example.com", "reseller2.example.com", RESELLER_TRIO),
    ("admin@acme.example", "acme.example", EVERYTHING),
    ("user@acme.example", "acme.example", set()),
    ("admin@globex.example", "globex.example", EVERYTHING),
    ("admin@initech.example", "initech.example", EVERYTHING),
    ("admin@umbrella.example", "umbrella.example", EVERYTHING),
    ("engineer@support.example", "support.example", set()),
]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def sign_in(client, email, password=DEMO_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_home_needs_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("email, domain, privileges", DEMO_ACCOUNTS)
def test_each_demo_account_signs_in_and_sees_its_domain_and_privileges(client, db, email, domain, privileges):
    response = sign_in(client, email)
    assert response.status_code == 302, f"{email} could not sign in"
    page = client.get("/").content.decode()
    assert re.search(r'data-testid="active-domain">\s*' + re.escape(domain) + r"\s*<", page)
    assert set(re.findall(r'data-privilege="([A-Z_]+)"', page)) == privileges


def test_home_costs_a_fixed_number_of_queries(client, w, django_assert_max_num_queries):
    client.force_login(w.admin)
    with django_assert_max_num_queries(8):
        assert client.get("/").status_code == 200


def test_account_of_another_domain_shows_nothing_of_the_first(client, w):
    client.force_login(w.agent2)
    page = client.get("/").content.decode()
    assert "reseller2.example.com" in page
    assert "reseller.example.com" not in page.replace("reseller2.example.com", "")
    assert client.get("/django-admin/").status_code == 302  # not an operator


def test_wrong_password_and_unknown_account_get_the_same_answer(client, db):
    wrong = sign_in(client, "agent@reseller.example.com", "nope").content.decode()
    unknown = sign_in(client, "ghost@reseller.example.com", "nope").content.decode()
    error = "The email address and/or password you specified are not correct."
    assert error in wrong and error in unknown


def test_failed_sign_ins_are_rate_limited(client, db):
    for _ in range(5):
        sign_in(client, "agent@reseller.example.com", "wrong-password")
    response = sign_in(client, "agent@reseller.example.com")
    assert response.status_code == 200  # the correct password is refused for now
    assert "Too many failed login attempts" in response.content.decode()


def test_nobody_signs_themselves_up(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "me@reseller.example.com", "password1": "x-Pass-2024!", "password2": "x-Pass-2024!"},
    )
    assert "Sign Up Closed" in response.content.decode()
    assert not User.objects.filter(email="me@reseller.example.com").exists()


def test_password_reset_mails_known_accounts_without_telling_who_exists(client, db):
    known = client.post(reverse("account_reset_password"), {"email": "agent@reseller.example.com"})
    unknown = client.post(reverse("account_reset_password"), {"email": "ghost@reseller.example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    reset_mail = [m for m in mail.outbox if "agent@reseller.example.com" in m.to]
    assert reset_mail and "/accounts/password/reset/key/" in reset_mail[0].body


def test_two_step_verification_can_be_turned_on(client, db):
    sign_in(client, "agent@reseller.example.com")
    assert client.get(reverse("mfa_index")).status_code == 200
    activate = reverse("mfa_activate_totp")
    response = client.get(activate)
    if response.status_code == 302:  # allauth asks for the password again before security changes
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        client.post(response["Location"], {"password": DEMO_PASSWORD})
        response = client.get(activate)
    secret = response.context["form"].secret
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    client.post(activate, {"code": code})
    assert Authenticator.objects.filter(
        user__email="agent@reseller.example.com", type=Authenticator.Type.TOTP
    ).exists()


def test_language_switch_is_kept_on_the_account(client, w):
    client.force_login(w.agent2)
    response = client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert User.objects.get(pk=w.agent2.pk).language == "ko"
    page = client.get("/").content.decode()
    assert '<html lang="ko">' in page and "활성 도메인" in page


def test_language_switch_refuses_open_redirects_and_unknown_languages(client, w):
    client.force_login(w.agent2)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert User.objects.get(pk=w.agent2.pk).language == "en"
