"""The charts' figures, read as objects (tick labels, texts, arrows), not as pixels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from bot.answers.charts import (
    DPI,
    MAX_COLUMNS,
    MAX_ROWS,
    Column,
    Node,
    Series,
    lineage_figure,
    share_figure,
)

MONTH_AND_YEAR = re.compile(r"^(\d{1,2} )?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$")


def _tick_labels(figure: Figure) -> list[str]:
    figure.canvas.draw()
    (axes,) = figure.axes
    return [label.get_text() for label in axes.get_xticklabels() if label.get_text()]


@pytest.mark.parametrize(
    ("start", "weeks"),
    [
        (datetime(2025, 1, 6, tzinfo=UTC), 8),  # weekly ticks within two months
        (datetime(2024, 11, 4, tzinfo=UTC), 16),  # across a new year
        (datetime(2023, 6, 5, tzinfo=UTC), 104),  # two years: month or year ticks
        (datetime(2025, 3, 3, 9, tzinfo=UTC), 1),  # one week: daily ticks
    ],
)
def test_the_first_tick_of_a_time_axis_names_its_month_and_year(start, weeks) -> None:
    points = [(start + timedelta(weeks=w), 0.3 + 0.001 * w) for w in range(weeks + 1)]
    labels = _tick_labels(share_figure("share", [Series("China", points)], illustrative=False))
    assert MONTH_AND_YEAR.match(labels[0]), labels
    tick_year = int(labels[0][-4:])
    assert start.year <= tick_year <= (start + timedelta(weeks=weeks)).year


def _chain(length: int, prefix: str = "org") -> Column:
    nodes = [Node(f"{prefix}{i}/model-{i}", f"Org {i}", "US") for i in range(1)]
    nodes += [
        Node(f"{prefix}{i}/model-{i}", f"Org {i}", "CN", "finetune") for i in range(1, length)
    ]
    return Column(nodes)


def _links(figure: Figure) -> set[tuple[str, str]]:
    (axes,) = figure.axes
    found = set()
    for child in axes.get_children():
        if isinstance(child, Annotation) and (child.get_gid() or "").startswith("link:"):
            parent, _, model = child.get_gid()[len("link:") :].partition("->")
            found.add((parent, model))
    return found


def test_a_long_chain_shows_a_gap_marker_and_no_link_that_does_not_exist() -> None:
    column = _chain(20)
    figure = lineage_figure("Lineage", [column], illustrative=False)
    real = {(a.model_id, b.model_id) for a, b in zip(column.nodes, column.nodes[1:], strict=False)}
    drawn = _links(figure)
    assert drawn
    assert drawn <= real
    gaps = [t.get_text() for t in figure.axes[0].texts if t.get_gid() == "gap"]
    shown = MAX_ROWS - 1
    assert gaps == [f"⋮ {20 - shown} more models not shown"]
    nodes = [t.get_gid() for t in figure.axes[0].texts if (t.get_gid() or "").startswith("node:")]
    assert nodes[0] == "node:org0/model-0"
    assert nodes[-1] == "node:org19/model-19"
    assert len(nodes) == shown


def test_a_short_chain_draws_every_link() -> None:
    column = _chain(4)
    real = {(a.model_id, b.model_id) for a, b in zip(column.nodes, column.nodes[1:], strict=False)}
    assert _links(lineage_figure("Lineage", [column], illustrative=False)) == real


def test_the_lineage_diagram_fits_slacks_preview_width() -> None:
    """Slack previews an image about 360 px wide: the diagram is drawn at that width, however
    many chains it holds (they are stacked), so its 7-point text is not scaled down."""
    columns = [_chain(3, prefix=f"c{n}-") for n in range(MAX_COLUMNS)]
    figure = lineage_figure("Lineage of an org's top models", columns, illustrative=False)
    figure.canvas.draw()
    width_px = figure.get_window_extent().width * DPI / figure.dpi
    assert width_px <= 370
    sizes = {t.get_fontsize() for t in figure.axes[0].texts}
    assert min(sizes) >= 6.5
