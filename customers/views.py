"""My customers (resellers), one customer and its cases, and the customer portal home."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.models import Domain, Privilege
from accounts.selectors import user_has_privilege
from cases.selectors import case_visible_to, reseller_can_access_cases
from cases.views import _render_list, case_access_required, case_list_context, refuse_missing_privileges
from customers.selectors import (
    customer_access_off_since,
    customer_list_with_consent,
    customer_page,
    customer_search,
)

PAGE_SIZE = 50


@login_required
@require_GET
def customer_list(request):
    """The customers of the domain in use, and why others are not shown."""
    user = request.user
    if user.domain.kind == Domain.Kind.CUSTOMER:
        return redirect("customer_portal:home")
    if user.domain.kind == Domain.Kind.RESELLER and not user_has_privilege(
        user, Privilege.RESELLER_VIEW_CUSTOMERS
    ):
        return refuse_missing_privileges(request, [Privilege.RESELLER_VIEW_CUSTOMERS])
    query = request.GET.get("q", "").strip()[:100]
    customers = customer_search(customer_list_with_consent(user), query)
    page = customer_page(customers, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    return render(
        request,
        "customers/list.html",
        {
            "page": page,
            "q": query,
            "can_see_cases": user.domain.kind != Domain.Kind.RESELLER or reseller_can_access_cases(user),
        },
    )


@login_required
@require_GET
def customer_detail(request, customer_id: int):
    """One customer: the sales-console record and the cases the domain may see."""
    user = request.user
    if user.domain.kind == Domain.Kind.RESELLER and not user_has_privilege(
        user, Privilege.RESELLER_VIEW_CUSTOMERS
    ):
        return refuse_missing_privileges(request, [Privilege.RESELLER_VIEW_CUSTOMERS])
    customer = customer_list_with_consent(user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404
    context = {"customer": customer}
    if user.domain.kind == Domain.Kind.RESELLER and not customer.can_file:
        # No list that says "no cases yet" and no Create button: say why, and since when.
        context["access_off_at"] = customer_access_off_since(
            customer_id=customer.pk, domain_id=user.domain_id
        )
        context["access_off"] = True
        return render(request, "customers/detail.html", context)
    if user.domain.kind != Domain.Kind.RESELLER or reseller_can_access_cases(user):
        context.update(case_list_context(request, case_visible_to(user).filter(customer=customer)))
    return (
        _render_list(request, "customers/detail.html", context)
        if "filter" in context
        else render(request, "customers/detail.html", context)
    )


@case_access_required
@require_GET
def customer_portal_home(request):
    """Customer users: every case of their customer, delegated ones included (R6)."""
    user = request.user
    if user.domain.kind != Domain.Kind.CUSTOMER:
        return redirect("cases:list")
    customer = customer_list_with_consent(user).first()
    context = case_list_context(request, case_visible_to(user))
    context["customer"] = customer
    return _render_list(request, "customers/portal_home.html", context)
