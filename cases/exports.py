"""The CSV export of a case list: the same rows as the list, in the reader's language and
time zone, ready for a spreadsheet (UTF-8 with a byte-order mark, ISO 8601 times with the
zone's offset, labels instead of codes), ending with a line that states how many cases
it holds, so a cut-off file is recognisable.

Small exports stream from the request; above EXPORT_STREAM_MAX_ROWS (decided with a count
bounded at that many rows) the list's filters and the user are captured at the moment of
the request and a background job (jobs.tasks.job_run) writes the file
(docs/performance.md, "Large exports")."""

import csv
import time
import uuid
import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Window
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Domain, User
from cases.filters import CaseFilter
from cases.models import Case, Classification
from cases.selectors import case_visible_to, reseller_can_access_cases
from customers.selectors import customer_visible_to
from portal.when import zone_or_utc

# Read straight from the database as tuples. The category and the reseller domain come as
# ids and are named from small tables in Python: joining the category in SQL made
# PostgreSQL visit the cases category by category (45 s instead of 10 s at a million
# cases, docs/performance.md).
_COLUMNS = (
    "number",
    "title",
    "customer__name",
    "state",
    "priority",
    "channel",
    "classification_id",
    "managing_domain_id",
    "escalated_at",
    "created_at",
    "updated_at",
    "closed_at",
)


class _DomainNames(dict):
    """Reseller domain names by id, each read once when first needed (a handful per export)."""

    def __missing__(self, pk):
        name = "" if pk is None else Domain.objects.filter(pk=pk).values_list("name", flat=True).first() or ""
        self[pk] = name
        return name


def export_user_zone(user: User) -> zoneinfo.ZoneInfo:
    return zone_or_utc(user.time_zone)


def export_language(user: User) -> str:
    return user.language if user.language in {"en", "ko"} else settings.LANGUAGE_CODE


def export_queryset(*, user: User, params: QueryDict, created_until: datetime | None = None):
    """The cases of the user's list with these filters (None: the filters are invalid),
    starting from the one gate. `created_until`: only cases that existed at that moment
    (a background export shows the list as it was when it was asked for)."""
    case_filter = CaseFilter(
        params or None, queryset=case_visible_to(user), customers=customer_visible_to(user)
    )
    if case_filter.is_bound and not case_filter.is_valid():
        return None
    queryset = case_filter.qs
    if created_until is not None:
        queryset = queryset.filter(created_at__lte=created_until)
    return queryset


def export_is_large(queryset) -> bool:
    """More rows than stream well within a request? Counted up to the threshold only."""
    limit = settings.EXPORT_STREAM_MAX_ROWS
    return queryset.order_by().values("pk")[: limit + 1].count() > limit


def _csv_safe(value) -> str:
    # A cell starting with = + - @ is a formula in spreadsheets; keep it text.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


class _Line:
    def write(self, value):
        return value


def export_header() -> list[str]:
    return [
        _("Case number"),
        _("Title"),
        _("Customer"),
        _("Status"),
        _("Severity"),
        _("Channel"),
        _("Category"),
        _("Reseller domain"),
        _("Escalated"),
        _("Created"),
        _("Updated"),
        _("Closed"),
    ]


def export_footer(count: int) -> list[str]:
    # Plain digits, no thousands separator: a script can check it as easily as a person.
    return [_("End of export: %(count)s cases") % {"count": count}]


def export_filename(user: User) -> str:
    return f"cases-{timezone.localtime(timezone.now(), export_user_zone(user)):%Y%m%d-%H%M}.csv"


def _values(queryset, *, with_total: bool = False):
    rows = queryset.order_by("-updated_at", "-id")
    if with_total:
        # The total on every row, from the same scan: the progress bar knows it as soon as
        # the first rows arrive, without a second pass over the cases to count them.
        rows = rows.annotate(export_total=Window(Count("pk")))
        return rows.values_list(*_COLUMNS, "export_total")
    return rows.values_list(*_COLUMNS)


def export_lines(chunks: Iterable[list[tuple]], *, zone: zoneinfo.ZoneInfo, language: str) -> Iterator[str]:
    """CSV text, one piece per chunk of rows of `_values` (without the header and footer).
    Labels, category and domain names and the time zone are applied from tables built
    once, never per row from the database: the caller runs this under the reader's
    language."""
    states = {value: str(label) for value, label in Case.State.choices}
    priorities = {value: str(label) for value, label in Case.Priority.choices}
    channels = {value: str(label) for value, label in Case.Channel.choices}
    categories = {
        pk: _csv_safe(korean if language == "ko" and korean else english)
        for pk, english, korean in Classification.objects.values_list("pk", "display_name", "display_name_ko")
    }
    domains = _DomainNames()
    yes, no = _("Yes"), _("No")
    writerow = csv.writer(_Line()).writerow

    def when(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).isoformat(timespec="seconds")

    for chunk in chunks:
        yield "".join(
            [
                writerow(
                    (
                        row[0],
                        _csv_safe(row[1]),
                        _csv_safe(row[2]),
                        states.get(row[3], row[3]),
                        priorities.get(row[4], row[4]),
                        channels.get(row[5], row[5]),
                        categories.get(row[6], ""),
                        domains[row[7]],
                        no if row[8] is None else yes,
                        when(row[9]),
                        when(row[10]),
                        when(row[11]),
                    )
                )
                for row in chunk
            ]
        )


