import hashlib
import ipaddress
import logging
import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import password_changed
from allauth.core.internal import ratelimit  # the one the parent class uses (usage.rollback)
from django.conf import settings
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.multi_account import account_password_changed, slot_of, with_slot_prefix

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies of our own
    that each append to X-Forwarded-For, the entry that many hops from the right (what a
    client writes further left is not trusted). docs/deployment.md."""
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if len(forwarded) < hops:
        return remote  # not through all our proxies: take the peer as it is
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _account_key(login: str) -> str:
    return "login-failures:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()


def _account_delay(failures: int) -> float:
    """Seconds to wait before checking a password for an address with `failures` recent
    failures (from any client): nothing for the first few, then doubling up to a cap."""
    free = settings.LOGIN_ACCOUNT_DELAY_AFTER
    if failures < free:
        return 0.0
    return min(settings.LOGIN_ACCOUNT_DELAY_MAX_SECONDS, 0.25 * 2 ** (failures - free))


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by super admins and by `seed_demo`; nobody signs themselves up.
    allauth's mails (password reset and the like) carry the product's name, never the host
    name, and speak the language of the account they are about (issue 12)."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def format_email_subject(self, subject: str) -> str:
        return _("[%(product)s] %(subject)s") % {"product": _("Reseller Support Portal"), "subject": subject}

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        user = context.get("user")
        if not isinstance(user, User):
            user = User.objects.filter(email=(email or "").strip().lower()).first()
        language = user.language if user is not None else translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def get_client_ip(self, request) -> str:
        return client_ip(request)

    def pre_authenticate(self, request, **credentials) -> None:
        """Rate limits that stop attackers, not owners (issue 16): failures count per client
        (allauth's `login_failed` per IP) and per address *from that client*, so a stranger's
        wrong passwords never refuse the owner signing in from elsewhere; across clients an
        address only gets growing delays."""
        login = str(credentials.get("email", credentials.get("username", "")))
        key = f"{login.lower()}|{client_ip(request)}"
        self._login_failed_rl_usage = ratelimit.consume(
            request, app="allauth.account", action="login_failed", key=key
        )
        if not self._login_failed_rl_usage:
            raise self.validation_error("too_many_login_attempts")
        delay = _account_delay(cache.get(_account_key(login), 0) or 0)
        if delay:
            time.sleep(delay)

    def authentication_failed(self, request, **credentials) -> None:
        login = str(credentials.get("email", credentials.get("username", "")))
        key = _account_key(login)
        window = settings.LOGIN_ACCOUNT_DELAY_WINDOW_SECONDS
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
        logger.warning("Failed sign-in for an address from %s.", client_ip(request))

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        # After a password reset: the address's count for this client and its delays.
        login = str(credentials.get("email", credentials.get("username", "")))
        ratelimit.clear(
            request, app="allauth.account", action="login_failed", key=f"{login.lower()}|{client_ip(request)}"
        )
        cache.delete(_account_key(login))

    def post_login(self, request, user, **kwargs):
        """An account added to the browser opens in its own `/u/<n>/` address space, so the
        tabs of the accounts already signed in keep theirs (issue 11)."""
        response = super().post_login(request, user, **kwargs)
        if isinstance(response, HttpResponseRedirect):
            response["Location"] = with_slot_prefix(response["Location"], slot_of(request, user))
        return response


@receiver(password_changed, dispatch_uid="accounts.adapters.password_changed")
def _keep_accounts_after_password_change(sender, request, user, **kwargs):
    account_password_changed(request, user)
