"""Google's own client libraries, unchanged, against a live server of the portal:

- google-api-python-client (`googleapiclient.discovery.build("cloudsupport", "v2",
  static_discovery=True, …)`), reading the discovery document it ships with;
- google-cloud-support (`google.cloud.support_v2`) over REST with `url_scheme="http"`,
  which sends enums as numbers (`$alt=json;enum-encoding=int`) and reads our enum names.

Every method of SPEC §7, paging past the first page, every filter form, a binary file
up and down with its bytes intact, and each error status."""

import gzip
import hashlib
import json
import os
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from google.api_core import exceptions as google_exceptions
from google.cloud import support_v2
from google.protobuf import field_mask_pb2
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from accounts.token_services import api_token_revoke
from cases.models import Case, CaseEvent
from cases.services import case_comment_add
from tests.api.conftest import name_of, parent_of

BINARY = gzip.compress(bytes(range(256)) * 64 + os.urandom(4096))


def http_error(call) -> tuple[int, dict]:
    with pytest.raises(HttpError) as raised:
        call.execute()
    return raised.value.resp.status, json.loads(raised.value.content)["error"]


def new_case(w, **overrides):
    body = {
        "displayName": "Shared drive sync stalls",
        "description": "Drive for desktop stops syncing one shared drive after an hour.",
        "classification": {"id": w.leaf().code},
        "priority": "P2",
        "timeZone": "Asia/Seoul",
    }
    body.update(overrides)
    return body


