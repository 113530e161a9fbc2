"""Nothing a person types or attaches is lost: files chosen on a form that comes back stay
attached (as pending uploads of that person) with a remove button, typed text comes back,
the problems are summarised at the top; every bound the database has is checked first."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Attachment, Case, CaseSubscriber, Comment, PendingUpload
from cases.selectors import pending_uploads_of
from tests.cases.conftest import PNG
from tests.cases.test_views import post_case


def pending_ids(response) -> list[str]:
    return re.findall(r'name="pending" value="([0-9a-f-]{36})"', response.content.decode())


def png(name="screen.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def test_a_file_survives_the_personal_data_confirmation_and_is_attached(w, signed_in):
    client = signed_in(w.agent)
    before = Case.objects.count()
    response = post_case(
        client,
        w.acme,
        description="Write to kim@acme.example about it.",
        attachments=[png()],
        request_key="r1",
    )
    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="pii-found"' in html
    assert "Write to kim@acme.example about it." in html  # typed text comes back
    assert 'data-testid="pending-file"' in html and "screen.png" in html
    assert "data-error-summary" in html and 'href="#id_pii_confirmed"' in html
    # the confirmation sits next to the Submit button
    assert html.index('data-testid="pii-found"') > html.index('id="step-language"')
    ids = pending_ids(response)
    assert len(ids) == 1 and Case.objects.count() == before
    response = post_case(
        client,
        w.acme,
        description="Write to kim@acme.example about it.",
        pending=ids,
        pii_confirmed="on",
        request_key="r1",
    )
    assert response.status_code == 302
    case = Case.objects.order_by("-id").first()
    (attachment,) = case.attachments.all()
    assert attachment.filename == "screen.png" and attachment.file.read() == PNG
    assert not PendingUpload.objects.filter(pk=ids[0]).exists()


def test_a_file_survives_any_error_and_the_summary_links_each_field(w, signed_in):
    client = signed_in(w.agent)
    response = post_case(client, w.acme, title="", description="x" * 12_801, attachments=[png("a.png")])
    html = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_title"' in html and 'href="#id_description"' in html
    assert "x" * 12_801 in html  # the over-long text comes back to be shortened
    assert len(pending_ids(response)) == 1


def test_the_remove_button_drops_one_file_and_keeps_the_rest(w, signed_in):
    client = signed_in(w.agent)
    first = post_case(client, w.acme, title="", attachments=[png("a.png"), png("b.png")])
    ids = pending_ids(first)
    assert len(ids) == 2
    response = post_case(client, w.acme, title="Typed title", pending=ids, remove_pending=ids[0])
    html = response.content.decode()
    assert response.status_code == 200 and pending_ids(response) == [ids[1]]
    assert "Typed title" in html and "data-error-summary" not in html
    assert not PendingUpload.objects.filter(pk=ids[0]).exists()


def test_a_refused_file_is_named_at_the_field_and_the_good_one_stays(w, signed_in):
    client = signed_in(w.agent)
    exe = SimpleUploadedFile("tool.exe", b"MZ" + b"\x00" * 64)
    response = post_case(client, w.acme, attachments=[png(), exe])
    html = response.content.decode()
    assert response.status_code == 400 and "tool.exe" in html and 'href="#id_attachments"' in html
    assert len(pending_ids(response)) == 1


def test_pending_uploads_are_never_anyone_elses(w, signed_in):
    other = services.pending_upload_create(user=w.agent2, file=png(), filename="secret.png")
    client = signed_in(w.agent)
    before = Case.objects.count()
    response = post_case(client, w.acme, pending=[str(other.pk)])
    assert response.status_code == 400 and "no longer available" in response.content.decode()
    assert Case.objects.count() == before and PendingUpload.objects.filter(pk=other.pk).exists()
    assert not pending_uploads_of(w.agent).filter(pk=other.pk).exists()
    # tampered ids answer 400 with a message, never a 500
    assert post_case(client, w.acme, pending=["not-a-uuid"]).status_code == 400
    assert post_case(client, w.acme, remove_pending="../../x").status_code == 200


def test_pending_uploads_expire_after_a_day_with_their_files(w):
    old = services.pending_upload_create(user=w.agent, file=png(), filename="old.png")
    fresh = services.pending_upload_create(user=w.agent, file=png(), filename="new.png")
    PendingUpload.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    path = old.file.path
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.pending_uploads_expire() == 1
    assert not PendingUpload.objects.filter(pk=old.pk).exists()
    assert PendingUpload.objects.filter(pk=fresh.pk).exists()
    import os

    assert not os.path.exists(path)
    # an expired upload can no longer be attached
    assert not pending_uploads_of(w.agent).filter(pk=old.pk).exists()


# --------------------------------------------------------------------------- the case page


def test_an_over_long_message_comes_back_with_its_text_and_its_file(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    client = signed_in(w.agent)
    url = reverse("cases:comment", args=[case.number])
    response = client.post(url, {"body": "y" * 12_801, "files": [png()]})
    html = response.content.decode()
    assert response.status_code == 400
    assert "y" * 12_801 in html and 'href="#id_body"' in html and "Message:" in html
    ids = pending_ids(response)
    assert len(ids) == 1 and case.attachments.count() == 0
    response = client.post(url, {"body": "Shorter now.", "pending": ids})
    assert response.status_code == 302
    assert case.attachments.get().filename == "screen.png"
    assert Comment.objects.filter(case=case, body="Shorter now.").exists()


def test_files_alone_are_attached_from_the_message_form(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    response = signed_in(w.agent).post(reverse("cases:comment", args=[case.number]), {"files": [png()]})
    assert response.status_code == 302 and case.attachments.count() == 1
    assert not Comment.objects.filter(case=case).exists()


def test_an_empty_message_without_files_says_so(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    response = signed_in(w.agent).post(reverse("cases:comment", args=[case.number]), {"body": " "})
    assert response.status_code == 400 and "Write a message or attach a file." in response.content.decode()


# --------------------------------------------------------------------------- bounds


LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example"  # 255+ characters, valid otherwise


def test_an_address_over_254_characters_is_refused_with_the_same_message_everywhere(w, signed_in, file_case):
    assert len(LONG_EMAIL) > 254
    case = file_case(w.agent, w.acme)
    response = signed_in(w.agent).post(reverse("cases:share", args=[case.number]), {"add": LONG_EMAIL})
    assert response.status_code == 400
    message = "too long: an email address has at most 254 characters"
    assert message in response.content.decode()
    assert LONG_EMAIL in response.content.decode()  # the typed text comes back
    from portal.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.case_subscribers_set(user=w.agent, case=case, add=[LONG_EMAIL])
    assert message in str(refused.value.message)
    assert not CaseSubscriber.objects.filter(case=case).exists()


@pytest.mark.parametrize("version", ["abc", "1.5", "-1", "99999999999999999999", "²"])
@pytest.mark.parametrize("action", ["close", "reopen", "severity", "escalate"])
def test_a_tampered_version_is_a_400_with_a_message(w, signed_in, file_case, action, version):
    case = file_case(w.acme_admin, w.acme)
    if action == "reopen":
        services.case_close(user=w.acme_admin, case=case)
    response = signed_in(w.acme_admin).post(
        reverse(f"cases:{action}", args=[case.number]),
        {"version": version, "priority": "P1", "reason": "BUSINESS_IMPACT", "justification": "x"},
    )
    assert response.status_code == 400
    assert "Reload the page and try again." in response.content.decode()


@pytest.mark.parametrize(
    "field, value",
    [("request_key", "k" * 65), ("follow_up_of", "abc"), ("follow_up_of", "²"), ("customer", "²")],
)
def test_tampered_hidden_fields_of_create_are_4xx(w, signed_in, field, value):
    before = Case.objects.count()
    client = signed_in(w.agent)
    if field == "customer":
        response = client.post(reverse("cases:create"), {"customer": value, "title": "t"})
    else:
        response = post_case(client, w.acme, **{field: value})
    assert 400 <= response.status_code < 500
    assert Case.objects.count() == before


def test_attachments_from_the_api_and_the_page_agree(w):
    assert (
        Attachment._meta.get_field("filename").max_length
        == PendingUpload._meta.get_field("filename").max_length
    )


def test_a_closed_case_keeps_its_title_as_the_service_says(w, file_case):
    from portal.errors import InvalidTransition

    case = file_case(w.agent, w.acme)
    services.case_close(user=w.agent, case=case)
    with pytest.raises(InvalidTransition):
        services.case_rename(user=w.agent, case=case, title="Renamed after closing")
    case.refresh_from_db()
    assert case.title != "Renamed after closing"
    services.case_reopen(user=w.agent, case=case)
    assert services.case_rename(user=w.agent, case=case, title="Renamed").title == "Renamed"


def test_the_message_id_the_category_asks_for_is_not_taken_for_personal_data(w, signed_in):
    leaf = w.leaf("Gmail > Email delivery > Messages delayed")
    assert leaf.questions[0]["format"] == "message_id"
    client = signed_in(w.agent)
    response = post_case(
        client,
        w.acme,
        classification=leaf.pk,
        description="Mail to partners is delayed by two hours.",
        answer_0="<CAF1x2y3z4=ABCdef5678@mail.gmail.com>",
        request_key="mid",
    )
    assert response.status_code == 302
    # the same text in the description is still checked
    response = post_case(
        client,
        w.acme,
        classification=leaf.pk,
        description="Call the admin on 010-1234-5678.",
        request_key="mid2",
    )
    assert response.status_code == 400 and 'data-testid="pii-found"' in response.content.decode()
