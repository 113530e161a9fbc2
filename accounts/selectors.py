"""Reads about people: what a user may do, and which accounts a super admin manages."""

from django.db.models import Q, QuerySet

from accounts.models import AdminRole, Domain, Privilege, RoleAssignment, User

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
