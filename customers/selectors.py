"""Reads about customers. `customer_visible_to` is the one gate for customers (R10)."""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Domain, Privilege, User
from accounts.selectors import user_has_privilege
from customers.models import AccessGrant, Customer, Relationship


def relationship_active_for(*, domain_id: int) -> QuerySet[Relationship]:
    return Relationship.objects.filter(reseller_domain_id=domain_id, ended_at__isnull=True)


def reseller_can_use_portal(user: User) -> bool:
    """R2: portal use needs SUPPORT (a legacy support privilege expands to it)."""
    return user_has_privilege(user, Privilege.SUPPORT)


def customer_visible_to(user: User) -> QuerySet[Customer]:
    """The customers a user may see.

    - support engineers: every customer;
    - customer users: their own customer, while it has portal access (R6);
    - reseller users with RESELLER_VIEW_CUSTOMERS: customers with an active relationship
      (reseller or support partner) to the domain of the account in use, never another
      domain's, not even one of the same partner (R1, R2, R5). Listing customers needs
      only that privilege (SPEC §9's viewer sees customers, not cases); their cases
      need SUPPORT as well (see `case_visible_to`).
    """
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    kind = user.domain.kind
    if kind == Domain.Kind.SUPPORT:
        return Customer.objects.all()
    if kind == Domain.Kind.CUSTOMER:
        return Customer.objects.filter(primary_domain_id=user.domain_id, portal_access=True)
    if user_has_privilege(user, Privilege.RESELLER_VIEW_CUSTOMERS):
        active = relationship_active_for(domain_id=user.domain_id).filter(customer_id=OuterRef("pk"))
        return Customer.objects.filter(Exists(active))
    return Customer.objects.none()


def customer_consent_for(*, customer: Customer, domain_id: int) -> bool:
    """R3: has the customer let this domain file and see support cases?"""
    return AccessGrant.objects.filter(
        customer=customer, reseller_domain_id=domain_id, support_cases=True
    ).exists()


def customer_reseller_of_record(*, customer: Customer) -> Domain | None:
    rel = (
        Relationship.objects.filter(customer=customer, kind=Relationship.Kind.RESELLER, ended_at__isnull=True)
        .select_related("reseller_domain")
        .first()
    )
    return rel.reseller_domain if rel else None
