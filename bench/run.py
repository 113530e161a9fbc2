"""The benchmark runner (`manage.py bench_run`): starts the portal the way production does
(gunicorn, portal.settings.bench = production plus the Server-Timing header, DEBUG off,
PostgreSQL, Redis) against the bench
database, signs in as the reseller agent of the biggest domain and as an operator, and
measures, per operation, the server time (p50/p95/p99, from the Server-Timing header of
portal/timing.py) and the SQL query count, our pages side by side with the Django admin
changelist of Case. Then a throughput run under wrk at 50 connections.

Everything is bounded: every request has a timeout, wrk runs for a fixed time, and the
servers it starts (gunicorn, a private redis-server) are stopped in `finally`."""

from __future__ import annotations

import html
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Count

from accounts.models import User
from bench.dataset import BENCH_PASSWORD, COMMON_TERM, RARE_TERM, BenchNames
from cases.models import Classification
from cases.selectors import case_visible_to
from cases.views import STATE_TABS
from customers.selectors import customer_list_with_consent

REQUEST_TIMEOUT = 120
RESULTS_DIR = Path(settings.BASE_DIR) / "bench" / "results"
PAGE_SIZE = 25
# SPEC §8 / issue 7: p95 bars in milliseconds.
BARS = {
    "my_cases_p1": 50,
    "my_cases_p1000": 50,
    "search_rare": 100,
    "search_common": 100,
    "case_page_50_comments": 60,
    "file_case_post": 150,
    "my_cases_counts": 60,
    "search_rare_counts": 60,
    "search_common_counts": 60,
    "filter": 50,
    "filter_counts": 60,
    "api_search": 60,
    "api_search_deep": 60,
    "api_list_deep": 60,
}
COUNTS_BAR = 60
TIMING = re.compile(r'app;dur=([\d.]+),\s*sql;dur=([\d.]+);desc="(\d+) queries"')
# What a list's state tabs send for their counts, right after the list has arrived.
COUNTS_REQUEST = {"HX-Request": "true", "HX-Target": STATE_TABS}
NEXT_LINK = re.compile(r'<a[^>]*rel="next"[^>]*href="([^"]+)"')
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


