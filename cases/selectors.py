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

from accounts.models import Domain, Privilege, User
from accounts.selectors import user_has_privilege
from cases.lifecycle import FIRST_RESPONSE_HOURS
from cases.models import Attachment, CannedReply, Case, CaseRollup, Comment, PendingUpload, SavedQueueView
from customers.models import AccessGrant, Customer, Relationship, SupportTier
from customers.selectors import relationship_active_for, reseller_can_use_portal
from portal.keyset import keyset_iter, keyset_rows


def reseller_can_access_cases(user: User) -> bool:
    """R2: filing, viewing and updating customer cases needs SUPPORT and
    RESELLER_ACCESS_CUSTOMER_CASES."""
    return reseller_can_use_portal(user) and user_has_privilege(
        user, Privilege.RESELLER_ACCESS_CUSTOMER_CASES
    )


def _portal_customer_id(user: User) -> int | None:
    """The customer of a customer user, while it has portal access (R6); read once per
    user object. The lists filter by this id and not through a join: knowing which
    customer, PostgreSQL reads the 26 newest cases of the biggest customer (95,000 cases)
    from the index instead of all of them (2 s; docs/performance.md)."""
    if not hasattr(user, "_portal_customer_id"):
        user._portal_customer_id = (
            Customer.objects.filter(primary_domain_id=user.domain_id, portal_access=True)
            .values_list("pk", flat=True)
            .first()
        )
    return user._portal_customer_id


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
        customer_id = _portal_customer_id(user)
        return Case.objects.none() if customer_id is None else Case.objects.filter(customer_id=customer_id)
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


def sees_internal_notes(user: User) -> bool:
    """R11: internal notes (and anything else support-only) are for the support
    organisation alone."""
    return user.is_authenticated and user.domain.kind == Domain.Kind.SUPPORT


@dataclass(frozen=True)
class RollupScope:
    # The rollup rows the user counts, each with `signed`: its count, or minus its count
    # for a row to take away (sum `signed`).
    rows: QuerySet[CaseRollup]
    covered: QuerySet[Case]  # the visible cases those rows count
    leftover: QuerySet[Case]  # the visible cases they do not count
    minus: QuerySet[CaseRollup] | None = None  # rows to take away (signed < 0)


def case_rollup_visible_to(user: User) -> RollupScope:
    """The dashboard's rollup rows a user counts, the cases they count, and the visible
    cases they do not count (counted directly). `covered` and `leftover` split
    `case_visible_to(user)` exactly, and the rows sum to the facts of `covered` (a
    property-based test checks the dashboard's sums):

    - support engineers: the rows per managing domain (every case); nothing left over;
    - customer users: the rows of their own customer while it has portal access (R6);
    - reseller users with case access, domain D: the rows of D as a whole, minus the rows
      (of D) of the customers D may not see now — no consent or no active relationship
      (R3, R4). Those are found among D's relationships, present and past: a case's
      managing domain is the customer's reseller when it was filed. Cases D sees as a
      support partner (R5) depend on when the partnership began, which the rollup does
      not know: they are the leftover, counted from `case_visible_to` itself, starting
      from the customers D is an active support partner of.
    """
    none = RollupScope(CaseRollup.objects.none(), Case.objects.none(), Case.objects.none())
    if not user.is_authenticated or not user.is_active:
        return none
    kind = user.domain.kind
    if kind == Domain.Kind.SUPPORT:
        rows = CaseRollup.objects.filter(customer__isnull=True).annotate(signed=F("n"))
        return RollupScope(rows, case_visible_to(user), Case.objects.none())
    if kind == Domain.Kind.CUSTOMER:
        rows = CaseRollup.objects.filter(
            customer__primary_domain_id=user.domain_id, customer__portal_access=True
        ).annotate(signed=F("n"))
        return RollupScope(rows, case_visible_to(user), Case.objects.none())
    if not reseller_can_access_cases(user):
        return none
    domain_id = user.domain_id
    active = relationship_active_for(domain_id=domain_id).filter(customer_id=OuterRef("customer_id"))
    consent = AccessGrant.objects.filter(
        reseller_domain_id=domain_id, customer_id=OuterRef("customer_id"), support_cases=True
    )
    hidden_customers = (
        Relationship.objects.filter(reseller_domain_id=domain_id)
        .exclude(Exists(consent) & Exists(active))
        .values("customer_id")
    )
    # Two sets of rows, each read from the index that leads with the domain: the domain's
    # own, and those of the hidden customers to take away. (As one OR, PostgreSQL read
    # every row of the domain.)
    rows = CaseRollup.objects.filter(customer__isnull=True, managing_domain_id=domain_id).annotate(
        signed=F("n")
    )
    # The hidden customers are read first (a few hundred ids): given the list, PostgreSQL
    # looks each one up in the index; given the subquery, it read every row of the domain
    # and probed the subquery 160,000 times (3.6 s).
    hidden = list(hidden_customers.order_by().distinct().values_list("customer_id", flat=True))
    minus = CaseRollup.objects.filter(
        # [0] names no customer; an empty list would skip the query and make the page's
        # query count depend on the data.
        customer_id__in=hidden or [0],
        managing_domain_id=domain_id,
    ).annotate(signed=-F("n"))
    partner_customers = relationship_active_for(domain_id=domain_id).filter(
        kind=Relationship.Kind.SUPPORT_PARTNER
    )
    visible = case_visible_to(user)
    return RollupScope(
        rows,
        minus=minus,
        covered=visible.filter(managing_domain_id=domain_id),
        leftover=visible.filter(customer_id__in=partner_customers.values("customer_id")).exclude(
            managing_domain_id=domain_id
        ),
    )


