"""The customer super admin's pages (/customer/admin/): reseller access to support cases
(consent, R3) with its audit, support partners (R5), and which accounts use the portal.

Only a super admin of the customer's own domain reaches them; everything is read from
that customer (customers.admin_selectors) and changed through customers.services."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Domain
from accounts.selectors import user_is_super_admin
from customers import services
from customers.admin_selectors import (
    access_grant_history,
    active_relationship_domain,
    customer_administered_by,
    customer_portal_users,
    reseller_access_rows,
    reseller_domain_named,
    support_partner_history,
    support_partners,
)
from portal.errors import InvalidInput
from portal.forms import form_apply

# --------------------------------------------------------------------------- forms


class ResellerAccessForm(forms.Form):
    domain = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    support_cases = forms.TypedChoiceField(
        choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on", widget=forms.HiddenInput
    )


class SupportPartnerAddForm(forms.Form):
    domain_name = forms.CharField(
        label=gettext_lazy("Reseller domain"),
        max_length=253,
        help_text=gettext_lazy("The partner's reseller domain, for example partner.example.com."),
    )


class SupportPartnerRemoveForm(forms.Form):
    domain = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


# --------------------------------------------------------------------------- access


def customer_super_admin_required(view):
    """A super admin of a customer domain whose customer uses the portal. Accounts of
    other kinds of domain have no such pages (404); a customer's other users are told
    who manages this (403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if user.domain.kind != Domain.Kind.CUSTOMER:
            raise Http404
        customer = customer_administered_by(user)
        if customer is None:
            reason = "portal_off" if user_is_super_admin(user) else "not_super_admin"
            return render(request, "customer_admin/403.html", {"reason": reason}, status=403)
        return view(request, customer, *args, **kwargs)

    return wrapper


TABS = [
    ("customer_admin:home", gettext_lazy("Reseller access")),
    ("customer_admin:partners", gettext_lazy("Support partners")),
    ("customer_admin:users", gettext_lazy("Portal users")),
]


def _page(request, template: str, context: dict, *, tab: str, status: int = 200) -> HttpResponse:
    context.update(tabs=TABS, current_tab=tab)
    return render(request, template, context, status=status)


# --------------------------------------------------------------------------- pages


@customer_super_admin_required
def reseller_access(request, customer):
    """Support cases on or off for each domain that manages or supports the customer,
    and who changed it when."""
    form = ResellerAccessForm()
    status = 200
    confirming = None
    if request.method == "POST":
        form = ResellerAccessForm(request.POST)
        changed = {}
        if (
            form.is_valid()
            and not form.cleaned_data["support_cases"]
            and request.POST.get("confirm") != "yes"
        ):
            # Turning access off is deliberate: say what it does and ask once more.
            confirming = active_relationship_domain(customer=customer, domain_id=form.cleaned_data["domain"])
            if confirming is None:
                raise Http404
            return _page(
                request,
                "customer_admin/reseller_access.html",
                {
                    "customer": customer,
                    "rows": reseller_access_rows(customer),
                    "history": access_grant_history(customer),
                    "form": ResellerAccessForm(),
                    "confirming": confirming,
                },
                tab="customer_admin:home",
                status=200,
            )

        def run(data):
            domain = active_relationship_domain(customer=customer, domain_id=data["domain"])
            if domain is None:
                raise Http404
            services.customer_consent_set(
                actor=request.user, customer=customer, domain=domain, support_cases=data["support_cases"]
            )
            changed["domain"] = domain

        status = form_apply(form, run)
        if status is None:
            on = form.cleaned_data["support_cases"]
            message = (
                _("%(domain)s can file and see your support cases again.")
                if on
                else _(
                    "%(domain)s can no longer file or see your support cases. Its super admins were told by mail."
                )
            )
            messages.success(request, message % {"domain": changed["domain"].name})
            return redirect("customer_admin:home")
    return _page(
        request,
        "customer_admin/reseller_access.html",
        {
            "customer": customer,
            "rows": reseller_access_rows(customer),
            "history": access_grant_history(customer),
            "form": form,
        },
        tab="customer_admin:home",
        status=status,
    )


@customer_super_admin_required
def partners(request, customer):
    """Add a support partner by its domain (active at once, no approval step), or remove one."""
    add_form = SupportPartnerAddForm()
    remove_form = SupportPartnerRemoveForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "add":
            add_form = SupportPartnerAddForm(request.POST)

            def run(data):
                domain = reseller_domain_named(data["domain_name"])
                if domain is None:
                    raise InvalidInput(
                        _("No reseller domain named “%(name)s” uses the portal. Check the spelling.")
                        % {"name": data["domain_name"].strip()[:253]}
                    )
                services.support_partner_add(actor=request.user, customer=customer, domain=domain)

            status = form_apply(add_form, run)
            success = _("%(name)s is now a support partner. It can work on cases filed from now on.")
        elif action == "remove":
            remove_form = SupportPartnerRemoveForm(request.POST)

            def run(data):
                relationship = support_partners(customer).filter(reseller_domain_id=data["domain"]).first()
                if relationship is None:
                    raise Http404
                services.support_partner_remove(
                    actor=request.user, customer=customer, domain=relationship.reseller_domain
                )
                remove_form.removed = relationship.reseller_domain.name

            status = form_apply(remove_form, run)
            success = _("%(name)s is no longer a support partner.")
        else:
            status, success = 400, ""
            messages.error(request, _("Unknown action."))
        if status is None:
            name = (
                add_form.cleaned_data["domain_name"].strip().lower()
                if action == "add"
                else getattr(remove_form, "removed", "")
            )
            messages.success(request, success % {"name": name})
            return redirect("customer_admin:partners")
    return _page(
        request,
        "customer_admin/partners.html",
        {
            "customer": customer,
            "partners": support_partners(customer),
            "history": support_partner_history(customer),
            "add_form": add_form,
            "remove_form": remove_form,
        },
        tab="customer_admin:partners",
        status=status,
    )


@customer_super_admin_required
def portal_users(request, customer):
    """Read-only: portal access is granted to the customer as a whole, so every active
    account of its domain may use the portal; suspended ones may not."""
    return _page(
        request,
        "customer_admin/users.html",
        {"customer": customer, "accounts": customer_portal_users(customer)},
        tab="customer_admin:users",
    )
