"""Reads about cases. `case_visible_to` is the one gate (R10): lists, details, search,
exports, the API, downloads, htmx fragments and mail recipients all start from it, and
children (comments, attachments) are reached through it."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.postgres.search import SearchQuery
from django.core import signing
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case as DbCase
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import Domain, Privilege, User
from accounts.selectors import user_has_privilege
from cases.lifecycle import FIRST_RESPONSE_HOURS
from cases.models import Attachment, Case, Comment
from customers.models import AccessGrant, Relationship
from customers.selectors import relationship_active_for, reseller_can_use_portal


def reseller_can_access_cases(user: User) -> bool:
    """R2: filing, viewing and updating customer cases needs SUPPORT and
    RESELLER_ACCESS_CUSTOMER_CASES."""
    return reseller_can_use_portal(user) and user_has_privilege(
        user, Privilege.RESELLER_ACCESS_CUSTOMER_CASES
    )


def case_visible_to(user: User) -> QuerySet[Case]:
    """The cases a user may see.

    - support engineers: every case;
    - customer users: every case of their own customer while it has portal access,
      delegated ones included (R6);
    - reseller users with case access, for the domain D of the account in use (R1, R2):
      consent is on for D (R3), D has an active relationship with the customer, and
      either D managed the customer when the case was filed (R4) or D is a support
      partner whose partnership was already active when the case was filed (R5).

    Subscribers gain nothing here: sharing is not access (R7).
    """
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    kind = user.domain.kind
    if kind == Domain.Kind.SUPPORT:
        return Case.objects.all()
    if kind == Domain.Kind.CUSTOMER:
        return Case.objects.filter(customer__primary_domain_id=user.domain_id, customer__portal_access=True)
    if not reseller_can_access_cases(user):
        return Case.objects.none()
    domain_id = user.domain_id
    active = relationship_active_for(domain_id=domain_id).filter(customer_id=OuterRef("customer_id"))
    consent = AccessGrant.objects.filter(
        reseller_domain_id=domain_id, customer_id=OuterRef("customer_id"), support_cases=True
    )
    partnership_covers_case = active.filter(
        kind=Relationship.Kind.SUPPORT_PARTNER, started_at__lte=OuterRef("created_at")
    )
    # consent ∧ ((managed ∧ active) ∨ partnership), written as consent ∧ active ∧
    # (managed ∨ partnership): the same set, since a covering partnership is an active
    # relationship. With both EXISTS at the top, PostgreSQL probes them per customer
    # (semi-joins) instead of hashing every relationship of the domain on each query
    # (docs/performance.md).
    return Case.objects.filter(
        Exists(consent),
        Exists(active),
        Q(managing_domain_id=domain_id) | Exists(partnership_covers_case),
    )


def comment_visible_to(user: User) -> QuerySet[Comment]:
    return Comment.objects.filter(case__in=case_visible_to(user))


def attachment_visible_to(user: User) -> QuerySet[Attachment]:
    return Attachment.objects.filter(case__in=case_visible_to(user))


def case_get_for_user(*, user: User, number: int) -> Case:
    """One case by its public number, or Case.DoesNotExist — the same for a case that does
    not exist and one the user may not see (R9)."""
    # Two queries: the visibility check alone, then the case with its six relations by
    # primary key. As one query PostgreSQL spent 4-8 ms planning the nine-table join,
    # twenty times what running it took (docs/performance.md).
    pk = case_visible_to(user).filter(number=number).values_list("pk", flat=True).get()
    return Case.objects.select_related(
        "customer", "classification", "managing_domain", "creator", "assignee", "follow_up_of"
    ).get(pk=pk)


# --------------------------------------------------------------------------- lists and search

STATE_COUNT_CAP = 1000
OPEN = "OPEN"  # the list filter's name for every state but CLOSED


def case_search_query(text: str) -> SearchQuery | None:
    """A prefix query over the words of `text` (all must match): "mail delay" finds
    "mailbox delayed", and Korean words match with particles attached ("메일" finds
    "메일이"). Only word characters reach the query, so no input can break its syntax."""
    words = re.findall(r"\w+", text or "")[:12]
    if not words:
        return None
    return SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="simple")


def case_keyword_filter(queryset: QuerySet[Case], text: str) -> QuerySet[Case]:
    """Keyword search: PostgreSQL full-text search over title, description and comments
    (or the case number itself); a plain substring match on the SQLite demo database."""
    text = (text or "").strip()
    if not text:
        return queryset
    number = Q(number=int(text)) if text.isdigit() and len(text) < 18 else Q(pk__in=[])
    if connection.vendor != "postgresql":
        return queryset.filter(number | Q(title__icontains=text) | Q(description__icontains=text))
    query = case_search_query(text)
    if query is None:
        return queryset.filter(number)
    return queryset.filter(number | Q(search_vector=query))


def case_state_counts(queryset: QuerySet[Case]) -> dict[str, int]:
    """How many cases of `queryset` are in each state, each count capped at
    STATE_COUNT_CAP + 1 so that a page never counts all of a big domain's cases.

    On PostgreSQL the five bounded counts are one query, the same subquery run once per
    state: PostgreSQL then builds the visibility hash (the domain's customers) once
    instead of five times (docs/performance.md). Not for keyword searches: there the
    search index leads, and a plan made for "some state" instead of each state is worse
    than five small queries."""
    states = Case.State.values

    def one_by_one() -> dict[str, int]:
        return {
            state: queryset.filter(state=state).order_by()[: STATE_COUNT_CAP + 1].count() for state in states
        }

    if connection.vendor != "postgresql":
        return one_by_one()
    marker = "\x00state"
    bounded = queryset.filter(state=marker).order_by().values("pk")[: STATE_COUNT_CAP + 1]
    try:
        sql, params = bounded.query.sql_with_params()
    except EmptyResultSet:  # queryset.none()
        return dict.fromkeys(states, 0)
    if " @@ " in sql:
        return one_by_one()
    # Put the outer state in place of the marker's placeholder.
    inner, inner_params, index, replaced = [], [], 0, 0
    for piece in re.split(r"(%%|%s)", sql):
        if piece == "%s":
            if params[index] == marker:
                piece, replaced = "states.state", replaced + 1
            else:
                inner_params.append(params[index])
            index += 1
        inner.append(piece)
    if replaced != 1:  # a query shape this does not know: count the plain way
        return one_by_one()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT states.state, (SELECT count(*) FROM ({''.join(inner)}) AS bounded) "
            "FROM unnest(%s::varchar[]) AS states(state)",
            [*inner_params, states],
        )
        counts = dict(cursor.fetchall())
    return {state: counts[state] for state in states}


@dataclass(frozen=True)
class CasePage:
    rows: list[Case]
    next_cursor: str | None
    previous_cursor: str | None


_cursor_signer = signing.Signer(salt="cases.list.cursor")

# The orders a case list offers (issue 12): the key column and how its cursor value reads
# back. Each is a keyset over (key, id), in both directions, with an index per key
# (cases/migrations/*_i12_case_sort_indexes.py), so page 1,000 costs what page 1 costs.
SORT_KEYS: dict[str, tuple[str, type]] = {
    "updated": ("updated_at", datetime),
    "created": ("created_at", datetime),
    "severity": ("priority", str),
    "customer": ("customer__name", str),
    "number": ("number", int),
}
DEFAULT_SORT = "-updated"
SORTS = tuple(f"{sign}{key}" for key in SORT_KEYS for sign in ("-", ""))


def _sort_value(case: Case, field: str):
    value = case
    for part in field.split("__"):
        value = getattr(value, part)
    return value


def _encode_cursor(case: Case, direction: str, sort: str = DEFAULT_SORT) -> str:
    field, kind = SORT_KEYS[sort.lstrip("-")]
    value = _sort_value(case, field)
    text = value.isoformat() if kind is datetime else str(value)
    return _cursor_signer.sign("|".join([sort, direction, str(case.pk), text]))


def _decode_cursor(cursor: str, sort: str = DEFAULT_SORT) -> tuple[str, object, int] | None:
    """(direction, key value, id), or None for a cursor that does not verify or was made
    for another order (the list then starts at its first page)."""
    try:
        cursor_sort, direction, pk, text = _cursor_signer.unsign(cursor).split("|", 3)
        if cursor_sort != sort or direction not in ("next", "previous"):
            return None
        kind = SORT_KEYS[sort.lstrip("-")][1]
        value = datetime.fromisoformat(text) if kind is datetime else kind(text)
        return direction, value, int(pk)
    except (signing.BadSignature, ValueError, KeyError):
        return None


def _older_than(when: datetime, pk: int) -> Q:
    """(updated_at, id) < (when, pk). The redundant `updated_at <= when` is what lets
    PostgreSQL start the index scan at the cursor instead of walking every newer row to
    it (page 1,000 read 25,000 rows before; docs/performance.md)."""
    return _beyond("updated_at", when, pk, descending=True)


def _beyond(field: str, value, pk: int, *, descending: bool) -> Q:
    """The rows after (value, pk) in the order (field, id), descending or ascending;
    index-friendly like `_older_than` (the redundant bound starts the index scan)."""
    if descending:
        return Q(**{f"{field}__lte": value}) & (
            Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk})
        )
    return Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}))


def case_page(
    queryset: QuerySet[Case], *, cursor: str | None, size: int, sort: str = DEFAULT_SORT
) -> CasePage:
    """One page of `queryset` in the order `sort` ("-updated", "customer", … see SORTS),
    by keyset (key, id): page 1,000 costs what page 1 costs, and rows do not shift while
    new cases arrive. A cursor that does not verify, or was made for another order,
    starts from the first page."""
    if sort not in SORTS:
        sort = DEFAULT_SORT
    descending = sort.startswith("-")
    field = SORT_KEYS[sort.lstrip("-")][0]
    decoded = _decode_cursor(cursor, sort) if cursor else None
    # The search vector (a kilobyte a case) is for the WHERE clause, never for showing.
    queryset = queryset.defer("search_vector")

    def ordered(desc: bool):
        return queryset.order_by(f"-{field}", "-id") if desc else queryset.order_by(field, "id")

    forward = ordered(descending)
    if decoded is None:
        rows = list(forward[: size + 1])
        has_more, rows = len(rows) > size, rows[:size]
        return CasePage(rows, _encode_cursor(rows[-1], "next", sort) if has_more else None, None)
    direction, value, pk = decoded
    if direction == "next":
        rows = list(forward.filter(_beyond(field, value, pk, descending=descending))[: size + 1])
        has_more, rows = len(rows) > size, rows[:size]
        return CasePage(
            rows,
            _encode_cursor(rows[-1], "next", sort) if has_more and rows else None,
            _encode_cursor(rows[0], "previous", sort) if rows else None,
        )
    backward = ordered(not descending)
    rows = list(backward.filter(_beyond(field, value, pk, descending=not descending))[: size + 1])
    has_more, rows = len(rows) > size, rows[:size]
    rows.reverse()
    return CasePage(
        rows,
        _encode_cursor(rows[-1], "next", sort) if rows else None,
        _encode_cursor(rows[0], "previous", sort) if has_more and rows else None,
    )


def case_iter_for_export(queryset: QuerySet[Case], *, chunk: int = 2000) -> Iterator[Case]:
    """Every case of `queryset` in list order, fetched in keyset chunks so that memory
    stays flat and no query uses OFFSET."""
    ordered = queryset.defer("search_vector").order_by("-updated_at", "-id")
    last: Case | None = None
    while True:
        batch_qs = ordered
        if last is not None:
            batch_qs = ordered.filter(_older_than(last.updated_at, last.pk))
        batch = list(batch_qs[:chunk])
        yield from batch
        if len(batch) < chunk:
            return
        last = batch[-1]


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "comment", "attachment" or "event"
    at: datetime
    item: object


# Events that the timeline shows through their own rows (the comment, the attachment).
_SHOWN_ELSEWHERE = {"COMMENTED", "ATTACHMENT_ADDED"}


def case_timeline(case: Case) -> list[TimelineEntry]:
    """Messages, attachments and changes of one (already authorised) case, oldest first,
    in three queries whatever the case's size."""
    people = ("full_name", "email")  # what `display_name` reads
    # `case` stays: the related manager reads it on every row to attach the case.
    comments = case.comments.select_related("author").only(
        "case", "body", "created_at", "from_support", "author_email", *(f"author__{f}" for f in people)
    )
    events = (
        case.events.exclude(kind__in=_SHOWN_ELSEWHERE)
        .select_related("actor")
        .only(
            "case",
            "kind",
            "field",
            "before",
            "after",
            "created_at",
            "actor_email",
            *(f"actor__{f}" for f in people),
        )
    )
    entries = [TimelineEntry("comment", c.created_at, c) for c in comments]
    entries += [
        TimelineEntry("attachment", a.created_at, a) for a in case.attachments.select_related("uploader")
    ]
    entries += [TimelineEntry("event", e.created_at, e) for e in events]
    entries.sort(key=lambda entry: (entry.at, entry.kind != "event"))
    return entries


def first_response_due_expression():
    """The first-response target of each row, in SQL, from the tier × priority table."""
    whens = [
        When(customer__support_tier=tier, priority=priority, then=Value(timedelta(hours=hours)))
        for tier, by_priority in FIRST_RESPONSE_HOURS.items()
        for priority, hours in by_priority.items()
    ]
    target = DbCase(*whens, default=Value(timedelta(hours=24)), output_field=DurationField())
    return ExpressionWrapper(F("created_at") + target, output_field=DateTimeField())


QUEUE_SCOPES = ("open", "unassigned", "mine", "breached", "all")


def support_queue(user: User, *, scope: str = "open") -> QuerySet[Case]:
    """The support team's queue: every non-test case, unassigned first, then the most
    urgent first-response target first. Only support engineers get rows."""
    if user.domain.kind != Domain.Kind.SUPPORT:
        return Case.objects.none()
    queue = (
        case_visible_to(user)
        .filter(is_test=False)
        .annotate(
            first_response_due=first_response_due_expression(),
            unassigned_first=DbCase(When(assignee__isnull=True, then=Value(0)), default=Value(1)),
            waiting_first=DbCase(When(first_response_at__isnull=True, then=Value(0)), default=Value(1)),
        )
        .select_related("customer", "assignee", "classification")
    )
    if scope != "all":
        queue = queue.exclude(state=Case.State.CLOSED)
    if scope == "unassigned":
        queue = queue.filter(assignee__isnull=True)
    elif scope == "mine":
        queue = queue.filter(assignee=user)
    elif scope == "breached":
        queue = queue.filter(first_response_at__isnull=True, first_response_due__lt=timezone.now())
    return queue.order_by("unassigned_first", "waiting_first", "first_response_due", "id")
