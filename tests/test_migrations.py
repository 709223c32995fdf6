"""Upgrading keeps the data: a database made at the first migration, its tables filled at every
step (snapshots first, then installations, subscriptions, digests, deliveries...), upgraded to
head with nothing lost but the columns a migration drops on purpose, on SQLite and on
PostgreSQL; a downgrade from 0005 gives back what it dropped."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, MetaData, insert, select

from bot.cli import main
from bot.core.registry import load_registry
from bot.model.crawl import Crawl
from bot.model.hub_week import reduce_week
from bot.model.records import to_record
from bot.store.engine import alembic_config, current_revision, head_revision, make_engine, upgrade
from bot.store.history import WeekCost, imported_weeks, write_week
from bot.store.migrate import upgrade_safely
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from tests.fakes.hub import make_record
from tests.fixtures_cache import T0, T1, crawl, store_world

ROWS_PER_TABLE = 3
REMIX = "mistralai/Cogito-Remix"
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]
DROPPED = {("models", "last_seen_snapshot_id")}
"""(table, column) that a migration drops on purpose, the only values an upgrade may lose:
0005 drops the snapshot that last saw a model (nothing read it; the ``model_stats`` rows that
name a model are the snapshots that saw it)."""


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty database: the test decides how far to migrate."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def revisions(engine: Engine) -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def reflect(engine: Engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(bind=engine)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def value_for(column: sa.Column[Any], i: int, referenced: dict[str, list[Any]]) -> Any:
    """A plausible value of the column's type, different for each row ``i``."""
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column
        return referenced[f"{target.table.name}.{target.name}"][0]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return 100 + i
    if isinstance(kind, sa.Float | sa.Numeric):
        return i + 0.5
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 5, 9, 0) + timedelta(hours=i)
    if isinstance(kind, sa.Date):
        return date(2026, 1, 5) + timedelta(days=i)
    if isinstance(kind, sa.LargeBinary):
        return bytes([i]) * 8
    if isinstance(kind, sa.String):
        text = f"{column.name[:6]}-{i}"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no sample value for {column.table.name}.{column.name}: {kind!r}")


def fill(engine: Engine, table: sa.Table) -> None:
    """Insert rows with every column set (but integer keys, which the database assigns)."""
    referenced: dict[str, list[Any]] = {}
    with engine.begin() as connection:
        for column in table.columns:
            for fk in column.foreign_keys:
                target = fk.column
                found = connection.execute(select(target)).scalars().all()
                assert found, f"{table.name}.{column.name} refers to an empty table"
                referenced[f"{target.table.name}.{target.name}"] = list(found)
        keys = list(table.primary_key.columns)
        serial = keys if len(keys) == 1 and isinstance(keys[0].type, sa.Integer) else []
        rows = [
            {c.name: value_for(c, i, referenced) for c in table.columns if c not in serial}
            for i in range(ROWS_PER_TABLE)
        ]
        connection.execute(insert(table), rows)


def contents(engine: Engine) -> Rows:
    """Every row of every table, keyed by primary key."""
    found: Rows = {}
    with engine.connect() as connection:
        for table in reflect(engine).sorted_tables:
            keys = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            found[table.name] = {
                tuple(row[k] for k in keys): dict(row)
                for row in connection.execute(select(table)).mappings()
            }
    return found


def fill_new_tables(engine: Engine, seen: set[str]) -> None:
    """``fill`` every table that ``seen`` does not name yet, and name it."""
    for table in reflect(engine).sorted_tables:
        if table.name not in seen:
            fill(engine, table)
            seen.add(table.name)


def assert_kept(
    before: Rows, after: Rows, step: str, dropped: set[tuple[str, str]] = DROPPED
) -> None:
    """Every table, row and value of ``before`` is in ``after``, but the ``dropped`` columns."""
    for table_name, rows in before.items():
        assert table_name in after, f"{step} dropped table {table_name}"
        for key, row in rows.items():
            kept = after[table_name].get(key)
            assert kept is not None, f"{step}: {table_name} lost row {key}"
            wanted = {k: v for k, v in row.items() if (table_name, k) not in dropped}
            assert wanted.keys() <= kept.keys(), f"{step} dropped columns of {table_name}"
            assert {k: kept[k] for k in wanted} == wanted, f"{step}: {table_name} row {key} changed"


def columns_of(engine: Engine) -> set[tuple[str, str]]:
    return {
        (table.name, column.name) for table in reflect(engine).sorted_tables for column in table.c
    }


