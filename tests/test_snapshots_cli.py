"""``hubpulse snapshots list`` and ``prune``: the history stays small and nothing needed goes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, insert, select

from bot.cli import main
from bot.core.registry import load_registry
from bot.model.hub_week import reduce_week
from bot.store import schema
from bot.store.channel_tables import digests
from bot.store.history import WeekCost, record_failure, record_listing, write_week
from bot.store.reader import Reader
from bot.store.retention import SnapshotRow, plan_prune
from bot.store.writer import begin_snapshot, fail_snapshot, store_crawl
from tests.fixtures_cache import T1, crawl

MONDAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
"""ISO week 10 of 2026 starts on this day; the history runs three full weeks from it."""


def at(day: int, hour: int = 6) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour - 6)


def store(engine: Engine, when: datetime) -> int:
    result = store_crawl(
        engine,
        crawl(1),
        load_registry(),
        taken_at=when,
        finished_at=when + timedelta(minutes=5),
        source="test",
        top_n=100,
    )
    return result.snapshot_id


def fail(engine: Engine, when: datetime) -> int:
    snapshot_id = begin_snapshot(engine, when, "test", 100)
    fail_snapshot(engine, snapshot_id, "HfHubHTTPError: 500", when + timedelta(minutes=1))
    return snapshot_id


def build_history(engine: Engine) -> dict[str, int]:
    """21 daily snapshots (Mon 2 March to Sun 22 March), a second one on the last two days,
    two failed refreshes, one running refresh, and a digest that compares with 5 March."""
    ids = {}
    for day in range(21):
        ids[f"d{day}"] = store(engine, at(day))
        if day == 8:
            ids["failed-old"] = fail(engine, at(day, 12))
        if day == 19:
            ids["failed-recent"] = fail(engine, at(day, 12))
        if day >= 19:
            ids[f"d{day}-evening"] = store(engine, at(day, 18))
    ids["running"] = begin_snapshot(engine, at(21, 0), "test", 100)
    now = at(21)
    with engine.begin() as connection:
        connection.execute(
            insert(digests).values(
                team_id="T1",
                channel_id="C1",
                enabled=True,
                weekday="mon",
                time="09:00",
                timezone="UTC",
                added_by="U1",
                created_at=now,
                updated_at=now,
                last_snapshot_id=ids["d3"],
            )
        )
    return ids


KEPT = {"d20-evening", "d19-evening", "d18", "d13", "d3", "failed-recent", "running"}
"""keep-daily 3 (22, 21 and 20 March, each day's latest), keep-weekly 2 (weeks 12 and 11:
22 March evening, 15 March), the digest's 5 March, the recent failure, the running refresh."""


def rows(engine: Engine, table: schema.Table) -> dict[int, int]:
    with engine.connect() as connection:
        result = connection.execute(
            select(table.c.snapshot_id, func.count()).group_by(table.c.snapshot_id)
        )
        return {int(snapshot_id): int(n) for snapshot_id, n in result}


