"""Addresses of the retired support center (/supportcenter/…) lead to the matching page,
after sign-in, as the original did when it moved in 2022."""

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpResponsePermanentRedirect
from django.urls import reverse

# (pattern on the old path, name of the new page, how to build its arguments)
LEGACY_ROUTES = [
    (re.compile(r"^/?$"), "cases:list", None),
    (re.compile(r"^cases/?$"), "cases:list", None),
    (re.compile(r"^(?:case|cases)/(?P<number>\d+)/?$"), "cases:detail", "number"),
    (re.compile(r"^(?:createcase|newcase|cases/new|case/new)/?$"), "cases:create", None),
    (re.compile(r"^customers/?$"), "customers:list", None),
    (re.compile(r"^customers?/(?P<customer_id>\d+)/?$"), "customers:detail", "customer_id"),
]


@login_required
def supportcenter_redirect(request, rest: str = ""):
    for pattern, name, argument in LEGACY_ROUTES:
        match = pattern.match(rest)
        if match:
            url = reverse(name, args=[int(match.group(argument))] if argument else [])
            query = request.GET.urlencode()
            return HttpResponsePermanentRedirect(url + ("?" + query if query else ""))
    return HttpResponsePermanentRedirect(reverse("home"))