def test_an_upgrade_from_the_first_migration_keeps_every_row(bare_engine):
    """Each migration from 0001 to head runs on tables holding rows with every column set, and
    keeps every row and value but those of the ``DROPPED`` columns. The rows are generic: the
    store writes the schema at head, so a realistic snapshot is written once there."""
    engine = bare_engine
    steps = revisions(engine)
    assert steps[0] == "0001"
    upgrade(engine, "0001")
    seen: set[str] = set()
    fill_new_tables(engine, seen)
    assert columns_of(engine) >= DROPPED
    for revision in steps[1:-1]:
        before = contents(engine)
        upgrade(engine, revision)
        assert_kept(before, contents(engine), revision)
        fill_new_tables(engine, seen)
    assert {"models", "lineage_edges", "subscriptions", "digests", "deliveries"} <= seen
    assert "slack_installations" in seen
    before = contents(engine)
    assert all(len(before[name]) == ROWS_PER_TABLE for name in seen)

    assert upgrade_safely(engine) == (steps[-2], head_revision(engine))

    assert_kept(before, contents(engine), steps[-1])
    assert not DROPPED & columns_of(engine)
    store_world(engine)
    reader = Reader(engine)
    assert reader.latest().source == "fixture"
    assert reader.parents(REMIX) == [("deepcogito/cogito-v2.1", "finetune")]
    later = T1 + timedelta(days=7)
    store_crawl(
        engine,
        crawl(1),
        load_registry(),
        taken_at=later,
        finished_at=later,
        source="after-upgrade",
        top_n=100,
    )
    assert reader.latest().source == "after-upgrade"


def test_the_first_snapshot_into_an_empty_sqlite_database_keeps_its_indexes(sqlite_engine):
    """The first write drops the secondary indexes of empty tables and builds them again, and
    stores datetimes as the text SQLAlchemy would (SQL compares them as strings)."""

    def indexes() -> set[tuple[str, str]]:
        with sqlite_engine.connect() as connection:
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            return {(row.name, row.sql) for row in connection.exec_driver_sql(query)}

    before = indexes()
    assert {"ix_models_author", "ix_models_created_at", "ix_lineage_edges_parent"} <= {
        name for name, _ in before
    }
    store_world(sqlite_engine, weeks=1)
    assert indexes() == before
    with sqlite_engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT created_at FROM models WHERE created_at IS NOT NULL"
        ).scalars()
        texts = list(stored)
    assert texts
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", t) for t in texts)


def without(crawl: Crawl, model_id: str) -> Crawl:
    """``crawl`` as if the Hub no longer listed ``model_id``."""
    records = {m: record for m, record in crawl.records.items() if m != model_id}
    return Crawl(records=records, top_ids=[m for m in crawl.top_ids if m != model_id])


def store_at(engine: Engine, crawl: Crawl, taken_at: datetime, source: str) -> int:
    return store_crawl(
        engine,
        crawl,
        load_registry(),
        taken_at=taken_at,
        finished_at=taken_at,
        source=source,
        top_n=100,
    ).snapshot_id


def column_by_model(rows: Rows, column: str) -> dict[str, Any]:
    return {key[0]: row[column] for key, row in rows["models"].items()}


def indexes(engine: Engine) -> dict[str, set[str]]:
    """Each table's index names."""
    inspector = sa.inspect(engine)
    return {
        table: {str(index["name"]) for index in inspector.get_indexes(table)}
        for table in inspector.get_table_names()
    }


