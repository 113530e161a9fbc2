"""The reseller admin console (/admin-console/): accounts, org units, licences, admin
roles and the sales-console customer records of the admin's own domain (R8).

Every page resolves its objects from the acting admin's domain (accounts.selectors,
customers.admin_selectors), so another domain's account, role, org unit or customer is
a 404 exactly like a missing one (R9). Every change is a service call; a DomainError
becomes a form error with the status its class names. Forms post back to their page,
which redirects after success (POST-redirect-GET)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.console_forms import (
    PRIVILEGE_TREE,
    ActionForm,
    AutoLicensingForm,
    CustomerRecordForm,
    LicenceRequestForm,
    NotificationAddressForm,
    OrgUnitCreateForm,
    OrgUnitRenameForm,
    RoleAssignForm,
    RoleForm,
    RoleHolderAddForm,
    RoleRemoveForm,
    SignInAddressForm,
    UserCreateForm,
)
from accounts.models import AdminRole, Domain, Privilege
from accounts.selectors import (
    licence_counts,
    licence_request_list,
    org_unit_list_for_console,
    org_unit_managed_by,
    role_holders,
    role_list_for_console,
    role_privilege_set,
    role_visible_to,
    user_has_privilege,
    user_is_super_admin,
    user_list_for_console,
    user_managed_by,
    user_privileges,
    user_role_candidates,
)
from customers.admin_selectors import customer_record_editable_by
from customers.services import RECORD_FIELDS, customer_record_update
from portal.errors import NotFound
from portal.forms import form_apply

USERS_PER_PAGE = 50
SUPER_ADMIN = "SUPER_ADMIN"  # a pseudo-requirement: the built-in Super Admin role itself

# --------------------------------------------------------------------------- access


def _refuse(request, missing: list[str]) -> HttpResponse:
    """R2/R8: a 403 page that names what is missing and whom to ask."""
    labels = [
        str(AdminRole.BuiltIn.SUPER_ADMIN.label) if p == SUPER_ADMIN else str(Privilege(p).label)
        for p in missing
    ]
    return render(request, "admin_console/403.html", {"missing": labels}, status=403)


def console_view(*required: str, any_of: bool = False):
    """Signed in to a reseller domain and holding `required` (all of them, or at least
    one with any_of). A customer's super admin has their own pages and is sent there."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if user.domain.kind == Domain.Kind.CUSTOMER:
                return redirect("customer_admin:home")
            held = user_privileges(user)
            if SUPER_ADMIN in required and not user_is_super_admin(user):
                return _refuse(request, [SUPER_ADMIN])
            wanted = [p for p in required if p != SUPER_ADMIN]
            missing = [p for p in wanted if p not in held]
            if (any_of and len(missing) == len(wanted) and wanted) or (not any_of and missing):
                return _refuse(request, missing)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


TABS = [
    ("admin_console:home", gettext_lazy("Overview"), None),
    ("admin_console:users", gettext_lazy("Users"), Privilege.MANAGE_USERS),
    ("admin_console:org_units", gettext_lazy("Org units"), Privilege.MANAGE_USERS),
    ("admin_console:licences", gettext_lazy("Licences"), Privilege.MANAGE_USERS),
    ("admin_console:roles", gettext_lazy("Admin roles"), Privilege.MANAGE_ROLES),
    ("admin_console:customers", gettext_lazy("Customer records"), SUPER_ADMIN),
]


def _console(request, template: str, context: dict, *, tab: str, status: int = 200) -> HttpResponse:
    user = request.user
    held = user_privileges(user)
    is_super_admin = user_is_super_admin(user)
    context.update(
        tabs=[
            (name, label)
            for name, label, needs in TABS
            if needs is None or (is_super_admin if needs == SUPER_ADMIN else needs in held)
        ],
        current_tab=tab,
        is_super_admin=is_super_admin,
        can_manage_users=Privilege.MANAGE_USERS in held,
        can_manage_roles=Privilege.MANAGE_ROLES in held,
    )
    return render(request, template, context, status=status)


