"""No input ever gives a 500. Every page and every form is found from the URL resolver
(not from a hand-kept list), then fed hostile values as each persona: empty strings,
10,000 characters, NUL, Unicode digits, right-to-left marks, emoji, HTML and SQL
metacharacters, other tenants' ids, non-numeric and stale versions.

- GET: every query parameter the code reads (found in the source) on every page.
- POST: every form the pages render (found by crawling them as the persona), each field
  in turn replaced by a hostile value (Hypothesis picks), and on every refusal (4xx) the
  database is unchanged.

The API has its own fuzzing from the OpenAPI document (tests/api/test_openapi_schemathesis.py)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import Max, Sum
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AdminRole, OrgUnit
from accounts.token_services import api_token_issue
from cases import services

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = ["agent", "viewer", "admin", "acme_admin", "acme_user", "engineer"]
SKIPPED_PREFIXES = ("django-admin/", "accounts/", "v2/", "upload/v2/", "^", "language/")

HOSTILE = [
    "",
    " ",
    "x" * 10_000,
    "a\x00b",
    "\x00",
    "²",
    "٣",
    "１２",
    "\u202e\u200f1\u200e",
    "😀" * 3,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE cases_case; --',
    "%00",
    "-1",
    "0",
    "1.5",
    "abc",
    "99999999999999999999999999",
    "2147483648",
    "9223372036854775808",
    "NaN",
    "../../etc/passwd",
    "\r\nSet-Cookie: x=1",
    "[]",
    "{}",
    "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example",  # a valid-looking address of 255+ characters
    "agent@reseller.example.com, " + "c" * 250 + "@acme.example",
]


# --------------------------------------------------------------------------- discovery


def all_patterns(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from all_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def query_parameter_names() -> list[str]:
    """Every query parameter the portal's code reads, found in the source, plus the
    fields of the list filters."""
    from cases.filters import CaseFilter

    names = set(CaseFilter.base_filters)
    reads = re.compile(r"""(?:GET|query|params)\.(?:get|getlist|pop)\(\s*["']([\w-]+)["']""")
    for path in ROOT.glob("*/**/*.py"):
        if {"tests", ".venv", "migrations", "bench"} & set(path.parts):
            continue
        names.update(reads.findall(path.read_text("utf-8")))
    names.update(
        re.findall(
            r'name="([\w-]+)"',
            "".join(
                p.read_text("utf-8")
                for p in ROOT.glob("templates/**/*.html")
                if "get" in p.read_text("utf-8")
            ),
        )
    )
    return sorted(n for n in names if n not in {"csrfmiddlewaretoken"})


@pytest.fixture
def places(w, file_case):
    """Real objects for every path argument, so that pages render rather than 404."""
    case = file_case(w.agent, w.acme)
    services.case_comment_add(user=w.agent, case=case, body="A message")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.cases.conftest import PNG

    attachment = services.attachment_add(
        user=w.agent, case=case, file=SimpleUploadedFile("s.png", PNG), filename="s.png"
    )
    api_token_issue(user=w.agent, name="fuzz")
    return {
        "number": case.number,
        "attachment_id": attachment.pk,
        "customer_id": w.acme.pk,
        "user_id": w.agent.pk,
        "unit_id": OrgUnit.objects.filter(domain=w.reseller).values_list("pk", flat=True).first() or 1,
        "role_id": AdminRole.objects.filter(domain=w.reseller).values_list("pk", flat=True).first() or 1,
        "token_id": 1,
        "rest": "cases/view?caseId=1",
    }


def concrete_paths(places) -> list[str]:
    paths = []
    for pattern in all_patterns():
        if pattern.startswith(SKIPPED_PREFIXES):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(places.get(m.group(1), 1)), pattern)
        paths.append("/" + path)
    return sorted(set(paths))


# --------------------------------------------------------------------------- GET


def test_the_discovery_finds_the_pages_and_their_parameters(places):
    paths = concrete_paths(places)
    assert {"/cases/", "/customers/", "/cases/new/", "/admin-console/users/", "/support/"} <= set(paths)
    names = query_parameter_names()
    assert {"q", "customer_q", "customer", "classification", "cursor", "state", "follow_up"} <= set(names)


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_get_parameter_of_every_page_takes_hostile_values(w, client, places, persona):
    """Each hostile value in every parameter at once, on every page, as each persona."""
    client.force_login(getattr(w, persona))
    names = query_parameter_names()
    failures = []
    values = HOSTILE if persona == "agent" else HOSTILE[2:12]
    for path in concrete_paths(places):
        for value in values:
            response = client.get(path, {name: value for name in names})
            if response.status_code >= 500:
                failures.append((path, value[:20], response.status_code))
    assert failures == []


@pytest.mark.parametrize(
    "path, query",
    [
        ("/customers/", {"q": "acme\x00"}),
        ("/cases/customer-options/", {"customer_q": "a\x00"}),
        ("/admin-console/users/", {"q": "\x00"}),
        ("/cases/", {"q": "²"}),
        ("/cases/", {"customer": "²"}),
        ("/cases/new/questions/", {"classification": "²"}),
        ("/cases/new/", {"customer": "²"}),
        ("/cases/new/", {"follow_up": "²"}),
    ],
)
def test_the_500s_the_penetration_test_found(w, client, path, query):
    client.force_login(w.admin if path.startswith("/admin-console/") else w.agent)
    assert client.get(path, query).status_code < 500


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_text_in_any_get_parameter_is_never_a_500(w, client, places, data):
    client.force_login(w.agent)
    paths = concrete_paths(places)
    path = data.draw(st.sampled_from(paths))
    name = data.draw(st.sampled_from(query_parameter_names()))
    value = data.draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300)))
    assert client.get(path, {name: value}).status_code < 500


