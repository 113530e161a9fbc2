"""Writes about customers: who manages or supports them, and their consent. Relationship
rows are never rewritten: a change ends the active row and starts a new one."""

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Domain, User
from accounts.selectors import user_is_super_admin
from customers.admin_selectors import customer_record_editable_by
from customers.models import AccessGrant, AccessGrantChange, Customer, Relationship
from portal.errors import InvalidInput, NotFound, PermissionRefused
from portal.validation import email_problem


def _require_customer_super_admin(*, actor: User, customer: Customer) -> None:
    if actor.domain_id != customer.primary_domain_id or not user_is_super_admin(actor):
        raise PermissionRefused(
            _("Only a super admin of %(customer)s can change this.") % {"customer": customer.name}
        )


def access_grant_set(
    *, customer: Customer, domain: Domain, support_cases: bool, actor: User | None
) -> AccessGrant:
    """Record the customer's consent for one domain (R3), keeping every change."""
    now = timezone.now()
    grant, created = AccessGrant.objects.select_for_update().get_or_create(
        customer=customer,
        reseller_domain=domain,
        defaults={"support_cases": support_cases, "changed_at": now, "changed_by": actor},
    )
    if not created:
        if grant.support_cases == support_cases:
            return grant
        grant.support_cases = support_cases
        grant.changed_at = now
        grant.changed_by = actor
        grant.save(update_fields=["support_cases", "changed_at", "changed_by"])
    AccessGrantChange.objects.create(
        grant=grant, support_cases=support_cases, changed_at=now, changed_by=actor
    )
    return grant


@transaction.atomic
def customer_consent_set(
    *, actor: User, customer: Customer, domain: Domain, support_cases: bool
) -> AccessGrant:
    """The customer's super admin turns reseller access to support cases on or off."""
    _require_customer_super_admin(actor=actor, customer=customer)
    if not Relationship.objects.filter(
        customer=customer, reseller_domain=domain, ended_at__isnull=True
    ).exists():
        raise InvalidInput(
            _("%(domain)s does not manage or support this customer.") % {"domain": domain.name}
        )
    was_on = AccessGrant.objects.filter(
        customer=customer, reseller_domain=domain, support_cases=True
    ).exists()
    grant = access_grant_set(customer=customer, domain=domain, support_cases=support_cases, actor=actor)
    if was_on and not support_cases:
        # The reseller side must learn why the customer's cases are gone from its pages.
        from notifications.notice_services import outbox_write_consent_off

        outbox_write_consent_off(
            customer=customer, domain=domain, changed_at=grant.changed_at, changed_by=actor
        )
    return grant


def _start(
    *, customer: Customer, domain: Domain, kind: str, actor: User | None, consent: bool
) -> Relationship:
    if domain.kind != Domain.Kind.RESELLER:
        raise InvalidInput(_("%(domain)s is not a reseller domain.") % {"domain": domain.name})
    if Relationship.objects.filter(customer=customer, reseller_domain=domain, ended_at__isnull=True).exists():
        raise InvalidInput(_("%(domain)s already works with this customer.") % {"domain": domain.name})
    rel = Relationship.objects.create(customer=customer, reseller_domain=domain, kind=kind, started_by=actor)
    access_grant_set(customer=customer, domain=domain, support_cases=consent, actor=actor)
    return rel


def _end(rel: Relationship, *, actor: User | None) -> None:
    rel.ended_at = timezone.now()
    rel.ended_by = actor
    rel.save(update_fields=["ended_at", "ended_by"])


@transaction.atomic
def customer_reseller_set(
    *, customer: Customer, domain: Domain, actor: User | None = None, consent: bool = True
) -> Relationship:
    """Make `domain` the customer's reseller of record, ending the previous one. Cases
    filed under the previous reseller stay with it (R4) and become invisible to it."""
    Customer.objects.select_for_update().get(pk=customer.pk)
    current = Relationship.objects.filter(
        customer=customer, kind=Relationship.Kind.RESELLER, ended_at__isnull=True
    ).first()
    if current is not None:
        if current.reseller_domain_id == domain.pk:
            return current
        _end(current, actor=actor)
    return _start(
        customer=customer, domain=domain, kind=Relationship.Kind.RESELLER, actor=actor, consent=consent
    )


@transaction.atomic
def support_partner_add(*, actor: User, customer: Customer, domain: Domain) -> Relationship:
    """A customer adds a support partner: active at once, no approval step (R5)."""
    _require_customer_super_admin(actor=actor, customer=customer)
    return _start(
        customer=customer, domain=domain, kind=Relationship.Kind.SUPPORT_PARTNER, actor=actor, consent=True
    )


@transaction.atomic
def support_partner_remove(*, actor: User, customer: Customer, domain: Domain) -> None:
    _require_customer_super_admin(actor=actor, customer=customer)
    rel = Relationship.objects.filter(
        customer=customer,
        reseller_domain=domain,
        kind=Relationship.Kind.SUPPORT_PARTNER,
        ended_at__isnull=True,
    ).first()
    if rel is None:
        raise InvalidInput(
            _("%(domain)s is not a support partner of this customer.") % {"domain": domain.name}
        )
    _end(rel, actor=actor)


# --------------------------------------------------------------------------- sales-console record

RECORD_FIELDS = (
    "address_line",
    "city",
    "postal_code",
    "country_code",
    "contact_name",
    "contact_email",
    "contact_phone",
)


@transaction.atomic
def customer_record_update(*, actor: User, customer: Customer, **fields: str) -> Customer:
    """The reseller super admin keeps the customer's address and contact, as in the
    Partner Sales Console; delegated cases are pre-filled from it. Only the reseller of
    record does; for any other domain the customer is not found (R9)."""
    if not user_is_super_admin(actor) or actor.domain.kind != Domain.Kind.RESELLER:
        raise PermissionRefused(
            _("Only a super admin of %(domain)s can change this.") % {"domain": actor.domain.name}
        )
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise InvalidInput()
    customer = (
        customer_record_editable_by(actor).select_for_update(of=("self",)).filter(pk=customer.pk).first()
    )
    if customer is None:
        raise NotFound()
    cleaned = {}
    for name, value in fields.items():
        value = (value or "").strip()
        limit = Customer._meta.get_field(name).max_length
        if len(value) > limit:
            raise InvalidInput(
                _("“%(field)s” has at most %(n)d characters.")
                % {"field": Customer._meta.get_field(name).verbose_name, "n": limit}
            )
        cleaned[name] = value
    if cleaned.get("country_code"):
        cleaned["country_code"] = cleaned["country_code"].upper()
        if not re.fullmatch(r"[A-Z]{2}", cleaned["country_code"]):
            raise InvalidInput(_("Enter the country as its two-letter code, for example KR."))
    if cleaned.get("contact_email"):
        cleaned["contact_email"] = cleaned["contact_email"].lower()
        problem = email_problem(cleaned["contact_email"])
        if problem:
            raise InvalidInput(problem)
    for name, value in cleaned.items():
        setattr(customer, name, value)
    customer.save(update_fields=list(cleaned))
    return customer
