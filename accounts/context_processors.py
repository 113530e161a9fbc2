from django.conf import settings

from accounts.multi_account import account_users
from accounts.navigation import navigation_for


def portal(request):
    user = getattr(request, "user", None)
    context = {"LANGUAGES": settings.LANGUAGES}
    if user is not None and user.is_authenticated:
        nav_items = navigation_for(user)
        context["nav_items"] = nav_items
        # Buttons lead only where the menu does: no "Create support case" for support.
        reachable = {item.url_name for item in nav_items}
        context["may_create_case"] = "cases:create" in reachable
        context["may_list_cases"] = "cases:list" in reachable
        context["active_domain"] = user.domain
        context["other_accounts"] = lambda: account_users(request, exclude_id=user.pk)
    return context
