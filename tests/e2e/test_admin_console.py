"""Browser journeys of the admin console, the customer super admin and the dashboard."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

ARTIFACTS = Path("test-artifacts")


def in_english(email: str) -> None:
    # Several demo accounts prefer Korean; these journeys read English labels.
    User.objects.filter(email=email).update(language="en")


def sign_out(page) -> None:
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_super_admin_gives_a_new_user_a_view_customers_role_who_then_sees_customers_but_no_cases(page):
    ARTIFACTS.mkdir(exist_ok=True)
    in_english("admin@reseller.example.com")
    sign_in(page, "admin@reseller.example.com")

    # A custom role with "View customers" only, from the privilege tree.
    page.goto("/admin-console/roles/new/")
    page.get_by_label("Role name").fill("Customer lookup")
    page.get_by_label("View customers", exact=True).check()
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("status")).to_contain_text("The role “Customer lookup” was created.")
    expect(page.get_by_label("View customers", exact=True)).to_be_checked()
    expect(page.get_by_label("Access customer support cases")).not_to_be_checked()

    # A new account in an org unit without automatic licensing.
    page.goto("/admin-console/users/")
    expect(page.get_by_test_id("auto-licensing-warning")).to_contain_text("Sales")
    page.get_by_label("Email address").fill("lookup@reseller.example.com")
    page.get_by_label("Full name").fill("Lou Kup")
    page.get_by_label("Org unit", exact=True).select_option(label="Support staff")
    page.get_by_label("Initial password").fill("Lookup-pass-2024!")
    page.locator("#id_language").select_option("en")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text("lookup@reseller.example.com was created")

    # Assign the role on the new account's page.
    page.get_by_label("Role", exact=True).select_option(label="Customer lookup")
    page.get_by_role("button", name="Assign role").click()
    expect(page.get_by_test_id("assigned-roles")).to_contain_text("Customer lookup")
    page.screenshot(path=str(ARTIFACTS / "admin-console-user.png"), full_page=True)
    sign_out(page)

    # The new user: the home page lists the privilege; customers yes, cases no.
    sign_in(page, "lookup@reseller.example.com", "Lookup-pass-2024!")
    expect(page.get_by_test_id("privileges")).to_contain_text("View customers")
    expect(page.get_by_test_id("privileges")).not_to_contain_text("Access customer support cases")
    page.goto("/customers/")
    expect(page.get_by_role("link", name="Acme Corp")).to_be_visible()
    response = page.goto("/cases/")
    assert response.status == 403
    expect(page.get_by_test_id("missing-privileges")).to_contain_text("Access customer support cases")


def test_customer_super_admin_turns_reseller_access_off_and_sees_who_and_when(page):
    ARTIFACTS.mkdir(exist_ok=True)
    in_english("admin@acme.example")
    sign_in(page, "admin@acme.example")
    page.goto("/customer/admin/")
    row = page.locator('tr[data-domain="reseller.example.com"]')
    expect(row.get_by_test_id("access-state")).to_have_text("On")
    expect(page.get_by_text("no longer sees any of your cases")).to_be_visible()
    row.get_by_role("button", name="Turn off access for reseller.example.com").click()
    # Turning access off is deliberate: the page says what it does and asks first.
    confirm = page.get_by_test_id("confirm-access-off")
    expect(confirm).to_contain_text("The super admins of reseller.example.com get an email")
    confirm.get_by_role("button", name="Yes, turn off access for reseller.example.com").click()
    expect(page.get_by_role("status")).to_contain_text("can no longer file or see your support cases")
    row = page.locator('tr[data-domain="reseller.example.com"]')
    expect(row.get_by_test_id("access-state")).to_have_text("Off")
    expect(row).to_contain_text("admin@acme.example")
    latest = page.get_by_test_id("access-history").locator("tbody tr").first
    expect(latest).to_contain_text("turned off")
    expect(latest).to_contain_text("admin@acme.example")
    expect(latest.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    page.screenshot(path=str(ARTIFACTS / "customer-admin-reseller-access.png"), full_page=True)


def test_dashboard_renders_its_charts(page):
    ARTIFACTS.mkdir(exist_ok=True)
    in_english("agent@reseller.example.com")
    sign_in(page, "agent@reseller.example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.wait_for_url("**/dashboard/")
    charts = page.locator('svg.chart[role="img"]')
    expect(charts).to_have_count(4)
    expect(page.get_by_role("img", name="Open cases by status")).to_be_visible()
    expect(page.get_by_role("img", name="Cases opened and closed per week")).to_be_visible()
    expect(page.get_by_role("img", name="First-response breaches per week")).to_be_visible()
    assert int(page.get_by_test_id("open-total").inner_text()) > 0
    box = page.get_by_role("img", name="Open cases by severity").bounding_box()
    assert box and box["width"] > 200 and box["height"] > 80
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
