import pytest

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