def lineage_edges_without_rowid(engine: Engine) -> bool | None:
    """On SQLite, whether ``lineage_edges`` is a WITHOUT ROWID table; None elsewhere."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as connection:
        sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'lineage_edges'"
        ).scalar_one()
    return "WITHOUT ROWID" in sql.upper()


HISTORY_TABLES = frozenset(
    {"archive_weeks", "archive_sources", "week_aggregates", "week_releases", "week_models"}
)
"""Created by 0006."""
LATER_TABLES = frozenset({"request_replays", "org_imports"})
"""Created by 0007 and 0008."""


def test_a_downgrade_from_0006_drops_the_history_and_keeps_everything_else(engine):
    """An archived week at head; back at 0005 the history tables are gone and every other row
    is kept; upgraded again, the history is empty and takes a week again."""
    store_at(engine, crawl(0), T0, "first")
    week = reduce_week(T0.date(), [pa.RecordBatch.from_pylist(ARCHIVE_ROWS)], load_registry())
    cost = WeekCost(rows=2, missing_columns=(), file_bytes=100, bytes_read=10, seconds=0.1)
    write_week(engine, week, "archive", cost, T1)
    at_head = contents(engine)
    assert len(at_head["week_aggregates"]) > 0

    command.downgrade(alembic_config(engine), "0005")

    assert current_revision(engine) == "0005"
    after = contents(engine)
    assert HISTORY_TABLES.isdisjoint(after)
    kept = {n: r for n, r in at_head.items() if n not in HISTORY_TABLES | LATER_TABLES}
    assert_kept(kept, after, "to 0005")

    upgrade(engine)

    assert [w.status for w in imported_weeks(engine)] == []
    write_week(engine, week, "archive", cost, T1)
    assert [w.models for w in imported_weeks(engine)] == [2]


ARCHIVE_ROWS = [
    {"id": "Qwen/Qwen3-8B", "downloads": 10, "downloadsAllTime": 100},
    {"id": "someone/Qwen3-8B-GGUF", "downloads": 5, "tags": ["base_model:quantized:Qwen/Qwen3-8B"]},
]


def test_a_downgrade_from_0005_sets_the_last_snapshot_that_saw_each_model(engine):
    """Two snapshots at head; back at 0004 each model's ``last_seen_snapshot_id`` is the latest
    snapshot whose ``model_stats`` name it, and every other row and value is kept; upgraded
    again, the store writes a third snapshot."""
    dropped_early, dropped_late = "google/gemma-old-release", "mistralai/Mistral-7B"
    first = store_at(engine, without(crawl(0), dropped_early), T0, "first")
    second = store_at(engine, without(crawl(1), dropped_late), T1, "second")
    expected = {m: second for m in crawl(1).records if m != dropped_late}
    expected[dropped_late] = first
    assert lineage_edges_without_rowid(engine) in (True, None)
    at_head, indexes_at_head = contents(engine), indexes(engine)
    assert "ix_lineage_edges_parent" in indexes_at_head["lineage_edges"]
    assert all(row["fingerprint"] is not None for row in at_head["models"].values())
    links = {
        (edge.child, edge.parent): edge.relation
        for week in (0, 1)
        for record in crawl(week).records.values()
        for edge in record.parents
    }
    assert {key: row["relation"] for key, row in at_head["lineage_edges"].items()} == links

    command.downgrade(alembic_config(engine), "0004")

    assert current_revision(engine) == "0004"
    assert ("models", "fingerprint") not in columns_of(engine)
    at_0004 = contents(engine)
    before_0006 = {
        name: rows for name, rows in at_head.items() if name not in HISTORY_TABLES | LATER_TABLES
    }
    assert_kept(before_0006, at_0004, "downgrade to 0004", dropped={("models", "fingerprint")})
    assert at_0004["lineage_edges"] == at_head["lineage_edges"]
    assert column_by_model(at_0004, "last_seen_snapshot_id") == expected
    assert lineage_edges_without_rowid(engine) in (False, None)

    upgrade(engine)

    assert_kept(at_0004, contents(engine), "upgrade to head")
    assert ("models", "last_seen_snapshot_id") not in columns_of(engine)
    assert lineage_edges_without_rowid(engine) in (True, None)
    assert indexes(engine) == indexes_at_head
    later = T1 + timedelta(days=7)
    third = store_at(engine, crawl(1), later, "third")
    reader = Reader(engine)
    assert reader.latest().id == third
    after = contents(engine)
    assert all(row["fingerprint"] is not None for row in after["models"].values())
    assert column_by_model(after, "first_seen_snapshot_id") == column_by_model(
        at_head, "first_seen_snapshot_id"
    )
    assert after["lineage_edges"] == at_head["lineage_edges"]


def test_the_first_refresh_after_the_upgrade_to_0005_keeps_only_a_changed_models_new_parent(
    engine,
):
    """A database whose rows a hubpulse before 0005 wrote (here: one snapshot, then a downgrade
    to 0004, which leaves the rows that store wrote) has no fingerprints after the upgrade. A
    model whose parent changed on the Hub meanwhile must then have only its new parent."""
    store_at(engine, crawl(0), T0, "before 0005")
    command.downgrade(alembic_config(engine), "0004")
    upgrade(engine)
    moved = to_record(make_record(REMIX, downloads=200, parents=["Qwen/Qwen2.5-7B"]))
    changed = crawl(1)
    changed.records[REMIX] = moved

    store_at(engine, changed, T1, "after 0005")

    assert Reader(engine).parents(REMIX) == [("Qwen/Qwen2.5-7B", "finetune")]


def test_db_upgrade_and_current(database_url, bare_engine):
    runner = CliRunner(env={"HUBPULSE_DATABASE_URL": database_url})
    head = head_revision(bare_engine)
    upgrade(bare_engine, "0001")

    result = runner.invoke(main, ["db", "current"])
    assert result.exit_code == 0
    assert result.stdout == f"0001; this hubpulse's head is {head}: run `hubpulse db upgrade`.\n"

    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0
    assert result.stdout.endswith(f"upgraded from 0001 to revision {head}.\n")
    assert current_revision(bare_engine) == head

    assert runner.invoke(main, ["db", "upgrade"]).stdout.endswith(
        f"already at revision {head}, nothing to do.\n"
    )
    assert runner.invoke(main, ["db", "current"]).stdout == f"{head} (head): up to date.\n"


def test_a_database_from_a_newer_hubpulse_is_refused(database_url, bare_engine):
    upgrade(bare_engine)
    with bare_engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": database_url}).invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert result.stderr.startswith("hubpulse: the database schema is at revision 9999, which")
    assert "upgraded by a newer hubpulse" in result.stderr
    assert len(result.stderr.splitlines()) == 1


MIGRATE_AT_START = """
import sys
from bot.store.engine import make_engine
from bot.store.migrate import upgrade_safely
engine = make_engine(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
print(upgrade_safely(engine))
"""


@pytest.mark.postgres
def test_processes_starting_together_migrate_one_at_a_time(postgres_url):
    """Two replicas and the scheduler start at once on one empty PostgreSQL: all come up, and
    exactly one of them ran the migrations."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AT_START, postgres_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [process.returncode for process in processes] == [0, 0, 0], results
    engine = make_engine(postgres_url)
    head = head_revision(engine)
    engine.dispose()
    assert sorted(out.strip() for out, _ in results) == sorted(
        [str((None, head)), str((head, head)), str((head, head))]
    )
