"""Writes about people: accounts, org units, roles and their assignment. A super admin
acts on their own domain only (R8)."""

import hashlib
import logging
import secrets
from collections.abc import Iterable

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    AdminRole,
    ApiToken,
    Domain,
    LicenceAssignment,
    LicencePool,
    LicenceRequest,
    LicenceSku,
    OrgUnit,
    Privilege,
    RoleAssignment,
    RolePrivilege,
    User,
)
from accounts.selectors import role_privileges, user_has_privilege, user_is_super_admin, user_privileges
from portal.errors import InvalidInput, NotFound, PermissionRefused
from portal.validation import email_problem

logger = logging.getLogger(__name__)

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
    problem = email_problem(email)
    if problem:
        raise InvalidInput(problem)
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
    # allauth signs in and resets passwords by the addresses it knows.
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    licence_assign(user=user, sku=LicenceSku.CLOUD_IDENTITY_FREE)
    if org_unit.auto_licensing:
        licence_assign(user=user, sku=LicenceSku.WORKSPACE)
    return user


ROLE_NAME_MAX = AdminRole._meta.get_field("name").max_length
ROLE_DESCRIPTION_MAX = AdminRole._meta.get_field("description").max_length


def _clean_role_input(
    *, actor: User, name: str, privileges: Iterable[str], description: str
) -> tuple[str, set[str], str]:
    name = (name or "").strip()
    description = (description or "").strip()
    if not name:
        raise InvalidInput(_("Give the role a name."))
    if len(name) > ROLE_NAME_MAX:
        raise InvalidInput(_("A role name has at most %(n)d characters.") % {"n": ROLE_NAME_MAX})
    if len(description) > ROLE_DESCRIPTION_MAX:
        raise InvalidInput(_("A description has at most %(n)d characters.") % {"n": ROLE_DESCRIPTION_MAX})
    chosen = set(privileges)
    if not chosen or not chosen <= set(Privilege.values):
        raise InvalidInput(_("Choose at least one privilege from the list."))
    _require_holds(actor, chosen)
    return name, chosen, description


def _require_holds(actor: User, privileges: Iterable[str]) -> None:
    """Nobody hands out more than they hold: a role manager who is not a super admin
    cannot build or assign a role that would make someone (or themselves) one."""
    missing = set(privileges) - user_privileges(actor)
    if missing:
        labels = ", ".join(str(Privilege(p).label) for p in sorted(missing))
        raise PermissionRefused(
            _("You cannot grant privileges you do not hold yourself: %(privileges)s.")
            % {"privileges": labels}
        )


@transaction.atomic
def role_create(*, actor: User, name: str, privileges: Iterable[str], description: str = "") -> AdminRole:
    """A custom role of the actor's domain, built from the privilege tree."""
    _require(actor, Privilege.MANAGE_ROLES)
    name, chosen, description = _clean_role_input(
        actor=actor, name=name, privileges=privileges, description=description
    )
    if AdminRole.objects.filter(domain=actor.domain, name__iexact=name).exists():
        raise InvalidInput(_("A role with this name already exists."))
    role = AdminRole.objects.create(name=name, description=description, domain=actor.domain)
    RolePrivilege.objects.bulk_create(RolePrivilege(role=role, privilege=p) for p in sorted(chosen))
    return role


def _custom_role_of_actor(actor: User, role: AdminRole) -> AdminRole:
    """The role, locked, if it is a custom role of the actor's domain. Built-in roles are
    the same for every domain and cannot be changed; another domain's role is not found."""
    if role.builtin:
        raise InvalidInput(_("Built-in roles cannot be changed or deleted."))
    _require_same_domain(actor, role.domain_id)
    return AdminRole.objects.select_for_update().get(pk=role.pk)


