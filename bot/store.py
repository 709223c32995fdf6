"""Writing snapshots: one transaction per snapshot, so a failed refresh changes nothing.

A snapshot row is created as ``running`` before the crawl and becomes ``complete`` only in the
transaction that writes its rows and aggregates; the answers always read the latest complete one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot import schema
from bot.aggregates import compute_aggregates, compute_lineage_stats, family_of
from bot.clock import as_utc
from bot.lineage import Tree, build_tree
from bot.records import ModelRecord, tags_json
from bot.registry import Registry

log = logging.getLogger(__name__)

RUNNING, COMPLETE, FAILED = "running", "complete", "failed"
WEEK = timedelta(days=7)
BASELINE_MIN_AGE = timedelta(days=6)
CHUNK = 5000


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


def _chunks(
    rows: Sequence[dict[str, Any]], size: int = CHUNK
) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert_many(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        connection.execute(insert(table), chunk)


def _upsert_models(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    dialect = connection.dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(schema.models)
    updated = {
        name: statement.excluded[name]
        for name in (
            "author",
            "created_at",
            "pipeline_tag",
            "library",
            "license",
            "gated",
            "tags",
            "last_seen_snapshot_id",
        )
    }
    statement = statement.on_conflict_do_update(index_elements=["id"], set_=updated)
    for chunk in _chunks(rows):
        connection.execute(statement, chunk)


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


def _baseline(connection: Connection, taken_at: datetime) -> tuple[int, datetime] | None:
    """The complete snapshot to compare with: the latest at least six days older, else the
    latest older one."""
    snapshots = schema.snapshots
    query = select(snapshots.c.id, snapshots.c.taken_at).where(
        snapshots.c.status == COMPLETE, snapshots.c.taken_at < taken_at
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
    records = crawl.records
    tree = build_tree({m: [e.parent for e in r.parents] for m, r in records.items() if r.parents})
    top_set = set(crawl.top_ids)
    top_records = [records[m] for m in crawl.top_ids if m in records]
    aggregate_rows = compute_aggregates(top_records, tree, registry)
    lineage_rows = compute_lineage_stats(records, tree)
    with engine.begin() as connection:
        taken_at = as_utc(
            connection.execute(
                select(schema.snapshots.c.taken_at).where(schema.snapshots.c.id == snapshot_id)
            ).scalar_one()
        )
        baseline = _baseline(connection, taken_at)
        before: dict[str, int] = {}
        elapsed_days = None
        if baseline is not None:
            elapsed_days = (taken_at - baseline[1]).total_seconds() / 86400
            stats = schema.model_stats
            before = {
                row.model_id: row.downloads_all_time
                for row in connection.execute(
                    select(stats.c.model_id, stats.c.downloads_all_time).where(
                        stats.c.snapshot_id == baseline[0],
                        stats.c.downloads_all_time.is_not(None),
                    )
                )
            }
        _sync_registry(connection, registry)
        _upsert_models(connection, [_model_row(r, snapshot_id) for r in records.values()])
        connection.execute(delete(schema.lineage_edges))
        _insert_many(
            connection,
            schema.lineage_edges,
            [
                {"child": e.child, "parent": e.parent, "relation": e.relation}
                for r in records.values()
                for e in r.parents
            ],
        )
        _insert_many(
            connection,
            schema.model_stats,
            [
                _stat_row(snapshot_id, r, r.id in top_set, tree, before.get(r.id), elapsed_days)
                for r in records.values()
            ],
        )
        _insert_many(
            connection,
            schema.aggregates,
            [
                {
                    "snapshot_id": snapshot_id,
                    "attribution": a.attribution,
                    "level": a.level,
                    "key": a.key,
                    "downloads": a.downloads,
                    "models": a.models,
                    "share": a.share,
                    "rank": a.rank,
                }
                for a in aggregate_rows
            ],
        )
        _insert_many(
            connection,
            schema.lineage_stats,
            [
                {
                    "snapshot_id": snapshot_id,
                    "model_id": s.model_id,
                    "descendants": s.descendants,
                    **s.by_relation,
                    "descendant_downloads": s.descendant_downloads,
                    "top_descendants": s.top_json(),
                }
                for s in lineage_rows
            ],
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


def _model_row(record: ModelRecord, snapshot_id: int) -> dict[str, Any]:
    return {
        "id": record.id,
        "id_lower": record.id.lower(),
        "author": record.author,
        "created_at": record.created_at,
        "pipeline_tag": record.pipeline_tag,
        "library": record.library,
        "license": record.license,
        "gated": record.gated,
        "tags": tags_json(record.tags),
        "first_seen_snapshot_id": snapshot_id,
        "last_seen_snapshot_id": snapshot_id,
    }


def _stat_row(
    snapshot_id: int,
    record: ModelRecord,
    in_top: bool,
    tree: Tree,
    before: int | None,
    elapsed_days: float | None,
) -> dict[str, Any]:
    weekly, basis = _weekly(record, before, elapsed_days)
    return {
        "snapshot_id": snapshot_id,
        "model_id": record.id,
        "downloads": record.downloads,
        "downloads_all_time": record.downloads_all_time,
        "likes": record.likes,
        "trending_score": record.trending_score,
        "in_top": in_top,
        "weekly_downloads": weekly,
        "weekly_basis": basis,
        "children_count": record.children_count,
        "family": family_of(record, tree),
    }


def _sync_registry(connection: Connection, registry: Registry) -> None:
    connection.execute(delete(schema.orgs))
    _insert_many(
        connection,
        schema.orgs,
        [
            {
                "org": org.org,
                "org_lower": org.org.lower(),
                "country": org.country,
                "display_name": org.display_name,
                "aliases": "|".join(org.aliases),
                "source": org.source,
            }
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
