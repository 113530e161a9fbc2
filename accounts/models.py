"""People and the domains they act for: partners, domains, users, org units, licences,
admin roles and their privileges."""

import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Read once: `zoneinfo.available_timezones()` walks the tz database on disk at every call
# (several milliseconds of every case filed).
KNOWN_TIME_ZONES = frozenset(zoneinfo.available_timezones())
TIME_ZONE_CHOICES = sorted((tz, tz) for tz in KNOWN_TIME_ZONES if "/" in tz or tz == "UTC")


class Language(models.TextChoices):
    """Languages a user or a case may use (BCP-47 tags)."""

    EN = "en", "English"
    KO = "ko", "한국어"
    JA = "ja", "日本語"
    ZH_CN = "zh-CN", "中文（简体）"
    ZH_TW = "zh-TW", "中文（繁體）"
    FR = "fr", "Français"


class Partner(models.Model):
    """A company that owns one or more reseller domains."""

    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Domain(models.Model):
    """An internet domain whose accounts act together: a reseller's, a customer's or the
    support organisation's. A user acts for exactly the domain of their account (R1)."""

    class Kind(models.TextChoices):
        RESELLER = "RESELLER", _("Reseller domain")
        CUSTOMER = "CUSTOMER", _("Customer domain")
        SUPPORT = "SUPPORT", _("Support organisation")

    name = models.CharField(_("domain name"), max_length=253, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="domains",
        verbose_name=_("partner"),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["RESELLER", "CUSTOMER", "SUPPORT"]), name="domain_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="RESELLER") | Q(partner__isnull=True),
                name="domain_partner_only_for_resellers",
            ),
            models.CheckConstraint(condition=Q(name=Lower("name")), name="domain_name_lowercase"),
        ]

    def __str__(self) -> str:
        return self.name


