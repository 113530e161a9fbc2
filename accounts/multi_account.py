"""Several accounts signed in in one browser, one per tab (Google's multi-account model).

A partner's person has one account per reseller domain. Every account signed in in this
browser lives in the server-side session, in sign-in order (its slot): id and the session
hash of its password, so a password change or a suspension signs it out. Nothing in the
browser but the session cookie opens an account; signing out (one account or all) ends it
on the server, and a session cookie that is gone (browser restart: it is a browser-session
cookie) opens nothing.

An address under `/u/<n>/` acts as account n: the prefix is taken off the path before URL
resolution and set as the script prefix, so every link the page builds with `reverse()`
keeps the tab in its account. The plain addresses act as slot 0, the first account signed
in; an account added later opens at its own `/u/<n>/`, and a slot is never reused while the
session lasts, so no sign-in or sign-out ever changes the account an open tab acts for.
"""

import re

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils.crypto import constant_time_compare

SESSION_ACCOUNTS = "portal_accounts"
# The cookie that held the list before it moved into the session; removed when seen.
LEGACY_COOKIE = "portal_accounts"
MAX_SLOTS = 10
_PREFIX = re.compile(r"^/u/(?P<index>\d{1,2})(?=/)")


def _entries(session) -> list:
    value = session.get(SESSION_ACCOUNTS) if session is not None else None
    if not isinstance(value, list):
        return []
    return [e if isinstance(e, dict) and {"id", "hash"} <= e.keys() else None for e in value][:MAX_SLOTS]


def _entry(user) -> dict:
    return {"id": user.pk, "hash": user.get_session_auth_hash()}


def account_slots(request, *, exclude_id: int | None = None) -> list:
    """The accounts of this session in sign-in order; an account that is signed out or no
    longer valid (suspended, password changed) leaves None in its slot, so other tabs keep
    their place. Slots of `exclude_id` are None too (and cost no query)."""
    entries = _entries(getattr(request, "session", None))
    wanted = [entry["id"] for entry in entries if entry and entry["id"] != exclude_id]
    users = get_user_model().objects.select_related("domain").in_bulk(wanted) if wanted else {}
    slots = []
    for entry in entries:
        user = users.get(entry["id"]) if entry else None
        valid = (
            user is not None
            and user.is_active
            and constant_time_compare(entry["hash"], user.get_session_auth_hash())
        )
        slots.append(user if valid else None)
    return slots


def account_users(request, *, exclude_id: int | None = None) -> list[tuple[int, object]]:
    """(slot, user) of every valid account of this session, but `exclude_id`."""
    return [
        (index, user)
        for index, user in enumerate(account_slots(request, exclude_id=exclude_id))
        if user is not None
    ]


def slot_of(request, user) -> int | None:
    for index, entry in enumerate(_entries(request.session)):
        if entry and entry["id"] == user.pk:
            return index
    return None


def with_slot_prefix(url: str, index: int | None) -> str:
    """`url` (a local path) moved into slot `index`'s address space."""
    if not url.startswith("/") or url.startswith("//"):
        return url
    url = _PREFIX.sub("", url, count=1)
    return f"/u/{index}{url}" if index else url


@receiver(user_logged_in, dispatch_uid="accounts.multi_account.remember")
def _remember(sender, request, user, **kwargs):
    """Add the account just signed in to the session's list (in place when it is listed).
    Django's `login()` starts a new session when another account signs in; the list read
    at the start of the request is carried over into it."""
    if request is None or not hasattr(request, "session"):
        return
    before = getattr(request, "_portal_accounts_before", None)
    entries = list(before) if before is not None else _entries(request.session)
    index = next((i for i, e in enumerate(entries) if e and e["id"] == user.pk), None)
    if index is not None:
        entries[index] = _entry(user)
    else:
        entries.append(_entry(user))
        if len(entries) > MAX_SLOTS:
            # Full: the oldest signed-out slots go first, else the oldest account.
            hole = next((i for i, e in enumerate(entries) if e is None), 0)
            entries.pop(hole)
    request.session[SESSION_ACCOUNTS] = entries
    if before and any(before) and getattr(request, "_portal_csrf_before", None):
        # Adding an account to a signed-in browser: `login()` rotated the CSRF token, which
        # would refuse the next form posted from the tabs already open. Those tabs belong to
        # this same signed-in browser, so they keep their token (the first sign-in still rotates).
        request.META["CSRF_COOKIE"] = request._portal_csrf_before
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    request._portal_accounts_before = entries


def account_password_changed(request, user) -> None:
    """After `user` changed their password in this session: keep their slot (with the new
    hash) and keep the session valid for the account Django's session belongs to."""
    entries = _entries(request.session)
    for index, entry in enumerate(entries):
        if entry and entry["id"] == user.pk:
            entries[index] = _entry(user)
    request.session[SESSION_ACCOUNTS] = entries
    owner_id = request.session.get(SESSION_KEY)
    if owner_id is not None and str(owner_id) != str(user.pk):
        owner = get_user_model().objects.filter(pk=owner_id).first()
        if owner is not None:
            request.session[HASH_SESSION_KEY] = owner.get_session_auth_hash()


def account_sign_out(request, *, index: int) -> bool:
    """Sign slot `index` out of this session (its place stays empty); the last account
    signs the whole session out. True while other accounts remain."""
    entries = _entries(request.session)
    if not 0 <= index < len(entries) or entries[index] is None:
        return bool(account_users(request))
    leaving = entries[index]["id"]
    entries[index] = None
    request.session[SESSION_ACCOUNTS] = entries
    remaining = [user for _i, user in account_users(request)]
    if not remaining:
        logout(request)
        return False
    if str(request.session.get(SESSION_KEY)) == str(leaving):
        # Django's session belonged to the account leaving: hand it to one that stays.
        request.session.cycle_key()
        request.session[SESSION_KEY] = remaining[0]._meta.pk.value_to_string(remaining[0])
        request.session[HASH_SESSION_KEY] = remaining[0].get_session_auth_hash()
        request.session.setdefault(BACKEND_SESSION_KEY, "django.contrib.auth.backends.ModelBackend")
    return True


class MultiAccountMiddleware:
    """Place after AuthenticationMiddleware: it decides which account a request acts for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = _PREFIX.match(request.path_info)
        previous_prefix = get_script_prefix()
        request.account_index = None
        self._adopt_session_user(request)
        request._portal_accounts_before = _entries(request.session)
        request._portal_csrf_before = request.META.get("CSRF_COOKIE")
        users = account_slots(request)
        if match:
            index = int(match.group("index"))
            request.path_info = request.path_info[match.end() :]
            set_script_prefix(f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}/u/{index}/")
            if index >= len(users) or users[index] is None:
                set_script_prefix(previous_prefix)
                return HttpResponseRedirect(reverse("account_chooser"))
            request.user = users[index]
            request.account_index = index
        elif users:
            # Plain addresses belong to the first account; once it signed out they act
            # for nobody (the tab must not turn into another account).
            request.user = users[0] if users[0] is not None else AnonymousUser()
        try:
            response = self.get_response(request)
        finally:
            set_script_prefix(previous_prefix)
        if LEGACY_COOKIE in request.COOKIES:
            response.delete_cookie(LEGACY_COOKIE)
        return response

    @staticmethod
    def _adopt_session_user(request):
        """A session signed in without the list (made before it existed) lists its account."""
        session = getattr(request, "session", None)
        if session is None or SESSION_ACCOUNTS in session:
            return
        if request.user.is_authenticated:
            session[SESSION_ACCOUNTS] = [_entry(request.user)]
