"""PNG charts for answers, drawn with matplotlib's Agg canvas (no display, no pyplot state).

The figures are built with the object API (``Figure`` + ``FigureCanvasAgg``), so charts can be
drawn from several threads at once without pyplot's global state.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.answers.message import Chart
from bot.core.registry import UNKNOWN_COUNTRY

COUNTRY_COLOURS = {"CN": "#d62728", "US": "#1f77b4"}
OTHER_COLOUR = "#7f7f7f"
UNKNOWN_COLOUR = "#bcbcbc"
MISSING_COLOUR = "#ffffff"
MAX_COLUMNS = 4
MAX_ROWS = 12
MARKED_POINTS = 30
DPI = 110


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[datetime, float]]
    colour: str = OTHER_COLOUR
    dashed: bool = False


@dataclass(frozen=True)
class Node:
    """One box of a lineage diagram; ``relation`` is its link to the box above it."""

    model_id: str
    org_label: str
    country: str
    relation: str | None = None
    missing: bool = False


@dataclass(frozen=True)
class Column:
    """A chain from its root (first) down to the model asked about (last)."""

    nodes: Sequence[Node]
    footer: str = ""


def country_colour(code: str) -> str:
    if code == UNKNOWN_COUNTRY:
        return UNKNOWN_COLOUR
    return COUNTRY_COLOURS.get(code, OTHER_COLOUR)


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def share_over_time(title: str, series: Sequence[Series]) -> Chart:
    """Lines of share (0..1) per snapshot, one per series."""
    figure = Figure(figsize=(7, 3.4))
    axes = figure.add_subplot()
    for line in series:
        when = date2num([taken_at for taken_at, _ in line.points])
        share = [value for _, value in line.points]
        axes.plot(
            when,
            share,
            label=line.label,
            color=line.colour,
            linestyle="--" if line.dashed else "-",
            # a marker per point hides the dashes of a long weekly history
            marker="o" if len(line.points) <= MARKED_POINTS else None,
            markersize=3,
        )
    locator = AutoDateLocator(maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes.set_ylim(bottom=0)
    axes.set_title(title, fontsize=11)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    first = min(p[0] for s in series for p in s.points)
    last = max(p[0] for s in series for p in s.points)
    latest = ", ".join(f"{s.label} {s.points[-1][1] * 100:.1f}%" for s in series if s.points)
    alt = f"{title}: {latest} (from {first:%Y-%m-%d} to {last:%Y-%m-%d})"
    return Chart(_png(figure), title, alt[:1000])


def _box_label(node: Node) -> str:
    owner, _, name = node.model_id.partition("/")
    first = name or owner
    if len(first) > 30:
        first = first[:29] + "…"
    second = f"{node.org_label} · {node.country}"
    if node.missing:
        second += " · not in cache"
    return f"{first}\n{second}"


def lineage_diagram(title: str, columns: Sequence[Column]) -> Chart:
    """Chains drawn root at the top, one column each, boxes coloured by country."""
    shown = list(columns[:MAX_COLUMNS])
    rows = max(min(len(c.nodes), MAX_ROWS) for c in shown) if shown else 1
    footers = any(column.footer for column in shown)
    figure = Figure(figsize=(3.3 * max(len(shown), 1), 0.75 * rows + 0.6))
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_xlim(-0.5, len(shown) - 0.5)
    axes.set_ylim(-(rows - 1) - (0.9 if footers else 0.5), 0.5)
    for x, column in enumerate(shown):
        nodes = list(column.nodes)
        if len(nodes) > MAX_ROWS:
            nodes = [*nodes[: MAX_ROWS // 2], *nodes[-(MAX_ROWS // 2) + 1 :]]
        for y, node in enumerate(nodes):
            colour = MISSING_COLOUR if node.missing else country_colour(node.country)
            axes.text(
                x,
                -y,
                _box_label(node),
                ha="center",
                va="center",
                fontsize=7.5,
                color="white" if colour in COUNTRY_COLOURS.values() else "black",
                bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "#333333", "lw": 0.6},
            )
            if y > 0:
                axes.annotate(
                    "",
                    xy=(x, -y + 0.3),
                    xytext=(x, -y + 0.7),
                    arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 0.8},
                )
                if node.relation:
                    axes.text(x + 0.04, -y + 0.5, node.relation, fontsize=6.5, va="center")
        if column.footer:
            axes.text(x, -len(nodes) + 0.35, column.footer, ha="center", fontsize=7, style="italic")
    axes.set_title(title, fontsize=10)
    described = "; ".join(" → ".join(n.model_id for n in c.nodes) for c in shown)
    return Chart(_png(figure), title, f"{title}: {described}"[:1000])
