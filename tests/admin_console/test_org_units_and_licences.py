"""Org units (create, rename, automatic licensing) and licences (counts per kind, a
request for more that is stored and mailed to the operators after commit)."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.models import LicenceAssignment, LicencePool, LicenceRequest, LicenceSku, OrgUnit

pytestmark = pytest.mark.django_db


def unit_url(unit) -> str:
    return reverse("admin_console:org_unit", args=[unit.pk])


# --------------------------------------------------------------------------- org units


def test_org_unit_list_shows_the_own_domains_units_with_their_licensing(w, signed_in):
    OrgUnit.objects.create(domain=w.reseller3, name="Reseller3 only unit")
    page = signed_in(w.admin).get(reverse("admin_console:org_units")).content.decode()
    assert "Support staff" in page and "Sales" in page
    assert "Reseller3 only unit" not in page


def test_super_admin_creates_an_org_unit_in_the_own_domain(w, signed_in):
    response = signed_in(w.admin).post(
        reverse("admin_console:org_units"), {"name": "Partner desk", "auto_licensing": "on"}
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(name="Partner desk")
    assert unit.domain == w.reseller and unit.auto_licensing


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": ""}, "required"),
        ({"name": "   "}, "required"),
        ({"name": "x" * 121}, "at most 120"),
        ({"name": "support STAFF"}, "already exists"),
    ],
)
def test_bad_org_unit_input_gets_a_message_and_a_400(w, signed_in, data, message):
    before = OrgUnit.objects.count()
    response = signed_in(w.admin).post(reverse("admin_console:org_units"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert OrgUnit.objects.count() == before


def test_org_unit_is_renamed_and_a_clash_is_refused(w, signed_in):
    unit = OrgUnit.objects.get(domain=w.reseller, name="Sales")
    client = signed_in(w.admin)
    assert client.post(unit_url(unit), {"action": "rename", "name": "Field sales"}).status_code == 302
    unit.refresh_from_db()
    assert unit.name == "Field sales"
    clash = client.post(unit_url(unit), {"action": "rename", "name": "Support staff"})
    assert clash.status_code == 400 and "already exists" in clash.content.decode()
    empty = client.post(unit_url(unit), {"action": "rename", "name": ""})
    assert empty.status_code == 400
    unit.refresh_from_db()
    assert unit.name == "Field sales"


def test_automatic_licensing_is_toggled_and_applies_to_new_accounts(w, signed_in):
    unit = OrgUnit.objects.get(domain=w.reseller, name="Sales")
    client = signed_in(w.admin)
    response = client.post(unit_url(unit), {"action": "auto_licensing", "auto_licensing": "off"})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert not unit.auto_licensing
    created = client.post(
        reverse("admin_console:users"),
        {"email": "rep@reseller.example.com", "org_unit": unit.pk, "language": "en", "time_zone": "UTC"},
    )
    assert created.status_code == 302  # no confirmation needed any more
    assert set(
        LicenceAssignment.objects.filter(user__email="rep@reseller.example.com").values_list("sku", flat=True)
    ) == {LicenceSku.CLOUD_IDENTITY_FREE}
    client.post(unit_url(unit), {"action": "auto_licensing", "auto_licensing": "on"})
    unit.refresh_from_db()
    assert unit.auto_licensing


def test_bad_auto_licensing_value_is_a_400(w, signed_in):
    unit = OrgUnit.objects.get(domain=w.reseller, name="Sales")
    response = signed_in(w.admin).post(
        unit_url(unit), {"action": "auto_licensing", "auto_licensing": "maybe"}
    )
    assert response.status_code == 400
    unit.refresh_from_db()
    assert unit.auto_licensing


def test_another_domains_org_unit_is_not_found(w, signed_in):
    other = OrgUnit.objects.get(domain=w.reseller2, name="Sales")
    client = signed_in(w.admin)
    assert client.get(unit_url(other)).status_code == 404
    assert client.post(unit_url(other), {"action": "rename", "name": "Mine now"}).status_code == 404
    assert (
        client.post(unit_url(other), {"action": "auto_licensing", "auto_licensing": "off"}).status_code == 404
    )
    other.refresh_from_db()
    assert other.name == "Sales" and other.auto_licensing


# --------------------------------------------------------------------------- licences


def test_licence_counts_per_kind_are_the_own_domains(w, signed_in):
    page = signed_in(w.admin).get(reverse("admin_console:licences")).content.decode()
    used = LicenceAssignment.objects.filter(
        user__domain=w.reseller, sku=LicenceSku.CLOUD_IDENTITY_FREE
    ).count()
    assert used > 0
    assert (
        f'<tr data-sku="CLOUD_IDENTITY_FREE"><th scope="row">Cloud Identity Free</th><td>50</td><td>{used}</td><td>{50 - used}</td></tr>'
        in page
    )
    assert (
        '<tr data-sku="WORKSPACE"><th scope="row">Google Workspace</th><td>10</td><td>0</td><td>10</td></tr>'
        in page
    )


def test_super_admin_requests_more_licences_stored_and_mailed_after_commit(
    w, signed_in, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in(w.admin).post(
            reverse("admin_console:licences"),
            {"sku": "WORKSPACE", "quantity": "25", "note": "Sales team grows in March"},
        )
    assert response.status_code == 302
    request = LicenceRequest.objects.get(domain=w.reseller)
    assert (request.sku, request.quantity, request.requested_by) == ("WORKSPACE", 25, w.admin)
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == settings.OPERATOR_EMAILS
    assert "25" in message.subject and "reseller.example.com" in message.subject
    assert "Sales team grows in March" in message.body and "admin@reseller.example.com" in message.body
    page = signed_in(w.admin).get(reverse("admin_console:licences")).content.decode()
    assert "+25 Google Workspace" in page


def test_no_mail_leaves_before_the_request_is_committed(w, signed_in, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        signed_in(w.admin).post(reverse("admin_console:licences"), {"sku": "WORKSPACE", "quantity": "3"})
    assert len(callbacks) == 1 and mail.outbox == []


def test_a_mail_server_outage_does_not_lose_the_request_or_fail_the_page(
    w, signed_in, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(w.admin).post(
            reverse("admin_console:licences"), {"sku": "WORKSPACE", "quantity": "3"}
        )
    assert response.status_code == 302
    assert LicenceRequest.objects.filter(domain=w.reseller, quantity=3).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"sku": "WORKSPACE", "quantity": "0"},
        {"sku": "WORKSPACE", "quantity": "-5"},
        {"sku": "WORKSPACE", "quantity": "lots"},
        {"sku": "WORKSPACE", "quantity": "100001"},
        {"sku": "WORKSPACE", "quantity": ""},
        {"sku": "ENTERPRISE_PLUS", "quantity": "5"},
        {"sku": "WORKSPACE", "quantity": "5", "note": "n" * 2001},
    ],
)
def test_bad_licence_requests_get_a_message_and_a_400(w, signed_in, data):
    response = signed_in(w.admin).post(reverse("admin_console:licences"), data)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert not LicenceRequest.objects.exists()
    assert mail.outbox == []


def test_another_domains_requests_are_not_listed(w, signed_in):
    LicenceRequest.objects.create(domain=w.reseller2, sku="WORKSPACE", quantity=77, requested_by=w.alex2)
    page = signed_in(w.admin).get(reverse("admin_console:licences")).content.decode()
    assert "+77" not in page
    assert LicencePool.objects.filter(domain=w.reseller2).exists()
