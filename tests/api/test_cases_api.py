"""The API's behaviour over HTTP (Django's test client): resources and their fields,
filters and search, paging, patch semantics, lifecycle rules through the same services
as the pages, uploads and downloads, errors, the rate limit and query budgets."""

import json
import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from cases.models import Case, CaseEvent
from cases.services import attachment_add, attachment_delete, case_close, case_comment_add, case_set_state
from tests.api.conftest import name_of, parent_of

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def new_case_body(w, **overrides):
    body = {
        "displayName": "Calendar invitations not delivered",
        "description": "Since Monday invitations to external guests are not delivered.",
        "classification": {"id": w.leaf().code},
        "priority": "P2",
    }
    body.update(overrides)
    return body


def error_of(response, code: int, status: str) -> str:
    assert response.status_code == code, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["status"] == status
    assert set(error) == {"code", "message", "status"}
    return error["message"]


def case_from(response) -> Case:
    assert response.status_code == 200, response.content
    return Case.objects.get(number=int(response.json()["name"].rsplit("/", 1)[1]))


def numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [int(case["name"].rsplit("/", 1)[1]) for case in response.json().get("cases", [])]


# --------------------------------------------------------------------------- create and get


class TestCreate:
    def test_a_case_is_filed_through_the_service_with_channel_api(self, w, api_as):
        response = api_as(w.agent).post(
            f"/v2/{parent_of(w.acme)}/cases",
            new_case_body(
                w,
                timeZone="Asia/Seoul",
                languageCode="ko",
                subscriberEmailAddresses=["Ops@Acme.example", "cto@acme.example"],
                testCase=True,
            ),
        )
        case = case_from(response)
        body = response.json()
        assert body["name"] == f"organizations/{w.acme.pk}/cases/{case.number}"
        assert body["displayName"] == "Calendar invitations not delivered"
        assert body["classification"] == {"id": w.leaf().code, "displayName": w.leaf().display_name}
        assert body["priority"] == "P2" and body["state"] == "NEW"
        assert body["timeZone"] == "Asia/Seoul" and body["languageCode"] == "ko"
        assert body["subscriberEmailAddresses"] == ["cto@acme.example", "ops@acme.example"]
        assert body["testCase"] is True and body["escalated"] is False
        assert body["creator"]["email"] == w.agent.email
        assert body["contactEmail"] == w.agent.mail_address
        assert RFC3339_Z.match(body["createTime"]) and RFC3339_Z.match(body["updateTime"])
        assert case.channel == Case.Channel.API and case.is_test
        assert list(case.events.values_list("kind", flat=True)) == [
            "CREATED",
            "SUBSCRIBER_ADDED",
            "SUBSCRIBER_ADDED",
        ]

    def test_enum_numbers_are_accepted_as_googles_rest_clients_send_them(self, w, api_as):
        response = api_as(w.agent).post(f"/v2/{parent_of(w.acme)}/cases", new_case_body(w, priority=2))
        assert response.json()["priority"] == "P1"

    def test_required_fields_are_named_when_missing(self, w, api_as):
        message = error_of(
            api_as(w.agent).post(f"/v2/{parent_of(w.acme)}/cases", {"displayName": "x"}),
            400,
            "INVALID_ARGUMENT",
        )
        for field in ("description", "classification.id", "priority"):
            assert field in message

    def test_an_unsupported_language_falls_back_to_english_as_googles_does(self, w, api_as):
        api = api_as(w.agent)
        assert (
            api.post(f"/v2/{parent_of(w.acme)}/cases", new_case_body(w, languageCode="tlh")).json()[
                "languageCode"
            ]
            == "en"
        )
        assert (
            api.post(f"/v2/{parent_of(w.acme)}/cases", new_case_body(w, languageCode="ko-KR")).json()[
                "languageCode"
            ]
            == "ko"
        )

    def test_a_utc_offset_time_zone_as_in_googles_example_becomes_an_iana_zone(self, w, api_as):
        response = api_as(w.agent).post(f"/v2/{parent_of(w.acme)}/cases", new_case_body(w, timeZone="-07:00"))
        assert response.json()["timeZone"] == "Etc/GMT+7"

    def test_without_a_time_zone_the_users_own_is_used(self, w, api_as):
        response = api_as(w.agent).post(f"/v2/{parent_of(w.acme)}/cases", new_case_body(w))
        assert response.json()["timeZone"] == w.agent.time_zone

    @pytest.mark.parametrize(
        "overrides",
        [
            {"priority": "P0"},
            {"priority": "URGENT"},
            {"priority": 9},
            {"timeZone": "Mars/Olympus"},
            {"displayName": 42},
            {"displayName": "x" * 201},
            {"description": "   "},
            {"classification": "gmail"},
            {"classification": {"id": "no-such-category"}},
            {"subscriberEmailAddresses": "a@b.example"},
            {"subscriberEmailAddresses": ["not an address"]},
            {"testCase": "yes"},
            {"severity": "S1"},
            {"state": "NOT_A_STATE"},
        ],
    )
    def test_bad_input_is_refused_with_invalid_argument(self, w, api_as, overrides):
        response = api_as(w.agent).post(f"/v2/{parent_of(w.acme)}/cases", new_case_body(w, **overrides))
        assert error_of(response, 400, "INVALID_ARGUMENT")
        assert not Case.objects.filter(channel=Case.Channel.API).exists()

    def test_output_only_fields_are_ignored(self, w, api_as):
        response = api_as(w.agent).post(
            f"/v2/{parent_of(w.acme)}/cases",
            new_case_body(w, state="CLOSED", name="organizations/1/cases/1", escalated=True),
        )
        assert response.json()["state"] == "NEW" and response.json()["escalated"] is False

    def test_a_repeated_request_id_returns_the_first_case(self, w, api_as):
        api = api_as(w.agent)
        path = f"/v2/{parent_of(w.acme)}/cases?requestId=retry-1"
        first, second = api.post(path, new_case_body(w)), api.post(path, new_case_body(w))
        assert first.json()["name"] == second.json()["name"]

    def test_broken_json_is_invalid_argument(self, w, api_as):
        response = api_as(w.agent).raw(
            "POST", f"/v2/{parent_of(w.acme)}/cases", b"{not json", "application/json"
        )
        error_of(response, 400, "INVALID_ARGUMENT")
        response = api_as(w.agent).raw(
            "POST", f"/v2/{parent_of(w.acme)}/cases", b"[1, 2]", "application/json"
        )
        error_of(response, 400, "INVALID_ARGUMENT")


