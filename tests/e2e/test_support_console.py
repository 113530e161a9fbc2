"""Issue 13, in a real browser, in English and Korean: an engineer filters the queue to
P1 cases awaiting support, saves the view, replies asking for information and sets
Action required in one submit; the agent replies on the case page; the case is back at
the top of the engineer's view, saying the customer replied."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from cases.models import Case
from cases.services import case_create
from customers.models import Customer
from tests.e2e.conftest import sign_in
from tests.world import World

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {"state": "Action required", "replied": "Customer replied", "back": "In progress (support)"},
    "ko": {"state": "조치 필요", "replied": "고객이", "back": "진행 중(지원팀)"},
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_engineer_asks_in_one_submit_and_sees_the_customer_reply_first(browser, live_server, world, language):
    User.objects.filter(email__in=["engineer@support.example", "agent@reseller.example.com"]).update(
        language=language
    )
    agent_user = User.objects.get(email="agent@reseller.example.com")
    case = case_create(
        user=agent_user,
        customer=Customer.objects.get(name="Acme Corp"),
        classification=World.leaf(),
        title="Executives cannot join Meet calls",
        description="Since 9:00 every executive gets an error joining Meet calls.",
        priority="P1",
        language=language,
        time_zone="Asia/Seoul",
    )
    engineer_ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    agent_ctx = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    engineer, agent = engineer_ctx.new_page(), agent_ctx.new_page()
    try:
        sign_in(engineer, "engineer@support.example")
        engineer.goto("/support/")
        filters = engineer.locator("#queue-filters")
        filters.locator("select[name=awaiting]").select_option("support")
        filters.locator("input[name=priority][value=P1]").check()
        filters.locator("select[name=sort]").select_option("-updated")
        filters.locator("button[type=submit]").click()
        first = engineer.locator("tr.queue-row").first
        expect(first).to_have_attribute("data-case", str(case.number))
        expect(first.get_by_test_id("next-reply")).to_have_attribute("data-next", "new")
        engineer.locator("input[name=name]").fill("P1 awaiting support")
        engineer.locator("form.save-view button[type=submit]").click()
        expect(engineer.get_by_test_id("saved-view")).to_contain_text("P1 awaiting support")
        engineer.screenshot(path=f"test-artifacts/support-queue-{language}.png", full_page=True)

        first = engineer.locator("tr.queue-row").first
        first.locator("td.case-number a").click()
        engineer.locator("#id_support_body").fill(
            "Could you send a screenshot of the error and the user's address?"
        )
        expect(engineer.locator("#id_support_state")).to_have_value("NEW")  # the current state, preselected
        engineer.locator("#id_support_state").select_option("ACTION_REQUIRED")
        engineer.get_by_test_id("support-form").locator("button[type=submit]").click()
        expect(engineer.get_by_test_id("case-state")).to_have_text(TEXT[language]["state"])
        case.refresh_from_db()
        assert case.state == Case.State.ACTION_REQUIRED
        assert (
            len(
                set(
                    case.events.filter(kind__in=["COMMENTED", "STATE_CHANGED"]).values_list(
                        "group", flat=True
                    )
                )
            )
            == 1
        )

        sign_in(agent, "agent@reseller.example.com")
        agent.goto(f"/cases/{case.number}/")
        expect(agent.get_by_test_id("timeline")).to_contain_text("Could you send a screenshot")
        agent.locator("#id_body").fill("Screenshot attached; the user is ceo@acme.example.")
        agent.locator("form.message-form button[type=submit]").click()
        expect(agent.get_by_test_id("case-state")).to_have_text(TEXT[language]["back"])

        engineer.goto("/support/")
        engineer.get_by_test_id("saved-view").get_by_role("link").click()
        first = engineer.locator("tr.queue-row").first
        expect(first).to_have_attribute("data-case", str(case.number))
        expect(first.get_by_test_id("next-reply")).to_have_attribute("data-next", "customer_replied")
        expect(first.get_by_test_id("next-reply")).to_contain_text(TEXT[language]["replied"])
        engineer.screenshot(path=f"test-artifacts/support-customer-replied-{language}.png", full_page=True)
    finally:
        engineer_ctx.close()
        agent_ctx.close()
