"""The dashboard: every number starts from case_visible_to, first-response breaches follow
the lifecycle's targets, weeks are the viewer's, charts are accessible SVG, and the page
costs a fixed number of queries."""

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Privilege
from cases.charts import Bar, Series, bar_chart, column_chart
from cases.dashboard_selectors import dashboard_for, week_starts
from cases.lifecycle import OPEN_STATES, first_response_due
from cases.models import Case
from cases.selectors import case_visible_to
from cases.services import case_close

pytestmark = pytest.mark.django_db

URL = reverse("dashboard")
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


def stat(page: str, name: str) -> int:
    return int(re.search(rf'data-testid="{name}">(\d+)<', page).group(1))


def data_for(user, now=None):
    return dashboard_for(user, now=now or timezone.now())


# --------------------------------------------------------------------------- access


def test_dashboard_needs_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["agent", "agent2", "admin", "engineer", "acme_user"])
def test_people_who_work_with_cases_see_the_dashboard(w, signed_in, persona):
    assert signed_in(getattr(w, persona)).get(URL).status_code == 200


def test_viewer_without_case_access_is_told_what_is_missing(w, signed_in):
    response = signed_in(w.viewer).get(URL)
    assert response.status_code == 403
    page = response.content.decode()
    assert str(Privilege.RESELLER_ACCESS_CUSTOMER_CASES.label) in page and "super admin" in page


def test_dashboard_answers_only_get(w, signed_in):
    assert signed_in(w.agent).post(URL).status_code == 405


# --------------------------------------------------------------------------- the numbers


def test_open_counts_are_the_domains_visible_cases(w, signed_in):
    page = signed_in(w.agent).get(URL).content.decode()
    visible_open = case_visible_to(w.agent).filter(state__in=OPEN_STATES, is_test=False)
    assert stat(page, "open-total") == visible_open.count() > 0
    data = data_for(w.agent)
    for state in OPEN_STATES:
        assert data.open_by_state[state] == visible_open.filter(state=state).count()
    for priority in ("P1", "P2", "P3", "P4"):
        assert data.open_by_priority[priority] == visible_open.filter(priority=priority).count()


def test_another_domains_cases_never_count(w, signed_in, file_case):
    before = data_for(w.agent)
    file_case(w.agent2, w.initech, priority="P1")
    after = data_for(w.agent)
    assert after.open_by_priority == before.open_by_priority and after.opened == before.opened
    assert data_for(w.agent2).open_by_priority["P1"] >= 1


def test_cases_under_the_previous_reseller_and_without_consent_never_count(w):
    data = data_for(w.agent)
    hidden = Case.objects.filter(customer=w.globex) | Case.objects.filter(
        customer=w.umbrella, managing_domain=w.reseller2
    )
    assert hidden.exists()
    visible_open = case_visible_to(w.agent).filter(state__in=OPEN_STATES, is_test=False).count()
    assert data.open_total == visible_open


def test_support_engineer_sees_everything(w):
    data = data_for(w.engineer)
    assert data.open_total == Case.objects.filter(state__in=OPEN_STATES, is_test=False).count()


def test_customer_users_see_their_own_customer_only(w, file_case):
    file_case(w.agent2, w.initech)
    data = data_for(w.acme_user)
    assert (
        data.open_total == Case.objects.filter(customer=w.acme, state__in=OPEN_STATES, is_test=False).count()
    )


def test_test_cases_are_left_out(w, file_case):
    before = data_for(w.agent).open_total
    case = file_case(w.agent, w.acme)
    Case.objects.filter(pk=case.pk).update(is_test=True)
    assert data_for(w.agent).open_total == before


# --------------------------------------------------------------------------- first-response breaches