class OrgUnit(models.Model):
    """An organisational unit of a domain. With automatic licensing on, every new user in
    the unit is also given a Google Workspace licence."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="org_units")
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    auto_licensing = models.BooleanField(_("automatic licensing"), default=False)

    class Meta:
        ordering = ["domain", "name"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="org_unit_name_unique_in_domain")
        ]

    def __str__(self) -> str:
        return f"{self.domain} / {self.name}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        """An operator of the Django admin (not a domain's super admin)."""
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        if "domain" not in fields:
            name = email.rsplit("@", 1)[-1].lower()
            fields["domain"], _ = Domain.objects.get_or_create(
                name=name, defaults={"kind": Domain.Kind.SUPPORT}
            )
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. It belongs to one domain and acts for that domain only."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    domain = models.ForeignKey(
        Domain, on_delete=models.PROTECT, related_name="users", verbose_name=_("domain")
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("org unit"),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=[("en", "English"), ("ko", "한국어")], default="en"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    # Where mail goes: a Cloud-Identity-style account may redirect to a Workspace address.
    notification_email = models.EmailField(_("notification address"), blank=True)
    # The notices (notifications.models.Notice values) this person chose NOT to get, set
    # on /settings/. Stored as what is turned off, so a new kind of mail starts on; a
    # database default too, so that bulk loaders (the benchmark's) need not write it.
    muted_notices = models.JSONField(_("mails turned off"), default=list, db_default=[], blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("operator (Django admin)"), default=False)
    # Support-organisation accounts only: a lead manages the team's canned replies.
    is_support_lead = models.BooleanField(_("support lead"), default=False, db_default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="user_email_lowercase"),
            models.CheckConstraint(condition=Q(language__in=["en", "ko"]), name="user_language_valid"),
        ]
        indexes = [
            # Who owns a mail address (notification recipients, inbound mail): matched without
            # regard to case, so by UPPER() like Django's iexact. Without it, filing a case
            # read every account (44 ms at 40,000 accounts).
            models.Index(Upper("notification_email"), name="user_notification_email_upper"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def mail_address(self) -> str:
        return self.notification_email or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Privilege(models.TextChoices):
    SUPPORT = "SUPPORT", _("Support")
    RESELLER_VIEW_CUSTOMERS = "RESELLER_VIEW_CUSTOMERS", _("Reseller tools › Customers › View customers")
    RESELLER_ACCESS_CUSTOMER_CASES = (
        "RESELLER_ACCESS_CUSTOMER_CASES",
        _("Reseller tools › Customers › Access customer support cases"),
    )
    LEGACY_RESELLER_ENTERPRISE_SUPPORT = (
        "LEGACY_RESELLER_ENTERPRISE_SUPPORT",
        _("Legacy reseller enterprise support"),
    )
    LEGACY_ENTERPRISE = "LEGACY_ENTERPRISE", _("Legacy enterprise")
    MANAGE_USERS = "MANAGE_USERS", _("Users › Manage users and org units")
    MANAGE_ROLES = "MANAGE_ROLES", _("Admin roles › Manage and assign roles")


class AdminRole(models.Model):
    """A named set of privileges. Built-in roles (Super Admin, Reseller Admin) are shared by
    every domain; custom roles belong to one domain."""

    class BuiltIn(models.TextChoices):
        SUPER_ADMIN = "SUPER_ADMIN", _("Super Admin")
        RESELLER_ADMIN = "RESELLER_ADMIN", _("Reseller Admin")

    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    builtin = models.CharField(max_length=20, choices=BuiltIn.choices, blank=True)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, null=True, blank=True, related_name="roles")

    class Meta:
        ordering = ["-builtin", "name"]
        constraints = [
            # Built-in roles are global; custom roles always belong to a domain.
            models.CheckConstraint(
                condition=(Q(builtin="") & Q(domain__isnull=False))
                | (~Q(builtin="") & Q(domain__isnull=True)),
                name="admin_role_builtin_xor_domain",
            ),
            models.CheckConstraint(
                condition=Q(builtin__in=["", "SUPER_ADMIN", "RESELLER_ADMIN"]),
                name="admin_role_builtin_valid",
            ),
            models.UniqueConstraint(
                fields=["builtin"], condition=~Q(builtin=""), name="admin_role_builtin_unique"
            ),
            models.UniqueConstraint(fields=["domain", "name"], name="admin_role_name_unique_in_domain"),
        ]

    def __str__(self) -> str:
        return self.get_builtin_display() if self.builtin else self.name

    @property
    def is_super_admin(self) -> bool:
        return self.builtin == self.BuiltIn.SUPER_ADMIN


class RolePrivilege(models.Model):
    role = models.ForeignKey(AdminRole, on_delete=models.CASCADE, related_name="privileges")
    privilege = models.CharField(max_length=40, choices=Privilege.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["role", "privilege"], name="role_privilege_unique"),
            models.CheckConstraint(condition=Q(privilege__in=Privilege.values), name="role_privilege_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.privilege}"


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(AdminRole, on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="role_assignment_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.role}"


class LicenceSku(models.TextChoices):
    CLOUD_IDENTITY_FREE = "CLOUD_IDENTITY_FREE", _("Cloud Identity Free")
    WORKSPACE = "WORKSPACE", _("Google Workspace")


class LicencePool(models.Model):
    """How many licences of one kind a domain has bought."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="licence_pools")
    sku = models.CharField(max_length=32, choices=LicenceSku.choices)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["domain", "sku"], name="licence_pool_unique"),
            models.CheckConstraint(condition=Q(sku__in=LicenceSku.values), name="licence_pool_sku_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.total} × {self.sku}"


class LicenceAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="licences")
    sku = models.CharField(max_length=32, choices=LicenceSku.choices)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "sku"], name="licence_assignment_unique"),
            models.CheckConstraint(
                condition=Q(sku__in=LicenceSku.values), name="licence_assignment_sku_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.sku}"


class LicenceRequest(models.Model):
    """A super admin's request for more licences, kept and mailed to the operators."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="licence_requests")
    sku = models.CharField(max_length=32, choices=LicenceSku.choices)
    quantity = models.PositiveIntegerField()
    note = models.TextField(blank=True, max_length=2000)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=100000), name="licence_request_quantity_range"
            ),
            models.CheckConstraint(condition=Q(sku__in=LicenceSku.values), name="licence_request_sku_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.domain}: +{self.quantity} {self.sku}"


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.prefix}…"
