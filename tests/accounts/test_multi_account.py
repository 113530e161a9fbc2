"""One browser, several accounts of one person, one per tab (Google's multi-account model)."""

import pytest
from django.urls import reverse

from accounts.models import User
from portal.demo import DEMO_PASSWORD


@pytest.fixture
def alex_in_both_domains(client, db):
    User.objects.filter(email__startswith="alex@").update(language="en")
    for email in ("alex@reseller.example.com", "alex@reseller2.example.com"):
        response = client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
    return client


def active_domain(response) -> str:
    page = response.content.decode()
    return page.split('data-testid="active-domain">', 1)[1].split("<", 1)[0].strip()


def test_each_account_works_in_its_own_address_space(alex_in_both_domains):
    client = alex_in_both_domains
    first, second = client.get("/u/0/customers/"), client.get("/u/1/customers/")
    assert active_domain(first) == "reseller.example.com" and active_domain(second) == "reseller2.example.com"
    assert "Acme Corp" in first.content.decode() and "Initech" not in first.content.decode()
    assert "Initech" in second.content.decode() and "Acme Corp" not in second.content.decode()


def test_links_keep_the_tab_in_its_account(alex_in_both_domains):
    page = alex_in_both_domains.get("/u/1/").content.decode()
    assert 'href="/u/1/cases/"' in page and 'href="/u/1/customers/"' in page


def test_nothing_of_one_domain_is_reachable_from_the_other_accounts_pages(alex_in_both_domains, w, file_case):
    acme_case = file_case(w.agent, w.acme)
    client = alex_in_both_domains
    assert client.get(f"/u/0/cases/{acme_case.number}/").status_code == 200
    assert client.get(f"/u/1/cases/{acme_case.number}/").status_code == 404
    assert client.get(f"/u/1/customers/{w.acme.pk}/").status_code == 404


def test_without_a_prefix_the_first_signed_in_account_acts(alex_in_both_domains):
    assert active_domain(alex_in_both_domains.get("/")) == "reseller.example.com"


def test_an_added_account_opens_at_its_own_address(client, db):
    User.objects.filter(email__startswith="alex@").update(language="en")
    client.post("/accounts/login/", {"login": "alex@reseller.example.com", "password": DEMO_PASSWORD})
    response = client.post(
        "/u/0/accounts/login/?next=/cases/",
        {"login": "alex@reseller2.example.com", "password": DEMO_PASSWORD},
    )
    assert response["Location"] == "/u/1/cases/"
    # The first tab's addresses still act for the first account.
    assert active_domain(client.get("/cases/")) == "reseller.example.com"
    assert active_domain(client.get("/u/0/cases/")) == "reseller.example.com"


def test_each_page_title_names_the_accounts_domain(alex_in_both_domains):
    for prefix, domain in (("/u/0", "reseller.example.com"), ("/u/1", "reseller2.example.com")):
        page = alex_in_both_domains.get(f"{prefix}/customers/").content.decode()
        title = page.split("<title>", 1)[1].split("</title>", 1)[0]
        assert domain in title


def test_chooser_lists_every_account_and_unknown_slots_go_there(alex_in_both_domains):
    client = alex_in_both_domains
    chooser = client.get(reverse("account_chooser")).content.decode()
    assert "alex@reseller.example.com" in chooser and "alex@reseller2.example.com" in chooser
    response = client.get("/u/7/cases/")
    assert response.status_code == 302 and response["Location"] == reverse("account_chooser")


def test_a_forged_cookie_signs_nobody_in(client, db):
    client.cookies["portal_accounts"] = '[{"id": 1, "hash": "x"}]'
    assert client.get("/u/0/")["Location"] == reverse("account_chooser")


def test_after_sign_out_the_old_cookies_without_the_session_open_nothing(alex_in_both_domains):
    """Issue 16, finding 2: the multi-account cookie was a bearer credential."""
    client = alex_in_both_domains
    stolen = {name: morsel.value for name, morsel in client.cookies.items()}
    client.post("/u/0/accounts/logout/")
    for with_session in (True, False):
        client.cookies.clear()
        for name, value in stolen.items():
            if with_session or name != "sessionid":
                client.cookies[name] = value
        for path in ("/u/0/", "/u/1/", "/u/0/admin-console/users/", "/settings/tokens/", "/"):
            response = client.get(path)
            assert response.status_code == 302, (path, with_session)
            assert response["Location"].startswith(("/accounts/login/", "/accounts/choose/")), path


