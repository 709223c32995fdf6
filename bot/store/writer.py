"""Writing snapshots: one transaction per snapshot, so a failed refresh changes nothing.

A snapshot row is created as ``running`` before the crawl and becomes ``complete`` only in the
transaction that writes its rows and aggregates; the answers always read the latest complete one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, insert, select, update

from bot.core import collector
from bot.core.clock import as_utc
from bot.core.registry import Registry
from bot.model.aggregates import compute_aggregates, families
from bot.model.columns import ModelColumns
from bot.model.crawl import Crawl
from bot.model.descendants import compute_lineage_stats
from bot.model.fields import LISTS, METADATA
from bot.model.lineage import build_tree
from bot.model.records import tags_json
from bot.store import schema
from bot.store.bulk import (
    delete_where_in,
    indexes_deferred,
    insert_columns,
    insert_rows,
    large_cache,
    read_pairs,
)
from bot.store.snapshots import COMPLETE, FAILED, RUNNING, same_kind_as

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
BASELINE_MIN_AGE = timedelta(days=6)


@dataclass(frozen=True)
class WriteResult:
    snapshot_id: int
    models: int
    top_models: int
    downloads_total: int
    cycles: int
    missing_parents: int


MODEL_KEPT = ("id", "id_lower", "first_seen_snapshot_id")
"""The ``models`` columns an upsert leaves as they are: the key (and its lower-case form) and the
snapshot that first saw the model. It refreshes every other column: the metadata
(``bot.model.fields.METADATA``) and the fingerprint."""
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


def _weekly(
    downloads: Sequence[int],
    all_time: Sequence[int | None],
    before: Sequence[int | None],
    elapsed_days: float | None,
) -> list[tuple[int, str]]:
    """Each model's downloads in a week and how they were found: the all-time difference
    scaled to 7 days, else 7/30 of the rolling 30-day count."""
    if not elapsed_days:
        return [(round(d * 7 / 30), "30d") for d in downloads]
    return [
        (round((now - then) * 7 / elapsed_days), "all_time")
        if then is not None and now is not None and now >= then
        else (round(d * 7 / 30), "30d")
        for d, now, then in zip(downloads, all_time, before, strict=True)
    ]


def write_snapshot(
    engine: Engine,
    snapshot_id: int,
    crawl: Crawl,
    registry: Registry,
    finished_at: datetime,
    note: str = "",
) -> WriteResult:
    """Store a crawl as a complete snapshot with its aggregates, all in one transaction."""
    with collector.paused():
        return _write(engine, snapshot_id, crawl, registry, finished_at, note)


def _write(
    engine: Engine,
    snapshot_id: int,
    crawl: Crawl,
    registry: Registry,
    finished_at: datetime,
    note: str,
) -> WriteResult:
    columns = ModelColumns.of(crawl.records.values())
    ids = columns.id
    count = len(columns)
    parents: dict[str, list[str]] = {}
    for child, parent, _ in columns.links:
        parents.setdefault(child, []).append(parent)
    tree = build_tree(parents)
    position = columns.position
    top = [index for index in map(position.get, crawl.top_ids) if index is not None]
    top_downloads = [columns.downloads[i] for i in top]
    family = families(ids, columns.author, tree.roots)
    aggregate_rows = compute_aggregates(
        [ids[i] for i in top],
        [columns.author[i] for i in top],
        [family[i] for i in top],
        top_downloads,
        tree,
        registry,
    )
    lineage = compute_lineage_stats(columns, tree.cycles)
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
            before = read_pairs(
                connection,
                schema.model_stats,
                "model_id",
                "downloads_all_time",
                where=("snapshot_id", baseline[0]),
            )
        _sync_registry(connection, registry)
        _write_models(connection, columns, snapshot_id)
        in_top = [False] * count
        for index in top:
            in_top[index] = True
        weekly = _weekly(
            columns.downloads, columns.downloads_all_time, list(map(before.get, ids)), elapsed_days
        )
        insert_columns(
            connection,
            schema.model_stats,
            {
                "snapshot_id": repeat(snapshot_id, count),
                "model_id": ids,
                "downloads": columns.downloads,
                "downloads_all_time": columns.downloads_all_time,
                "likes": columns.likes,
                "trending_score": columns.trending_score,
                "in_top": in_top,
                "weekly_downloads": map(itemgetter(0), weekly),
                "weekly_basis": map(itemgetter(1), weekly),
                "children_count": columns.children_count,
                "family": family,
            },
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
        insert_columns(
            connection,
            schema.lineage_stats,
            {
                "snapshot_id": repeat(snapshot_id, len(lineage)),
                "model_id": lineage.model_id,
                "descendants": lineage.descendants,
                **lineage.by_relation,
                "descendant_downloads": lineage.descendant_downloads,
                "top_descendants": lineage.top_descendants,
            },
        )
        downloads_total = sum(top_downloads)
        connection.execute(
            update(schema.snapshots)
            .where(schema.snapshots.c.id == snapshot_id)
            .values(
                status=COMPLETE,
                finished_at=finished_at,
                models_total=count,
                top_models=len(top),
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
        count,
        len(top),
        downloads_total,
        len(tree.cycles),
        len(crawl.missing_parents),
    )


def _write_models(connection: Connection, columns: ModelColumns, snapshot_id: int) -> None:
    """Insert new models, update changed ones and their parent links; a model whose
    fingerprint is the stored one is not written at all (from one snapshot to the next, most)."""
    stored = read_pairs(connection, schema.models, "id", "fingerprint")
    ids, prints = columns.id, columns.fingerprint
    # A model stored without a fingerprint (written before migration 0005) counts as changed.
    known = np.array(list(map(stored.get, ids)), dtype=object)
    changed = np.flatnonzero(known != np.array(prints, dtype=object)).tolist()
    changed.sort(key=ids.__getitem__)  # rows insert fastest in key order
    if not changed:
        return

    def pick(column: Sequence[Any]) -> Iterator[Any]:
        return map(column.__getitem__, changed)

    rows = {name: pick(getattr(columns, name)) for name in METADATA}
    for name in LISTS:
        rows[name] = map(tags_json, rows[name])
    rows |= {
        "id_lower": map(str.lower, pick(ids)),
        "first_seen_snapshot_id": repeat(snapshot_id, len(changed)),
        "fingerprint": pick(prints),
    }
    with indexes_deferred(connection, schema.models):
        insert_columns(
            connection,
            schema.models,
            rows,
            conflict=("id",),
            update=[name for name in rows if name not in MODEL_KEPT],
        )
    rewritten = {ids[i] for i in changed}
    delete_where_in(connection, schema.lineage_edges, "child", sorted(rewritten & stored.keys()))
    with indexes_deferred(connection, schema.lineage_edges):
        insert_rows(
            connection,
            schema.lineage_edges,
            EDGE_COLUMNS,
            [link for link in columns.links if link[0] in rewritten],
            conflict=("child", "parent"),
            update=("relation",),
        )


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