def _action(request) -> str:
    return request.POST.get("action", "")


# --------------------------------------------------------------------------- overview


@console_view(Privilege.MANAGE_USERS, Privilege.MANAGE_ROLES, any_of=True)
def home(request):
    user = request.user
    context: dict = {}
    if user_has_privilege(user, Privilege.MANAGE_USERS):
        context["user_counts"] = user_managed_by(user).aggregate(
            total=Count("id"), suspended=Count("id", filter=Q(is_active=False))
        )
        context["org_unit_count"] = org_unit_managed_by(user).count()
        context["licences"] = licence_counts(domain_id=user.domain_id)
    if user_has_privilege(user, Privilege.MANAGE_ROLES):
        context["role_count"] = role_visible_to(user).count()
    if user_is_super_admin(user):
        context["customer_count"] = customer_record_editable_by(user).count()
    return _console(request, "admin_console/home.html", context, tab="admin_console:home")


# --------------------------------------------------------------------------- users


@console_view(Privilege.MANAGE_USERS)
def users(request):
    """The domain's accounts, and "create an account" in an org unit."""
    admin = request.user
    org_units = org_unit_managed_by(admin).order_by("name")
    units = list(org_units)
    form = UserCreateForm(
        request.POST or None,
        org_units=org_units,
        domain_name=admin.domain.name,
        # Support-portal accounts belong in a unit without automatic licensing (help page).
        initial={
            "language": admin.language,
            "org_unit": next((unit.pk for unit in units if not unit.auto_licensing), None),
        },
    )
    status = 200
    if request.method == "POST":
        created = {}

        def run(data):
            created["user"] = services.user_create(
                actor=admin,
                email=data["email"],
                org_unit=data["org_unit"],
                password=data["password"] or None,
                full_name=data["full_name"],
                language=data["language"],
                time_zone=data["time_zone"],
                confirm_auto_licensing=data["confirm_auto_licensing"],
            )

        status = form_apply(form, run)
        if status is None:
            new_user = created["user"]
            messages.success(request, _("The account %(email)s was created.") % {"email": new_user.email})
            return redirect("admin_console:user", user_id=new_user.pk)
    query = request.GET.get("q", "").strip()[:100]
    accounts = user_list_for_console(admin)
    if query:
        accounts = accounts.filter(Q(email__icontains=query) | Q(full_name__icontains=query))
    page = Paginator(accounts, USERS_PER_PAGE).get_page(request.GET.get("page"))
    chosen = form["org_unit"].value() if form.is_bound else None
    needs_confirmation = any(str(unit.pk) == str(chosen) and unit.auto_licensing for unit in units)
    return _console(
        request,
        "admin_console/users.html",
        {
            "page": page,
            "q": query,
            "form": form,
            "auto_licensing_units": [unit.name for unit in units if unit.auto_licensing],
            "needs_confirmation": needs_confirmation,
        },
        tab="admin_console:users",
        status=status,
    )


