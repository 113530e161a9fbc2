"""The fixed demo world of SPEC §9, so that anyone can try every rule by hand. Idempotent:
running it again changes nothing that is already there.

Accounts, customers and relationships are made through the same rules as in the
product; the demo cases are written with back-dated timestamps (a case filed "40 days
ago" with its history), which no service would do, so they are built here directly and
still satisfy every database constraint."""

import functools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    AdminRole,
    Domain,
    LicenceAssignment,
    LicencePool,
    LicenceSku,
    OrgUnit,
    Partner,
    Privilege,
    RoleAssignment,
    RolePrivilege,
    User,
)
from cases.classifications import classification_tree_load
from cases.models import Case, CaseEvent, CaseSubscriber, Classification, Comment
from customers.models import AccessGrant, AccessGrantChange, Customer, Relationship, SupportTier

DEMO_PASSWORD = "demo-pass-2024"  # demo only: README says so


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    roles: tuple[str, ...] = ()  # built-in codes or custom role names
    language: str = "en"
    time_zone: str = "Asia/Seoul"


RESELLER_USERS = [
    DemoUser("admin@reseller.example.com", "Dana Park", (AdminRole.BuiltIn.SUPER_ADMIN,), "ko"),
    DemoUser("agent@reseller.example.com", "Min-jun Lee", (AdminRole.BuiltIn.RESELLER_ADMIN,), "ko"),
    DemoUser("viewer@reseller.example.com", "Vera Choi", ("Customer viewer",)),
    DemoUser("alex@reseller.example.com", "Alex Kim", (AdminRole.BuiltIn.RESELLER_ADMIN,)),
    DemoUser("alex@reseller2.example.com", "Alex Kim", (AdminRole.BuiltIn.RESELLER_ADMIN,)),
    DemoUser("agent@reseller2.example.com", "Sam Jung", (AdminRole.BuiltIn.RESELLER_ADMIN,)),
]

CUSTOMERS = [
    # name, domain, tier, users (email, name, super admin?), address, contact
    (
        "Acme Corp",
        "acme.example",
        SupportTier.PREMIUM,
        [("admin@acme.example", "Ada Han", True), ("user@acme.example", "Uri Seo", False)],
        ("123 Teheran-ro, Gangnam-gu", "Seoul", "06236", "KR"),
        ("Ada Han", "admin@acme.example", "+82 2 555 0100"),
    ),
    (
        "Globex",
        "globex.example",
        SupportTier.STANDARD,
        [("admin@globex.example", "Grace Oh", True)],
        ("45 Jong-ro", "Seoul", "03161", "KR"),
        ("Grace Oh", "admin@globex.example", "+82 2 555 0200"),
    ),
    (
        "Initech",
        "initech.example",
        SupportTier.ENHANCED,
        [("admin@initech.example", "Ian Yoon", True)],
        ("9 Centum-ro", "Busan", "48058", "KR"),
        ("Ian Yoon", "admin@initech.example", "+82 51 555 0300"),
    ),
    (
        "Umbrella",
        "umbrella.example",
        SupportTier.STANDARD,
        [("admin@umbrella.example", "Una Shin", True)],
        ("77 Pangyo-ro", "Seongnam", "13494", "KR"),
        ("Una Shin", "admin@umbrella.example", "+82 31 555 0400"),
    ),
]

ISSUES = [
    ("Mail to external recipients delayed by several hours", "Gmail > Email delivery > Messages delayed"),
    ("외부 수신자에게 메일이 지연됩니다", "Gmail > Email delivery > Messages delayed"),
    ("Users cannot open files in a shared drive", "Google Drive > Shared drives"),
    ("Meet recordings do not appear in Drive", "Google Meet > Recording"),
    ("Calendar invitations arrive without the Meet link", "Google Calendar"),
    ("SAML sign-in fails with error 403 app_not_configured_for_user", "Directory & Users"),
    ("Invoice shows licences we already removed", "Billing"),
    ("DKIM signature fails for messages sent via the relay", "Gmail"),
    ("2단계 인증 코드가 도착하지 않습니다", "Security"),
    ("Chat spaces missing after migration", "Google Chat"),
    ("Mobile devices stuck in pending approval", "Mobile device management"),
    ("Data migration from Exchange stops at 80%", "Data migration"),
]


def _domain(name: str, kind: str, partner: Partner | None = None) -> Domain:
    domain, _created = Domain.objects.get_or_create(name=name, defaults={"kind": kind, "partner": partner})
    return domain