def run(database_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": database_url}).invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def baselines(engine: Engine) -> dict[int, int | None]:
    """Each snapshot's ``previous_snapshot_id``."""
    s = schema.snapshots
    with engine.connect() as connection:
        return {
            row.id: row.previous_snapshot_id
            for row in connection.execute(select(s.c.id, s.c.previous_snapshot_id))
        }


def test_prune_keeps_days_weeks_and_what_is_still_needed(engine, database_url):
    ids = build_history(engine)
    stats_before = rows(engine, schema.model_stats)
    baselines_before = baselines(engine)
    latest = Reader(engine).latest()

    code, out, err = run(
        database_url, "snapshots", "prune", "--keep-daily", "3", "--keep-weekly", "2"
    )

    assert (code, err) == (0, "")
    assert out.startswith(f"Deleted {len(ids) - len(KEPT)} snapshots (taken 2026-03-02 to ")
    remaining = baselines(engine)
    assert set(remaining) == {ids[name] for name in KEPT}
    for table in (schema.model_stats, schema.aggregates, schema.lineage_stats):
        assert set(rows(engine, table)) == {ids[n] for n in KEPT if n.startswith("d")}
    assert rows(engine, schema.model_stats) == {
        k: v for k, v in stats_before.items() if k in remaining
    }
    assert Reader(engine).latest() == latest
    # A deleted baseline is cleared, never left dangling nor re-pointed; a kept one stays.
    cleared = {k for k, v in baselines_before.items() if v is not None and v not in remaining}
    assert cleared & set(remaining)
    for snapshot_id, previous in remaining.items():
        expected = None if snapshot_id in cleared else baselines_before[snapshot_id]
        assert previous == expected


def test_dry_run_deletes_nothing_and_lists_what_would_go(sqlite_engine, sqlite_url):
    ids = build_history(sqlite_engine)
    code, out, _ = run(
        sqlite_url, "snapshots", "prune", "--keep-daily", "3", "--keep-weekly", "2", "--dry-run"
    )
    assert code == 0
    lines = out.splitlines()
    assert (
        lines[0]
        == f"Would delete {len(ids) - len(KEPT)} snapshots (taken 2026-03-02 to 2026-03-22) "
        f"and keep {len(KEPT)}."
    )
    listed = {int(line.split()[0]) for line in lines[1:]}
    assert listed == {ids[name] for name in set(ids) - KEPT}
    assert "failed" in out
    assert len(Reader(sqlite_engine).snapshots(status=None)) == len(ids)


def test_prune_vacuums_sqlite(sqlite_engine, sqlite_url):
    build_history(sqlite_engine)
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = path.stat().st_size + Path(f"{path}-wal").stat().st_size
    code, out, _ = run(sqlite_url, "snapshots", "prune", "--keep-daily", "1")
    assert code == 0
    assert "; database " in out
    wal = Path(f"{path}-wal")
    after = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    assert after < before


def test_prune_needs_to_be_told_what_to_keep(sqlite_url):
    code, out, err = run(sqlite_url, "snapshots", "prune")
    assert (code, out) == (2, "")
    assert err == "hubpulse: say what to keep: --keep-daily M and/or --keep-weekly N\n"


def test_list_shows_every_status_newest_first(sqlite_engine, sqlite_url):
    ids = build_history(sqlite_engine)
    code, out, _ = run(sqlite_url, "snapshots", "list", "--limit", "4")
    assert code == 0
    header, *lines, history = out.splitlines()
    assert header.split() == ["ID", "TAKEN", "(UTC)", "STATUS", "SOURCE", "MODELS", "COVERAGE"]
    assert history == "Whole-Hub history: no archive week imported yet (run `hubpulse backfill`)."
    assert [line.split()[0] for line in lines] == [
        str(ids[n]) for n in ("running", "d20-evening", "d20", "d19-evening")
    ]
    assert lines[0].split()[1:4] == ["2026-03-23", "00:00", "running"]
    models = len(crawl(1).records)
    top = len(crawl(1).top_ids)
    assert lines[1].split()[3:] == ["complete", "test", str(models), f"{top}/100", "top"]
    code, out, _ = run(sqlite_url, "snapshots", "list", "--limit", "0")
    assert len(out.splitlines()) == len(ids) + 2


def test_list_says_what_history_was_imported_and_when_the_archive_stopped_answering(
    sqlite_engine, sqlite_url
):
    registry = load_registry()
    cost = WeekCost(rows=1, missing_columns=(), file_bytes=10, bytes_read=1, seconds=0.1)
    for day in (date(2025, 1, 6), date(2025, 1, 13)):
        rows = [{"id": "Qwen/a", "downloads": 1}]
        week = reduce_week(day, [pa.RecordBatch.from_pylist(rows)], registry)
        write_week(sqlite_engine, week, "hfmlsoc/hub_weekly_snapshots", cost, T1)
    record_failure(sqlite_engine, date(2025, 1, 20), "hfmlsoc/hub_weekly_snapshots", "broken", T1)
    record_listing(sqlite_engine, "hfmlsoc/hub_weekly_snapshots", T1, weeks=3)
    later = T1 + timedelta(days=30)
    record_listing(sqlite_engine, "hfmlsoc/hub_weekly_snapshots", later, error="not found")
    record_listing(
        sqlite_engine, "hfmlsoc/hub_weekly_snapshots", later + timedelta(days=1), error="x"
    )
    out = run(sqlite_url, "snapshots", "list")[1].splitlines()
    assert out[-2] == (
        "Whole-Hub history: 2 weeks imported from hfmlsoc/hub_weekly_snapshots "
        "(2025-01-06 to 2025-01-13); 1 week failed (2025-01-20)."
    )
    assert out[-1] == (
        f"Archive hfmlsoc/hub_weekly_snapshots: unavailable since {later:%Y-%m-%d %H:%M} UTC "
        "(x); answers use the weeks already imported and the live snapshots."
    )
    record_listing(
        sqlite_engine, "hfmlsoc/hub_weekly_snapshots", later + timedelta(days=2), weeks=4
    )
    assert run(sqlite_url, "snapshots", "list")[1].splitlines()[-1].startswith("Whole-Hub history")


def test_list_on_an_empty_store(sqlite_url):
    assert run(sqlite_url, "snapshots", "list")[1].startswith("No snapshots stored yet")


def snap(snapshot_id: int, when: datetime, status: str = "complete") -> SnapshotRow:
    return SnapshotRow(snapshot_id, when, status)


@pytest.mark.parametrize(
    ("keep_daily", "keep_weekly", "kept"),
    [
        (0, 0, {7}),  # the latest complete snapshot, always
        (2, 0, {7, 5}),  # each day's latest: Sunday evening, Saturday
        (0, 2, {7, 3}),  # each ISO week's latest: this week's Sunday, last week's Sunday
        (10, 0, {7, 5, 4, 3, 2, 1}),  # more days asked than stored: all days' latest
    ],
)
def test_plan_counts_days_and_iso_weeks_that_have_snapshots(keep_daily, keep_weekly, kept):
    sunday = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)  # last day of ISO week 11
    history = [
        snap(1, sunday - timedelta(days=14)),  # week 9
        snap(2, sunday - timedelta(days=8)),  # Saturday, week 10
        snap(3, sunday - timedelta(days=7)),  # Sunday, week 10
        snap(4, sunday - timedelta(days=2)),  # Friday, week 11 (nothing on Monday-Thursday)
        snap(5, sunday - timedelta(days=1)),  # Saturday, week 11
        snap(6, sunday),  # Sunday morning
        snap(7, sunday + timedelta(hours=12)),  # Sunday evening: the latest
    ]
    plan = plan_prune(history, keep_daily=keep_daily, keep_weekly=keep_weekly)
    assert {s.id for s in plan.keep} == kept
    assert {s.id for s in plan.delete} == {s.id for s in history} - kept
    assert [s.id for s in plan.keep] == sorted(kept, reverse=True)


def test_plan_keeps_running_protected_and_recent_failures():
    start = datetime(2026, 3, 1, tzinfo=UTC)
    history = [
        snap(1, start),
        snap(2, start + timedelta(days=1), "failed"),
        snap(3, start + timedelta(days=2)),
        snap(4, start + timedelta(days=3)),
        snap(5, start + timedelta(days=3, hours=1), "failed"),
        snap(6, start + timedelta(days=4), "running"),
        snap(7, start + timedelta(days=4, hours=1), "failed"),
    ]
    plan = plan_prune(history, keep_daily=1, keep_weekly=0, protected={1})
    assert {s.id for s in plan.keep} == {1, 4, 5, 6, 7}
    assert {s.id for s in plan.delete} == {2, 3}


def test_prune_with_nothing_old_enough(sqlite_engine, sqlite_url):
    for day in range(3):
        store(sqlite_engine, at(day))
    code, out, _ = run(sqlite_url, "snapshots", "prune", "--keep-daily", "3")
    assert (code, out) == (0, "Nothing to prune: all 3 snapshots are kept.\n")
