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
import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Domain, User
from cases.filters import CaseFilter
from cases.models import Case
from cases.selectors import case_visible_to, reseller_can_access_cases
from customers.selectors import customer_visible_to

# Read straight from the database as tuples; the names of the category columns are
# chosen by the reader's language.
_COLUMNS = (
    "number",
    "title",
    "customer__name",
    "state",
    "priority",
    "channel",
    "classification__display_name",
    "managing_domain__name",
    "escalated_at",
    "created_at",
    "updated_at",
    "closed_at",
)


def export_user_zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


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


def _values(queryset, language: str):
    columns = list(_COLUMNS)
    if language == "ko":
        columns[columns.index("classification__display_name")] = "classification__display_name_ko"
    return queryset.order_by("-updated_at", "-id").values_list(*columns)


def export_lines(rows: Iterable[tuple], *, zone: zoneinfo.ZoneInfo, on_row=None) -> Iterator[str]:
    """CSV lines (without the header and footer) for rows of `_values`. Labels and the
    time zone are applied from tables built once, never per row from the database: the
    caller runs this under the reader's language."""
    states = {value: str(label) for value, label in Case.State.choices}
    priorities = {value: str(label) for value, label in Case.Priority.choices}
    channels = {value: str(label) for value, label in Case.Channel.choices}
    yes, no = _("Yes"), _("No")
    writer = csv.writer(_Line())
    writerow = writer.writerow

    def when(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).isoformat(timespec="seconds")

    for count, (
        number,
        title,
        customer,
        state,
        priority,
        channel,
        category,
        domain,
        escalated,
        created,
        updated,
        closed,
    ) in enumerate(rows, 1):  # noqa: E501
        yield writerow(
            (
                number,
                _csv_safe(title),
                _csv_safe(customer),
                states.get(state, state),
                priorities.get(priority, priority),
                channels.get(channel, channel),
                _csv_safe(category),
                domain or "",
                no if escalated is None else yes,
                when(created),
                when(updated),
                when(closed),
            )
        )
        if on_row is not None:
            on_row(count)


def export_stream(*, user: User, queryset) -> Iterator[str]:
    """The whole file as text chunks, for a streamed response."""
    language = export_language(user)
    zone = export_user_zone(user)
    writer = csv.writer(_Line())
    counted = [0]

    def on_row(count):
        counted[0] = count

    with translation.override(language):
        yield "\ufeff"  # so that spreadsheet programs read the file as UTF-8 (Korean titles)
        yield writer.writerow(export_header())
        batch: list[str] = []
        for line in export_lines(
            _values(queryset, language).iterator(chunk_size=2000), zone=zone, on_row=on_row
        ):
            batch.append(line)
            if len(batch) >= 500:
                yield "".join(batch)
                batch = []
        yield "".join(batch)
        yield writer.writerow(export_footer(counted[0]))


def case_export_job_write(job, out, progress) -> tuple[int, str]:
    """The background export: the user's list with the filters captured at the request,
    as it was then (cases filed since are left out), written to `out` (binary). Returns
    the row count and the download name.

    On PostgreSQL the count and the rows come from one snapshot (REPEATABLE READ), so the
    count on the page, the progress bar's total and the file's last line agree; the rows
    come from a server-side cursor in chunks, so memory stays flat."""
    user = job.user
    queryset = export_queryset(user=user, params=_query_dict(job.params), created_until=job.created_at)
    if queryset is None:
        raise ValueError("The filters are not valid.")
    language = export_language(user)
    zone = export_user_zone(user)
    writer = csv.writer(_Line())
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # Only possible as the transaction's first statement; inside a test's own
            # transaction it is skipped (one connection sees one snapshot there anyway).
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        total = queryset.count()
        progress.start(total)
        with translation.override(language):
            out.write(("\ufeff" + writer.writerow(export_header())).encode())
            count = 0

            def on_row(done: int) -> None:
                progress.step(done)
                if throttle:
                    _throttle(done, started)

            throttle, started = settings.EXPORT_MAX_ROWS_PER_SECOND, time.monotonic()
            batch: list[str] = []
            for line in export_lines(
                _values(queryset, language).iterator(chunk_size=settings.EXPORT_CHUNK_ROWS),
                zone=zone,
                on_row=on_row,
            ):
                batch.append(line)
                if len(batch) >= 500:
                    count += len(batch)
                    out.write("".join(batch).encode())
                    batch = []
            count += len(batch)
            out.write("".join(batch).encode())
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
