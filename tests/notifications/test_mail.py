"""The mail itself: HTML and text, in the case's language (English and Korean), subject
`[Case N] title`, a link to the case, the per-case reply address, and threading headers."""

import re
from html import unescape

import pytest
from django.conf import settings

from cases.models import Case, CaseEvent
from cases.services import (
    _event,
    case_assign,
    case_change_priority,
    case_close,
    case_comment_add,
    case_escalate,
    case_reopen,
    case_set_state,
    case_subscribers_set,
)
from notifications.addresses import (
    ReplyTarget,
    parse_reply_address,
    reply_address,
    reply_address_case_number,
    reply_token_valid,
    thread_id,
)
from notifications.mail import REPLY_MARKER, render_mail, render_message
from notifications.models import Notice, OutboxMessage
from notifications.selectors import reply_address_for


def walk_through_every_mail(w, file_case, *, language: str):
    """One case that makes every kind of mail; returns {notice: an outbox row}."""
    case = file_case(
        w.agent, w.acme, language=language, time_zone="Asia/Seoul", subscribers=["boss@acme.example"]
    )
    case_assign(user=w.engineer, case=case, assignee=w.engineer)
    case_subscribers_set(user=w.agent, case=case, add=["late@acme.example"])
    case_comment_add(user=w.engineer, case=case, body="Please send the headers.\n<script>alert(1)</script>")
    case_set_state(user=w.engineer, case=case, state="SOLUTION_PROVIDED")
    case_change_priority(user=w.acme_user, case=case, priority="P2")
    case_escalate(user=w.acme_user, case=case, reason="BUSINESS_IMPACT", justification="Payroll is blocked.")
    case_close(user=w.agent, case=case)
    case_reopen(user=w.acme_user, case=case)
    case_comment_add(user=w.acme_user, case=case, body="Here are the headers.")  # to the assignee
    # What the periodic jobs write (their rules are tested in test_jobs.py).
    _event(case, actor=None, kind=CaseEvent.Kind.FIRST_RESPONSE_BREACHED, field="first_response_breached_at")
    _event(case, actor=None, kind=CaseEvent.Kind.AUTO_CLOSE_REMINDER, field="reminder_sent_at")
    _event(
        case,
        actor=None,
        kind=CaseEvent.Kind.STATE_CHANGED,
        field="state",
        before="SOLUTION_PROVIDED",
        after="CLOSED",
    )
    rows = {}
    for row in OutboxMessage.objects.filter(case=case).select_related("case", "event").order_by("id"):
        rows.setdefault(row.notice, row)
    return case, rows


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_mail_renders_as_html_and_text_in_the_cases_language(w, file_case, language):
    case, rows = walk_through_every_mail(w, file_case, language=language)
    assert set(rows) == set(Notice.values) - {
        Notice.JOB_READY,
        Notice.CONSENT_OFF,
    }  # not about a case: tests/jobs, test_consent_off.py
    view, reply_note, prefix, marker = (
        ("케이스 보기", "이 메일에 답장하면", f"[케이스 {case.number}] ", "##- 이 줄 위에")
        if language == "ko"
        else ("View the case", "Reply to this mail", f"[Case {case.number}] ", REPLY_MARKER)
    )
    for notice, row in rows.items():
        message = render_message(row)
        html, mime = message.alternatives[0]
        assert mime == "text/html"
        assert message.subject.startswith(prefix) and message.subject.endswith(f" — {case.title}"), notice
        assert message.body.startswith(marker), notice
        assert f"{settings.SITE_URL}/cases/{case.number}/" in message.body, notice
        assert f'href="{settings.SITE_URL}/cases/{case.number}/"' in html, notice
        assert view in message.body and view in html, notice
        assert reply_note in message.body, notice
        assert f'<html lang="{language}">' in html, notice
        assert message.extra_headers["Content-Language"] == language
        assert message.reply_to == [
            reply_address_for(case=case, address=row.recipient_email, user=row.recipient_user)
        ]
        assert message.to == [row.recipient_email]


