"""Schemathesis against the served OpenAPI document, over real HTTP: valid and invalid
requests generated from the document for every operation, as an authenticated agent.
Nothing may answer 5xx; what the document calls invalid must be refused with a 4xx;
answers must match the document (status codes, content types, bodies)."""

import tempfile
from pathlib import Path

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from cases.api.openapi import openapi_document
from cases.services import attachment_add, case_comment_add

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 20
# Hypothesis keeps caches in .hypothesis/ under the working directory; not in the work tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "portal-hypothesis")

schema = schemathesis.openapi.from_dict(openapi_document())
# No example database (the run is the same every time). The token is sent by the test
# itself (refused tokens are tested elsewhere), and query parameters the document does not
# name are ignored, as OpenAPI leaves them, not refused.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    database="none",
    with_security_parameters=False,
    allow_extra_parameters=False,
)


@pytest.fixture
def target(live_api, client, w, token_for, file_case):
    """The live server, an agent's token, and the ids of a real case of Acme with a
    comment and an attachment, so that valid requests reach real objects."""
    served = client.get("/v2/openapi.json").json()
    assert served == openapi_document(), "the served document is the one tested"
    case = file_case(w.agent, w.acme)
    comment = case_comment_add(user=w.agent, case=case, body="A first message.")
    attachment = attachment_add(
        user=w.agent, case=case, file=SimpleUploadedFile("notes.txt", b"some notes"), filename="notes.txt"
    )
    real_ids = {
        "organizationId": str(w.acme.pk),
        "caseId": str(case.number),
        "commentId": str(comment.pk),
        "attachmentId": str(attachment.pk),
    }
    return live_api, token_for(w.agent), real_ids


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
)
def test_the_api_honours_its_openapi_document(case, target):
    base_url, token, real_ids = target
    if case.meta.generation.mode == GenerationMode.POSITIVE and case.path_parameters:
        # Valid requests go to objects that exist; random ids would only ever meet 404.
        for name in case.path_parameters:
            case.path_parameters[name] = real_ids[name]
    case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
