"""Bar charts as inline SVG: no script, no inline style (the console's CSP forbids both).

Colours come from classes in ``console.css``; sizes are SVG presentation
attributes. Each chart names itself (``<title>``), summarises its data
(``<desc>``, referenced by ``aria-labelledby``) and gives every bar a
tooltip with its exact value; the page repeats the numbers in a table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 28, 44
_ids = itertools.count(1)


@dataclass(frozen=True)
class Point:
    label: str
    value: int


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above ``value`` (an axis maximum)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    title: str,
    points: Sequence[Point],
    *,
    fmt: Callable[[int], str] = lambda v: f"{v:,}",
    unit: str = "",
    css_class: str = "",
) -> Markup:
    """A vertical bar chart, one ``<rect class="bar">`` per point."""
    uid = f"chart-{next(_ids)}"
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((p.value for p in points), default=0))
    total = sum(p.value for p in points)
    peak = max(points, key=lambda p: p.value, default=None)
    summary = f"{title}: {len(points)} bars, total {fmt(total)}{unit}"
    if peak is not None and peak.value > 0:
        summary += f", highest {peak.label} at {fmt(peak.value)}{unit}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css_class)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(summary)}.</desc>',
        f'<text class="chart-title" x="{LEFT}" y="16" font-size="13">{escape(title)}</text>',
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h - fraction * plot_h
        value = round(top * fraction) if top > 1 else int(fraction)
        out.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="axis-label" x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end">{escape(fmt(value))}</text>'
        )
    out.append(
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>'
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>'
    )
    if points:
        slot = plot_w / len(points)
        bar_w = max(slot * 0.7, 1.0)
        every = max(1, round(len(points) / 12))
        limit = max(4, int(slot * every / 7))
        for n, p in enumerate(points):
            height = p.value / top * plot_h
            x = LEFT + n * slot + (slot - bar_w) / 2
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" '
                f'width="{bar_w:.1f}" height="{height:.1f}">'
                f"<title>{escape(p.label)}: {escape(fmt(p.value))}{escape(unit)}</title></rect>"
            )
            if n % every == 0:
                out.append(
                    f'<text class="axis-label" x="{x + bar_w / 2:.1f}" y="{TOP + plot_h + 16}" '
                    f'font-size="11" text-anchor="middle">{escape(_short(p.label, limit))}</text>'
                )
    else:
        out.append(
            f'<text class="axis-label" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" '
            f'font-size="12" text-anchor="middle">No usage in this period</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (every text above is escaped)
