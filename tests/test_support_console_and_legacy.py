import re
from datetime import timedelta

import time_machine
from django.urls import reverse

from cases.models import Case
from cases.services import case_assign, case_comment_add


def queue_numbers(response) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-case="(\d+)"', response.content.decode())]


def test_support_queue_is_for_support_engineers_only(client, w):
    client.force_login(w.agent)
    assert client.get(reverse("support:queue")).status_code == 404
    client.force_login(w.engineer)
    assert client.get(reverse("support:queue")).status_code == 200


def test_queue_puts_unassigned_first_then_the_nearest_target(client, w, file_case):
    engineer = w.engineer
    relaxed = file_case(w.agent2, w.initech, priority="P4", title="Relaxed")  # Enhanced P4: 8 h
    urgent = file_case(w.agent, w.acme, priority="P1", title="Urgent")  # Premium P1: 15 min
    taken = file_case(w.agent, w.acme, priority="P1", title="Taken")
    case_assign(user=engineer, case=taken, assignee=engineer)
    client.force_login(engineer)
    numbers = queue_numbers(client.get(reverse("support:queue")))
    assert numbers.index(urgent.number) < numbers.index(relaxed.number) < numbers.index(taken.number)
    mine = queue_numbers(client.get(reverse("support:queue") + "?assignee=me"))
    assert taken.number in mine and urgent.number not in mine
    assert set(mine) == set(
        Case.objects.filter(assignee=engineer, is_test=False)
        .exclude(state="CLOSED")
        .values_list("number", flat=True)
    )


def test_breaches_are_flagged_and_answered_cases_are_not(client, w, file_case):
    late = file_case(w.agent, w.acme, priority="P1", title="Late")
    answered = file_case(w.agent, w.acme, priority="P1", title="Answered")
    case_comment_add(user=w.engineer, case=answered, body="Looking into it")
    client.force_login(w.engineer)
    with time_machine.travel(late.created_at + timedelta(minutes=16)):
        page = client.get(reverse("support:queue") + "?awaiting=support&priority=P1").content.decode()
    rows = dict(re.findall(r'<tr data-case="(\d+)".*?data-sla="(\w+)"', page, re.S))
    assert rows.get(str(late.number)) == "breached"
    assert str(answered.number) not in rows


def test_queue_costs_a_fixed_number_of_queries(client, w, django_assert_max_num_queries):
    client.force_login(w.engineer)
    with django_assert_max_num_queries(12):
        client.get(reverse("support:queue") + "?state=CLOSED&state=OPEN")


def test_old_support_center_links_lead_to_the_matching_page_after_sign_in(client, w, file_case):
    case = file_case(w.agent, w.acme)
    response = client.get(f"/supportcenter/case/{case.number}")
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/login/?next=/supportcenter/"
    )
    client.force_login(w.agent)
    assert client.get(f"/supportcenter/case/{case.number}")["Location"] == f"/cases/{case.number}/"
    assert client.get("/supportcenter/customers")["Location"] == "/customers/"
    assert client.get("/supportcenter/createcase?customer=3")["Location"] == "/cases/new/?customer=3"
    assert client.get("/supportcenter/whatever/else")["Location"] == "/"


def test_old_link_to_another_tenants_case_still_ends_in_404(client, w, file_case):
    case = file_case(w.agent2, w.initech)
    client.force_login(w.agent)
    assert client.get(f"/supportcenter/case/{case.number}", follow=True).status_code == 404