def test_an_unanswered_case_breaches_when_its_target_passes(w, file_case):
    case = file_case(w.agent, w.acme, priority="P1")  # Premium P1: 15 minutes
    due = first_response_due(created_at=case.created_at, tier="PREMIUM", priority="P1")
    just_before = data_for(w.agent, now=due - timedelta(minutes=1))
    just_after = data_for(w.agent, now=due + timedelta(minutes=1))
    assert just_after.overdue_by_priority["P1"] == just_before.overdue_by_priority["P1"] + 1
    assert just_after.breached_total == just_before.breached_total + 1


def test_a_late_first_response_is_a_breach_and_a_timely_one_is_not(w, file_case):
    late = file_case(w.agent, w.acme, priority="P2", title="Late")  # Premium P2: 2 hours
    timely = file_case(w.agent, w.acme, priority="P2", title="Timely")
    now = late.created_at + timedelta(hours=5)
    unanswered = data_for(w.agent, now=now)  # both are past their target, unanswered
    Case.objects.filter(pk=late.pk).update(first_response_at=late.created_at + timedelta(hours=3))
    Case.objects.filter(pk=timely.pk).update(first_response_at=timely.created_at + timedelta(hours=1))
    answered = data_for(w.agent, now=now)
    assert answered.breached_total == unanswered.breached_total - 1  # only the timely one is cleared
    assert answered.overdue_by_priority["P2"] == unanswered.overdue_by_priority["P2"] - 2


def test_targets_follow_the_support_tier(w, file_case):
    # Globex is Standard (P1: 4 hours) but its consent is off; file as its own admin.
    case = file_case(w.globex_admin, w.globex, priority="P1")
    two_hours = data_for(w.engineer, now=case.created_at + timedelta(hours=2))
    five_hours = data_for(w.engineer, now=case.created_at + timedelta(hours=5))
    assert five_hours.overdue_by_priority["P1"] == two_hours.overdue_by_priority["P1"] + 1


# --------------------------------------------------------------------------- weeks


def test_thirteen_weeks_starting_on_monday_in_the_viewers_time_zone():
    # Sunday 20:00 UTC is already Monday 05:00 in Seoul.
    now = datetime(2025, 3, 9, 20, 0, tzinfo=UTC)
    mondays = week_starts(now=now, tz=SEOUL)
    assert len(mondays) == 13 and all(m.weekday() == 0 for m in mondays)
    assert (mondays[0], mondays[-1]) == (date(2024, 12, 16), date(2025, 3, 10))
    assert week_starts(now=now, tz=UTC)[-1] == date(2025, 3, 3)


def test_cases_opened_and_closed_land_in_their_weeks(w, file_case):
    three_weeks_ago = timezone.now() - timedelta(weeks=3)
    before = data_for(w.agent)
    with time_machine.travel(three_weeks_ago, tick=False):
        old = file_case(w.agent, w.acme, title="Three weeks ago")
        case_close(user=w.agent, case=old)
    new = file_case(w.agent, w.acme, title="This week")
    after = data_for(w.agent)
    old_week = after.weeks.index(week_starts(now=three_weeks_ago, tz=UTC)[-1])
    assert old_week == len(after.weeks) - 4
    assert after.opened[old_week] == before.opened[old_week] + 1
    assert after.closed[old_week] == before.closed[old_week] + 1
    assert after.opened[-1] == before.opened[-1] + 1
    Case.objects.filter(pk=new.pk).update(created_at=new.created_at - timedelta(weeks=20))
    assert data_for(w.agent).opened_total == after.opened_total - 1  # now outside the quarter


# --------------------------------------------------------------------------- the page and its charts


def test_page_draws_four_accessible_svg_charts_with_data_tables(w, signed_in):
    page = signed_in(w.agent).get(URL).content.decode()
    svgs = re.findall(r"<svg [^>]*>", page)
    charts = [tag for tag in svgs if re.search(r'class="chart( wide)?"', tag)]
    assert len(charts) == 4
    for tag in charts:
        assert 'role="img"' in tag and "aria-label=" in tag
    assert page.count("<title id=") == 4 and page.count("<desc id=") == 4
    assert page.count('<table class="visually-hidden">') == 4
    for title in (
        "Open cases by status",
        "Open cases by severity",
        "Cases opened and closed per week",
        "First-response breaches per week",
    ):
        assert f"<caption>{title}</caption>" in page


