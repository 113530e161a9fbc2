"""Reads for the customer super admin pages (reseller access, support partners, portal
users) and for the reseller admin console's sales-console records. Every read starts
from `customer_visible_to`, the one gate for customers (R10)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import Domain, User
from accounts.selectors import user_is_super_admin
from customers.models import AccessGrant, AccessGrantChange, Customer, Relationship
from customers.selectors import customer_visible_to

HISTORY_LIMIT = 50


def customer_administered_by(user: User) -> Customer | None:
    """The customer whose super admin `user` is, or None: a customer-domain account
    holding the built-in Super Admin role, while the customer has portal access."""
    if not user.is_authenticated or user.domain.kind != Domain.Kind.CUSTOMER:
        return None
    customer = customer_visible_to(user).filter(primary_domain_id=user.domain_id).first()
    if customer is None or not user_is_super_admin(user):
        return None
    return customer


@dataclass(frozen=True)
class ResellerAccessRow:
    relationship: Relationship
    support_cases: bool
    changed_at: datetime | None
    changed_by: User | None

    @property
    def domain(self) -> Domain:
        return self.relationship.reseller_domain


def reseller_access_rows(customer: Customer) -> list[ResellerAccessRow]:
    """Each domain that manages or supports the customer now, with the customer's
    current consent for it: two queries."""
    relationships = list(
        Relationship.objects.filter(customer=customer, ended_at__isnull=True)
        .select_related("reseller_domain")
        .order_by("kind", "reseller_domain__name")
    )
    grants = {
        grant.reseller_domain_id: grant
        for grant in AccessGrant.objects.filter(customer=customer).select_related("changed_by")
    }
    rows = []
    for rel in relationships:
        grant = grants.get(rel.reseller_domain_id)
        rows.append(
            ResellerAccessRow(
                relationship=rel,
                support_cases=bool(grant and grant.support_cases),
                changed_at=grant.changed_at if grant else None,
                changed_by=grant.changed_by if grant else None,
            )
        )
    return rows


def access_grant_history(customer: Customer, *, limit: int = HISTORY_LIMIT) -> QuerySet[AccessGrantChange]:
    """Who turned reseller access on or off, for which domain and when; newest first."""
    return (
        AccessGrantChange.objects.filter(grant__customer=customer)
        .select_related("grant__reseller_domain", "changed_by")
        .order_by("-changed_at", "-id")[:limit]
    )


def active_relationship_domain(*, customer: Customer, domain_id: int) -> Domain | None:
    """The domain, if it manages or supports the customer now; a form naming any other
    domain id finds nothing."""
    rel = (
        Relationship.objects.filter(customer=customer, reseller_domain_id=domain_id, ended_at__isnull=True)
        .select_related("reseller_domain")
        .first()
    )
    return rel.reseller_domain if rel else None


def support_partners(customer: Customer) -> QuerySet[Relationship]:
    return (
        Relationship.objects.filter(
            customer=customer, kind=Relationship.Kind.SUPPORT_PARTNER, ended_at__isnull=True
        )
        .select_related("reseller_domain", "started_by")
        .order_by("reseller_domain__name")
    )


def support_partner_history(customer: Customer, *, limit: int = HISTORY_LIMIT) -> QuerySet[Relationship]:
    """Ended partnerships and past resellers: the record is never rewritten."""
    return (
        Relationship.objects.filter(customer=customer, ended_at__isnull=False)
        .select_related("reseller_domain", "started_by", "ended_by")
        .order_by("-ended_at", "-id")[:limit]
    )


def reseller_domain_named(name: str) -> Domain | None:
    """A reseller domain by its exact name (case-insensitive), for "add a support partner"."""
    name = (name or "").strip().lower().rstrip(".")
    if not name:
        return None
    return Domain.objects.filter(name=name, kind=Domain.Kind.RESELLER).first()


def customer_portal_users(customer: Customer) -> QuerySet[User]:
    """The accounts of the customer's domain, with their roles, for the portal-users page."""
    return (
        User.objects.filter(domain_id=customer.primary_domain_id)
        .prefetch_related("role_assignments__role")
        .order_by("email")
    )


# --------------------------------------------------------------------------- sales-console records


def customer_record_editable_by(admin: User) -> QuerySet[Customer]:
    """Customers whose sales-console record (address, contact) the admin's domain keeps:
    those it is the reseller of record for now. Support partners see the customer but
    do not keep its record."""
    return (
        customer_visible_to(admin)
        .filter(
            relationships__reseller_domain_id=admin.domain_id,
            relationships__kind=Relationship.Kind.RESELLER,
            relationships__ended_at__isnull=True,
        )
        .select_related("primary_domain")
        .order_by("name", "id")
    )