@functools.cache
def _demo_password_hash() -> str:
    # Hashed once for all twelve accounts: each hash costs about half a second of CPU on
    # purpose (PBKDF2), and the demo password is published anyway.
    return make_password(DEMO_PASSWORD)


def _user(domain: Domain, spec: DemoUser, org_unit: OrgUnit | None = None) -> User:
    user = User.objects.filter(email=spec.email).first()
    if user is None:
        user = User.objects.create_user(
            spec.email,
            None,
            domain=domain,
            org_unit=org_unit,
            full_name=spec.full_name,
            language=spec.language,
            time_zone=spec.time_zone,
        )
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def _assign(user: User, role: AdminRole) -> None:
    RoleAssignment.objects.get_or_create(user=user, role=role)


def _builtin_roles() -> dict[str, AdminRole]:
    roles = {}
    for code, label in AdminRole.BuiltIn.choices:
        roles[code], _created = AdminRole.objects.get_or_create(builtin=code, defaults={"name": str(label)})
    return roles


def _relationship(customer: Customer, domain: Domain, kind: str, started_at, ended_at=None) -> None:
    if not Relationship.objects.filter(
        customer=customer, reseller_domain=domain, started_at=started_at
    ).exists():
        Relationship.objects.create(
            customer=customer, reseller_domain=domain, kind=kind, started_at=started_at, ended_at=ended_at
        )


def _consent(customer: Customer, domain: Domain, on: bool, changed_by: User, at) -> None:
    grant, created = AccessGrant.objects.get_or_create(
        customer=customer,
        reseller_domain=domain,
        defaults={"support_cases": on, "changed_at": at, "changed_by": changed_by},
    )
    if created:
        AccessGrantChange.objects.create(grant=grant, support_cases=on, changed_at=at, changed_by=changed_by)


