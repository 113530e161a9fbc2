"""Nothing a person types or attaches is lost (issue 11), in a real browser, in English and
Korean: a file chosen on Create support case survives the personal-data confirmation and
is attached; a file chosen with an over-long message on the case page survives too."""

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
SHOTS = "/tmp/shots-i11"

TEXT = {
    "en": {
        "create": "Create support case",
        "title": "Title",
        "description": "Case description",
        "category": "Category",
        "submit": "Submit",
        "send": "Send",
        "message": "Send a message to support",
        "remove": "Remove",
    },
    "ko": {
        "create": "지원 케이스 만들기",
        "title": "제목",
        "description": "케이스 설명",
        "category": "카테고리",
        "submit": "제출",
        "send": "보내기",
        "message": "지원팀에 메시지 보내기",
        "remove": "삭제",
    },
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_file_survives_the_personal_data_check_and_an_over_long_message(page, tmp_path, language):
    t = TEXT[language]
    User.objects.filter(email="agent@reseller.example.com").update(language=language)
    screen = tmp_path / "screen.png"
    screen.write_bytes(PNG)
    extra = tmp_path / "extra.png"
    extra.write_bytes(PNG)
    sign_in(page, "agent@reseller.example.com")
    page.goto("/cases/new/")
    page.get_by_role("link", name=re.compile("Acme Corp")).click()

    page.get_by_role("textbox", name=t["title"], exact=True).fill("Delayed mail to partners")
    page.get_by_role("combobox", name=t["category"], exact=True).select_option(index=1)
    page.get_by_role("textbox", name=t["description"]).fill(
        "Please call the admin on 010-1234-5678. Mail to kim@acme.example is delayed."
    )
    page.locator("#id_attachments").set_input_files([str(screen), str(extra)])
    page.get_by_role("button", name=t["submit"], exact=True).click()

    # The form comes back: the text, both files as attached, the summary focused at the
    # top, the confirmation beside Submit.
    expect(page.get_by_test_id("error-summary")).to_be_focused()
    expect(page.get_by_test_id("pending-file")).to_have_count(2)
    expect(page.get_by_role("textbox", name=t["description"])).to_have_value(re.compile("010-1234-5678"))
    page.screenshot(path=f"{SHOTS}/create-returned-{language}.png", full_page=True)
    page.get_by_test_id("pending-file").filter(has_text="extra.png").get_by_role("button").click()
    expect(page.get_by_test_id("pending-file")).to_have_count(1)
    expect(page.get_by_role("textbox", name=t["description"])).to_have_value(re.compile("kim@acme"))
    # Removing a file shows the form as it was typed, without the checks; submitting again
    # asks for the personal-data confirmation, next to Submit.
    page.get_by_role("button", name=t["submit"], exact=True).click()
    expect(page.get_by_test_id("pii-found")).to_be_visible()
    expect(page.get_by_test_id("pending-file")).to_have_count(1)
    page.locator("#id_pii_confirmed").check()
    page.get_by_role("button", name=t["submit"], exact=True).click()

    expect(page.get_by_test_id("attachment-link")).to_have_text("screen.png")
    page.screenshot(path=f"{SHOTS}/case-filed-{language}.png", full_page=True)

    # The case page: an over-long message with a file comes back with both.
    page.get_by_role("textbox", name=t["message"]).fill("z" * 12_801)
    page.locator("#id_files").set_input_files(str(extra))
    page.get_by_role("button", name=t["send"], exact=True).click()
    expect(page.get_by_test_id("error-summary")).to_be_focused()
    expect(page.get_by_test_id("pending-file")).to_have_count(1)
    expect(page.get_by_role("textbox", name=t["message"])).to_have_value("z" * 12_801)
    page.screenshot(path=f"{SHOTS}/message-returned-{language}.png", full_page=True)
    page.get_by_role("textbox", name=t["message"]).fill("Shorter, with the log.")
    page.get_by_role("button", name=t["send"], exact=True).click()
    expect(page.get_by_test_id("attachment-link")).to_have_count(2)
    expect(page.get_by_test_id("timeline")).to_contain_text("Shorter, with the log.")
