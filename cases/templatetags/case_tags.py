from datetime import timedelta
from html import escape

from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.templatetags.portal_tags import icon_svg
from cases.models import Case, CaseEvent
from portal.when import format_when, time_html

register = template.Library()
# Lazy labels, translated when shown. `get_FOO_display` rebuilds the choices on every
# call: a list of 25 cases spent 3 ms on it, a long case page more.
STATE_LABELS = dict(Case.State.choices)
EVENT_LABELS = dict(CaseEvent.Kind.choices)
PRIORITY_LABELS = dict(Case.Priority.choices)
PAPERCLIP = mark_safe(icon_svg("paperclip"))


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
    """A state's name in the user's language (what `get_state_display` gives)."""
    return str(STATE_LABELS.get(value, value))


@register.filter
def severity_label(value: str) -> str:
    return str(PRIORITY_LABELS.get(value, value))


@register.filter
def event_label(value: str) -> str:
    """What happened, in the user's language (what `get_kind_display` gives)."""
    return str(EVENT_LABELS.get(value, value))


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
    (docs/performance.md). Every value from the database goes through `escape`: the
    standard library's html.escape, the same escaping as Django's but without its
    lazy-string wrapper, which cost more than the escaping on a page of 650 values."""
    korean = get_language() == "ko"
    escalated = ' <span class="badge escalated">' + escape(_("Escalated")) + "</span>"
    rows = []
    for case in cases:
        url = escape(reverse("cases:detail", args=[case.number]))
        category = case.classification.display_name_ko if korean else case.classification.display_name
        rows.append(
            f'<tr data-case="{case.number}"><td class="c-number nowrap"><a href="{url}">{case.number}</a></td>'
            f'<td class="c-title"><a href="{url}" class="case-title">{escape(case.title)}</a>'
            f'{escalated if case.escalated_at else ""}<div class="muted small">{escape(category)}</div></td>'
            f'<td class="c-customer">{escape(case.customer.name)}</td>'
            f'<td class="c-priority"><span class="badge priority-{escape(case.priority.lower())}" title="{escape(severity_label(case.priority))}">{escape(case.priority)}</span></td>'
            f'<td class="c-state"><span class="badge state-{escape(lower_state(case.state))}">{escape(state_label(case.state))}</span></td>'
            f'<td class="c-updated nowrap">{time_html(case.updated_at, "relative")}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # every value above is escaped


def _time(at) -> str:
    return mark_safe(time_html(at, "short"))  # time_html escapes


def _name(user) -> str:
    return user.display_name if user is not None else ""


@register.simple_tag(takes_context=True)
def timeline_items(context, case, timeline) -> str:
    """The <li>s of a case's history (templates/cases/detail.html), written directly: a
    case with fifty messages spent a third of its page in the template engine
    (docs/performance.md). Every value goes through format_html, so it is escaped."""
    deletable = context.get("is_support")
    csrf = get_token(context["request"]) if deletable else ""

    def comment(item, at):
        if item.internal:  # only in a support engineer's timeline (case_timeline, R11)
            return format_html(
                '<li class="timeline-item comment internal-note" data-testid="internal-note"><header>'
                '<span class="badge internal">{}</span> <strong>{}</strong> {}</header><div class="body">{}</div></li>',
                _("Internal note"),
                _name(item.author) or item.author_email,
                _time(at),
                linebreaksbr(item.body, autoescape=True),
            )
        return format_html(
            '<li class="timeline-item comment{}"><header><strong>{}</strong> {}</header><div class="body">{}</div></li>',
            " from-support" if item.from_support else "",
            _("Support") if item.from_support else (_name(item.author) or item.author_email),
            _time(at),
            linebreaksbr(item.body, autoescape=True),
        )

    def attachment(item, at):
        if item.is_deleted:
            what = format_html(
                '<strong>{}</strong>: {} <span class="muted">— {} ({})</span>',
                _("Attachment deleted"),
                item.filename,
                item.deletion_reason,
                format_when(item.deleted_at),
            )
        else:
            what = format_html(
                '{} <a href="{}" data-testid="attachment-link">{}</a> <span class="muted">{} · {}</span>',
                PAPERCLIP,
                reverse("cases:download", args=[case.number, item.pk]),
                item.filename,
                filesizeformat(item.size),
                _name(item.uploader),
            )
        tool = ""
        if deletable and not item.is_deleted:
            tool = format_html(
                '<details class="inline-tool"><summary>{}</summary>'
                '<form method="post" action="{}" class="inline-form">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<label for="reason-{}">{}</label>'
                '<input type="text" id="reason-{}" name="reason" required maxlength="500">'
                '<button type="submit" class="button small danger">{}</button></form></details>',
                _("Delete attachment"),
                reverse("cases:attachment_delete", args=[case.number, item.pk]),
                csrf,
                item.pk,
                _("Reason"),
                item.pk,
                _("Delete"),
            )
        return format_html(
            '<li class="timeline-item attachment"><header>{} {}</header>{}</li>', what, _time(at), tool
        )

    def event(item, at):
        change = ""
        if item.field == "state":
            change = format_html(": {} → {}", state_label(item.before), state_label(item.after))
        elif item.field == "priority":
            change = format_html(": {} → {}", item.before, item.after)
        elif item.field == "subscribers":
            change = format_html(": {}", item.after or item.before)
        elif item.field == "assignee":
            change = format_html(": {}", item.after or "—")
        return format_html(
            '<li class="timeline-item event"><span class="muted">{}{} · {} · {}</span></li>',
            event_label(item.kind),
            change,
            _name(item.actor) or item.actor_email or _("System"),
            _time(at),
        )

    write = {"comment": comment, "attachment": attachment, "event": event}
    return format_html_join("\n", "{}", ((write[entry.kind](entry.item, entry.at),) for entry in timeline))


# The direction a column starts in when first chosen: newest, highest severity (P0
# first), A to Z, highest number.
_FIRST_SORT = {
    "updated": "-updated",
    "created": "-created",
    "severity": "severity",
    "customer": "customer",
    "number": "-number",
}


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str) -> str:
    """A column header that sorts the list by `key`, the other way when it already does;
    `aria-sort` tells screen readers the current order."""
    current = context.get("sort") or "-updated"
    first = _FIRST_SORT[key]
    if current.lstrip("-") == key:
        target = current[1:] if current.startswith("-") else "-" + current
        # P0 first reads "descending" severity for a person, though it is P-ascending.
        descending = current.startswith("-") != (key == "severity")
        aria = format_html(' aria-sort="{}"', "descending" if descending else "ascending")
        arrow = icon_svg("sort-down" if descending else "sort-up")
    else:
        target, aria, arrow = first, "", ""
    href = with_query(context, sort=target, cursor=None)
    return format_html(
        '<th scope="col"{}><a class="sort-link" href="{}">{}{}</a></th>', aria, href, label, mark_safe(arrow)
    )
