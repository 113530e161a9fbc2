"""The OpenAPI 3 document of the API, served at /v2/openapi.json.

It states what the server enforces, no more and no less: the schemathesis tests feed it
data the document calls invalid and require a 4xx for every such request. Names are
split into their segments (`organizations/{organizationId}/cases/{caseId}`), since
OpenAPI path parameters cannot hold slashes."""

from cases.api.resources import PRIORITY_ENUM, REASON_ENUM, STATE_ENUM

ERROR = {"$ref": "#/components/responses/Error"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _ok(schema_name: str, description: str = "OK") -> dict:
    return {"200": {"description": description, "content": _json(_ref(schema_name))}, "default": ERROR}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _enum(names: list[str]) -> dict:
    # Names, or their numbers (Google's REST clients send `enum-encoding=int`).
    return {
        "anyOf": [
            {"type": "string", "enum": names},
            {"type": "integer", "minimum": 0, "maximum": len(names) - 1},
        ]
    }


PAGE_SIZE = {
    "name": "pageSize",
    "in": "query",
    "description": "Items per page: 10 when absent or 0 (classifications: 100), at most 100.",
    "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2147483647},
}
PAGE_TOKEN = {
    "name": "pageToken",
    "in": "query",
    "description": "nextPageToken of the previous page, with the same other parameters.",
    "schema": {"type": "string"},
}
ORGANIZATION = {
    "name": "organizationId",
    "in": "path",
    "required": True,
    "description": "The customer id, or `-` for every customer the token's user sees.",
    "schema": {"type": "string", "pattern": "^([0-9]{1,18}|-)$"},
}
CASE_ID = {
    "name": "caseId",
    "in": "path",
    "required": True,
    "description": "The case number.",
    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
}


def _child(name: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
    }


def _schemas() -> dict:
    actor = {
        "type": "object",
        "properties": {
            "displayName": {"type": "string"},
            "email": {"type": "string"},
            "username": {"type": "string"},
            "googleSupport": {"type": "boolean"},
        },
    }
    # The server reads a JSON null as "not set", as proto3 JSON does; the document says so.
    classification = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"id": _nullable({"type": "string"}), "displayName": _nullable({"type": "string"})},
    }
    case_properties = {
        "name": {"type": "string", "readOnly": True},
        "displayName": {"type": "string", "maxLength": 200},
        "description": {"type": "string", "maxLength": 12800},
        "classification": _ref("CaseClassification"),
        "timeZone": {"type": "string"},
        "subscriberEmailAddresses": {"type": "array", "items": {"type": "string"}},
        "state": {**_enum(STATE_ENUM), "readOnly": True},
        "createTime": {"type": "string", "readOnly": True},
        "updateTime": {"type": "string", "readOnly": True},
        "creator": _ref("Actor"),
        "contactEmail": {"type": "string"},
        "escalated": {"type": "boolean"},
        "testCase": {"type": "boolean"},
        "languageCode": {"type": "string"},
        "priority": _enum(PRIORITY_ENUM),
    }
    case_properties = {name: _nullable(schema) for name, schema in case_properties.items()}
    return {
        "Actor": actor,
        "CaseClassification": classification,
        "Case": {"type": "object", "additionalProperties": False, "properties": case_properties},
        "NewCase": {
            "type": "object",
            "additionalProperties": False,
            "required": ["displayName", "description", "classification", "priority"],
            "properties": case_properties,
        },
        "Comment": {
            "type": "object",
            "additionalProperties": False,
            "required": ["body"],
            "properties": {
                "name": _nullable({"type": "string", "readOnly": True}),
                "createTime": _nullable({"type": "string", "readOnly": True}),
                "creator": _nullable(_ref("Actor")),
                "body": {"type": "string", "maxLength": 12800},
                "plainTextBody": _nullable({"type": "string", "readOnly": True}),
            },
        },
        "Attachment": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "createTime": {"type": "string", "format": "date-time"},
                "creator": _ref("Actor"),
                "filename": {"type": "string"},
                "mimeType": {"type": "string"},
                "sizeBytes": {"type": "string", "pattern": "^[0-9]+$"},
            },
        },
        "Escalation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["reason", "justification"],
            "properties": {
                "reason": _enum(REASON_ENUM),
                "justification": {"type": "string", "maxLength": 1000},
            },
        },
        "EscalateCaseRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["escalation"],
            "properties": {"escalation": _ref("Escalation")},
        },
        "CloseCaseRequest": {"type": "object", "additionalProperties": False, "properties": {}},
        "ListCasesResponse": _list("cases", "Case"),
        "SearchCasesResponse": _list("cases", "Case"),
        "ListCommentsResponse": _list("comments", "Comment"),
        "ListAttachmentsResponse": _list("attachments", "Attachment"),
        "SearchCaseClassificationsResponse": _list("caseClassifications", "CaseClassification"),
        "Media": {
            "type": "object",
            "properties": {
                "filename": {"type": "string"},
                "contentType": {"type": "string"},
                "length": {"type": "string"},
                "hash": {"type": "string"},
                "algorithm": {"type": "string"},
            },
        },
        "Status": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "status"],
                    "properties": {
                        "code": {"type": "integer"},
                        "message": {"type": "string"},
                        "status": {"type": "string"},
                    },
                }
            },
        },
    }


def _list(key: str, item: str) -> dict:
    return {
        "type": "object",
        "properties": {
            key: {"type": "array", "items": _ref(item)},
            "nextPageToken": {"type": "string", "description": "Absent on the last page."},
        },
    }


def _operation(operation_id: str, summary: str, responses: dict, parameters=(), body=None) -> dict:
    operation = {"operationId": operation_id, "summary": summary, "parameters": list(parameters)}
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = responses
    return operation


