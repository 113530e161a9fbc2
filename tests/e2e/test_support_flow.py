"""The engineer asks for information, the agent replies, the case is back with support;
a customer turning consent off stops the agent from filing (issue 4)."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from customers.models import Customer
from customers.services import customer_consent_set
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_action_required_then_the_agents_reply_returns_the_case_to_support(browser, live_server, world):
    User.objects.filter(email__in=["engineer@support.example", "agent@reseller.example.com"]).update(
        language="en"
    )
    engineer_ctx = browser.new_context(base_url=live_server.url)
    agent_ctx = browser.new_context(base_url=live_server.url)
    engineer, agent = engineer_ctx.new_page(), agent_ctx.new_page()
    try:
        sign_in(agent, "agent@reseller.example.com")
        agent.goto("/cases/?state=NEW")
        agent.locator("tbody tr").first.get_by_role("link").first.click()
        number = agent.get_by_test_id("case-number").inner_text()

        sign_in(engineer, "engineer@support.example")
        engineer.get_by_role("link", name="Support console").click()
        expect(engineer.get_by_role("heading", level=1)).to_have_text("Support console")
        engineer.screenshot(path="test-artifacts/support-queue.png", full_page=True)
        engineer.goto(f"/cases/{number}/")
        engineer.get_by_label("Reply to the customer").fill(
            "Please send the full headers of one delayed message."
        )
        engineer.get_by_label("Status").select_option("ACTION_REQUIRED")
        engineer.get_by_role("button", name="Send").click()
        expect(engineer.get_by_test_id("case-state")).to_have_text("Action required")

        agent.reload()
        expect(agent.get_by_test_id("case-state")).to_have_text("Action required")
        expect(agent.get_by_test_id("timeline")).to_contain_text("Please send the full headers")
        agent.get_by_label("Send a message to support").fill("Headers: Received: from relay.acme.example …")
        agent.get_by_role("button", name="Send").click()
        expect(agent.get_by_test_id("case-state")).to_have_text("In progress (support)")
        agent.screenshot(path="test-artifacts/case-back-with-support.png", full_page=True)
    finally:
        engineer_ctx.close()
        agent_ctx.close()


def test_consent_turned_off_stops_the_agent_and_says_why(page):
    User.objects.filter(email="agent@reseller.example.com").update(language="en")
    acme = Customer.objects.get(name="Acme Corp")
    customer_consent_set(
        actor=User.objects.get(email="admin@acme.example"),
        customer=acme,
        domain=acme.relationships.get(ended_at=None).reseller_domain,
        support_cases=False,
    )
    sign_in(page, "agent@reseller.example.com")
    page.goto(f"/cases/new/?customer={acme.pk}")
    expect(page.get_by_test_id("consent-off")).to_contain_text(
        "Acme Corp has not given your reseller domain access"
    )
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    page.goto("/cases/")  # Acme's cases left My cases with the consent
    expect(page.locator("main table")).to_contain_text("Umbrella")
    expect(page.locator("main table")).not_to_contain_text("Acme Corp")