def test_page_stats_match_the_selector(w, signed_in):
    page = signed_in(w.agent).get(URL).content.decode()
    data = data_for(w.agent)
    assert stat(page, "open-total") == data.open_total
    assert stat(page, "opened-total") == data.opened_total
    assert stat(page, "closed-total") == data.closed_total


def test_page_loads_no_script_and_no_inline_style(w, signed_in):
    page = signed_in(w.agent).get(URL).content.decode()
    main = page[page.index("<main") :]
    assert "<script" not in main and "style=" not in main


def test_dashboard_speaks_korean(w, signed_in):
    page = signed_in(w.agent, language="ko").get(URL).content.decode()
    assert '<html lang="ko">' in page


def test_dashboard_costs_the_same_queries_for_10_and_100_cases(
    w, signed_in, file_case, django_assert_max_num_queries
):
    client = signed_in(w.agent)
    for i in range(10):
        file_case(w.agent, w.acme, title=f"Few {i}")
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for i in range(90):
        file_case(w.agent, w.acme, title=f"Many {i}", priority=("P1", "P2", "P3", "P4")[i % 4])
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(few) == len(many)
    with django_assert_max_num_queries(12):
        client.get(URL)


def test_aggregates_are_counted_in_the_database(w, signed_in):
    client = signed_in(w.engineer)
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    # The rollup summed once, and the unanswered cases of the last two days counted.
    rollup_queries = [q["sql"] for q in queries if '"cases_caserollup"' in q["sql"]]
    case_queries = [q["sql"] for q in queries if '"cases_case"' in q["sql"]]
    assert len(rollup_queries) == 1 and "SUM(" in rollup_queries[0] and "GROUP BY" in rollup_queries[0]
    assert len(case_queries) == 1 and "COUNT(" in case_queries[0] and "GROUP BY" in case_queries[0]
    assert '"cases_case"."created_at" >=' in case_queries[0]


# --------------------------------------------------------------------------- the chart module


def test_chart_text_is_escaped():
    chart = bar_chart(
        chart_id="c1",
        title="<script>alert(1)</script>",
        description='"quoted" & <b>',
        bars=[Bar("<img src=x>", 3, "#000")],
        label_header="L",
        value_header="V",
    )
    assert "<script>" not in chart.svg and "<img" not in chart.svg
    assert "&lt;script&gt;" in chart.svg and "&amp;" in chart.svg


def test_charts_handle_nothing_to_show():
    empty_bars = bar_chart(
        chart_id="c2",
        title="t",
        description="d",
        bars=[Bar("a", 0, "#000")],
        label_header="L",
        value_header="V",
    )
    assert "<svg" in empty_bars.svg and empty_bars.rows == [["a", 0]]
    empty_columns = column_chart(
        chart_id="c3",
        title="t",
        description="d",
        categories=["1/6", "1/13"],
        series=[Series("Opened", [0, 0], "#000")],
        category_header="Week",
    )
    assert "<svg" in empty_columns.svg and empty_columns.rows == [["1/6", 0], ["1/13", 0]]


def test_column_heights_are_proportional_and_the_axis_round():
    chart = column_chart(
        chart_id="c4",
        title="t",
        description="d",
        categories=["a", "b"],
        series=[Series("S", [37, 74], "#123456")],
        category_header="C",
    )
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#123456"><title>', chart.svg)]
    assert len(heights) == 2 and abs(heights[1] - 2 * heights[0]) < 0.2
    ticks = re.findall(r'text-anchor="end" fill="#5f6368">(\d+)<', chart.svg)
    assert ticks == ["0", "20", "40", "60", "80"]
