"""Reply by email (SPEC §6, R7): mail to a case's reply address becomes a comment when the
sender may comment — a portal user who can see the case, or a subscriber — with the quoted
earlier mail stripped and attachments kept under the upload rules; anything else is
refused and logged; auto-replies, bounces and loops are ignored."""

import io
import os
import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection

from cases.models import Case, Comment
from cases.services import case_close, case_set_state
from notifications import mailparse
from notifications.inbound_services import inbound_mail_receive
from notifications.listener import ReplyHandler, make_server
from notifications.models import InboundMail
from tests.cases.conftest import PNG
from tests.notifications.conftest import ROOT, free_port, reply_address_of, wait_until

SUBSCRIBER = "boss@acme.example"


def reply_mail(
    case,
    *,
    sender: str,
    text: str = "The headers are attached.\n\nOn Tue, 5 Mar 2024 at 10:00, Support <support@portal.example> wrote:\n> Please send the headers.\n",
    to: str | None = None,
    headers: dict | None = None,
    files: tuple = (),
    html: str | None = None,
    message_id: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Someone <{sender}>"
    # By default the sender's own reply address; a sender who has none (a stranger) uses
    # the subscriber's, as an attacker who saw that mail would.
    message["To"] = to or reply_address_of(case, sender) or reply_address_of(case, SUBSCRIBER)
    message["Subject"] = f"Re: [Case {case.number}] {case.title}"
    message["Message-ID"] = message_id or make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content, maintype, subtype in files:
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


@pytest.fixture
def shared_case(w, file_case):
    case = file_case(w.agent, w.acme, subscribers=[SUBSCRIBER])
    case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
    return case


def comments(case) -> list[Comment]:
    return list(Case.objects.get(pk=case.pk).comments.all())


# --------------------------------------------------------------------------- who may comment


def test_a_subscriber_without_an_account_replies_by_mail(shared_case):
    [result] = inbound_mail_receive(reply_mail(shared_case, sender=SUBSCRIBER))
    assert result.outcome == "ACCEPTED"
    [comment] = comments(shared_case)
    assert (comment.author, comment.author_email, comment.from_support) == (None, SUBSCRIBER, False)
    assert comment.body == "The headers are attached."  # the quoted earlier mail is gone
    # A customer-side reply hands the case back to support.
    assert Case.objects.get(pk=shared_case.pk).state == "IN_PROGRESS_GOOGLE_SUPPORT"
    assert InboundMail.objects.get(comment=comment).outcome == "ACCEPTED"


def test_a_portal_user_who_sees_the_case_replies_as_themselves(w, shared_case):
    inbound_mail_receive(reply_mail(shared_case, sender="user@acme.example"))
    [comment] = comments(shared_case)
    assert comment.author == w.acme_user


def test_a_reply_from_a_users_notification_address_counts_as_that_user(w, shared_case):
    agent = w.agent
    agent.notification_email = "agent.inbox@workspace.example"
    agent.save(update_fields=["notification_email"])
    inbound_mail_receive(reply_mail(shared_case, sender="Agent.Inbox@workspace.example"))
    assert comments(shared_case)[0].author == agent


def test_a_stranger_cannot_comment_and_the_refusal_is_logged(shared_case, caplog):
    [result] = inbound_mail_receive(reply_mail(shared_case, sender="mallory@evil.example"))
    assert (result.outcome, result.reason) == (
        "REFUSED",
        "the sender is not the recipient this reply address was issued to",
    )
    assert comments(shared_case) == []
    assert InboundMail.objects.get(sender="mallory@evil.example").outcome == "REFUSED"
    assert "mallory@evil.example" in caplog.text and "not the recipient" in caplog.text


def test_a_reseller_of_another_domain_cannot_comment_by_mail(shared_case):
    [result] = inbound_mail_receive(reply_mail(shared_case, sender="agent@reseller2.example.com"))
    assert result.outcome == "REFUSED" and comments(shared_case) == []


def test_a_subscriber_removed_from_the_case_can_no_longer_comment(w, shared_case):
    from cases.services import case_subscribers_set

    address = reply_address_of(shared_case, SUBSCRIBER)
    case_subscribers_set(user=w.agent, case=shared_case, remove=[SUBSCRIBER])
    [result] = inbound_mail_receive(reply_mail(shared_case, sender=SUBSCRIBER, to=address))
    assert result.outcome == "REFUSED" and comments(shared_case) == []


def test_a_closed_case_takes_no_reply_by_mail(w, shared_case):
    case_close(user=w.agent, case=shared_case)
    [result] = inbound_mail_receive(reply_mail(shared_case, sender=SUBSCRIBER))
    assert result.outcome == "REFUSED" and "Reopen the case" in result.reason
    assert comments(shared_case) == []


def test_a_forged_reply_address_is_refused(shared_case, caplog):
    real = reply_address_of(shared_case, SUBSCRIBER)
    forged = real.replace(f"+{shared_case.number}.", f"+{shared_case.number + 1}.")
    [result] = inbound_mail_receive(reply_mail(shared_case, sender=SUBSCRIBER, to=forged))
    assert result.outcome == "REFUSED"
    not_ours = real.split(".s")[0] + "@portal.example"  # the retired one-per-case shape
    assert inbound_mail_receive(reply_mail(shared_case, sender=SUBSCRIBER, to=not_ours)) == []
    assert "not sent to a valid reply address" in caplog.text
    assert comments(shared_case) == []


# --------------------------------------------------------------------------- machines


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"X-Portal-Case": "40000001"},  # our own notification, sent back to us: a loop
    ],
)
def test_auto_replies_and_loops_are_ignored(shared_case, headers):
    [result] = inbound_mail_receive(
        reply_mail(shared_case, sender=SUBSCRIBER, text="I am out of the office.", headers=headers)
    )
    assert result.outcome == "IGNORED"
    assert comments(shared_case) == []