class TestDiscoveryClient:
    def test_every_case_method(self, w, token_for, discovery):
        service = discovery(token_for(w.agent))
        cases = service.cases()
        leaf = service.caseClassifications().search(query='display_name:"*Messages delayed*"').execute()
        assert leaf["caseClassifications"][0]["id"] == w.leaf().code

        created = cases.create(
            parent=parent_of(w.acme), body=new_case(w, subscriberEmailAddresses=["ops@acme.example"])
        ).execute()
        name = created["name"]
        assert created["state"] == "NEW" and created["priority"] == "P2"
        assert Case.objects.get(number=int(name.rsplit("/", 1)[1])).channel == Case.Channel.API

        assert cases.get(name=name).execute()["displayName"] == "Shared drive sync stalls"

        patched = cases.patch(
            name=name,
            updateMask="priority,display_name",
            body={"priority": "P1", "displayName": "Sync stalls"},
        ).execute()
        assert (patched["priority"], patched["displayName"]) == ("P1", "Sync stalls")
        assert patched["subscriberEmailAddresses"] == ["ops@acme.example"]

        escalated = cases.escalate(
            name=name,
            body={"escalation": {"reason": "BUSINESS_IMPACT", "justification": "Finance cannot work."}},
        ).execute()
        assert escalated["escalated"] is True

        comment = cases.comments().create(parent=name, body={"body": "Logs attached."}).execute()
        assert comment["body"] == "Logs attached."
        assert cases.comments().get(name=comment["name"]).execute()["body"] == "Logs attached."
        assert [c["name"] for c in cases.comments().list(parent=name).execute()["comments"]] == [
            comment["name"]
        ]

        closed = cases.close(name=name, body={}).execute()
        assert closed["state"] == "CLOSED"
        kinds = set(
            Case.objects.get(number=int(name.rsplit("/", 1)[1])).events.values_list("kind", flat=True)
        )
        assert {"CREATED", "PRIORITY_CHANGED", "UPDATED", "ESCALATED", "COMMENTED", "STATE_CHANGED"} <= kinds

    def test_list_pages_past_the_first_page(self, w, token_for, discovery, file_case):
        for _ in range(5):
            file_case(w.agent, w.acme)
        cases = discovery(token_for(w.agent)).cases()
        request = cases.list(parent=parent_of(w.acme), pageSize=2)
        names, pages = [], 0
        while request is not None:
            response = request.execute()
            names += [case["name"] for case in response.get("cases", [])]
            pages += 1
            request = cases.list_next(request, response)
        assert pages > 3
        assert len(names) == len(set(names))
        visible = Case.objects.filter(customer=w.acme, managing_domain=w.reseller).count()
        assert len(names) == visible

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("state=OPEN", lambda c: c.state != "CLOSED"),
            ("state=CLOSED", lambda c: c.state == "CLOSED"),
            ("priority=P1 OR priority=P2", lambda c: c.priority in {"P1", "P2"}),
            (
                'creator.email="user@acme.example"',
                lambda c: c.creator and c.creator.email == "user@acme.example",
            ),
            (
                "state=OPEN AND (priority=P0 OR priority=P1)",
                lambda c: c.state != "CLOSED" and c.priority in {"P0", "P1"},
            ),
        ],
    )
    def test_every_filter_form(self, w, token_for, discovery, file_case, text, expected):
        file_case(w.acme_user, w.acme, priority="P1")
        file_case(w.agent, w.acme, priority="P2")
        cases = discovery(token_for(w.acme_user)).cases()
        request = cases.list(parent=parent_of(w.acme), filter=text, pageSize=100)
        names = []
        while request is not None:
            response = request.execute()
            names += [case["name"] for case in response.get("cases", [])]
            request = cases.list_next(request, response)
        numbers = [int(name.rsplit("/", 1)[1]) for name in names]
        everything = Case.objects.filter(customer=w.acme).select_related("creator")
        assert sorted(numbers) == sorted(c.number for c in everything if expected(c))
        assert numbers

    def test_search_by_text_and_update_time(self, w, token_for, discovery, file_case):
        older = file_case(w.agent, w.acme, title="Kestrel calendar overlap")
        case_comment_add(user=w.agent, case=older, body="kestrel")
        since = timezone.now() + timedelta(seconds=1)
        with time_machine.travel(since + timedelta(minutes=1)):
            newer = file_case(w.agent, w.acme, title="Kestrel room booking")
        search = discovery(token_for(w.agent)).cases().search
        found = search(parent=parent_of(w.acme), query='"kestrel"').execute()["cases"]
        assert {c["name"] for c in found} == {name_of(older), name_of(newer)}
        found = search(
            parent=parent_of(w.acme), query=f'"kestrel" AND update_time>"{since.isoformat()}"'
        ).execute()
        assert [c["name"] for c in found["cases"]] == [name_of(newer)]

    def test_a_binary_file_goes_up_and_comes_back_byte_for_byte(self, w, token_for, discovery, file_case):
        case = file_case(w.agent, w.acme)
        service = discovery(token_for(w.agent))
        # multipart/related, as the client sends it when a body is given (sent to https://
        # by the client, brought back to http by HttpForTestHost).
        uploaded = (
            service.media()
            .upload(
                parent=name_of(case),
                body={"attachment": {"filename": "trace.gz"}},
                media_body=MediaInMemoryUpload(BINARY, mimetype="application/gzip"),
            )
            .execute()
        )
        assert uploaded["filename"] == "trace.gz" and uploaded["sizeBytes"] == str(len(BINARY))
        assert uploaded["mimeType"] == "application/gzip"
        downloaded = service.media().download_media(name=uploaded["name"]).execute()
        assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(BINARY).hexdigest()

        # A simple upload, named in the query as Google's own example does it.
        request = service.media().upload(
            parent=name_of(case), media_body=MediaInMemoryUpload(BINARY, mimetype="application/gzip")
        )
        request.uri = request.uri.split("?")[0] + "?attachment.filename=second.gz"
        second = request.execute()
        assert second["filename"] == "second.gz"

        listed = service.cases().attachments().list(parent=name_of(case)).execute()["attachments"]
        assert [a["name"] for a in listed] == [second["name"], uploaded["name"]]
        assert service.cases().attachments().get(name=uploaded["name"]).execute()["filename"] == "trace.gz"

    def test_errors_carry_googles_status(self, w, token_for, discovery, file_case):
        agent = discovery(token_for(w.agent))
        theirs = file_case(w.agent2, w.initech)
        assert http_error(agent.cases().get(name=name_of(theirs)))[0] == 404
        status, error = http_error(agent.cases().list(parent=parent_of(w.acme), filter="state=MAYBE"))
        assert (status, error["status"]) == (400, "INVALID_ARGUMENT")

        initech = file_case(w.agent2, w.initech)
        status, error = http_error(
            discovery(token_for(w.agent2))
            .cases()
            .escalate(
                name=name_of(initech),
                body={"escalation": {"reason": "BUSINESS_IMPACT", "justification": "x"}},
            )
        )
        assert (status, error["status"]) == (400, "FAILED_PRECONDITION")

        status, error = http_error(discovery(token_for(w.viewer)).cases().list(parent=parent_of(w.acme)))
        assert (status, error["status"]) == (403, "PERMISSION_DENIED")

        token = token_for(w.agent, name="revoked")
        client = discovery(token)
        client.cases().list(parent=parent_of(w.acme)).execute()
        api_token_revoke(user=w.agent, token_id=w.agent.api_tokens.get(name="revoked").pk)
        status, error = http_error(client.cases().list(parent=parent_of(w.acme)))
        assert (status, error["status"]) == (401, "UNAUTHENTICATED")

    @override_settings(API_RATE_LIMIT_PER_MINUTE=2)
    @time_machine.travel("2030-01-01 10:00:01", tick=True)  # all calls in one minute window
    def test_the_rate_limit_answers_429(self, w, token_for, discovery):
        service = discovery(token_for(w.agent))
        statuses = []
        for _ in range(4):
            try:
                service.caseClassifications().search().execute()
                statuses.append(200)
            except HttpError as error:
                statuses.append(error.resp.status)
                assert json.loads(error.content)["error"]["status"] == "RESOURCE_EXHAUSTED"
                assert int(error.resp["retry-after"]) >= 1
        assert statuses[:2] == [200, 200] and 429 in statuses[2:]


