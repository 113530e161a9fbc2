"""Support engineers work cases from the case page: state, severity (P0 too), assignment."""

from django.urls import reverse

from cases.models import Case


def test_engineer_moves_a_case_along_the_transition_table(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    client = signed_in(w.engineer)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'name="state"' in page and "Assign to me" in page
    response = client.post(
        reverse("cases:state", args=[case.number]), {"state": "ACTION_REQUIRED", "version": case.version}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    refused = client.post(
        reverse("cases:state", args=[case.number]), {"state": "NEW", "version": case.version}
    )
    assert refused.status_code == 400 and "cannot be moved" in refused.content.decode()


def test_customer_side_cannot_use_support_actions(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    client = signed_in(w.agent)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'name="state"' not in page and "Assign to me" not in page
    response = client.post(
        reverse("cases:state", args=[case.number]), {"state": "SOLUTION_PROVIDED", "version": case.version}
    )
    assert response.status_code == 400
    assert client.post(reverse("cases:assign", args=[case.number])).status_code == 403


def test_engineer_reclassifies_to_p0_and_takes_the_case(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    client = signed_in(w.engineer)
    assert (
        client.post(
            reverse("cases:severity", args=[case.number]), {"priority": "P0", "version": case.version}
        ).status_code
        == 302
    )
    assert client.post(reverse("cases:assign", args=[case.number])).status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert case.priority == "P0" and case.assignee == w.engineer


def test_engineer_reply_records_the_first_response(w, signed_in, file_case):
    case = file_case(w.agent, w.acme)
    signed_in(w.engineer).post(reverse("cases:comment", args=[case.number]), {"body": "We are on it."})
    case.refresh_from_db()
    assert case.first_response_at is not None
    page = signed_in(w.agent).get(reverse("cases:detail", args=[case.number])).content.decode()
    assert "We are on it." in page and "from-support" in page