def test_a_bounce_is_ignored(shared_case):
    bounce = EmailMessage()
    bounce["From"] = "Mail Delivery Subsystem <MAILER-DAEMON@mx.acme.example>"
    bounce["To"] = reply_address_of(shared_case, SUBSCRIBER)
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = make_msgid(domain="mx.acme.example")
    bounce.set_content("This is the mail system. Your message could not be delivered.")
    [result] = inbound_mail_receive(bounce.as_bytes(), envelope_sender="")
    assert result.outcome == "IGNORED" and comments(shared_case) == []


def test_the_same_mail_delivered_twice_makes_one_comment(shared_case):
    raw = reply_mail(shared_case, sender=SUBSCRIBER)
    [first] = inbound_mail_receive(raw)
    [second] = inbound_mail_receive(raw)
    assert (first.outcome, first.duplicate) == ("ACCEPTED", False)
    assert (second.outcome, second.duplicate, second.comment_id) == ("ACCEPTED", True, first.comment_id)
    assert len(comments(shared_case)) == 1


# --------------------------------------------------------------------------- content


def test_attachments_are_kept_under_the_upload_rules(shared_case):
    raw = reply_mail(
        shared_case,
        sender=SUBSCRIBER,
        files=[
            ("screen.png", PNG, "image", "png"),
            ("tool.exe", b"MZ\x90\x00" + b"\x00" * 60, "application", "octet-stream"),
        ],
    )
    [result] = inbound_mail_receive(raw)
    assert result.outcome == "ACCEPTED" and result.attachments == 1
    case = Case.objects.get(pk=shared_case.pk)
    [attachment] = case.attachments.all()
    assert (attachment.filename, attachment.mime_type, attachment.uploader) == (
        "screen.png",
        "image/png",
        None,
    )
    assert "tool.exe" in InboundMail.objects.get(comment_id=result.comment_id).reason


