from django.core.management import call_command

from accounts.models import User
from cases.models import Case, Classification
from customers.models import AccessGrant, Customer, Relationship


def test_seed_demo_is_idempotent(db):
    before = (
        User.objects.count(),
        Customer.objects.count(),
        Case.objects.count(),
        Relationship.objects.count(),
    )
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    after = (
        User.objects.count(),
        Customer.objects.count(),
        Case.objects.count(),
        Relationship.objects.count(),
    )
    assert before == after


def test_seed_has_cases_in_every_state_and_a_real_classification_tree(db):
    for state in Case.State.values:
        assert Case.objects.filter(state=state).count() >= 10, state
    leaves = Classification.objects.filter(is_leaf=True)
    assert leaves.count() >= 40
    assert all(2 <= len(leaf.questions) <= 4 for leaf in leaves)
    products = set(Classification.objects.filter(parent=None).values_list("name", flat=True))
    assert {
        "Gmail",
        "Google Drive",
        "Google Meet",
        "Google Calendar",
        "Google Chat",
        "Admin console",
        "Security",
        "Billing",
    } <= products


def test_seed_matches_spec_customers(db):
    expected = {"Acme Corp": ("PREMIUM", True), "Globex": ("STANDARD", False), "Initech": ("ENHANCED", True)}
    for name, (tier, consent) in expected.items():
        customer = Customer.objects.get(name=name)
        assert customer.support_tier == tier
        assert (
            AccessGrant.objects.get(
                customer=customer,
                reseller_domain__kind="RESELLER",
                reseller_domain__relationships__customer=customer,
                reseller_domain__relationships__ended_at=None,
            ).support_cases
            is consent
        )
    umbrella = Customer.objects.get(name="Umbrella")
    history = list(
        Relationship.objects.filter(customer=umbrella)
        .order_by("started_at")
        .values_list("reseller_domain__name", "ended_at")
    )
    assert [name for name, _ in history] == ["reseller2.example.com", "reseller.example.com"]
    assert history[0][1] is not None and history[1][1] is None
    assert set(Case.objects.filter(customer=umbrella).values_list("managing_domain__name", flat=True)) == {
        "reseller.example.com",
        "reseller2.example.com",
    }


def test_demo_has_a_support_team_of_three_with_a_lead_and_canned_replies(db):
    from accounts.models import Domain
    from cases.models import CannedReply

    team = User.objects.filter(domain__kind=Domain.Kind.SUPPORT, email__endswith="@support.example")
    assert set(team.values_list("email", flat=True)) >= {
        "engineer@support.example",
        "engineer2@support.example",
        "lead@support.example",
    }
    assert list(team.filter(is_support_lead=True).values_list("email", flat=True)) == ["lead@support.example"]
    assert {"en", "ko"} <= set(CannedReply.objects.values_list("language", flat=True))
    # Open demo cases are spread over the team, and some wait on support after a customer reply.
    assert Case.objects.exclude(state="CLOSED").filter(assignee__email="engineer2@support.example").exists()
    assert Case.objects.filter(waiting_on="SUPPORT", first_response_at__isnull=False).exists()
