"""What a signed-in user may reach, as navigation. An entry shows only when the user may
use it and its page exists, so later pages join the menu by adding their URL."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Domain, Privilege, User
from accounts.selectors import user_privileges


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Promise
    url: str


def _customer_side_cases(user: User, privileges: frozenset[str]) -> bool:
    if user.domain.kind == Domain.Kind.CUSTOMER:
        return True
    return {Privilege.SUPPORT, Privilege.RESELLER_ACCESS_CUSTOMER_CASES} <= privileges


def navigation_for(user: User) -> list[NavItem]:
    privileges = user_privileges(user)
    kind = user.domain.kind
    reseller_portal = kind == Domain.Kind.RESELLER and Privilege.SUPPORT in privileges
    candidates = [
        ("home", _("Home"), True),
        ("cases:list", _("My cases"), kind != Domain.Kind.SUPPORT and _customer_side_cases(user, privileges)),
        (
            "customers:list",
            _("My customers"),
            kind == Domain.Kind.RESELLER and Privilege.RESELLER_VIEW_CUSTOMERS in privileges,
        ),
        (
            "cases:create",
            _("Create support case"),
            kind != Domain.Kind.SUPPORT and _customer_side_cases(user, privileges),
        ),
        ("customer_portal:home", _("Customer portal"), kind == Domain.Kind.CUSTOMER),
        ("support:queue", _("Support console"), kind == Domain.Kind.SUPPORT),
        ("dashboard", _("Dashboard"), reseller_portal or kind == Domain.Kind.SUPPORT),
        (
            "admin_console:home",
            _("Admin console"),
            Privilege.MANAGE_USERS in privileges or Privilege.MANAGE_ROLES in privileges,
        ),
        ("settings", _("Personal settings"), True),
        ("tokens", _("API tokens"), True),
    ]
    items = []
    for url_name, label, allowed in candidates:
        if not allowed:
            continue
        try:
            items.append(NavItem(url_name, label, reverse(url_name)))
        except NoReverseMatch:
            continue
    return items
