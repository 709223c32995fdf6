"""A refresh writes only the models that changed, and leaves the store a refresh from scratch
would have made, on SQLite and on PostgreSQL.

``models`` and ``lineage_edges`` hold the latest known metadata: a model a crawl did not see
keeps its row and its links, a model whose metadata or parents changed gets exactly the new
ones, and a model seen again unchanged is not written at all. Writes are counted by triggers the
tests create in the database, not by watching our code.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text

from bot.core.registry import load_registry
from bot.model.aggregates import COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.model.crawl import Crawl
from bot.model.records import to_record
from bot.store import schema
from bot.store.bulk import indexes_deferred, insert_rows
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from tests.fakes.hub import make_record

T_A = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T_B = T_A + timedelta(days=7)

BASES = ("Qwen/Qwen3-8B", "meta-llama/Llama-3.1-8B", "google/gemma-2-9b", "mistralai/Mistral-7B")
TUNES = tuple(f"tuners/tune-{i:02}" for i in range(16))
MERGE = "merger/Qwen-Llama-Merge"
CHANGED = "tuners/tune-03"
"""Its licence and tags change between crawl A and crawl B."""
MOVED = "tuners/tune-05"
"""Fine-tunes ``BASES[1]`` in crawl A, ``BASES[2]`` in crawl B."""
GONE = "tuners/tune-07"
"""In crawl A only."""
ORPHANED = "tuners/tune-09"
"""Fine-tunes ``BASES[1]`` in crawl A, has no parent in crawl B."""
GATED = "tuners/tune-11"
"""Only its gating changes, from open in crawl A to manual approval in crawl B."""
NEW = "newcomer/tune-new"
"""In crawl B only."""


@dataclass(frozen=True)
class Spec:
    id: str
    parents: tuple[str, ...] = ()
    relation: str = "finetune"
    license: str = "apache-2.0"
    tags: tuple[str, ...] = ()
    gated: bool | str = False


def world_a() -> list[Spec]:
    """4 base models, 16 fine-tunes of them and a merge of two."""
    tunes = [Spec(m, (BASES[i % len(BASES)],)) for i, m in enumerate(TUNES)]
    return [Spec(m) for m in BASES] + tunes + [Spec(MERGE, BASES[:2], relation="merge")]


def world_b() -> list[Spec]:
    """World A a week later: one model relicensed and retagged, one moved to another parent,
    one without its parent, one gated, one gone, one new."""
    found = []
    for spec in world_a():
        if spec.id == GONE:
            continue
        if spec.id == CHANGED:
            spec = replace(spec, license="mit", tags=("chat",))
        if spec.id == MOVED:
            spec = replace(spec, parents=(BASES[2],))
        if spec.id == ORPHANED:
            spec = replace(spec, parents=())
        if spec.id == GATED:
            spec = replace(spec, gated="manual")
        found.append(spec)
    return [*found, Spec(NEW, (BASES[0],))]


def crawl_of(specs: Iterable[Spec], week: int) -> Crawl:
    """The crawl of ``specs``; every model's downloads differ from one ``week`` to the next."""
    records = {}
    for n, spec in enumerate(specs):
        downloads = 1000 - 10 * n + 37 * week
        raw = make_record(
            spec.id,
            downloads=downloads,
            downloads_all_time=10 * downloads + 500 * week,
            likes=n + week,
            parents=spec.parents,
            relation=spec.relation,
            license=spec.license,
            extra_tags=spec.tags,
            gated=spec.gated,
        )
        records[spec.id] = to_record(raw)
    top = sorted(records, key=lambda m: (-records[m].downloads, m))
    return Crawl(records=records, top_ids=top, org_ids=set(records))


def store(engine: Engine, crawl: Crawl, taken_at: datetime) -> int:
    return store_crawl(
        engine,
        crawl,
        load_registry(),
        taken_at=taken_at,
        finished_at=taken_at + timedelta(minutes=5),
        source="incremental-test",
        top_n=100,
    ).snapshot_id


@pytest.fixture
def scratch(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A second empty store of the same kind as ``engine`` (on PostgreSQL, another schema),
    for a refresh from scratch."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'scratch.db'}"
    else:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        options = {"options": f"-csearch_path={name}"}
        url = engine.url.update_query_dict(options).render_as_string(hide_password=False)
    other = make_engine(url)
    try:
        upgrade(other)
        yield other
    finally:
        other.dispose()
        if engine.dialect.name != "sqlite":
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))


@dataclass(frozen=True)
class Refreshed:
    """Crawl A then crawl B stored into ``incremental``, crawl B alone into ``from_scratch``."""

    incremental: Engine
    from_scratch: Engine
    a: int
    b: int
    b_from_scratch: int


