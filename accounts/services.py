"""Writes about people: accounts, org units, roles and their assignment. A super admin
acts on their own domain only (R8)."""

import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import (
    AdminRole,
    ApiToken,
    Domain,
    LicenceAssignment,
    LicencePool,
    LicenceSku,
    OrgUnit,
    Privilege,
    RoleAssignment,
    RolePrivilege,
    User,
)
from accounts.selectors import user_has_privilege
from portal.errors import InvalidInput, NotFound, PermissionRefused

CONSUMER_EMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def email_is_consumer(email: str) -> bool:
    return email.rsplit("@", 1)[-1].lower() in CONSUMER_EMAIL_DOMAINS


def _require(actor: User, privilege: str) -> None:
    if not user_has_privilege(actor, privilege):
        raise PermissionRefused(
            _("You need the “%(privilege)s” privilege for this. Ask your domain's super admin.")
            % {"privilege": Privilege(privilege).label}
        )


def _require_same_domain(actor: User, obj_domain_id: int | None) -> None:
    # The same answer as for something that does not exist (R9).
    if obj_domain_id != actor.domain_id:
        raise NotFound()


def licence_assign(*, user: User, sku: str) -> None:
    pool = LicencePool.objects.select_for_update().filter(domain_id=user.domain_id, sku=sku).first()
    used = LicenceAssignment.objects.filter(user__domain_id=user.domain_id, sku=sku).count()
    if pool is None or used >= pool.total:
        raise InvalidInput(
            _("No %(sku)s licence is left in this domain. Request more licences first.")
            % {"sku": LicenceSku(sku).label}
        )
    LicenceAssignment.objects.get_or_create(user=user, sku=sku)


@transaction.atomic
def user_create(
    *,
    actor: User,
    email: str,
    org_unit: OrgUnit,
    password: str | None = None,
    full_name: str = "",
    language: str = "en",
    time_zone: str = "UTC",
    confirm_auto_licensing: bool = False,
) -> User:
    """Create an account in the actor's domain with a Cloud Identity Free licence. In an
    org unit with automatic licensing the user also takes a Workspace licence, so the
    caller must confirm that first."""
    _require(actor, Privilege.MANAGE_USERS)
    _require_same_domain(actor, org_unit.domain_id)
    email = email.strip().lower()
    if email.rsplit("@", 1)[-1] != actor.domain.name:
        raise InvalidInput(_("The address must end in @%(domain)s.") % {"domain": actor.domain.name})
    if User.objects.filter(email=email).exists():
        raise InvalidInput(_("An account with this address already exists."))
    if org_unit.auto_licensing and not confirm_auto_licensing:
        raise InvalidInput(
            _(
                "Automatic licensing is on for “%(unit)s”: the new user would take a Google Workspace licence too. "
                "Confirm to go ahead, or choose another org unit."
            )
            % {"unit": org_unit.name}
        )
    user = User.objects.create_user(
        email,
        password,
        domain=actor.domain,
        org_unit=org_unit,
        full_name=full_name,
        language=language,
        time_zone=time_zone,
    )
    licence_assign(user=user, sku=LicenceSku.CLOUD_IDENTITY_FREE)
    if org_unit.auto_licensing:
        licence_assign(user=user, sku=LicenceSku.WORKSPACE)
    return user


@transaction.atomic
def role_create(*, actor: User, name: str, privileges: Iterable[str], description: str = "") -> AdminRole:
    """A custom role of the actor's domain."""
    _require(actor, Privilege.MANAGE_ROLES)
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the role a name."))
    chosen = set(privileges)
    if not chosen or not chosen <= set(Privilege.values):
        raise InvalidInput(_("Choose at least one privilege from the list."))
    if AdminRole.objects.filter(domain=actor.domain, name__iexact=name).exists():
        raise InvalidInput(_("A role with this name already exists."))
    role = AdminRole.objects.create(name=name, description=description, domain=actor.domain)
    RolePrivilege.objects.bulk_create(RolePrivilege(role=role, privilege=p) for p in sorted(chosen))
    return role


def _role_usable_in(role: AdminRole, domain: Domain) -> bool:
    return role.domain_id is None or role.domain_id == domain.pk


@transaction.atomic
def role_assign(*, actor: User, user: User, role: AdminRole) -> RoleAssignment:
    """Assign a role to an account of the actor's own domain. A consumer (@gmail.com)
    account can never become super admin (R8). Takes effect on the user's next request."""
    _require(actor, Privilege.MANAGE_ROLES)
    _require_same_domain(actor, user.domain_id)
    if not _role_usable_in(role, actor.domain):
        raise NotFound()
    if role.is_super_admin and email_is_consumer(user.email):
        raise InvalidInput(_("A @gmail.com account can never be a super admin."))
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, defaults={"assigned_by": actor}
    )
    return assignment


@transaction.atomic
def role_unassign(*, actor: User, user: User, role: AdminRole) -> None:
    _require(actor, Privilege.MANAGE_ROLES)
    _require_same_domain(actor, user.domain_id)
    if role.is_super_admin:
        others = RoleAssignment.objects.filter(
            role=role, user__domain_id=user.domain_id, user__is_active=True
        ).exclude(user=user)
        if not others.exists():
            raise InvalidInput(_("A domain must keep at least one super admin."))
    RoleAssignment.objects.filter(user=user, role=role).delete()


@transaction.atomic
def org_unit_create(
    *, actor: User, name: str, auto_licensing: bool = False, parent: OrgUnit | None = None
) -> OrgUnit:
    _require(actor, Privilege.MANAGE_USERS)
    if parent is not None:
        _require_same_domain(actor, parent.domain_id)
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the org unit a name."))
    if OrgUnit.objects.filter(domain=actor.domain, name__iexact=name).exists():
        raise InvalidInput(_("An org unit with this name already exists."))
    return OrgUnit.objects.create(
        domain=actor.domain, name=name, parent=parent, auto_licensing=auto_licensing
    )


def api_token_create(*, user: User, name: str = "") -> str:
    """Make a personal API token and return it; only its SHA-256 is kept, so it is shown once."""
    token = "rsp_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, name=name[:100], token_hash=hashlib.sha256(token.encode()).hexdigest(), prefix=token[:12]
    )
    return token
