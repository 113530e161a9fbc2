import pytest

from accounts.models import AdminRole, RoleAssignment, RolePrivilege


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
