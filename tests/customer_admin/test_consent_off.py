"""Turning reseller access off is deliberate (a confirmation that says what it does) and
visible (the reseller domain's super admins get a mail through the outbox; the reseller's
pages of that customer say that the customer turned access off and when, with no Create
button). R9 still holds for the case addresses."""

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from customers.models import AccessGrant
from notifications.models import Notice, OutboxMessage

ACCESS = reverse("customer_admin:home")


def grant(customer, domain):
    return AccessGrant.objects.get(customer=customer, reseller_domain=domain)


def test_turning_off_asks_first_and_says_what_it_does(w, signed_in):
    client = signed_in(w.acme_admin)
    response = client.post(ACCESS, {"domain": w.reseller.pk, "support_cases": "off"})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="confirm-access-off"' in html
    assert "will no longer be able to file support cases" in html and 'name="confirm" value="yes"' in html
    assert grant(w.acme, w.reseller).support_cases  # nothing changed yet
    assert not OutboxMessage.objects.filter(notice=Notice.CONSENT_OFF).exists()


def test_confirmed_turning_off_mails_the_reseller_super_admins_through_the_outbox(w, signed_in):
    client = signed_in(w.acme_admin)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(ACCESS, {"domain": w.reseller.pk, "support_cases": "off", "confirm": "yes"})
    assert response.status_code == 302 and not grant(w.acme, w.reseller).support_cases
    rows = OutboxMessage.objects.filter(notice=Notice.CONSENT_OFF)
    assert {row.recipient_user for row in rows} == {w.admin}  # the super admin, not the agent
    sent = [m for m in mail.outbox if m.extra_headers.get("X-Portal-Notice") == "consent_off"]
    assert len(sent) == 1 and sent[0].to == [w.admin.mail_address]
    assert "Acme" in sent[0].subject and "reseller.example.com" in sent[0].body
    assert ("turned off" in sent[0].subject) or ("사용 중지" in sent[0].subject)  # in the admin's language
    assert rows.get().status == OutboxMessage.Status.SENT
    # turning it off again (already off) sends nothing more
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(ACCESS, {"domain": w.reseller.pk, "support_cases": "off", "confirm": "yes"})
    assert OutboxMessage.objects.filter(notice=Notice.CONSENT_OFF).count() == 1


def test_reseller_pages_say_the_customer_turned_access_off_and_when(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    signed_in(w.acme_admin).post(ACCESS, {"domain": w.reseller.pk, "support_cases": "off", "confirm": "yes"})
    client = signed_in(w.agent)
    page = client.get(reverse("customers:detail", args=[w.acme.pk])).content.decode()
    assert 'data-testid="access-off"' in page and "turned off your domain's access" in page
    assert f"{reverse('cases:create')}?customer={w.acme.pk}" not in page  # no Create button
    assert "There are no cases yet" not in page
    listing = client.get(reverse("cases:list"), {"customer": w.acme.pk}).content.decode()
    assert 'data-testid="access-off"' in listing and "No case matches" not in listing
    # R9: the case address answers like a missing case
    assert client.get(reverse("cases:detail", args=[case.number])).status_code == 404