def _json_body(schema_name: str, *, required: bool = True) -> dict:
    return {"required": required, "content": _json(_ref(schema_name))}


def openapi_document() -> dict:
    case_params = [ORGANIZATION, CASE_ID]
    org = "/v2/organizations/{organizationId}"
    case = f"{org}/cases/{{caseId}}"
    upload_body = {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
    filename_param = {
        "name": "attachment.filename",
        "in": "query",
        "description": "The file's name (required unless a multipart body names it).",
        "schema": {"type": "string"},
    }
    paths = {
        "/v2/caseClassifications:search": {
            "get": _operation(
                "cloudsupport.caseClassifications.search",
                'Classifications to file cases under; query e.g. display_name:"*Gmail*".',
                _ok("SearchCaseClassificationsResponse"),
                [{"name": "query", "in": "query", "schema": {"type": "string"}}, PAGE_SIZE, PAGE_TOKEN],
            )
        },
        f"{org}/cases": {
            "get": _operation(
                "cloudsupport.cases.list",
                "Cases of a customer; filter e.g. state=OPEN AND (priority=P1 OR priority=P2).",
                _ok("ListCasesResponse"),
                [
                    ORGANIZATION,
                    {"name": "filter", "in": "query", "schema": {"type": "string"}},
                    PAGE_SIZE,
                    PAGE_TOKEN,
                ],
            ),
            "post": _operation(
                "cloudsupport.cases.create",
                "File a case for the customer.",
                _ok("Case"),
                [
                    ORGANIZATION,
                    {
                        "name": "requestId",
                        "in": "query",
                        "description": "Repeating a create with the same requestId returns the first case.",
                        "schema": {"type": "string", "maxLength": 64},
                    },
                ],
                _json_body("NewCase"),
            ),
        },
        f"{org}/cases:search": {
            "get": _operation(
                "cloudsupport.cases.search",
                'Search cases: the filter fields, "free text", update_time>"2024-01-01T00:00:00Z".',
                _ok("SearchCasesResponse"),
                [
                    ORGANIZATION,
                    {"name": "query", "in": "query", "schema": {"type": "string"}},
                    PAGE_SIZE,
                    PAGE_TOKEN,
                ],
            )
        },
        case: {
            "get": _operation("cloudsupport.cases.get", "One case.", _ok("Case"), case_params),
            "patch": _operation(
                "cloudsupport.cases.patch",
                "Update priority, display_name and subscriber_email_addresses (empty mask: all three). "
                "priority and display_name change on open cases only (a closed case answers 400 "
                "FAILED_PRECONDITION; reopen it first); subscribers may change until the case is locked.",
                _ok("Case"),
                [*case_params, {"name": "updateMask", "in": "query", "schema": {"type": "string"}}],
                _json_body("Case"),
            ),
        },
        f"{case}:close": {
            "post": _operation(
                "cloudsupport.cases.close",
                "Close the case.",
                _ok("Case"),
                case_params,
                _json_body("CloseCaseRequest", required=False),
            )
        },
        f"{case}:escalate": {
            "post": _operation(
                "cloudsupport.cases.escalate",
                "Escalate the case (Premium customers).",
                _ok("Case"),
                case_params,
                _json_body("EscalateCaseRequest"),
            )
        },
        f"{case}/comments": {
            "get": _operation(
                "cloudsupport.cases.comments.list",
                "Comments, newest first.",
                _ok("ListCommentsResponse"),
                [*case_params, PAGE_SIZE, PAGE_TOKEN],
            ),
            "post": _operation(
                "cloudsupport.cases.comments.create",
                "Send a message to support.",
                _ok("Comment"),
                case_params,
                _json_body("Comment"),
            ),
        },
        f"{case}/comments/{{commentId}}": {
            "get": _operation(
                "cloudsupport.cases.comments.get",
                "One comment.",
                _ok("Comment"),
                [*case_params, _child("commentId")],
            )
        },
        f"{case}/attachments": {
            "get": _operation(
                "cloudsupport.cases.attachments.list",
                "Attachments, newest first.",
                _ok("ListAttachmentsResponse"),
                [*case_params, PAGE_SIZE, PAGE_TOKEN],
            )
        },
        f"{case}/attachments/{{attachmentId}}": {
            "get": _operation(
                "cloudsupport.cases.attachments.get",
                "One attachment's metadata.",
                _ok("Attachment"),
                [*case_params, _child("attachmentId")],
            )
        },
        f"{case}/attachments/{{attachmentId}}:download": {
            "get": _operation(
                "cloudsupport.media.download",
                "The file (alt=media), or its metadata (alt=json).",
                {
                    "200": {
                        "description": "The file, or its metadata.",
                        "content": {
                            "application/json": {"schema": _ref("Media")},
                            "*/*": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "default": ERROR,
                },
                [
                    *case_params,
                    _child("attachmentId"),
                    {"name": "alt", "in": "query", "schema": {"type": "string", "enum": ["json", "media"]}},
                ],
            )
        },
        f"/upload{case}/attachments": {
            "post": _operation(
                "cloudsupport.media.upload",
                "Attach a file (raw body, multipart/related as Google's clients send it, or a form).",
                _ok("Attachment"),
                [*case_params, filename_param],
                upload_body,
            )
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Reseller support portal: Cloud Support API v2",
            "version": "v2",
            "description": (
                "Wire-compatible with Google's Cloud Support API v2 (discovery document cloudsupport.v2.json). "
                "Authenticate with `Authorization: Bearer <personal API token>`; make a token on the portal's "
                'API tokens page. Errors are {"error": {"code", "message", "status"}}.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {"description": "A Google-style error.", "content": _json(_ref("Status"))}
            },
            "schemas": _schemas(),
        },
    }
