"""The sales-console customer records: the reseller super admin keeps the address and
contact of the customers the domain is the reseller of record for, and nothing else."""

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.services import support_partner_add

pytestmark = pytest.mark.django_db

VALID = {
    "address_line": "1 Gangnam-daero",
    "city": "Seoul",
    "postal_code": "06000",
    "country_code": "kr",
    "contact_name": "Ada Han",
    "contact_email": "Ada.Han@Acme.example",
    "contact_phone": "+82 2 555 0199",
}


def record_url(customer) -> str:
    return reverse("admin_console:customer", args=[customer.pk])


def test_records_list_the_customers_the_domain_is_reseller_of_record_for(w, signed_in):
    support_partner_add(actor=w.initech_admin, customer=w.initech, domain=w.reseller)
    page = signed_in(w.admin).get(reverse("admin_console:customers")).content.decode()
    assert "Acme Corp" in page and "Globex" in page and "Umbrella" in page
    assert "Initech" not in page  # a support partner does not keep the record
    assert "Hooli" not in page


def test_super_admin_updates_a_customer_record(w, signed_in):
    response = signed_in(w.admin).post(record_url(w.acme), VALID)
    assert response.status_code == 302 and response["Location"] == record_url(w.acme)
    acme = Customer.objects.get(pk=w.acme.pk)
    assert acme.address_line == "1 Gangnam-daero" and acme.country_code == "KR"
    assert acme.contact_email == "ada.han@acme.example" and acme.contact_phone == "+82 2 555 0199"


@pytest.mark.parametrize(
    "field, value",
    [
        ("contact_email", "not-an-address"),
        ("country_code", "Korea"),
        ("country_code", "K1"),
        ("contact_phone", "call me maybe"),
        ("address_line", "a" * 301),
        ("city", "c" * 101),
        ("postal_code", "p" * 21),
        ("contact_name", "n" * 201),
    ],
)
def test_bad_record_input_gets_a_message_and_a_400(w, signed_in, field, value):
    before = Customer.objects.get(pk=w.acme.pk)
    response = signed_in(w.admin).post(record_url(w.acme), {**VALID, field: value})
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert getattr(Customer.objects.get(pk=w.acme.pk), field) == getattr(before, field)


@pytest.mark.parametrize("customer", ["initech", "hooli"])
def test_another_domains_customer_record_is_not_found(w, signed_in, customer):
    target = getattr(w, customer)
    client = signed_in(w.admin)
    assert client.get(record_url(target)).status_code == 404
    assert client.post(record_url(target), VALID).status_code == 404
    assert Customer.objects.get(pk=target.pk).contact_email == target.contact_email


def test_a_support_partners_super_admin_cannot_edit_the_record(w, signed_in):
    support_partner_add(actor=w.acme_admin, customer=w.acme, domain=w.reseller3)
    client = signed_in(w.admin3)
    assert client.get(record_url(w.acme)).status_code == 404
    assert client.post(record_url(w.acme), VALID).status_code == 404


def test_agents_cannot_edit_customer_records(w, signed_in):
    response = signed_in(w.agent).post(record_url(w.acme), VALID)
    assert response.status_code == 403
    assert Customer.objects.get(pk=w.acme.pk).contact_phone != VALID["contact_phone"]
