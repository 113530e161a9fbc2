"""The persona world every test stands on: the demo data of SPEC §9 plus a second partner
with a third reseller domain and a customer without portal access. Zulip-style: every
persona has a name, so a cross-tenant test is one line."""

from django.utils import timezone

from accounts.models import AdminRole, Domain, OrgUnit, Partner, RoleAssignment, User
from cases.models import Classification
from customers.models import Customer, SupportTier
from customers.services import customer_reseller_set
from portal.demo import DEMO_PASSWORD, seed_demo

PERSONAS = {
    # SPEC §9
    "admin": "admin@reseller.example.com",
    "agent": "agent@reseller.example.com",
    "viewer": "viewer@reseller.example.com",
    "alex": "alex@reseller.example.com",
    "alex2": "alex@reseller2.example.com",
    "agent2": "agent@reseller2.example.com",
    "acme_admin": "admin@acme.example",
    "acme_user": "user@acme.example",
    "globex_admin": "admin@globex.example",
    "initech_admin": "admin@initech.example",
    "umbrella_admin": "admin@umbrella.example",
    "engineer": "engineer@support.example",
    # a second partner, a third reseller domain
    "admin3": "admin@reseller3.example.net",
    "agent3": "agent@reseller3.example.net",
    "hooli_admin": "admin@hooli.example",
    "nobody": "nobody@reseller.example.com",  # a reseller account without any role
}
CUSTOMER_DOMAINS = {
    "acme": "acme.example",
    "globex": "globex.example",
    "initech": "initech.example",
    "umbrella": "umbrella.example",
    "hooli": "hooli.example",
}
DOMAINS = {
    "reseller": "reseller.example.com",
    "reseller2": "reseller2.example.com",
    "reseller3": "reseller3.example.net",
    "support": "support.example",
}


def build_world() -> None:
    """Idempotent, like seed_demo."""
    seed_demo()
    partner, _ = Partner.objects.get_or_create(name="Second Partner")
    reseller3, _ = Domain.objects.get_or_create(
        name=DOMAINS["reseller3"], defaults={"kind": Domain.Kind.RESELLER, "partner": partner}
    )
    unit, _ = OrgUnit.objects.get_or_create(domain=reseller3, name="Support staff")
    super_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.SUPER_ADMIN)
    reseller_admin = AdminRole.objects.get(builtin=AdminRole.BuiltIn.RESELLER_ADMIN)
    for email, role in ((PERSONAS["admin3"], super_admin), (PERSONAS["agent3"], reseller_admin)):
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, DEMO_PASSWORD, domain=reseller3, org_unit=unit
        )
        RoleAssignment.objects.get_or_create(user=user, role=role)
    if not User.objects.filter(email=PERSONAS["nobody"]).exists():
        User.objects.create_user(
            PERSONAS["nobody"], DEMO_PASSWORD, domain=Domain.objects.get(name=DOMAINS["reseller"])
        )
    hooli_domain, _ = Domain.objects.get_or_create(
        name=CUSTOMER_DOMAINS["hooli"], defaults={"kind": Domain.Kind.CUSTOMER}
    )
    hooli, created = Customer.objects.get_or_create(
        primary_domain=hooli_domain,
        defaults={"name": "Hooli", "support_tier": SupportTier.ENHANCED, "portal_access": False},
    )
    hooli_admin = User.objects.filter(email=PERSONAS["hooli_admin"]).first() or User.objects.create_user(
        PERSONAS["hooli_admin"], DEMO_PASSWORD, domain=hooli_domain
    )
    RoleAssignment.objects.get_or_create(user=hooli_admin, role=super_admin)
    if created:
        customer_reseller_set(customer=hooli, domain=reseller3, actor=None)


class World:
    """Attribute access to personas, customers and domains: `w.agent`, `w.acme`, `w.reseller2`."""

    def __getattr__(self, name: str):
        if name in PERSONAS:
            return User.objects.get(email=PERSONAS[name])
        if name in CUSTOMER_DOMAINS:
            return Customer.objects.get(primary_domain__name=CUSTOMER_DOMAINS[name])
        if name in DOMAINS:
            return Domain.objects.get(name=DOMAINS[name])
        raise AttributeError(name)

    @staticmethod
    def leaf(name: str = "Gmail > Email delivery > Messages delayed") -> Classification:
        return Classification.objects.get(display_name=name)

    @staticmethod
    def now():
        return timezone.now()
