import time

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"; the probe reports it
        return {"ok": False, "error": exc.__class__.__name__}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def _check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "configured": False}
    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:  # see above
        return {"ok": False, "configured": True, "error": exc.__class__.__name__}
    return {"ok": True, "configured": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness for probes: 200 when the database and Redis answer, else 503."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


# --------------------------------------------------------------------------- error pages
# In the product's layout and the user's language (issue 12). Django's own 500 handler
# renders without the request, so without the header, the menu or the language.

_BARE_500 = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Server error</title></head>'
    '<body><h1>Server error</h1><p>Try again in a moment.</p><p><a href="/">Home</a></p></body></html>'
)


def server_error(request):
    """handler500: the product's page; a bare one if even that fails (say, the database is
    down and the menu cannot be built)."""
    from portal.logging import _request_id

    try:
        return render(request, "500.html", {"request_id": _request_id.get()}, status=500)
    except Exception:  # the error page must never raise
        return HttpResponseServerError(_BARE_500)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent without a valid token, explained in the layout."""
    return render(request, "403_csrf.html", status=403)
