"""The database itself refuses bad states (SPEC §2), whatever code writes them."""

import pytest
from django.db import DataError, IntegrityError, InternalError, transaction
from django.utils import timezone

from accounts.models import AdminRole, Domain
from cases.models import Case, CaseEvent, Comment
from customers.models import AccessGrantChange, Relationship
from customers.services import access_grant_set


def refused(action) -> None:
    with pytest.raises((IntegrityError, InternalError, DataError)):
        with transaction.atomic():
            action()


def test_at_most_one_active_reseller_per_customer(w):
    refused(
        lambda: Relationship.objects.create(customer=w.acme, reseller_domain=w.reseller2, kind="RESELLER")
    )
    # a support partner beside the reseller of record is fine
    Relationship.objects.create(customer=w.acme, reseller_domain=w.reseller2, kind="SUPPORT_PARTNER")


def test_relationship_history_is_never_rewritten_or_deleted(w):
    ended = Relationship.objects.filter(customer=w.umbrella, ended_at__isnull=False).first()
    refused(lambda: Relationship.objects.filter(pk=ended.pk).update(ended_at=None))
    refused(lambda: Relationship.objects.filter(pk=ended.pk).delete())
    active = Relationship.objects.get(customer=w.acme, ended_at__isnull=True)
    refused(lambda: Relationship.objects.filter(pk=active.pk).update(reseller_domain=w.reseller2))
    Relationship.objects.filter(pk=active.pk).update(ended_at=timezone.now())  # ending is allowed, once


def test_case_numbers_are_unique(w, file_case):
    first, second = file_case(w.agent, w.acme), file_case(w.agent, w.acme)
    refused(lambda: Case.objects.filter(pk=second.pk).update(number=first.number))


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "OPEN"},
        {"priority": "P5"},
        {"channel": "FAX"},
        {"language": "xx"},
        {"state": "CLOSED"},  # closed ⇒ closed_at
        {"closed_at": timezone.now()},  # and not the other way round
        {"escalation_reason": "BUSINESS_IMPACT"},  # an escalation is recorded whole
        {"title": "x" * 201},
        {"title": "   "},
    ],
)
def test_case_checks_refuse_bad_states(w, file_case, changes):
    case = file_case(w.agent, w.acme)
    refused(lambda: Case.objects.filter(pk=case.pk).update(**changes))


def test_delegated_case_names_its_domain(w, file_case):
    case = file_case(w.agent, w.acme)
    refused(lambda: Case.objects.filter(pk=case.pk).update(managing_domain=None))


def test_case_events_are_append_only(w, file_case):
    event = file_case(w.agent, w.acme).events.get()
    refused(lambda: CaseEvent.objects.filter(pk=event.pk).update(kind="UPDATED"))
    refused(lambda: CaseEvent.objects.filter(pk=event.pk).delete())


def test_consent_audit_is_append_only(w):
    access_grant_set(customer=w.acme, domain=w.reseller, support_cases=False, actor=w.acme_admin)
    change = AccessGrantChange.objects.filter(grant__customer=w.acme).first()
    refused(lambda: AccessGrantChange.objects.filter(pk=change.pk).update(support_cases=True))


def test_comment_length_is_bounded(w, file_case):
    case = file_case(w.agent, w.acme)
    refused(lambda: Comment.objects.create(case=case, body="x" * 12_801))


def test_builtin_roles_are_global_and_custom_roles_belong_to_a_domain(w):
    refused(lambda: AdminRole.objects.create(name="Orphan"))
    refused(lambda: AdminRole.objects.create(name="Odd", builtin="SUPER_ADMIN", domain=w.reseller))


def test_domain_names_are_lowercase_and_partners_only_own_reseller_domains(w):
    refused(lambda: Domain.objects.create(name="Upper.Example", kind="CUSTOMER"))
    refused(lambda: Domain.objects.create(name="x.example", kind="CUSTOMER", partner=w.reseller.partner))
