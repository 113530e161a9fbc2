from datetime import timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from cases.models import Case

register = template.Library()
STATE_LABELS = dict(Case.State.choices)  # lazy labels, translated when shown


@register.filter
def duration(value: timedelta | None) -> str:
    """A short, translated length of time: "2 days 3 h", "45 min"."""
    if value is None:
        return ""
    seconds = int(abs(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
        return text + (" " + _("%(n)d h") % {"n": hours} if hours else "")
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(n)d min") % {"n": max(minutes, 1)}


@register.filter
def is_negative(value: timedelta | None) -> bool:
    return value is not None and value.total_seconds() < 0


@register.filter
def state_label(value: str) -> str:
    """A state's name in the user's language: what `get_state_display` gives, without
    rebuilding the choices on every call (a list of 25 cases spent 3 ms on that)."""
    return str(STATE_LABELS.get(value, value))


@register.filter
def lower_state(value: str) -> str:
    return str(value).lower().replace("_", "-")


@register.simple_tag(takes_context=True)
def with_query(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = value
    encoded = query.urlencode()
    return "?" + encoded if encoded else "?"


@register.simple_tag
def case_rows(cases) -> str:
    """The rows of a case list (templates/cases/_results.html), written directly: through
    the template engine, 25 rows cost a fifth of the whole My cases page
    (docs/performance.md)."""
    korean = get_language() == "ko"
    escalated = format_html(' <span class="badge escalated">{}</span>', _("Escalated"))

    def row(case):
        url = reverse("cases:detail", args=[case.number])
        updated = timezone.localtime(case.updated_at)
        classification = case.classification
        return (
            case.number,
            url,
            case.number,
            url,
            case.title,
            escalated if case.escalated_at else "",
            classification.display_name_ko if korean else classification.display_name,
            case.customer.name,
            case.priority.lower(),
            case.priority,
            lower_state(case.state),
            state_label(case.state),
            updated.isoformat(),
            date_format(updated, "SHORT_DATETIME_FORMAT"),
        )

    return format_html_join(
        "\n",
        '<tr data-case="{}"><td class="nowrap"><a href="{}">{}</a></td>'
        '<td><a href="{}" class="case-title">{}</a>{}<div class="muted small">{}</div></td>'
        "<td>{}</td>"
        '<td><span class="badge priority-{}">{}</span></td>'
        '<td><span class="badge state-{}">{}</span></td>'
        '<td class="nowrap"><time datetime="{}">{}</time></td></tr>',
        (row(case) for case in cases),
    )