def comment_visible_to(user: User) -> QuerySet[Comment]:
    comments = Comment.objects.filter(case__in=case_visible_to(user))
    return comments if sees_internal_notes(user) else comments.filter(internal=False)


def case_comments_for(*, case: Case, user: User | None) -> QuerySet[Comment]:
    """The messages of an already authorised case that `user` may read: internal notes
    only for the support organisation (R11). `user=None` is a mail recipient or any
    other reader outside the support organisation."""
    comments = case.comments.all()
    if user is None or not sees_internal_notes(user):
        comments = comments.filter(internal=False)
    return comments


def attachment_visible_to(user: User) -> QuerySet[Attachment]:
    return Attachment.objects.filter(case__in=case_visible_to(user))


def pending_uploads_of(user: User) -> QuerySet[PendingUpload]:
    """The files `user` chose on a form that came back, still waiting (never anyone else's)."""
    from django.conf import settings
    from django.utils import timezone

    since = timezone.now() - timedelta(hours=settings.PENDING_UPLOAD_HOURS)
    return PendingUpload.objects.filter(owner=user, created_at__gte=since)


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
    number = Q(number=int(text)) if text.isascii() and text.isdigit() and len(text) < 18 else Q(pk__in=[])
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


def case_page(
    queryset: QuerySet[Case], *, cursor: str | None, size: int, sort: str = DEFAULT_SORT
) -> CasePage:
    """One page of `queryset` in the order `sort` ("-updated", "customer", … see SORTS),
    by keyset (key, id) through the portal's one paginator (portal.keyset): page 1,000
    costs what page 1 costs, and rows do not shift while new cases arrive. A cursor that
    does not verify, or was made for another order, starts from the first page."""
    if sort not in SORTS:
        sort = DEFAULT_SORT
    descending = sort.startswith("-")
    field = SORT_KEYS[sort.lstrip("-")][0]
    decoded = _decode_cursor(cursor, sort) if cursor else None
    # The search vector (a kilobyte a case) is for the WHERE clause, never for showing.
    queryset = queryset.defer("search_vector")
    if decoded is None:
        rows, has_more = keyset_rows(queryset, field=field, descending=descending, size=size)
        return CasePage(rows, _encode_cursor(rows[-1], "next", sort) if has_more else None, None)
    direction, value, pk = decoded
    if direction == "next":
        rows, has_more = keyset_rows(
            queryset, field=field, descending=descending, size=size, after=(value, pk)
        )
        return CasePage(
            rows,
            _encode_cursor(rows[-1], "next", sort) if has_more and rows else None,
            _encode_cursor(rows[0], "previous", sort) if rows else None,
        )
    rows, has_more = keyset_rows(
        queryset, field=field, descending=not descending, size=size, after=(value, pk)
    )
    rows.reverse()
    return CasePage(
        rows,
        _encode_cursor(rows[-1], "next", sort) if rows else None,
        _encode_cursor(rows[0], "previous", sort) if has_more and rows else None,
    )


