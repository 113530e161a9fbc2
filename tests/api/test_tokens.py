"""Personal API tokens: the settings page (create, name, list, revoke; shown once, stored
hashed, last use kept), the management command, and refusal at once of revoked tokens
and suspended users."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import ApiToken, User
from accounts.services import user_suspend
from accounts.token_services import MAX_LIVE_TOKENS, api_token_issue, api_token_revoke
from portal.errors import InvalidInput, NotFound
from tests.api.conftest import parent_of

TOKENS = "/settings/tokens/"


def call(client, token, path="/v2/caseClassifications:search"):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


class TestSettingsPage:
    def test_the_page_lives_at_settings_tokens_and_is_in_the_navigation(self, w, client):
        assert reverse("tokens") == TOKENS
        client.force_login(w.agent)
        page = client.get("/")
        assert f'href="{TOKENS}"' in page.content.decode()

    def test_signing_in_is_required(self, w, client):
        response = client.get(TOKENS)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_a_created_token_is_shown_once_and_stored_hashed(self, w, client):
        client.force_login(w.agent)
        response = client.post(TOKENS, {"name": "nightly export"}, follow=True)
        # the POST redirects, so a reload shows the list and never makes a second token
        assert response.redirect_chain == [(TOKENS, 302)]
        assert response["Cache-Control"] == "no-store"
        secret = response.context["new_token"]
        assert secret.startswith("rsp_") and secret in response.content.decode()
        stored = ApiToken.objects.get(user=w.agent, name="nightly export")
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {stored.token_hash, stored.prefix, stored.name}
        again = client.get(TOKENS)
        assert secret not in again.content.decode()
        assert stored.prefix in again.content.decode()
        assert "nightly export" in again.content.decode()

    def test_the_token_made_on_the_page_works_against_the_api(self, w, client):
        client.force_login(w.agent)
        secret = client.post(TOKENS, {"name": "script"}, follow=True).context["new_token"]
        client.logout()
        assert call(client, secret).status_code == 200

    def test_reloading_after_creating_makes_no_second_token(self, w, client):
        client.force_login(w.agent)
        client.post(TOKENS, {"name": "once"})
        assert client.get(TOKENS).status_code == 200
        assert client.get(TOKENS).context["new_token"] is None
        assert ApiToken.objects.filter(user=w.agent, name="once").count() == 1

    def test_a_nul_in_the_name_is_a_400_with_a_message(self, w, client):
        client.force_login(w.agent)
        response = client.post(TOKENS, {"name": "bad\x00name"})
        page = response.content.decode()
        assert response.status_code == 400
        assert "control characters" in page or "제어 문자" in page  # in the account's language

    def test_a_token_needs_a_name(self, w, client):
        client.force_login(w.agent)
        response = client.post(TOKENS, {"name": "   "})
        assert response.status_code == 400
        assert response.context["new_token"] is None
        assert not ApiToken.objects.filter(user=w.agent).exists()

    def test_a_user_lists_only_their_own_tokens(self, w, client):
        api_token_issue(user=w.agent, name="agent's script")
        api_token_issue(user=w.agent2, name="other domain's script")
        client.force_login(w.agent)
        page = client.get(TOKENS).content.decode()
        assert "agent&#x27;s script" in page
        assert "other domain" not in page

    def test_revoking_refuses_the_token_from_the_next_call(self, w, client):
        secret = api_token_issue(user=w.agent, name="to revoke")
        assert call(client, secret).status_code == 200
        token = ApiToken.objects.get(user=w.agent, name="to revoke")
        client.force_login(w.agent)
        response = client.post(reverse("token_revoke", args=[token.pk]))
        assert response.status_code == 302
        client.logout()
        refused = call(client, secret)
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
        token.refresh_from_db()
        assert token.revoked_at is not None
        User.objects.filter(pk=w.agent.pk).update(language="en")  # the demo agent reads Korean
        client.force_login(w.agent)
        assert "Revoked" in client.get(TOKENS).content.decode()

    def test_another_users_token_cannot_be_revoked_and_answers_404(self, w, client):
        api_token_issue(user=w.agent2, name="theirs")
        theirs = ApiToken.objects.get(user=w.agent2)
        client.force_login(w.agent)
        assert client.post(reverse("token_revoke", args=[theirs.pk])).status_code == 404
        theirs.refresh_from_db()
        assert theirs.revoked_at is None

    def test_revoking_takes_post_only(self, w, client):
        api_token_issue(user=w.agent, name="x")
        client.force_login(w.agent)
        token = ApiToken.objects.get(user=w.agent)
        assert client.get(reverse("token_revoke", args=[token.pk])).status_code == 405


class TestTokenServices:
    def test_revoke_of_someone_elses_token_is_not_found(self, w):
        api_token_issue(user=w.agent2, name="theirs")
        with pytest.raises(NotFound):
            api_token_revoke(user=w.agent, token_id=ApiToken.objects.get(user=w.agent2).pk)

    def test_the_number_of_live_tokens_is_capped(self, w):
        for n in range(MAX_LIVE_TOKENS):
            api_token_issue(user=w.agent, name=f"t{n}")
        with pytest.raises(InvalidInput):
            api_token_issue(user=w.agent, name="one too many")

    def test_last_use_is_recorded(self, w, client):
        secret = api_token_issue(user=w.agent, name="used")
        assert ApiToken.objects.get(name="used").last_used_at is None
        call(client, secret)
        assert ApiToken.objects.get(name="used").last_used_at is not None


class TestManagementCommand:
    def test_create_api_token_prints_a_token_that_works(self, w, client):
        out = StringIO()
        call_command("create_api_token", w.agent.email, stdout=out)
        secret = out.getvalue().strip()
        response = call(client, secret, f"/v2/{parent_of(w.acme)}/cases")
        assert response.status_code == 200


class TestRefusedAtOnce:
    def test_a_suspended_users_token_is_refused_on_the_next_call(self, w, client):
        secret = api_token_issue(user=w.agent, name="x")
        assert call(client, secret).status_code == 200
        user_suspend(actor=w.admin, user=w.agent)
        response = call(client, secret)
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"

    def test_an_unknown_token_is_refused(self, w, client):
        assert call(client, "rsp_not-a-token").status_code == 401

    def test_a_missing_header_is_refused_with_a_bearer_challenge(self, w, client):
        response = client.get("/v2/caseClassifications:search")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json() == {
            "error": {
                "code": 401,
                "message": response.json()["error"]["message"],
                "status": "UNAUTHENTICATED",
            }
        }

    @pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token rsp_x", "bearer"])
    def test_other_authorization_forms_are_refused(self, w, client, header):
        response = client.get("/v2/caseClassifications:search", headers={"Authorization": header})
        assert response.status_code == 401

    def test_a_session_cookie_is_not_enough(self, w, client):
        client.force_login(w.agent)
        assert client.get(f"/v2/{parent_of(w.acme)}/cases").status_code == 401

    def test_a_role_removed_takes_effect_on_the_next_call(self, w, client, file_case):
        file_case(w.agent, w.acme)
        secret = api_token_issue(user=w.agent, name="x")
        path = f"/v2/{parent_of(w.acme)}/cases"
        assert call(client, secret, path).status_code == 200
        w.agent.role_assignments.all().delete()
        refused = call(client, secret, path)
        assert refused.status_code == 403
        assert refused.json()["error"]["status"] == "PERMISSION_DENIED"


class TestDocumentation:
    def test_the_docs_page_shows_examples_with_the_users_customers(self, w, client):
        client.force_login(w.agent)
        page = client.get("/api/")
        assert page.status_code == 200
        html = page.content.decode()
        assert f"organizations/{w.acme.pk}" in html
        assert "googleapiclient.discovery" in html and "curl" in html
        assert "support_v2" in html
        assert reverse("tokens") in html

    def test_the_docs_page_is_readable_before_signing_in(self, w, client):
        assert client.get("/api/").status_code == 200

    def test_the_openapi_document_is_served(self, client):
        document = client.get("/v2/openapi.json").json()
        assert document["openapi"].startswith("3.")
        assert "/v2/organizations/{organizationId}/cases" in document["paths"]