class TestGet:
    def test_a_case_has_googles_fields(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        body = api_as(w.acme_user).get(f"/v2/{name_of(case)}").json()
        assert set(body) == {
            "name",
            "displayName",
            "description",
            "classification",
            "timeZone",
            "subscriberEmailAddresses",
            "state",
            "createTime",
            "updateTime",
            "contactEmail",
            "escalated",
            "testCase",
            "languageCode",
            "priority",
            "creator",
        }

    def test_organizations_dash_finds_a_case_without_its_customer_id(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        body = api_as(w.agent).get(f"/v2/organizations/-/cases/{case.number}").json()
        assert body["name"] == name_of(case)

    def test_project_parents_are_refused_with_a_hint(self, w, api_as):
        message = error_of(api_as(w.agent).get("/v2/projects/my-project/cases"), 400, "INVALID_ARGUMENT")
        assert "organizations/" in message


# --------------------------------------------------------------------------- list and search


class TestListFilters:
    @pytest.fixture
    def spread(self, w, file_case):
        """Four fresh cases of Acme: open P1 and P2 by the agent, closed P1 and open P4 by
        the customer."""
        open_p1 = file_case(w.agent, w.acme, priority="P1")
        open_p2 = file_case(w.agent, w.acme, priority="P2")
        closed_p1 = file_case(w.acme_user, w.acme, priority="P1")
        case_close(user=w.acme_user, case=closed_p1)
        open_p4 = file_case(w.acme_user, w.acme, priority="P4")
        return {"open_p1": open_p1, "open_p2": open_p2, "closed_p1": closed_p1, "open_p4": open_p4}

    def listed(self, api, w, text):
        found, token = [], None
        while True:
            params = {"filter": text, "pageSize": 100} | ({"pageToken": token} if token else {})
            response = api.get(f"/v2/{parent_of(w.acme)}/cases", params)
            found += numbers(response)
            token = response.json().get("nextPageToken")
            if not token:
                return set(found)

    def test_state_open_and_closed(self, w, api_as, spread):
        api = api_as(w.agent)
        opened, closed = self.listed(api, w, "state=OPEN"), self.listed(api, w, "state=CLOSED")
        assert spread["open_p1"].number in opened and spread["closed_p1"].number not in opened
        assert spread["closed_p1"].number in closed and spread["open_p1"].number not in closed
        assert Case.objects.filter(number__in=closed).exclude(state="CLOSED").count() == 0

    def test_priority_or_priority(self, w, api_as, spread):
        found = self.listed(api_as(w.agent), w, "priority=P1 OR priority=P2")
        assert {spread["open_p1"].number, spread["open_p2"].number, spread["closed_p1"].number} <= found
        assert spread["open_p4"].number not in found
        assert set(Case.objects.filter(number__in=found).values_list("priority", flat=True)) <= {"P1", "P2"}

    def test_creator_email(self, w, api_as, spread):
        found = self.listed(api_as(w.agent), w, f'creator.email="{w.acme_user.email}"')
        assert {spread["closed_p1"].number, spread["open_p4"].number} <= found
        assert set(Case.objects.filter(number__in=found).values_list("creator__email", flat=True)) == {
            w.acme_user.email
        }

    def test_and_with_parentheses(self, w, api_as, spread):
        found = self.listed(api_as(w.agent), w, "state=OPEN AND (priority=P1 OR priority=P4)")
        assert {spread["open_p1"].number, spread["open_p4"].number} <= found
        assert spread["closed_p1"].number not in found and spread["open_p2"].number not in found

    def test_a_broken_filter_is_invalid_argument(self, w, api_as):
        message = error_of(
            api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases", {"filter": "state=OPEN AND"}),
            400,
            "INVALID_ARGUMENT",
        )
        assert "query" in message.lower()

    def test_free_text_belongs_to_search_not_list(self, w, api_as):
        response = api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases", {"filter": '"mail"'})
        error_of(response, 400, "INVALID_ARGUMENT")


class TestSearch:
    def test_bare_quoted_text_searches_title_description_and_comments(self, w, api_as, file_case):
        by_title = file_case(w.agent, w.acme, title="Zanzibar relay rejects mail")
        by_description = file_case(w.agent, w.acme, description="The zanzibar gateway drops messages.")
        by_comment = file_case(w.agent, w.acme)
        case_comment_add(user=w.agent, case=by_comment, body="Also seen on the Zanzibar office network.")
        unrelated = file_case(w.agent, w.acme)
        found = numbers(api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases:search", {"query": '"zanzibar"'}))
        assert set(found) == {by_title.number, by_description.number, by_comment.number}
        assert unrelated.number not in found

    def test_text_combines_with_fields(self, w, api_as, file_case):
        p1 = file_case(w.agent, w.acme, title="Quokka sync broken", priority="P1")
        file_case(w.agent, w.acme, title="Quokka sync slow", priority="P3")
        found = numbers(
            api_as(w.agent).get(
                f"/v2/{parent_of(w.acme)}/cases:search", {"query": '"quokka" AND priority=P1'}
            )
        )
        assert found == [p1.number]

    def test_update_time_greater_than(self, w, api_as, file_case):
        old = file_case(w.agent, w.acme, title="Wombat one")
        with time_machine.travel(old.updated_at + timedelta(hours=2)):
            new = file_case(w.agent, w.acme, title="Wombat two")
        since = (old.updated_at + timedelta(hours=1)).isoformat()
        found = numbers(
            api_as(w.agent).get(
                f"/v2/{parent_of(w.acme)}/cases:search", {"query": f'"wombat" AND update_time>"{since}"'}
            )
        )
        assert found == [new.number]

    def test_an_empty_query_returns_every_case_under_the_parent(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        assert case.number in numbers(api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases:search"))

    def test_searching_every_customer_with_an_organization_restriction(self, w, api_as, file_case):
        acme = file_case(w.agent, w.acme, title="Platypus export")
        umbrella = file_case(w.agent, w.umbrella, title="Platypus export")
        api = api_as(w.agent)
        everywhere = numbers(api.get("/v2/organizations/-/cases:search", {"query": '"platypus"'}))
        assert set(everywhere) == {acme.number, umbrella.number}
        one = numbers(
            api.get(
                "/v2/organizations/-/cases:search",
                {"query": f'"platypus" AND organization="organizations/{w.umbrella.pk}"'},
            )
        )
        assert one == [umbrella.number]


class TestPaging:
    def test_page_size_defaults_to_ten_as_googles_does(self, w, api_as, file_case):
        for _ in range(11):
            file_case(w.agent, w.acme)
        body = api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases").json()
        assert len(body["cases"]) == 10 and body["nextPageToken"]

    def test_pages_cover_every_case_once_newest_update_first(self, w, api_as):
        api = api_as(w.agent)
        seen, token, pages = [], None, 0
        while True:
            response = api.get(
                f"/v2/{parent_of(w.umbrella)}/cases",
                {"pageSize": 2} | ({"pageToken": token} if token else {}),
            )
            body = response.json()
            seen += [case["updateTime"] + "|" + case["name"] for case in body.get("cases", [])]
            pages += 1
            token = body.get("nextPageToken")
            if not token:
                break
        assert pages > 1
        assert len(seen) == len(set(seen))
        stamps = [item.split("|")[0] for item in seen]
        assert stamps == sorted(stamps, reverse=True)

    def test_pages_stay_stable_while_new_cases_arrive(self, w, api_as, file_case):
        for _ in range(6):
            file_case(w.agent, w.acme)
        api = api_as(w.agent)
        path = f"/v2/{parent_of(w.acme)}/cases"
        complete = []
        token = None
        while True:
            body = api.get(path, {"pageSize": 100} | ({"pageToken": token} if token else {})).json()
            complete += numbers_of(body)
            token = body.get("nextPageToken")
            if not token:
                break
        first = api.get(path, {"pageSize": 3}).json()
        file_case(w.agent, w.acme, title="Arrived while paging")
        rest = []
        token = first["nextPageToken"]
        while token:
            body = api.get(path, {"pageSize": 3, "pageToken": token}).json()
            rest += numbers_of(body)
            token = body.get("nextPageToken")
        assert numbers_of(first) + rest == complete

    def test_a_token_is_refused_with_another_filter(self, w, api_as, file_case):
        for _ in range(3):
            file_case(w.agent, w.acme)
        api = api_as(w.agent)
        path = f"/v2/{parent_of(w.acme)}/cases"
        token = api.get(path, {"pageSize": 1}).json()["nextPageToken"]
        error_of(
            api.get(path, {"pageSize": 1, "pageToken": token, "filter": "state=CLOSED"}),
            400,
            "INVALID_ARGUMENT",
        )
        error_of(
            api.get(f"/v2/{parent_of(w.acme)}/cases:search", {"pageToken": token}), 400, "INVALID_ARGUMENT"
        )

    def test_a_forged_token_is_refused(self, w, api_as):
        response = api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases", {"pageToken": "eyJrIjpbXX0:forged"})
        error_of(response, 400, "INVALID_ARGUMENT")

    @pytest.mark.parametrize("size", ["-1", "abc", "1.5", "", " 5", "99999999999"])
    def test_a_bad_page_size_is_refused(self, w, api_as, size):
        error_of(
            api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases", {"pageSize": size}), 400, "INVALID_ARGUMENT"
        )

    def test_a_page_size_above_the_maximum_is_lowered_to_it(self, w, api_as):
        body = api_as(w.agent).get("/v2/organizations/-/cases", {"pageSize": 5000}).json()
        assert len(body["cases"]) <= 100


def numbers_of(body) -> list[int]:
    return [int(case["name"].rsplit("/", 1)[1]) for case in body.get("cases", [])]


# --------------------------------------------------------------------------- patch, close, escalate


class TestPatch:
    def test_update_mask_priority_changes_only_the_priority(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme, subscribers=["ops@acme.example"])
        response = api_as(w.agent).patch(
            f"/v2/{name_of(case)}?updateMask=priority", {"priority": "P1", "displayName": "ignored"}
        )
        assert response.json()["priority"] == "P1"
        assert response.json()["displayName"] == case.title
        assert response.json()["subscriberEmailAddresses"] == ["ops@acme.example"]
        event = case.events.get(kind=CaseEvent.Kind.PRIORITY_CHANGED)
        assert (event.before, event.after, event.actor) == ("P3", "P1", w.agent)

    def test_snake_case_and_camel_case_masks_both_work(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        assert (
            api.patch(f"/v2/{name_of(case)}?updateMask=display_name", {"displayName": "One"}).json()[
                "displayName"
            ]
            == "One"
        )
        assert (
            api.patch(f"/v2/{name_of(case)}?updateMask=displayName", {"displayName": "Two"}).json()[
                "displayName"
            ]
            == "Two"
        )

    def test_subscribers_are_replaced_by_the_given_list(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme, subscribers=["a@acme.example", "b@acme.example"])
        response = api_as(w.agent).patch(
            f"/v2/{name_of(case)}?updateMask=subscriber_email_addresses",
            {"subscriberEmailAddresses": ["b@acme.example", "c@acme.example"]},
        )
        assert response.json()["subscriberEmailAddresses"] == ["b@acme.example", "c@acme.example"]
        kinds = sorted(
            case.events.filter(kind__startswith="SUBSCRIBER").values_list("kind", "before", "after")
        )
        assert ("SUBSCRIBER_REMOVED", "a@acme.example", None) in kinds
        assert ("SUBSCRIBER_ADDED", None, "c@acme.example") in kinds

    def test_an_empty_mask_updates_all_three_fields_as_googles_does(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme, subscribers=["a@acme.example"])
        response = api_as(w.agent).patch(f"/v2/{name_of(case)}", {"displayName": "Renamed", "priority": "P2"})
        body = response.json()
        assert (body["displayName"], body["priority"], body["subscriberEmailAddresses"]) == (
            "Renamed",
            "P2",
            [],
        )

    def test_an_unknown_mask_path_is_refused(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        message = error_of(
            api_as(w.agent).patch(f"/v2/{name_of(case)}?updateMask=description", {"description": "x"}),
            400,
            "INVALID_ARGUMENT",
        )
        assert "updateMask" in message

    def test_a_patch_is_all_or_nothing(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).patch(
            f"/v2/{name_of(case)}?updateMask=display_name,subscriber_email_addresses",
            {"displayName": "Renamed", "subscriberEmailAddresses": ["not an address"]},
        )
        error_of(response, 400, "INVALID_ARGUMENT")
        case.refresh_from_db()
        assert case.title == "Mail to external recipients delayed"

    def test_the_priority_of_a_closed_case_cannot_change(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        case_close(user=w.agent, case=case)
        response = api_as(w.agent).patch(f"/v2/{name_of(case)}?updateMask=priority", {"priority": "P1"})
        error_of(response, 400, "FAILED_PRECONDITION")

    def test_the_customer_side_cannot_set_p0(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).patch(f"/v2/{name_of(case)}?updateMask=priority", {"priority": "P0"})
        error_of(response, 400, "INVALID_ARGUMENT")


class TestCloseAndEscalate:
    def test_close_moves_the_case_to_closed(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).post(f"/v2/{name_of(case)}:close")
        assert response.json()["state"] == "CLOSED"
        assert case.events.filter(kind=CaseEvent.Kind.STATE_CHANGED, after="CLOSED").exists()

    def test_closing_a_closed_case_is_a_failed_precondition(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        api.post(f"/v2/{name_of(case)}:close", {})
        error_of(api.post(f"/v2/{name_of(case)}:close", {}), 400, "FAILED_PRECONDITION")

    def test_a_premium_customers_case_is_escalated(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).post(
            f"/v2/{name_of(case)}:escalate",
            {"escalation": {"reason": "BUSINESS_IMPACT", "justification": "Payroll mail is blocked."}},
        )
        assert response.json()["escalated"] is True
        case.refresh_from_db()
        assert case.escalation_reason == "BUSINESS_IMPACT" and case.escalated_by == w.agent

    def test_escalation_reason_may_be_given_as_a_number(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).post(
            f"/v2/{name_of(case)}:escalate", {"escalation": {"reason": 1, "justification": "Slow."}}
        )
        assert response.json()["escalated"] is True
        case.refresh_from_db()
        assert case.escalation_reason == "RESOLUTION_TIME"

    def test_escalation_is_refused_for_customers_without_premium(self, w, api_as, file_case):
        case = file_case(w.agent2, w.initech)
        response = api_as(w.agent2).post(
            f"/v2/{name_of(case)}:escalate",
            {"escalation": {"reason": "BUSINESS_IMPACT", "justification": "Urgent."}},
        )
        assert "Premium" in error_of(response, 400, "FAILED_PRECONDITION")

    def test_an_escalation_needs_reason_and_justification(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        for body in (
            {},
            {"escalation": {"reason": "BUSINESS_IMPACT"}},
            {"escalation": {"justification": "x"}},
        ):
            error_of(api.post(f"/v2/{name_of(case)}:escalate", body), 400, "INVALID_ARGUMENT")

    def test_a_second_escalation_is_refused(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        body = {"escalation": {"reason": "TECHNICAL_EXPERTISE", "justification": "Needs a specialist."}}
        api.post(f"/v2/{name_of(case)}:escalate", body)
        error_of(api.post(f"/v2/{name_of(case)}:escalate", body), 400, "FAILED_PRECONDITION")


# --------------------------------------------------------------------------- comments


class TestComments:
    def test_a_comment_goes_through_the_service_and_hands_a_waiting_case_back(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        case_set_state(user=w.engineer, case=case, state="ACTION_REQUIRED")
        response = api_as(w.agent).post(f"/v2/{name_of(case)}/comments", {"body": "Here are the headers."})
        assert response.status_code == 200
        body = response.json()
        comment = case.comments.get()
        assert body["name"] == f"{name_of(case)}/comments/{comment.pk}"
        assert body["body"] == body["plainTextBody"] == "Here are the headers."
        assert body["creator"]["email"] == w.agent.email and RFC3339_Z.match(body["createTime"])
        case.refresh_from_db()
        assert case.state == "IN_PROGRESS_GOOGLE_SUPPORT"
        assert case.events.filter(kind=CaseEvent.Kind.COMMENTED, actor=w.agent).exists()

    def test_support_replies_show_as_google_support(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        case_comment_add(user=w.engineer, case=case, body="We are looking into it.")
        comment = api_as(w.agent).get(f"/v2/{name_of(case)}/comments").json()["comments"][0]
        assert comment["creator"]["googleSupport"] is True and "email" not in comment["creator"]

    def test_the_body_is_limited_to_12800_characters(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        assert api.post(f"/v2/{name_of(case)}/comments", {"body": "x" * 12_800}).status_code == 200
        error_of(api.post(f"/v2/{name_of(case)}/comments", {"body": "x" * 12_801}), 400, "INVALID_ARGUMENT")
        error_of(api.post(f"/v2/{name_of(case)}/comments", {"body": "  "}), 400, "INVALID_ARGUMENT")

    def test_a_locked_case_refuses_comments_through_the_api_too(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        case_close(user=w.agent, case=case)
        case.refresh_from_db()
        with time_machine.travel(case.closed_at + timedelta(days=31)):
            message = error_of(
                api_as(w.agent).post(f"/v2/{name_of(case)}/comments", {"body": "Still broken."}),
                400,
                "FAILED_PRECONDITION",
            )
        assert "locked" in message
        assert not case.comments.exists()

    def test_comments_are_listed_newest_first_in_pages(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        for n in range(3):
            case_comment_add(user=w.agent, case=case, body=f"message {n}")
        api = api_as(w.agent)
        first = api.get(f"/v2/{name_of(case)}/comments", {"pageSize": 2}).json()
        second = api.get(
            f"/v2/{name_of(case)}/comments", {"pageSize": 2, "pageToken": first["nextPageToken"]}
        ).json()
        bodies = [c["body"] for c in first["comments"] + second["comments"]]
        assert bodies == ["message 2", "message 1", "message 0"]
        assert "nextPageToken" not in second

    def test_one_comment_by_name(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        comment = case_comment_add(user=w.agent, case=case, body="hello")
        body = api_as(w.agent).get(f"/v2/{name_of(case)}/comments/{comment.pk}").json()
        assert body["body"] == "hello"


# --------------------------------------------------------------------------- attachments


class TestAttachments:
    def test_a_raw_upload_is_checked_stored_and_listed(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        response = api.raw(
            "POST", f"/upload/v2/{name_of(case)}/attachments?attachment.filename=screen.png", PNG, "image/png"
        )
        assert response.status_code == 200, response.content
        body = response.json()
        attachment = case.attachments.get()
        assert body == {
            "name": f"{name_of(case)}/attachments/{attachment.pk}",
            "createTime": body["createTime"],
            "filename": "screen.png",
            "mimeType": "image/png",
            "sizeBytes": str(len(PNG)),
            "creator": body["creator"],
        }
        assert case.events.filter(kind=CaseEvent.Kind.ATTACHMENT_ADDED).exists()
        listed = api.get(f"/v2/{name_of(case)}/attachments").json()["attachments"]
        assert [a["name"] for a in listed] == [body["name"]]

    def test_curl_data_binary_with_its_form_content_type_is_a_raw_upload(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).raw(
            "POST",
            f"/upload/v2/{name_of(case)}/attachments?attachment.filename=notes.txt",
            b"a=1&b=2 plain notes",
            "application/x-www-form-urlencoded",
        )
        assert response.json()["mimeType"] == "text/plain"
        assert case.attachments.get().file.read() == b"a=1&b=2 plain notes"

    def test_a_multipart_form_upload(self, w, api_as, file_case, client):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = client.post(
            f"/upload/v2/{name_of(case)}/attachments",
            {"file": SimpleUploadedFile("shot.png", PNG, content_type="image/png")},
            headers={"Authorization": f"Bearer {api.token}"},
        )
        assert response.status_code == 200, response.content
        assert response.json()["filename"] == "shot.png"

    @pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
    def test_a_multipart_related_upload_as_googles_client_sends_it(self, w, api_as, file_case, newline):
        case = file_case(w.agent, w.acme)
        boundary = "===============7330845974216740156=="
        metadata = json.dumps({"attachment": {"filename": "trace.png"}}).encode()
        body = newline.join(
            [
                b"--" + boundary.encode(),
                b"Content-Type: application/json",
                b"MIME-Version: 1.0",
                b"",
                metadata,
                b"--" + boundary.encode(),
                b"Content-Type: image/png",
                b"MIME-Version: 1.0",
                b"Content-Transfer-Encoding: binary",
                b"",
                PNG,
                b"--" + boundary.encode() + b"--",
                b"",
            ]
        )
        response = api_as(w.agent).raw(
            "POST",
            f"/upload/v2/{name_of(case)}/attachments?uploadType=multipart",
            body,
            f'multipart/related; boundary="{boundary}"',
        )
        assert response.status_code == 200, response.content
        assert response.json()["filename"] == "trace.png"
        assert case.attachments.get().file.read() == PNG

    def test_an_upload_needs_a_file_name(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).raw("POST", f"/upload/v2/{name_of(case)}/attachments", PNG, "image/png")
        assert "attachment.filename" in error_of(response, 400, "INVALID_ARGUMENT")

    def test_the_upload_rules_of_the_pages_apply(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        path = f"/upload/v2/{name_of(case)}/attachments"
        error_of(
            api.raw("POST", f"{path}?attachment.filename=run.exe", b"MZ\x90\x00" + bytes(300)),
            400,
            "INVALID_ARGUMENT",
        )
        error_of(api.raw("POST", f"{path}?attachment.filename=photo.jpg", PNG), 400, "INVALID_ARGUMENT")
        error_of(api.raw("POST", f"{path}?attachment.filename=empty.txt", b""), 400, "INVALID_ARGUMENT")
        assert not case.attachments.exists()

    @override_settings(ATTACHMENT_MAX_BYTES=1024)
    def test_a_file_over_the_size_limit_is_refused(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).raw(
            "POST",
            f"/upload/v2/{name_of(case)}/attachments?attachment.filename=big.txt",
            b"x" * 2048,
            "text/plain",
        )
        error_of(response, 400, "INVALID_ARGUMENT")
        assert not case.attachments.exists()

    def test_a_closed_case_takes_no_attachment(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        case_close(user=w.agent, case=case)
        response = api_as(w.agent).raw(
            "POST",
            f"/upload/v2/{name_of(case)}/attachments?attachment.filename=a.txt",
            b"hello",
            "text/plain",
        )
        error_of(response, 400, "FAILED_PRECONDITION")

    def test_download_returns_the_bytes_as_an_attachment(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        from django.core.files.uploadedfile import SimpleUploadedFile

        attachment = attachment_add(
            user=w.acme_user, case=case, file=SimpleUploadedFile("s.png", PNG), filename="s.png"
        )
        api = api_as(w.agent)
        response = api.get(f"/v2/{name_of(case)}/attachments/{attachment.pk}:download", {"alt": "media"})
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        metadata = api.get(f"/v2/{name_of(case)}/attachments/{attachment.pk}:download").json()
        assert metadata["length"] == str(len(PNG)) and metadata["contentType"] == "image/png"
        error_of(
            api.get(f"/v2/{name_of(case)}/attachments/{attachment.pk}:download", {"alt": "xml"}),
            400,
            "INVALID_ARGUMENT",
        )

    def test_a_deleted_attachment_is_gone_from_the_api(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        from django.core.files.uploadedfile import SimpleUploadedFile

        attachment = attachment_add(
            user=w.agent, case=case, file=SimpleUploadedFile("s.png", PNG), filename="s.png"
        )
        attachment_delete(
            user=w.engineer, case=case, attachment_id=attachment.pk, reason="Contained a password"
        )
        api = api_as(w.agent)
        assert api.get(f"/v2/{name_of(case)}/attachments").json() == {"attachments": []}
        error_of(
            api.get(f"/v2/{name_of(case)}/attachments/{attachment.pk}:download", {"alt": "media"}),
            404,
            "NOT_FOUND",
        )


# --------------------------------------------------------------------------- errors and limits


class TestErrors:
    def test_an_unsupported_method_answers_in_googles_shape_with_allow(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        response = api_as(w.agent).raw("DELETE", f"/v2/{name_of(case)}")
        assert response.status_code == 405
        assert response["Allow"] == "GET, PATCH"
        assert response.json()["error"]["code"] == 405

    def test_an_unknown_path_answers_not_found_in_googles_shape(self, w, api_as):
        response = api_as(w.agent).get("/v2/organizations/1/widgets")
        error_of(response, 404, "NOT_FOUND")

    def test_the_api_needs_no_csrf_token(self, w, api_as, file_case):
        from django.test import Client

        case = file_case(w.agent, w.acme)
        strict = Client(enforce_csrf_checks=True)
        response = strict.post(
            f"/v2/{name_of(case)}/comments",
            json.dumps({"body": "no csrf"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {api_as(w.agent).token}"},
        )
        assert response.status_code == 200

    def test_nul_characters_are_a_bad_argument_not_a_server_error(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        error_of(api.post(f"/v2/{name_of(case)}/comments", {"body": "a\x00b"}), 400, "INVALID_ARGUMENT")
        error_of(
            api.get(f"/v2/{parent_of(w.acme)}/cases", {"filter": 'creator.email="a\x00"'}),
            400,
            "INVALID_ARGUMENT",
        )
        error_of(
            api.post(
                f"/v2/{parent_of(w.acme)}/cases",
                new_case_body(w, subscriberEmailAddresses=["a\x00@b.example"]),
            ),
            400,
            "INVALID_ARGUMENT",
        )

    def test_answers_are_not_cached(self, w, api_as):
        assert api_as(w.agent).get("/v2/organizations/-/cases")["Cache-Control"] == "private, no-store"


class TestRateLimit:
    @override_settings(API_RATE_LIMIT_PER_MINUTE=3)
    def test_calls_over_the_limit_get_resource_exhausted_with_retry_after(self, w, api_as):
        api = api_as(w.agent)
        with time_machine.travel("2030-01-01 10:00:05", tick=False):
            for _ in range(3):
                assert api.get("/v2/caseClassifications:search").status_code == 200
            response = api.get("/v2/caseClassifications:search")
            assert "Rate limit" in error_of(response, 429, "RESOURCE_EXHAUSTED")
            assert response["Retry-After"] == "55"
            other = api_as(w.agent)
            assert other.get("/v2/caseClassifications:search").status_code == 200
        with time_machine.travel("2030-01-01 10:01:01", tick=False):
            assert api.get("/v2/caseClassifications:search").status_code == 200

    def test_the_limit_is_shared_through_redis(self, w, api_as, settings):
        settings.API_RATE_LIMIT_PER_MINUTE = 2
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": f"api-test-{uuid.uuid4().hex}",
            }
        }
        api = api_as(w.agent)
        with time_machine.travel("2030-01-01 10:00:01", tick=True):  # one minute window
            statuses = [api.get("/v2/caseClassifications:search").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]

    def test_when_the_cache_is_unreachable_the_api_still_answers(self, w, api_as, settings):
        settings.API_RATE_LIMIT_PER_MINUTE = 1
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
            }
        }
        api = api_as(w.agent)
        assert [api.get("/v2/caseClassifications:search").status_code for _ in range(2)] == [200, 200]


class TestQueryBudgets:
    """The same number of SQL queries for 5 and for 50 results."""

    def count(self, api, path, params):
        api.get(path, params)  # warm: last-used time written, caches filled
        with CaptureQueriesContext(connection) as queries:
            response = api.get(path, params)
        assert response.status_code == 200
        return len(queries), response

    def test_list_and_search(self, w, api_as, file_case):
        for n in range(50):
            file_case(
                w.agent, w.acme, title=f"Budget case {n}", subscribers=["a@acme.example", "b@acme.example"]
            )
        api = api_as(w.agent)
        for path, params in (
            (f"/v2/{parent_of(w.acme)}/cases", {"filter": "state=OPEN"}),
            (f"/v2/{parent_of(w.acme)}/cases:search", {"query": '"budget"'}),
            ("/v2/organizations/-/cases:search", {"query": "state=OPEN"}),
        ):
            small, five = self.count(api, path, params | {"pageSize": 5})
            large, fifty = self.count(api, path, params | {"pageSize": 50})
            assert len(five.json()["cases"]) == 5 and len(fifty.json()["cases"]) == 50
            assert small == large, path

    def test_comments_and_attachments(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        from django.core.files.uploadedfile import SimpleUploadedFile

        for n in range(50):
            case_comment_add(user=w.agent if n % 2 else w.engineer, case=case, body=f"comment {n}")
            attachment_add(
                user=w.agent, case=case, file=SimpleUploadedFile(f"{n}.txt", b"hello"), filename=f"{n}.txt"
            )
        api = api_as(w.agent)
        for suffix in ("comments", "attachments"):
            small, _ = self.count(api, f"/v2/{name_of(case)}/{suffix}", {"pageSize": 5})
            large, _ = self.count(api, f"/v2/{name_of(case)}/{suffix}", {"pageSize": 50})
            assert small == large, suffix


class TestSameMailsAsThePages:
    """API writes go through the same services, so they leave the same mail in the outbox."""

    def outbox(self, case):
        from notifications.models import OutboxMessage

        return sorted(
            (row.notice, row.recipient_email) for row in OutboxMessage.objects.filter(case_id=case.pk)
        )

    def test_closing_and_commenting_through_the_api_queue_the_pages_mail(self, w, api_as, file_case):
        by_page = file_case(w.acme_user, w.acme, subscribers=["ops@acme.example"])
        by_api = file_case(w.acme_user, w.acme, subscribers=["ops@acme.example"])
        case_comment_add(user=w.agent, case=by_page, body="Any news?")
        case_close(user=w.agent, case=by_page)
        api = api_as(w.agent)
        assert api.post(f"/v2/{name_of(by_api)}/comments", {"body": "Any news?"}).status_code == 200
        assert api.post(f"/v2/{name_of(by_api)}:close").status_code == 200
        assert self.outbox(by_api) == self.outbox(by_page)
        assert self.outbox(by_api)