def case_iter_for_export(queryset: QuerySet[Case], *, chunk: int = 2000) -> Iterator[Case]:
    """Every case of `queryset` in list order, through the same paginator in chunks, so
    that memory stays flat and no query uses OFFSET."""
    return keyset_iter(queryset.defer("search_vector"), field="updated_at", descending=True, chunk=chunk)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "comment", "attachment" or "event"
    at: datetime
    item: object


# Events that the timeline shows through their own rows (the comment, the attachment).
_SHOWN_ELSEWHERE = {"COMMENTED", "ATTACHMENT_ADDED", "NOTE_ADDED"}


def case_timeline(case: Case, *, user: User | None) -> list[TimelineEntry]:
    """Messages, attachments and changes of one (already authorised) case, oldest first,
    in three queries whatever the case's size. Internal notes for support only (R11)."""
    people = ("full_name", "email")  # what `display_name` reads
    # `case` stays: the related manager reads it on every row to attach the case.
    comments = (
        case_comments_for(case=case, user=user)
        .select_related("author")
        .only(
            "case",
            "body",
            "created_at",
            "from_support",
            "internal",
            "author_email",
            *(f"author__{f}" for f in people),
        )
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


# --------------------------------------------------------------------------- the support queue

QUEUE_SORTS = ("due", "-updated", "updated", "-created", "created", "priority")
# The queue counts twenty filter values at once (the lists count five states), so each
# count stops sooner: "100+" says as much to a person choosing a filter as "1000+".
FACET_CAP = 100


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, already validated (cases.filters.QueueFilterForm)."""

    states: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    customer_id: int | None = None
    domain_id: int | None = None
    assignee: str = ""  # "" any, "me", "nobody", or a support engineer's id
    escalated: bool | None = None
    awaiting_support: bool = False
    q: str = ""


def _is_support(user: User) -> bool:
    return user.is_authenticated and user.domain.kind == Domain.Kind.SUPPORT


def support_queue(user: User, filters: QueueFilters, *, skip: str = "") -> QuerySet[Case]:
    """The support team's queue: every non-test case matching `filters` (all but the
    filter named `skip`, for the counts of its values). Only support engineers get rows;
    everything starts from `case_visible_to`."""
    if not _is_support(user):
        return Case.objects.none()
    queue = case_visible_to(user).filter(is_test=False)
    if (
        filters.states
        and skip != "state"
        and not (filters.awaiting_support and set(filters.states) == {OPEN})
    ):
        # (A case support owes a reply is open: "awaiting support" already says so.)
        states = set(filters.states)
        if OPEN in states:
            states |= {state for state in Case.State.values if state != Case.State.CLOSED}
            states.discard(OPEN)
        if states == set(Case.State.values) - {Case.State.CLOSED}:
            # Written as "not closed", so that the partial indexes of open cases apply.
            queue = queue.exclude(state=Case.State.CLOSED)
        else:
            queue = queue.filter(state__in=sorted(states))
    if filters.priorities and skip != "priority":
        queue = queue.filter(priority__in=filters.priorities)
    if filters.tiers and skip != "tier":
        queue = queue.filter(customer__support_tier__in=filters.tiers)
    if filters.languages and skip != "language":
        queue = queue.filter(language__in=filters.languages)
    if filters.customer_id:
        queue = queue.filter(customer_id=filters.customer_id)
    if filters.domain_id:
        queue = queue.filter(managing_domain_id=filters.domain_id)
    if filters.assignee and skip != "assignee":
        if filters.assignee == "me":
            queue = queue.filter(assignee=user)
        elif filters.assignee == "nobody":
            queue = queue.filter(assignee__isnull=True)
        else:
            queue = queue.filter(assignee_id=int(filters.assignee))
    if filters.escalated is not None and skip != "escalated":
        queue = queue.filter(escalated_at__isnull=not filters.escalated)
    if filters.awaiting_support and skip != "awaiting":
        # Stored by the services: set exactly while support owes a reply on an open case.
        queue = queue.filter(next_response_due_at__isnull=False)
    return case_keyword_filter(queue, filters.q)


def support_queue_counts(user: User, filters: QueueFilters) -> dict[str, dict[str, int]]:
    """How many cases each filter value would show together with the other filters, each
    count capped at FACET_CAP + 1 (like the lists: never a count over a whole big table),
    in one query whatever the number of values. Not per language: six more subqueries
    for a filter used rarely (planning each one costs more than running it)."""
    if not _is_support(user):
        return {}
    facets: list[tuple[str, str, QuerySet[Case]]] = []
    for state in Case.State.values:
        facets.append(("state", state, support_queue(user, filters, skip="state").filter(state=state)))
    for priority in Case.Priority.values:
        facets.append(
            ("priority", priority, support_queue(user, filters, skip="priority").filter(priority=priority))
        )
    for tier in SupportTier.values:
        facets.append(
            ("tier", tier, support_queue(user, filters, skip="tier").filter(customer__support_tier=tier))
        )
    unassigned = support_queue(user, filters, skip="assignee")
    facets.append(("assignee", "me", unassigned.filter(assignee=user)))
    facets.append(("assignee", "nobody", unassigned.filter(assignee__isnull=True)))
    facets.append(
        (
            "escalated",
            "true",
            support_queue(user, filters, skip="escalated").filter(escalated_at__isnull=False),
        )
    )
    facets.append(
        (
            "awaiting",
            "support",
            support_queue(user, filters, skip="awaiting").filter(next_response_due_at__isnull=False),
        )
    )
    selects, params, empty = [], [], []
    for index, (_facet, _value, queryset) in enumerate(facets):
        try:
            sql, sql_params = queryset.order_by().values("pk")[: FACET_CAP + 1].query.sql_with_params()
        except EmptyResultSet:
            empty.append(index)
            selects.append("0")
            continue
        selects.append(f"(SELECT count(*) FROM ({sql}) AS b{index})")
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        values = cursor.fetchone()
    counts: dict[str, dict[str, int]] = {}
    for (facet, value, _queryset), count in zip(facets, values, strict=True):
        counts.setdefault(facet, {})[value] = int(count)
    return counts


_queue_signer = signing.Signer(salt="support.queue.cursor")

_SORT_KEYS = {
    "due": ("next_response_due_at", False),
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "priority": ("priority", False),
}


def _after(field: str, descending: bool, value, pk: int) -> Q:
    """Rows after (value, pk) in the order (field, id), both ascending or both
    descending; the redundant bound lets the index scan start at the cursor."""
    if descending:
        return Q(**{f"{field}__lte": value}) & (
            Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk})
        )
    return Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}))


# The "due" order in phases, each one index scan: what support owes on unassigned cases
# (soonest target first), then on assigned ones, then every other case (filing order).
_DUE_PHASES = (
    (Q(next_response_due_at__isnull=False, assignee__isnull=True), "next_response_due_at"),
    (Q(next_response_due_at__isnull=False, assignee__isnull=False), "next_response_due_at"),
    (Q(next_response_due_at__isnull=True), "id"),
)


def _phases(sort: str) -> list[tuple[Q, str, bool]]:
    if sort == "due":
        return [(condition, field, False) for condition, field in _DUE_PHASES]
    field, descending = _SORT_KEYS[sort]
    return [(Q(), field, descending)]


def _queue_cursor(sort: str, phase: int, case: Case) -> str:
    field = _phases(sort)[phase][1]
    value = getattr(case, field)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return _queue_signer.sign(f"{sort}|{phase}|{text}|{case.pk}")


def _decode_queue_cursor(cursor: str, sort: str) -> tuple[int, object, int] | None:
    try:
        cursor_sort, phase_text, text, pk = _queue_signer.unsign(cursor).split("|")
        phase = int(phase_text)
        if cursor_sort != sort or not 0 <= phase < len(_phases(sort)):
            return None
        field = _phases(sort)[phase][1]
        value: object = text
        if field.endswith("_at"):
            value = datetime.fromisoformat(text)
        elif field == "id":
            value = int(text)
        return phase, value, int(pk)
    except (signing.BadSignature, ValueError):
        return None


def support_queue_page(queryset: QuerySet[Case], *, sort: str, cursor: str | None, size: int) -> CasePage:
    """One keyset page of the queue in `sort` order, without a page limit: page 1,000
    costs what page 1 costs. The "due" order (the default) lists what support owes first,
    unassigned cases first, soonest target first, then every other case: at most three
    index scans, never a sort of the whole queue."""
    sort = sort if sort in _SORT_KEYS else "due"
    decoded = _decode_queue_cursor(cursor, sort) if cursor else None
    start, value, pk = decoded if decoded else (0, None, None)
    # The page's ids first, from the case table alone; then those rows with what they
    # show. Joined in one query, PostgreSQL misjudged how many cases a filter keeps and
    # joined and sorted thousands of rows for a page of fifty (2 s at 300,000 cases).
    keys: list[tuple[int, int]] = []
    for phase, (condition, field, descending) in enumerate(_phases(sort)):
        if phase < start or len(keys) > size:
            continue
        ordered = queryset.filter(condition).order_by(
            f"-{field}" if descending else field, "-id" if descending else "id"
        )
        if phase == start and value is not None:
            ordered = ordered.filter(_after(field, descending, value, pk))
        keys += [(phase, case_id) for case_id in ordered.values_list("pk", flat=True)[: size + 1 - len(keys)]]
    has_more = len(keys) > size
    keys = keys[:size]
    found = (
        Case.objects.defer("search_vector")
        .select_related("customer", "assignee", "classification")
        .in_bulk([case_id for _phase, case_id in keys])
    )
    rows = [found[case_id] for _phase, case_id in keys if case_id in found]
    next_cursor = _queue_cursor(sort, keys[-1][0], found[keys[-1][1]]) if has_more and keys else None
    return CasePage(rows, next_cursor, None)


# --------------------------------------------------------------------------- support console helpers


def support_engineers() -> QuerySet[User]:
    """Everyone a case can be assigned to."""
    return User.objects.filter(domain__kind=Domain.Kind.SUPPORT, is_active=True).order_by(
        "full_name", "email"
    )


def reseller_domains() -> QuerySet[Domain]:
    """The queue's reseller domain filter: every reseller domain (support sees all)."""
    return Domain.objects.filter(kind=Domain.Kind.RESELLER).order_by("name").only("name")


def saved_views_for(user: User) -> QuerySet[SavedQueueView]:
    return SavedQueueView.objects.filter(owner=user) if _is_support(user) else SavedQueueView.objects.none()


def canned_replies_for(user: User) -> QuerySet[CannedReply]:
    return CannedReply.objects.all() if _is_support(user) else CannedReply.objects.none()


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def canned_reply_fill(body: str, *, case: Case) -> str:
    """A canned reply with its placeholders filled for `case`: {customer},
    {case_number}, {requester}. Unknown placeholders stay as written."""
    values = _Placeholders(
        customer=case.customer.name,
        case_number=str(case.number),
        requester=(case.creator.display_name if case.creator else "") or case.contact_email,
    )
    try:
        return body.format_map(values)
    except (ValueError, IndexError, AttributeError):  # a stray "{" or "}" in the text
        return body


def canned_replies_for_case(*, user: User, case: Case) -> list[tuple[CannedReply, str]]:
    """The canned replies in the case's language first, then the others, each filled in."""
    replies = sorted(
        canned_replies_for(user), key=lambda r: (r.language != case.language, r.language, r.title)
    )
    return [(reply, canned_reply_fill(reply.body, case=case)) for reply in replies]
