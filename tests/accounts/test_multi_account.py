"""One browser, several accounts of one person, one per tab (Google's multi-account model)."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.multi_account import COOKIE
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


def test_without_a_prefix_the_last_signed_in_account_acts(alex_in_both_domains):
    assert active_domain(alex_in_both_domains.get("/")) == "reseller2.example.com"


def test_chooser_lists_every_account_and_unknown_slots_go_there(alex_in_both_domains):
    client = alex_in_both_domains
    chooser = client.get(reverse("account_chooser")).content.decode()
    assert "alex@reseller.example.com" in chooser and "alex@reseller2.example.com" in chooser
    response = client.get("/u/7/cases/")
    assert response.status_code == 302 and response["Location"] == reverse("account_chooser")


def test_a_forged_cookie_signs_nobody_in(client, db):
    client.cookies[COOKIE] = '[{"id": 1, "hash": "x"}]'
    assert client.get("/u/0/")["Location"] == reverse("account_chooser")


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
