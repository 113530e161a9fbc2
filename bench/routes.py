"""Every route of the portal and how the benchmark times it (issue 14: a page the benchmark
does not time is a failure of the benchmark).

`ROUTES` maps each URL pattern, as the URL resolver spells it (`url_routes()` lists them),
to either the operations that time it — who asks (a persona of the dataset), for which
addresses (built from real ids of the dataset, `bench.run.Targets`), and its bar (p95 ms) —
or `NotTimed(reason)` for a route no persona reaches with GET (POST-only actions, links
with a key from a mail, a route that signs out). tests/bench/test_routes.py fails when a
route has no entry here, and its message says what to add.

Adding a page: add its pattern with `(Op(...),)`; the runner times every `Op`. Personas:

- ``agent``: Reseller Admin of the biggest domain (every list, case and API number)
- ``admin``: super admin of that domain (admin console)
- ``support``: a support engineer
- ``customer_big`` / ``customer_small``: a user of the biggest customer (95,000 cases at
  scale 1) / of a small one; ``customer_admin``: the biggest customer's super admin
- ``api``: the agent's API token
- ``anonymous``: nobody signed in
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

# p95 bars in milliseconds (SPEC §8, issue 14).
LIST = 50  # lists and queue views, at any depth
COUNTS = 60  # the state counts of a list (htmx, after the rows)
PAGE = 100  # every other page
CASE = 60  # the case page
DASHBOARD = 200
API = 60


@dataclass(frozen=True)
class Op:
    name: str
    label: str
    persona: str
    paths: Callable  # (Targets) -> list[str]
    bar: float = PAGE
    counts: bool = False  # also time the list's state counts (htmx), bar COUNTS
    statuses: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class Special:
    """Timed by its own code in bench.run (page walks, filing, CSV)."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class NotTimed:
    reason: str


@dataclass
class RouteCheck:
    missing: list[str] = field(default_factory=list)  # routes without an entry
    stale: list[str] = field(default_factory=list)  # entries without a route


POST_ONLY = NotTimed("POST only: an action, timed where it is a user's wait (filing)")
ALLAUTH = NotTimed("django-allauth's page behind a key or a step the benchmark accounts never reach")


def _q(path: str, **params) -> str:
    return f"{path}?{urllib.parse.urlencode(params)}"


def _api(t, suffix: str = "", **params) -> str:
    path = f"/v2/organizations/{t.big_customer_id}/cases{suffix}"
    return _q(path, **params) if params else path


