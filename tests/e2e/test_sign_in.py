import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_agent_of_the_second_domain_signs_in_and_sees_only_that_domain(page):
    sign_in(page, "agent@reseller2.example.com")
    expect(page.get_by_test_id("active-domain")).to_have_text("reseller2.example.com")
    expect(page.get_by_test_id("privileges")).to_contain_text("Access customer support cases")
    assert "reseller.example.com" not in page.content().replace("reseller2.example.com", "")


def test_wrong_password_gets_a_clear_message_and_no_session(page):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("agent@reseller.example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_language_switch_by_keyboard_turns_the_portal_korean(page):
    sign_in(page, "agent@reseller2.example.com")
    page.get_by_label("Language").focus()
    page.keyboard.press("End")  # 한국어 is the last option; choosing it submits the form
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("navigation", name="기본 메뉴")).to_contain_text("홈")
    page.screenshot(path="test-artifacts/home-ko.png", full_page=True)


def test_sign_out_ends_the_session(page):
    sign_in(page, "viewer@reseller.example.com")
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
