"""Charts as server-side SVG: no JavaScript, no CDN, nothing for the CSP to allow.

Each chart is an accessible image (role="img", aria-label, <title> and <desc>) and
carries its numbers as rows for a visually hidden table beside it, so a screen reader
gets the data and not only a picture. Every piece of text is escaped here."""

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans KR', 'Malgun Gothic', sans-serif"
TEXT = "#3c4043"
MUTED = "#5f6368"
GRID = "#e0e3e7"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    color: str


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]
    color: str


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    description: str
    svg: SafeString
    headers: list[str]
    rows: list[list]


def _nice_max(value: int, ticks: int = 4) -> tuple[int, int]:
    """An axis maximum and step that are round numbers (1, 2, 5 × 10^n) covering `value`."""
    if value <= 0:
        return ticks, 1
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        step = max(int(factor * magnitude), 1)
        if step * ticks >= value:
            return step * ticks, step
    return value, max(value // ticks, 1)  # not reached


def _open_svg(
    chart_id: str, title: str, description: str, width: int, height: int, css: str = "chart"
) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" aria-describedby="{escape(chart_id)}-desc" '
        f'font-family="{escape(FONT)}" font-size="12">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def bar_chart(
    *, chart_id: str, title: str, description: str, bars: list[Bar], label_header: str, value_header: str
) -> Chart:
    """Horizontal bars, one per category, the value written at the end of each bar."""
    width, label_width, row, top = 520, 190, 34, 8
    plot = width - label_width - 56
    height = top * 2 + row * len(bars)
    top_value = max((bar.value for bar in bars), default=0) or 1
    parts = _open_svg(chart_id, title, description, width, height)
    for index, bar in enumerate(bars):
        y = top + index * row
        length = round(plot * bar.value / top_value)
        parts += [
            f'<text x="{label_width - 10}" y="{y + row / 2 + 4:.0f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(bar.label)}</text>",
            f'<rect x="{label_width}" y="{y + 6}" width="{plot}" height="{row - 12}" fill="#f1f3f4" rx="3"/>',
        ]
        if length:
            parts.append(
                f'<rect x="{label_width}" y="{y + 6}" width="{length}" height="{row - 12}" '
                f'fill="{escape(bar.color)}" rx="3"><title>{escape(bar.label)}: {bar.value}</title></rect>'
            )
        parts.append(
            f'<text x="{label_width + length + 8}" y="{y + row / 2 + 4:.0f}" fill="{TEXT}" '
            f'font-weight="600">{bar.value}</text>'
        )
    parts.append("</svg>")
    return Chart(
        chart_id=chart_id,
        title=title,
        description=description,
        svg=mark_safe("".join(parts)),  # every text above is escaped
        headers=[label_header, value_header],
        rows=[[bar.label, bar.value] for bar in bars],
    )


def column_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[Series],
    category_header: str,
) -> Chart:
    """Grouped columns: one group per category (a week), one column per series, with a
    value axis, gridlines and a legend."""
    width, height = 960, 300
    left, right, top, bottom = 44, 12, 40, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max((v for s in series for v in s.values), default=0)
    axis_max, step = _nice_max(top_value)
    parts = _open_svg(chart_id, title, description, width, height, css="chart wide")

    # legend
    x = left
    for s in series:
        parts += [
            f'<rect x="{x}" y="10" width="12" height="12" fill="{escape(s.color)}" rx="2"/>',
            f'<text x="{x + 18}" y="20" fill="{TEXT}">{escape(s.name)}</text>',
        ]
        x += 30 + sum(7 if ord(ch) < 0x1100 else 12 for ch in s.name)

    # value axis and gridlines
    for tick in range(0, axis_max + 1, step):
        y = top + plot_h - plot_h * tick / axis_max
        parts += [
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>',
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick}</text>',
        ]

    groups = max(len(categories), 1)
    group_w = plot_w / groups
    column_w = max(min((group_w - 8) / max(len(series), 1), 22), 2)
    for index, category in enumerate(categories):
        gx = left + index * group_w
        offset = (group_w - column_w * len(series)) / 2
        for s_index, s in enumerate(series):
            value = s.values[index]
            h = plot_h * value / axis_max
            cx = gx + offset + s_index * column_w
            if value:
                parts.append(
                    f'<rect x="{cx:.1f}" y="{top + plot_h - h:.1f}" width="{column_w - 1:.1f}" '
                    f'height="{h:.1f}" fill="{escape(s.color)}">'
                    f"<title>{escape(category)} · {escape(s.name)}: {value}</title></rect>"
                )
        parts.append(
            f'<text x="{gx + group_w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'fill="{MUTED}" font-size="11">{escape(category)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{MUTED}"/>'
    )
    parts.append("</svg>")
    return Chart(
        chart_id=chart_id,
        title=title,
        description=description,
        svg=mark_safe("".join(parts)),  # every text above is escaped
        headers=[category_header, *[s.name for s in series]],
        rows=[[category, *[s.values[i] for s in series]] for i, category in enumerate(categories)],
    )
