"""The API's documentation page: what the API is, where to get a token, and examples to
copy for curl and for Google's own Python clients pointed at this portal."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases.models import Case
from customers.selectors import customer_visible_to

EXAMPLE_CUSTOMERS = 20


@require_GET
def api_docs(request):
    base_url = request.build_absolute_uri("/").rstrip("/")
    customers = []
    if request.user.is_authenticated:
        # The parents this account can use, so that the examples run as they are.
        customers = list(customer_visible_to(request.user).order_by("name", "id")[:EXAMPLE_CUSTOMERS])
    example_customer = customers[0].pk if customers else 1
    context = {
        "base_url": base_url,
        "host": request.get_host(),
        "scheme": request.scheme,
        "customers": customers,
        "parent": f"organizations/{example_customer}",
        "openapi_url": request.build_absolute_uri(reverse("api_openapi")),
        # What each API value means, in the reader's words (issue 12).
        "enum_labels": [
            (_("State"), Case.State.choices),
            (_("Severity"), Case.Priority.choices),
            (_("Escalation reason"), Case.EscalationReason.choices),
        ],
    }
    return render(request, "api/docs.html", context)
