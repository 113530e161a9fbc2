"""The one keyset paginator of the portal: the case lists, the API's pages and the CSV
export all page through `keyset_rows` / `keyset_iter`, ordered by (field, id).

A row "after" (value, pk) in the order is `field < value OR (field = value AND id < pk)`
(descending). Written that way alone, PostgreSQL cannot start an index scan at the cursor
and walks every row before it: page 1,000 read 25,000 rows first. The redundant bound
`field <= value` makes it an index range, so page 1,000 costs what page 1 costs
(docs/performance.md)."""

from collections.abc import Iterator
from typing import Any

from django.db.models import Q, QuerySet


def keyset_after(field: str, value: Any, pk: int, *, descending: bool) -> Q:
    """The rows strictly after (value, pk) in the order of (field, id)."""
    strict, bound = ("lt", "lte") if descending else ("gt", "gte")
    return Q(**{f"{field}__{bound}": value}) & (
        Q(**{f"{field}__{strict}": value}) | Q(**{field: value, f"id__{strict}": pk})
    )


def keyset_ordered(queryset: QuerySet, *, field: str, descending: bool) -> QuerySet:
    return queryset.order_by(f"-{field}", "-id") if descending else queryset.order_by(field, "id")


def keyset_rows(
    queryset: QuerySet, *, field: str, descending: bool, size: int, after: tuple[Any, int] | None = None
) -> tuple[list, bool]:
    """Up to `size` rows after the key `after` (from the start when None), and whether
    more follow. One query."""
    ordered = keyset_ordered(queryset, field=field, descending=descending)
    if after is not None:
        ordered = ordered.filter(keyset_after(field, *after, descending=descending))
    rows = list(ordered[: size + 1])
    return rows[:size], len(rows) > size


def keyset_iter(queryset: QuerySet, *, field: str, descending: bool, chunk: int) -> Iterator:
    """Every row in order, fetched `chunk` rows at a time: memory stays flat, no OFFSET."""
    after = None
    while True:
        rows, more = keyset_rows(queryset, field=field, descending=descending, size=chunk, after=after)
        yield from rows
        if not more:
            return
        after = (getattr(rows[-1], field), rows[-1].pk)
