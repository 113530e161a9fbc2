import pytest
from django.utils import timezone, translation

from accounts.models import AdminRole, RoleAssignment, RolePrivilege
from cases.models import Case
from cases.services import case_create
from tests.world import World, build_world


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Build the persona world once; each test runs in a transaction that is rolled back."""
    with django_db_blocker.unblock():
        build_world()


@pytest.fixture
def w(db) -> World:
    return World()


@pytest.fixture
def file_case(w):
    """File a case through the real service: `file_case(w.agent, w.acme, title=...)`."""

    def make(user, customer, **overrides) -> Case:
        fields = {
            "classification": w.leaf(),
            "title": "Mail to external recipients delayed",
            "description": "Since this morning outgoing mail is delayed by about two hours.",
            "priority": "P3",
            "language": "en",
            "time_zone": "Asia/Seoul",
        }
        fields.update(overrides)
        return case_create(user=user, customer=customer, **fields)

    return make


@pytest.fixture
def signed_in(client):
    """Sign a persona in; pages are checked in English (several demo accounts prefer Korean)."""

    def sign_in(user, language="en"):
        user.language = language
        user.save(update_fields=["language"])
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def give_role():
    """Give an account a custom role of its own domain holding exactly `privileges`."""

    def give(user, *privileges, name=None):
        role = AdminRole.objects.create(name=name or "Test " + "+".join(privileges), domain=user.domain)
        RolePrivilege.objects.bulk_create(RolePrivilege(role=role, privilege=p) for p in privileges)
        RoleAssignment.objects.create(user=user, role=role)
        return role

    return give


@pytest.fixture(autouse=True)
def _english_and_utc_outside_requests():
    """A request as a Korean-speaking persona leaves its language active in the thread;
    every test starts from English and UTC so that messages and times compare."""
    translation.activate("en")
    timezone.deactivate()
    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters (per client address: every test client is 127.0.0.1) must not
    carry from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