@console_view(Privilege.MANAGE_USERS)
def user_detail(request, user_id: int):
    """One account: suspend or reactivate, its notification address, its roles."""
    admin = request.user
    account = get_object_or_404(user_list_for_console(admin), pk=user_id)
    can_manage_roles = user_has_privilege(admin, Privilege.MANAGE_ROLES)
    roles = role_visible_to(admin).order_by("-builtin", "name")
    notification_form = NotificationAddressForm(initial={"notification_email": account.notification_email})
    # Sign-in addresses are the super admins' to change (SPEC §8), never the user's own.
    is_super_admin = user_is_super_admin(admin)
    sign_in_form = SignInAddressForm(initial={"email": account.email})
    assign_form = RoleAssignForm(roles=roles)
    remove_form = RoleRemoveForm()
    status_error = None
    status = 200
    if request.method == "POST":
        action = _action(request)
        applied: dict = {}
        if action == "notification":
            notification_form = NotificationAddressForm(request.POST)

            def run_notification(data):
                applied["now"] = services.user_notification_address_set(
                    actor=admin, user=account, address=data["notification_email"]
                )
                applied["address"] = data["notification_email"].strip().lower()

            status = form_apply(notification_form, run_notification)
            success = _("Notifications for %(email)s now go to %(address)s.")
            if status is None and not applied.get("now"):
                # An outside address waits for its owner's confirmation (issue 16).
                success = _(
                    "A confirmation mail went to %(pending)s. Notifications for %(email)s go there once it "
                    "is confirmed; until then they still go to %(address)s."
                )
        elif action == "sign_in_address" and is_super_admin:
            sign_in_form = SignInAddressForm(request.POST)
            status = form_apply(
                sign_in_form,
                lambda data: services.user_sign_in_address_set(
                    actor=admin, user=account, address=data["email"]
                ),
            )
            success = _("The account now signs in as %(email)s.")
        elif action in {"suspend", "reactivate"}:
            service = services.user_suspend if action == "suspend" else services.user_reactivate
            status_form = ActionForm({})
            status = form_apply(status_form, lambda data: service(actor=admin, user=account))
            status_error = status_form.non_field_errors()
            success = (
                _("%(email)s is suspended and signed out everywhere.")
                if action == "suspend"
                else _("%(email)s can sign in again.")
            )
        elif action == "assign" and can_manage_roles:
            assign_form = RoleAssignForm(request.POST, roles=roles)
            status = form_apply(
                assign_form,
                lambda data: services.role_assign(actor=admin, user=account, role=data["role"]),
            )
            success = _("The role is assigned. It applies from %(email)s's next page.")
        elif action == "unassign" and can_manage_roles:
            remove_form = RoleRemoveForm(request.POST)

            def run(data):
                role = role_visible_to(admin).filter(pk=data["target"]).first()
                if role is None:
                    raise NotFound()
                services.role_unassign(actor=admin, user=account, role=role)

            status = form_apply(remove_form, run)
            success = _("The role is removed. It no longer applies from %(email)s's next page.")
        else:
            status, success = 400, ""
            messages.error(request, _("Unknown action."))
        if status is None:
            account.refresh_from_db(fields=["notification_email", "email"])
            messages.success(
                request,
                success
                % {
                    "email": account.email,
                    "address": account.mail_address,
                    "pending": applied.get("address", ""),
                },
            )
            return redirect("admin_console:user", user_id=account.pk)
        account = get_object_or_404(user_list_for_console(admin), pk=user_id)
    assigned_ids = {ra.role_id for ra in account.role_assignments.all()}
    assign_form.fields["role"].queryset = roles.exclude(pk__in=assigned_ids)
    return _console(
        request,
        "admin_console/user_detail.html",
        {
            "account": account,
            "is_self": account.pk == admin.pk,
            "notification_form": notification_form,
            "sign_in_form": sign_in_form if is_super_admin else None,
            "assign_form": assign_form,
            "remove_form": remove_form,
            "status_error": status_error,
            "can_assign": can_manage_roles,
        },
        tab="admin_console:users",
        status=status,
    )


# --------------------------------------------------------------------------- org units


@console_view(Privilege.MANAGE_USERS)
def org_units(request):
    admin = request.user
    form = OrgUnitCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = form_apply(
            form,
            lambda data: services.org_unit_create(
                actor=admin, name=data["name"], auto_licensing=data["auto_licensing"]
            ),
        )
        if status is None:
            messages.success(request, _("The org unit “%(name)s” was created.") % form.cleaned_data)
            return redirect("admin_console:org_units")
    return _console(
        request,
        "admin_console/org_units.html",
        {"units": org_unit_list_for_console(admin), "form": form},
        tab="admin_console:org_units",
        status=status,
    )