def test_korean_mail_speaks_korean_with_korean_labels_and_the_cases_time_zone(w, file_case):
    case, rows = walk_through_every_mail(w, file_case, language="ko")
    state = render_message(rows[Notice.STATE])
    assert "케이스 상태가 “신규”에서 “솔루션 제공됨”(으)로 변경되었습니다" in state.body
    reminder = render_message(rows[Notice.REMINDER])
    assert "자동으로 종료됩니다" in reminder.body
    assert "(Asia/Seoul)" in reminder.body
    reply = render_message(rows[Notice.REPLY])
    assert "지원팀의" in reply.body and "Please send the headers." in reply.body


def test_english_mail_says_what_happened(w, file_case):
    case, rows = walk_through_every_mail(w, file_case, language="en")
    expected = {
        Notice.FILED: "filed case",
        Notice.SHARED: "shared case",
        Notice.REPLY: "of the support team replied",
        Notice.STATE: "The state of the case changed from “New” to “Solution provided”",
        Notice.SEVERITY: "The severity of the case changed from “P3 – Medium impact” to “P2 – High impact”",
        Notice.ESCALATED: "Payroll is blocked.",
        Notice.CLOSED: "closed the case",
        Notice.REOPENED: "reopened the case",
        Notice.REMINDER: "will be closed automatically on",
        Notice.BREACH: "first-response target of this case (2 h)",
        Notice.AUTO_CLOSED: f"it waited {settings.CASE_AUTO_CLOSE_DAYS} days for a reply",
    }
    for notice, words in expected.items():
        assert words in render_message(rows[notice]).body, notice


def test_message_text_is_escaped_in_html_and_kept_in_text(w, file_case):
    _case, rows = walk_through_every_mail(w, file_case, language="en")
    message = render_message(rows[Notice.REPLY])
    assert "<script>alert(1)</script>" in message.body
    html = message.alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_each_recipient_is_told_why_they_get_the_mail(w, file_case):
    case, _rows = walk_through_every_mail(w, file_case, language="en")
    filed = OutboxMessage.objects.filter(case=case, notice=Notice.FILED)
    by_address = {row.recipient_email: render_message(row).body for row in filed}
    assert "because you filed this case" in by_address["agent@reseller.example.com"]
    assert "it does not give access to the case page" in by_address["boss@acme.example"]


def test_mails_about_one_case_thread_together(
    w, file_case, smtp_settings, django_capture_on_commit_callbacks
):
    sink = smtp_settings
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case(w.agent, w.acme)
    with django_capture_on_commit_callbacks(execute=True):
        case_comment_add(user=w.engineer, case=case, body="First answer.")
    with django_capture_on_commit_callbacks(execute=True):
        case_set_state(user=w.engineer, case=case, state="SOLUTION_PROVIDED")
    filed, reply, state = sink.to("agent@reseller.example.com")
    root = thread_id(case.number)
    assert filed["Message-ID"] == root and filed["In-Reply-To"] is None
    for later in (reply, state):
        assert later["In-Reply-To"] == root
        assert root in later["References"]
        assert later["Message-ID"] != root
    assert reply["Message-ID"] != state["Message-ID"]
    # Each subject says what happened (issue 13: three mails with one subject told nothing).
    assert [str(m["Subject"]).strip() for m in (filed, reply, state)] == [
        f"[Case {case.number}] Case filed — {case.title}",
        f"[Case {case.number}] New reply from support — {case.title}",
        f"[Case {case.number}] State: Solution provided — {case.title}",
    ]
    assert reply_address_case_number(str(reply["Reply-To"])) == case.number
    assert reply["Auto-Submitted"] == "auto-generated"
    assert reply.get_body(("html",)) is not None and reply.get_body(("plain",)) is not None


def test_a_retried_mail_keeps_its_message_id(w, file_case, smtp_settings, django_capture_on_commit_callbacks):
    from notifications.services import outbox_deliver

    smtp_settings.fail_next = 1
    with django_capture_on_commit_callbacks(execute=True):
        case = file_case(w.agent, w.acme)
    row = OutboxMessage.objects.get(case=case)
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    outbox_deliver(message_id=row.pk)
    assert smtp_settings.messages[0]["Message-ID"] == row.message_id


