"""Customers, the reseller domains that manage or support them, and their consent."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Domain, User


class SupportTier(models.TextChoices):
    STANDARD = "STANDARD", _("Standard")
    ENHANCED = "ENHANCED", _("Enhanced")
    PREMIUM = "PREMIUM", _("Premium")


class Customer(models.Model):
    """A Google Workspace customer. Address and contact are kept as in the sales console
    and pre-fill delegated cases."""

    name = models.CharField(_("name"), max_length=200)
    primary_domain = models.OneToOneField(
        Domain, on_delete=models.PROTECT, related_name="customer", verbose_name=_("primary domain")
    )
    support_tier = models.CharField(
        _("support tier"), max_length=10, choices=SupportTier.choices, default=SupportTier.STANDARD
    )
    portal_access = models.BooleanField(_("support portal access"), default=True)
    address_line = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country_code = models.CharField(_("country"), max_length=2, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(support_tier__in=SupportTier.values), name="customer_support_tier_valid"
            ),
        ]
        indexes = [models.Index(fields=["name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.name


class Relationship(models.Model):
    """A period during which a reseller domain manages (RESELLER) or supports
    (SUPPORT_PARTNER) a customer. Rows are never rewritten: a change ends the current
    row (sets `ended_at`) and starts a new one, so the history stays."""

    class Kind(models.TextChoices):
        RESELLER = "RESELLER", _("Reseller")
        SUPPORT_PARTNER = "SUPPORT_PARTNER", _("Support partner")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="relationships")
    reseller_domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="relationships")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # PROTECT, not SET_NULL: history rows are never rewritten (accounts are suspended, not deleted).
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    ended_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["RESELLER", "SUPPORT_PARTNER"]), name="relationship_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="relationship_ends_after_start",
            ),
            # At most one active reseller of record per customer.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(kind="RESELLER", ended_at__isnull=True),
                name="relationship_one_active_reseller",
            ),
            # A domain holds at most one active relationship with a customer.
            models.UniqueConstraint(
                fields=["customer", "reseller_domain"],
                condition=Q(ended_at__isnull=True),
                name="relationship_one_active_per_domain",
            ),
        ]
        indexes = [
            models.Index(
                fields=["reseller_domain", "customer"],
                condition=Q(ended_at__isnull=True),
                name="relationship_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reseller_domain} {self.kind} {self.customer}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class AccessGrant(models.Model):
    """The customer's consent: may this reseller domain file and see support cases?
    One current row per (customer, domain); every change is also kept in
    AccessGrantChange."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="access_grants")
    reseller_domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="access_grants")
    support_cases = models.BooleanField(_("support cases"), default=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "reseller_domain"], name="access_grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} → {self.reseller_domain}: {'on' if self.support_cases else 'off'}"


class AccessGrantChange(models.Model):
    """Append-only audit of consent changes."""

    grant = models.ForeignKey(AccessGrant, on_delete=models.PROTECT, related_name="changes")
    support_cases = models.BooleanField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.grant}: {self.support_cases} at {self.changed_at}"
