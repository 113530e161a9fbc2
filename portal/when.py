"""How a moment is shown, everywhere (issue 12): in the viewer's time zone, by the
language's own rules (portal/formats/<language>/formats.py: one short and one long
format each), with the zone named ("KST", "UTC+7"), or relative ("3 hours ago",
"3시간 전") with the absolute time on hover. Pages use the `when` template filter,
Python-written fragments `time_html`, mail `format_when`."""

import zoneinfo
from datetime import datetime, timedelta
from html import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

_FORMATS = {"short": "SHORT_DATETIME_FORMAT", "long": "DATETIME_FORMAT", "date": "DATE_FORMAT"}


def zone_or_utc(name: str | None) -> zoneinfo.ZoneInfo:
    """The IANA zone `name`, or UTC when it is empty or unknown (a zone removed from the
    tz database, a value written before validation)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def zone_name(local: datetime) -> str:
    """The zone's abbreviation when it has a real one (KST, UTC, PST), else its offset
    from UTC ("UTC+7", "UTC+5:30") instead of the tz database's bare "+07"."""
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_absolute(value: datetime, style: str = "short") -> str:
    local = timezone.localtime(value)
    text = date_format(local, _FORMATS[style])
    return text if style == "date" else f"{text} {zone_name(local)}"


def format_relative(value: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    delta = now - value
    if abs(delta.total_seconds()) < 60:
        return _("just now")
    if delta.total_seconds() > 0:
        return _("%(delta)s ago") % {"delta": timesince(value, now, depth=1)}
    return _("in %(delta)s") % {"delta": timeuntil(value, now, depth=1)}


def format_when(value: datetime | None, style: str = "short") -> str:
    if value is None:
        return ""
    if style == "relative":
        return format_relative(value)
    return format_absolute(value, style)


def time_html(value: datetime | None, style: str = "short") -> str:
    """A <time> element: the machine-readable instant, the words, and for relative times
    the absolute long form as its title (shown on hover and read by screen readers)."""
    if value is None:
        return ""
    iso = escape(timezone.localtime(value).isoformat())
    if style == "relative":
        absolute = escape(format_absolute(value, "long"))
        return f'<time datetime="{iso}" title="{absolute}">{escape(format_relative(value))}</time>'
    return f'<time datetime="{iso}">{escape(format_absolute(value, style))}</time>'