@transaction.atomic
def role_update(
    *, actor: User, role: AdminRole, name: str, privileges: Iterable[str], description: str = ""
) -> AdminRole:
    """Rename a custom role or change its privileges. Holders get the new privileges on
    their next request."""
    _require(actor, Privilege.MANAGE_ROLES)
    role = _custom_role_of_actor(actor, role)
    name, chosen, description = _clean_role_input(
        actor=actor, name=name, privileges=privileges, description=description
    )
    _require_holds(actor, role_privileges(role))
    if AdminRole.objects.filter(domain=actor.domain, name__iexact=name).exclude(pk=role.pk).exists():
        raise InvalidInput(_("A role with this name already exists."))
    role.name, role.description = name, description
    role.save(update_fields=["name", "description"])
    current = set(role.privileges.values_list("privilege", flat=True))
    role.privileges.filter(privilege__in=current - chosen).delete()
    RolePrivilege.objects.bulk_create(RolePrivilege(role=role, privilege=p) for p in sorted(chosen - current))
    return role


@transaction.atomic
def role_delete(*, actor: User, role: AdminRole) -> None:
    """Delete a custom role that nobody holds any more."""
    _require(actor, Privilege.MANAGE_ROLES)
    role = _custom_role_of_actor(actor, role)
    holders = role.assignments.count()
    if holders:
        raise InvalidInput(
            _("“%(role)s” is assigned to %(n)d account(s). Unassign it first.")
            % {"role": role.name, "n": holders}
        )
    role.delete()


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
    _require_holds(actor, role_privileges(role))
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, defaults={"assigned_by": actor}
    )
    return assignment


@transaction.atomic
def role_unassign(*, actor: User, user: User, role: AdminRole) -> None:
    """Take a role away from an account of the actor's domain, from its next request on.
    A domain always keeps at least one active super admin."""
    _require(actor, Privilege.MANAGE_ROLES)
    _require_same_domain(actor, user.domain_id)
    if not _role_usable_in(role, actor.domain):
        raise NotFound()
    _require_holds(actor, role_privileges(role))
    if role.is_super_admin:
        _require_another_super_admin(domain_id=user.domain_id, besides=user)
    RoleAssignment.objects.filter(user=user, role=role).delete()


def _require_another_super_admin(*, domain_id: int, besides: User) -> None:
    # Lock the domain's super admins (in id order, so two admins acting at once cannot
    # deadlock) before counting: two concurrent removals cannot leave nobody.
    super_admins = list(
        User.objects.select_for_update(of=("self",))
        .filter(domain_id=domain_id, role_assignments__role__builtin=AdminRole.BuiltIn.SUPER_ADMIN)
        .order_by("pk")
        .values_list("pk", "is_active")
    )
    if not any(active and pk != besides.pk for pk, active in super_admins):
        raise InvalidInput(_("A domain must keep at least one active super admin."))


@transaction.atomic
def org_unit_create(
    *, actor: User, name: str, auto_licensing: bool = False, parent: OrgUnit | None = None
) -> OrgUnit:
    _require(actor, Privilege.MANAGE_USERS)
    if parent is not None:
        _require_same_domain(actor, parent.domain_id)
    name = _clean_org_unit_name(name)
    if OrgUnit.objects.filter(domain=actor.domain, name__iexact=name).exists():
        raise InvalidInput(_("An org unit with this name already exists."))
    return OrgUnit.objects.create(
        domain=actor.domain, name=name, parent=parent, auto_licensing=auto_licensing
    )


ORG_UNIT_NAME_MAX = OrgUnit._meta.get_field("name").max_length


def _clean_org_unit_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the org unit a name."))
    if len(name) > ORG_UNIT_NAME_MAX:
        raise InvalidInput(_("An org unit name has at most %(n)d characters.") % {"n": ORG_UNIT_NAME_MAX})
    return name


def _org_unit_of_actor(actor: User, org_unit: OrgUnit) -> OrgUnit:
    _require(actor, Privilege.MANAGE_USERS)
    _require_same_domain(actor, org_unit.domain_id)
    return OrgUnit.objects.select_for_update().get(pk=org_unit.pk)


@transaction.atomic
def org_unit_rename(*, actor: User, org_unit: OrgUnit, name: str) -> OrgUnit:
    org_unit = _org_unit_of_actor(actor, org_unit)
    name = _clean_org_unit_name(name)
    if (
        OrgUnit.objects.filter(domain_id=org_unit.domain_id, name__iexact=name)
        .exclude(pk=org_unit.pk)
        .exists()
    ):
        raise InvalidInput(_("An org unit with this name already exists."))
    org_unit.name = name
    org_unit.save(update_fields=["name"])
    return org_unit


