"""Reads about people: what a user may do, and which accounts a super admin manages."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import (
    AdminRole,
    Domain,
    LicenceAssignment,
    LicencePool,
    LicenceRequest,
    LicenceSku,
    OrgUnit,
    Privilege,
    RoleAssignment,
    User,
)

RESELLER_PRIVILEGES = frozenset(
    {Privilege.SUPPORT, Privilege.RESELLER_VIEW_CUSTOMERS, Privilege.RESELLER_ACCESS_CUSTOMER_CASES}
)

# Built-in roles are defined here, not in rows, so that nobody can edit them.
BUILTIN_ROLE_PRIVILEGES: dict[str, frozenset[str]] = {
    AdminRole.BuiltIn.SUPER_ADMIN: frozenset(Privilege.values),
    AdminRole.BuiltIn.RESELLER_ADMIN: RESELLER_PRIVILEGES,
}

# The help page offers the two legacy privileges as the older equivalent of the three
# reseller ones ("or, where available: Legacy reseller enterprise support, Legacy
# enterprise"). A legacy privilege therefore grants what it stood for.
LEGACY_IMPLIES: dict[str, frozenset[str]] = {
    Privilege.LEGACY_RESELLER_ENTERPRISE_SUPPORT: RESELLER_PRIVILEGES,
    Privilege.LEGACY_ENTERPRISE: frozenset({Privilege.SUPPORT}),
}


def role_privileges(role: AdminRole) -> frozenset[str]:
    if role.builtin:
        return BUILTIN_ROLE_PRIVILEGES[role.builtin]
    return frozenset(role.privileges.values_list("privilege", flat=True))


def user_privileges(user: User) -> frozenset[str]:
    """Every privilege the user holds through their roles, legacy ones expanded. Cached on
    the user object for the request, so a role change applies from the next request."""
    cached = getattr(user, "_privileges_cache", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    granted: set[str] = set()
    rows = AdminRole.objects.filter(assignments__user=user).values_list("builtin", "privileges__privilege")
    for builtin, privilege in rows:
        if builtin:
            granted |= BUILTIN_ROLE_PRIVILEGES[builtin]
        elif privilege:
            granted.add(privilege)
    for legacy, implied in LEGACY_IMPLIES.items():
        if legacy in granted:
            granted |= implied
    user._privileges_cache = frozenset(granted)
    return user._privileges_cache


def user_has_privilege(user: User, privilege: str) -> bool:
    return privilege in user_privileges(user)


def user_is_super_admin(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and RoleAssignment.objects.filter(user=user, role__builtin=AdminRole.BuiltIn.SUPER_ADMIN).exists()
    )


def user_kind(user: User) -> str:
    """RESELLER, CUSTOMER or SUPPORT: the kind of the domain the account acts for."""
    return user.domain.kind


def user_is_support_engineer(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.domain.kind == Domain.Kind.SUPPORT


def user_managed_by(admin: User) -> QuerySet[User]:
    """The accounts a super admin (or a holder of MANAGE_USERS) manages: those of their own
    domain, never another's (R8)."""
    if not user_has_privilege(admin, Privilege.MANAGE_USERS):
        return User.objects.none()
    return User.objects.filter(domain_id=admin.domain_id)


def role_visible_to(admin: User) -> QuerySet[AdminRole]:
    """Built-in roles plus the custom roles of the admin's own domain."""
    if not user_has_privilege(admin, Privilege.MANAGE_ROLES):
        return AdminRole.objects.none()
    return AdminRole.objects.filter(Q(domain__isnull=True) | Q(domain_id=admin.domain_id))


# --------------------------------------------------------------------------- admin console reads
# Every read of the admin console starts from the acting admin and stays in their domain
# (R8): an object of another domain is simply not in these querysets, so views answer 404.


def org_unit_managed_by(admin: User) -> QuerySet[OrgUnit]:
    """The org units of the admin's own domain (needs MANAGE_USERS)."""
    if not user_has_privilege(admin, Privilege.MANAGE_USERS):
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(domain_id=admin.domain_id)


def org_unit_list_for_console(admin: User) -> QuerySet[OrgUnit]:
    """Org units with how many accounts each holds, in one query."""
    return (
        org_unit_managed_by(admin)
        .annotate(user_count=Count("users", distinct=True))
        .select_related("parent")
        .order_by("name")
    )


def user_list_for_console(admin: User) -> QuerySet[User]:
    """The domain's accounts with their org unit, roles and licences prefetched: a fixed
    number of queries however many accounts there are."""
    return (
        user_managed_by(admin)
        .select_related("org_unit")
        .prefetch_related(
            Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("role")),
            "licences",
        )
        .order_by("email")
    )


def role_list_for_console(admin: User) -> QuerySet[AdminRole]:
    """Built-in roles and the domain's custom roles, each with its privileges and the
    number of the domain's accounts holding it."""
    in_domain = Q(assignments__user__domain_id=admin.domain_id)
    return (
        role_visible_to(admin)
        .annotate(holder_count=Count("assignments", filter=in_domain, distinct=True))
        .prefetch_related("privileges")
        .order_by("-builtin", "name")
    )


def user_role_candidates(admin: User) -> QuerySet[User]:
    """The accounts a role manager (MANAGE_ROLES) may give roles to or take them from:
    those of their own domain (R8)."""
    if not user_has_privilege(admin, Privilege.MANAGE_ROLES):
        return User.objects.none()
    return User.objects.filter(domain_id=admin.domain_id)


def role_holders(*, admin: User, role: AdminRole) -> QuerySet[User]:
    """The accounts of the admin's domain that hold `role` (never another domain's)."""
    return user_role_candidates(admin).filter(role_assignments__role=role).order_by("email")


def role_privilege_set(role: AdminRole) -> frozenset[str]:
    """Like `role_privileges`, but reads a prefetched `privileges` relation when there is one."""
    if role.builtin:
        return BUILTIN_ROLE_PRIVILEGES[role.builtin]
    return frozenset(rp.privilege for rp in role.privileges.all())


@dataclass(frozen=True)
class LicenceCount:
    sku: str
    label: str
    total: int
    used: int

    @property
    def available(self) -> int:
        return max(self.total - self.used, 0)


def licence_counts(*, domain_id: int) -> list[LicenceCount]:
    """Bought, used and left licences of each kind for one domain, in two queries."""
    totals = dict(LicencePool.objects.filter(domain_id=domain_id).values_list("sku", "total"))
    used = dict(
        LicenceAssignment.objects.filter(user__domain_id=domain_id)
        .values("sku")
        .annotate(n=Count("id"))
        .values_list("sku", "n")
    )
    return [
        LicenceCount(sku=sku, label=str(label), total=totals.get(sku, 0), used=used.get(sku, 0))
        for sku, label in LicenceSku.choices
    ]


def licence_request_list(*, domain_id: int, limit: int = 20) -> QuerySet[LicenceRequest]:
    return (
        LicenceRequest.objects.filter(domain_id=domain_id)
        .select_related("requested_by")
        .order_by("-requested_at", "-id")[:limit]
    )
