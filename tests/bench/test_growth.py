"""The growth chart of docs/performance.md: one line per page through every run's p95."""

import json
import re

from bench.growth import growth_svg, load_runs


def report(tmp_path, name, cases, p95s):
    path = tmp_path / f"{name}.json"
    results = [{"name": op, "label": f"<{op}>", "side": "ours", "p95_ms": ms} for op, ms in p95s.items()] + [
        {"name": "my_cases_p1", "label": "admin", "side": "admin", "p95_ms": 999.0}
    ]
    path.write_text(json.dumps({"dataset": {"estimated_rows": {"cases_case": cases}}, "results": results}))
    return path


def test_one_line_per_page_through_every_size(tmp_path):
    runs = load_runs(
        [
            report(tmp_path, "big", 1_000_000, {"my_cases_p1": 40.0, "dashboard_agent": 120.0}),
            report(
                tmp_path, "small", 100_000, {"my_cases_p1": 35.0, "dashboard_agent": 90.0, "only_here": 5.0}
            ),
        ]
    )
    assert [cases for cases, _p, _l in runs] == [100_000, 1_000_000]
    assert runs[0][1]["my_cases_p1"] == 35.0  # ours, not the admin peer
    svg = growth_svg(runs)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert len(re.findall(r"<polyline ", svg)) == 2  # only pages timed at every size
    assert "&lt;my_cases_p1&gt;" in svg and "<my_cases_p1>" not in svg
    assert "1,000,000" in svg and "100,000" in svg