class TestGoogleCloudSupport:
    def test_every_case_method_with_enum_numbers_on_the_wire(self, w, token_for, gapic):
        clients = gapic(token_for(w.agent))
        classifications = list(
            clients.cases.search_case_classifications(request={"query": 'display_name:"*Messages delayed*"'})
        )
        assert classifications[0].id == w.leaf().code

        created = clients.cases.create_case(
            parent=parent_of(w.acme),
            case=support_v2.Case(
                display_name="Groups posts bounce",
                description="Posts to announcements@ bounce for external members.",
                classification=support_v2.CaseClassification(id=classifications[0].id),
                priority=support_v2.Case.Priority.P3,
                subscriber_email_addresses=["ops@acme.example"],
                test_case=True,
            ),
        )
        assert created.state == support_v2.Case.State.NEW
        assert created.priority == support_v2.Case.Priority.P3
        assert created.test_case and list(created.subscriber_email_addresses) == ["ops@acme.example"]

        fetched = clients.cases.get_case(name=created.name)
        assert fetched.display_name == "Groups posts bounce"
        assert fetched.create_time.year >= 2024

        updated = clients.cases.update_case(
            case=support_v2.Case(
                name=created.name, priority=support_v2.Case.Priority.P1, display_name="Posts bounce"
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["priority", "display_name"]),
        )
        assert updated.priority == support_v2.Case.Priority.P1 and updated.display_name == "Posts bounce"
        assert list(updated.subscriber_email_addresses) == ["ops@acme.example"]

        escalated = clients.cases.escalate_case(
            request={
                "name": created.name,
                "escalation": {
                    "reason": support_v2.Escalation.Reason.TECHNICAL_EXPERTISE,
                    "justification": "Specialist",
                },
            }
        )
        assert escalated.escalated

        comment = clients.comments.create_comment(
            parent=created.name, comment=support_v2.Comment(body="More logs.")
        )
        assert comment.body == "More logs."
        assert clients.comments.get_comment(name=comment.name).body == "More logs."
        assert [c.name for c in clients.comments.list_comments(parent=created.name)] == [comment.name]
        assert list(clients.attachments.list_attachments(parent=created.name)) == []

        closed = clients.cases.close_case(request={"name": created.name})
        assert closed.state == support_v2.Case.State.CLOSED
        case = Case.objects.get(number=int(created.name.rsplit("/", 1)[1]))
        assert case.events.filter(kind=CaseEvent.Kind.PRIORITY_CHANGED, before="P3", after="P1").exists()

    def test_list_and_search_page_through_every_result(self, w, token_for, gapic, file_case):
        for _ in range(4):
            file_case(w.agent, w.umbrella, title="Heron export job fails")
        clients = gapic(token_for(w.agent))
        pager = clients.cases.list_cases(request={"parent": parent_of(w.umbrella), "page_size": 2})
        pages = list(pager.pages)
        names = [case.name for page in pages for case in page.cases]
        assert len(pages) > 2 and len(names) == len(set(names))
        found = list(
            clients.cases.search_cases(
                request={"parent": parent_of(w.umbrella), "query": '"heron"', "page_size": 3}
            )
        )
        assert len(found) == 4

    def test_filters_through_the_rest_client(self, w, token_for, gapic, file_case):
        mine = file_case(w.acme_user, w.acme, priority="P1")
        clients = gapic(token_for(w.acme_user))
        found = list(
            clients.cases.list_cases(
                request={
                    "parent": parent_of(w.acme),
                    "filter": 'state=OPEN AND creator.email="user@acme.example"',
                }
            )
        )
        assert name_of(mine) in {c.name for c in found}
        assert all(
            c.creator.email == "user@acme.example" and c.state != support_v2.Case.State.CLOSED for c in found
        )

    def test_errors_map_to_googles_exceptions(self, w, token_for, gapic, file_case):
        theirs = file_case(w.agent2, w.initech)
        agent = gapic(token_for(w.agent))
        with pytest.raises(google_exceptions.NotFound):
            agent.cases.get_case(name=name_of(theirs))
        with pytest.raises(google_exceptions.BadRequest) as bad:
            agent.cases.list_cases(
                request={"parent": parent_of(w.acme), "filter": "priority=P9"}
            ).pages.__next__()
        assert bad.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
        with pytest.raises(google_exceptions.Forbidden):
            gapic(token_for(w.viewer)).cases.get_case(name=name_of(theirs))
        with pytest.raises(google_exceptions.BadRequest) as precondition:
            gapic(token_for(w.agent2)).cases.escalate_case(
                request={
                    "name": name_of(theirs),
                    "escalation": {
                        "reason": support_v2.Escalation.Reason.BUSINESS_IMPACT,
                        "justification": "x",
                    },
                }
            )
        assert precondition.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"
        token = token_for(w.agent, name="to revoke")
        revoked = gapic(token)
        api_token_revoke(user=w.agent, token_id=w.agent.api_tokens.get(name="to revoke").pk)
        with pytest.raises(google_exceptions.Unauthorized):
            revoked.cases.get_case(name=name_of(theirs))

    @override_settings(API_RATE_LIMIT_PER_MINUTE=1)
    @time_machine.travel("2030-01-01 10:00:01", tick=True)  # both calls in one minute window
    def test_the_rate_limit_raises_too_many_requests(self, w, token_for, gapic):
        clients = gapic(token_for(w.agent))
        list(clients.cases.search_case_classifications(request={"query": ""}))
        with pytest.raises(google_exceptions.TooManyRequests) as limited:
            list(clients.cases.search_case_classifications(request={"query": ""}))
        assert limited.value.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
        assert int(limited.value.response.headers["Retry-After"]) >= 1
