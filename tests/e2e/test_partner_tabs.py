"""Alex works in two tabs, one per reseller domain, in one browser (issue 4)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_alex_works_in_two_tabs_and_neither_shows_the_others_customers(page):
    User.objects.filter(email__startswith="alex@").update(language="en")
    sign_in(page, "alex@reseller.example.com")
    page.goto("/accounts/login/?next=/")  # "Add another account"
    sign_in(page, "alex@reseller2.example.com")

    first = page
    first.goto("/u/0/")
    second = page.context.new_page()
    second.goto("/u/1/")
    expect(first.get_by_test_id("active-domain")).to_have_text("reseller.example.com")
    expect(second.get_by_test_id("active-domain")).to_have_text("reseller2.example.com")

    first.get_by_role("link", name="My customers").click()
    second.get_by_role("link", name="My customers").click()
    expect(first.locator("main table")).to_contain_text("Acme Corp")
    expect(first.locator("main table")).not_to_contain_text("Initech")
    expect(second.locator("main table")).to_contain_text("Initech")
    expect(second.locator("main table")).not_to_contain_text("Acme Corp")
    # Each tab stays in its account while navigating.
    second.get_by_role("link", name="My cases").click()
    assert "/u/1/cases/" in second.url
    expect(second.get_by_test_id("active-domain")).to_have_text("reseller2.example.com")
    first.reload()
    expect(first.get_by_test_id("active-domain")).to_have_text("reseller.example.com")
    first.screenshot(path="test-artifacts/partner-tab-1.png", full_page=True)
    second.screenshot(path="test-artifacts/partner-tab-2.png", full_page=True)

    first.locator(".account-menu summary").click()
    expect(first.get_by_test_id("switch-account")).to_contain_text("alex@reseller2.example.com")


def test_a_second_sign_in_never_moves_the_first_tab(page):
    """Issue 11, item 3: tab A on the plain addresses stays with the first account while
    tab B signs in another one; each title names its domain."""
    User.objects.filter(email__startswith="alex@").update(language="en")
    first = page
    sign_in(first, "alex@reseller.example.com")
    first.goto("/cases/")
    second = first.context.new_page()
    second.goto("/accounts/login/?next=/cases/")
    second.get_by_label("Email").fill("alex@reseller2.example.com")
    second.get_by_label("Password").fill("demo-pass-2024")
    second.get_by_role("button", name="Sign in").click()
    second.wait_for_url("**/u/1/cases/")
    expect(second.get_by_test_id("active-domain")).to_have_text("reseller2.example.com")
    expect(second).to_have_title(re.compile(r"reseller2\.example\.com"))

    first.get_by_role("link", name="My customers").click()
    first.wait_for_url("**/customers/")
    assert "/u/" not in first.url
    expect(first.get_by_test_id("active-domain")).to_have_text("reseller.example.com")
    expect(first.locator("main table")).to_contain_text("Acme Corp")
    expect(first.locator("main table")).not_to_contain_text("Initech")
    expect(first).to_have_title(re.compile(r"reseller\.example\.com"))
    first.reload()
    expect(first.get_by_test_id("active-domain")).to_have_text("reseller.example.com")
    second.reload()
    expect(second.get_by_test_id("active-domain")).to_have_text("reseller2.example.com")

    first.goto("/accounts/choose/")
    accounts = first.get_by_test_id("accounts")
    expect(accounts).to_contain_text("alex@reseller.example.com")
    expect(accounts).to_contain_text("reseller2.example.com")
    first.screenshot(path="test-artifacts/partner-chooser.png", full_page=True)
