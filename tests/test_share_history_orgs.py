"""Orgs the archive keeps for one measure and not the other, and authors only the archive names.

A week keeps the org rows of the top ``ORG_ROWS_KEPT`` orgs of each measure and of every
registered org. In this world, whose right answers are known by construction, 550 unregistered
authors ``f0`` … ``f549`` outnumber the rows kept; ``oldfav`` has the largest all-time count of
the Hub and almost no 30-day downloads (last by 30-day downloads, first by all-time ones), and
``fader`` is among the top in the first week and deleted after it. ``famx`` is among the top
by both measures as a publisher (a popular fine-tune of Qwen's, an old root of its own), and
as a family (lineage) by all-time downloads only. No live snapshot exists:
every answer comes from the archived weeks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from bot.answers.message import Answer
from bot.answers.render import downloads, percent
from bot.core.clock import FrozenClock
from bot.core.errors import UserError
from bot.core.registry import Registry
from bot.model.aggregates import LINEAGE, ORG, ORG_ROWS_KEPT, PUBLISHER
from bot.model.hub_week import reduce_week
from bot.store.history import WeekCost, imported_weeks, write_week
from bot.store.reader import Reader
from commands import share
from commands.base import Context
from tests.hubworld import small_registry
from tests.share_history_world import NOW, history_engine

DAYS = [date(2025, 1, 6), date(2025, 6, 30), date(2026, 1, 5)]
FILLERS = 550
OLDFAV_BASE, OLDFAV_GROWTH = 100_000_000, 5_000
"""``oldfav/classic``'s all-time count before the first week, and its growth each week."""
OLDFAV_30D = 3


def filler(i: int) -> int:
    """``f<i>/m``'s 30-day downloads (every week): all of them above ``oldfav``'s."""
    return 1_000 + i


def rows(k: int) -> dict[str, tuple[int, int]]:
    """Week k's models: id -> (30-day downloads, all-time downloads)."""
    found = {f"f{i}/m": (filler(i), 10 * filler(i) + k * filler(i)) for i in range(FILLERS)}
    found["oldfav/classic"] = (OLDFAV_30D, OLDFAV_BASE + OLDFAV_GROWTH * k)
    found["Qwen/q"] = (50_000, 1_000_000 + 50_000 * k)
    found["famx/root"] = (0, 50_000_000)
    found["famx/popular"] = (3_000_000, 10)
    if k == 0:
        found["fader/m"] = (2_000_000, 10_000)
    return found


PARENTS = {"famx/popular": "Qwen/q"}


def table(k: int) -> pa.Table:
    models = rows(k)
    return pa.table(
        {
            "id": list(models),
            "downloads": [d for d, _ in models.values()],
            "downloadsAllTime": [a for _, a in models.values()],
            "createdAt": ["2024-06-01T00:00:00.000Z"] * len(models),
            "tags": [
                [f"base_model:finetune:{PARENTS[m]}"] if m in PARENTS else ["text-generation"]
                for m in models
            ],
        }
    )


@pytest.fixture(scope="module")
def registry() -> Registry:
    return small_registry()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("archive")
    for k, day in enumerate(DAYS):
        path = root / "models" / day.isoformat() / "models.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(table(k), path, row_group_size=100)
    engine = history_engine(tmp_path_factory.mktemp("history"), root, registry)
    yield engine
    engine.dispose()


def ask(engine: Engine, text: str, registry: Registry) -> Answer:
    reader = Reader(engine, registry, FrozenClock(NOW))
    return share.COMMAND.run(text, Context(reader, engine, want_chart=False))


def refused(engine: Engine, text: str, registry: Registry) -> str:
    with pytest.raises(UserError) as caught:
        ask(engine, text, registry)
    message = caught.value.message
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def test_the_world_has_more_orgs_than_a_week_keeps():
    assert len(rows(0)) > ORG_ROWS_KEPT + 1
    by_30d = sorted(rows(0), key=lambda m: -rows(0)[m][0])
    assert by_30d.index("oldfav/classic") >= ORG_ROWS_KEPT  # cut by 30-day downloads