@pytest.fixture
def refreshed(engine: Engine, scratch: Engine) -> Refreshed:
    a = store(engine, crawl_of(world_a(), 0), T_A)
    b = store(engine, crawl_of(world_b(), 1), T_B)
    return Refreshed(engine, scratch, a, b, store(scratch, crawl_of(world_b(), 1), T_B))


def models_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(schema.models)).mappings()
        return {row["id"]: dict(row) for row in rows}


def links(engine: Engine) -> set[tuple[str, str, str]]:
    e = schema.lineage_edges
    with engine.connect() as connection:
        return {
            tuple(row) for row in connection.execute(select(e.c.child, e.c.parent, e.c.relation))
        }


def spec_links(specs: Iterable[Spec]) -> set[tuple[str, str, str]]:
    return {(spec.id, parent, spec.relation) for spec in specs for parent in spec.parents}


def without_first_seen(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "first_seen_snapshot_id"}


def test_an_incremental_refresh_stores_what_a_refresh_from_scratch_stores(refreshed):
    incremental = models_rows(refreshed.incremental)
    from_scratch = models_rows(refreshed.from_scratch)
    in_b = {spec.id for spec in world_b()}
    assert set(from_scratch) == in_b
    assert {m: without_first_seen(incremental[m]) for m in in_b} == {
        m: without_first_seen(row) for m, row in from_scratch.items()
    }
    b_links = spec_links(world_b())
    assert links(refreshed.from_scratch) == b_links
    assert {link for link in links(refreshed.incremental) if link[0] in in_b} == b_links

    assert {m: incremental[m]["first_seen_snapshot_id"] for m in in_b} == {
        m: refreshed.b if m == NEW else refreshed.a for m in in_b
    }
    assert {row["first_seen_snapshot_id"] for row in from_scratch.values()} == {
        refreshed.b_from_scratch
    }


def test_a_model_the_crawl_did_not_see_keeps_its_row_and_its_links(engine):
    a = store(engine, crawl_of(world_a(), 0), T_A)
    row, kept_links = models_rows(engine)[GONE], links(engine)
    store(engine, crawl_of(world_b(), 1), T_B)
    assert models_rows(engine)[GONE] == row
    assert row["first_seen_snapshot_id"] == a
    gone_links = {link for link in links(engine) if link[0] == GONE}
    assert gone_links == {link for link in kept_links if link[0] == GONE}
    assert gone_links == {(GONE, BASES[3], "finetune")}


def test_a_changed_model_has_exactly_its_new_metadata_and_parents(engine, scratch):
    store(engine, crawl_of(world_a(), 0), T_A)
    before = models_rows(engine)[CHANGED]
    after = crawl_of(world_b(), 1).records[CHANGED]
    store(engine, crawl_of(world_b(), 1), T_B)
    store(scratch, crawl_of(world_b(), 1), T_B)

    row = models_rows(engine)[CHANGED]
    assert (row["license"], json.loads(row["tags"])) == ("mit", after.tags)
    assert "chat" in after.tags
    assert row["fingerprint"] != before["fingerprint"]
    assert row["fingerprint"] == models_rows(scratch)[CHANGED]["fingerprint"]
    assert {link for link in links(engine) if link[0] == MOVED} == {(MOVED, BASES[2], "finetune")}
    assert Reader(engine).parents(MOVED) == [(BASES[2], "finetune")]
    assert Reader(engine).parents(ORPHANED) == []
    assert models_rows(engine)[GATED]["gated"] == "manual"


WATCHED = ("models", "lineage_edges")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def count_writes(engine: Engine) -> None:
    """Triggers that add a row to ``writes`` for each row inserted, updated or deleted in
    ``models`` and ``lineage_edges``."""
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE writes (tbl VARCHAR(40) NOT NULL, op VARCHAR(10) NOT NULL)"
        )
        if engine.dialect.name == "sqlite":
            for table in WATCHED:
                for operation in OPERATIONS:
                    connection.exec_driver_sql(
                        f"CREATE TRIGGER count_{table}_{operation.lower()} AFTER {operation}"  # noqa: S608
                        f" ON {table} BEGIN INSERT INTO writes VALUES ('{table}', '{operation}');"
                        " END"
                    )
            return
        connection.exec_driver_sql(
            "CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN INSERT INTO writes VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$"
        )
        for table in WATCHED:
            connection.exec_driver_sql(
                f"CREATE TRIGGER count_{table} AFTER {' OR '.join(OPERATIONS)} ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION count_write()"
            )


def writes(engine: Engine) -> Counter[tuple[str, str]]:
    """The rows written since the last call, by (table, operation)."""
    with engine.begin() as connection:
        found = Counter(
            (row.tbl, row.op) for row in connection.execute(text("SELECT tbl, op FROM writes"))
        )
        connection.execute(text("DELETE FROM writes"))
    return found


