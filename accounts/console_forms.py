"""Forms of the reseller admin console. They parse input; the rules (domain scope,
licences, the last super admin, who may grant what) live in accounts.services."""

from dataclasses import dataclass, field

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    KNOWN_TIME_ZONES,
    TIME_ZONE_CHOICES,
    AdminRole,
    LicenceSku,
    OrgUnit,
    Privilege,
    User,
)
from accounts.services import LICENCE_NOTE_MAX, LICENCE_REQUEST_MAX
from portal.validation import EmailAddressField


# --------------------------------------------------------------------------- the privilege tree
@dataclass(frozen=True)
class PrivilegeNode:
    """A node of the admin console's privilege tree: a privilege (a leaf) or a group."""

    label: Promise
    privilege: str = ""
    help: Promise | str = ""
    children: tuple["PrivilegeNode", ...] = field(default_factory=tuple)


# As the help page lists them ("Support; Reseller tools › Customers › View customers;
# … or, where available: Legacy reseller enterprise support, Legacy enterprise"), plus
# the console's own two.
PRIVILEGE_TREE: tuple[PrivilegeNode, ...] = (
    PrivilegeNode(
        _("Support"),
        Privilege.SUPPORT.value,
        _("Use the Google Cloud support portal. Needed for every support case page."),
    ),
    PrivilegeNode(
        _("Reseller tools"),
        children=(
            PrivilegeNode(
                _("Customers"),
                children=(
                    PrivilegeNode(
                        _("View customers"),
                        Privilege.RESELLER_VIEW_CUSTOMERS.value,
                        _("See the customers this domain manages (My customers)."),
                    ),
                    PrivilegeNode(
                        _("Access customer support cases"),
                        Privilege.RESELLER_ACCESS_CUSTOMER_CASES.value,
                        _("File, view and update the customers' support cases (with Support)."),
                    ),
                ),
            ),
        ),
    ),
    PrivilegeNode(
        _("Legacy reseller enterprise support"),
        Privilege.LEGACY_RESELLER_ENTERPRISE_SUPPORT.value,
        _("Older equivalent of Support, View customers and Access customer support cases."),
    ),
    PrivilegeNode(
        _("Legacy enterprise"),
        Privilege.LEGACY_ENTERPRISE.value,
        _("Older equivalent of Support."),
    ),
    PrivilegeNode(
        _("Users"),
        children=(
            PrivilegeNode(
                _("Manage users and org units"),
                Privilege.MANAGE_USERS.value,
                _("Create, suspend and reactivate accounts; org units; notification addresses."),
            ),
        ),
    ),
    PrivilegeNode(
        _("Admin roles"),
        children=(
            PrivilegeNode(
                _("Manage and assign roles"),
                Privilege.MANAGE_ROLES.value,
                _("Create custom roles and assign roles to the domain's accounts."),
            ),
        ),
    ),
)


# --------------------------------------------------------------------------- accounts


def _org_unit_label(unit: OrgUnit) -> str:
    if unit.auto_licensing:
        return _("%(name)s (automatic licensing on)") % {"name": unit.name}
    return unit.name


class UserCreateForm(forms.Form):
    email = EmailAddressField(label=_("Email address"))
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    org_unit = forms.ModelChoiceField(label=_("Org unit"), queryset=OrgUnit.objects.none(), empty_label=None)
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to let the user set one through “Forgot password?”."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=User._meta.get_field("language").choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES, initial="Asia/Seoul")
    confirm_auto_licensing = forms.BooleanField(
        label=_(
            "I understand: in an org unit with automatic licensing the new user also takes a "
            "Google Workspace licence."
        ),
        required=False,
    )

    def __init__(self, *args, org_units, domain_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = org_units
        self.fields["org_unit"].label_from_instance = _org_unit_label
        self.fields["email"].help_text = _("An address of @%(domain)s.") % {"domain": domain_name}
        self.fields["email"].widget.attrs["placeholder"] = f"name@{domain_name}"

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        if value not in KNOWN_TIME_ZONES:
            raise ValidationError(_("Choose a time zone from the list."))
        return value

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            probe = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                validate_password(password, user=probe)
            except ValidationError as error:
                self.add_error("password", error)
        return data


class NotificationAddressForm(forms.Form):
    notification_email = EmailAddressField(
        label=_("Send notifications to"),
        required=False,
        help_text=_(
            "For a Cloud Identity account, the person's Google Workspace address. Leave empty to "
            "use the account's own address. An address outside the domain takes effect once its "
            "owner confirms it from the mail sent there."
        ),
    )


class SignInAddressForm(forms.Form):
    email = forms.EmailField(label=_("Sign-in address"), max_length=254)


class RoleAssignForm(forms.Form):
    role = forms.ModelChoiceField(label=_("Role"), queryset=AdminRole.objects.none())

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles


class RoleHolderAddForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Account"), queryset=User.objects.none())

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self.fields["user"].label_from_instance = lambda user: (
            f"{user.email} ({user.full_name})" if user.full_name else user.email
        )


class ActionForm(forms.Form):
    """A button without fields (suspend, reactivate, delete): the service decides."""


class RoleRemoveForm(forms.Form):
    """Which role (on a user's page) or which holder (on a role's page) to take away."""

    target = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# --------------------------------------------------------------------------- org units


class OrgUnitCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=OrgUnit._meta.get_field("name").max_length)
    auto_licensing = forms.BooleanField(
        label=_("Automatic licensing: every new user here also takes a Google Workspace licence"),
        required=False,
    )


class OrgUnitRenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=OrgUnit._meta.get_field("name").max_length)


class AutoLicensingForm(forms.Form):
    auto_licensing = forms.TypedChoiceField(
        choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on", widget=forms.HiddenInput
    )


# --------------------------------------------------------------------------- licences


class LicenceRequestForm(forms.Form):
    sku = forms.ChoiceField(label=_("Licence type"), choices=LicenceSku.choices)
    quantity = forms.IntegerField(label=_("How many more"), min_value=1, max_value=LICENCE_REQUEST_MAX)
    note = forms.CharField(
        label=_("Note to the operators"),
        required=False,
        max_length=LICENCE_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --------------------------------------------------------------------------- roles


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Role name"), max_length=AdminRole._meta.get_field("name").max_length)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=AdminRole._meta.get_field("description").max_length,
    )
    privileges = forms.MultipleChoiceField(
        label=_("Privileges"),
        choices=Privilege.choices,
        # Rendered as the privilege tree by templates/admin_console/_privilege_tree.html.
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one privilege from the list.")},
    )


# --------------------------------------------------------------------------- customers


class CustomerRecordForm(forms.Form):
    """The customer's address and contact as kept in the Partner Sales Console."""

    address_line = forms.CharField(label=_("Address"), max_length=300, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country_code = forms.RegexField(
        label=_("Country"),
        regex=r"^[A-Za-z]{2}$",
        required=False,
        max_length=2,
        help_text=_("Two-letter code, for example KR."),
        error_messages={"invalid": _("Enter the country as its two-letter code, for example KR.")},
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=200, required=False)
    contact_email = EmailAddressField(label=_("Contact email"), required=False)
    contact_phone = forms.RegexField(
        label=_("Contact phone"),
        regex=r"^[0-9+()\-. ]*$",
        max_length=40,
        required=False,
        error_messages={"invalid": _("A phone number has digits, spaces and + ( ) - . only.")},
    )