ROUTES: dict[str, tuple[Op | Special, ...] | NotTimed] = {
    # ---------------------------------------------------------------- home, sign-in, health
    "": (Op("home", "home (redirect)", "agent", lambda t: ["/"], statuses=(200, 302)),),
    "language/": POST_ONLY,
    "healthz": (Op("healthz", "/healthz", "anonymous", lambda t: ["/healthz"]),),
    "accounts/choose/": (Op("account_chooser", "account chooser", "agent", lambda t: ["/accounts/choose/"]),),
    "accounts/login/": (Op("login_form", "sign-in form", "anonymous", lambda t: ["/accounts/login/"]),),
    "accounts/logout/": NotTimed("signs the benchmark's session out"),
    "accounts/sign-out-account/": NotTimed("signs one of the browser's accounts out (POST)"),
    "accounts/notification-address/confirm/<str:token>/": NotTimed(
        "a link with a signed key from a confirmation mail, sent to an address outside the dataset"
    ),
    "accounts/sessions/": (
        Op("sessions", "your sign-in sessions", "agent", lambda t: ["/accounts/sessions/"]),
    ),
    "accounts/inactive/": ALLAUTH,
    "accounts/signup/": NotTimed("sign-up is closed: accounts are created by super admins"),
    "accounts/reauthenticate/": ALLAUTH,
    "accounts/reauthenticate/code/": ALLAUTH,
    "accounts/reauthenticate/code/confirm/": ALLAUTH,
    "accounts/email/": (
        Op(
            "account_email",
            "e-mail addresses",
            "agent",
            lambda t: ["/accounts/email/"],
            statuses=(200, 302, 404),
        ),
    ),
    "accounts/confirm-email/": ALLAUTH,
    "accounts/password/change/": (
        Op("password_change", "change password", "agent", lambda t: ["/accounts/password/change/"]),
    ),
    "accounts/password/set/": NotTimed("redirects: the benchmark accounts have a password"),
    "accounts/password/reset/": (
        Op("password_reset", "password reset form", "anonymous", lambda t: ["/accounts/password/reset/"]),
    ),
    "accounts/login/code/confirm/": ALLAUTH,
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": ALLAUTH,
    "accounts/password/reset/key/done/": ALLAUTH,
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": ALLAUTH,
    "accounts/password/reset/done/": ALLAUTH,
    "accounts/2fa/": (Op("mfa_index", "two-step verification", "agent", lambda t: ["/accounts/2fa/"]),),
    "accounts/2fa/authenticate/": ALLAUTH,
    "accounts/2fa/reauthenticate/": ALLAUTH,
    "accounts/2fa/totp/activate/": ALLAUTH,
    "accounts/2fa/totp/deactivate/": ALLAUTH,
    "accounts/2fa/recovery-codes/": ALLAUTH,
    "accounts/2fa/recovery-codes/generate/": ALLAUTH,
    "accounts/2fa/recovery-codes/download/": ALLAUTH,
    # ---------------------------------------------------------------- My cases and a case
    "cases/": (
        Special(
            ("my_cases_p1", "my_cases_counts", "my_cases_p1000", "search_rare", "search_common", "filter")
        ),
        Op("list_open", "filter: open", "agent", lambda t: ["/cases/?state=OPEN"], LIST, counts=True),
        Op("list_state", "filter: state", "agent", lambda t: ["/cases/?state=ACTION_REQUIRED"], LIST),
        Op(
            "list_severity", "filter: severity", "agent", lambda t: ["/cases/?priority=P1"], LIST, counts=True
        ),
        Op(
            "list_state_severity",
            "filter: state + severity",
            "agent",
            lambda t: ["/cases/?state=NEW&priority=P2"],
            LIST,
            counts=True,
        ),
        Op(
            "list_customer",
            "filter: customer",
            "agent",
            lambda t: [f"/cases/?customer={t.big_customer_id}"],
            LIST,
        ),
        Op("list_escalated", "filter: escalated", "agent", lambda t: ["/cases/?escalated=yes"], LIST),
        Op(
            "list_dates",
            "filter: updated in a date range",
            "agent",
            lambda t: [_q("/cases/", updated_after=t.range_start, updated_before=t.range_end)],
            LIST,
        ),
    ),
    "cases/export.csv": (Special(("csv_export",)),),
    "cases/customer-options/": (
        Op(
            "customer_options",
            "customer search (htmx)",
            "agent",
            lambda t: ["/cases/customer-options/?customer_q=c00"],
        ),
    ),
    "cases/new/": (
        Special(("file_case_post",)),
        Op(
            "create_form",
            "create case form",
            "agent",
            lambda t: [f"/cases/new/?customer={t.filing_customer_id}"],
        ),
    ),
    "cases/new/categories/": (
        Op(
            "category_search",
            "category search (htmx)",
            "agent",
            lambda t: ["/cases/new/categories/?category_q=mail"],
        ),
    ),
    "cases/new/questions/": (
        Op(
            "category_questions",
            "category questions (htmx)",
            "agent",
            lambda t: [f"/cases/new/questions/?classification={t.leaf_id}"],
        ),
    ),
    "cases/<int:number>/": (
        Special(("case_page_50_comments",)),
        Op(
            "case_page_short",
            "case page, few messages",
            "agent",
            lambda t: [f"/cases/{n}/" for n in t.short_cases],
            CASE,
        ),
        Op(
            "case_page_support",
            "case page, as support",
            "support",
            lambda t: [f"/cases/{n}/" for n in t.long_cases],
            CASE,
        ),
        Op(
            "case_page_customer",
            "case page, as the customer",
            "customer_big",
            lambda t: [f"/cases/{n}/" for n in t.big_customer_cases],
            CASE,
        ),
    ),
    "cases/<int:number>/severity/": POST_ONLY,
    "cases/<int:number>/close/": POST_ONLY,
    "cases/<int:number>/reopen/": POST_ONLY,
    "cases/<int:number>/escalate/": POST_ONLY,
    "cases/<int:number>/messages/": POST_ONLY,
    "cases/<int:number>/attachments/": POST_ONLY,
    "cases/<int:number>/attachments/<int:attachment_id>/": NotTimed(
        "the dataset has attachment rows without files (a download is storage speed, not the portal's)"
    ),
    "cases/<int:number>/attachments/<int:attachment_id>/delete/": POST_ONLY,
    "cases/<int:number>/share/": POST_ONLY,
    "cases/<int:number>/support/": POST_ONLY,
    "cases/<int:number>/state/": POST_ONLY,
    "cases/<int:number>/assign/": POST_ONLY,
    # ---------------------------------------------------------------- customers
    "customers/": (Op("customers", "My customers", "agent", lambda t: ["/customers/"], LIST),),
    "customers/<int:customer_id>/": (
        Op(
            "customer_big",
            "one customer, the biggest",
            "agent",
            lambda t: [f"/customers/{t.big_customer_id}/"],
            LIST,
            counts=True,
        ),
        Op(
            "customer_small",
            "one customer, a small one",
            "agent",
            lambda t: [f"/customers/{t.small_customer_id}/"],
            LIST,
        ),
    ),
    "customer/admin/": (
        Op(
            "customer_admin_access",
            "customer admin: reseller access",
            "customer_admin",
            lambda t: ["/customer/admin/"],
        ),
    ),
    "customer/admin/partners/": (
        Op(
            "customer_admin_partners",
            "customer admin: support partners",
            "customer_admin",
            lambda t: ["/customer/admin/partners/"],
        ),
    ),
    "customer/admin/users/": (
        Op(
            "customer_admin_users",
            "customer admin: portal users",
            "customer_admin",
            lambda t: ["/customer/admin/users/"],
        ),
    ),
    "customer/": (
        Op(
            "portal_big",
            "customer portal, biggest customer",
            "customer_big",
            lambda t: ["/customer/"],
            LIST,
            counts=True,
        ),
        Op(
            "portal_big_filter",
            "customer portal, biggest, state + severity",
            "customer_big",
            lambda t: ["/customer/?state=CLOSED&priority=P3"],
            LIST,
        ),
        Op(
            "portal_small",
            "customer portal, a small customer",
            "customer_small",
            lambda t: ["/customer/"],
            LIST,
        ),
    ),
    # ---------------------------------------------------------------- admin console
    "admin-console/": (Op("console_home", "admin console", "admin", lambda t: ["/admin-console/"]),),
    "admin-console/users/": (
        Op("console_users", "admin console: users", "admin", lambda t: ["/admin-console/users/"], LIST),
    ),
    "admin-console/users/<int:user_id>/": (
        Op(
            "console_user",
            "admin console: one user",
            "admin",
            lambda t: [f"/admin-console/users/{t.console_user_id}/"],
        ),
    ),
    "admin-console/org-units/": (
        Op(
            "console_org_units",
            "admin console: org units",
            "admin",
            lambda t: ["/admin-console/org-units/"],
            LIST,
        ),
    ),
    "admin-console/org-units/<int:unit_id>/": (
        Op(
            "console_org_unit",
            "admin console: one org unit",
            "admin",
            lambda t: [f"/admin-console/org-units/{t.org_unit_id}/"],
        ),
    ),
    "admin-console/licences/": (
        Op("console_licences", "admin console: licences", "admin", lambda t: ["/admin-console/licences/"]),
    ),
    "admin-console/roles/": (
        Op("console_roles", "admin console: roles", "admin", lambda t: ["/admin-console/roles/"]),
    ),
    "admin-console/roles/new/": (
        Op(
            "console_role_new",
            "admin console: new role form",
            "admin",
            lambda t: ["/admin-console/roles/new/"],
        ),
    ),
    "admin-console/roles/<int:role_id>/": (
        Op(
            "console_role",
            "admin console: one role",
            "admin",
            lambda t: [f"/admin-console/roles/{t.role_id}/"],
        ),
    ),
    "admin-console/customers/": (
        Op(
            "console_customers",
            "admin console: customers",
            "admin",
            lambda t: ["/admin-console/customers/"],
            LIST,
        ),
    ),
    "admin-console/customers/<int:customer_id>/": (
        Op(
            "console_customer",
            "admin console: one customer",
            "admin",
            lambda t: [f"/admin-console/customers/{t.big_customer_id}/"],
        ),
    ),
    # ---------------------------------------------------------------- dashboard, support
    "dashboard/": (
        Op("dashboard_agent", "dashboard, agent", "agent", lambda t: ["/dashboard/"], DASHBOARD),
        Op("dashboard_support", "dashboard, support", "support", lambda t: ["/dashboard/"], DASHBOARD),
        Op(
            "dashboard_customer",
            "dashboard, biggest customer",
            "customer_big",
            lambda t: ["/dashboard/"],
            DASHBOARD,
        ),
    ),
    "support/": tuple(
        Op(f"queue_{name}", f"support queue: {name}", "support", lambda t, q=query: [f"/support/{q}"], LIST)
        for name, query in (
            ("default", ""),
            ("awaiting_p1", "?awaiting=support&priority=P1"),
            ("unassigned", "?assignee=nobody&state=NEW&state=IN_PROGRESS_GOOGLE_SUPPORT"),
            ("mine", "?assignee=me"),
            ("keyword", "?q=kerberos"),
            ("by_update", "?sort=-updated"),
            ("escalated", "?escalated=true"),
        )
    ),
    "support/counts/": (
        Op(
            "queue_counts",
            "support queue: counts per filter value",
            "support",
            lambda t: ["/support/counts/"],
            COUNTS,
        ),
    ),
    "support/bulk/": POST_ONLY,
    "support/views/": POST_ONLY,
    "support/views/<int:view_id>/delete/": POST_ONLY,
    "support/canned/": (
        Op("canned_replies", "support: canned replies", "support", lambda t: ["/support/canned/"]),
    ),
    "support/canned/<int:reply_id>/": NotTimed(
        "the dataset has no canned replies; the list above shows them all"
    ),
    "jobs/<uuid:job_id>/": (Special(("job_page",)),),
    "jobs/<uuid:job_id>/progress/": (Special(("job_progress",)),),
    "jobs/<uuid:job_id>/download/": (Special(("job_download",)),),
    "supportcenter/": (
        Op(
            "legacy_home",
            "old support center link",
            "agent",
            lambda t: ["/supportcenter/"],
            statuses=(301, 302),
        ),
    ),
    "supportcenter/<path:rest>": (
        Op(
            "legacy_case",
            "old support center case link",
            "agent",
            lambda t: [f"/supportcenter/cases/{t.short_cases[0]}"],
            statuses=(301, 302),
        ),
    ),
    "settings/": (Op("settings", "personal settings", "agent", lambda t: ["/settings/"]),),
    "settings/tokens/": (Op("tokens", "API tokens", "agent", lambda t: ["/settings/tokens/"]),),
    "settings/tokens/<int:token_id>/revoke/": POST_ONLY,
    # ---------------------------------------------------------------- API
    "v2/openapi.json": (Op("api_openapi", "OpenAPI document", "anonymous", lambda t: ["/v2/openapi.json"]),),
    "api/": (Op("api_docs", "API documentation page", "agent", lambda t: ["/api/"]),),
    "^v2/caseClassifications:search$": (
        Op(
            "api_classifications",
            "API caseClassifications.search",
            "api",
            lambda t: [_q("/v2/caseClassifications:search", query='display_name:"Gmail"')],
            API,
        ),
    ),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases$": (
        Op("api_list", "API cases.list, pageSize 100", "api", lambda t: [_api(t, pageSize=100)], API),
        Special(("api_list_deep",)),
    ),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases:search$": (Special(("api_search", "api_search_deep")),),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+)$": (
        Op(
            "api_get", "API cases.get", "api", lambda t: [_api(t, f"/{n}") for n in t.big_customer_cases], API
        ),
    ),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+):close$": POST_ONLY,
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+):escalate$": POST_ONLY,
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+)/comments$": (
        Op(
            "api_comments",
            "API comments.list, a long case",
            "api",
            lambda t: [
                f"/v2/organizations/{t.long_case_customer}/cases/{t.long_cases[0]}/comments?pageSize=100"
            ],
            API,
        ),
    ),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+)/comments/(?P<comment>[^/:]+)$": NotTimed(
        "not a method of the Cloud Support API v2 for GET (answers 404/405)"
    ),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+)/attachments$": (
        Op(
            "api_attachments",
            "API attachments.list",
            "api",
            lambda t: [f"/v2/organizations/{t.attachment_customer}/cases/{t.attachment_case}/attachments"],
            API,
        ),
    ),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+)/attachments/(?P<attachment>[^/:]+)$": NotTimed(
        "not a method of the Cloud Support API v2 for GET (answers 404/405)"
    ),
    "^v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+)/attachments/(?P<attachment>[^/:]+):download$": NotTimed(
        "the dataset has attachment rows without files (a download is storage speed, not the portal's)"
    ),
    "^upload/v2/(?P<kind>[^/:]+)/(?P<parent>[^/:]+)/cases/(?P<case>[^/:]+)/attachments$": POST_ONLY,
    "^(?:upload/)?v2(?:/(?P<path>[\\s\\S]*))?$": NotTimed("the 404 of unknown API methods"),
}


def url_routes() -> list[str]:
    """Every URL pattern of the portal, as the resolver spells it (the Django admin aside:
    it is the benchmark's peer, timed beside the lists)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return [route for route in dict.fromkeys(found) if not route.startswith("django-admin/")]


def check_routes() -> RouteCheck:
    routes = url_routes()
    return RouteCheck(
        missing=[route for route in routes if route not in ROUTES],
        stale=[route for route in ROUTES if route not in routes],
    )


def missing_message(check: RouteCheck) -> str:
    lines = []
    for route in check.missing:
        lines.append(
            f"The route {route!r} has no entry in bench/routes.py ROUTES. Add\n"
            f'    {route!r}: (Op("<name>", "<label>", "<persona>", lambda t: ["/<a real address>"], <bar>),),\n'
            f"or, if no persona opens it with GET,\n"
            f'    {route!r}: NotTimed("<why>"),'
        )
    for route in check.stale:
        lines.append(
            f"bench/routes.py ROUTES names {route!r}, which is no longer a route: remove or rename it."
        )
    return "\n".join(lines)


def timed_ops() -> list[Op]:
    return [
        op
        for entry in ROUTES.values()
        if not isinstance(entry, NotTimed)
        for op in entry
        if isinstance(op, Op)
    ]
