"""Writing snapshots: one transaction per snapshot, so a failed refresh changes nothing.

A snapshot row is created as ``running`` before the crawl and becomes ``complete`` only in the
transaction that writes its rows and aggregates; the answers always read the latest complete one.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from bot import schema
from bot.aggregates import compute_aggregates, compute_lineage_stats, org_of
from bot.bulk import indexes_deferred, insert_rows, large_cache
from bot.clock import as_utc
from bot.lineage import build_tree
from bot.records import RELATIONS, UNKNOWN_RELATION, ModelRecord, tags_json
from bot.registry import Registry

log = logging.getLogger(__name__)

RUNNING, COMPLETE, FAILED = "running", "complete", "failed"
DEMO_PREFIX = "demo"
WEEK = timedelta(days=7)
BASELINE_MIN_AGE = timedelta(days=6)


@dataclass
class Crawl:
    """Everything one refresh saw, before it is written."""

    records: dict[str, ModelRecord]
    top_ids: list[str]
    org_ids: set[str] = field(default_factory=set)
    ancestor_ids: set[str] = field(default_factory=set)
    missing_parents: set[str] = field(default_factory=set)
    orgs_crawled: int = 0


@dataclass(frozen=True)
class WriteResult:
    snapshot_id: int
    models: int
    top_models: int
    downloads_total: int
    cycles: int
    missing_parents: int


MODEL_COLUMNS = (
    "id",
    "id_lower",
    "author",
    "created_at",
    "pipeline_tag",
    "library",
    "license",
    "gated",
    "tags",
    "first_seen_snapshot_id",
    "last_seen_snapshot_id",
)
MODEL_UPDATED = (*MODEL_COLUMNS[2:9], "last_seen_snapshot_id")
"""An upsert refreshes everything but the id and the snapshot that first saw the model."""
STAT_COLUMNS = (
    "snapshot_id",
    "model_id",
    "downloads",
    "downloads_all_time",
    "likes",
    "trending_score",
    "in_top",
    "weekly_downloads",
    "weekly_basis",
    "children_count",
    "family",
)
EDGE_COLUMNS = ("child", "parent", "relation")
AGGREGATE_COLUMNS = (
    "snapshot_id",
    "attribution",
    "level",
    "key",
    "downloads",
    "models",
    "share",
    "rank",
)
LINEAGE_STAT_COLUMNS = (
    "snapshot_id",
    "model_id",
    "descendants",
    *RELATIONS,
    UNKNOWN_RELATION,
    "descendant_downloads",
    "top_descendants",
)


def begin_snapshot(engine: Engine, taken_at: datetime, source: str, top_n: int) -> int:
    """Record that a refresh started; an earlier refresh left running was abandoned."""
    with engine.begin() as connection:
        connection.execute(
            update(schema.snapshots)
            .where(schema.snapshots.c.status == RUNNING)
            .values(status=FAILED, error="abandoned: the refresh stopped before finishing")
        )
        result = connection.execute(
            insert(schema.snapshots).values(
                taken_at=taken_at, source=source, status=RUNNING, top_n=top_n, note=""
            )
        )
        snapshot_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        assert snapshot_id is not None
        return int(snapshot_id)


def fail_snapshot(engine: Engine, snapshot_id: int, error: str, finished_at: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(schema.snapshots)
            .where(schema.snapshots.c.id == snapshot_id)
            .values(status=FAILED, error=error[:1000], finished_at=finished_at)
        )


def is_demo_source(source: str) -> bool:
    """True for a snapshot written by ``hubpulse demo``: answers say its data is illustrative."""
    return source.startswith(DEMO_PREFIX)


DEMO_SNAPSHOT = schema.snapshots.c.source.startswith(DEMO_PREFIX)
"""SQL: the snapshot row is demo data."""


def same_kind_as(source: str) -> ColumnElement[bool]:
    """SQL: the snapshot row is demo data if ``source`` is, real data if it is not; a figure
    never compares demo data with real data."""
    return DEMO_SNAPSHOT if is_demo_source(source) else ~DEMO_SNAPSHOT


def _baseline(
    connection: Connection, taken_at: datetime, source: str
) -> tuple[int, datetime] | None:
    """The complete snapshot to compare with: the latest at least six days older, else the
    latest older one; never demo data against real data or the other way round."""
    snapshots = schema.snapshots
    query = select(snapshots.c.id, snapshots.c.taken_at).where(
        snapshots.c.status == COMPLETE,
        snapshots.c.taken_at < taken_at,
        same_kind_as(source),
    )
    row = connection.execute(
        query.where(snapshots.c.taken_at <= taken_at - BASELINE_MIN_AGE)
        .order_by(snapshots.c.taken_at.desc())
        .limit(1)
    ).first()
    if row is None:
        row = connection.execute(query.order_by(snapshots.c.taken_at.desc()).limit(1)).first()
    return (int(row.id), as_utc(row.taken_at)) if row else None


def _weekly(record: ModelRecord, before: int | None, elapsed_days: float | None) -> tuple[int, str]:
    """Downloads in a week: the all-time difference scaled to 7 days, else 7/30 of the
    rolling 30-day count."""
    if (
        before is not None
        and record.downloads_all_time is not None
        and elapsed_days
        and record.downloads_all_time >= before
    ):
        return round((record.downloads_all_time - before) * 7 / elapsed_days), "all_time"
    return round(record.downloads * 7 / 30), "30d"


def write_snapshot(
    engine: Engine,
    snapshot_id: int,
    crawl: Crawl,
    registry: Registry,
    finished_at: datetime,
    note: str = "",
) -> WriteResult:
    """Store a crawl as a complete snapshot with its aggregates, all in one transaction."""
    with _records_frozen():
        return _write(engine, snapshot_id, crawl, registry, finished_at, note)


@contextmanager
def _records_frozen() -> Iterator[None]:
    """Keep the garbage collector off while the snapshot is written: walking the crawl's few
    million long-lived objects again and again doubled the time of the lineage pass, and the
    millions of rows, tuples and lists built for one write hold no cycles to collect."""
    gc.freeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def _write(
    engine: Engine,
    snapshot_id: int,
    crawl: Crawl,
    registry: Registry,
    finished_at: datetime,
    note: str,
) -> WriteResult:
    records = crawl.records
    tree = build_tree({m: [e.parent for e in r.parents] for m, r in records.items() if r.parents})
    top_set = set(crawl.top_ids)
    top_records = [records[m] for m in crawl.top_ids if m in records]
    aggregate_rows = compute_aggregates(top_records, tree, registry)
    lineage_rows = compute_lineage_stats(records, tree)
    ordered = sorted(records.values(), key=attrgetter("id"))
    with engine.begin() as connection, large_cache(connection):
        current = connection.execute(
            select(schema.snapshots.c.taken_at, schema.snapshots.c.source).where(
                schema.snapshots.c.id == snapshot_id
            )
        ).one()
        taken_at = as_utc(current.taken_at)
        baseline = _baseline(connection, taken_at, current.source)
        before: dict[str, int] = {}
        elapsed_days = None
        if baseline is not None:
            elapsed_days = (taken_at - baseline[1]).total_seconds() / 86400
            stats = schema.model_stats
            query = select(stats.c.model_id, stats.c.downloads_all_time).where(
                stats.c.snapshot_id == baseline[0], stats.c.downloads_all_time.is_not(None)
            )
            before = {row.model_id: row.downloads_all_time for row in connection.execute(query)}
        _sync_registry(connection, registry)
        with indexes_deferred(connection, schema.models):
            insert_rows(
                connection,
                schema.models,
                MODEL_COLUMNS,
                (_model_row(r, snapshot_id) for r in ordered),
                conflict=("id",),
                update=MODEL_UPDATED,
            )
        # In child order already (``ordered``); dict.fromkeys drops a repeated edge, if any.
        _replace_edges(
            connection,
            list(
                dict.fromkeys((e.child, e.parent, e.relation) for r in ordered for e in r.parents)
            ),
        )
        roots = tree.roots
        insert_rows(
            connection,
            schema.model_stats,
            STAT_COLUMNS,
            (
                (
                    snapshot_id,
                    r.id,
                    r.downloads,
                    r.downloads_all_time,
                    r.likes,
                    r.trending_score,
                    r.id in top_set,
                    *_weekly(r, before.get(r.id), elapsed_days),
                    r.children_count,
                    _family(r, roots),
                )
                for r in ordered
            ),
        )
        insert_rows(
            connection,
            schema.aggregates,
            AGGREGATE_COLUMNS,
            (
                (snapshot_id, a.attribution, a.level, a.key, a.downloads, a.models, a.share, a.rank)
                for a in aggregate_rows
            ),
        )
        insert_rows(
            connection,
            schema.lineage_stats,
            LINEAGE_STAT_COLUMNS,
            (
                (
                    snapshot_id,
                    s.model_id,
                    s.descendants,
                    *(s.by_relation[r] for r in (*RELATIONS, UNKNOWN_RELATION)),
                    s.descendant_downloads,
                    s.top_json(),
                )
                for s in sorted(lineage_rows, key=attrgetter("model_id"))
            ),
        )
        downloads_total = sum(r.downloads for r in top_records)
        connection.execute(
            update(schema.snapshots)
            .where(schema.snapshots.c.id == snapshot_id)
            .values(
                status=COMPLETE,
                finished_at=finished_at,
                models_total=len(records),
                top_models=len(top_records),
                org_models=len(crawl.org_ids),
                ancestors=len(crawl.ancestor_ids),
                orgs_crawled=crawl.orgs_crawled,
                downloads_total=downloads_total,
                previous_snapshot_id=baseline[0] if baseline else None,
                note=note,
                error=None,
            )
        )
    return WriteResult(
        snapshot_id,
        len(records),
        len(top_records),
        downloads_total,
        len(tree.cycles),
        len(crawl.missing_parents),
    )


def _replace_edges(connection: Connection, edges: list[tuple[str, str, str]]) -> None:
    """Make ``lineage_edges`` hold exactly ``edges``, touching only the rows that changed
    (from one week to the next, almost none)."""
    table = schema.lineage_edges
    wanted = set(edges)
    stored = {
        (row.child, row.parent, row.relation)
        for row in connection.execute(select(table.c.child, table.c.parent, table.c.relation))
    }
    gone = sorted(stored - wanted)
    if gone:
        connection.execute(
            delete(table).where(
                table.c.child == bindparam("old_child"), table.c.parent == bindparam("old_parent")
            ),
            [{"old_child": child, "old_parent": parent} for child, parent, _ in gone],
        )
    with indexes_deferred(connection, table):
        insert_rows(connection, table, EDGE_COLUMNS, [e for e in edges if e not in stored])


def _model_row(record: ModelRecord, snapshot_id: int) -> tuple[Any, ...]:
    return (
        record.id,
        record.id.lower(),
        record.author,
        record.created_at,
        record.pipeline_tag,
        record.library,
        record.license,
        record.gated,
        tags_json(record.tags),
        snapshot_id,
        snapshot_id,
    )


def _family(record: ModelRecord, roots: dict[str, tuple[str, ...]]) -> str:
    """``aggregates.family_of``, inlined for speed: the org of the model's first root."""
    first = roots.get(record.id)
    return record.author if first is None or first[0] == record.id else org_of(first[0])


def _sync_registry(connection: Connection, registry: Registry) -> None:
    connection.execute(delete(schema.orgs))
    insert_rows(
        connection,
        schema.orgs,
        ("org", "org_lower", "country", "display_name", "aliases", "source"),
        [
            (
                org.org,
                org.org.lower(),
                org.country,
                org.display_name,
                "|".join(org.aliases),
                org.source,
            )
            for org in registry
        ],
    )


def store_crawl(
    engine: Engine,
    crawl: Crawl,
    registry: Registry,
    *,
    taken_at: datetime,
    finished_at: datetime,
    source: str,
    top_n: int,
    note: str = "",
) -> WriteResult:
    """Begin and write a snapshot in one go (for data that is already in memory)."""
    snapshot_id = begin_snapshot(engine, taken_at, source, top_n)
    try:
        return write_snapshot(engine, snapshot_id, crawl, registry, finished_at, note)
    except Exception as exc:
        fail_snapshot(engine, snapshot_id, f"{type(exc).__name__}: {exc}", finished_at)
        raise


def records_by_id(records: Iterable[ModelRecord]) -> dict[str, ModelRecord]:
    return {record.id: record for record in records}