@transaction.atomic
def org_unit_set_auto_licensing(*, actor: User, org_unit: OrgUnit, auto_licensing: bool) -> OrgUnit:
    """Turn automatic licensing on or off. It applies to accounts created from now on;
    licences already given stay."""
    org_unit = _org_unit_of_actor(actor, org_unit)
    if org_unit.auto_licensing != auto_licensing:
        org_unit.auto_licensing = auto_licensing
        org_unit.save(update_fields=["auto_licensing"])
    return org_unit


# --------------------------------------------------------------------------- accounts


def _user_of_actor(actor: User, user: User) -> User:
    _require(actor, Privilege.MANAGE_USERS)
    _require_same_domain(actor, user.domain_id)
    return User.objects.select_for_update().get(pk=user.pk)


def _end_sessions(user_id: int) -> int:
    """Delete every database session signed in as this account. Sessions carry the user
    id only inside their encoded data, so the unexpired ones are read in chunks; a
    suspension is rare and this keeps the session engine Django's own. Even a session
    missed here (another engine) is useless: the auth backend refuses inactive users."""
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=2000)
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id)
    ]
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


@transaction.atomic
def user_suspend(*, actor: User, user: User) -> User:
    """Suspend an account of the actor's domain: it can no longer sign in, and every
    session it has ends at once. Roles, licences and history stay, so reactivating
    restores the account as it was. Nobody suspends themselves; only a super admin
    suspends a super admin; a domain keeps at least one active super admin."""
    _require(actor, Privilege.MANAGE_USERS)
    _require_same_domain(actor, user.domain_id)
    if user.pk == actor.pk:
        raise InvalidInput(_("You cannot suspend your own account."))
    if RoleAssignment.objects.filter(user=user, role__builtin=AdminRole.BuiltIn.SUPER_ADMIN).exists():
        if not user_is_super_admin(actor):
            raise PermissionRefused(_("Only a super admin can suspend another super admin."))
        # Locks every super admin of the domain in id order before the target alone, so
        # two admins suspending each other at once wait for each other, never deadlock.
        _require_another_super_admin(domain_id=user.domain_id, besides=user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = _end_sessions(user.pk)
    logger.info("account suspended", extra={"user_id": user.pk, "sessions_ended": ended})
    return user


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> User:
    user = _user_of_actor(actor, user)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


NOTIFICATION_EMAIL_MAX = User._meta.get_field("notification_email").max_length


@transaction.atomic
def user_sign_in_address_set(*, actor: User, user: User, address: str) -> User:
    """A super admin changes the sign-in address of an account of their domain (SPEC §8:
    nobody changes their own). The address stays in the domain, is unique, and a super
    admin's is never @gmail.com (R8). The old and new addresses are told."""
    _require_super_admin(actor)
    user = _user_of_actor(actor, user)
    address = _clean_notification_address(address)
    if not address:
        raise InvalidInput(_("Enter a valid email address."))
    if email_is_consumer(address) and user_is_super_admin(user):
        raise InvalidInput(_("A @gmail.com account can never be a super admin."))
    if address.rsplit("@", 1)[-1] != user.domain.name:
        raise InvalidInput(_("The address must end in @%(domain)s.") % {"domain": user.domain.name})
    if address == user.email:
        return user
    if User.objects.filter(email=address).exists():
        raise InvalidInput(_("An account with this address already exists."))
    previous = user.email
    user.email = address
    user.save(update_fields=["email"])
    EmailAddress.objects.filter(user=user).delete()
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    transaction.on_commit(lambda: _mail_sign_in_address_changed(user.pk, previous, actor.email))
    logger.info("sign-in address changed", extra={"user_id": user.pk, "actor_id": actor.pk})
    return user


def _mail_sign_in_address_changed(user_id: int, previous: str, actor_email: str) -> None:
    user = User.objects.get(pk=user_id)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        body = _(
            "%(actor)s changed the sign-in address of your support portal account from %(old)s to %(new)s."
        ) % {
            "actor": actor_email,
            "old": previous,
            "new": user.email,
        }
        recipients = sorted({previous, user.email, user.mail_address})
        _send(_("Your sign-in address"), body, recipients, what="sign-in address notice", user_id=user_id)


NOTIFICATION_CONFIRM_SALT = "accounts.notification-address"
NOTIFICATION_CONFIRM_MAX_AGE = 3 * 24 * 3600


def _clean_notification_address(address: str) -> str:
    address = (address or "").strip().lower()
    if address:
        if len(address) > NOTIFICATION_EMAIL_MAX:
            raise InvalidInput(_("Enter a valid email address."))
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidInput(_("Enter a valid email address.")) from None
    return address


def notification_address_in_own_domain(user: User, address: str) -> bool:
    """An empty address (the account's own), or one in the account's domain or its sign-in
    address's domain: mail there stays with the organisation that manages the account."""
    if not address:
        return True
    domain = address.rsplit("@", 1)[-1]
    return domain in {user.domain.name.lower(), user.email.rsplit("@", 1)[-1].lower()}


@transaction.atomic
def user_notification_address_set(*, actor: User, user: User, address: str) -> bool:
    """Where the account's mail goes: for a Cloud Identity account, typically the
    person's Google Workspace address. Empty means the account's own address.

    An address in the account's own domain takes effect at once. Any other address may
    be asked for by a super admin of the account's domain only, and takes effect only when
    its owner confirms from that address (a signed link mailed there): case mail can never
    be diverted to an outside mailbox without it (issue 16). The account is told either
    way. Returns True when the change took effect, False when it awaits confirmation."""
    user = _user_of_actor(actor, user)
    address = _clean_notification_address(address)
    if address == user.email:
        address = ""
    if address == user.notification_email:
        return True
    if notification_address_in_own_domain(user, address):
        previous = user.mail_address
        user.notification_email = address
        user.save(update_fields=["notification_email"])
        transaction.on_commit(lambda: _mail_notification_address_changed(user.pk, previous, actor.email))
        return True
    if not user_is_super_admin(actor):
        raise PermissionRefused(
            _(
                "Only a super admin of %(domain)s can send this account's mail to an address outside "
                "the domain."
            )
            % {"domain": user.domain.name}
        )
    token = signing.dumps(
        {"user": user.pk, "address": address, "from": user.mail_address, "by": actor.pk},
        salt=NOTIFICATION_CONFIRM_SALT,
    )
    transaction.on_commit(lambda: _mail_notification_address_confirm(user.pk, address, token, actor.email))
    logger.info("notification address change requested", extra={"user_id": user.pk, "actor_id": actor.pk})
    return False


def notification_address_request(*, token: str) -> tuple[str, str] | None:
    """(the account's sign-in address, the new address) a confirmation link is about, or
    None when it is forged or expired. Reads only: the page asks before anything changes."""
    try:
        data = signing.loads(token, salt=NOTIFICATION_CONFIRM_SALT, max_age=NOTIFICATION_CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    return (user.email, str(data.get("address", ""))) if user else None


@transaction.atomic
def user_notification_address_confirm(*, token: str) -> User:
    """The owner of the new address confirmed from it (the link mailed there). Refused
    when the link is forged, older than three days, or the address changed since."""
    try:
        data = signing.loads(token, salt=NOTIFICATION_CONFIRM_SALT, max_age=NOTIFICATION_CONFIRM_MAX_AGE)
    except signing.BadSignature:
        raise InvalidInput(_("This confirmation link is not valid or has expired.")) from None
    user = User.objects.select_for_update().filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.mail_address != data.get("from") or not data.get("address"):
        raise InvalidInput(_("This confirmation link is not valid or has expired."))
    previous = user.mail_address
    user.notification_email = data["address"]
    user.save(update_fields=["notification_email"])
    transaction.on_commit(lambda: _mail_notification_address_changed(user.pk, previous, None))
    logger.info("notification address change confirmed", extra={"user_id": user.pk})
    return user


def _send(subject: str, body: str, recipients: list[str], *, what: str, user_id: int) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    except Exception:  # the change is stored; a mail server outage must not fail the page
        logger.exception("%s mail failed", what, extra={"user_id": user_id})


def _mail_notification_address_confirm(user_id: int, address: str, token: str, actor_email: str) -> None:
    user = User.objects.get(pk=user_id)
    link = f"{settings.SITE_URL}/accounts/notification-address/confirm/{token}/"
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = _("Confirm where the mail of %(email)s should go") % {"email": user.email}
        body = _(
            "%(actor)s asked that the support portal's mail for %(email)s be sent to this address "
            "(%(address)s).\n\nIf this is your mailbox and you expect this mail, confirm here within "
            "three days:\n%(link)s\n\nIf not, ignore this mail: nothing changes."
        ) % {"actor": actor_email, "email": user.email, "address": address, "link": link}
        _send(subject, body, [address], what="notification address confirmation", user_id=user_id)
        notice = _(
            "%(actor)s asked that your support portal mail be sent to %(address)s. It changes only "
            "when that address confirms. If you did not expect this, tell your domain's super admin."
        ) % {"actor": actor_email, "address": address}
        recipients = sorted({user.email, user.mail_address})
        _send(_("Your notification address"), notice, recipients, what="notification notice", user_id=user_id)


def _mail_notification_address_changed(user_id: int, previous: str, actor_email: str | None) -> None:
    user = User.objects.get(pk=user_id)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        body = _("The support portal's mail for %(email)s now goes to %(address)s.") % {
            "email": user.email,
            "address": user.mail_address,
        }
        if actor_email:
            body += "\n" + _("Changed by %(actor)s.") % {"actor": actor_email}
        recipients = sorted({user.email, previous, user.mail_address})
        _send(_("Your notification address"), body, recipients, what="notification notice", user_id=user_id)


# --------------------------------------------------------------------------- licences

LICENCE_REQUEST_MAX = 100_000
LICENCE_NOTE_MAX = 2000


def _require_super_admin(actor: User) -> None:
    if not user_is_super_admin(actor):
        raise PermissionRefused(
            _("Only a super admin of %(domain)s can do this.") % {"domain": actor.domain.name}
        )


@transaction.atomic
def licence_request_create(*, actor: User, sku: str, quantity: int, note: str = "") -> LicenceRequest:
    """A super admin asks for more licences. The request is stored, then mailed to the
    operators once the transaction has committed (a failed mail loses nothing: the row
    stays and the Django admin lists it)."""
    _require_super_admin(actor)
    if sku not in LicenceSku.values:
        raise InvalidInput(_("Choose a licence type from the list."))
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 1 <= quantity <= LICENCE_REQUEST_MAX
    ):
        raise InvalidInput(_("Ask for between 1 and %(max)d licences.") % {"max": LICENCE_REQUEST_MAX})
    note = (note or "").strip()
    if len(note) > LICENCE_NOTE_MAX:
        raise InvalidInput(_("A note has at most %(n)d characters.") % {"n": LICENCE_NOTE_MAX})
    request = LicenceRequest.objects.create(
        domain_id=actor.domain_id, sku=sku, quantity=quantity, note=note, requested_by=actor
    )
    transaction.on_commit(lambda: _mail_licence_request(request.pk))
    return request


def _mail_licence_request(request_id: int) -> None:
    request = LicenceRequest.objects.select_related("domain", "requested_by").get(pk=request_id)
    recipients = list(settings.OPERATOR_EMAILS)
    if not recipients:
        return
    # Operators read English; the strings are still marked for translation.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Licence request: %(quantity)d × %(sku)s for %(domain)s") % {
            "quantity": request.quantity,
            "sku": LicenceSku(request.sku).label,
            "domain": request.domain.name,
        }
        body = "\n".join(
            [
                _("Domain: %(domain)s") % {"domain": request.domain.name},
                _("Licence type: %(sku)s") % {"sku": LicenceSku(request.sku).label},
                _("Quantity: %(quantity)d") % {"quantity": request.quantity},
                _("Requested by: %(email)s") % {"email": request.requested_by.email},
                _("Requested at: %(when)s") % {"when": request.requested_at.isoformat()},
                "",
                request.note or _("(no note)"),
            ]
        )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    except Exception:  # the request is stored; a mail server outage must not fail the page
        logger.exception("licence request mail failed", extra={"licence_request_id": request_id})


def api_token_create(*, user: User, name: str = "") -> str:
    """Make a personal API token and return it; only its SHA-256 is kept, so it is shown once."""
    token = "rsp_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, name=name[:100], token_hash=hashlib.sha256(token.encode()).hexdigest(), prefix=token[:12]
    )
    return token