def test_the_subject_is_one_line_whatever_the_title(w, file_case):
    case, rows = walk_through_every_mail(w, file_case, language="en")
    row = rows[Notice.REPLY]
    row.case.title = "Mail\r\nBcc: victim@example.com delayed"
    assert (
        render_message(row).subject
        == f"[Case {case.number}] New reply from support — Mail Bcc: victim@example.com delayed"
    )


def test_reply_addresses_carry_a_token_only_the_portal_can_make(settings):
    epoch = "a@acme.example|a@acme.example"
    address = reply_address(number=40000123, kind="u", recipient_id=42, epoch=epoch)
    assert address.startswith("reply+40000123.u42.") and address.endswith("@portal.example")
    target = parse_reply_address(address.upper())
    assert target == parse_reply_address(address) and reply_token_valid(target, epoch=epoch)
    assert not reply_token_valid(target, epoch="a@acme.example|other@evil.example")
    for forged in (
        address.replace("40000123", "40000124"),  # another case
        address.replace(".u42.", ".u43."),  # another recipient
        address.replace(".u42.", ".s42."),  # another kind of recipient
    ):
        assert not reply_token_valid(parse_reply_address(forged), epoch=epoch)
    assert parse_reply_address("reply+40000123.0123456789ab@portal.example") is None  # the old per-case shape
    assert reply_address_case_number(address.replace("portal.example", "evil.example")) is None
    # After a key rotation the old addresses keep working from SECRET_KEY_FALLBACKS.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key"
    assert reply_token_valid(target, epoch=epoch)
    assert reply_address(number=40000123, kind="u", recipient_id=42, epoch=epoch) != address
    assert isinstance(target, ReplyTarget)


# Words that may stay in Latin letters in Korean mail: product and company names, the
# severity codes inside their labels, and the time zone's IANA name.
KOREAN_ALLOWED = {"Google", "Workspace", "Gmail", "Asia", "Seoul", "UTC", "KST", "P0", "P1", "P2", "P3", "P4"}


def _visible_text(html: str) -> str:
    html = re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_korean_mail_is_korean_from_subject_to_footer(w, file_case):
    """Issue 12: every mail type rendered in Korean, alone and collected into one mail,
    has no raw enum name and no English word outside the allow-list."""
    case, rows = walk_through_every_mail(w, file_case, language="ko")
    everything = list(OutboxMessage.objects.filter(case=case).select_related("case", "event").order_by("id"))
    user_text = [
        case.title,
        case.description,
        "Please send the headers.",
        "<script>alert(1)</script>",
        "Payroll is blocked.",
        "Here are the headers.",
    ]
    people = {u.display_name for u in (w.agent, w.acme_user, w.engineer)} | {case.customer.name}
    raw = set(Case.State.values) | set(Case.EscalationReason.values) | set(CaseEvent.Kind.values)
    raw |= set(Notice.values) | set(OutboxMessage.Reason.values) | {"PREMIUM", "ENHANCED", "STANDARD"}
    messages = [render_message(row) for row in rows.values()]
    by_address = {}
    for row in everything:
        by_address.setdefault(row.recipient_email, []).append(row)
    messages += [render_mail(group) for group in by_address.values()]  # every change in one mail
    for message in messages:
        for part in (message.subject, message.body, _visible_text(message.alternatives[0][0])):
            for text in user_text + sorted(people, key=len, reverse=True):
                part = part.replace(text, " ")
            part = re.sub(r"\S+@\S+|https?://\S+", " ", part)
            words = set(re.findall(r"[A-Za-z][A-Za-z0-9_]+", part))
            assert not words & raw, (message.extra_headers["X-Portal-Notice"], words & raw)
            assert words <= KOREAN_ALLOWED, (message.extra_headers["X-Portal-Notice"], words - KOREAN_ALLOWED)
        assert message.subject.startswith(f"[케이스 {case.number}] ")
        assert message.body.startswith("##- 이 줄 위에 답장을 작성하세요 -##")
        assert "리셀러 지원 포털" in message.body
