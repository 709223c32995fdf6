"""PNG charts for answers, drawn with matplotlib's Agg canvas (no display, no pyplot state).

The figures are built with the object API (``Figure`` + ``FigureCanvasAgg``), so charts can be
drawn from several threads at once without pyplot's global state.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.answers.message import Chart
from bot.core.registry import UNKNOWN_COUNTRY

COUNTRY_COLOURS = {"CN": "#d62728", "US": "#1f77b4"}
OTHER_COLOUR = "#7f7f7f"
UNKNOWN_COLOUR = "#bcbcbc"
MISSING_COLOUR = "#ffffff"
MAX_COLUMNS = 4
MAX_ROWS = 8
"""Boxes drawn per chain; a longer chain shows its root end and its model end, with a gap
marker saying how many links are left out between them."""
MARKED_POINTS = 30
DPI = 110
PREVIEW_INCHES = 3.3
"""Width of a lineage diagram: about 360 px at ``DPI``, the width Slack previews an image at,
so the preview is the image at full size (chains are stacked, never side by side)."""
ILLUSTRATIVE = "Illustrative demo data: real names, invented figures"
"""Drawn in every chart of demo data, so that a PNG saved or forwarded still says so."""


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


ILLUSTRATIVE_STYLE: dict[str, Any] = {
    "ha": "center",
    "va": "top",
    "fontsize": 7.5,
    "style": "italic",
    "color": "#b00020",
}


class MonthNamedFormatter(ConciseDateFormatter):
    """``ConciseDateFormatter``, except that the first tick names its month and year
    ("Jan 2025", or "5 Jan 2025" off the first of a month): on its own a concise axis can
    start at "08" or "Feb" and leave the reader to find the year in a corner."""

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        labels = list(super().format_ticks(values))
        if labels:
            first = num2date(values[0], tz=self._tz)
            whole_month = first.day == 1 and (first.hour, first.minute) == (0, 0)
            day = "" if whole_month else f"{first.day} "
            labels[0] = f"{day}{first:%b %Y}"
        return labels


def share_figure(title: str, series: Sequence[Series], *, illustrative: bool) -> Figure:
    """Lines of share (0..1) per snapshot, one per series (``share_over_time``'s figure)."""
    figure = Figure(figsize=(7, 3.4))
    FigureCanvasAgg(figure)
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
    axes.xaxis.set_major_formatter(MonthNamedFormatter(locator, show_offset=False))
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes.set_ylim(bottom=0)
    axes.set_title(title, fontsize=11)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    if illustrative:  # at the foot of the figure, under the axis labels
        figure.text(0.5, 0.0, ILLUSTRATIVE, **ILLUSTRATIVE_STYLE)
    return figure


def share_over_time(title: str, series: Sequence[Series], *, illustrative: bool) -> Chart:
    """Lines of share (0..1) per snapshot, one per series; ``illustrative`` for demo data."""
    figure = share_figure(title, series, illustrative=illustrative)
    first = min(p[0] for s in series for p in s.points)
    last = max(p[0] for s in series for p in s.points)
    latest = ", ".join(f"{s.label} {s.points[-1][1] * 100:.1f}%" for s in series if s.points)
    alt = f"{title}: {latest} (from {first:%Y-%m-%d} to {last:%Y-%m-%d})"
    if illustrative:
        alt = f"{ILLUSTRATIVE}. {alt}"
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


@dataclass(frozen=True)
class Gap:
    """Models of a long chain left out of the diagram: drawn as a marker, never as a link."""

    models: int


def shown_nodes(nodes: Sequence[Node], limit: int = MAX_ROWS) -> list[Node | Gap]:
    """A chain as drawn: whole when it fits, else its root end, a ``Gap``, and its model end
    (the model asked about always shows, with the link to its parent)."""
    if len(nodes) <= limit:
        return list(nodes)
    head = (limit - 1) // 2
    tail = limit - 1 - head
    return [*nodes[:head], Gap(len(nodes) - head - tail), *nodes[-tail:]]


def lineage_figure(title: str, columns: Sequence[Column], *, illustrative: bool) -> Figure:
    """Chains drawn root at the top, one under the other, boxes coloured by country."""
    chains = [(shown_nodes(column.nodes), column.footer) for column in columns[:MAX_COLUMNS]]
    rows = sum(len(nodes) + (0.6 if footer else 0) for nodes, footer in chains)
    rows += 0.5 * max(len(chains) - 1, 0)
    figure = Figure(figsize=(PREVIEW_INCHES, 0.62 * max(rows, 1) + 0.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_xlim(-0.5, 0.5)
    top = bottom = 0.0
    for nodes, footer in chains:
        for index, item in enumerate(nodes):
            y = top - index
            if isinstance(item, Gap):
                axes.text(
                    0,
                    y,
                    f"⋮ {item.models} more {'model' if item.models == 1 else 'models'} not shown",
                    ha="center",
                    va="center",
                    fontsize=7,
                    style="italic",
                    gid="gap",
                )
                continue
            colour = MISSING_COLOUR if item.missing else country_colour(item.country)
            axes.text(
                0,
                y,
                _box_label(item),
                ha="center",
                va="center",
                fontsize=7.5,
                color="white" if colour in COUNTRY_COLOURS.values() else "black",
                bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "#333333", "lw": 0.6},
                gid=f"node:{item.model_id}",
            )
            if index > 0 and not isinstance(nodes[index - 1], Gap):
                axes.annotate(
                    "",
                    xy=(0, y + 0.3),
                    xytext=(0, y + 0.7),
                    arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 0.8},
                    gid=f"link:{nodes[index - 1].model_id}->{item.model_id}",  # type: ignore[union-attr]
                )
                if item.relation:
                    axes.text(0.04, y + 0.5, item.relation, fontsize=6.5, va="center")
        top -= len(nodes)
        bottom = top + 0.6  # under the last box
        if footer:
            axes.text(0, top + 0.45, footer, ha="center", fontsize=7, style="italic")
            bottom = top + 0.35
            top -= 0.6
        top -= 0.5
    if illustrative:  # right under the chains, not at the foot of the figure
        axes.text(0, bottom - 0.1, ILLUSTRATIVE, **ILLUSTRATIVE_STYLE)
        bottom -= 0.45
    axes.set_ylim(bottom - 0.1, 0.6)
    axes.set_title(title, fontsize=8.5, wrap=True)
    return figure


def lineage_diagram(title: str, columns: Sequence[Column], *, illustrative: bool) -> Chart:
    """``lineage_figure`` as a PNG; ``illustrative`` for demo data."""
    figure = lineage_figure(title, columns, illustrative=illustrative)
    described = "; ".join(" → ".join(n.model_id for n in c.nodes) for c in columns[:MAX_COLUMNS])
    alt = f"{title}: {described}"
    if illustrative:
        alt = f"{ILLUSTRATIVE}. {alt}"
    return Chart(_png(figure), title, alt[:1000])
