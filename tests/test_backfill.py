"""``hubpulse backfill`` over a directory archive: weeks imported once each, resumable, a bad
week reported without losing the others, figures stored as the week reduced them."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, Table, func, select

from bot.cli import main
from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.ingest.archive import LocalArchive
from bot.ingest.backfill import backfill
from bot.store.engine import make_engine
from bot.store.history import imported_weeks
from bot.store.history_tables import week_aggregates, week_models, week_releases
from bot.store.snapshots import COMPLETE, FAILED

WEEKS = ("2024-07-24", "2024-07-31", "2024-08-07")


def write_week(root: Path, day: str, table: pa.Table) -> Path:
    path = root / "models" / day / "models.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=200)
    return path


def week_table(day: str, *, all_time: bool = True, models: int = 600) -> pa.Table:
    ids = [f"{('Qwen', 'meta-llama', 'someone')[i % 3]}/m{i}" for i in range(models)]
    columns: dict[str, object] = {
        "id": ids,
        "downloads": [i * 10 for i in range(models)],
        "createdAt": [f"{day}T12:00:00.000Z"] * models,
        "tags": [
            [f"base_model:finetune:Qwen/m{i % 9 * 3}"] if i % 4 == 1 else [] for i in range(models)
        ],
        "siblings": [os.urandom(64).hex() for _ in range(models)],  # heavy, never read
    }
    if all_time:
        columns["downloadsAllTime"] = [i * 100 for i in range(models)]
    return pa.table(columns)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    for k, day in enumerate(WEEKS):
        write_week(root, day, week_table(day, all_time=k > 0))
    (root / "README.md").write_text("not a week")
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["backfill", *args], prog_name="hubpulse")


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_backfill_imports_each_week_once_and_resumes(
    archive: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", database_url)
    first = run("--source", str(archive))
    assert first.exit_code == 0, first.output
    assert f"imported 3 weeks from {archive}" in first.stdout
    weeks = imported_weeks(engine)
    assert [(w.day.isoformat(), w.status, w.models) for w in weeks] == [
        (day, COMPLETE, 600) for day in WEEKS
    ]
    assert "downloadsAllTime" in weeks[0].missing_columns
    assert "downloadsAllTime" not in weeks[1].missing_columns
    assert all(w.bytes_read and w.file_bytes and w.bytes_read < w.file_bytes for w in weeks)
    stored = (
        count(engine, week_aggregates),
        count(engine, week_models),
        count(engine, week_releases),
    )

    again = run("--source", str(archive))
    assert again.exit_code == 0, again.output
    assert "nothing to import" in again.stdout
    assert "3 weeks already imported" in again.stdout
    assert (
        count(engine, week_aggregates),
        count(engine, week_models),
        count(engine, week_releases),
    ) == stored

    write_week(archive, "2024-08-14", week_table("2024-08-14"))
    later = run("--source", str(archive), "--since", "2024-08-01")
    assert later.exit_code == 0, later.output
    assert "imported 1 week" in later.stdout
    assert "1 week already imported" in later.stdout


def test_a_bad_week_is_reported_and_the_others_are_kept(
    archive: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", database_url)
    write_week(archive, "2024-08-14", pa.table({"name": ["no ids here"]}))
    (archive / "models" / "2024-08-21").mkdir()
    (archive / "models" / "2024-08-21" / "models.parquet").write_bytes(b"PAR1 truncated")
    result = run("--source", str(archive))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "2 weeks failed" in result.stderr
    assert (
        "2024-08-14: models/2024-08-14/models.parquet has no 'id' or 'downloads' column"
        in result.stderr
    )
    assert (
        "2024-08-21: models/2024-08-21/models.parquet is not a readable parquet file"
        in result.stderr
    )
    statuses = {w.day.isoformat(): w.status for w in imported_weeks(engine)}
    assert statuses == {
        **dict.fromkeys(WEEKS, COMPLETE),
        "2024-08-14": FAILED,
        "2024-08-21": FAILED,
    }

    write_week(archive, "2024-08-14", week_table("2024-08-14"))
    retry = run("--source", str(archive))
    assert retry.exit_code == 2  # 2024-08-21 is still broken
    assert "1 week failed" in retry.stderr
    assert {w.day.isoformat(): w.status for w in imported_weeks(engine)}["2024-08-14"] == COMPLETE


def test_stored_figures_are_the_reduced_week(archive: Path, sqlite_engine: Engine) -> None:
    report = backfill(
        sqlite_engine,
        LocalArchive(archive),
        load_registry(),
        until=date(2024, 7, 31),
        clock=FrozenClock(datetime(2026, 1, 5, tzinfo=UTC)),
    )
    assert report.imported == [date(2024, 7, 24), date(2024, 7, 31)]
    with sqlite_engine.connect() as connection:
        rows = connection.execute(
            select(week_aggregates.c.key, week_aggregates.c.share, week_aggregates.c.share_all_time)
            .where(
                week_aggregates.c.attribution == "publisher", week_aggregates.c.level == "country"
            )
            .order_by(week_aggregates.c.week_id, week_aggregates.c.key)
        ).all()
        releases = connection.execute(select(week_releases.c.org, week_releases.c.repos)).all()
    total = sum(i * 10 for i in range(600))
    qwen = sum(i * 10 for i in range(0, 600, 3)) / total
    first_week = {key: (share, all_time) for key, share, all_time in rows[:3]}
    assert first_week["CN"][0] == pytest.approx(qwen)
    assert first_week["CN"][1] is None  # the first week had no all-time counts
    assert rows[3][2] is not None
    assert sorted(releases) == [
        ("Qwen", 200),
        ("Qwen", 200),
        ("meta-llama", 200),
        ("meta-llama", 200),
    ]


def test_usage_problems_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    assert "is not a date" in run("--since", "last tuesday").output
    reversed_range = run("--since", "2025-02-01", "--until", "2025-01-01")
    assert reversed_range.exit_code == 2
    assert "comes after --until" in reversed_range.stderr
    nowhere = run("--source", str(tmp_path / "nowhere"))
    assert nowhere.exit_code == 2
    assert "neither a directory nor a dataset repo id" in nowhere.stderr
    make_engine(sqlite_url).dispose()