def test_a_browser_restart_opens_nothing(alex_in_both_domains):
    """The session cookie dies with the browser, and nothing else opens an account."""
    client = alex_in_both_domains
    session_cookie = client.cookies["sessionid"]
    assert session_cookie["max-age"] == "" and session_cookie["expires"] == ""
    others = {name: morsel.value for name, morsel in client.cookies.items() if name != "sessionid"}
    client.cookies.clear()
    for name, value in others.items():
        client.cookies[name] = value
    assert client.get("/u/0/")["Location"] == reverse("account_chooser")
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_signing_one_account_out_keeps_the_others_in_their_tabs(alex_in_both_domains):
    client = alex_in_both_domains
    response = client.post("/u/0/accounts/sign-out-account/")
    assert response["Location"] == reverse("account_chooser")
    assert client.get("/u/0/")["Location"] == reverse("account_chooser")
    assert client.get("/")["Location"].startswith("/accounts/login/")  # the plain tab did not become alex2
    assert active_domain(client.get("/u/1/")) == "reseller2.example.com"
    client.post("/u/1/accounts/sign-out-account/")
    assert client.get("/u/1/")["Location"] == reverse("account_chooser")


def test_signing_in_again_after_signing_one_out_takes_a_new_slot(alex_in_both_domains):
    client = alex_in_both_domains
    client.post("/u/0/accounts/sign-out-account/")
    response = client.post(
        "/u/1/accounts/login/", {"login": "alex@reseller.example.com", "password": DEMO_PASSWORD}
    )
    assert response["Location"].startswith("/u/2/")
    assert active_domain(client.get("/u/1/")) == "reseller2.example.com"
    assert active_domain(client.get("/u/2/")) == "reseller.example.com"


def test_a_password_change_keeps_every_account_signed_in(alex_in_both_domains):
    client = alex_in_both_domains
    response = client.post(
        "/u/1/accounts/password/change/",
        {"oldpassword": DEMO_PASSWORD, "password1": "a-new-pass-2024!", "password2": "a-new-pass-2024!"},
    )
    assert response.status_code == 302
    assert active_domain(client.get("/u/0/")) == "reseller.example.com"
    assert active_domain(client.get("/u/1/")) == "reseller2.example.com"


def test_signed_in_sessions_are_listed_and_can_be_ended_by_their_owner(client, w):
    client.post("/accounts/login/", {"login": "agent@reseller.example.com", "password": DEMO_PASSWORD})
    page = client.get("/accounts/sessions/")
    assert page.status_code == 200
    from allauth.usersessions.models import UserSession

    assert UserSession.objects.filter(user=w.agent).count() == 1


def test_suspending_an_account_signs_it_out_of_every_tab(alex_in_both_domains):
    User.objects.filter(email="alex@reseller.example.com").update(is_active=False)
    assert alex_in_both_domains.get("/u/0/customers/")["Location"] == reverse("account_chooser")
    assert (
        active_domain(alex_in_both_domains.get("/u/1/")) == "reseller2.example.com"
    )  # other tabs keep their place


def test_signing_out_signs_out_every_account(alex_in_both_domains):
    client = alex_in_both_domains
    client.post("/u/0/accounts/logout/")
    assert client.get("/u/0/").status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_the_owner_ends_a_session_of_another_browser(w, client, django_user_model):
    from django.test import Client

    other = Client()
    for browser in (client, other):
        browser.post("/accounts/login/", {"login": "agent@reseller.example.com", "password": DEMO_PASSWORD})
    assert other.get("/cases/").status_code == 200
    response = client.post("/accounts/sessions/", {})
    assert response.status_code == 302
    assert client.get("/cases/").status_code == 200  # this browser stays
    assert other.get("/cases/")["Location"].startswith("/accounts/login/")


def test_a_form_open_in_the_first_tab_still_posts_after_another_account_signs_in(db):
    from django.test import Client

    User.objects.filter(email__startswith="alex@").update(language="en")
    browser = Client(enforce_csrf_checks=True)

    def token_of(page) -> str:
        return page.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]

    login = browser.get("/accounts/login/")
    response = browser.post(
        "/accounts/login/",
        {
            "login": "alex@reseller.example.com",
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": token_of(login),
        },
    )
    assert response.status_code == 302
    first_tab_token = token_of(browser.get("/"))  # tab A, a form on its page
    second_tab = browser.get("/accounts/login/")  # tab B adds an account
    response = browser.post(
        "/accounts/login/",
        {
            "login": "alex@reseller2.example.com",
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": token_of(second_tab),
        },
    )
    assert response.status_code == 302 and response["Location"].startswith("/u/1/")
    response = browser.post(
        "/language/", {"language": "en", "next": "/", "csrfmiddlewaretoken": first_tab_token}
    )
    assert response.status_code == 302
    assert active_domain(browser.get("/")) == "reseller.example.com"
