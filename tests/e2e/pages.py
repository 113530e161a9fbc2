"""Every page of every persona, found from the URL resolver with real ids (issue 12).

A route is a page when a browser can GET it and gets HTML back. The routes that are not
pages are listed in NOT_PAGES with the reason, so that a new page joins the crawl by
existing: a route that is neither here nor fillable fails `test_every_route_is_crawled_or_excluded`."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import AdminRole, OrgUnit, User
from cases.models import Attachment, CannedReply, Case
from cases.selectors import case_visible_to
from customers.selectors import customer_visible_to

# Route names (or path prefixes) that are not pages a persona reads.
NOT_PAGES = {
    # POST-only actions, htmx fragments, files and machine-readable answers
    "set_language": "POST action",
    "healthz": "JSON",
    "cases:export": "CSV file",
    "cases:customer_options": "htmx fragment",
    "cases:classification_options": "htmx fragment",
    "cases:classification_questions": "htmx fragment",
    "cases:download": "file download",
    "api_openapi": "JSON",
    "token_revoke": "POST action",
    "account_sign_out_one": "POST action",
    "notification_address_confirm": "needs a mailed key",
    "support:counts": "htmx fragment",
    "support:bulk": "POST action",
    "support:view_save": "POST action",
    "support:view_delete": "POST action",
    "jobs:progress": "htmx fragment",
    "jobs:download": "file download",
    # allauth flows that need a pending state (a code, a key, a login in progress)
    "account_logout": "signs out",
    "account_inactive": "only after a refused sign-in",
    "account_signup": "sign-up is closed",
    "account_reauthenticate": "only inside a sensitive action",
    "account_request_reauthentication_code": "only inside a sensitive action",
    "account_confirm_reauthentication_code": "only inside a sensitive action",
    "account_email": "addresses are changed by super admins",
    "account_email_verification_sent": "only after sign-up",
    "account_confirm_email": "needs a mailed key",
    "account_set_password": "accounts always have a password",
    "account_confirm_login_code": "login by code is off",
    "account_reset_password_from_key": "needs a mailed key",
    "account_reset_password_from_key_done": "only after a reset",
    "mfa_authenticate": "only during sign-in",
    "mfa_reauthenticate": "only inside a sensitive action",
    "mfa_deactivate_totp": "needs an active authenticator",
    "mfa_view_recovery_codes": "needs an active authenticator",
    "mfa_generate_recovery_codes": "needs an active authenticator",
    "mfa_download_recovery_codes": "file download",
}
NOT_PAGE_PREFIXES = (
    "django-admin/",
    "v2/",
    "upload/v2/",
    "^v2/",
    "^upload/",
    "^(?:upload/)?v2/",
    "supportcenter/",
)


def routes() -> list[tuple[str, str, list[str]]]:
    """(name, route, parameter names) of every named route."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
                found.append((name, prefix + str(pattern.pattern), list(pattern.pattern.regex.groupindex)))

    walk(get_resolver().url_patterns, "", None)
    return found


def is_page(name: str | None, route: str) -> bool:
    if route.startswith(NOT_PAGE_PREFIXES) or name is None:
        return False
    if name in NOT_PAGES:
        return False
    # actions on a case are POST forms on the case page
    return not (name.startswith("cases:") and route.count("/") > 2 and name != "cases:detail")


def page_routes() -> list[tuple[str, str, list[str]]]:
    return [(name, route, params) for name, route, params in routes() if is_page(name, route)]


def real_ids(user: User) -> dict[str, int | str]:
    """A real id for every URL parameter, as this persona would reach it."""
    ids = {}
    case = case_visible_to(user).order_by("-updated_at").first()
    if case is None:
        case = Case.objects.order_by("-updated_at").first()  # the 404 page then
    ids["number"] = case.number
    customer = customer_visible_to(user).order_by("name").first()
    ids["customer_id"] = customer.pk if customer else 999_999
    ids["user_id"] = User.objects.filter(domain=user.domain).order_by("pk").values_list("pk", flat=True)[0]
    unit = OrgUnit.objects.filter(domain=user.domain).order_by("pk").first()
    ids["unit_id"] = unit.pk if unit else 999_999
    role = AdminRole.objects.order_by("pk").first()
    ids["role_id"] = role.pk if role else 999_999
    reply = CannedReply.objects.order_by("pk").first()
    ids["reply_id"] = reply.pk if reply else 999_999
    ids["job_id"] = "00000000-0000-4000-8000-000000000000"  # nobody's job: the 404 page
    attachment = Attachment.objects.filter(case=case).first()
    ids["attachment_id"] = attachment.pk if attachment else 999_999
    return ids


def page_urls(user: User) -> list[tuple[str, str]]:
    """(route name, address) of every page, with this persona's real ids."""
    ids = real_ids(user)
    urls = []
    for name, route, params in page_routes():
        path = route
        for param in params:
            path = re.sub(rf"<\w+:{param}>", str(ids[param]), path)
        urls.append((name, "/" + path))
    return urls
