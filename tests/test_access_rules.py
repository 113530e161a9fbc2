"""SPEC §3: every access rule, the allowed side and the refused side."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from accounts.models import AdminRole, Privilege, RoleAssignment, RolePrivilege, User
from accounts.selectors import user_managed_by, user_privileges
from cases.models import Attachment, Case
from cases.selectors import (
    attachment_visible_to,
    case_comments_for,
    case_get_for_user,
    case_timeline,
    case_visible_to,
    comment_visible_to,
)
from cases.services import (
    case_can_file_for,
    case_comment_add,
    case_note_add,
    case_subscribers_set,
    case_support_update,
)
from customers.models import Relationship
from customers.selectors import customer_visible_to
from customers.services import (
    customer_consent_set,
    customer_reseller_set,
    support_partner_add,
    support_partner_remove,
)
from portal.errors import NotFound, PermissionRefused


def visible_customers(user) -> set[str]:
    return set(customer_visible_to(user).values_list("name", flat=True))


def sees(user, case) -> bool:
    return case_visible_to(user).filter(pk=case.pk).exists()


def role_with(*privileges, domain) -> AdminRole:
    role = AdminRole.objects.create(name="Custom " + "+".join(privileges), domain=domain)
    for privilege in privileges:
        RolePrivilege.objects.create(role=role, privilege=privilege)
    return role


class TestR1DomainIsolation:
    def test_reseller_sees_the_customers_of_the_domain_in_use(self, w):
        assert visible_customers(w.agent) == {"Acme Corp", "Globex", "Umbrella"}

    def test_reseller_never_sees_another_domains_customers_even_of_the_same_partner(self, w):
        assert w.reseller.partner == w.reseller2.partner
        assert visible_customers(w.agent2) == {"Initech"}
        assert "Acme Corp" not in visible_customers(w.alex2)

    def test_one_person_sees_each_domains_customers_only_through_that_domains_account(self, w):
        assert visible_customers(w.alex) == {"Acme Corp", "Globex", "Umbrella"}
        assert visible_customers(w.alex2) == {"Initech"}

    def test_reseller_of_another_partner_sees_only_its_own(self, w):
        assert visible_customers(w.agent3) == {"Hooli"}

    def test_cases_follow_the_domain_in_use(self, w, file_case):
        acme_case = file_case(w.agent, w.acme)
        initech_case = file_case(w.agent2, w.initech)
        assert sees(w.agent, acme_case) and sees(w.alex, acme_case)
        assert not sees(w.agent2, acme_case) and not sees(w.alex2, acme_case)
        assert sees(w.alex2, initech_case) and not sees(w.alex, initech_case)


class TestR2Privileges:
    def test_reseller_admin_holds_every_reseller_privilege(self, w):
        assert {
            Privilege.SUPPORT,
            Privilege.RESELLER_VIEW_CUSTOMERS,
            Privilege.RESELLER_ACCESS_CUSTOMER_CASES,
        } <= user_privileges(w.agent)

    def test_viewer_sees_customers_but_not_their_cases(self, w, file_case):
        case = file_case(w.agent, w.acme)
        assert "Acme Corp" in visible_customers(w.viewer)
        assert not sees(w.viewer, case)

    def test_refusal_names_the_missing_privilege_and_the_super_admin(self, w, file_case):
        with pytest.raises(PermissionRefused) as refused:
            file_case(w.viewer, w.acme)
        assert "Access customer support cases" in str(refused.value.message)
        assert "super admin" in str(refused.value.message)

    def test_account_without_a_role_sees_nothing(self, w, file_case):
        case = file_case(w.agent, w.acme)
        assert visible_customers(w.nobody) == set()
        assert not sees(w.nobody, case)

    def test_case_access_without_support_privilege_is_refused(self, w, file_case):
        case = file_case(w.agent, w.acme)
        nobody = w.nobody
        RoleAssignment.objects.create(
            user=nobody, role=role_with(Privilege.RESELLER_ACCESS_CUSTOMER_CASES, domain=w.reseller)
        )
        assert not sees(User.objects.get(pk=nobody.pk), case)
        RoleAssignment.objects.create(user=nobody, role=role_with(Privilege.SUPPORT, domain=w.reseller))
        assert sees(User.objects.get(pk=nobody.pk), case)

    def test_legacy_reseller_privilege_grants_what_it_stood_for(self, w, file_case):
        case = file_case(w.agent, w.acme)
        RoleAssignment.objects.create(
            user=w.nobody, role=role_with(Privilege.LEGACY_RESELLER_ENTERPRISE_SUPPORT, domain=w.reseller)
        )
        assert sees(w.nobody, case)
        assert "Acme Corp" in visible_customers(w.nobody)

    def test_removed_role_takes_effect_on_the_next_request(self, w, file_case):
        case = file_case(w.agent, w.acme)
        agent = w.agent
        assert sees(agent, case)
        RoleAssignment.objects.filter(user=agent).delete()
        assert not sees(User.objects.get(pk=agent.pk), case)


class TestR3Consent:
    def test_delegated_case_can_be_filed_while_consent_is_on(self, w, file_case):
        case = file_case(w.agent, w.acme)
        assert case.channel == Case.Channel.DELEGATED and case.managing_domain == w.reseller

    def test_delegated_case_is_refused_while_consent_is_off(self, w, file_case):
        with pytest.raises(PermissionRefused) as refused:
            file_case(w.agent, w.globex)
        assert "Globex" in str(refused.value.message)

    def test_turning_consent_off_hides_the_domains_cases_and_on_shows_them_again(self, w, file_case):
        case = file_case(w.agent, w.acme)
        customer_consent_set(actor=w.acme_admin, customer=w.acme, domain=w.reseller, support_cases=False)
        assert not sees(w.agent, case)
        with pytest.raises(PermissionRefused):
            file_case(w.agent, w.acme)
        customer_consent_set(actor=w.acme_admin, customer=w.acme, domain=w.reseller, support_cases=True)
        assert sees(w.agent, case)

    def test_only_the_customers_super_admin_changes_consent(self, w):
        for actor in (w.acme_user, w.agent, w.globex_admin):
            with pytest.raises(PermissionRefused):
                customer_consent_set(actor=actor, customer=w.acme, domain=w.reseller, support_cases=False)


class TestR4ResellerCaseVisibility:
    def test_reseller_sees_cases_filed_while_it_managed_the_customer(self, w):
        after_move = Case.objects.filter(customer=w.umbrella, managing_domain=w.reseller)
        assert after_move.exists()
        assert set(case_visible_to(w.agent).filter(customer=w.umbrella)) == set(after_move)

    def test_reseller_never_sees_cases_filed_under_the_previous_reseller(self, w):
        before_move = Case.objects.filter(customer=w.umbrella, managing_domain=w.reseller2)
        assert before_move.exists()
        assert not case_visible_to(w.agent).filter(pk__in=before_move).exists()

    def test_previous_reseller_loses_its_cases_when_the_customer_moves(self, w, file_case):
        case = file_case(w.agent2, w.initech)
        assert sees(w.agent2, case)
        customer_reseller_set(customer=w.initech, domain=w.reseller3)
        assert not sees(w.agent2, case)
        assert not sees(w.agent3, case)
        assert Relationship.objects.filter(customer=w.initech).count() == 2  # history kept

    def test_customer_filed_cases_are_seen_by_the_reseller_of_record(self, w, file_case):
        case = file_case(w.acme_user, w.acme)
        assert case.channel == Case.Channel.PORTAL and case.managing_domain == w.reseller
        assert sees(w.agent, case)


class TestR5SupportPartners:
    def test_support_partner_is_active_at_once_and_sees_cases_filed_after(self, w, file_case):
        before = file_case(w.acme_user, w.acme)
        with time_machine.travel(before.created_at + timedelta(seconds=5)):
            support_partner_add(actor=w.acme_admin, customer=w.acme, domain=w.reseller3)
        with time_machine.travel(before.created_at + timedelta(seconds=10)):
            after = file_case(w.agent3, w.acme)
        assert "Acme Corp" in visible_customers(w.agent3)
        assert sees(w.agent3, after)
        assert after.managing_domain == w.reseller  # the reseller of record still manages it
        assert sees(w.agent, after)

    def test_support_partner_never_sees_cases_filed_before_the_partnership(self, w, file_case):
        before = file_case(w.acme_user, w.acme)
        with time_machine.travel(before.created_at + timedelta(seconds=5)):
            support_partner_add(actor=w.acme_admin, customer=w.acme, domain=w.reseller3)
        assert not sees(w.agent3, before)

    def test_removed_support_partner_sees_nothing_more(self, w, file_case):
        support_partner_add(actor=w.acme_admin, customer=w.acme, domain=w.reseller3)
        case = file_case(w.agent3, w.acme)
        support_partner_remove(actor=w.acme_admin, customer=w.acme, domain=w.reseller3)
        assert not sees(w.agent3, case)
        assert "Acme Corp" not in visible_customers(w.agent3)

    def test_only_the_customers_super_admin_adds_a_support_partner(self, w):
        with pytest.raises(PermissionRefused):
            support_partner_add(actor=w.acme_user, customer=w.acme, domain=w.reseller3)
        with pytest.raises(PermissionRefused):
            support_partner_add(actor=w.agent3, customer=w.acme, domain=w.reseller3)


class TestR6Customers:
    def test_customer_user_sees_every_case_of_the_customer_including_delegated(self, w, file_case):
        delegated = file_case(w.agent, w.acme)
        own = file_case(w.acme_admin, w.acme)
        assert sees(w.acme_user, delegated) and sees(w.acme_user, own)
        assert set(case_visible_to(w.acme_user)) == set(Case.objects.filter(customer=w.acme))

    def test_customer_user_never_sees_another_customers_case(self, w, file_case):
        globex_case = file_case(w.globex_admin, w.globex)
        assert not sees(w.acme_user, globex_case)
        assert visible_customers(w.acme_user) == {"Acme Corp"}

    def test_customer_without_portal_access_sees_nothing(self, w):
        assert visible_customers(w.hooli_admin) == set()
        assert not case_visible_to(w.hooli_admin).exists()
        with pytest.raises(NotFound):
            case_can_file_for(user=w.hooli_admin, customer=w.hooli)


class TestR7SharingIsNotAccess:
    def test_subscriber_without_access_still_cannot_see_the_case(self, w, file_case):
        case = file_case(w.agent, w.acme, subscribers=[w.agent2.email, w.globex_admin.email])
        assert case.subscribers.count() == 2
        assert not sees(w.agent2, case)
        assert not sees(w.globex_admin, case)

    def test_subscriber_with_access_sees_it_for_their_own_rights(self, w, file_case):
        case = file_case(w.agent, w.acme)
        case_subscribers_set(user=w.agent, case=case, add=[w.acme_user.email])
        assert sees(w.acme_user, case)


class TestR8SuperAdminScope:
    """Exercised further in tests/accounts/test_services.py."""

    def test_super_admin_privileges_are_scoped_to_the_own_domain(self, w):
        managed = set(user_managed_by(w.admin).values_list("email", flat=True))
        assert "agent@reseller.example.com" in managed
        assert not any(email.endswith("@reseller2.example.com") for email in managed)
        assert not user_managed_by(w.agent).exists()


class TestR9SameAnswerForMissingAndForbidden:
    def test_another_tenants_case_is_reported_like_a_missing_one(self, w, file_case):
        case = file_case(w.agent2, w.initech)
        with pytest.raises(Case.DoesNotExist):
            case_get_for_user(user=w.agent, number=case.number)
        with pytest.raises(Case.DoesNotExist):
            case_get_for_user(user=w.agent, number=999_999_999)
        assert case_get_for_user(user=w.agent2, number=case.number) == case

    def test_writes_to_another_tenants_case_say_not_found(self, w, file_case):
        case = file_case(w.agent2, w.initech)
        with pytest.raises(NotFound):
            case_comment_add(user=w.agent, case=case, body="hello")
        comment = case_comment_add(user=w.agent2, case=case, body="hello")
        assert comment.case == case

    def test_children_are_reached_only_through_a_visible_case(self, w, file_case):
        case = file_case(w.agent2, w.initech)
        case_comment_add(user=w.agent2, case=case, body="A message")
        Attachment.objects.create(
            case=case, filename="log.txt", mime_type="text/plain", size=1, sha256="0" * 64
        )
        assert comment_visible_to(w.agent2).filter(case=case).exists()
        assert attachment_visible_to(w.agent2).filter(case=case).exists()
        assert not comment_visible_to(w.agent).filter(case=case).exists()
        assert not attachment_visible_to(w.agent).filter(case=case).exists()


class TestR11SupportOnlyData:
    """Internal notes are the support organisation's alone (tests/test_internal_notes.py
    walks every route with a sentinel word; these are the gate itself)."""

    def test_support_sees_internal_notes_and_the_customer_side_never_does(self, w, file_case):
        case = file_case(w.agent, w.acme)
        case_comment_add(user=w.engineer, case=case, body="Public")
        note = case_note_add(user=w.engineer, case=case, body="Internal")
        assert comment_visible_to(w.engineer).filter(pk=note.pk).exists()
        assert case_comments_for(case=case, user=w.engineer).filter(pk=note.pk).exists()
        for persona in (w.agent, w.acme_admin, w.acme_user):
            assert sees(persona, case)
            assert not comment_visible_to(persona).filter(pk=note.pk).exists()
            assert list(case_comments_for(case=case, user=persona).values_list("body", flat=True)) == [
                "Public"
            ]
        assert not case_comments_for(case=case, user=None).filter(internal=True).exists()

    def test_only_support_writes_internal_notes(self, w, file_case):
        case = file_case(w.agent, w.acme)
        with pytest.raises(PermissionRefused):
            case_note_add(user=w.agent, case=case, body="Trying")
        with pytest.raises(PermissionRefused):
            case_support_update(user=w.acme_admin, case=case, body="Trying", internal=True)
        assert not case.comments.exists()

    def test_a_note_is_not_in_the_timeline_of_the_customer_side(self, w, file_case):
        case = file_case(w.agent, w.acme)
        case_note_add(user=w.engineer, case=case, body="Internal")
        kinds = {e.kind for e in case_timeline(case, user=w.agent)}
        assert kinds == {"event"}
        assert any(e.kind == "comment" for e in case_timeline(case, user=w.engineer))


GATED_MODELS = {"Case", "Comment", "Attachment", "Customer", "CaseEvent", "CaseSubscriber", "Job"}
# Reads live in *selectors.py, writes in *services.py; models, the Django admin and the
# demo loader are operator-side.
GATE_EXEMPT_SUFFIXES = (
    "selectors.py",
    "services.py",
    "models.py",
    "admin.py",
    "demo.py",
    "classifications.py",
)


def gate_offenders(source: str) -> list[int]:
    """Line numbers where code reaches a tenant model's manager directly."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in {"objects", "_default_manager"}
        and isinstance(node.value, ast.Name)
        and node.value.id in GATED_MODELS
    ]


class TestR10OneGate:
    """No code outside the selectors and services queries tenant data directly: lists,
    pages, API, tasks and downloads must start from the visibility functions."""

    def test_only_selectors_and_services_touch_tenant_managers(self):
        root = Path(__file__).resolve().parent.parent
        offenders = []
        for path in root.glob("*/**/*.py"):
            top = path.parts[len(root.parts)]
            if (
                top.startswith(".")
                or top in {"tests", "bench"}
                or {"migrations", "management"} & set(path.parts)
            ):
                continue
            if path.name.endswith(GATE_EXEMPT_SUFFIXES):
                continue
            offenders += [
                f"{path.relative_to(root)}:{line}" for line in gate_offenders(path.read_text("utf-8"))
            ]
        assert offenders == []

    def test_the_gate_catches_a_direct_query_and_passes_a_gated_one(self):
        assert gate_offenders("def view(request):\n    return Case.objects.get(pk=1)\n") == [2]
        assert (
            gate_offenders("def view(request):\n    return case_visible_to(request.user).get(pk=1)\n") == []
        )
