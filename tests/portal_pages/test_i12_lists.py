"""Issue 12: case lists sortable by every key in both directions, each through keyset
pages without gaps or repeats; the All tab, the selected tab marked, a bounded total."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.selectors import SORTS, case_page, case_visible_to


def _key(case, sort):
    field = {"updated": "updated_at", "created": "created_at", "severity": "priority", "number": "number"}
    key = sort.lstrip("-")
    return case.customer.name if key == "customer" else getattr(case, field[key])


@pytest.mark.parametrize("sort", SORTS)
def test_each_order_pages_through_without_gaps_or_repeats(w, sort):
    visible = case_visible_to(w.agent).select_related("customer")
    everything = list(visible)
    size = max(2, len(everything) // 3 - 1)  # at least three pages
    seen, cursor, pages = [], None, []
    while True:
        page = case_page(visible, cursor=cursor, size=size, sort=sort)
        pages.append(page)
        seen += [case.pk for case in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(pages) >= 3
    assert len(seen) == len(set(seen)) == len(everything)  # no repeats, no gaps
    rows = {case.pk: case for case in everything}
    keys = [(_key(rows[pk], sort), pk) for pk in seen]
    assert keys == sorted(keys, reverse=sort.startswith("-"))
    # Back from the last page gives the page before it again.
    back = case_page(visible, cursor=pages[-1].previous_cursor, size=size, sort=sort)
    assert [c.pk for c in back.rows] == [c.pk for c in pages[-2].rows]


def test_a_cursor_of_another_order_starts_over(w):
    visible = case_visible_to(w.agent).select_related("customer")
    by_customer = case_page(visible, cursor=None, size=3, sort="customer")
    first_by_update = case_page(visible, cursor=None, size=3)
    assert case_page(visible, cursor=by_customer.next_cursor, size=3).rows == first_by_update.rows


@pytest.mark.parametrize("sort", ["created", "-severity", "number"])
def test_a_deep_page_of_each_order_is_an_index_range(w, sort):
    visible = case_visible_to(w.agent)
    page = case_page(visible, cursor=None, size=2, sort=sort)
    with CaptureQueriesContext(connection) as queries:
        case_page(visible, cursor=page.next_cursor, size=2, sort=sort)
    # The redundant bound (key >= / <= value) is what lets PostgreSQL start at the cursor.
    assert re.search(r'"cases_case"\."(created_at|priority|number)" (<=|>=) ', queries[0]["sql"])


def test_the_list_sorts_from_its_headers_and_marks_the_order(w, signed_in):
    client = signed_in(w.agent)
    html = client.get(reverse("cases:list") + "?sort=customer").content.decode()
    assert re.search(
        r'<th scope="col" aria-sort="ascending"><a class="sort-link" href="\?sort=-customer"', html
    )
    assert client.get(reverse("cases:list") + "?sort=bogus").status_code == 400


def test_the_all_tab_and_the_selected_tab_are_marked(w, signed_in):
    client = signed_in(w.agent)
    tabs = client.get(reverse("cases:list"), headers={"HX-Request": "true", "HX-Target": "state-tabs"})
    html = tabs.content.decode()
    all_tab = re.search(
        r'<a href="\?"[^>]*class="state-tab state-all" aria-current="page">.*?</a>', html, re.S
    )
    assert all_tab, html
    total = int(re.search(r'data-testid="total">([\d,]+)', all_tab.group(0)).group(1).replace(",", ""))
    assert total == case_visible_to(w.agent).count()
    picked = client.get(
        reverse("cases:list") + "?state=CLOSED", headers={"HX-Request": "true", "HX-Target": "state-tabs"}
    ).content.decode()
    assert re.search(r'class="state-tab state-closed" aria-current="page"', picked)
    assert 'class="state-tab state-all" aria-current' not in picked


def test_the_total_is_bounded(w, signed_in, monkeypatch):
    monkeypatch.setattr("cases.views.STATE_COUNT_CAP", 3)
    monkeypatch.setattr("cases.selectors.STATE_COUNT_CAP", 3)
    html = (
        signed_in(w.agent)
        .get(reverse("cases:list"), headers={"HX-Request": "true", "HX-Target": "state-tabs"})
        .content.decode()
    )
    assert 'data-testid="total">3+<' in html
