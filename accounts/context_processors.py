from django.conf import settings

from accounts.multi_account import account_users
from accounts.navigation import navigation_for


def portal(request):
    user = getattr(request, "user", None)
    context = {"LANGUAGES": settings.LANGUAGES}
    if user is not None and user.is_authenticated:
        context["nav_items"] = navigation_for(user)
        context["active_domain"] = user.domain
        context["other_accounts"] = lambda: account_users(request, exclude_id=user.pk)
    return context
