"""Tags every page uses: inline SVG icons and the one way a date is shown (issue 12)."""

from datetime import datetime

from django import template
from django.utils.safestring import mark_safe

from portal import when as when_module

register = template.Library()

# Inline SVG, never emoji: an emoji shows as a box where no emoji font is installed, and
# an inline icon needs no request and no font. 24×24, stroked in the text colour.
_PATHS = {
    "paperclip": '<path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l8-8"/>',
    "menu": '<path d="M3 6h18M3 12h18M3 18h18"/>',
    "home": '<path d="M3 11l9-8 9 8v10a1 1 0 0 1-1 1h-5v-7H9v7H4a1 1 0 0 1-1-1z"/>',
    "arrow-left": '<path d="M19 12H5M12 19l-7-7 7-7"/>',
    "sort-up": '<path d="M12 19V5M5 12l7-7 7 7"/>',
    "sort-down": '<path d="M12 5v14M19 12l-7 7-7-7"/>',
    "download": '<path d="M12 3v12M7 10l5 5 5-5M4 21h16"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
}


def icon_svg(name: str, css_class: str = "icon") -> str:
    return (
        f'<svg class="{css_class}" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor"'
        f' stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"'
        f' focusable="false">{_PATHS[name]}</svg>'
    )


@register.simple_tag
def icon(name: str) -> str:
    return mark_safe(icon_svg(name))  # fixed markup from _PATHS


@register.filter
def when(value: datetime | None, style: str = "short") -> str:
    """`{{ case.updated_at|when }}`: a <time> in the viewer's zone, by the language's own
    rules, with the zone named. Styles: "short", "long", "relative" (recency, the
    absolute time on hover)."""
    return mark_safe(when_module.time_html(value, style))  # time_html escapes


@register.filter
def when_text(value: datetime | None, style: str = "short") -> str:
    """The same words without the <time> element (for attributes and plain text)."""
    return when_module.format_when(value, style)
