"""Several accounts signed in in one browser, one per tab (Google's multi-account model).

A partner's person has one account per reseller domain. The session holds the account
signed in last; a signed, HttpOnly cookie remembers every account signed in in this
browser (id and the session hash of its password, so a password change or a suspension
signs it out). An address under `/u/<n>/` acts as account n: the prefix is taken off the
path before URL resolution and set as the script prefix, so every link the page builds
with `reverse()` keeps the tab in its account.
"""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpResponseRedirect
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils.crypto import constant_time_compare

COOKIE = "portal_accounts"
MAX_ACCOUNTS = 5
_PREFIX = re.compile(r"^/u/(?P<index>\d{1,2})(?=/)")
_SALT = "accounts.multi_account"


def signed_in_accounts(request) -> list[dict]:
    """The [{"id", "hash"}, …] list from the cookie; empty when missing or forged."""
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return []
    try:
        value = signing.loads(raw, salt=_SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict) and {"id", "hash"} <= entry.keys()][
        :MAX_ACCOUNTS
    ]


def account_slots(request, *, exclude_id: int | None = None) -> list:
    """The accounts of this browser in sign-in order; an account that is no longer valid
    (suspended, password changed) leaves None in its slot, so other tabs keep their place.
    Slots of `exclude_id` are None too (and cost no query)."""
    entries = signed_in_accounts(request)
    wanted = [entry["id"] for entry in entries if entry["id"] != exclude_id]
    users = get_user_model().objects.select_related("domain").in_bulk(wanted) if wanted else {}
    slots = []
    for entry in entries:
        user = users.get(entry["id"])
        valid = (
            user is not None
            and user.is_active
            and constant_time_compare(entry["hash"], user.get_session_auth_hash())
        )
        slots.append(user if valid else None)
    return slots


def account_users(request, *, exclude_id: int | None = None) -> list[tuple[int, object]]:
    """(slot, user) of every valid account of this browser, but `exclude_id`."""
    return [
        (index, user)
        for index, user in enumerate(account_slots(request, exclude_id=exclude_id))
        if user is not None
    ]


def _entry(user) -> dict:
    return {"id": user.pk, "hash": user.get_session_auth_hash()}


class MultiAccountMiddleware:
    """Place after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = _PREFIX.match(request.path_info)
        previous_prefix = get_script_prefix()
        request.account_index = None
        if match:
            index = int(match.group("index"))
            request.path_info = request.path_info[match.end() :]
            set_script_prefix(f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}/u/{index}/")
            users = account_slots(request)
            if index >= len(users) or users[index] is None:
                set_script_prefix(previous_prefix)
                return HttpResponseRedirect(reverse("account_chooser"))
            request.user = users[index]
            request.account_index = index
        try:
            response = self.get_response(request)
        finally:
            set_script_prefix(previous_prefix)
        return self._remember(request, response)

    def _remember(self, request, response):
        """Keep the cookie in step with the session: remember the account just signed in
        (in place if it is already listed); signing out signs every account out."""
        if request.path_info == reverse("account_logout") and request.method == "POST":
            response.delete_cookie(COOKIE)
            return response
        if request.account_index is not None or not request.user.is_authenticated:
            return response
        entries = signed_in_accounts(request)
        current = _entry(request.user)
        if current in entries:
            return response
        for position, entry in enumerate(entries):
            if entry["id"] == current["id"]:
                entries[position] = current
                break
        else:
            entries = (entries + [current])[-MAX_ACCOUNTS:]
        response.set_cookie(
            COOKIE,
            signing.dumps(entries, salt=_SALT),
            max_age=settings.SESSION_COOKIE_AGE,
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE,
            samesite="Lax",
        )
        return response