# --------------------------------------------------------------------------- a tiny HTTP client


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # client side, to the last byte
    server_ms: float | None = None
    sql_ms: float | None = None
    queries: int | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """One browser: a cookie jar over plain http.client (no extra dependency), one
    connection per request as gunicorn's sync workers close it anyway."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.extra = headers or {}

    def request(
        self, method: str, path: str, *, form: dict | None = None, on_chunk=None, headers: dict | None = None
    ) -> Response:
        headers = {
            "Host": f"{self.host}:{self.port}",
            "Accept-Language": "en",
            **self.extra,
            **(headers or {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            chunks = []
            while True:
                chunk = raw.read(64 * 1024)
                if not chunk:
                    break
                if on_chunk is not None:
                    on_chunk(chunk)
                else:
                    chunks.append(chunk)
            seconds = time.perf_counter() - began
            response_headers = {k.lower(): v for k, v in raw.getheaders()}
            for key, value in raw.getheaders():
                if key.lower() == "set-cookie":
                    cookie = SimpleCookie()
                    cookie.load(value)
                    for name, morsel in cookie.items():
                        self.cookies[name] = morsel.value
        finally:
            conn.close()
        response = Response(raw.status, response_headers, b"".join(chunks), seconds)
        match = TIMING.search(response_headers.get("server-timing", ""))
        if match:
            response.server_ms, response.sql_ms = float(match.group(1)), float(match.group(2))
            response.queries = int(match.group(3))
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def sign_in(self, email: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = _hidden(page.text).get("csrfmiddlewaretoken")
        done = self.request(
            "POST",
            "/accounts/login/",
            form={"login": email, "password": password, "csrfmiddlewaretoken": token},
        )
        if done.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"Signing in as {email} failed ({done.status}).")


def _hidden(text: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(text)}


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


@dataclass
class Measurement:
    name: str
    label: str
    side: str  # "ours" or "admin"
    path: str
    samples: list[float] = field(default_factory=list)
    client: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    note: str = ""

    def add(self, response: Response) -> None:
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        self.client.append(response.seconds * 1000)
        if response.server_ms is not None:
            self.samples.append(response.server_ms)
            self.queries.append(response.queries)
            self.sql.append(response.sql_ms)

    def summary(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "side": self.side,
            "path": self.path,
            "requests": len(self.client),
            "p50_ms": round(percentile(self.samples, 50), 2),
            "p95_ms": round(percentile(self.samples, 95), 2),
            "p99_ms": round(percentile(self.samples, 99), 2),
            "sql_p50_ms": round(percentile(self.sql, 50), 2),
            "client_p50_ms": round(percentile(self.client, 50), 2),
            # The most frequent count: a worker's very first request loads caches once.
            "queries": max(set(self.queries), key=self.queries.count) if self.queries else None,
            "queries_min": min(self.queries) if self.queries else None,
            "queries_max": max(self.queries) if self.queries else None,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "bar_p95_ms": BARS.get(self.name) if self.side == "ours" else None,
            "note": self.note,
        }


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Servers:
    """A private redis-server and gunicorn with production settings, stopped on exit."""

    def __init__(self, *, workers: int, redis_url: str | None, log, app_dir: Path | None = None) -> None:
        self.app_dir = Path(app_dir or settings.BASE_DIR)
        self.workers = workers
        self.redis_url = redis_url
        self.log = log
        self.processes: list[subprocess.Popen] = []
        self.port = free_port()
        self.secret_key = secrets.token_urlsafe(64)

    def __enter__(self) -> Servers:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        if not self.redis_url:
            redis_port = free_port()
            redis = shutil.which("redis-server")
            if redis is None:
                raise RuntimeError("redis-server is not installed; pass --redis-url.")
            self.processes.append(
                subprocess.Popen(
                    [
                        redis,
                        "--port",
                        str(redis_port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
            _wait_for_port(redis_port, timeout=20)
        database = settings.DATABASES["default"]
        # Production settings plus the timing header; a checkout from before portal/settings/bench.py
        # (--app-dir, for before/after) had the middleware everywhere, switched on by the variable.
        has_bench_settings = (self.app_dir / "portal" / "settings" / "bench.py").exists()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.bench"
            if has_bench_settings
            else "portal.settings.production",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DATABASE_URL": os.environ.get("DATABASE_URL") or _database_url(database),
            "REDIS_URL": self.redis_url,
            "PORTAL_SERVER_TIMING": "1",  # what an older checkout (--app-dir) reads
            # The runner makes thousands of API calls a minute with one token.
            "API_RATE_LIMIT_PER_MINUTE": "1000000",
            "LOG_LEVEL": "WARNING",
        }
        self.env = env  # the Celery worker of the export job runs with the same
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.gunicorn = subprocess.Popen(
            [
                str(gunicorn),
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
            ],
            cwd=self.app_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(self.gunicorn)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise RuntimeError("gunicorn exited: " + (self.gunicorn.stderr.read() or "")[-2000:])
            try:
                if Client("127.0.0.1", self.port).get("/healthz").status == 200:
                    self.log(
                        f"gunicorn ({self.workers} workers) on 127.0.0.1:{self.port}, Redis {self.redis_url}"
                    )
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz within 60 s.")

    def worker_pids(self) -> list[int]:
        try:
            out = subprocess.run(
                ["pgrep", "-P", str(self.gunicorn.pid)], capture_output=True, text=True, timeout=5
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return []
        return [int(pid) for pid in out.split()]

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()


def _wait_for_port(port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Nothing listens on port {port} after {timeout} s.")


def _database_url(database: dict) -> str:
    user = database.get("USER") or ""
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{database['NAME']}"


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------- the run


@dataclass
class Targets:
    """What the operations point at, found in the bench database."""

    agent: User
    operator_email: str
    big_customer_id: int
    filing_customer_id: int
    export_customer_id: int
    export_rows: int
    leaf_id: int
    long_cases: list[int]
    visible_cases: int
    # For the pages of bench/routes.py
    small_customer_id: int = 0
    short_cases: list[int] = field(default_factory=list)
    big_customer_cases: list[int] = field(default_factory=list)
    long_case_customer: int = 0
    attachment_case: int = 0
    attachment_customer: int = 0
    range_start: str = ""
    range_end: str = ""
    console_user_id: int = 0
    org_unit_id: int = 0
    role_id: int = 0
    emails: dict = field(default_factory=dict)  # persona -> account


def _more_targets(targets: Targets, names: BenchNames, per_customer: list[tuple[int, int]]) -> None:
    """Real ids of the dataset for every page of bench/routes.py."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import AdminRole, OrgUnit
    from cases.models import Attachment, Case

    agent = targets.agent
    visible = case_visible_to(agent)
    from customers.models import Customer

    candidates = [c for c, n in reversed(per_customer) if n >= 3][:500]
    with_portal = set(
        Customer.objects.filter(pk__in=candidates, portal_access=True).values_list("pk", flat=True)
    )
    small = next((c for c in candidates if c in with_portal), per_customer[-1][0])
    targets.small_customer_id = small
    # Among the 500 newest visible cases: counting the messages of all of them takes minutes.
    newest = Case.objects.filter(pk__in=visible.order_by("-updated_at").values("pk")[:500])
    targets.short_cases = list(
        newest.annotate(n=Count("comments"))
        .filter(n__lte=3)
        .order_by("-updated_at")
        .values_list("number", flat=True)[:20]
    )
    targets.big_customer_cases = list(
        Case.objects.filter(customer_id=targets.big_customer_id)
        .order_by("-updated_at")
        .values_list("number", flat=True)[:20]
    )
    if targets.long_cases:
        targets.long_case_customer = Case.objects.get(number=targets.long_cases[0]).customer_id
    attachment = (
        Attachment.objects.filter(case__in=newest, deleted_at__isnull=True)
        .select_related("case")
        .order_by("-case__updated_at")
        .first()
    )
    if attachment is not None:
        targets.attachment_case, targets.attachment_customer = (
            attachment.case.number,
            attachment.case.customer_id,
        )
    today = timezone.now().date()
    targets.range_start, targets.range_end = str(today - timedelta(days=60)), str(today - timedelta(days=30))
    admin = User.objects.get(email=f"admin@{names.reseller(0)}")
    targets.console_user_id = (
        User.objects.filter(domain=agent.domain)
        .exclude(pk=admin.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    targets.org_unit_id = (
        OrgUnit.objects.filter(domain=agent.domain).order_by("pk").values_list("pk", flat=True).first() or 0
    )
    targets.role_id = AdminRole.objects.order_by("pk").values_list("pk", flat=True).first() or 0
    big_domain = names.customer_domain(_customer_index(targets.big_customer_id))
    small_domain = names.customer_domain(_customer_index(small))
    targets.emails = {
        "agent": agent.email,
        "admin": admin.email,
        "support": f"engineer00@{names.support}",
        "customer_big": f"user1@{big_domain}",
        "customer_admin": f"admin@{big_domain}",
        "customer_small": f"admin@{small_domain}",
    }


def _customer_index(customer_id: int) -> int:
    from customers.models import Customer

    name = Customer.objects.filter(pk=customer_id).values_list("primary_domain__name", flat=True).get()
    return int(name.split(".", 1)[0][1:])


def find_targets(names: BenchNames) -> Targets:
    agent = User.objects.select_related("domain").get(email=names.agent)
    visible = case_visible_to(agent)
    per_customer = list(
        visible.order_by()
        .values("customer_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("customer_id", "n")
    )
    big_customer_id = per_customer[0][0]
    export_customer_id, export_rows = min(per_customer, key=lambda row: abs(row[1] - 10_000))
    filing = customer_list_with_consent(agent).filter(can_file=True).order_by("pk").first()
    # Cases with 50+ messages, from the Comment side of the visible set.
    long_cases = list(
        visible.annotate(n=Count("comments"))
        .filter(n__gte=50)
        .order_by("-updated_at")
        .values_list("number", flat=True)[:20]
    )
    targets = Targets(
        agent=agent,
        operator_email=names.operator,
        big_customer_id=big_customer_id,
        filing_customer_id=filing.pk,
        export_customer_id=export_customer_id,
        export_rows=export_rows,
        leaf_id=Classification.objects.filter(is_leaf=True)
        .order_by("code")
        .values_list("pk", flat=True)
        .first(),
        long_cases=long_cases,
        visible_cases=sum(n for _c, n in per_customer),
    )
    _more_targets(targets, names, per_customer)
    return targets


class Runner:
    def __init__(self, *, requests: int, admin_requests: int, warmup: int, log) -> None:
        self.requests = requests
        self.admin_requests = admin_requests
        self.warmup = warmup
        self.log = log
        self.results: list[Measurement] = []

    def measure(
        self,
        client: Client,
        name: str,
        label: str,
        side: str,
        paths: list[str],
        *,
        n: int,
        headers: dict | None = None,
    ) -> Measurement:
        measurement = Measurement(name, label, side, paths[0])
        # The admin's searches take seconds at a million rows: one warm-up is enough there.
        for i in range(self.warmup if side == "ours" else min(self.warmup, 1)):
            client.get(paths[i % len(paths)], headers=headers)
        for i in range(n):
            measurement.add(client.get(paths[i % len(paths)], headers=headers))
        self.results.append(measurement)
        summary = measurement.summary()
        self.log(
            f"  {side:5} {label:38} p50 {summary['p50_ms']:8.1f}  p95 {summary['p95_ms']:8.1f} ms"
            f"  queries {summary['queries_min']}-{summary['queries_max']}  {summary['statuses']}"
        )
        return measurement

    def walk_pages(self, client: Client, start: str, pages: int) -> tuple[str, int, list[float]]:
        """Follow "Older →" from `start` `pages - 1` times; returns the last page's path,
        the depth reached and the server time of every page on the way."""
        path, depth, times = start, 1, []
        while depth < pages:
            response = client.get(path)
            times.append(response.server_ms or 0.0)
            match = NEXT_LINK.search(response.text)
            if not match:
                break
            path = html.unescape(match.group(1))
            if path.startswith("?"):
                path = "/cases/" + path
            depth += 1
        return path, depth, times


def run_benchmark(
    *,
    prefix: str = "bench",
    requests: int = 200,
    admin_requests: int = 20,
    warmup: int = 10,
    workers: int = 3,
    depth: int = 1000,
    api_depth: int = 100,
    duration: int = 20,
    connections: int = 50,
    throughput: bool = True,
    redis_url: str | None = None,
    app_dir: Path | None = None,
    walk: bool = True,
    page_requests: int = 50,
    log=print,
) -> dict:
    names = BenchNames(prefix)
    targets = find_targets(names)
    log(
        f"agent {targets.agent.email} sees {targets.visible_cases:,} cases; "
        f"{len(targets.long_cases)} of them with 50+ messages"
    )
    runner = Runner(requests=requests, admin_requests=admin_requests, warmup=warmup, log=log)
    probe_before = cpu_probe_ms()
    started = time.time()
    extra: dict = {}
    with Servers(workers=workers, redis_url=redis_url, log=log, app_dir=app_dir) as servers:
        agent = Client("127.0.0.1", servers.port)
        agent.sign_in(targets.agent.email, BENCH_PASSWORD)
        operator = Client("127.0.0.1", servers.port)
        operator.sign_in(targets.operator_email, BENCH_PASSWORD)
        ours, admin = "ours", "admin"
        changelist = "/django-admin/cases/case/"

        log("My cases")
        runner.measure(agent, "my_cases_p1", "My cases, page 1", ours, ["/cases/"], n=requests)
        runner.measure(
            agent,
            "my_cases_counts",
            "  its state counts (htmx)",
            ours,
            ["/cases/"],
            n=requests,
            headers=COUNTS_REQUEST,
        )
        if walk:
            deep_path, reached, walk_times = runner.walk_pages(agent, "/cases/", depth)
            extra["page_walk"] = {
                "pages": reached,
                "p50_ms": round(percentile(walk_times, 50), 2),
                "p95_ms": round(percentile(walk_times, 95), 2),
                "max_ms": round(max(walk_times), 2) if walk_times else None,
            }
            how = f"reached by following {reached - 1} 'Older' links"
        else:
            deep_path, reached = deep_page_path(targets, depth, servers.secret_key), depth
            how = "cursor made from the database (--no-walk)"
        deep = runner.measure(
            agent, "my_cases_p1000", f"My cases, page {reached:,}", ours, [deep_path], n=requests
        )
        deep.note = how
        runner.measure(operator, "my_cases_p1", "changelist, page 1", admin, [changelist], n=admin_requests)
        runner.measure(
            operator,
            "my_cases_p1000",
            f"changelist, page {depth:,}",
            admin,
            [f"{changelist}?p={depth}"],
            n=admin_requests,
        )

        log("Keyword search")
        for name, term in (("search_rare", RARE_TERM), ("search_common", COMMON_TERM)):
            runner.measure(agent, name, f"search “{term}”", ours, [f"/cases/?q={term}"], n=requests)
            runner.measure(
                agent,
                f"{name}_counts",
                "  its state counts (htmx)",
                ours,
                [f"/cases/?q={term}"],
                n=requests,
                headers=COUNTS_REQUEST,
            )
            runner.measure(
                operator, name, f"search “{term}”", admin, [f"{changelist}?q={term}"], n=admin_requests
            )

        log("Filter by state + severity + customer")
        query = f"state=CLOSED&priority=P2&customer={targets.big_customer_id}"
        runner.measure(agent, "filter", "state + severity + customer", ours, [f"/cases/?{query}"], n=requests)
        runner.measure(
            agent,
            "filter_counts",
            "  its state counts (htmx)",
            ours,
            [f"/cases/?{query}"],
            n=requests,
            headers=COUNTS_REQUEST,
        )
        admin_query = f"state__exact=CLOSED&priority__exact=P2&customer__id__exact={targets.big_customer_id}"
        runner.measure(
            operator,
            "filter",
            "state + severity + customer",
            admin,
            [f"{changelist}?{admin_query}"],
            n=admin_requests,
        )

        log("Case page")
        if targets.long_cases:
            runner.measure(
                agent,
                "case_page_50_comments",
                "case page, 50+ messages",
                ours,
                [f"/cases/{number}/" for number in targets.long_cases],
                n=requests,
            )

        log("Filing a case")
        runner.results.append(file_cases(agent, targets, n=max(20, requests // 4), log=log))

        log("CSV export")
        runner.results.append(export_csv(agent, servers, targets, n=5, log=log))
        log("CSV export as a background job (every visible case)")
        job_results, extra["export_job"] = export_job(agent, servers, targets, log=log)
        runner.results += job_results

        log("API")
        api_token = _api_token(targets)
        api = api_measurements(servers, targets, n=requests, depth=api_depth, log=log, token=api_token)
        runner.results += api

        log("Every other page (bench/routes.py)")
        extra["routes"] = time_every_route(
            runner, servers, targets, agent=agent, api_token=api_token, n=page_requests, log=log
        )

        if throughput:
            log(f"Throughput: wrk, {connections} connections, {duration} s each")
            extra["throughput"] = [
                wrk_run(
                    servers,
                    agent,
                    "/cases/",
                    "My cases, page + its counts",
                    duration=duration,
                    connections=connections,
                    log=log,
                    with_counts=True,
                ),
                wrk_run(
                    servers,
                    agent,
                    f"/cases/{targets.long_cases[0]}/" if targets.long_cases else "/cases/",
                    "case page, 50+ messages",
                    duration=duration,
                    connections=connections,
                    log=log,
                ),
            ]
    report = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": {**machine_info(), "cpu_probe_ms": [probe_before, cpu_probe_ms()]},
        "dataset": dataset_info(targets),
        "settings": {
            "workers": workers,
            "requests": requests,
            "admin_requests": admin_requests,
            "warmup": warmup,
        },
        "results": [m.summary() for m in runner.results],
        **extra,
    }
    report["ratios"] = ratios(report["results"])
    return report


def deep_page_path(targets: Targets, depth: int, secret_key: str) -> str:
    """The address of page `depth` of My cases without walking there: the cursor the
    page before would link to (the last row of page depth - 1), signed the way
    cases.selectors signs it, with the key of the server under test."""
    from django.core import signing

    from cases.selectors import _cursor_signer

    visible = case_visible_to(targets.agent).order_by("-updated_at", "-id")
    row = visible.values("pk", "updated_at")[(depth - 1) * PAGE_SIZE - 1]
    signer = signing.Signer(key=secret_key, salt=_cursor_signer.salt)
    cursor = signer.sign(f"next|{row['updated_at'].isoformat()}|{row['pk']}")
    return "/cases/?" + urllib.parse.urlencode({"cursor": cursor})


def file_cases(client: Client, targets: Targets, *, n: int, log) -> Measurement:
    """The whole POST of the create form, as a browser sends it (GET the form, then POST)."""
    measurement = Measurement("file_case_post", "filing a case (POST)", "ours", "/cases/new/")
    for i in range(n + 2):
        form_page = client.get(f"/cases/new/?customer={targets.filing_customer_id}")
        hidden = _hidden(form_page.text)
        response = client.request(
            "POST",
            f"/cases/new/?customer={targets.filing_customer_id}",
            form={
                "csrfmiddlewaretoken": hidden.get("csrfmiddlewaretoken", ""),
                "request_key": hidden.get("request_key", secrets.token_hex(16)),
                "customer": targets.filing_customer_id,
                "product_type": "GOOGLE_WORKSPACE",
                "title": f"Benchmark: shared drive sync stops for one user ({i})",
                "classification": targets.leaf_id,
                "description": "Drive for desktop stops syncing after about an hour; restarting helps for a while.",
                "priority": "P3",
                "language": "en",
                "time_zone": "Asia/Seoul",
            },
        )
        if i >= 2:  # the first two warm up
            measurement.add(response)
    summary = measurement.summary()
    log(
        f"  ours  filing a case (POST)                   p50 {summary['p50_ms']:8.1f}  p95 {summary['p95_ms']:8.1f} ms"
        f"  queries {summary['queries_min']}-{summary['queries_max']}  {summary['statuses']}"
    )
    return measurement


def _export_once(client: Client, servers: Servers, path: str) -> tuple[Response, int, float]:
    """One export: the response, its rows, and how much the workers' memory (RSS) grew
    while it streamed (MiB, the largest growth of any worker)."""
    pids = servers.worker_pids()
    before = {pid: rss_kib(pid) for pid in pids}
    peak = dict(before)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak.get(pid, 0), rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    counter = LineCounter()
    response = client.get(path, on_chunk=counter)
    done.set()
    sampler.join(timeout=2)
    growth = max((peak[pid] - before.get(pid, 0) for pid in peak), default=0) / 1024
    return response, counter.lines - 1, growth


def export_csv(client: Client, servers: Servers, targets: Targets, *, n: int, log) -> Measurement:
    """Time to the last byte of a ~10,000-row export, and whether memory stays flat: the
    workers' growth while a ~10,000-row export and a much larger one stream."""
    path = f"/cases/export.csv?customer={targets.export_customer_id}"
    measurement = Measurement("csv_export", f"CSV export, {targets.export_rows:,} rows", "ours", path)
    growths, rows = [], 0
    for _i in range(n):
        response, rows, growth = _export_once(client, servers, path)
        growths.append(growth)
        measurement.add(response)
        # The header leaves before the rows: time to the last byte is the client's.
        measurement.samples[-1:] = [response.seconds * 1000]
    large = f"/cases/export.csv?customer={targets.big_customer_id}"
    large_response, large_rows, large_growth = _export_once(client, servers, large)
    if large_response.status == 302:  # above EXPORT_STREAM_MAX_ROWS: a background job (export_job)
        measurement.note = (
            f"{rows:,} rows; time to last byte (client side); worker memory growth while streaming: "
            f"{max(growths):.1f} MiB at most; the biggest customer's export is a background job"
        )
        log(f"  ours  {measurement.label:38} {measurement.note}")
        return measurement
    measurement.note = (
        f"{rows:,} rows; time to last byte (client side); worker memory growth while streaming: "
        f"{max(growths):.1f} MiB at most for {rows:,} rows, {large_growth:.1f} MiB for {large_rows:,} rows "
        f"({large_response.seconds:.1f} s)"
    )
    summary = measurement.summary()
    log(
        f"  ours  {measurement.label:38} p50 {summary['p50_ms']:8.1f}  p95 {summary['p95_ms']:8.1f} ms  "
        f"{measurement.note}"
    )
    return measurement


def export_job(client: Client, servers: Servers, targets: Targets, *, log) -> tuple[list[Measurement], dict]:
    """The unfiltered export of every case the agent sees (613,642 at scale 1), which runs
    as a background job: a Celery worker (production settings, one process) beside
    gunicorn; the page's progress fragment is polled as the browser does, once a second.
    Reports the job's rows per second (from its start to the file in storage), the
    worker's memory growth, the progress and download requests, and checks that the file
    ends with the row count the page shows."""
    from jobs.models import Job  # a build without jobs has no such export

    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(
        [str(celery), "-A", "portal", "worker", "--pool=solo", "--loglevel=WARNING"]
        + [
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=bench-{os.getpid()}@%h",
        ],
        cwd=servers.app_dir,
        env=servers.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    progress = Measurement(
        "job_progress", "  its progress fragment (htmx, 1/s)", "ours", "/jobs/<id>/progress/"
    )
    page = Measurement("job_page", "  its page", "ours", "/jobs/<id>/")
    download = Measurement("job_download", "  its download", "ours", "/jobs/<id>/download/")
    start = Measurement(
        "job_start", "CSV export job: the request that starts it", "ours", "/cases/export.csv"
    )
    try:
        time.sleep(3)  # the worker connects to Redis
        before = rss_kib(worker.pid)
        response = client.get("/cases/export.csv")
        start.add(response)
        location = response.headers.get("location", "")
        if response.status != 302 or "/jobs/" not in location:
            log(f"  the unfiltered export answered {response.status}, not a job; skipped")
            return [start], {}
        job_id = location.rstrip("/").split("/")[-1]
        page.add(client.get(f"/jobs/{job_id}/"))
        peak = before
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            fragment = client.get(f"/jobs/{job_id}/progress/", headers={"HX-Request": "true"})
            progress.add(fragment)
            peak = max(peak, rss_kib(worker.pid))
            if 'data-status="DONE"' in fragment.text or 'data-status="FAILED"' in fragment.text:
                break
            time.sleep(1)
        job = Job.objects.get(pk=job_id)
        if job.status != Job.Status.DONE:
            log(f"  the job ended {job.status}: {job.message}")
            return [start, page, progress], {"status": job.status}
        counter = LineCounter()
        tail = bytearray()

        def keep(chunk: bytes) -> None:
            counter(chunk)
            tail[:] = (bytes(tail) + chunk)[-200:]

        got = client.get(f"/jobs/{job_id}/download/", on_chunk=keep)
        download.add(got)
        download.samples[-1:] = [got.seconds * 1000]
        seconds = (job.finished_at - job.started_at).total_seconds()
        last_line = bytes(tail).decode("utf-8", "replace").strip().splitlines()[-1]
        result = {
            "rows": job.row_count,
            "seconds": round(seconds, 1),
            "rows_per_second": round(job.row_count / seconds),
            "request_to_ready_seconds": round((job.finished_at - job.created_at).total_seconds(), 1),
            "file_mib": round(job.size / 2**20, 1),
            "worker_rss_growth_mib": round((peak - before) / 1024, 1),
            "file_lines": counter.lines,
            "last_line": last_line,
            "complete": counter.lines == job.row_count + 2 and str(job.row_count) in last_line,
        }
        start.note = (
            f"{job.row_count:,} rows in {seconds:.1f} s = {result['rows_per_second']:,} rows/s; "
            f"worker memory +{result['worker_rss_growth_mib']} MiB; file {result['file_mib']} MiB, "
            f"last line {last_line!r}"
        )
        log(f"  {start.note}")
        Job.objects.filter(pk=job_id).update(expires_at=job.finished_at)  # its file goes at the next clean-up
        return [start, page, progress, download], result
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=5)


class LineCounter:
    """Counts the lines of a streamed body without keeping it."""

    def __init__(self) -> None:
        self.lines = 0

    def __call__(self, chunk: bytes) -> None:
        self.lines += chunk.count(b"\n")


def _api_token(targets: Targets) -> str | None:
    try:
        from accounts.services import api_token_create
    except ImportError:
        return None
    return api_token_create(user=targets.agent, name="benchmark")


def api_measurements(
    servers: Servers, targets: Targets, *, n: int, depth: int, log, token: str | None
) -> list[Measurement]:
    if token is None:
        log("  (no API in this build)")
        return []
    client = Client("127.0.0.1", servers.port, headers={"Authorization": f"Bearer {token}"})
    base = "/v2/organizations/-/cases:search"
    query = urllib.parse.urlencode({"query": "state=OPEN AND priority=P2", "pageSize": PAGE_SIZE})
    first = client.get(f"{base}?{query}")
    if first.status != 200:
        log(f"  API answered {first.status}; skipped")
        return []
    results = []
    runner = Runner(requests=n, admin_requests=0, warmup=2, log=log)
    results.append(
        runner.measure(client, "api_search", "API cases.search, filter", "ours", [f"{base}?{query}"], n=n)
    )
    path, reached = _follow_page_tokens(client, f"{base}?{query}", depth)
    deep = runner.measure(client, "api_search_deep", f"API cases.search, page {reached}", "ours", [path], n=n)
    deep.note = f"reached by following {reached - 1} nextPageTokens"
    results.append(deep)
    # cases.list of every visible case, pageSize 100, at page `depth`.
    base = "/v2/organizations/-/cases"
    path, reached = _follow_page_tokens(client, f"{base}?pageSize=100", depth)
    deep = runner.measure(client, "api_list_deep", f"API cases.list 100, page {reached}", "ours", [path], n=n)
    deep.note = f"reached by following {reached - 1} nextPageTokens"
    results.append(deep)
    return results


def _follow_page_tokens(client: Client, first: str, depth: int) -> tuple[str, int]:
    """The address of page `depth` of an API list (or the last page, if fewer), reached by
    following nextPageToken from `first`, and the page number reached."""
    path, reached = first, 1
    while reached < depth:
        token_next = json.loads(client.get(path).body or b"{}").get("nextPageToken")
        if not token_next:
            break
        path = f"{first}&{urllib.parse.urlencode({'pageToken': token_next})}"
        reached += 1
    return path, reached


def time_every_route(
    runner: Runner, servers: Servers, targets: Targets, *, agent: Client, api_token: str | None, n: int, log
) -> dict:
    """Time every `Op` of bench/routes.py for its persona, and report the routes that have
    no timing: not in the table, or timed with an unexpected answer."""
    from bench.routes import ROUTES, NotTimed, Op, Special, check_routes

    clients: dict[str, Client] = {"agent": agent, "anonymous": Client("127.0.0.1", servers.port)}
    for persona, email in targets.emails.items():
        if persona not in clients:
            clients[persona] = Client("127.0.0.1", servers.port)
            clients[persona].sign_in(email, BENCH_PASSWORD)
    if api_token:
        clients["api"] = Client("127.0.0.1", servers.port, headers={"Authorization": f"Bearer {api_token}"})
    check = check_routes()
    failed: list[str] = []
    timed = {m.name for m in runner.results if m.side == "ours"}
    for route, entry in ROUTES.items():
        if isinstance(entry, NotTimed):
            continue
        for op in entry:
            if isinstance(op, Special):
                failed += [f"{route}: {name} was not timed" for name in op.names if name not in timed]
                continue
            assert isinstance(op, Op)
            client = clients.get(op.persona)
            paths = op.paths(targets)
            if client is None or not paths:
                failed.append(f"{route}: {op.name} has no {'client' if client is None else 'address'}")
                continue
            BARS[op.name] = op.bar
            m = runner.measure(client, op.name, op.label, "ours", paths, n=n)
            if set(m.statuses) - set(op.statuses) or not m.samples:
                failed.append(f"{route}: {op.name} answered {m.statuses}, expected {op.statuses}")
            if op.counts:
                BARS[f"{op.name}_counts"] = COUNTS_BAR
                runner.measure(
                    client,
                    f"{op.name}_counts",
                    "  its state counts (htmx)",
                    "ours",
                    paths,
                    n=n,
                    headers=COUNTS_REQUEST,
                )
    return {
        "missing": check.missing,
        "stale": check.stale,
        "failed": failed,
        "not_timed": {route: entry.reason for route, entry in ROUTES.items() if isinstance(entry, NotTimed)},
    }


LIST_THEN_COUNTS = Path(__file__).with_name("list_then_counts.lua")


def wrk_run(
    servers: Servers,
    client: Client,
    path: str,
    label: str,
    *,
    duration: int,
    connections: int,
    log,
    with_counts: bool = False,
) -> dict:
    """Requests per second at `connections` concurrent users; `with_counts` makes every
    other request the list's state counts, as a browser asks for them."""
    wrk = shutil.which("wrk")
    if wrk is None:
        log("  wrk is not installed (apt-get install wrk); throughput skipped")
        return {"label": label, "skipped": "wrk not installed"}
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    command = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        "-H",
        "Accept-Language: en",
        *(["--script", str(LIST_THEN_COUNTS)] if with_counts else []),
        f"http://127.0.0.1:{servers.port}{path}",
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    _drain(servers, client)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+([\d.]+\w+)", out, re.M))
    result = {
        "label": label,
        "path": path,
        "connections": connections,
        "seconds": duration,
        "requests": int(total.group(1)) if total else 0,
        "requests_per_second": float(rps.group(1)) if rps else 0.0,
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(x) for x in socket_errors.groups()) if socket_errors else 0,
        "latency": latency,
        "with_counts": with_counts,
    }
    log(
        f"  {label:38} {result['requests_per_second']:8.1f} req/s  {result['requests']} requests  "
        f"errors: {result['non_2xx_3xx']} non-2xx, {result['socket_errors']} socket  latency {latency}"
    )
    return result


def _drain(servers: Servers, client: Client, *, limit: float = 120) -> None:
    """Wait until the requests wrk left queued are answered, so that the next run does
    not start behind them."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        began = time.monotonic()
        client.get("/healthz")
        if time.monotonic() - began < 0.5:
            return
    return


def ratios(results: list[dict]) -> dict:
    by_key = {(r["name"], r["side"]): r for r in results}
    return {
        name: {
            "ours_p95_ms": ours["p95_ms"],
            "admin_p95_ms": admin["p95_ms"],
            "ratio_p95": round(ours["p95_ms"] / admin["p95_ms"], 3) if admin["p95_ms"] else None,
            "ours_p50_ms": ours["p50_ms"],
            "admin_p50_ms": admin["p50_ms"],
            "ratio_p50": round(ours["p50_ms"] / admin["p50_ms"], 3) if admin["p50_ms"] else None,
        }
        for (name, side), ours in by_key.items()
        if side == "ours" and (admin := by_key.get((name, "admin")))
    }


def cpu_probe_ms() -> float:
    """How long this machine takes for a fixed piece of pure Python (best of three), so
    that runs on machines, or moments, of different speed can be compared: a shared
    virtual machine's speed moved by a third within minutes while the results were taken
    (docs/performance.md)."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, (time.perf_counter() - began) * 1000)
    return round(best, 1)


def machine_info() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    memory = 0
    try:
        memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    commit = ""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=settings.BASE_DIR,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_mib": memory,
        "python": platform.python_version(),
        "postgres": version.split(" on ")[0],
        "shared_buffers": shared_buffers,
        "load_average": os.getloadavg(),
        "commit": commit,
    }


def dataset_info(targets: Targets) -> dict:
    with connection.cursor() as cursor:
        counts = {}
        for table in (
            "cases_case",
            "cases_comment",
            "cases_attachment",
            "cases_caseevent",
            "customers_customer",
        ):
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    return {
        "estimated_rows": counts,
        "database_size": size,
        "agent": targets.agent.email,
        "agent_visible_cases": targets.visible_cases,
        "filter_customer_id": targets.big_customer_id,
        "export_customer_id": targets.export_customer_id,
    }


# --------------------------------------------------------------------------- output


def table(report: dict) -> str:
    rows = []
    header = f"{'operation':40} {'side':5} {'p50':>8} {'p95':>8} {'p99':>8} {'queries':>8} {'bar':>6} {'ours/admin p95':>15}"
    rows.append(header)
    rows.append("-" * len(header))
    ratio = report.get("ratios", {})
    for r in report["results"]:
        queries = "-" if r["queries"] is None else str(r["queries"])
        bar = ""
        if r["bar_p95_ms"]:
            bar = ("ok " if r["p95_ms"] <= r["bar_p95_ms"] else "MISS") + f"{r['bar_p95_ms']}"
        shown_ratio = ""
        if r["side"] == "ours" and r["name"] in ratio and ratio[r["name"]]["ratio_p95"] is not None:
            shown_ratio = f"{ratio[r['name']]['ratio_p95']:.3f}"
        rows.append(
            f"{r['label'][:40]:40} {r['side']:5} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['p99_ms']:8.1f} "
            f"{queries:>8} {bar:>6} {shown_ratio:>15}"
        )
    for t in report.get("throughput", []):
        if "requests_per_second" in t:
            views = f" ({t['requests_per_second'] / 2:.1f} views/s)" if t.get("with_counts") else ""
            rows.append(
                f"throughput {t['label'][:29]:29} {t['requests_per_second']:8.1f} req/s{views} at "
                f"{t['connections']} connections, {t['non_2xx_3xx'] + t['socket_errors']} errors"
            )
    routes = report.get("routes")
    if routes:
        for route in routes["missing"]:
            rows.append(f"NOT TIMED: route {route!r} has no entry in bench/routes.py")
        for line in routes["failed"]:
            rows.append(f"NOT TIMED: {line}")
        rows.append(
            f"routes: {len(routes['not_timed'])} not timed on purpose (POST only, keys from mail, …: see the JSON)"
        )
    probe = report.get("machine", {}).get("cpu_probe_ms")
    if probe:
        rows.append(
            f"machine speed: a fixed Python loop took {probe[0]} ms at the start, {probe[1]} ms at the end"
        )
    return "\n".join(rows)


def save(report: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    label = re.sub(r"[^\w-]+", "-", report.get("label") or "").strip("-")
    path = RESULTS_DIR / f"bench-{time.strftime('%Y%m%d-%H%M%S')}{'-' + label if label else ''}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
