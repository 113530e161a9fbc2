"""Case pages: My cases, the CSV export, create, the case page and its actions, and the
attachment download. Every read starts from `case_visible_to`; every write is a service."""

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.utils import ErrorDict
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Domain, Privilege
from accounts.selectors import user_has_privilege
from cases import services
from cases.exports import export_filename, export_is_large, export_params, export_queryset, export_stream
from cases.filters import CUSTOMER_OPTIONS, CaseFilter
from cases.forms import (
    MAX_FILES_PER_SUBMIT,
    SEVERITY_MEANINGS,
    CaseCreateForm,
    CommentForm,
    DeleteAttachmentForm,
    EscalateForm,
    OptionallyVersionedForm,
    SeverityForm,
    ShareForm,
    StateForm,
)
from cases.lifecycle import Side, case_is_locked, first_response_due, next_states, reopen_deadline
from cases.models import Case, Classification
from cases.pii import pii_findings, pii_labels
from cases.selectors import (
    STATE_COUNT_CAP,
    case_get_for_user,
    case_page,
    case_state_counts,
    case_timeline,
    case_visible_to,
    pending_uploads_of,
    reseller_can_access_cases,
)
from cases.support_views import support_case_context
from cases.uploads import upload_refusals
from customers.selectors import (
    customer_access_off_since,
    customer_list_with_consent,
    customer_search,
    customer_visible_to,
)
from jobs.models import Job
from jobs.services import job_start
from portal.errors import DomainError
from portal.validation import parse_id

PAGE_SIZE = 25
# What a case list's rows show (cases/templatetags/case_tags.py: case_rows): reading only
# these halves the list query and skips decoding every case's description and answers.
LIST_COLUMNS = (
    "number",
    "title",
    "priority",
    "state",
    "updated_at",
    "escalated_at",
    "customer__name",
    "classification__display_name",
    "classification__display_name_ko",
)


# --------------------------------------------------------------------------- access


def refuse_missing_privileges(request, missing: list[str]) -> HttpResponse:
    """R2: say what is missing and whom to ask."""
    labels = [str(Privilege(p).label) for p in missing]
    return render(request, "403_privileges.html", {"missing": labels}, status=403)