@transaction.atomic
def seed_demo(*, stdout=None) -> dict[str, int]:
    now = timezone.now()
    classification_tree_load()

    partner, _created = Partner.objects.get_or_create(name="Example Partner")
    reseller = _domain("reseller.example.com", Domain.Kind.RESELLER, partner)
    reseller2 = _domain("reseller2.example.com", Domain.Kind.RESELLER, partner)
    support = _domain("support.example", Domain.Kind.SUPPORT)
    roles = _builtin_roles()

    viewer_role, _created = AdminRole.objects.get_or_create(
        domain=reseller, name="Customer viewer", defaults={"description": "Sees customers, not their cases."}
    )
    RolePrivilege.objects.get_or_create(role=viewer_role, privilege=Privilege.RESELLER_VIEW_CUSTOMERS)
    roles["Customer viewer"] = viewer_role

    for domain in (reseller, reseller2):
        OrgUnit.objects.get_or_create(domain=domain, name="Sales", defaults={"auto_licensing": True})
        LicencePool.objects.get_or_create(
            domain=domain, sku=LicenceSku.CLOUD_IDENTITY_FREE, defaults={"total": 50}
        )
        LicencePool.objects.get_or_create(domain=domain, sku=LicenceSku.WORKSPACE, defaults={"total": 10})
    support_units = {
        d.pk: OrgUnit.objects.get_or_create(
            domain=d, name="Support staff", defaults={"auto_licensing": False}
        )[0]
        for d in (reseller, reseller2)
    }

    for spec in RESELLER_USERS:
        domain = reseller2 if spec.email.endswith("@reseller2.example.com") else reseller
        user = _user(domain, spec, support_units[domain.pk])
        LicenceAssignment.objects.get_or_create(user=user, sku=LicenceSku.CLOUD_IDENTITY_FREE)
        for role in spec.roles:
            _assign(user, roles[role])
    # Mail for Alex's second (Cloud Identity) account goes to the primary address.
    User.objects.filter(email="alex@reseller2.example.com", notification_email="").update(
        notification_email="alex@reseller.example.com"
    )
    engineer = _user(support, DemoUser("engineer@support.example", "Eun-ji Kang", (), "en", "Asia/Seoul"))

    customers: dict[str, Customer] = {}
    admins: dict[str, User] = {}
    people: dict[str, list[User]] = {}
    for name, domain_name, tier, users, address, contact in CUSTOMERS:
        domain = _domain(domain_name, Domain.Kind.CUSTOMER)
        customer, _created = Customer.objects.get_or_create(
            primary_domain=domain,
            defaults={
                "name": name,
                "support_tier": tier,
                "address_line": address[0],
                "city": address[1],
                "postal_code": address[2],
                "country_code": address[3],
                "contact_name": contact[0],
                "contact_email": contact[1],
                "contact_phone": contact[2],
                "created_at": now - timedelta(days=900),
            },
        )
        customers[domain_name] = customer
        people[domain_name] = []
        for email, full_name, is_admin in users:
            user = _user(domain, DemoUser(email, full_name))
            people[domain_name].append(user)
            if is_admin:
                _assign(user, roles[AdminRole.BuiltIn.SUPER_ADMIN])
                admins[domain_name] = user

    acme, globex, initech, umbrella = (
        customers[d] for d in ("acme.example", "globex.example", "initech.example", "umbrella.example")
    )
    long_ago = now - timedelta(days=800)
    moved_at = (now - timedelta(days=60)).replace(microsecond=0)
    if not Relationship.objects.filter(customer__in=customers.values()).exists():
        _relationship(acme, reseller, Relationship.Kind.RESELLER, long_ago)
        _relationship(globex, reseller, Relationship.Kind.RESELLER, long_ago)
        _relationship(initech, reseller2, Relationship.Kind.RESELLER, long_ago)
        # Umbrella moved from reseller2 to reseller 60 days ago; the history stays.
        _relationship(umbrella, reseller2, Relationship.Kind.RESELLER, long_ago, ended_at=moved_at)
        _relationship(umbrella, reseller, Relationship.Kind.RESELLER, moved_at)
    _consent(acme, reseller, True, admins["acme.example"], long_ago)
    _consent(globex, reseller, False, admins["globex.example"], long_ago)
    _consent(initech, reseller2, True, admins["initech.example"], long_ago)
    _consent(umbrella, reseller2, True, admins["umbrella.example"], long_ago)
    _consent(umbrella, reseller, True, admins["umbrella.example"], moved_at)

    agents = {
        reseller.pk: User.objects.get(email="agent@reseller.example.com"),
        reseller2.pk: User.objects.get(email="agent@reseller2.example.com"),
    }
    plan = [
        # customer, managing domain, how many, oldest (days ago), newest (days ago)
        (acme, reseller, 30, 120, 0),
        (globex, reseller, 8, 200, 5),
        (initech, reseller2, 14, 150, 0),
        (umbrella, reseller2, 10, 400, 61),
        (umbrella, reseller, 10, 59, 0),
    ]
    created = 0
    rng = random.Random(2024)
    leaves = {c.display_name: c for c in Classification.objects.filter(is_leaf=True)}
    states = list(Case.State.values)
    serial = 0
    for customer, domain, count, oldest, newest in plan:
        customer_users = people[customer.primary_domain.name]
        for _i in range(count):
            serial += 1
            state = states[serial % len(states)]
            if _demo_case(
                serial=serial,
                rng=rng,
                now=now,
                customer=customer,
                domain=domain,
                state=state,
                agent=agents[domain.pk],
                customer_users=customer_users,
                engineer=engineer,
                leaves=leaves,
                oldest=oldest,
                newest=newest,
            ):
                created += 1
    counts = {
        "users": User.objects.count(),
        "customers": Customer.objects.count(),
        "cases_created": created,
        "classifications": len(leaves),
    }
    if stdout is not None:
        stdout.write(", ".join(f"{key}: {value}" for key, value in counts.items()))
    return counts


