"""p95 against dataset size, one line per page, from bench_run results at several scales
(`manage.py bench_growth RESULT.json …`, or `python -m bench.growth RESULT.json … -o
docs/performance-growth.svg`). A small hand-written SVG: log-scaled size axis, linear
milliseconds, every page a line with its name at the right end; flat lines are what SPEC §8
asks for."""

from __future__ import annotations

import argparse
import json
import math
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 980, 620
LEFT, RIGHT, TOP, BOTTOM = 70, 300, 40, 60
PALETTE = [
    "#1a73e8",
    "#c5221f",
    "#188038",
    "#e37400",
    "#8430ce",
    "#007b83",
    "#b80672",
    "#5f6368",
    "#3949ab",
    "#6d4c41",
]


def load_runs(paths: list[Path]) -> list[tuple[int, dict[str, float], dict[str, str]]]:
    """(cases, {operation: p95 ms}, {operation: label}) per run, smallest first."""
    runs = []
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        cases = report.get("scale_cases") or report["dataset"]["estimated_rows"]["cases_case"]
        p95 = {
            r["name"]: r["p95_ms"]
            for r in report["results"]
            if r["side"] == "ours" and r["p95_ms"] == r["p95_ms"]
        }
        labels = {r["name"]: r["label"].strip() for r in report["results"] if r["side"] == "ours"}
        runs.append((int(cases), p95, labels))
    return sorted(runs, key=lambda run: run[0])


def growth_svg(runs, *, names: list[str] | None = None, title: str = "p95 server time against cases") -> str:
    sizes = [cases for cases, _p95, _labels in runs]
    common = set.intersection(*(set(p95) for _c, p95, _l in runs)) if runs else set()
    names = [n for n in (names or sorted(common)) if n in common]
    labels = {}
    for _c, _p, run_labels in runs:
        labels.update(run_labels)
    top = max((p95[n] for _c, p95, _l in runs for n in names), default=1)
    y_max = 10 ** math.ceil(math.log10(max(top, 1)))
    y_max = next(v for v in (y_max / 5, y_max / 2, y_max) if v >= top)
    x_lo, x_hi = math.log10(min(sizes)), math.log10(max(sizes))
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(cases: int) -> float:
        return LEFT + (math.log10(cases) - x_lo) / (x_hi - x_lo) * plot_w

    def y(ms: float) -> float:
        return TOP + plot_h - ms / y_max * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{LEFT}" y="24" font-size="15" fill="#202124">{escape(title)}</text>',
    ]
    for i in range(6):
        ms = y_max * i / 5
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(ms):.1f}" y2="{y(ms):.1f}" stroke="#e0e3e7"/>'
            f'<text x="{LEFT - 8}" y="{y(ms) + 4:.1f}" text-anchor="end" fill="#5f6368">{ms:g}</text>'
        )
    for cases in sizes:
        out.append(
            f'<line x1="{x(cases):.1f}" x2="{x(cases):.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#e0e3e7"/>'
            f'<text x="{x(cases):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" fill="#5f6368">{cases:,}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 18}" text-anchor="middle" fill="#3c4043">cases (log scale)</text>'
        f'<text x="18" y="{TOP + plot_h / 2}" text-anchor="middle" fill="#3c4043" '
        f'transform="rotate(-90 18 {TOP + plot_h / 2})">p95 ms</text>'
    )
    label_slots: list[float] = []
    for index, name in enumerate(names):
        color = PALETTE[index % len(PALETTE)]
        dash = "" if index < len(PALETTE) else ' stroke-dasharray="5 3"'
        points = " ".join(f"{x(c):.1f},{y(p95[name]):.1f}" for c, p95, _l in runs)
        out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"{dash}>')
        out.append(f"<title>{escape(labels.get(name, name))}</title></polyline>")
        for c, p95, _l in runs:
            out.append(f'<circle cx="{x(c):.1f}" cy="{y(p95[name]):.1f}" r="3" fill="{color}"/>')
        end = y(runs[-1][1][name])
        for slot in sorted(label_slots):  # keep the names at the right end apart
            if abs(slot - end) < 13:
                end = slot + 13
        label_slots.append(end)
        out.append(
            f'<text x="{LEFT + plot_w + 8}" y="{end + 4:.1f}" fill="{color}">'
            f"{escape(labels.get(name, name)[:44])} ({runs[-1][1][name]:.0f})</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/performance-growth.svg"))
    parser.add_argument("--names", nargs="*", help="operations to plot (default: every one in all runs)")
    args = parser.parse_args(argv)
    args.output.write_text(growth_svg(load_runs(args.results), names=args.names), encoding="utf-8")
    print(f"Written to {args.output}")


if __name__ == "__main__":
    main()