def case_access_required(view):
    """Signed in, and allowed to work with cases at all: support engineers, customer users
    whose customer has portal access, reseller users with SUPPORT and case access."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        kind = user.domain.kind
        if kind == Domain.Kind.RESELLER and not reseller_can_access_cases(user):
            missing = [
                p
                for p in (Privilege.SUPPORT, Privilege.RESELLER_ACCESS_CUSTOMER_CASES)
                if not user_has_privilege(user, p)
            ]
            return refuse_missing_privileges(request, missing)
        if kind == Domain.Kind.CUSTOMER and not customer_visible_to(user).exists():
            return render(request, "403_privileges.html", {"portal_off": True}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _case_or_404(request, number) -> Case:
    number = parse_id(number)
    if number is None:
        raise Http404
    try:
        return case_get_for_user(user=request.user, number=number)
    except Case.DoesNotExist:
        raise Http404 from None


# --------------------------------------------------------------------------- files on forms


def collect_uploads(request, field: str) -> tuple[list, list[str], bool]:
    """Files survive a form that comes back. Every file chosen on this post is checked and
    kept as a pending upload of the user at once; files kept on an earlier round come back
    by their ids (hidden `pending` inputs); `remove_pending` drops one. Returns the pending
    uploads, the problems to show at the file field, and whether the post only removed a
    file (then nothing else is done with it)."""
    user = request.user
    problems = upload_refusals(request)
    ids = list(dict.fromkeys(request.POST.getlist("pending")))[: MAX_FILES_PER_SUBMIT * 2]
    remove = request.POST.get("remove_pending", "")
    removed = bool(remove)
    if remove:
        ids = [i for i in ids if i != remove]
        try:
            services.pending_upload_discard(user=user, upload_id=remove)
        except DomainError:
            pass  # already gone: the form comes back without it either way
    kept = []
    if ids:
        valid_ids = [i for i in ids if _is_uuid(i)]
        by_id = {str(p.pk): p for p in pending_uploads_of(user).filter(pk__in=valid_ids)}
        kept = [by_id[i] for i in ids if i in by_id]
        if len(kept) != len(ids):
            problems.append(
                _("A file you attached earlier is no longer available (files wait one day). Attach it again.")
            )
    for file in request.FILES.getlist(field):
        if len(kept) >= MAX_FILES_PER_SUBMIT:
            problems.append(_("Attach at most %(n)d files at a time.") % {"n": MAX_FILES_PER_SUBMIT})
            break
        try:
            kept.append(services.pending_upload_create(user=user, file=file, filename=file.name))
        except DomainError as error:
            problems.append(str(error.message))
    return kept, problems, removed


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _without_errors(form):
    """A bound form shown again mid-edit (a file was removed): its typed values, no errors."""
    form.is_valid()
    form._errors = ErrorDict()
    return form


# --------------------------------------------------------------------------- lists


STATE_TABS = "state-tabs"  # the id of the state tabs, whose counts come as their own request


def case_list_context(request, base_queryset, *, customers=None) -> dict:
    """What every case list shows (My cases, one customer's cases, the customer portal):
    the filters from the query string and one keyset page, or, when the state tabs ask
    for them (htmx, target `state-tabs`), the bounded counts per state instead. The
    counts come second so that the list is on screen without waiting for them
    (docs/performance.md)."""
    case_filter = CaseFilter(request.GET or None, queryset=base_queryset, customers=customers)
    query = request.GET.copy()
    query.pop("cursor", None)
    selected_states = request.GET.getlist("state")
    context = {
        # The tab of the state shown alone, or "" for All (aria-current).
        "selected_state": selected_states[0]
        if len(selected_states) == 1
        else ("" if not selected_states else None),
        "filter": case_filter,
        "query_string": query.urlencode(),
        "filters_active": bool(query),
    }
    if request.htmx.target == STATE_TABS:
        query.pop("state", None)
        if query:
            counts_filter = CaseFilter(query, queryset=base_queryset, customers=customers)
            counts_qs = counts_filter.qs if counts_filter.is_valid() else base_queryset.none()
        else:
            counts_qs = base_queryset
        counts = case_state_counts(counts_qs)
        context["state_tabs"] = [(Case.State(state), count) for state, count in counts.items()]
        context["count_cap"] = STATE_COUNT_CAP
        # The total, bounded like the counts it adds up: never a count of the whole table.
        context["total"] = sum(counts.values())
        context["total_capped"] = any(count > STATE_COUNT_CAP for count in counts.values())
        return context
    if case_filter.is_bound and not case_filter.is_valid():
        filtered = base_queryset.none()
    else:
        filtered = case_filter.qs
    context["page"] = case_page(
        filtered.select_related("customer", "classification").only(*LIST_COLUMNS),
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
        sort=case_filter.order,
    )
    context["sort"] = case_filter.order
    context["state_tabs"] = [(state, None) for state in Case.State]
    return context


def _render_list(request, template: str, context: dict) -> HttpResponse:
    status = 400 if context["filter"].is_bound and context["filter"].errors else 200
    if request.htmx.target == STATE_TABS:
        template = "cases/_state_tabs.html"
    elif request.htmx.target == "case-results":
        template = "cases/_results.html"
    response = render(request, template, context, status=status)
    # One address answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@case_access_required
@require_GET
def case_list(request):
    """My cases: every case the active domain may see, newest update first."""
    customers = customer_visible_to(request.user).order_by("name").only("name")  # the filter shows names
    context = case_list_context(request, case_visible_to(request.user), customers=customers)
    chosen = parse_id(request.GET.get("customer"))
    if chosen is not None and request.user.domain.kind == Domain.Kind.RESELLER and "page" in context:
        # Filtered to a customer that turned access off: say so, not "no case matches".
        off_at = customer_access_off_since(customer_id=chosen, domain_id=request.user.domain_id)
        if off_at is not None:
            context["access_off_customer"] = customers.filter(pk=chosen).first()
            context["access_off_at"] = off_at
    context["export_url"] = reverse("cases:export") + (
        "?" + context["query_string"] if context["query_string"] else ""
    )
    return _render_list(request, "cases/list.html", context)


@case_access_required
@require_GET
def customer_options(request):
    """htmx: the customer filter's <option>s for the customers (that the user may see)
    whose name or domain contains the text typed."""
    text = request.GET.get("customer_q", "").strip()[:100]
    customers = customer_search(customer_visible_to(request.user), text).order_by("name", "pk")
    return render(request, "cases/_customer_options.html", {"customers": customers[:CUSTOMER_OPTIONS]})


@case_access_required
@require_GET
def case_export(request):
    """The filtered My cases list as CSV. Up to EXPORT_STREAM_MAX_ROWS rows (a count
    bounded at that) it streams; above, the filters and the user are captured now and a
    background job writes the file, and the user is sent to its progress page (a reload
    of this address within a few minutes returns the same job)."""
    queryset = export_queryset(user=request.user, params=request.GET)
    if queryset is None:
        return HttpResponse(
            _("The filters are not valid."), status=400, content_type="text/plain; charset=utf-8"
        )
    if export_is_large(queryset):
        job = job_start(user=request.user, kind=Job.Kind.CASE_EXPORT, params=export_params(request.GET))
        return redirect("jobs:detail", job_id=job.pk)
    response = StreamingHttpResponse(
        export_stream(user=request.user, queryset=queryset), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(request.user)}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- create


@case_access_required
def case_create(request):
    """Create support case: pick the customer, then the rest of the form appears."""
    user = request.user
    if user.domain.kind == Domain.Kind.SUPPORT:
        raise Http404
    customers = customer_list_with_consent(user).order_by("name")
    follow_up = None
    follow_up_number = request.GET.get("follow_up") or request.POST.get("follow_up_of")
    if follow_up_number:
        follow_up = _case_or_404(request, follow_up_number)
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    if follow_up is not None:
        customer_id = follow_up.customer_id
    if user.domain.kind == Domain.Kind.CUSTOMER:
        customer_id = customers.values_list("pk", flat=True).first()
    customer = None
    if customer_id:
        if parse_id(customer_id) is None:
            raise Http404
        customer = customers.filter(pk=parse_id(customer_id)).first()
        if customer is None:
            raise Http404
    if customer is None:
        query = request.GET.get("customer_q", "")
        matches = customer_search(customers, query)[:20]
        template = "cases/_customer_results.html" if request.htmx else "cases/create_choose_customer.html"
        return render(request, template, {"customers": matches, "customer_q": query})

    language = request.LANGUAGE_CODE
    initial = {
        "language": user.language
        if user.language in dict(CaseCreateForm.base_fields["language"].choices)
        else "en",
        "time_zone": user.time_zone,
        "request_key": uuid.uuid4().hex,
    }
    if follow_up is not None:
        initial.update(
            classification=follow_up.classification_id,
            title=_("Follow-up to case %(number)s: %(title)s")
            % {"number": follow_up.number, "title": follow_up.title},
            description=_("This case follows up on case %(number)s, which is closed and locked.\n\n")
            % {"number": follow_up.number},
            follow_up_of=follow_up.number,
            priority=follow_up.priority,
        )
    disabled = not customer.can_file
    status = 200
    pii = []
    pending = []
    if request.method == "POST" and not disabled:
        pending, problems, removed = collect_uploads(request, "attachments")
        form = CaseCreateForm(request.POST, language=language)
        if removed:
            _without_errors(form)
        elif form.is_valid() and not problems:
            pii = pii_findings(form.text_for_pii_check())
            if pii and not form.cleaned_data["pii_confirmed"]:
                status = 400
            else:
                try:
                    case = services.case_create_with_attachments(
                        user=user,
                        customer=customer,
                        classification=form.classification,
                        title=form.cleaned_data["title"],
                        description=form.cleaned_data["description"],
                        answers=form.answers(),
                        priority=form.cleaned_data["priority"],
                        language=form.cleaned_data["language"],
                        time_zone=form.cleaned_data["time_zone"],
                        request_key=form.cleaned_data["request_key"],
                        follow_up_of=follow_up,
                        pending=[str(p.pk) for p in pending],
                    )
                except DomainError as error:
                    form.add_error(None, str(error.message))
                    status = error.status
                else:
                    messages.success(
                        request,
                        _("Case %(number)s was filed. It is at the top of My cases now.")
                        % {"number": case.number},
                    )
                    return redirect("cases:detail", number=case.number)
        else:
            for problem in problems:
                form.add_error("attachments", problem)
            status = 400
    elif request.method == "POST":
        # A forged post for a customer whose consent is off (R3): the service refuses too.
        try:
            services.case_can_file_for(user=user, customer=customer)
        except DomainError as error:
            messages.error(request, str(error.message))
            status = error.status
        form = CaseCreateForm(initial=initial, language=language, disabled=True)
    else:
        form = CaseCreateForm(initial=initial, language=language, disabled=disabled)
    context = {
        "form": form,
        "customer": customer,
        "disabled": disabled,
        "follow_up": follow_up,
        "severity_meanings": SEVERITY_MEANINGS,
        "pii": pii_labels(pii),
        "pending": pending,
        "max_upload": settings.ATTACHMENT_MAX_BYTES,
        "can_change_customer": user.domain.kind == Domain.Kind.RESELLER and follow_up is None,
    }
    return render(request, "cases/create.html", context, status=status)


@case_access_required
@require_GET
def classification_options(request):
    """htmx: the category <option>s whose name contains a keyword."""
    text = request.GET.get("category_q", "").strip()[:100]
    language = request.LANGUAGE_CODE
    leaves = Classification.objects.filter(is_leaf=True).order_by("display_name")
    if text:
        leaves = [
            leaf
            for leaf in leaves
            if text.lower() in leaf.display_name.lower() or text in leaf.display_name_ko
        ]
    return render(request, "cases/_classification_options.html", {"leaves": leaves, "language": language})


@case_access_required
@require_GET
def classification_questions(request):
    """htmx: the guided questions of the chosen category."""
    form = CaseCreateForm(
        initial={"classification": request.GET.get("classification")}, language=request.LANGUAGE_CODE
    )
    return render(request, "cases/_questions.html", {"form": form})


# --------------------------------------------------------------------------- the case page


def case_page_context(request, case: Case) -> dict:
    user = request.user
    side = services.side_of(user)
    now = timezone.now()
    locked = case_is_locked(case, now=now)
    deadline = reopen_deadline(case)
    due = first_response_due(
        created_at=case.created_at, tier=case.customer.support_tier, priority=case.priority
    )
    support_states = next_states(current=case.state, side=Side.SUPPORT) if side == Side.SUPPORT else []
    return {
        "case": case,
        "timeline": case_timeline(case, user=user),
        "subscribers": list(case.subscribers.all()),
        "side": str(side),
        "is_support": side == Side.SUPPORT,
        "locked": locked,
        "reopen_deadline": deadline,
        "reopen_days": settings.CASE_REOPEN_DAYS,
        "reopen_time_left": deadline - now if deadline and not locked else None,
        "first_response_due": due,
        "first_response_left": due - now if case.first_response_at is None else None,
        "first_response_breached": (case.first_response_at or now) > due,
        "can_escalate": side == Side.CUSTOMER
        and case.customer.support_tier == "PREMIUM"
        and case.is_open
        and not case.is_escalated,
        "severity_choices": [
            (p, p) for p in (Case.Priority.values if side == Side.SUPPORT else SEVERITY_MEANINGS)
        ],
        "severity_meanings": SEVERITY_MEANINGS,
        "support_states": [Case.State(s) for s in support_states],
        "comment_form": CommentForm(),
        "escalate_form": EscalateForm(initial={"version": case.version}),
        "share_form": ShareForm(),
        "max_upload": settings.ATTACHMENT_MAX_BYTES,
    } | (support_case_context(request, case) if side == Side.SUPPORT else {})


@case_access_required
@require_GET
def case_detail(request, number):
    case = _case_or_404(request, number)
    return render(request, "cases/detail.html", case_page_context(request, case))


FORM_CONTEXT_NAMES = {
    "CommentForm": "comment_form",
    "EscalateForm": "escalate_form",
    "ShareForm": "share_form",
}


def _case_action(request, number, form_class, run):
    """POST handler shared by every case action: parse the form, run the service, then
    redirect (success) or show the page again with the message, the typed values and a
    4xx status."""
    case = _case_or_404(request, number)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        for error in errors:
            messages.error(request, error)
        status = 400
    else:
        try:
            success = run(case, form.cleaned_data if form else {})
        except DomainError as error:
            messages.error(request, str(error.message))
            status = error.status
            if status == 404:
                raise Http404 from None
        else:
            messages.success(request, success)
            return redirect("cases:detail", number=case.number)
    case = _case_or_404(request, number)
    context = case_page_context(request, case)
    if form is not None and type(form).__name__ in FORM_CONTEXT_NAMES:
        context[FORM_CONTEXT_NAMES[type(form).__name__]] = form  # typed text comes back
    return render(request, "cases/detail.html", context, status=status)


@case_access_required
@require_POST
def case_change_severity(request, number):
    def run(case, data):
        case = services.case_change_priority(
            user=request.user, case=case, priority=data["priority"], expected_version=data["version"]
        )
        return _("Severity is now %(priority)s.") % {"priority": case.priority}

    return _case_action(request, number, SeverityForm, run)


@case_access_required
@require_POST
def case_close(request, number):
    def run(case, data):
        services.case_close(user=request.user, case=case, expected_version=data.get("version"))
        return _("The case is closed. You can reopen it for %(days)d days.") % {
            "days": settings.CASE_REOPEN_DAYS
        }

    return _case_action(request, number, OptionallyVersionedForm, run)


@case_access_required
@require_POST
def case_reopen(request, number):
    def run(case, data):
        services.case_reopen(user=request.user, case=case, expected_version=data.get("version"))
        return _("The case is open again.")

    return _case_action(request, number, OptionallyVersionedForm, run)


@case_access_required
@require_POST
def case_escalate(request, number):
    def run(case, data):
        services.case_escalate(
            user=request.user,
            case=case,
            reason=data["reason"],
            justification=data["justification"],
            expected_version=data["version"],
        )
        return _("The case is escalated.")

    return _case_action(request, number, EscalateForm, run)


@case_access_required
@require_POST
def case_comment(request, number):
    """Send a message to support (or, from support, to the customer) with files, or files
    alone. A message that comes back keeps its text and its files (as pending uploads)."""
    case = _case_or_404(request, number)
    pending, problems, removed = collect_uploads(request, "files")
    form = CommentForm(request.POST)
    status = 400
    if removed:
        _without_errors(form)
        status = 200
    elif form.is_valid() and not problems:
        try:
            services.case_reply(
                user=request.user,
                case=case,
                body=form.cleaned_data["body"],
                pending=[str(p.pk) for p in pending],
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_error(
                "body" if form.cleaned_data["body"] or not pending else "files", str(error.message)
            )
            status = error.status
        else:
            if form.cleaned_data["body"]:
                text = _("Your message was sent.")
                if pending:
                    text = _("Your message and %(count)d file(s) were sent.") % {"count": len(pending)}
            else:
                text = _("Attached %(count)d file(s).") % {"count": len(pending)}
            messages.success(request, text)
            return redirect("cases:detail", number=case.number)
    else:
        for problem in problems:
            form.add_error("files", problem)
    case = _case_or_404(request, number)
    context = case_page_context(request, case)
    context.update(comment_form=form, pending=pending)
    return render(request, "cases/detail.html", context, status=status)


# The attach-only address of earlier pages: the same handler (a post with files and no text).
case_attach = case_comment


@case_access_required
@require_POST
def case_share(request, number):
    def run(case, data):
        remove = [data["remove"]] if data.get("remove") else []
        services.case_subscribers_set(user=request.user, case=case, add=data["add"], remove=remove)
        return _("Sharing updated.")

    return _case_action(request, number, ShareForm, run)


@case_access_required
@require_POST
def case_set_state(request, number):
    def run(case, data):
        case = services.case_set_state(
            user=request.user, case=case, state=data["state"], expected_version=data["version"]
        )
        return _("Status is now “%(state)s”.") % {"state": Case.State(case.state).label}

    return _case_action(request, number, StateForm, run)


@case_access_required
@require_POST
def case_assign_to_me(request, number):
    def run(case, data):
        services.case_assign(user=request.user, case=case, assignee=request.user)
        return _("The case is assigned to you.")

    return _case_action(request, number, None, run)


@case_access_required
@require_POST
def attachment_delete(request, number, attachment_id):
    def run(case, data):
        services.attachment_delete(
            user=request.user, case=case, attachment_id=attachment_id, reason=data["reason"]
        )
        return _("The attachment was deleted.")

    return _case_action(request, number, DeleteAttachmentForm, run)


@case_access_required
@require_GET
def attachment_download(request, number, attachment_id):
    """The only way to read an uploaded file: through a case the user may see (R9, R10)."""
    case = _case_or_404(request, number)
    attachment = case.attachments.filter(pk=attachment_id, deleted_at__isnull=True).first()
    if attachment is None or not attachment.file:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