@console_view(Privilege.MANAGE_USERS)
def org_unit_detail(request, unit_id: int):
    admin = request.user
    unit = get_object_or_404(org_unit_list_for_console(admin), pk=unit_id)
    rename_form = OrgUnitRenameForm(initial={"name": unit.name})
    licensing_form = AutoLicensingForm()
    status = 200
    if request.method == "POST":
        action = _action(request)
        if action == "rename":
            rename_form = OrgUnitRenameForm(request.POST)
            status = form_apply(
                rename_form,
                lambda data: services.org_unit_rename(actor=admin, org_unit=unit, name=data["name"]),
            )
            success = _("The org unit is renamed.")
        elif action == "auto_licensing":
            licensing_form = AutoLicensingForm(request.POST)
            status = form_apply(
                licensing_form,
                lambda data: services.org_unit_set_auto_licensing(
                    actor=admin, org_unit=unit, auto_licensing=data["auto_licensing"]
                ),
            )
            success = _("Automatic licensing is updated for new accounts in this org unit.")
        else:
            status, success = 400, ""
            messages.error(request, _("Unknown action."))
        if status is None:
            messages.success(request, success)
            return redirect("admin_console:org_unit", unit_id=unit.pk)
        unit = get_object_or_404(org_unit_list_for_console(admin), pk=unit_id)
    return _console(
        request,
        "admin_console/org_unit_detail.html",
        {
            "unit": unit,
            "rename_form": rename_form,
            "licensing_form": licensing_form,
            "members": user_managed_by(admin).filter(org_unit=unit).order_by("email")[:100],
        },
        tab="admin_console:org_units",
        status=status,
    )


# --------------------------------------------------------------------------- licences


@console_view(Privilege.MANAGE_USERS)
def licences(request):
    """Licence counts per kind; the super admin requests more."""
    admin = request.user
    can_request = user_is_super_admin(admin)
    form = LicenceRequestForm(request.POST or None, initial={"sku": "CLOUD_IDENTITY_FREE"})
    status = 200
    if request.method == "POST":
        if not can_request:
            return _refuse(request, [SUPER_ADMIN])
        status = form_apply(
            form,
            lambda data: services.licence_request_create(
                actor=admin, sku=data["sku"], quantity=data["quantity"], note=data["note"]
            ),
        )
        if status is None:
            messages.success(
                request,
                _("Your request for %(quantity)d more licences was sent to the operators.")
                % form.cleaned_data,
            )
            return redirect("admin_console:licences")
    return _console(
        request,
        "admin_console/licences.html",
        {
            "licences": licence_counts(domain_id=admin.domain_id),
            "requests": licence_request_list(domain_id=admin.domain_id),
            "form": form,
            "can_request": can_request,
        },
        tab="admin_console:licences",
        status=status,
    )


# --------------------------------------------------------------------------- admin roles


def _privilege_labels(role: AdminRole) -> list[str]:
    held = role_privilege_set(role)
    return [str(p.label) for p in Privilege if p in held]


def _checked(form) -> set[str]:
    value = form["privileges"].value() or []
    return {str(v) for v in value} if isinstance(value, list | tuple) else set()


@console_view(Privilege.MANAGE_ROLES)
def roles(request):
    roles = list(role_list_for_console(request.user))
    for role in roles:
        role.privilege_labels = _privilege_labels(role)
    return _console(request, "admin_console/roles.html", {"roles": roles}, tab="admin_console:roles")


@console_view(Privilege.MANAGE_ROLES)
def role_create(request):
    admin = request.user
    form = RoleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        created = {}

        def run(data):
            created["role"] = services.role_create(
                actor=admin, name=data["name"], description=data["description"], privileges=data["privileges"]
            )

        status = form_apply(form, run)
        if status is None:
            messages.success(request, _("The role “%(name)s” was created.") % {"name": created["role"].name})
            return redirect("admin_console:role", role_id=created["role"].pk)
    return _console(
        request,
        "admin_console/role_form.html",
        {"form": form, "tree": PRIVILEGE_TREE, "checked": _checked(form)},
        tab="admin_console:roles",
        status=status,
    )


