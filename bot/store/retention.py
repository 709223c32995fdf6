"""Which snapshots to keep, and deleting the rest, so the history stays small.

The rule is restic's: of the last ``keep_daily`` days that have a complete snapshot, keep each
day's latest; of the last ``keep_weekly`` ISO weeks that have one, keep each week's latest.
Days and weeks are UTC. Whatever the numbers, these are never deleted:

* the latest complete snapshot (every answer reads it);
* running snapshots (a refresh is writing them);
* snapshots a digest or a share subscription still compares with.

Failed snapshots (which hold no rows) are kept as long as they fall within the kept days, so
``hubpulse snapshots list`` still shows recent failures.

A kept snapshot whose ``previous_snapshot_id`` (the baseline its weekly downloads were computed
from) is deleted gets NULL there: its figures were computed when it was written and stay true,
and re-pointing it at another snapshot would misstate how they were computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Connection,
    Engine,
    column,
    delete,
    exists,
    func,
    inspect,
    select,
    table,
    update,
)
from sqlalchemy.sql.expression import ColumnClause

from bot.core.clock import as_utc
from bot.store import schema
from bot.store.history_tables import archive_weeks
from bot.store.snapshots import COMPLETE, DEMO_PREFIX, DEMO_SNAPSHOT, RUNNING

REFERENCING_COLUMNS = (
    ("digests", "last_snapshot_id"),
    ("subscriptions", "share_baseline_snapshot_id"),
)
"""Columns outside the cache that name a snapshot whose aggregates are compared with later."""


@dataclass(frozen=True)
class SnapshotRow:
    id: int
    taken_at: datetime
    status: str


@dataclass(frozen=True)
class PrunePlan:
    keep: list[SnapshotRow]
    delete: list[SnapshotRow]


def _iso_week(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


def plan_prune(
    snapshots: Iterable[SnapshotRow],
    *,
    keep_daily: int,
    keep_weekly: int,
    protected: Iterable[int] = (),
) -> PrunePlan:
    """Split ``snapshots`` into those kept and those deleted (both newest first)."""
    ordered = sorted(snapshots, key=lambda s: (s.taken_at, s.id), reverse=True)
    complete = [s for s in ordered if s.status == COMPLETE]
    keep_ids = set(protected)
    if complete:
        keep_ids.add(complete[0].id)
    days: dict[date, int] = {}
    weeks: dict[tuple[int, int], int] = {}
    for snapshot in complete:
        day = snapshot.taken_at.date()
        if day not in days and len(days) < keep_daily:
            days[day] = snapshot.id
        if _iso_week(day) not in weeks and len(weeks) < keep_weekly:
            weeks[_iso_week(day)] = snapshot.id
    keep_ids |= set(days.values()) | set(weeks.values())
    oldest_kept_day = min(days) if days else None
    for snapshot in ordered:
        recent = oldest_kept_day is not None and snapshot.taken_at.date() >= oldest_kept_day
        if snapshot.status == RUNNING or (snapshot.status != COMPLETE and recent):
            keep_ids.add(snapshot.id)
    return PrunePlan(
        keep=[s for s in ordered if s.id in keep_ids],
        delete=[s for s in ordered if s.id not in keep_ids],
    )


def stored_snapshots(engine: Engine) -> list[SnapshotRow]:
    s = schema.snapshots
    with engine.connect() as connection:
        rows = connection.execute(select(s.c.id, s.c.taken_at, s.c.status)).all()
    return [SnapshotRow(int(r.id), as_utc(r.taken_at), str(r.status)) for r in rows]


def referenced_snapshots(engine: Engine) -> set[int]:
    """Snapshot ids named by digests and subscriptions, where those tables exist."""
    inspector = inspect(engine)
    found: set[int] = set()
    with engine.connect() as connection:
        for table_name, column_name in REFERENCING_COLUMNS:
            if not inspector.has_table(table_name):
                continue
            ref: ColumnClause[int] = column(column_name)
            rows = connection.execute(
                select(ref).select_from(table(table_name)).where(ref.is_not(None)).distinct()
            )
            found.update(int(value) for (value,) in rows)
    return found


def delete_snapshots(engine: Engine, snapshot_ids: Sequence[int]) -> None:
    """Delete snapshots, their rows and the models only they saw, in one transaction.

    The one way snapshots are deleted (pruning, replacing the demo). Their rows go by ON DELETE
    CASCADE: every connection ``bot.store.engine`` opens enforces foreign keys, SQLite's too.
    """
    if not snapshot_ids:
        return
    s = schema.snapshots
    ids = list(snapshot_ids)
    with engine.begin() as connection:
        connection.execute(
            update(s).where(s.c.previous_snapshot_id.in_(ids)).values(previous_snapshot_id=None)
        )
        connection.execute(delete(s).where(s.c.id.in_(ids)))
        _forget_unseen_models(connection, ids)


def _forget_unseen_models(connection: Connection, deleted: list[int]) -> None:
    """Drop models no remaining snapshot saw; re-point first seen of the others."""
    m, st, edges = schema.models, schema.model_stats, schema.lineage_edges
    seen = exists().where(st.c.model_id == m.c.id)
    connection.execute(delete(m).where(~seen))
    connection.execute(
        update(m)
        .where(m.c.first_seen_snapshot_id.in_(deleted))
        .values(
            first_seen_snapshot_id=select(func.min(st.c.snapshot_id))
            .where(st.c.model_id == m.c.id)
            .scalar_subquery()
        )
    )
    connection.execute(delete(edges).where(~exists().where(m.c.id == edges.c.child)))


def delete_demo_snapshots(engine: Engine) -> int:
    """Remove every demo snapshot and what only they saw, and the demo's archive weeks; how
    many snapshots there were. Real data never sits beside illustrative data."""
    s = schema.snapshots
    with engine.connect() as connection:
        ids = list(connection.execute(select(s.c.id).where(DEMO_SNAPSHOT)).scalars())
    delete_snapshots(engine, ids)
    with engine.begin() as connection:
        connection.execute(
            delete(archive_weeks).where(archive_weeks.c.source.startswith(DEMO_PREFIX))
        )
    return len(ids)


def vacuum(engine: Engine) -> None:
    """Give SQLite's free pages back to the file system (PostgreSQL autovacuums)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def sqlite_size(engine: Engine) -> int | None:
    """Bytes in the SQLite database (pages in use plus free pages); None on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
    return int(pages) * int(page_size)


def prune(engine: Engine, *, keep_daily: int, keep_weekly: int, dry_run: bool = False) -> PrunePlan:
    """Plan and (unless ``dry_run``) carry out one prune, then vacuum SQLite if anything went.

    What ``hubpulse snapshots prune`` runs; a scheduled job can call it the same way.
    """
    plan = plan_prune(
        stored_snapshots(engine),
        keep_daily=keep_daily,
        keep_weekly=keep_weekly,
        protected=referenced_snapshots(engine),
    )
    if plan.delete and not dry_run:
        delete_snapshots(engine, [snapshot.id for snapshot in plan.delete])
        vacuum(engine)
    return plan
