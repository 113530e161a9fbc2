"""Reads about customers. `customer_visible_to` is the one gate for customers (R10)."""

from dataclasses import dataclass

from django.core import signing
from django.db.models import Exists, OuterRef, Q, QuerySet, Value

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


def customer_access_off_since(*, customer_id: int, domain_id: int):
    """When the customer turned this domain's access to support cases off (None while it
    is on, or when it was never given)."""
    grant = (
        AccessGrant.objects.filter(customer_id=customer_id, reseller_domain_id=domain_id, support_cases=False)
        .only("changed_at")
        .first()
    )
    return grant.changed_at if grant else None


def customer_reseller_of_record(*, customer: Customer) -> Domain | None:
    rel = (
        Relationship.objects.filter(customer=customer, kind=Relationship.Kind.RESELLER, ended_at__isnull=True)
        .select_related("reseller_domain")
        .first()
    )
    return rel.reseller_domain if rel else None


def customer_search(queryset: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    text = (text or "").strip()
    if not text:
        return queryset
    return queryset.filter(Q(name__icontains=text) | Q(primary_domain__name__icontains=text))


def customer_list_with_consent(user: User) -> QuerySet[Customer]:
    """The customers a user sees, each annotated with `can_file`: for a reseller domain,
    whether the customer's consent (R3) lets it file cases now; for customer users,
    always true (their own customer)."""
    customers = customer_visible_to(user).select_related("primary_domain")
    if user.domain.kind != Domain.Kind.RESELLER:
        return customers.annotate(can_file=Value(user.domain.kind == Domain.Kind.CUSTOMER))
    consent = AccessGrant.objects.filter(
        customer_id=OuterRef("pk"), reseller_domain_id=user.domain_id, support_cases=True
    )
    return customers.annotate(can_file=Exists(consent))


@dataclass(frozen=True)
class CustomerPage:
    rows: list[Customer]
    next_cursor: str | None


_cursor_signer = signing.Signer(salt="customers.list.cursor")


def customer_page(queryset: QuerySet[Customer], *, cursor: str | None, size: int) -> CustomerPage:
    """One page of customers by name, keyset-paginated on (name, id)."""
    ordered = queryset.order_by("name", "id")
    if cursor:
        try:
            name, pk = _cursor_signer.unsign(cursor).rsplit("|", 1)
            ordered = ordered.filter(Q(name__gt=name) | Q(name=name, id__gt=int(pk)))
        except (signing.BadSignature, ValueError):
            pass
    rows = list(ordered[: size + 1])
    more, rows = len(rows) > size, rows[:size]
    next_cursor = _cursor_signer.sign(f"{rows[-1].name}|{rows[-1].pk}") if more else None
    return CustomerPage(rows, next_cursor)
