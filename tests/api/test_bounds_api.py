"""The API refuses what the pages refuse, with the same message (issue 11): an address
over 254 characters (RFC 5321) in subscriber_email_addresses is a 400, never a 500."""

from cases.models import Case, CaseSubscriber
from cases.services import case_create
from tests.api.conftest import name_of, parent_of

LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example"
MESSAGE = "too long: an email address has at most 254 characters"


def test_create_and_patch_refuse_an_address_over_254_characters(w, api_as):
    api = api_as(w.agent)
    before = Case.objects.count()
    response = api.post(
        f"/v2/{parent_of(w.acme)}/cases",
        {
            "displayName": "Mail delayed",
            "description": "Since 09:00.",
            "classification": {"id": w.leaf().code},
            "priority": "P3",
            "subscriberEmailAddresses": [LONG_EMAIL],
        },
    )
    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert MESSAGE in response.json()["error"]["message"]
    assert Case.objects.count() == before
    case = case_create(
        user=w.agent,
        customer=w.acme,
        classification=w.leaf(),
        title="t",
        description="d",
        priority="P3",
        language="en",
        time_zone="UTC",
    )
    response = api.patch(
        f"/v2/{name_of(case)}?updateMask=subscriber_email_addresses",
        {"subscriberEmailAddresses": [LONG_EMAIL]},
    )
    assert response.status_code == 400 and MESSAGE in response.json()["error"]["message"]
    assert not CaseSubscriber.objects.filter(case=case).exists()


def test_renaming_a_closed_case_is_refused_as_documented(w, api_as):
    from cases.services import case_close

    case = case_create(
        user=w.agent,
        customer=w.acme,
        classification=w.leaf(),
        title="Before",
        description="d",
        priority="P3",
        language="en",
        time_zone="UTC",
    )
    case_close(user=w.agent, case=case)
    response = api_as(w.agent).patch(f"/v2/{name_of(case)}?updateMask=display_name", {"displayName": "After"})
    assert response.status_code == 400 and response.json()["error"]["status"] == "FAILED_PRECONDITION"
    case.refresh_from_db()
    assert case.title == "Before"
