"""Issue 16, info items: no-store on signed-in pages and API answers, `__Host-` cookies and
a proxy header trusted only when configured in production, Google's JSON on every `/v2/`
error."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_signed_in_pages_are_never_stored(signed_in, w, client):
    response = signed_in(w.agent).get("/cases/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "no-store" in client.get("/u/0/customers/")["Cache-Control"]


def test_api_answers_are_never_stored(client, db):
    response = client.get("/v2/organizations/1/cases", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401 and "no-store" in response["Cache-Control"]


def production_settings(**env) -> dict:
    code = (
        "import json, django; from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ('SESSION_COOKIE_NAME', 'CSRF_COOKIE_NAME', "
        "'SECURE_PROXY_SSL_HEADER', 'MFA_REQUIRED', 'TRUSTED_PROXY_COUNT')} | {'CACHE': s.CACHES['default']['BACKEND']}))"
    )
    environ = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "DJANGO_ALLOWED_HOSTS": "portal.example",
        "SITE_URL": "https://portal.example",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_uses_host_cookies_requires_mfa_and_trusts_no_proxy_header_by_default():
    values = production_settings()
    assert values["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert values["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["MFA_REQUIRED"] is True
    assert values["CACHE"] == "portal.cache.FailSafeRedisCache"


def test_behind_a_configured_proxy_x_forwarded_proto_is_trusted():
    values = production_settings(TRUSTED_PROXY_COUNT="1")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["TRUSTED_PROXY_COUNT"] == 1


@pytest.mark.parametrize(
    "path",
    ["/v2", "/upload/v2", "/v2/a%0ab", "/v2/%00", "/v2/organizations/1/cases/1%0a:close", "/v2/%E2%80%8F"],
)
def test_every_v2_error_is_googles_json(client, db, path):
    response = client.get(path)
    assert response.status_code >= 400 and response["Content-Type"] == "application/json"
    assert set(response.json()["error"]) >= {"code", "message", "status"}
