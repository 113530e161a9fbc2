"""The benchmark times every page (issue 14): every route of the URL resolver has an entry
in bench/routes.py — the operations that time it, or why no persona opens it with GET — and
the table names no route that is gone. When this fails, its message says what to add."""

from bench.routes import ROUTES, NotTimed, Op, check_routes, missing_message, timed_ops, url_routes


def test_every_route_has_an_entry_in_the_benchmarks_route_table():
    check = check_routes()
    assert not check.missing and not check.stale, "\n" + missing_message(check)


def test_the_resolver_walk_finds_the_pages_people_use():
    routes = url_routes()
    for route in ("cases/", "cases/<int:number>/", "customer/", "dashboard/", "support/", "admin-console/"):
        assert route in routes
    assert not any(route.startswith("django-admin/") for route in routes)


def test_a_new_route_is_reported_with_what_to_add(monkeypatch):
    monkeypatch.delitem(ROUTES, "dashboard/")
    check = check_routes()
    assert check.missing == ["dashboard/"]
    message = missing_message(check)
    assert "'dashboard/' has no entry in bench/routes.py ROUTES" in message and "NotTimed(" in message


def test_timed_operations_have_unique_names_personas_and_bars():
    ops = timed_ops()
    names = [op.name for op in ops]
    assert len(names) == len(set(names))
    personas = {
        "agent",
        "admin",
        "support",
        "customer_big",
        "customer_small",
        "customer_admin",
        "api",
        "anonymous",
    }
    for op in ops:
        assert isinstance(op, Op) and op.persona in personas and op.bar > 0
    for entry in ROUTES.values():
        if isinstance(entry, NotTimed):
            assert entry.reason.strip()


def test_every_persona_page_family_the_issue_names_is_timed():
    names = {op.name for op in timed_ops()}
    for name in (
        "portal_big",
        "portal_small",
        "dashboard_agent",
        "dashboard_support",
        "case_page_short",
        "customer_big",
        "customer_small",
        "console_home",
        "api_list",
        "api_get",
        "api_comments",
        "api_attachments",
        "queue_default",
        "queue_awaiting_p1",
    ):
        assert name in names
