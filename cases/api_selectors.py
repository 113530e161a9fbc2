"""Reads for the Cloud Support API. Every one starts from the visibility gates of
`cases.selectors` and `customers.selectors` (R10); children are reached through their
already-authorised case. Lists are keyset pages with a fixed number of queries."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from cases.api import paging
from cases.api.query import compile_case_filter, compile_classification_query
from cases.models import Attachment, Case, CaseSubscriber, Classification, Comment
from cases.selectors import case_comments_for, case_keyword_filter, case_visible_to
from customers.models import Customer
from customers.selectors import customer_visible_to
from portal.errors import InvalidInput, NotFound
from portal.keyset import keyset_rows

ALL = "-"  # AIP-159: "-" as the parent id reads across every customer the user sees


_ID = re.compile(r"[0-9]{1,18}")


def _id(value: str) -> int:
    """A numeric id from a resource name; NotFound for anything else (R9)."""
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise NotFound()
    return int(value)


@dataclass(frozen=True)
class Page:
    rows: list
    next_page_token: str


def _serialise_key(value) -> str | int:
    return value.isoformat() if isinstance(value, datetime) else value


def _keyset_page(
    queryset: QuerySet,
    *,
    field: str,
    descending: bool,
    size: int,
    token: str | None,
    context: str,
) -> Page:
    """Rows ordered by (field, id), after the row a page token names: the portal's one
    keyset paginator (portal.keyset), so page 100 starts its index scan at the token."""
    key = paging.decode(token, context=context)
    after = None
    if key is not None:
        try:
            last_value, last_id = key
            last_id = int(last_id)
            if field.endswith("_at"):
                last_value = datetime.fromisoformat(last_value)
        except (TypeError, ValueError):
            raise InvalidInput(_("The page token is not valid.")) from None
        after = (last_value, last_id)
    rows, more = keyset_rows(queryset, field=field, descending=descending, size=size, after=after)
    next_token = ""
    if more:
        last = rows[-1]
        next_token = paging.encode([_serialise_key(getattr(last, field)), last.pk], context=context)
    return Page(rows, next_token)


# --------------------------------------------------------------------------- parents


def api_parent_scope(*, user, parent_id: str) -> int | None:
    """The customer id of `organizations/{parent_id}` if the user may use it as a parent,
    None for "-" (every customer the user sees); NotFound otherwise, the same for a
    customer that does not exist and one the user may not see (R9). A customer counts
    when the user sees it or sees any of its cases (an agent may see cases without the
    View-customers privilege)."""
    if parent_id == ALL:
        return None
    customer_id = _id(parent_id)
    if customer_visible_to(user).filter(pk=customer_id).exists():
        return customer_id
    if case_visible_to(user).filter(customer_id=customer_id).exists():
        return customer_id
    raise NotFound()


def api_customer_for_filing(*, user, parent_id: str) -> Customer:
    """The customer a new case is filed for; `case_create` re-checks the filing rules."""
    try:
        return customer_visible_to(user).get(pk=_id(parent_id))
    except Customer.DoesNotExist:
        raise NotFound() from None


# --------------------------------------------------------------------------- cases


def api_cases(*, user, customer_id: int | None) -> QuerySet[Case]:
    """The cases a user sees, under one customer or all, with what a Case resource shows
    fetched in two queries whatever the page size."""
    cases = case_visible_to(user)
    if customer_id is not None:
        cases = cases.filter(customer_id=customer_id)
    return cases.select_related("classification", "creator__domain").prefetch_related(
        Prefetch("subscribers", queryset=CaseSubscriber.objects.order_by("email"), to_attr="api_subscribers")
    )


def api_case_page(
    *, user, customer_id: int | None, text: str, search: bool, size: int, token: str | None
) -> Page:
    """cases.list (`filter`) or cases.search (`query`), newest update first."""
    compiled = compile_case_filter(text, search=search)
    cases = api_cases(user=user, customer_id=customer_id).filter(compiled.q)
    for term in compiled.texts:
        cases = case_keyword_filter(cases, term)
    context = paging.fingerprint("cases.search" if search else "cases.list", customer_id, text or "")
    return _keyset_page(cases, field="updated_at", descending=True, size=size, token=token, context=context)


def api_case_get(*, user, parent_id: str, number: str) -> Case:
    """One case by its resource name; NotFound for a missing and a forbidden one alike."""
    cases = api_cases(user=user, customer_id=None if parent_id == ALL else _id(parent_id))
    try:
        return cases.get(number=_id(number))
    except Case.DoesNotExist:
        raise NotFound() from None


# --------------------------------------------------------------------------- children


def api_comment_page(*, case: Case, user: User, size: int, token: str | None) -> Page:
    """Comments of an authorised case, newest first; internal notes for support only (R11)."""
    comments = case_comments_for(case=case, user=user).select_related("author__domain")
    context = paging.fingerprint("comments.list", case.pk)
    return _keyset_page(
        comments, field="created_at", descending=True, size=size, token=token, context=context
    )


def api_comment_get(*, case: Case, user: User, comment_id: str) -> Comment:
    try:
        return (
            case_comments_for(case=case, user=user).select_related("author__domain").get(pk=_id(comment_id))
        )
    except Comment.DoesNotExist:
        raise NotFound() from None


def _live_attachments(case: Case) -> QuerySet[Attachment]:
    # A deleted attachment keeps its audit row, but its file is gone: the API shows
    # only files that can still be downloaded.
    return case.attachments.filter(deleted_at__isnull=True).select_related("uploader__domain")


def api_attachment_page(*, case: Case, size: int, token: str | None) -> Page:
    context = paging.fingerprint("attachments.list", case.pk)
    return _keyset_page(
        _live_attachments(case), field="created_at", descending=True, size=size, token=token, context=context
    )


def api_attachment_get(*, case: Case, attachment_id: str) -> Attachment:
    try:
        return _live_attachments(case).get(pk=_id(attachment_id))
    except Attachment.DoesNotExist:
        raise NotFound() from None


# --------------------------------------------------------------------------- classifications


def api_classification_page(*, query: str, size: int, token: str | None) -> Page:
    """Leaves of the category tree (what a case can be filed under), by display name."""
    leaves = Classification.objects.filter(is_leaf=True).filter(compile_classification_query(query))
    context = paging.fingerprint("caseClassifications.search", query or "")
    return _keyset_page(
        leaves, field="display_name", descending=False, size=size, token=token, context=context
    )


def api_classification_get(*, classification_id: str) -> Classification:
    try:
        return Classification.objects.get(code=classification_id, is_leaf=True)
    except Classification.DoesNotExist:
        raise InvalidInput(
            _("“%(id)s” is not a classification id. Find one with caseClassifications.search.")
            % {"id": classification_id[:120]}
        ) from None
