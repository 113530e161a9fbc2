"""Reply by mail is authenticated (issue 16, finding 1): each recipient has a reply address
of their own; a mail is taken only from the recipient it was issued to, while they may
still comment; a forged `From:` or a failed DMARC stores nothing, and nothing that comes by
mail is ever stored as a support reply."""

import pytest

from accounts.models import User
from cases.models import Case, CaseEvent, Comment
from cases.services import case_set_state
from customers.services import customer_consent_set
from notifications.inbound_services import inbound_mail_receive
from notifications.models import InboundMail
from tests.notifications.conftest import reply_address_of
from tests.notifications.test_inbound import SUBSCRIBER, reply_mail
from tests.world import PERSONAS

# Everyone who gets mail about the case below, and who may reply.
RECIPIENTS = {
    "agent": "agent@reseller.example.com",
    "acme_user": "user@acme.example",
    "subscriber": SUBSCRIBER,
}


@pytest.fixture
def case(w, file_case):
    case = file_case(w.agent, w.acme, subscribers=[SUBSCRIBER])
    case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
    return case


def stored(case) -> tuple[int, int]:
    return Comment.objects.filter(case=case).count(), CaseEvent.objects.filter(case=case).count()


def test_every_recipient_has_a_reply_address_of_their_own(case):
    addresses = {name: reply_address_of(case, address) for name, address in RECIPIENTS.items()}
    assert None not in addresses.values() and len(set(addresses.values())) == len(addresses)


@pytest.mark.parametrize("target", sorted(RECIPIENTS))
@pytest.mark.parametrize("persona", sorted(PERSONAS) + ["subscriber", "stranger"])
def test_a_mail_from_anyone_else_to_a_recipients_address_is_refused_and_stores_nothing(case, target, persona):
    sender = {"subscriber": SUBSCRIBER, "stranger": "mallory@evil.example"}.get(persona) or PERSONAS[persona]
    if sender == RECIPIENTS[target]:
        pytest.skip("the recipient themselves")
    before = stored(case)
    [result] = inbound_mail_receive(
        reply_mail(case, sender=sender, to=reply_address_of(case, RECIPIENTS[target]))
    )
    assert result.outcome == "REFUSED", (persona, target)
    assert stored(case) == before
    assert Case.objects.get(pk=case.pk).state == "ACTION_REQUIRED"
    assert InboundMail.objects.get(sender=sender).outcome == "REFUSED"


@pytest.mark.parametrize("target", sorted(RECIPIENTS))
def test_the_recipient_the_address_was_issued_to_is_accepted(case, target):
    [result] = inbound_mail_receive(reply_mail(case, sender=RECIPIENTS[target]))
    assert result.outcome == "ACCEPTED"
    [comment] = Comment.objects.filter(case=case)
    assert comment.from_support is False
    assert (comment.author.email if comment.author else comment.author_email) == RECIPIENTS[target]


def test_a_support_engineers_from_never_makes_a_support_reply(case):
    for target in RECIPIENTS.values():
        inbound_mail_receive(
            reply_mail(case, sender="engineer@support.example", to=reply_address_of(case, target))
        )
    assert not Comment.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).first_response_at is None


def test_a_recipient_who_lost_access_is_refused(w, case):
    address = reply_address_of(case, "agent@reseller.example.com")
    customer_consent_set(actor=w.acme_admin, customer=w.acme, domain=w.reseller, support_cases=False)
    [result] = inbound_mail_receive(reply_mail(case, sender="agent@reseller.example.com", to=address))
    assert (result.outcome, result.reason) == ("REFUSED", "the recipient may no longer see this case")
    suspended = reply_address_of(case, "user@acme.example")
    User.objects.filter(email="user@acme.example").update(is_active=False)
    [result] = inbound_mail_receive(reply_mail(case, sender="user@acme.example", to=suspended))
    assert result.outcome == "REFUSED"
    assert not Comment.objects.filter(case=case).exists()


def test_an_address_issued_before_the_notification_address_changed_stops_working(w, case):
    old = reply_address_of(case, "agent@reseller.example.com")
    User.objects.filter(email="agent@reseller.example.com").update(notification_email="agent@outside.example")
    [result] = inbound_mail_receive(reply_mail(case, sender="agent@reseller.example.com", to=old))
    assert result.outcome == "REFUSED" and "not valid" in result.reason


def test_a_subscriber_removed_and_added_again_gets_a_new_address(w, case):
    from cases.services import case_subscribers_set

    old = reply_address_of(case, SUBSCRIBER)
    case_subscribers_set(user=w.agent, case=case, remove=[SUBSCRIBER])
    case_subscribers_set(user=w.agent, case=case, add=[SUBSCRIBER])
    assert reply_address_of(case, SUBSCRIBER) != old
    [result] = inbound_mail_receive(reply_mail(case, sender=SUBSCRIBER, to=old))
    assert result.outcome == "REFUSED"


@pytest.mark.parametrize(
    "results",
    [
        "mx.portal.example; dmarc=fail (p=reject) header.from=acme.example",
        "mx.portal.example; spf=fail smtp.mailfrom=acme.example",
        "mx.portal.example; dkim=fail header.d=acme.example",
    ],
)
def test_a_mail_the_mta_found_forged_is_refused(case, results):
    raw = reply_mail(case, sender=SUBSCRIBER, headers={"Authentication-Results": results})
    [result] = inbound_mail_receive(raw)
    assert result.outcome == "REFUSED" and "failed (Authentication-Results)" in result.reason
    assert not Comment.objects.filter(case=case).exists()


def test_a_mail_that_passed_authentication_is_accepted(case):
    results = "mx.portal.example; dkim=pass header.d=acme.example; spf=pass; dmarc=pass"
    [result] = inbound_mail_receive(
        reply_mail(case, sender=SUBSCRIBER, headers={"Authentication-Results": results})
    )
    assert result.outcome == "ACCEPTED"


def test_refused_mail_is_listed_for_operators_in_the_django_admin(case, admin_client):
    inbound_mail_receive(reply_mail(case, sender="mallory@evil.example"))
    page = admin_client.get("/django-admin/notifications/inboundmail/?outcome__exact=REFUSED")
    assert page.status_code == 200 and "mallory@evil.example" in page.content.decode()
