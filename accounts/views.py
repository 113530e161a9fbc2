from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.models import AdminRole, Domain, Privilege
from accounts.multi_account import account_sign_out, account_users, with_slot_prefix
from accounts.selectors import user_privileges
from portal.errors import InvalidInput


@login_required
def home(request):
    """Who you are, the domain you act for, and what you may do in it."""
    user = request.user
    privileges = user_privileges(user)
    roles = AdminRole.objects.filter(assignments__user=user).order_by("-builtin", "name")
    context = {
        "roles": roles,
        "privileges": [p for p in Privilege if p in privileges],
        "customer": getattr(user.domain, "customer", None)
        if user.domain.kind == Domain.Kind.CUSTOMER
        else None,
        "lacks_portal_access": user.domain.kind == Domain.Kind.RESELLER
        and Privilege.SUPPORT not in privileges,
    }
    return render(request, "accounts/home.html", context)


@require_POST
def set_language(request):
    """The header's language switch. Signed-in users keep the choice on their account."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = "en"
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if request.user.is_authenticated and request.user.language != language:
        request.user.language = language
        request.user.save(update_fields=["language"])
    translation.activate(language)
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        "django_language",
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


def account_chooser(request):
    """Every account signed in in this browser, each opening in its own `/u/<n>/` space."""
    return render(request, "accounts/chooser.html", {"accounts": account_users(request)})


@require_POST
def account_sign_out_one(request):
    """Sign the account of this tab out of the browser's session; the others stay."""
    others_remain = account_sign_out(request, index=request.account_index or 0)
    target = reverse("account_chooser") if others_remain else reverse("account_login")
    return HttpResponseRedirect(with_slot_prefix(target, None))


def notification_address_confirm(request, token: str):
    """The link mailed to a new notification address outside the account's domain. It asks
    before it changes anything (mail scanners open links), and needs no sign-in: the
    owner of that mailbox may have no account here."""
    if request.method == "POST":
        try:
            user = services.user_notification_address_confirm(token=token)
        except InvalidInput as error:
            return render(request, "accounts/notification_confirm.html", {"error": error.message}, status=400)
        return render(request, "accounts/notification_confirm.html", {"done": user})
    about = services.notification_address_request(token=token)
    if about is None:
        error = _("This confirmation link is not valid or has expired.")
        return render(request, "accounts/notification_confirm.html", {"error": error}, status=400)
    return render(request, "accounts/notification_confirm.html", {"account": about[0], "address": about[1]})


def sign_in_addresses_managed(request):
    """Sign-in addresses are changed by the domain's super admins only (SPEC §8, R8):
    allauth's page for managing one's own addresses is closed."""
    return render(request, "accounts/email_managed.html", status=403)
