"""Reads about cases. `case_visible_to` is the one gate (R10): lists, details, search,
exports, the API, downloads, htmx fragments and mail recipients all start from it, and
children (comments, attachments) are reached through it."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Domain, Privilege, User
from accounts.selectors import user_has_privilege
from cases.models import Attachment, Case, Comment
from customers.models import AccessGrant, Relationship
from customers.selectors import relationship_active_for, reseller_can_use_portal


def reseller_can_access_cases(user: User) -> bool:
    """R2: filing, viewing and updating customer cases needs SUPPORT and
    RESELLER_ACCESS_CUSTOMER_CASES."""
    return reseller_can_use_portal(user) and user_has_privilege(
        user, Privilege.RESELLER_ACCESS_CUSTOMER_CASES
    )


def case_visible_to(user: User) -> QuerySet[Case]:
    """The cases a user may see.

    - support engineers: every case;
    - customer users: every case of their own customer while it has portal access,
      delegated ones included (R6);
    - reseller users with case access, for the domain D of the account in use (R1, R2):
      consent is on for D (R3), D has an active relationship with the customer, and
      either D managed the customer when the case was filed (R4) or D is a support
      partner whose partnership was already active when the case was filed (R5).

    Subscribers gain nothing here: sharing is not access (R7).
    """
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    kind = user.domain.kind
    if kind == Domain.Kind.SUPPORT:
        return Case.objects.all()
    if kind == Domain.Kind.CUSTOMER:
        return Case.objects.filter(customer__primary_domain_id=user.domain_id, customer__portal_access=True)
    if not reseller_can_access_cases(user):
        return Case.objects.none()
    domain_id = user.domain_id
    active = relationship_active_for(domain_id=domain_id).filter(customer_id=OuterRef("customer_id"))
    consent = AccessGrant.objects.filter(
        reseller_domain_id=domain_id, customer_id=OuterRef("customer_id"), support_cases=True
    )
    partnership_covers_case = active.filter(
        kind=Relationship.Kind.SUPPORT_PARTNER, started_at__lte=OuterRef("created_at")
    )
    return Case.objects.filter(
        Exists(consent),
        (Q(managing_domain_id=domain_id) & Exists(active)) | Exists(partnership_covers_case),
    )


def comment_visible_to(user: User) -> QuerySet[Comment]:
    return Comment.objects.filter(case__in=case_visible_to(user))


def attachment_visible_to(user: User) -> QuerySet[Attachment]:
    return Attachment.objects.filter(case__in=case_visible_to(user))


def case_get_for_user(*, user: User, number: int) -> Case:
    """One case by its public number, or Case.DoesNotExist — the same for a case that does
    not exist and one the user may not see (R9)."""
    return (
        case_visible_to(user)
        .select_related("customer", "classification", "managing_domain", "creator")
        .get(number=number)
    )
