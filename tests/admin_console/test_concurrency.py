"""Two super admins acting at once: the rules hold under real concurrent transactions."""

import threading

import pytest
from django.db import connection

from accounts.models import AdminRole, RoleAssignment, User
from accounts.services import user_suspend
from portal.errors import DomainError
from tests.world import PERSONAS, build_world


@pytest.mark.django_db(transaction=True)
def test_two_super_admins_suspending_each_other_at_once_leave_one_active():
    build_world()  # transactional tests start from an empty database
    admin, agent = User.objects.get(email=PERSONAS["admin"]), User.objects.get(email=PERSONAS["agent"])
    RoleAssignment.objects.create(
        user=agent, role=AdminRole.objects.get(builtin=AdminRole.BuiltIn.SUPER_ADMIN)
    )
    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[str, str] = {}

    def suspend(actor_email: str, target_email: str) -> None:
        try:
            actor, target = User.objects.get(email=actor_email), User.objects.get(email=target_email)
            barrier.wait()
            user_suspend(actor=actor, user=target)
            outcomes[actor_email] = "suspended"
        except DomainError:
            outcomes[actor_email] = "refused"
        except Exception as error:  # a deadlock or any other failure is a test failure
            outcomes[actor_email] = repr(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=suspend, args=(admin.email, agent.email)),
        threading.Thread(target=suspend, args=(agent.email, admin.email)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["refused", "suspended"]
    assert User.objects.filter(pk__in=[admin.pk, agent.pk], is_active=True).count() == 1