@console_view(Privilege.MANAGE_ROLES)
def role_detail(request, role_id: int):
    """One role: its privileges (editable for a custom role), who holds it, assign it."""
    admin = request.user
    role = get_object_or_404(role_list_for_console(admin), pk=role_id)
    holders = role_holders(admin=admin, role=role)
    custom = not role.builtin
    edit_form = (
        RoleForm(
            initial={
                "name": role.name,
                "description": role.description,
                "privileges": sorted(role_privilege_set(role)),
            }
        )
        if custom
        else None
    )
    candidates = user_role_candidates(admin).filter(is_active=True).exclude(role_assignments__role=role)
    add_form = RoleHolderAddForm(users=candidates.order_by("email"))
    remove_form = RoleRemoveForm()
    delete_form = ActionForm({})
    status = 200
    if request.method == "POST":
        action = _action(request)
        if action == "update" and custom:
            edit_form = RoleForm(request.POST)
            status = form_apply(
                edit_form,
                lambda data: services.role_update(
                    actor=admin,
                    role=role,
                    name=data["name"],
                    description=data["description"],
                    privileges=data["privileges"],
                ),
            )
            success = _("The role is saved. Its holders get the change on their next page.")
        elif action == "delete" and custom:
            status = form_apply(delete_form, lambda data: services.role_delete(actor=admin, role=role))
            if status is None:
                messages.success(request, _("The role “%(name)s” was deleted.") % {"name": role.name})
                return redirect("admin_console:roles")
        elif action == "assign":
            add_form = RoleHolderAddForm(request.POST, users=candidates.order_by("email"))
            status = form_apply(
                add_form, lambda data: services.role_assign(actor=admin, user=data["user"], role=role)
            )
            success = _("The role is assigned. It applies from the account's next page.")
        elif action == "unassign":
            remove_form = RoleRemoveForm(request.POST)

            def run(data):
                holder = user_role_candidates(admin).filter(pk=data["target"]).first()
                if holder is None:
                    raise NotFound()
                services.role_unassign(actor=admin, user=holder, role=role)

            status = form_apply(remove_form, run)
            success = _("The role is removed. It no longer applies from the account's next page.")
        else:
            status, success = 400, ""
            messages.error(request, _("Unknown action."))
        if status is None:
            messages.success(request, success)
            return redirect("admin_console:role", role_id=role.pk)
        role = get_object_or_404(role_list_for_console(admin), pk=role_id)
    return _console(
        request,
        "admin_console/role_detail.html",
        {
            "role": role,
            "tree": PRIVILEGE_TREE,
            "checked": _checked(edit_form) if edit_form is not None else role_privilege_set(role),
            "holders": holders,
            "edit_form": edit_form,
            "add_form": add_form,
            "remove_form": remove_form,
            "delete_form": delete_form,
        },
        tab="admin_console:roles",
        status=status,
    )


# --------------------------------------------------------------------------- customer records


@console_view(SUPER_ADMIN)
def customers(request):
    """The sales-console records (address, contact) of the customers this domain is the
    reseller of record for; delegated cases are pre-filled from them."""
    return _console(
        request,
        "admin_console/customers.html",
        {"customers": customer_record_editable_by(request.user)},
        tab="admin_console:customers",
    )


@console_view(SUPER_ADMIN)
def customer_detail(request, customer_id: int):
    admin = request.user
    customer = get_object_or_404(customer_record_editable_by(admin), pk=customer_id)
    form = CustomerRecordForm(
        request.POST or None, initial={name: getattr(customer, name) for name in RECORD_FIELDS}
    )
    status = 200
    if request.method == "POST":
        status = form_apply(form, lambda data: customer_record_update(actor=admin, customer=customer, **data))
        if status is None:
            messages.success(request, _("The record of %(name)s is saved.") % {"name": customer.name})
            return redirect("admin_console:customer", customer_id=customer.pk)
    return _console(
        request,
        "admin_console/customer_detail.html",
        {"customer": customer, "form": form},
        tab="admin_console:customers",
        status=status,
    )
