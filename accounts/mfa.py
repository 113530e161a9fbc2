"""Two-step verification required for the accounts that can do the most harm (SPEC §8,
issue 16): super admins of a domain, support engineers (who see every tenant) and the
operators of the Django admin. With MFA_REQUIRED on (production's default), such an
account without a second factor is sent to set one up (allauth.mfa: TOTP, with recovery
codes) before any other page opens."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.selectors import user_is_super_admin, user_is_support_engineer

# Pages that stay open before the second factor is set up: allauth's own (setting it up,
# signing out, changing the password), the language switch and the health check.
_OPEN_PREFIXES = ("/accounts/", "/language/", "/healthz", "/static/")


def user_needs_second_factor(user) -> bool:
    """True when the account must have a second factor and has none."""
    if not user.is_authenticated:
        return False
    must = user.is_staff or user.is_superuser or user_is_support_engineer(user) or user_is_super_admin(user)
    return (
        must
        and not Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
    )


class MfaRequiredMiddleware:
    """Place after MultiAccountMiddleware: it checks the account the request acts for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.MFA_REQUIRED
            and not request.path_info.startswith(_OPEN_PREFIXES)
            and user_needs_second_factor(request.user)
        ):
            messages.warning(
                request,
                _("Your account must use two-step verification. Set it up to continue."),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
