"""Fixtures for the API: tokens for personas, an authenticated test client, and a live
server that Google's own client libraries talk to over real HTTP.

The live server shares the test's database connection (as Django's LiveServerTestCase
does for in-memory SQLite), so every API call sees the persona world and each test's
writes are rolled back with it. Requests are served one at a time: the clients here are
synchronous, so the connection is never used by two threads at once."""

import json
import threading
from datetime import datetime, timedelta

import httplib2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections
from django.test.testcases import QuietWSGIRequestHandler

from accounts.services import api_token_create


@pytest.fixture
def token_for(db):
    """`token_for(w.agent)` → a new personal API token of that account."""

    def make(user, name="tests") -> str:
        return api_token_create(user=user, name=name)

    return make


class ApiClient:
    """Django's test client with a bearer token and JSON in and out."""

    def __init__(self, client, token: str):
        self.client = client
        self.token = token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        headers.update(extra or {})
        return headers

    def get(self, path, params=None, **extra):
        return self.client.get(path, params or {}, headers=self._headers(extra.pop("headers", None)), **extra)

    def post(self, path, body=None, **extra):
        data = "" if body is None else json.dumps(body)
        return self.client.post(
            path,
            data,
            content_type="application/json",
            headers=self._headers(extra.pop("headers", None)),
            **extra,
        )

    def patch(self, path, body=None, **extra):
        return self.client.patch(
            path, json.dumps(body or {}), content_type="application/json", headers=self._headers(), **extra
        )

    def raw(self, method, path, data=b"", content_type="application/octet-stream", **extra):
        return self.client.generic(
            method, path, data, content_type=content_type, headers=self._headers(), **extra
        )


@pytest.fixture
def api_as(client, token_for):
    """`api_as(w.agent).get("/v2/organizations/…/cases")`."""

    def make(user) -> ApiClient:
        return ApiClient(client, token_for(user))

    return make


def parent_of(customer) -> str:
    return f"organizations/{customer.pk}"


def name_of(case) -> str:
    return f"organizations/{case.customer_id}/cases/{case.number}"


# --------------------------------------------------------------------------- live server


class _SharedConnectionServer(ThreadedWSGIServer):
    """Serves each request in a thread that uses the test's connection, and never closes
    it: the test rolls it back."""

    def __init__(self, *args, connection, **kwargs):
        super().__init__(*args, **kwargs)
        self.shared_connection = connection

    def process_request_thread(self, request, client_address):
        connections["default"] = self.shared_connection
        # Django's test client reconnects these after each of its requests; closing "old"
        # connections at the end of a request would end the test's own transaction.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        super().process_request_thread(request, client_address)

    def _close_connections(self):
        pass


@pytest.fixture
def live_api(db):
    """The base URL of a live HTTP server on 127.0.0.1 that answers inside this test's
    transaction: it sees the persona world, and what the API writes is rolled back."""
    connection = connections["default"]
    connection.ensure_connection()
    connection.inc_thread_sharing()
    server = _SharedConnectionServer(
        ("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False, connection=connection
    )
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        connection.dec_thread_sharing()


class HttpForTestHost(httplib2.Http):
    """The discovery client sends media uploads to the `https` form of the endpoint even
    when the endpoint is plain http (it takes the scheme from the discovery document's
    rootUrl). This Http sends requests for the test host over http, and nothing else."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.http_base = base_url
        self.https_base = "https://" + base_url.removeprefix("http://")

    def request(self, uri, *args, **kwargs):
        if uri.startswith(self.https_base):
            uri = self.http_base + uri[len(self.https_base) :]
        return super().request(uri, *args, **kwargs)


def google_credentials(token: str):
    """Credentials holding a personal token. The refresh handler hands back the same
    token, so that a refused token surfaces as the server's 401 instead of a client-side
    "cannot refresh" error."""
    from google.oauth2.credentials import Credentials

    return Credentials(
        token, refresh_handler=lambda request, scopes: (token, datetime.utcnow() + timedelta(hours=1))
    )


@pytest.fixture
def discovery(live_api):
    """`discovery(token)` → Google's discovery-based client for this server."""
    import google_auth_httplib2
    from googleapiclient.discovery import build

    def make(token: str):
        http = google_auth_httplib2.AuthorizedHttp(google_credentials(token), http=HttpForTestHost(live_api))
        return build(
            "cloudsupport",
            "v2",
            static_discovery=True,
            http=http,
            client_options={"api_endpoint": live_api},
            cache_discovery=False,
        )

    return make


@pytest.fixture
def gapic(live_api):
    """`gapic(token)` → google-cloud-support's clients over REST, plain http."""
    from google.cloud import support_v2
    from google.cloud.support_v2.services.case_attachment_service.transports import (
        CaseAttachmentServiceRestTransport,
    )
    from google.cloud.support_v2.services.case_service.transports import CaseServiceRestTransport
    from google.cloud.support_v2.services.comment_service.transports import CommentServiceRestTransport

    host = live_api.removeprefix("http://")

    class Clients:
        def __init__(self, token):
            credentials = google_credentials(token)

            def transport(cls):
                return cls(host=host, credentials=credentials, url_scheme="http")

            self.cases = support_v2.CaseServiceClient(transport=transport(CaseServiceRestTransport))
            self.comments = support_v2.CommentServiceClient(transport=transport(CommentServiceRestTransport))
            self.attachments = support_v2.CaseAttachmentServiceClient(
                transport=transport(CaseAttachmentServiceRestTransport)
            )

    return Clients
