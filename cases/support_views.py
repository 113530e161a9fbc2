"""The support console: the queue (filters, counts, keyset pages, saved views), bulk
actions, the one-submit update on the case page, and the canned replies. Support
engineers only; everything else answers 404 (R9). Reads start from the selectors (which
start from `case_visible_to`); writes are services."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Domain, Language
from cases import services
from cases.filters import BulkForm, QueueFilterForm
from cases.forms import SupportUpdateForm
from cases.lifecycle import WAITING_ON_CUSTOMER, Side, next_states
from cases.models import Case
from cases.selectors import (
    FACET_CAP,
    canned_replies_for,
    canned_replies_for_case,
    reseller_domains,
    saved_views_for,
    support_engineers,
    support_queue,
    support_queue_counts,
    support_queue_page,
)
from customers.selectors import customer_visible_to
from portal.errors import DomainError

QUEUE_PAGE = 50


def support_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.domain.kind != Domain.Kind.SUPPORT:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _engineers() -> list[tuple[int, str, str]]:
    return list(support_engineers().values_list("pk", "full_name", "email"))


def _queue_form(request, engineers) -> QueueFilterForm:
    customers = customer_visible_to(request.user).order_by("name").only("name")
    domains = reseller_domains()
    return QueueFilterForm(request.GET or None, customers=customers, domains=domains, engineers=engineers)


def next_reply(case: Case, now) -> dict:
    """Who owes the next reply and since when, and the time left on what support owes:
    what the queue and the case page show about it."""
    info = {"who": case.waiting_on, "since": case.waiting_since, "due": case.next_response_due_at}
    if not case.is_open:
        info["label"] = "closed"
    elif case.waiting_on == Case.WaitingOn.SUPPORT:
        info["label"] = "customer_replied" if case.first_response_at else "new"
    elif case.state in WAITING_ON_CUSTOMER:
        info["label"] = "waiting_on_customer"
    else:
        info["label"] = "support_replied"
    if case.next_response_due_at is not None:
        info["left"] = case.next_response_due_at - now
        info["breached"] = case.next_response_due_at <= now
    return info


@support_required
@require_GET
def queue(request):
    """The queue: every filter in the query string, one keyset page in the chosen order,
    and (second request, htmx) the bounded counts of every filter value."""
    engineers = _engineers()
    form = _queue_form(request, engineers)
    valid = form.is_valid() if form.is_bound else True
    status = 200 if valid else 400
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "query_string": query.urlencode(),
        "engineers": engineers,
        "saved_views": list(saved_views_for(request.user)),
        "bulk_form": BulkForm(),
        "support_states": Case.State.choices,
        "priorities": Case.Priority.values,
        "count_cap": FACET_CAP,
    }
    if not valid:
        context["page"] = None
        context["rows"] = []
        return render(request, "support/queue.html", context, status=status)
    filters = form.filters(default_open=True) if form.is_bound else QueueFilterForm.default_filters()
    sort = (form.cleaned_data.get("sort") if form.is_bound else "") or "due"
    page = support_queue_page(
        support_queue(request.user, filters), sort=sort, cursor=request.GET.get("cursor"), size=QUEUE_PAGE
    )
    now = timezone.now()
    context.update(
        page=page,
        sort=sort,
        rows=[(case, next_reply(case, now)) for case in page.rows],
        default_view=not form.is_bound,
    )
    response = render(request, "support/queue.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@support_required
@require_GET
def queue_counts(request):
    """htmx: how many cases each filter value shows together with the other filters
    (bounded); a separate request so that the queue is on screen without waiting."""
    engineers = _engineers()
    form = _queue_form(request, engineers)
    if form.is_bound and not form.is_valid():
        return render(request, "support/_counts.html", {"counts": None}, status=400)
    filters = form.filters(default_open=True) if form.is_bound else QueueFilterForm.default_filters()
    counts = support_queue_counts(request.user, filters)
    base = request.GET.copy()
    base.pop("cursor", None)

    def link(name: str, value: str) -> str:
        query = base.copy()
        query.setlist(name, [value])
        return "?" + query.urlencode()

    groups = [
        (_("Status"), "state", [(v, str(Case.State(v).label)) for v in Case.State.values]),
        (_("Severity"), "priority", [(v, v) for v in Case.Priority.values]),
        (_("Support tier"), "tier", [(v, str(label)) for v, label in form.fields["tier"].choices]),
        (_("Assigned to"), "assignee", [("me", _("Me")), ("nobody", _("Nobody (unassigned)"))]),
        (_("Escalated"), "escalated", [("true", _("Escalated"))]),
        (_("Awaiting support"), "awaiting", [("support", _("Awaiting support"))]),
    ]
    facets = [
        (title, [(label, counts.get(name, {}).get(value, 0), link(name, value)) for value, label in values])
        for title, name, values in groups
    ]
    return render(request, "support/_counts.html", {"facets": facets, "count_cap": FACET_CAP})


@support_required
@require_POST
def bulk(request):
    """Apply one action to the selected cases, each through its service on its own; the
    page lists the result of every case."""
    form = BulkForm(request.POST)
    back = reverse("support:queue") + (
        "?" + request.POST.get("query", "") if request.POST.get("query") else ""
    )
    ids = [int(v) for v in request.POST.getlist("cases") if v.isdigit()]
    if not form.is_valid():
        messages.error(request, _("Choose an action."))
        return redirect(back)
    data = form.cleaned_data
    value = {"assign": data["assignee"], "state": data["state"], "priority": data["priority"]}.get(
        data["action"], ""
    )
    try:
        results = services.case_bulk_update(
            user=request.user, case_ids=ids, action=data["action"], value=value, body=data["note"]
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(back)
    return render(
        request,
        "support/bulk_results.html",
        {
            "results": results,
            "back": back,
            "done": sum(r.ok for r in results),
            "failed": sum(not r.ok for r in results),
        },
    )


@support_required
@require_POST
def saved_view_save(request):
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("cursor", None)
    try:
        view = services.saved_view_save(
            user=request.user, name=request.POST.get("name", ""), query=query.urlencode()
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(reverse("support:queue") + ("?" + query.urlencode() if query else ""))
    messages.success(request, _("The view “%(name)s” is saved.") % {"name": view.name})
    return redirect(reverse("support:queue") + ("?" + view.query if view.query else ""))


@support_required
@require_POST
def saved_view_delete(request, view_id):
    try:
        services.saved_view_delete(user=request.user, view_id=view_id)
    except DomainError:
        raise Http404 from None
    messages.success(request, _("The view was deleted."))
    return redirect("support:queue")


# --------------------------------------------------------------------------- the case page


def support_case_context(request, case: Case, *, form: SupportUpdateForm | None = None) -> dict:
    """What the case page adds for a support engineer."""
    engineers = _engineers()
    states = next_states(current=case.state, side=Side.SUPPORT)
    return {
        "support_form": form or SupportUpdateForm(case=case, states=states, engineers=engineers),
        "canned_replies": canned_replies_for_case(user=request.user, case=case),
        "next_reply": next_reply(case, timezone.now()),
    }


@support_required
@require_POST
def case_update(request, number):
    """The one support form: reply (or note) + status + severity + assignee in one
    submit, one group of events."""
    from cases.views import _case_or_404, case_page_context

    case = _case_or_404(request, number)
    engineers = _engineers()
    states = next_states(current=case.state, side=Side.SUPPORT)
    form = SupportUpdateForm(request.POST, case=case, states=states, engineers=engineers)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignee = services.support_assignee(email_or_id=data["assignee"])
            services.case_support_update(
                user=request.user,
                case=case,
                body=data["body"],
                internal=data["internal"],
                state=data["state"],
                priority=data["priority"],
                assignee=assignee,
                expected_version=data["version"],
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_error(None, str(error.message))
            status = error.status
        else:
            messages.success(
                request, _("Note saved.") if data["internal"] and data["body"].strip() else _("Case updated.")
            )
            return redirect("cases:detail", number=case.number)
    for error in form.non_field_errors():
        messages.error(request, error)
    case = _case_or_404(request, number)
    context = case_page_context(request, case)
    context.update(support_case_context(request, case, form=form))
    return render(request, "cases/detail.html", context, status=status)


# --------------------------------------------------------------------------- canned replies


@support_required
def canned_replies(request, reply_id=None):
    """The team's canned replies; support leads add, edit and delete them."""
    user = request.user
    editing = None
    if reply_id is not None:
        editing = canned_replies_for(user).filter(pk=reply_id).first()
        if editing is None:
            raise Http404
    data = {"title": "", "language": Language.EN, "body": ""}
    if editing is not None:
        data = {"title": editing.title, "language": editing.language, "body": editing.body}
    status = 200
    error = ""
    if request.method == "POST":
        data = {key: request.POST.get(key, "") for key in ("title", "language", "body")}
        try:
            if request.POST.get("delete") and editing is not None:
                services.canned_reply_delete(user=user, reply_id=editing.pk)
                messages.success(request, _("The canned reply was deleted."))
            else:
                services.canned_reply_save(user=user, reply_id=editing.pk if editing else None, **data)
                messages.success(request, _("The canned reply is saved."))
        except DomainError as failure:
            error, status = str(failure.message), failure.status
        else:
            return redirect("support:canned")
    context = {
        "replies": list(canned_replies_for(user)),
        "editing": editing,
        "data": data,
        "error": error,
        "languages": Language.choices,
        "is_lead": user.is_support_lead,
    }
    return render(request, "support/canned.html", context, status=status)