def test_a_week_keeps_an_org_for_either_measure_with_both_figures(registry):
    week = reduce_week(DAYS[0], table(0).to_batches(), registry)
    for attribution in (PUBLISHER, LINEAGE):
        thirty = {
            r.key: r for r in week.aggregates if (r.attribution, r.level) == (attribution, ORG)
        }
        all_time = {
            r.key: r for r in week.all_time if (r.attribution, r.level) == (attribution, ORG)
        }
        assert thirty.keys() == all_time.keys()
        assert all_time["oldfav"].rank == 1
        assert all_time["oldfav"].downloads == OLDFAV_BASE
        assert thirty["oldfav"].downloads == OLDFAV_30D
        assert thirty["oldfav"].rank > ORG_ROWS_KEPT  # its true rank: beyond the rows kept
        assert "f0" not in thirty  # below the top of both measures, unregistered: cut
    lineage_30d = {r.key: r for r in week.aggregates if (r.attribution, r.level) == (LINEAGE, ORG)}
    assert lineage_30d["famx"].downloads == 0  # kept for its family's all-time count
    assert lineage_30d["famx"].rank > ORG_ROWS_KEPT


def oldfav_latest_all_time() -> tuple[int, int]:
    """``oldfav``'s all-time downloads in the last week, and the whole Hub's."""
    last = len(DAYS) - 1
    return OLDFAV_BASE + OLDFAV_GROWTH * last, sum(a for _, a in rows(last).values())


def test_an_org_first_by_all_time_and_last_by_30_day_answers_all_time(world, registry):
    text = ask(world, "oldfav all-time", registry).text
    mine, total = oldfav_latest_all_time()
    assert (
        f"• Own repos (publisher attribution): *{percent(mine / total)}* of all-time downloads "
        f"· {downloads(mine)}"
    ) in text
    assert "not in the org registry, so no country" in text
    family = ask(world, "famx all-time", registry).text
    assert (
        "• Whole family, third-party derivatives included (lineage attribution): "
        f"*{percent(50_000_000 / total)}* · {downloads(50_000_000)}"
    ) in family
    assert "other/unknown (" not in text


def test_an_org_first_by_all_time_answers_a_period_from_its_growth(world, registry):
    text = ask(world, "oldfav 2025", registry).text
    # 2025: from the week of 6 Jan 2025 (the history's first) to that of 30 Jun 2025.
    growth = {m: rows(1).get(m, (0, 0))[1] - rows(0)[m][1] for m in rows(0)}
    total = sum(growth.values())
    assert f"*{percent(OLDFAV_GROWTH / total)}* of the period's downloads · " in text
    assert f"{downloads(OLDFAV_GROWTH)}" in text
    assert "the archived weeks of 6 Jan 2025 to 30 Jun 2025" in text


def test_head_to_head_with_an_archive_only_author(world, registry):
    text = ask(world, "oldfav vs qwen", registry).text
    mine, total = oldfav_latest_all_time()
    assert (
        f"• *All-time downloads*, week of 5 Jan 2026: the oldfav family *{percent(mine / total)}*"
    ) in text
    assert "The oldfav family led in every archived week since that of 6 Jan 2025." in text
    assert "The Alibaba Qwen family led in every archived week since that of 6 Jan 2025." in text


def test_head_to_head_with_an_author_no_week_holds_is_refused(world, registry):
    message = refused(world, "f0 vs qwen", registry)
    assert message == "no org or model called `f0`"


def test_an_author_nobody_knows_gets_one_line(world, registry):
    message = refused(world, "nobody-at-all 2025", registry)
    assert message == "no org or model called `nobody-at-all`"


def test_an_author_cut_from_a_week_the_period_needs_is_refused_in_one_line(world, registry):
    message = refused(world, "fader 2025", registry)
    assert message.startswith("`fader` is not in the org registry")
    assert "the week of 30 Jun 2025 that 2025 needs has none" in message
    assert "6 Jan 2025 to 6 Jan 2025" in message
    # all-time reads the latest week, which has no row of it either.
    assert "the week of 5 Jan 2026 that all time needs" in refused(
        world, "fader all-time", registry
    )


def test_a_week_whose_windows_disagree_is_refused_whole(sqlite_engine, registry):
    week = reduce_week(DAYS[0], table(0).to_batches(), registry)
    cut = replace(week, aggregates=[r for r in week.aggregates if r.key != "oldfav"])
    cost = WeekCost(rows=len(rows(0)), missing_columns=(), file_bytes=None, bytes_read=0, seconds=0)
    with pytest.raises(ValueError, match="all-time rows without 30-day ones"):
        write_week(sqlite_engine, cut, "archive", cost, NOW)
    assert imported_weeks(sqlite_engine) == []
