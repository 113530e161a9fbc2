"""The API's endpoints. `api_endpoint` is the one base every endpoint stands on (Sentry's
pattern): it refuses unknown methods, authenticates the token and applies the rate
limit before any handler runs, and turns every refusal into Google's error shape.
Handlers stay thin: read through `cases.api_selectors`, write through services."""

import functools
import logging
import re

from django.http import FileResponse, Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.models import Domain, Privilege
from accounts.selectors import user_has_privilege
from cases.api import resources
from cases.api.auth import api_user_for
from cases.api.errors import (
    ApiError,
    api_error_response,
    domain_error_response,
    error_response,
    invalid,
    not_found_response,
)
from cases.api.media import upload_from_request
from cases.api.openapi import openapi_document
from cases.api.services import api_case_create, api_case_update, update_mask_fields
from cases.api_selectors import (
    api_attachment_get,
    api_attachment_page,
    api_case_get,
    api_case_page,
    api_classification_page,
    api_comment_get,
    api_comment_page,
    api_customer_for_filing,
    api_parent_scope,
)
from cases.models import COMMENT_MAX_LENGTH, Case
from cases.selectors import reseller_can_access_cases
from cases.services import attachment_add, case_close, case_comment_add, case_escalate
from portal.errors import DomainError, PermissionRefused

logger = logging.getLogger(__name__)

# Page sizes as Google's: 10 by default for cases, comments and attachments, at most 100.
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
CLASSIFICATION_PAGE_SIZE = 100
PARENT_KIND = "organizations"
MAX_REQUEST_KEY = 64
PAGE_SIZE_PATTERN = re.compile(r"[0-9]{1,10}")
INT32_MAX = 2**31 - 1
MAX_JUSTIFICATION = 1000


def require_case_access(user) -> None:
    """R2 for the API: a reseller account without the case privileges is told what it
    lacks and whom to ask, as the pages tell it (this reveals nothing about any tenant)."""
    if user.domain.kind != Domain.Kind.RESELLER or reseller_can_access_cases(user):
        return
    missing = [
        str(Privilege(privilege).label)
        for privilege in (Privilege.SUPPORT, Privilege.RESELLER_ACCESS_CUSTOMER_CASES)
        if not user_has_privilege(user, privilege)
    ]
    raise PermissionRefused(
        _(
            "Working with customer cases needs these privileges: %(privileges)s. Ask your domain's super admin."
        )
        % {"privileges": ", ".join(f"“{label}”" for label in missing)}
    )


def api_endpoint(*, case_access: bool = True, **handlers):
    """A view serving `handlers` by HTTP method: `api_endpoint(GET=list_cases, POST=create_case)`.
    Each handler is called as `handler(request, user, **url_kwargs)`, after the token is
    authenticated, rate-limited and (with `case_access`) checked for the case privileges."""
    allowed = ", ".join(sorted(handlers))

    @csrf_exempt
    def view(request, **kwargs):
        handler = handlers.get(request.method)
        if handler is None:
            response = error_response(
                code=405,
                status="UNIMPLEMENTED",
                message=_("%(method)s is not supported here.") % {"method": request.method[:10]},
                headers={"Allow": allowed},
            )
        else:
            try:
                user = api_user_for(request)
                for name, values in request.GET.lists():
                    for value in values:
                        resources.no_nul(value, name)
                if case_access:
                    require_case_access(user)
                kind = kwargs.pop("kind", PARENT_KIND)
                if kind != PARENT_KIND:
                    raise invalid(
                        _("Parents on this portal are organizations/{customer id}, not “%(kind)s/…”.")
                        % {"kind": kind[:40]}
                    )
                response = handler(request, user, **kwargs)
            except ApiError as exc:
                response = api_error_response(exc)
            except DomainError as exc:
                response = domain_error_response(exc)
            except Http404:
                response = not_found_response()
            except Exception:
                logger.exception("API request failed", extra={"path": request.path[:200]})
                response = error_response(
                    code=500, status="INTERNAL", message=_("Internal error. Retry later.")
                )
        response.setdefault("Cache-Control", "private, no-store")
        return response

    return view


# --------------------------------------------------------------------------- helpers


