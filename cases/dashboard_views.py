"""The dashboard (/dashboard/): charts of the active domain's cases (everything, for
support engineers), drawn as server-side SVG by cases.charts."""

from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.charts import Bar, Series, bar_chart, column_chart
from cases.dashboard_selectors import WEEKS, dashboard_for
from cases.lifecycle import OPEN_STATES
from cases.models import Case
from cases.views import case_access_required

STATE_COLORS = {
    Case.State.NEW: "#1a73e8",
    Case.State.IN_PROGRESS_GOOGLE_SUPPORT: "#8430ce",
    Case.State.ACTION_REQUIRED: "#e37400",
    Case.State.SOLUTION_PROVIDED: "#188038",
}
PRIORITY_COLORS = {"P0": "#a50e0e", "P1": "#c5221f", "P2": "#e37400", "P3": "#1a73e8", "P4": "#80868b"}
OPENED, CLOSED, BREACHED = "#1a73e8", "#188038", "#c5221f"


@case_access_required
@require_GET
def dashboard(request):
    now = timezone.now()
    data = dashboard_for(request.user, now=now)
    week_labels = [formats.date_format(monday, "n/j") for monday in data.weeks]
    priorities = [p for p in Case.Priority.values if p != "P0" or data.open_by_priority["P0"]]
    charts = {
        "by_state": bar_chart(
            chart_id="chart-open-by-state",
            title=_("Open cases by status"),
            description=_("%(total)d open cases: how many are in each status.") % {"total": data.open_total},
            bars=[
                Bar(str(Case.State(state).label), data.open_by_state[state], STATE_COLORS[state])
                for state in OPEN_STATES
            ],
            label_header=_("Status"),
            value_header=_("Open cases"),
        ),
        "by_priority": bar_chart(
            chart_id="chart-open-by-severity",
            title=_("Open cases by severity"),
            description=_("%(total)d open cases: how many have each severity.") % {"total": data.open_total},
            bars=[Bar(p, data.open_by_priority[p], PRIORITY_COLORS[p]) for p in priorities],
            label_header=_("Severity"),
            value_header=_("Open cases"),
        ),
        "weekly": column_chart(
            chart_id="chart-weekly",
            title=_("Cases opened and closed per week"),
            description=_(
                "The last %(weeks)d weeks, from the week of %(first)s: %(opened)d cases opened, %(closed)d closed."
            )
            % {
                "weeks": WEEKS,
                "first": week_labels[0],
                "opened": data.opened_total,
                "closed": data.closed_total,
            },
            categories=week_labels,
            series=[Series(_("Opened"), data.opened, OPENED), Series(_("Closed"), data.closed, CLOSED)],
            category_header=_("Week of"),
        ),
        "breaches": column_chart(
            chart_id="chart-breaches",
            title=_("First-response breaches per week"),
            description=_(
                "Of the %(opened)d cases opened in the last %(weeks)d weeks, %(breached)d were not "
                "answered within their first-response target."
            )
            % {"opened": data.opened_total, "weeks": WEEKS, "breached": data.breached_total},
            categories=week_labels,
            series=[
                Series(_("Opened"), data.opened, OPENED),
                Series(_("First response late"), data.breached, BREACHED),
            ],
            category_header=_("Week of"),
        ),
    }
    overdue = [(p, data.overdue_by_priority[p]) for p in priorities if data.overdue_by_priority[p]]
    return render(
        request,
        "dashboard/home.html",
        {"data": data, "charts": charts, "overdue": overdue, "weeks": WEEKS, "now": now},
    )
