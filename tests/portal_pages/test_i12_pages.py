"""Issue 12: error pages in the layout and the user's language, the personal settings
page and the mails it turns off, dates by each language's rules, labels instead of codes,
titles, and buttons only where the persona may go."""

import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone, translation

from cases.models import Case
from cases.selectors import case_visible_to
from cases.services import case_set_state
from notifications.models import Notice, OutboxMessage
from portal.when import format_when, zone_name


def korean(user):
    return speaking(user, "ko")


def english(user):
    return speaking(user, "en")


def speaking(user, language):
    user.language = language
    user.save(update_fields=["language"])
    return user


# --------------------------------------------------------------------------- error pages


def test_missing_case_is_the_product_404_in_korean(w, client):
    client.force_login(korean(w.agent))
    response = client.get("/cases/99999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="topbar"' in html and 'data-testid="error-page"' in html
    assert '<html lang="ko">' in html
    assert "페이지를 찾을 수 없습니다" in html
    assert 'href="/"' in html  # a way back


def test_forbidden_case_is_the_same_404_as_a_missing_one(w, client):
    hidden = Case.objects.exclude(pk__in=case_visible_to(w.agent)).first()
    assert hidden is not None
    client.force_login(english(w.agent))
    missing = client.get("/cases/99999999/")
    forbidden = client.get(f"/cases/{hidden.number}/")
    assert forbidden.status_code == missing.status_code == 404
    strip = lambda html: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|/cases/\d+/', "", html)  # noqa: E731
    assert strip(forbidden.content.decode()) == strip(missing.content.decode())


def test_csrf_failure_is_explained_in_korean_in_the_layout(w):
    client = Client(enforce_csrf_checks=True)
    client.force_login(korean(w.agent))
    response = client.post("/settings/", {"language": "en", "time_zone": "UTC"})
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="topbar"' in html and "양식이 만료되었습니다" in html
    w.agent.refresh_from_db()
    assert w.agent.language == "ko"  # nothing changed


@override_settings(ROOT_URLCONF="tests.portal_pages.boom_urls", DEBUG=False)
def test_forced_500_is_the_product_page_in_korean(w):
    client = Client(raise_request_exception=False)
    client.force_login(korean(w.agent))
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'class="topbar"' in html and 'data-status="500"' in html
    assert "문제가 발생했습니다" in html


# --------------------------------------------------------------------------- settings


def test_settings_page_saves_language_zone_and_mails(w, client):
    client.force_login(english(w.agent))
    page = client.get("/settings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert w.agent.mail_address in html and "super admin" in html
    assert 'href="/settings/tokens/"' in html
    wanted = [n for n in Notice.values if n != Notice.STATE]
    response = client.post(
        "/settings/", {"language": "ko", "time_zone": "Asia/Seoul", "wanted_notices": wanted}
    )
    assert response.status_code == 302
    agent = w.agent
    assert (agent.language, agent.time_zone, agent.muted_notices) == ("ko", "Asia/Seoul", [Notice.STATE])
    assert "설정" in client.get("/settings/").content.decode()


def test_settings_refuses_an_unknown_time_zone_at_the_field(w, client):
    client.force_login(english(w.agent))
    response = client.post("/settings/", {"language": "en", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    assert w.agent.time_zone != "Mars/Olympus"


def test_tokens_page_still_works(w, client):
    client.force_login(english(w.agent))
    assert client.get("/settings/tokens/").status_code == 200


def test_a_muted_kind_of_mail_is_not_written_for_that_person(
    w, file_case, django_capture_on_commit_callbacks
):
    case = file_case(w.agent, w.acme)
    agent = w.agent
    agent.muted_notices = [Notice.STATE]
    agent.save(update_fields=["muted_notices"])
    case_set_state(user=w.engineer, case=case, state=Case.State.IN_PROGRESS_GOOGLE_SUPPORT)
    state_rows = OutboxMessage.objects.filter(case=case, notice=Notice.STATE)
    assert agent.mail_address not in set(state_rows.values_list("recipient_email", flat=True))
    # Other mails still come.
    agent.muted_notices = []
    agent.save(update_fields=["muted_notices"])
    case_set_state(user=w.engineer, case=case, state=Case.State.ACTION_REQUIRED)
    assert OutboxMessage.objects.filter(
        case=case, notice=Notice.STATE, recipient_email=agent.mail_address
    ).exists()


# --------------------------------------------------------------------------- dates


def test_dates_follow_each_language_with_the_zone():
    at = datetime(2026, 12, 2, 5, 25, tzinfo=zoneinfo.ZoneInfo("UTC"))
    with timezone.override(zoneinfo.ZoneInfo("Asia/Seoul")):
        with translation.override("ko"):
            assert format_when(at) == "2026. 12. 2. 오후 2:25 KST"
            assert format_when(at, "long") == "2026년 12월 2일 수요일 오후 2:25 KST"
        with translation.override("en"):
            assert format_when(at) == "Dec 2, 2026, 2:25 PM KST"
    with timezone.override(zoneinfo.ZoneInfo("Asia/Bangkok")):
        assert zone_name(timezone.localtime(at)) == "UTC+7"


def test_relative_times_in_both_languages():
    three_hours_ago = timezone.now() - timedelta(hours=3, minutes=1)
    with translation.override("ko"):
        assert format_when(three_hours_ago, "relative") == "3시간 전"
    with translation.override("en"):
        assert format_when(three_hours_ago, "relative") == "3\xa0hours ago"


# --------------------------------------------------------------------------- words and buttons


def test_history_shows_state_labels_not_codes(w, client, file_case):
    case = file_case(w.agent, w.acme)
    case_set_state(user=w.engineer, case=case, state=Case.State.IN_PROGRESS_GOOGLE_SUPPORT)
    case_set_state(user=w.engineer, case=case, state=Case.State.ACTION_REQUIRED)
    client.force_login(english(w.agent))
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "In progress (support) → Action required" in html
    assert "IN_PROGRESS_GOOGLE_SUPPORT →" not in html
    client.force_login(korean(w.agent))
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "ACTION_REQUIRED" not in re.sub(r'class="[^"]*"|data-[a-z-]+="[^"]*"', "", html)


def test_tier_badges_are_korean(w, client):
    client.force_login(korean(w.agent))
    html = client.get("/customers/").content.decode()
    assert "프리미엄" in html or "표준" in html or "고급" in html
    assert not re.search(r">\s*(Premium|Standard|Enhanced)\s*<", html)


def test_titles_are_separated(w, client):
    client.force_login(english(w.agent))
    # Each title names the domain the account acts for (issue 11).
    assert (
        "<title>Home · reseller.example.com · Reseller Support Portal</title>"
        in client.get("/").content.decode()
    )
    assert (
        "<title>My cases · reseller.example.com · Reseller Support Portal</title>"
        in client.get("/cases/").content.decode()
    )


def test_support_engineers_are_not_offered_create_support_case(w, client):
    client.force_login(english(w.engineer))
    for url in ("/cases/", f"/customers/{w.acme.pk}/"):
        html = client.get(url).content.decode()
        assert 'href="/cases/new/' not in html, url
    client.force_login(english(w.agent))
    assert 'href="/cases/new/' in client.get("/cases/").content.decode()


def test_escalated_filter_defaults_to_any(w, client):
    client.force_login(english(w.agent))
    html = client.get("/cases/").content.decode()
    assert re.search(r'<option value="" selected>Any</option>', html)
    assert ">Unknown<" not in html


def test_paperclip_is_an_inline_svg(w, client, file_case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.services import attachment_add

    case = file_case(w.agent, w.acme)
    attachment_add(user=w.agent, case=case, file=SimpleUploadedFile("a.txt", b"hello"), filename="a.txt")
    client.force_login(english(w.agent))
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert "📎" not in html and "<svg" in html


pytestmark = pytest.mark.django_db
