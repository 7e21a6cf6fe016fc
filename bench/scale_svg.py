"""The scale curve as an SVG: each dashboard's median CPU time against the big site's
events, from the JSON lines that `bench/query.py --record` appends (one per run and size;
the median of the runs of each size is plotted). No plotting library: a few lines of SVG.

    .venv/bin/python bench/scale_svg.py runs.jsonl [more.jsonl ...] > docs/benchmark-scale.svg
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

WIDTH, HEIGHT = 680, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 210, 30, 50
# (zone, suite, label, colour); "filters" is the slowest one-filter dashboard of the run.
LINES = [
    ("UTC", "dashboard", "unfiltered, UTC", "#1f77b4"),
    ("America/New_York", "dashboard", "unfiltered, New York", "#17becf"),
    ("UTC", "country", "country = DE", "#d62728"),
    ("UTC", "filters", "slowest one filter", "#8c564b"),
    ("UTC", "country + source", "two filters", "#ff7f0e"),
    ("UTC", "goal", "goal filter", "#9467bd"),
    ("UTC", "page goal", "page goal", "#e377c2"),
    ("UTC", "funnels", "two funnels", "#2ca02c"),
]
TARGET_MS = 1000  # issue #17 item 3: a filtered dashboard at 20M events
ONE_FILTER = ("country", "source", "device", "browser", "page", "entry page", "UTM source")


def figures(paths: list[Path]) -> dict[tuple[str, str], dict[int, float]]:
    """(zone, suite) -> big site's events -> median CPU ms over the runs of that size."""
    seen: dict[tuple[str, str], dict[int, list[float]]] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            run = json.loads(line)
            for zone, suites in run["suites"].items():
                cpu = {name: value["cpu"] for name, value in suites.items()}
                filtered = [cpu[name] for name in ONE_FILTER if name in cpu]
                if filtered:
                    cpu["filters"] = max(filtered)
                for name, value in cpu.items():
                    if math.isnan(value):
                        continue
                    size = seen.setdefault((zone, name), {})
                    size.setdefault(run["big_site_events"], []).append(value)
    return {
        key: {size: statistics.median(values) for size, values in sizes.items()}
        for key, sizes in seen.items()
    }


def svg(data: dict[tuple[str, str], dict[int, float]]) -> str:
    sizes = sorted({size for line in data.values() for size in line})
    values = [v for line in data.values() for v in line.values()]
    x_lo, x_hi = math.log10(min(sizes)) - 0.1, math.log10(max(sizes)) + 0.1
    y_lo = 10 ** math.floor(math.log10(max(1.0, min(values))))
    y_hi = 10 ** math.ceil(math.log10(max(values)))

    def x(size: float) -> float:
        span = (x_hi - x_lo) or 1
        return LEFT + (math.log10(size) - x_lo) / span * (WIDTH - LEFT - RIGHT)

    def y(ms: float) -> float:
        span = math.log10(y_hi) - math.log10(y_lo)
        return (
            HEIGHT - BOTTOM - (math.log10(ms) - math.log10(y_lo)) / span * (HEIGHT - TOP - BOTTOM)
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        ' font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="18">Dashboard CPU time (median ms, log) by events of the site'
        " (log)</text>",
    ]
    tick = y_lo
    while tick <= y_hi:
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"'
            ' stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
        tick *= 10
    for size in sizes:
        out.append(
            f'<text x="{x(size):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"{size / 1e6:g}M</text>"
        )
    row = 0
    for zone, suite, label, colour in LINES:
        line = data.get((zone, suite))
        if not line:
            continue
        points = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in sorted(line.items()))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for s, v in sorted(line.items()):
            out.append(f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        legend = TOP + 20 + 18 * row
        out.append(
            f'<line x1="{WIDTH - RIGHT + 10}" x2="{WIDTH - RIGHT + 30}" y1="{legend - 4}"'
            f' y2="{legend - 4}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{WIDTH - RIGHT + 35}" y="{legend}">{label}</text>'
        )
        row += 1
    # What growing with the data would look like, from the smallest unfiltered point.
    base = data.get(("UTC", "dashboard"), {})
    if base:
        first = min(base)
        far = max(sizes)
        out.append(
            f'<line x1="{x(first):.1f}" y1="{y(base[first]):.1f}" x2="{x(far):.1f}"'
            f' y2="{y(min(y_hi, base[first] * far / first)):.1f}" stroke="#999"'
            ' stroke-dasharray="4 4"/>'
        )
        legend = TOP + 20 + 18 * row
        out.append(
            f'<line x1="{WIDTH - RIGHT + 10}" x2="{WIDTH - RIGHT + 30}" y1="{legend - 4}"'
            f' y2="{legend - 4}" stroke="#999" stroke-dasharray="4 4"/>'
            f'<text x="{WIDTH - RIGHT + 35}" y="{legend}">x data</text>'
        )
    # Issue #17's target for the filtered dashboards at 20M events: <= 1 s.
    if y_lo <= TARGET_MS <= y_hi and max(sizes) >= 20_000_000:
        out.append(
            f'<line x1="{x(20_000_000) - 25:.1f}" x2="{x(20_000_000) + 25:.1f}"'
            f' y1="{y(TARGET_MS):.1f}" y2="{y(TARGET_MS):.1f}" stroke="#d62728"'
            ' stroke-dasharray="2 3" stroke-width="2"/>'
            f'<text x="{x(20_000_000) - 30:.1f}" y="{y(TARGET_MS) + 4:.1f}" text-anchor="end"'
            ' fill="#d62728">target, filtered</text>'
        )
    out.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        "events of the big site (30 days)</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    paths = [Path(p) for p in sys.argv[1:]]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(svg(figures(paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