def _page_size(request, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    raw = request.GET.get("pageSize")
    if raw is None:
        return default
    if not PAGE_SIZE_PATTERN.fullmatch(raw) or int(raw) > INT32_MAX:
        raise invalid(_("pageSize must be a whole number from 0 up."))
    return min(int(raw) or default, maximum)


def _page_response(items_key: str, items: list, next_page_token: str) -> JsonResponse:
    body = {items_key: items}
    if next_page_token:
        body["nextPageToken"] = next_page_token
    return JsonResponse(body)


def _case(user, parent: str, case: str) -> Case:
    return api_case_get(user=user, parent_id=parent, number=case)


def _case_response(user, case: Case, *, status: int = 200) -> JsonResponse:
    # Read again through the gate: the answer shows what the user may see after the write.
    fresh = api_case_get(user=user, parent_id=str(case.customer_id), number=str(case.number))
    return JsonResponse(resources.case_resource(fresh), status=status)


def _request_key(request) -> str | None:
    key = request.GET.get("requestId", "")
    if len(key) > MAX_REQUEST_KEY:
        raise invalid(_("requestId can be at most %(n)d characters long.") % {"n": MAX_REQUEST_KEY})
    return key.strip() or None


# --------------------------------------------------------------------------- cases


def _case_page(request, user, parent, *, search: bool):
    """cases.list (`filter`) and cases.search (`query`, with free text): one page of the
    parent's cases the user may see."""
    page = api_case_page(
        user=user,
        customer_id=api_parent_scope(user=user, parent_id=parent),
        text=request.GET.get("query" if search else "filter", ""),
        search=search,
        size=_page_size(request),
        token=request.GET.get("pageToken"),
    )
    return _page_response(
        "cases", [resources.case_resource(case) for case in page.rows], page.next_page_token
    )


def _list_cases(request, user, parent):
    return _case_page(request, user, parent, search=False)


def _search_cases(request, user, parent):
    return _case_page(request, user, parent, search=True)


def _create_case(request, user, parent):
    fields = resources.case_input(resources.json_body(request))
    customer = api_customer_for_filing(user=user, parent_id=parent)
    case = api_case_create(user=user, customer=customer, fields=fields, request_key=_request_key(request))
    return _case_response(user, case)


def _get_case(request, user, parent, case):
    return JsonResponse(resources.case_resource(_case(user, parent, case)))


def _patch_case(request, user, parent, case):
    mask = update_mask_fields(request.GET.get("updateMask"))
    fields = resources.case_input(resources.json_body(request))
    target = _case(user, parent, case)
    updated = api_case_update(user=user, case=target, mask=mask, fields=fields)
    return _case_response(user, updated)


def _close_case(request, user, parent, case):
    resources.only_fields(resources.json_body(request), set(), where="request")
    closed = case_close(user=user, case=_case(user, parent, case))
    return _case_response(user, closed)


def _escalate_case(request, user, parent, case):
    data = resources.json_body(request)
    resources.only_fields(data, {"escalation"}, where="request")
    escalation = data.get("escalation") or {}
    if not isinstance(escalation, dict):
        raise invalid(_("“escalation” must be an object with a reason and a justification."))
    resources.only_fields(escalation, {"reason", "justification"}, where="escalation")
    reason = resources.enum(escalation, "reason", resources.REASON_ENUM)
    justification = resources.max_length(
        resources.string(escalation, "justification"), "justification", MAX_JUSTIFICATION
    )
    if reason is None or not justification.strip():
        raise invalid(_("An escalation needs a reason and a justification."))
    escalated = case_escalate(
        user=user, case=_case(user, parent, case), reason=reason, justification=justification
    )
    return _case_response(user, escalated)


# --------------------------------------------------------------------------- comments


def _list_comments(request, user, parent, case):
    target = _case(user, parent, case)
    page = api_comment_page(
        case=target, user=user, size=_page_size(request), token=request.GET.get("pageToken")
    )
    return _page_response(
        "comments", [resources.comment_resource(target, c) for c in page.rows], page.next_page_token
    )


def _create_comment(request, user, parent, case):
    data = resources.json_body(request)
    resources.only_fields(data, {"name", "body", "plainTextBody", "createTime", "creator"}, where="comment")
    resources.output_only({key: data.get(key) for key in ("name", "createTime")})
    resources.string(data, "plainTextBody")
    if data.get("creator") is not None and not isinstance(data["creator"], dict):
        raise invalid(_("“creator” must be an object."))
    body = resources.max_length(resources.string(data, "body"), "body", COMMENT_MAX_LENGTH)
    target = _case(user, parent, case)
    comment = case_comment_add(user=user, case=target, body=body)
    return JsonResponse(resources.comment_resource(target, comment))


def _get_comment(request, user, parent, case, comment):
    target = _case(user, parent, case)
    return JsonResponse(
        resources.comment_resource(target, api_comment_get(case=target, user=user, comment_id=comment))
    )


# --------------------------------------------------------------------------- attachments


def _list_attachments(request, user, parent, case):
    target = _case(user, parent, case)
    page = api_attachment_page(case=target, size=_page_size(request), token=request.GET.get("pageToken"))
    return _page_response(
        "attachments", [resources.attachment_resource(target, a) for a in page.rows], page.next_page_token
    )


def _get_attachment(request, user, parent, case, attachment):
    target = _case(user, parent, case)
    found = api_attachment_get(case=target, attachment_id=attachment)
    return JsonResponse(resources.attachment_resource(target, found))


def _upload_attachment(request, user, parent, case):
    target = _case(user, parent, case)
    file, filename = upload_from_request(request)
    try:
        if not filename.strip():
            raise invalid(
                _(
                    'Name the file: add ?attachment.filename=<name> or the metadata {"attachment": {"filename": …}}.'
                )
            )
        attachment = attachment_add(user=user, case=target, file=file, filename=filename)
    finally:
        file.close()
    return JsonResponse(resources.attachment_resource(target, attachment))


def _download_attachment(request, user, parent, case, attachment):
    target = _case(user, parent, case)
    found = api_attachment_get(case=target, attachment_id=attachment)
    if not found.file:
        raise Http404
    alt = request.GET.get("alt", "json")
    if alt not in {"json", "media"}:
        raise invalid(_("alt must be json or media."))
    if alt == "json":
        # Without alt=media Google answers with the Media metadata of the blob.
        return JsonResponse(
            {
                "filename": found.filename,
                "contentType": found.mime_type,
                "length": str(found.size),
                "hash": found.sha256,
                "algorithm": "SHA-256",
            }
        )
    try:
        stream = found.file.open("rb")
    except FileNotFoundError:
        logger.error("attachment file missing", extra={"attachment_id": found.pk})
        raise Http404 from None
    response = FileResponse(stream, as_attachment=True, filename=found.filename, content_type=found.mime_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --------------------------------------------------------------------------- classifications


def _search_classifications(request, user):
    page = api_classification_page(
        query=request.GET.get("query", ""),
        size=_page_size(request, default=CLASSIFICATION_PAGE_SIZE, maximum=CLASSIFICATION_PAGE_SIZE),
        token=request.GET.get("pageToken"),
    )
    return _page_response(
        "caseClassifications",
        [resources.classification_resource(c) for c in page.rows],
        page.next_page_token,
    )


# --------------------------------------------------------------------------- views

cases_collection = api_endpoint(GET=_list_cases, POST=_create_case)
cases_search = api_endpoint(GET=_search_cases)
case_item = api_endpoint(GET=_get_case, PATCH=_patch_case)
case_close_view = api_endpoint(POST=_close_case)
case_escalate_view = api_endpoint(POST=_escalate_case)
comments_collection = api_endpoint(GET=_list_comments, POST=_create_comment)
comment_item = api_endpoint(GET=_get_comment)
attachments_collection = api_endpoint(GET=_list_attachments, POST=_upload_attachment)
attachment_upload = api_endpoint(POST=_upload_attachment)
attachment_item = api_endpoint(GET=_get_attachment)
attachment_download = api_endpoint(GET=_download_attachment)
classifications_search = api_endpoint(GET=_search_classifications, case_access=False)


@csrf_exempt
def unknown_method(request, path=""):
    """Anything else under /v2/ answers in Google's shape, not with an HTML page."""
    return not_found_response(_("Method not found."))


@functools.cache
def _openapi_json() -> dict:
    return openapi_document()


def openapi_view(request):
    return JsonResponse(_openapi_json(), json_dumps_params={"ensure_ascii": False})
