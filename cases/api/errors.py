"""Errors in Google's shape: `{"error": {"code": 404, "message": "…", "status": "NOT_FOUND"}}`.

Services raise `portal.errors.DomainError` subclasses whose `api_status` names the
google.rpc code; the HTTP status follows from it, as Google's frontends map them."""

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from portal.errors import DomainError, NotFound

HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
}


class ApiError(Exception):
    """An error of the API surface itself (authentication, rate limit, bad JSON, unknown
    method); service refusals stay DomainErrors."""

    def __init__(self, status: str, message, *, headers: dict | None = None, code: int | None = None):
        self.status = status
        self.message = message
        self.code = code or HTTP_STATUS[status]
        self.headers = headers or {}
        super().__init__(str(message))


def unauthenticated(message=None) -> ApiError:
    return ApiError(
        "UNAUTHENTICATED",
        message
        or _(
            "Request is missing a valid API token. Send “Authorization: Bearer <token>” with a personal "
            "token from the API tokens page of the portal."
        ),
        headers={"WWW-Authenticate": 'Bearer realm="cloudsupport"'},
    )


def invalid(message) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message)


def error_response(*, code: int, status: str, message, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": str(message), "status": status}}, status=code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def api_error_response(exc: ApiError) -> JsonResponse:
    return error_response(code=exc.code, status=exc.status, message=exc.message, headers=exc.headers)


def domain_error_response(exc: DomainError) -> JsonResponse:
    if isinstance(exc, NotFound):
        # One answer for missing and forbidden objects, whichever layer noticed (R9).
        return not_found_response()
    status = exc.api_status if exc.api_status in HTTP_STATUS else "FAILED_PRECONDITION"
    return error_response(code=HTTP_STATUS[status], status=status, message=exc.message)


def not_found_response(message=None) -> JsonResponse:
    return error_response(
        code=404, status="NOT_FOUND", message=message or _("Requested entity was not found.")
    )
