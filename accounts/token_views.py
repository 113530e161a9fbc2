"""The settings page for personal API tokens: create (named, shown once), list, revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.token_selectors import api_tokens_of
from accounts.token_services import TOKEN_NAME_MAX, api_token_issue, api_token_revoke
from portal.errors import DomainError, NotFound

NEW_TOKEN_SESSION_KEY = "portal_new_api_token"


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """Create, list, revoke. A created token is shown once, on the page the POST redirects
    to (so that a reload never creates a second one): it waits in the session for that one
    GET and is removed as it is shown."""
    error = None
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            request.session[NEW_TOKEN_SESSION_KEY] = api_token_issue(user=request.user, name=name)
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("tokens")
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None) if request.method == "GET" else None
    context = {
        "tokens": api_tokens_of(request.user),
        "new_token": new_token,
        "error": error,
        "name": name,
        "name_max": TOKEN_NAME_MAX,
    }
    response = render(request, "accounts/tokens.html", context, status=400 if error else 200)
    # The new token is in this page only: never cached.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token = api_token_revoke(user=request.user, token_id=token_id)
    except NotFound:
        raise Http404 from None
    messages.success(
        request, _("Token “%(name)s” revoked. Calls with it are refused from now on.") % {"name": token.name}
    )
    return redirect("tokens")