def test_a_model_seen_again_unchanged_is_not_written(engine):
    specs = world_a()
    store(engine, crawl_of(specs, 0), T_A)
    count_writes(engine)

    store(engine, crawl_of(specs, 1), T_B)
    assert writes(engine) == Counter()

    retagged = [replace(s, tags=("chat",)) if s.id == BASES[3] else s for s in specs]
    store(engine, crawl_of(retagged, 2), T_B + timedelta(days=7))
    assert writes(engine) == Counter({("models", "UPDATE"): 1})

    moved = [replace(s, parents=(BASES[2],)) if s.id == MOVED else s for s in retagged]
    store(engine, crawl_of([*moved, Spec(NEW, (BASES[0],))], 3), T_B + timedelta(days=14))
    assert writes(engine) == Counter(
        {
            ("models", "UPDATE"): 1,
            ("models", "INSERT"): 1,
            ("lineage_edges", "DELETE"): 1,
            ("lineage_edges", "INSERT"): 2,
        }
    )
    assert Reader(engine).parents(MOVED) == [(BASES[2], "finetune")]


def test_an_upsert_does_not_rewrite_a_row_equal_to_the_stored_one(engine):
    """``ON CONFLICT ... DO UPDATE`` skips a row whose updated columns equal the stored ones,
    null included, and rewrites one where a single column differs."""
    columns = ("id", "id_lower", "author", "gated", "tags", "license", "fingerprint")
    row = ("lab/model", "lab/model", "lab", "false", "[]", None, 7)
    update = columns[2:]
    with engine.begin() as connection:
        insert_rows(connection, schema.models, columns, [row])
    count_writes(engine)
    with engine.begin() as connection:
        insert_rows(connection, schema.models, columns, [row], conflict=("id",), update=update)
    assert writes(engine) == Counter()
    relicensed = (*row[:5], "mit", 7)
    with engine.begin() as connection:
        insert_rows(
            connection, schema.models, columns, [relicensed], conflict=("id",), update=update
        )
    assert writes(engine) == Counter({("models", "UPDATE"): 1})
    assert models_rows(engine)["lab/model"]["license"] == "mit"


def test_the_answers_after_an_incremental_refresh_are_those_from_scratch(refreshed):
    incremental, from_scratch = Reader(refreshed.incremental), Reader(refreshed.from_scratch)
    b, b_from_scratch = refreshed.b, refreshed.b_from_scratch
    latest = incremental.latest()
    assert (latest.id, latest.models_total) == (b, len(world_b()))
    assert replace(latest, id=0) == replace(from_scratch.latest(), id=0)
    for attribution, level in ((PUBLISHER, COUNTRY), (PUBLISHER, ORG), (LINEAGE, COUNTRY)):
        assert incremental.aggregates(b, attribution, level) == (
            from_scratch.aggregates(b_from_scratch, attribution, level)
        )
    for model_id in (CHANGED, MOVED, ORPHANED, NEW, BASES[0], BASES[1], BASES[2]):
        model, again = incremental.model(model_id), from_scratch.model(model_id)
        assert model is not None
        assert again is not None
        assert replace(model, first_seen_snapshot_id=None) == replace(
            again, first_seen_snapshot_id=None
        )
        assert incremental.parents(model_id) == from_scratch.parents(model_id)
        assert incremental.lineage_stat(b, model_id) == (
            from_scratch.lineage_stat(b_from_scratch, model_id)
        )
    moved_to = incremental.lineage_stat(b, BASES[2])
    assert moved_to is not None
    assert moved_to.descendants == 1 + sum(1 for i in range(len(TUNES)) if i % 4 == 2)
    assert sorted(incremental.parents(MERGE)) == [(BASES[0], "merge"), (BASES[1], "merge")]


@pytest.mark.parametrize("first", ["index drop", "delete"])
def test_deferred_indexes_come_back_when_the_first_write_fails(sqlite_engine: Engine, first):
    """SQLite opens a transaction only before DML: an index dropped first thing in a snapshot
    transaction must still roll back with it (a failed or killed first refresh keeps them)."""

    def indexes() -> list[str]:
        with sqlite_engine.connect() as connection:
            return sorted(
                connection.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'index' "
                        "AND tbl_name = 'models' AND sql IS NOT NULL"
                    )
                ).scalars()
            )

    stored = indexes()
    assert stored

    def failed_write() -> None:
        with sqlite_engine.begin() as connection:
            if first == "delete":
                connection.execute(delete(schema.orgs))  # the transaction is open already
            with indexes_deferred(connection, schema.models):
                assert indexes() == stored  # another connection sees them: nothing committed
                raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError):
        failed_write()
    assert indexes() == stored
