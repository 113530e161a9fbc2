"""Server timing for the benchmark (bench/run.py): installed only by the local, test and bench
settings; active with the setting SERVER_TIMING (portal.settings.bench, which the benchmark runs)
or PORTAL_SERVER_TIMING=1 in the environment. Then every response carries

    Server-Timing: app;dur=<ms in Django>, sql;dur=<ms in SQL>;desc="<n> queries"

measured around the whole middleware stack, so the number is the server's share of a
request without the network or the client. Off (the default), the middleware removes
itself at start-up and costs nothing.

For a streamed response (the CSV export) the header leaves before the body is made, so
it only covers the time to the first byte; the benchmark measures the export from the
client side instead."""

import os
import time
from contextlib import ExitStack

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections

ENV_VAR = "PORTAL_SERVER_TIMING"


class _QueryTimer:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began
            self.count += 1


class ServerTimingMiddleware:
    def __init__(self, get_response):
        asked = os.environ.get(ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}
        if not (asked or getattr(settings, "SERVER_TIMING", False)):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        timer = _QueryTimer()
        began = time.perf_counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(timer))
            response = self.get_response(request)
        elapsed = (time.perf_counter() - began) * 1000
        response["Server-Timing"] = (
            f'app;dur={elapsed:.2f}, sql;dur={timer.seconds * 1000:.2f};desc="{timer.count} queries"'
        )
        return response