def _chunks(values, size: int) -> Iterator[list[tuple]]:
    """The rows of a values_list queryset, `size` at a time, from a server-side cursor. On
    PostgreSQL the cursor reads binary values: with text, PostgreSQL spent longer writing
    out the timestamps than everything else (docs/performance.md). Call inside a
    transaction (a cursor lives in one)."""
    if connection.vendor != "postgresql":
        yield from _batched(values.iterator(chunk_size=size), size)
        return
    sql, params = values.query.sql_with_params()
    connection.ensure_connection()
    with connection.connection.cursor(name=f"export_{uuid.uuid4().hex}", binary=True) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield rows


def export_stream(*, user: User, queryset) -> Iterator[str]:
    """The whole file as text chunks, for a streamed response."""
    language = export_language(user)
    zone = export_user_zone(user)
    writer = csv.writer(_Line())
    counted = 0

    def counting(chunks):
        nonlocal counted
        for chunk in chunks:
            counted += len(chunk)
            yield chunk

    with translation.override(language):
        yield "\ufeff"  # so that spreadsheet programs read the file as UTF-8 (Korean titles)
        yield writer.writerow(export_header())
        rows = _values(queryset).iterator(chunk_size=2000)
        yield from export_lines(counting(_batched(rows, 500)), zone=zone, language=language)
        yield writer.writerow(export_footer(counted))


def _batched(rows, size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def case_export_job_write(job, out, progress) -> tuple[int, str]:
    """The background export: the user's list with the filters captured at the request,
    as it was then (cases filed since are left out), written to `out` (binary). Returns
    the row count and the download name.

    The rows and their total come from one statement (one snapshot), so the progress
    bar's total, the count on the page and the file's last line agree; the rows come from a
    server-side cursor in chunks (it lives inside a transaction), so memory stays flat."""
    user = job.user
    queryset = export_queryset(user=user, params=_query_dict(job.params), created_until=job.created_at)
    if queryset is None:
        raise ValueError("The filters are not valid.")
    language = export_language(user)
    zone = export_user_zone(user)
    writer = csv.writer(_Line())
    total = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A cursor is planned for its first tenth by default (cursor_tuple_fraction),
            # which may walk the update-time index over the whole table; every row is
            # wanted, so plan for all of them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        progress.start(None)
        with translation.override(language):
            out.write(("\ufeff" + writer.writerow(export_header())).encode())
            count = 0
            throttle, started = settings.EXPORT_MAX_ROWS_PER_SECOND, time.monotonic()

            def counting(chunks):
                nonlocal count, total
                for chunk in chunks:
                    if count == 0:
                        total = chunk[0][-1]
                        progress.start(total)
                    yield chunk
                    count += len(chunk)
                    progress.step(count)
                    if throttle:
                        _throttle(count, started)

            values = _values(queryset, with_total=True)
            for text in export_lines(
                counting(_chunks(values, settings.EXPORT_CHUNK_ROWS)), zone=zone, language=language
            ):
                out.write(text.encode())
            if count != total:  # cannot happen (one statement); never end a file with a wrong count
                raise RuntimeError(f"Export wrote {count} rows of {total}.")
            out.write(writer.writerow(export_footer(count)).encode())
            download_name = export_filename(user)
    return count, download_name


def _throttle(count: int, started: float) -> None:
    """EXPORT_MAX_ROWS_PER_SECOND (0: no limit) keeps one export from taking a whole core
    of a shared database server; the browser tests use it to watch the bar move."""
    ahead = count / settings.EXPORT_MAX_ROWS_PER_SECOND - (time.monotonic() - started)
    if ahead > 0:
        time.sleep(ahead)


def _query_dict(params: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, values)
    return query


def export_params(query: QueryDict) -> dict:
    """The list's filters as stored with a job (the cursor is a position, not a filter)."""
    return {key: query.getlist(key) for key in sorted(query) if key != "cursor"}


def export_still_allowed(user: User) -> bool:
    """At download time: may the user still work with cases at all (the gate of the list
    the file was made from)? A reseller who lost case access, a customer whose portal
    access was turned off, gets the same 404 as for a missing file."""
    kind = user.domain.kind
    if kind == Domain.Kind.RESELLER:
        return reseller_can_access_cases(user)
    if kind == Domain.Kind.CUSTOMER:
        return customer_visible_to(user).exists()
    return True