def _demo_case(
    *, serial, rng, now, customer, domain, state, agent, customer_users, engineer, leaves, oldest, newest
) -> bool:
    key = f"demo-{serial}"
    if Case.objects.filter(request_key=key).exists():
        return False
    title, area = ISSUES[serial % len(ISSUES)]
    candidates = [c for name, c in leaves.items() if name.startswith(area)] or list(leaves.values())
    classification = rng.choice(sorted(candidates, key=lambda c: c.code))
    delegated = serial % 3 != 0
    creator = agent if delegated else customer_users[serial % len(customer_users)]
    created_at = now - timedelta(
        days=rng.randint(newest, oldest), hours=rng.randint(0, 23), minutes=rng.randint(0, 59)
    )
    if created_at > now - timedelta(minutes=30):
        created_at = now - timedelta(minutes=30)
    language = "ko" if any("\uac00" <= ch <= "\ud7a3" for ch in title) else "en"
    case = Case.objects.create(
        customer=customer,
        managing_domain=domain,
        creator=creator,
        contact_email=creator.email,
        channel=Case.Channel.DELEGATED if delegated else Case.Channel.PORTAL,
        classification=classification,
        title=title,
        description=(
            f"{title}.\n\nFirst noticed on {created_at:%Y-%m-%d}. About {rng.randint(2, 300)} users are affected. "
            "We already checked the admin console settings and the status dashboard."
        ),
        answers={str(i): "See the description." for i in range(len(classification.questions))},
        priority=rng.choice(["P1", "P2", "P3", "P3", "P4"]),
        state=Case.State.NEW,
        language=language,
        time_zone="Asia/Seoul",
        request_key=key,
        created_at=created_at,
        updated_at=created_at,
    )
    case.number = settings.CASE_NUMBER_BASE + case.pk
    events = [
        CaseEvent(
            case=case,
            actor=creator,
            actor_email=creator.email,
            kind=CaseEvent.Kind.CREATED,
            after={"title": title, "priority": case.priority},
            created_at=created_at,
        )
    ]
    if serial % 4 == 0:
        CaseSubscriber.objects.create(
            case=case, email="it-team@" + customer.primary_domain.name, added_by=creator, added_at=created_at
        )
        events.append(
            CaseEvent(
                case=case,
                actor=creator,
                actor_email=creator.email,
                kind=CaseEvent.Kind.SUBSCRIBER_ADDED,
                field="subscribers",
                after="it-team@" + customer.primary_domain.name,
                created_at=created_at,
            )
        )
    at = created_at
    span = max((now - created_at) / 6, timedelta(minutes=1))

    def step() -> datetime:
        nonlocal at
        at = min(at + span * rng.uniform(0.3, 1.0), now)
        return at

    def comment(author: User, body: str) -> None:
        when = step()
        c = Comment.objects.create(
            case=case,
            author=author,
            author_email=author.email,
            body=body,
            from_support=author == engineer,
            created_at=when,
        )
        events.append(
            CaseEvent(
                case=case,
                actor=author,
                actor_email=author.email,
                kind=CaseEvent.Kind.COMMENTED,
                after={"comment": c.pk},
                created_at=when,
            )
        )
        if author == engineer and case.first_response_at is None:
            case.first_response_at = when

    def move(to: str, actor: User) -> None:
        when = step()
        events.append(
            CaseEvent(
                case=case,
                actor=actor,
                actor_email=actor.email,
                kind=CaseEvent.Kind.STATE_CHANGED,
                field="state",
                before=case.state,
                after=to,
                created_at=when,
            )
        )
        case.state = to
        case.closed_at = when if to == Case.State.CLOSED else None

    if state != Case.State.NEW:
        comment(
            engineer, "Thanks for reaching out. We are looking into this now and will update you shortly."
        )
        move(Case.State.IN_PROGRESS_GOOGLE_SUPPORT, engineer)
    if state in (Case.State.ACTION_REQUIRED, Case.State.SOLUTION_PROVIDED, Case.State.CLOSED):
        comment(engineer, "Could you send the full message headers of one affected message?")
        move(Case.State.ACTION_REQUIRED, engineer)
    if state in (Case.State.SOLUTION_PROVIDED, Case.State.CLOSED):
        comment(creator, "Headers attached below. Thank you.")
        move(Case.State.IN_PROGRESS_GOOGLE_SUPPORT, creator)
        comment(
            engineer,
            "The sending server's SPF record was missing an include; after the fix mail flows again.",
        )
        move(Case.State.SOLUTION_PROVIDED, engineer)
    if state == Case.State.CLOSED:
        move(Case.State.CLOSED, creator)
    if customer.support_tier == SupportTier.PREMIUM and serial % 5 == 0 and case.state != Case.State.CLOSED:
        when = step()
        case.escalated_at, case.escalated_by = when, creator
        case.escalation_reason = Case.EscalationReason.BUSINESS_IMPACT
        case.escalation_justification = "Executives cannot send mail to partners; a launch is blocked."
        events.append(
            CaseEvent(
                case=case,
                actor=creator,
                actor_email=creator.email,
                kind=CaseEvent.Kind.ESCALATED,
                field="escalation",
                after={"reason": case.escalation_reason},
                created_at=when,
            )
        )
    case.updated_at = at
    case.save()
    CaseEvent.objects.bulk_create(events)
    return True