# --------------------------------------------------------------------------- POST


class FormCollector(HTMLParser):
    """The POST forms of a page: action → {field: default value}."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.current: dict[str, str] | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.current = {}
            self.forms.append((a.get("action") or "", self.current))
        elif self.current is not None and a.get("name"):
            name = a["name"]
            if tag == "input" and a.get("type") in {"checkbox", "radio"}:
                if "checked" in a or name not in self.current:
                    self.current[name] = a.get("value") or "on"
            elif tag == "input" and a.get("type") == "file":
                self.current.setdefault(name, "")
            elif tag in {"input", "textarea", "button"}:
                self.current.setdefault(name, a.get("value") or "")
            elif tag == "select":
                self.select = name
                self.current.setdefault(name, "")
        elif tag == "option" and self.current is not None and self.select:
            if not self.current.get(self.select) or "selected" in a:
                self.current[self.select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def post_forms(client, paths) -> list[tuple[str, dict[str, str]]]:
    found: dict[str, dict[str, str]] = {}
    for path in paths:
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        collector = FormCollector()
        collector.feed(response.content.decode())
        for action, fields in collector.forms:
            target = action or path
            if target.startswith("/accounts/") or target.startswith("/language/"):
                continue
            fields.pop("csrfmiddlewaretoken", None)
            found.setdefault(target, fields)
    return sorted(found.items())


FINGERPRINTED = [
    ("cases", "Case"),
    ("cases", "CaseEvent"),
    ("cases", "Comment"),
    ("cases", "Attachment"),
    ("cases", "CaseSubscriber"),
    ("accounts", "User"),
    ("accounts", "AdminRole"),
    ("accounts", "RoleAssignment"),
    ("accounts", "OrgUnit"),
    ("customers", "Customer"),
    ("customers", "AccessGrant"),
    ("customers", "Relationship"),
]


def database_fingerprint():
    """Row counts, highest ids and (for cases) the sum of versions of the tables that
    any form writes; pending uploads are left out on purpose (a refused form keeps the
    files it was given)."""
    prints = []
    for app, name in FINGERPRINTED:
        try:
            model = apps.get_model(app, name)
        except LookupError:
            continue
        queryset = model._default_manager.all()
        prints.append((name, queryset.count(), queryset.aggregate(m=Max("pk"))["m"]))
    case_model = apps.get_model("cases", "Case")
    prints.append(("versions", case_model._default_manager.aggregate(v=Sum("version"))["v"]))
    user_model = apps.get_model("accounts", "User")
    prints.append(
        ("users", list(user_model._default_manager.order_by("pk").values_list("email", "is_active")))
    )
    return prints


@pytest.mark.parametrize("persona", ["agent", "admin", "acme_admin", "engineer"])
def test_every_form_field_refuses_hostile_values_without_a_500_or_a_write(w, client, places, persona):
    user = getattr(w, persona)
    client.force_login(user)
    crawl = [*concrete_paths(places), f"/cases/new/?customer={w.acme.pk}"]
    forms = post_forms(client, crawl)
    actions = {action for action, _fields in forms}
    expected = {
        "agent": {
            f"/cases/{places['number']}/messages/",
            f"/cases/{places['number']}/share/",
            "/settings/tokens/",
        },
        "admin": {"/admin-console/users/"},
        "acme_admin": {f"/cases/{places['number']}/close/", "/customer/admin/"},
        "engineer": {f"/cases/{places['number']}/support/", f"/cases/{places['number']}/attachments/"},
    }[persona]
    assert expected <= actions, f"the crawler missed forms: {sorted(expected - actions)} of {sorted(actions)}"
    if persona != "engineer":
        assert any(action.startswith("/cases/new/") for action in actions) or persona == "admin"
    other_tenant = [str(places["number"] + 10_000), str(w.initech.pk), str(w.agent2.pk)]

    @settings(
        max_examples=60 if persona == "agent" else 30, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def run(data):
        action, defaults = data.draw(st.sampled_from(forms))
        fields = dict(defaults)
        if fields:
            name = data.draw(st.sampled_from(sorted(fields)))
            fields[name] = data.draw(
                st.one_of(st.sampled_from(HOSTILE + other_tenant), st.text(max_size=200))
            )
        before = database_fingerprint()
        response = client.post(action, fields)
        assert response.status_code < 500, (action, fields)
        if 400 <= response.status_code < 500:
            assert database_fingerprint() == before, (action, fields, response.status_code)

    run()
