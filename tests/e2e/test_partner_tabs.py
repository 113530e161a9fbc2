"""Alex works in two tabs, one per reseller domain, in one browser (issue 4)."""

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
