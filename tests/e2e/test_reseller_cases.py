"""A reseller agent files and manages a delegated case in a real browser (issue 3)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea73581840000000049454e44ae426082"
)


def shot(page, name: str) -> None:
    page.screenshot(path=f"test-artifacts/{name}.png", full_page=True)


def use_language(email: str, language: str) -> None:
    User.objects.filter(email=email).update(language=language)


def test_agent_files_a_case_with_an_attachment_and_works_it(page, tmp_path):
    use_language("agent@reseller.example.com", "en")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "agent@reseller.example.com")
    page.get_by_role("link", name="Create support case").first.click()
    shot(page, "create-1-choose-customer")
    page.get_by_placeholder("Customer name or domain").fill("acme")
    page.get_by_role("link", name=re.compile("Acme Corp")).click()
    expect(page.get_by_test_id("selected-customer")).to_have_text("Acme Corp")
    expect(page.get_by_role("note")).to_contain_text("Do not include personal information")

    page.get_by_role("textbox", name="Title").fill("Walrus gateway drops mail to partners")
    page.get_by_label("Find a category by keyword").fill("delayed")
    expect(page.locator("#id_classification option")).not_to_have_count(0)
    page.get_by_role("combobox", name="Category", exact=True).select_option(
        label="Gmail > Email delivery > Messages delayed"
    )
    expect(page.locator("#questions textarea").first).to_be_visible()  # the category's questions appear
    page.get_by_role("textbox", name="Case description").fill(
        "Since 09:00 mail to partners is delayed; the quokka relay logs 421."
    )
    page.locator("#questions textarea").first.fill("Message-ID 1234 from the relay")
    attachment = tmp_path / "relay.png"
    attachment.write_bytes(PNG)
    page.locator("#id_attachments").set_input_files(str(attachment))
    page.get_by_role("radio", name=re.compile(r"\bP2\b")).check()
    shot(page, "create-2-filled")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_test_id("case-title")).to_have_text("Walrus gateway drops mail to partners")
    expect(page.get_by_test_id("attachment-link")).to_have_text("relay.png")
    number = page.get_by_test_id("case-number").inner_text()
    shot(page, "case-page")

    page.get_by_role("link", name="My cases").click()
    expect(page.locator("tbody tr").first).to_have_attribute("data-case", number)
    expect(page.locator("#state-tabs .count-pending")).to_have_count(0)  # the counts came after the list
    shot(page, "my-cases")

    page.get_by_label("P2").check()
    page.get_by_label("Keyword").fill("quokka")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr").first).to_have_attribute("data-case", number)
    expect(page).to_have_url(re.compile(r"q=quokka"))
    expect(page.locator('[data-state-count="NEW"]')).to_have_text("1")  # counted with the filters
    expect(page.locator('[data-state-count="CLOSED"]')).to_have_text("0")
    shot(page, "my-cases-filtered")

    page.locator("tbody tr").first.get_by_role("link").first.click()
    page.get_by_label("Severity").select_option("P1")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_test_id("case-priority")).to_contain_text("P1")

    page.get_by_role("button", name="Close case").click()
    expect(page.get_by_test_id("case-state")).to_have_text("Closed")
    expect(page.get_by_test_id("reopen-left")).to_contain_text("29 days")
    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_test_id("case-state")).to_have_text("In progress (support)")
    shot(page, "case-reopened")


def test_customer_without_consent_shows_disabled_fields_with_the_reason(page):
    use_language("agent@reseller.example.com", "en")
    sign_in(page, "agent@reseller.example.com")
    page.goto("/cases/new/")
    page.get_by_placeholder("Customer name or domain").fill("globex")
    page.get_by_role("link", name=re.compile("Globex")).click()
    expect(page.get_by_test_id("consent-off")).to_contain_text("has not given your reseller domain access")
    expect(page.get_by_role("combobox", name="Product type")).to_be_disabled()
    expect(page.get_by_role("combobox", name="Category", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    shot(page, "create-consent-off")


def test_viewer_sees_customers_but_no_cases(page):
    use_language("viewer@reseller.example.com", "en")
    sign_in(page, "viewer@reseller.example.com")
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("My cases")
    page.get_by_role("link", name="My customers").click()
    expect(page.locator("main")).to_contain_text("Acme Corp")
    page.get_by_role("link", name="Acme Corp").click()
    expect(page.locator("main")).to_contain_text("Your role lets you see customers, not their cases.")
    page.goto("/cases/")
    expect(page.get_by_test_id("missing-privileges")).to_contain_text("Access customer support cases")
    shot(page, "viewer-no-cases")


def test_the_same_journey_in_korean_shows_korean_labels(page):
    use_language("agent@reseller.example.com", "ko")
    sign_in(page, "agent@reseller.example.com")
    page.get_by_role("link", name="내 케이스").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("내 케이스")
    expect(page.get_by_role("button", name="필터")).to_be_visible()
    page.get_by_role("link", name="지원 케이스 만들기").first.click()
    page.get_by_role("link", name=re.compile("Acme Corp")).click()
    expect(page.get_by_role("note")).to_contain_text(
        "개인 식별 정보를 케이스나 케이스의 첨부파일에 포함하지 마세요"
    )
    expect(page.get_by_text("심각도").first).to_be_visible()
    expect(page.get_by_text("언어 및 시간대").first).to_be_visible()
    expect(page.get_by_role("button", name="제출")).to_be_visible()
    shot(page, "create-ko")
    page.goto("/customers/")
    expect(page.get_by_role("heading", level=1)).to_have_text("내 고객")
    shot(page, "my-customers-ko")
