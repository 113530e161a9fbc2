"""SPEC §3 through the API: each rule's allowed and refused side, with a token acting as
exactly its user. Another tenant's object answers exactly like a missing one (R9)."""

from datetime import timedelta

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Case
from cases.services import attachment_add, case_comment_add
from customers.services import customer_consent_set, support_partner_add
from tests.api.conftest import name_of, parent_of

MISSING_CASE_NUMBER = 99_999_999


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {case["name"] for case in response.json().get("cases", [])}


def list_all(api, parent) -> set[str]:
    found, token = set(), None
    while True:
        params = {"pageSize": 100} | ({"pageToken": token} if token else {})
        body = api.get(f"/v2/{parent}/cases", params).json()
        found |= {case["name"] for case in body.get("cases", [])}
        token = body.get("nextPageToken")
        if not token:
            return found


def assert_not_found(response):
    assert response.status_code == 404, response.content
    assert response.json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }


class TestR1DomainIsolation:
    def test_an_agent_lists_the_cases_of_a_customer_of_its_domain(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        assert name_of(case) in names(api_as(w.agent).get(f"/v2/{parent_of(w.acme)}/cases"))

    def test_another_domains_customer_is_not_found_even_for_the_same_partner(self, w, api_as, file_case):
        file_case(w.agent2, w.initech)
        assert_not_found(api_as(w.agent).get(f"/v2/{parent_of(w.initech)}/cases"))
        assert_not_found(api_as(w.alex).get(f"/v2/{parent_of(w.initech)}/cases:search"))

    def test_one_person_sees_each_domains_cases_only_with_that_domains_token(self, w, api_as, file_case):
        acme_case = file_case(w.agent, w.acme)
        initech_case = file_case(w.agent2, w.initech)
        mine = list_all(api_as(w.alex), "organizations/-")
        other = list_all(api_as(w.alex2), "organizations/-")
        assert name_of(acme_case) in mine and name_of(initech_case) not in mine
        assert name_of(initech_case) in other and name_of(acme_case) not in other

    def test_searching_all_customers_stays_within_the_domain(self, w, api_as, file_case):
        file_case(w.agent2, w.initech, title="Quarantine rule mystery")
        found = api_as(w.agent).get(
            "/v2/organizations/-/cases:search", {"query": '"Quarantine rule mystery"'}
        )
        assert names(found) == set()


class TestR2Privileges:
    def test_the_viewer_role_is_told_which_privileges_are_missing(self, w, api_as, file_case):
        file_case(w.agent, w.acme)
        response = api_as(w.viewer).get(f"/v2/{parent_of(w.acme)}/cases")
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["status"] == "PERMISSION_DENIED"
        assert "Access customer support cases" in error["message"]
        assert "super admin" in error["message"]

    def test_an_account_without_roles_is_refused(self, w, api_as):
        response = api_as(w.nobody).get("/v2/organizations/-/cases")
        assert response.status_code == 403

    def test_an_account_without_roles_may_still_read_the_classification_tree(self, w, api_as):
        assert api_as(w.nobody).get("/v2/caseClassifications:search").status_code == 200

    def test_support_engineers_read_every_case_but_do_not_file(self, w, api_as, file_case):
        case = file_case(w.agent2, w.initech)
        api = api_as(w.engineer)
        assert api.get(f"/v2/{name_of(case)}").status_code == 200
        refused = api.post(
            f"/v2/{parent_of(w.initech)}/cases",
            {
                "displayName": "x",
                "description": "y",
                "classification": {"id": w.leaf().code},
                "priority": "P3",
            },
        )
        assert refused.status_code == 403


class TestR3Consent:
    def new_case(self, w):
        return {
            "displayName": "Calendar invitations not delivered",
            "description": "Since Monday invitations to external guests are not delivered.",
            "classification": {"id": w.leaf().code},
            "priority": "P2",
        }

    def test_a_delegated_case_is_filed_while_consent_is_on(self, w, api_as):
        response = api_as(w.agent).post(f"/v2/{parent_of(w.acme)}/cases", self.new_case(w))
        assert response.status_code == 200, response.content
        case = Case.objects.get(number=int(response.json()["name"].rsplit("/", 1)[1]))
        assert case.channel == Case.Channel.API and case.managing_domain == w.reseller

    def test_a_delegated_case_is_refused_while_consent_is_off(self, w, api_as):
        response = api_as(w.agent).post(f"/v2/{parent_of(w.globex)}/cases", self.new_case(w))
        assert response.status_code == 403
        assert response.json()["error"]["status"] == "PERMISSION_DENIED"
        assert "Globex" in response.json()["error"]["message"]

    def test_turning_consent_off_hides_the_cases_at_once(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        api = api_as(w.agent)
        assert api.get(f"/v2/{name_of(case)}").status_code == 200
        customer_consent_set(actor=w.acme_admin, customer=w.acme, domain=w.reseller, support_cases=False)
        assert_not_found(api.get(f"/v2/{name_of(case)}"))


class TestR4CasesFollowTheManagingDomain:
    def test_the_new_reseller_never_sees_cases_filed_under_the_previous_one(self, w, api_as):
        umbrella = w.umbrella
        old = Case.objects.filter(customer=umbrella, managing_domain=w.reseller2).first()
        new = Case.objects.filter(customer=umbrella, managing_domain=w.reseller).first()
        assert old is not None and new is not None
        listed = list_all(api_as(w.agent), parent_of(umbrella))
        assert name_of(new) in listed and name_of(old) not in listed
        assert_not_found(api_as(w.agent).get(f"/v2/{name_of(old)}"))

    def test_the_previous_reseller_no_longer_sees_them_either(self, w, api_as):
        old = Case.objects.filter(customer=w.umbrella, managing_domain=w.reseller2).first()
        assert_not_found(api_as(w.agent2).get(f"/v2/{name_of(old)}"))


class TestR5SupportPartners:
    def test_a_support_partner_sees_cases_filed_after_it_was_added_not_before(self, w, api_as, file_case):
        before = file_case(w.acme_user, w.acme)
        with time_machine.travel(before.created_at + timedelta(seconds=5)):
            support_partner_add(actor=w.acme_admin, customer=w.acme, domain=w.reseller3)
        with time_machine.travel(before.created_at + timedelta(seconds=10)):
            after = file_case(w.acme_user, w.acme)
        api = api_as(w.agent3)
        assert api.get(f"/v2/{name_of(after)}").status_code == 200
        assert_not_found(api.get(f"/v2/{name_of(before)}"))


class TestR6Customers:
    def test_a_customer_user_sees_delegated_cases_of_their_customer(self, w, api_as, file_case):
        delegated = file_case(w.agent, w.acme)
        assert name_of(delegated) in list_all(api_as(w.acme_user), parent_of(w.acme))

    def test_a_customer_user_never_sees_another_customer(self, w, api_as, file_case):
        globex_case = file_case(w.globex_admin, w.globex)
        api = api_as(w.acme_user)
        assert_not_found(api.get(f"/v2/{parent_of(w.globex)}/cases"))
        assert_not_found(api.get(f"/v2/{name_of(globex_case)}"))
        assert name_of(globex_case) not in list_all(api, "organizations/-")

    def test_a_customer_without_portal_access_sees_nothing(self, w, api_as):
        assert_not_found(api_as(w.hooli_admin).get(f"/v2/{parent_of(w.hooli)}/cases"))


class TestR7SharingIsNotAccess:
    def test_a_subscriber_without_access_still_gets_not_found(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme, subscribers=[w.agent2.email, w.globex_admin.email])
        assert_not_found(api_as(w.agent2).get(f"/v2/{name_of(case)}"))
        assert_not_found(api_as(w.globex_admin).get(f"/v2/{name_of(case)}/comments"))


class TestR9SameAnswerForMissingAndForbidden:
    def test_every_read_of_another_tenants_case_answers_like_a_missing_one(self, w, api_as, file_case):
        theirs = file_case(w.agent2, w.initech)
        case_comment_add(user=w.agent2, case=theirs, body="Details")
        attachment = attachment_add(
            user=w.agent2, case=theirs, file=SimpleUploadedFile("a.txt", b"hello"), filename="a.txt"
        )
        comment = theirs.comments.get()
        api = api_as(w.agent)
        missing = f"organizations/{w.initech.pk}/cases/{MISSING_CASE_NUMBER}"
        for suffix in (
            "",
            "/comments",
            "/attachments",
            f"/comments/{comment.pk}",
            f"/attachments/{attachment.pk}",
        ):
            assert_not_found(api.get(f"/v2/{name_of(theirs)}{suffix}"))
            assert_not_found(api.get(f"/v2/{missing}{suffix}"))
        assert_not_found(
            api.get(f"/v2/{name_of(theirs)}/attachments/{attachment.pk}:download", {"alt": "media"})
        )

    def test_every_write_to_another_tenants_case_answers_like_a_missing_one(self, w, api_as, file_case):
        theirs = file_case(w.agent2, w.initech)
        api = api_as(w.agent)
        base = f"/v2/{name_of(theirs)}"
        assert_not_found(api.patch(f"{base}?updateMask=priority", {"priority": "P1"}))
        assert_not_found(api.post(f"{base}:close"))
        assert_not_found(
            api.post(f"{base}:escalate", {"escalation": {"reason": "BUSINESS_IMPACT", "justification": "x"}})
        )
        assert_not_found(api.post(f"{base}/comments", {"body": "hello"}))
        assert_not_found(
            api.raw("POST", f"/upload{base}/attachments?attachment.filename=a.txt", b"hello", "text/plain")
        )
        assert_not_found(api.post(f"/v2/{parent_of(w.initech)}/cases", {"displayName": "x"}))
        theirs.refresh_from_db()
        assert theirs.priority == "P3" and theirs.state == Case.State.NEW
        assert not theirs.comments.exists() and not theirs.attachments.exists()

    def test_a_case_under_the_wrong_customer_is_not_found(self, w, api_as, file_case):
        case = file_case(w.agent, w.acme)
        wrong = f"organizations/{w.globex.pk}/cases/{case.number}"
        assert_not_found(api_as(w.agent).get(f"/v2/{wrong}"))

    def test_malformed_ids_answer_not_found_too(self, w, api_as):
        api = api_as(w.agent)
        for path in ("organizations/abc/cases", "organizations/1/cases/abc", "organizations/١/cases"):
            assert_not_found(api.get(f"/v2/{path}"))
