"""Upgrading keeps the data: a database made at the first migration, filled at every step
(snapshots first, then installations, subscriptions, digests, deliveries...), upgraded to head
with nothing lost, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, MetaData, insert, select

from bot.cache import Cache
from bot.cli import main
from bot.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from bot.migrate import upgrade_safely
from bot.registry import load_registry
from bot.store import store_crawl
from tests.fixtures_cache import T1, crawl, store_world

ROWS_PER_TABLE = 3
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


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


def test_an_upgrade_from_the_first_migration_keeps_every_row(bare_engine):
    engine = bare_engine
    steps = revisions(engine)
    assert steps[0] == "0001"
    upgrade(engine, "0001")
    store_world(engine)
    cache_before = Cache(engine).latest()
    seen = set(reflect(engine).tables)
    for revision in steps[1:]:
        upgrade(engine, revision)
        for table in reflect(engine).sorted_tables:
            if table.name not in seen:
                fill(engine, table)
                seen.add(table.name)
    assert {"subscriptions", "digests", "deliveries", "slack_installations"} <= seen
    before = contents(engine)
    assert len(before["subscriptions"]) == ROWS_PER_TABLE

    assert upgrade_safely(engine) == (steps[-1], head_revision(engine))

    after = contents(engine)
    for table_name, rows in before.items():
        assert table_name in after, f"table {table_name} was dropped"
        for key, row in rows.items():
            kept = after[table_name].get(key)
            assert kept is not None, f"{table_name} lost row {key}"
            assert {k: kept.get(k) for k in row} == row, f"{table_name} row {key} changed"
    cache = Cache(engine)
    assert cache.latest() == cache_before
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
    assert cache.latest().source == "after-upgrade"


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
from bot.db import make_engine
from bot.migrate import upgrade_safely
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
