"""R11 (SPEC §3): internal notes are seen by the support organisation alone. A unique
word written in a note is found by support and by nobody else: not in any page, history,
search, count, CSV, API answer or mail that a reseller or customer persona can reach.
The routes are walked from the URL configuration itself, so a new page is covered too."""

import re

import pytest
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.services import api_token_create
from cases.models import Attachment, Comment
from cases.services import case_bulk_update, case_comment_add, case_note_add, case_support_update
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver

SENTINEL = "xylophonequartz"
# Searches use the note's word by its prefix (the search matches prefixes), so that a page
# echoing the search box never contains the whole word by itself.
PREFIX = SENTINEL[:9]
CUSTOMER_SIDE = ["agent", "admin", "viewer", "alex", "acme_admin", "acme_user", "agent2", "umbrella_admin"]
SKIP_PREFIXES = ("accounts/", "django-admin", "language/", "supportcenter", "healthz")


def get_routes(patterns=None, prefix=""):
    """Every plain (non-regex) route of the site, as (path template, converters)."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from get_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if not route.startswith("^") and "^" not in route:
                yield route


@pytest.fixture
def noted_case(w, file_case, django_capture_on_commit_callbacks):
    """An Acme case (seen by agent and Acme's users) with a message, an attachment and
    an internal note carrying the sentinel, also written in one submit and in bulk."""
    case = file_case(w.agent, w.acme, title="Calendar sync fails")
    case_comment_add(user=w.engineer, case=case, body="Public answer from support.")
    Attachment.objects.create(case=case, filename="log.txt", mime_type="text/plain", size=1, sha256="0" * 64)
    with django_capture_on_commit_callbacks(execute=True):
        note = case_note_add(
            user=w.engineer, case=case, body=f"Customer is difficult {SENTINEL} — be careful"
        )
        case_support_update(
            user=w.engineer, case=case, body=f"Second note {SENTINEL}", internal=True, priority="P2"
        )
        case_bulk_update(user=w.engineer, case_ids=[case.pk], action="note", body=f"Bulk {SENTINEL}")
    case.refresh_from_db()
    return case, note


def fill(route: str, *, case, note, w, user) -> str:
    values = {
        "number": case.number,
        "attachment_id": case.attachments.first().pk,
        "customer_id": w.acme.pk,
        "user_id": user.pk,
        "unit_id": user.org_unit_id or 0,
        "role_id": 1,
        "token_id": 1,
        "view_id": 1,
        "reply_id": 1,
        "job_id": "00000000-0000-4000-8000-000000000000",
    }
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


def test_support_finds_the_note(w, signed_in, noted_case):
    case, note = noted_case
    client = signed_in(w.engineer)
    assert client.get(f"/cases/{case.number}/").content.decode().count(SENTINEL) == 3
    token = api_token_create(user=w.engineer, name="r11")
    api = client.get(
        f"/v2/organizations/{w.acme.pk}/cases/{case.number}/comments", HTTP_AUTHORIZATION=f"Bearer {token}"
    ).content.decode()
    assert SENTINEL in api


@pytest.mark.parametrize("persona", CUSTOMER_SIDE)
def test_no_customer_side_route_shows_the_note(w, signed_in, noted_case, persona):
    case, note = noted_case
    user = getattr(w, persona)
    client = signed_in(user)
    routes = [r for r in get_routes() if not r.startswith(SKIP_PREFIXES)]
    assert len(routes) > 20
    checked = 0
    for route in routes:
        path = fill(route, case=case, note=note, w=w, user=user)
        for query in ("", f"?q={PREFIX}", f"?q={PREFIX}&state=OPEN&state=CLOSED"):
            response = client.get(path + query)
            body = b"".join(response) if response.streaming else response.content
            assert SENTINEL.encode() not in body, path + query
            checked += 1
    assert checked > 60
    # A search for the note's word finds nothing, in any state count.
    if client.get("/cases/").status_code != 200:
        return  # no case list for this persona (e.g. customers only): nothing more to count
    listing = client.get(f"/cases/?q={PREFIX}").content.decode()
    assert f'data-case="{case.number}"' not in listing
    tabs = client.get(f"/cases/?q={PREFIX}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="state-tabs")
    counts = re.findall(r"data-state-count=\"\w+\">(\d+)", tabs.content.decode())
    assert len(counts) == 5 and set(counts) == {"0"}
    if persona in ("agent", "acme_user", "acme_admin"):  # they see the case: search reaches its messages
        assert f'data-case="{case.number}"' in client.get("/cases/?q=Public+answer").content.decode()


@pytest.mark.parametrize("persona", ["agent", "acme_user"])
def test_no_api_answer_shows_the_note(w, noted_case, client, persona):
    case, note = noted_case
    token = api_token_create(user=getattr(w, persona), name="r11")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    base = f"/v2/organizations/{w.acme.pk}"
    for url in (
        f"{base}/cases",
        "/v2/organizations/-/cases",
        f"{base}/cases:search?query={PREFIX}",
        f'{base}/cases:search?query="{SENTINEL}"',
        f"{base}/cases/{case.number}",
        f"{base}/cases/{case.number}/comments",
        f"{base}/cases/{case.number}/comments?pageSize=100",
        f"{base}/cases/{case.number}/attachments",
    ):
        response = client.get(url, **auth)
        assert response.status_code == 200, url
        assert SENTINEL not in response.content.decode(), url
    assert client.get(f"{base}/cases/{case.number}/comments/{note.pk}", **auth).status_code == 404
    public = Comment.objects.filter(case=case, internal=False).first()
    assert client.get(f"{base}/cases/{case.number}/comments/{public.pk}", **auth).status_code == 200


def test_notes_never_make_mail_and_no_mail_carries_them(w, noted_case):
    case, note = noted_case
    note_events = case.events.filter(kind="NOTE_ADDED")
    assert note_events.count() == 3
    assert not OutboxMessage.objects.filter(event__in=note_events).exists()
    mail.outbox.clear()
    for row in OutboxMessage.objects.filter(case=case):
        outbox_deliver(message_id=row.pk)
    assert mail.outbox, "the other changes of the case did send mail"
    for message in mail.outbox:
        text = (
            message.subject + message.body + "".join(str(a[0]) for a in getattr(message, "alternatives", []))
        )
        assert SENTINEL not in text


def test_notes_leave_the_customer_visible_case_untouched(w, file_case):
    case = file_case(w.agent, w.acme)
    before = (case.version, case.updated_at)
    case_note_add(user=w.engineer, case=case, body="Only for us")
    case.refresh_from_db()
    assert (case.version, case.updated_at) == before