def test_an_html_only_reply_is_read_without_its_quote(shared_case):
    message = EmailMessage()
    message["From"] = SUBSCRIBER
    message["To"] = reply_address_of(shared_case, SUBSCRIBER)
    message["Subject"] = "Re: case"
    message["Message-ID"] = make_msgid(domain="client.example")
    message.set_content(
        "<div>It works again &amp; thanks!</div><div class='gmail_quote'>On Mon, Support wrote:"
        "<blockquote>Please try again.</blockquote></div>",
        subtype="html",
    )
    inbound_mail_receive(message.as_bytes())
    assert comments(shared_case)[0].body == "It works again & thanks!"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\n##- Please type your reply above this line -##\n\nSupport replied …", "Thanks!"),
        ("Fixed now.\n\nOn Tue, 5 Mar 2024 at 10:00, Support <s@p.example>\nwrote:\n> old", "Fixed now."),
        (
            "고맙습니다.\n\n2024년 3월 5일 (화) 오전 10:00, Support <s@p.example>님이 작성:\n> 이전 메일",
            "고맙습니다.",
        ),
        ("Done.\n\n-----Original Message-----\nFrom: Support", "Done."),
        ("Done.\n\nFrom: Support <s@p.example>\nSent: Tuesday, March 5, 2024 10:00\nTo: me", "Done."),
        ("See below.\n> quoted line\n> another", "See below."),
        ("Regards\n-- \nJane Doe\nAcme IT", "Regards"),
        ("Line one\n> a quote in the middle\nLine three", "Line one\n> a quote in the middle\nLine three"),
    ],
)
def test_the_quoted_earlier_mail_is_stripped(text, expected):
    assert mailparse.reply_text(text, max_length=12_800) == expected


def test_a_very_long_reply_is_cut_to_the_comment_limit():
    assert len(mailparse.reply_text("x" * 20_000, max_length=12_800)) == 12_800


# --------------------------------------------------------------------------- the two ways in


def test_receive_email_reads_one_message_from_standard_input(shared_case, monkeypatch, capsys):
    raw = reply_mail(shared_case, sender=SUBSCRIBER)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("receive_email")
    assert f"case {shared_case.number}: ACCEPTED" in capsys.readouterr().out
    assert len(comments(shared_case)) == 1


def test_receive_email_exits_67_for_mail_to_no_reply_address(shared_case, monkeypatch):
    raw = reply_mail(shared_case, sender=SUBSCRIBER, to="someone@portal.example")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    with pytest.raises(SystemExit) as exited:
        call_command("receive_email")
    assert exited.value.code == 67


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_the_listener_turns_a_reply_into_a_comment(committed_world, w, file_case, lmtp):
    case = file_case(w.agent, w.acme, subscribers=[SUBSCRIBER])
    port = free_port()
    controller = Controller(ReplyHandler(lmtp=lmtp), hostname="127.0.0.1", port=port)
    controller.factory = make_server(lmtp=lmtp)
    controller.start()
    try:
        client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port)
        with client:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail(SUBSCRIBER, ["nobody@portal.example"], b"Subject: x\r\n\r\nhello\r\n")
            refused = client.sendmail(
                SUBSCRIBER, [reply_address_of(case, SUBSCRIBER)], reply_mail(case, sender=SUBSCRIBER)
            )
        assert refused == {}
    finally:
        controller.stop()
    [comment] = comments(case)
    assert (comment.author_email, comment.body) == (SUBSCRIBER, "The headers are attached.")


def test_the_mail_listener_command_serves_lmtp(committed_world, w, file_case, tmp_path):
    case = file_case(w.agent, w.acme, subscribers=[SUBSCRIBER])
    port = free_port()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    log = tmp_path / "listener.log"
    listener = subprocess.Popen(
        [sys.executable, "manage.py", "mail_listener", "--lmtp", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: b"Listening for replies (LMTP)" in log.read_bytes(), timeout=30, message="the listener"
        )
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.sendmail(
                SUBSCRIBER, [reply_address_of(case, SUBSCRIBER)], reply_mail(case, sender=SUBSCRIBER)
            )
    finally:
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=10)
    assert b"Stopped." in log.read_bytes()
    assert [c.author_email for c in comments(case)] == [SUBSCRIBER]
