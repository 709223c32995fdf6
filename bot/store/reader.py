"""Reading the Hub cache: every answer comes from here.

Each query is a primary-key or index lookup on precomputed rows (aggregates, lineage stats,
one org's models); none scans every model of a snapshot.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, RowMapping, Table, and_, func, select

from bot.core.clock import Clock, SystemClock
from bot.core.errors import EmptyCacheError
from bot.core.registry import Registry, load_registry
from bot.model.aggregates import ORG, PUBLISHER, AggregateRow
from bot.model.descendants import ALL_RELATIONS
from bot.model.fields import ModelMetadata
from bot.store import schema
from bot.store.history import History
from bot.store.orgs import imported_orgs_on
from bot.store.rows import mapper
from bot.store.snapshots import COMPLETE, same_kind_as

WEEK = timedelta(days=7)
WEEK_TOLERANCE = timedelta(days=3)


@dataclass(frozen=True)
class Snapshot:
    id: int
    taken_at: datetime
    source: str
    status: str
    top_n: int
    models_total: int
    top_models: int
    downloads_total: int
    note: str
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(slots=True)
class Model(ModelMetadata):
    """A stored model: its metadata (``tags`` a tuple) and the snapshot that first saw it.

    Not frozen, unlike the other rows: a frozen dataclass cannot extend ``ModelMetadata``, which
    the crawl's records extend and the crawl amends."""

    first_seen_snapshot_id: int | None


@dataclass(frozen=True)
class ModelStat:
    model_id: str
    downloads: int
    downloads_all_time: int | None
    likes: int
    trending_score: float | None
    in_top: bool
    weekly_downloads: int | None
    weekly_basis: str | None
    children_count: int | None
    family: str | None


@dataclass(frozen=True)
class LineageStat:
    model_id: str
    descendants: int
    by_relation: dict[str, int]
    descendant_downloads: int
    top_descendants: list[tuple[str, int]]


_snapshot = mapper(Snapshot)
_model = mapper(Model)
_stat = mapper(ModelStat)
_aggregate = mapper(AggregateRow)


def _by_relation(values: RowMapping) -> dict[str, int]:
    return {relation: values[relation] for relation in ALL_RELATIONS}


def _top_descendants(values: RowMapping) -> list[tuple[str, int]]:
    return [(str(i), int(d)) for i, d in json.loads(values["top_descendants"])]


_lineage_stat = mapper(LineageStat, by_relation=_by_relation, top_descendants=_top_descendants)


class FollowedRegistry:
    """The registry a long-running process answers with: ``base`` (the bundled file and the
    setting's) with the stored org imports over it, read again each time a newer snapshot
    becomes the latest. A snapshot's aggregates were computed with the imports stored when it
    was taken, so names follow the aggregates: an imported org is named from the first
    snapshot that counts it, on every replica, without a restart."""

    def __init__(self, base: Registry) -> None:
        self.base = base
        self.current = base
        self.snapshot_id: int | None = None
        self._lock = threading.Lock()

    def follow(self, snapshot_id: int, connection: Connection) -> None:
        if snapshot_id == self.snapshot_id:
            return
        layered = self.base.layered(imported_orgs_on(connection))
        with self._lock:
            self.current, self.snapshot_id = layered, snapshot_id


class Reader:
    """Read access to the stored snapshots, for commands, digests and alerts.

    With ``follow_imports``, ``registry`` is ``registry`` with the stored org imports over it,
    as of the latest snapshot (``FollowedRegistry``); otherwise it is ``registry`` as given.
    """

    def __init__(
        self,
        engine: Engine,
        registry: Registry | None = None,
        clock: Clock | None = None,
        *,
        follow_imports: bool = False,
    ) -> None:
        self.engine = engine
        self._registry = registry or load_registry()
        self._followed = FollowedRegistry(self._registry) if follow_imports else None
        self.clock = clock or SystemClock()
        self._connection: Connection | None = None
        self._thread: int | None = None

    @property
    def registry(self) -> Registry:
        return self._registry if self._followed is None else self._followed.current

    @contextmanager
    def session(self) -> Iterator[Reader]:
        """A Reader whose reads all share one connection (and transaction) until the block
        ends: an answer that reads many facts checks out one connection, not one per fact.

        This Reader is left as it is, for the threads that share it; the one given is another,
        for this thread and this block only, and raises if used elsewhere or later. Inside a
        session, ``session()`` gives the session's own Reader."""
        if self._connection is not None:
            yield self
            return
        with self.engine.connect() as connection:
            bound = copy.copy(self)
            bound._connection, bound._thread = connection, threading.get_ident()
            yield bound

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """The session's connection, else one from the pool for this read alone."""
        if self._connection is None:
            with self.engine.connect() as connection:
                yield connection
            return
        if self._connection.closed:
            raise RuntimeError("a Reader from session() was used after its block ended")
        if self._thread != threading.get_ident():
            raise RuntimeError("a Reader from session() was used by another thread")
        yield self._connection

    # Snapshots
    @property
    def weeks(self) -> History:
        """The archived whole-Hub weeks, read on this reader's connection."""
        return History(self._connect)

    def latest(self) -> Snapshot:
        """The latest complete snapshot; EmptyCacheError when there is none."""
        snapshot = self.latest_or_none()
        if snapshot is None:
            raise EmptyCacheError()
        return snapshot

    def latest_or_none(self) -> Snapshot | None:
        s = schema.snapshots
        with self._connect() as c:
            row = c.execute(
                select(s).where(s.c.status == COMPLETE).order_by(s.c.taken_at.desc()).limit(1)
            ).first()
            if row is not None and self._followed is not None:
                self._followed.follow(row.id, c)
        return _snapshot(row) if row else None

    def snapshot(self, snapshot_id: int) -> Snapshot | None:
        s = schema.snapshots
        with self._connect() as c:
            row = c.execute(select(s).where(s.c.id == snapshot_id)).first()
        return _snapshot(row) if row else None

    def snapshots(
        self, *, status: str | None = COMPLETE, limit: int | None = None
    ) -> list[Snapshot]:
        """Snapshots newest first."""
        s = schema.snapshots
        query = select(s).order_by(s.c.taken_at.desc())
        if status is not None:
            query = query.where(s.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as c:
            return [_snapshot(row) for row in c.execute(query)]

    def week_before(self, snapshot: Snapshot) -> Snapshot | None:
        """The complete snapshot nearest to seven days before ``snapshot`` (within 4-10 days)."""
        s = schema.snapshots
        target = snapshot.taken_at - WEEK
        with self._connect() as c:
            rows = c.execute(
                select(s).where(
                    s.c.status == COMPLETE,
                    s.c.taken_at >= target - WEEK_TOLERANCE,
                    s.c.taken_at <= target + WEEK_TOLERANCE,
                    same_kind_as(snapshot.source),
                )
            ).all()
        candidates = [_snapshot(row) for row in rows]
        if not candidates:
            return None
        return min(candidates, key=lambda snap: abs((snap.taken_at - target).total_seconds()))

    def age(self, snapshot: Snapshot) -> timedelta:
        return self.clock.now() - snapshot.taken_at

    # Aggregates
    def aggregates(
        self,
        snapshot_id: int,
        attribution: str,
        level: str,
        *,
        keys: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[AggregateRow]:
        """Rows of one level, largest first; ``keys`` restricts to those keys."""
        a = schema.aggregates
        query = (
            select(a)
            .where(
                a.c.snapshot_id == snapshot_id, a.c.attribution == attribution, a.c.level == level
            )
            .order_by(a.c.rank)
        )
        if keys is not None:
            query = query.where(a.c.key.in_(list(keys)))
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as c:
            return [_aggregate(row) for row in c.execute(query)]

    def aggregate(
        self, snapshot_id: int, attribution: str, level: str, key: str
    ) -> AggregateRow | None:
        rows = self.aggregates(snapshot_id, attribution, level, keys=[key])
        return rows[0] if rows else None

    def history(
        self, attribution: str, level: str, keys: Sequence[str], *, limit: int = 26
    ) -> list[tuple[Snapshot, dict[str, float]]]:
        """Share of each key in the last ``limit`` complete snapshots, oldest first."""
        snaps = list(reversed(self.snapshots(limit=limit)))
        if not snaps:
            return []
        a = schema.aggregates
        with self._connect() as c:
            rows = c.execute(
                select(a.c.snapshot_id, a.c.key, a.c.share).where(
                    a.c.snapshot_id.in_([s.id for s in snaps]),
                    a.c.attribution == attribution,
                    a.c.level == level,
                    a.c.key.in_(list(keys)),
                )
            ).all()
        shares: dict[int, dict[str, float]] = {s.id: {} for s in snaps}
        for row in rows:
            shares[row.snapshot_id][row.key] = row.share
        return [(s, {k: shares[s.id].get(k, 0.0) for k in keys}) for s in snaps]

    # Models
    def model(self, model_id: str) -> Model | None:
        """A model by id, case-insensitively."""
        m = schema.models
        with self._connect() as c:
            row = c.execute(select(m).where(m.c.id == model_id)).first()
            if row is None:
                row = c.execute(
                    select(m).where(m.c.id_lower == model_id.lower()).order_by(m.c.id).limit(1)
                ).first()
        return _model(row) if row else None

    def models_named(self, model_ids: Iterable[str]) -> list[Model]:
        """Models whose id is one of ``model_ids`` in any case (an index lookup on id_lower)."""
        m = schema.models
        lowered = list({model_id.lower() for model_id in model_ids})
        if not lowered:
            return []
        with self._connect() as c:
            rows = c.execute(select(m).where(m.c.id_lower.in_(lowered)).order_by(m.c.id))
            return [_model(row) for row in rows]

    def author_named(self, snapshot_id: int, name: str) -> str | None:
        """The Hub author spelled ``name`` in any case: one of the snapshot's org rows, else
        an exact author with stored models."""
        a, m = schema.aggregates, schema.models
        with self._connect() as c:
            key = c.execute(
                select(a.c.key)
                .where(
                    a.c.snapshot_id == snapshot_id,
                    a.c.attribution == PUBLISHER,
                    a.c.level == ORG,
                    func.lower(a.c.key) == name.lower(),
                )
                .order_by(a.c.rank)
                .limit(1)
            ).scalar()
            if key is None:
                key = c.execute(select(m.c.author).where(m.c.author == name).limit(1)).scalar()
        return str(key) if key is not None else None

    def models(self, model_ids: Iterable[str]) -> dict[str, Model]:
        m = schema.models
        ids = list(model_ids)
        if not ids:
            return {}
        with self._connect() as c:
            return {row.id: _model(row) for row in c.execute(select(m).where(m.c.id.in_(ids)))}

    def _model_row(self, table: Table, snapshot_id: int, model_id: str) -> Row[Any] | None:
        """A model's row of a table keyed by snapshot and model."""
        key = (table.c.snapshot_id == snapshot_id, table.c.model_id == model_id)
        with self._connect() as c:
            return c.execute(select(table).where(*key)).first()

    def stat(self, snapshot_id: int, model_id: str) -> ModelStat | None:
        row = self._model_row(schema.model_stats, snapshot_id, model_id)
        return _stat(row) if row else None

    def stats(self, snapshot_id: int, model_ids: Iterable[str]) -> dict[str, ModelStat]:
        st = schema.model_stats
        ids = list(model_ids)
        if not ids:
            return {}
        with self._connect() as c:
            rows = c.execute(
                select(st).where(st.c.snapshot_id == snapshot_id, st.c.model_id.in_(ids))
            )
            return {row.model_id: _stat(row) for row in rows}

    def top_models(
        self, snapshot_id: int, author: str, limit: int = 5
    ) -> list[tuple[Model, ModelStat]]:
        """An org's models in a snapshot, most downloaded first.

        The org's ids come from the author index in a subquery, so the stats are read by
        primary key: joining on the author directly lets SQLite scan the whole snapshot.
        """
        m, st = schema.models, schema.model_stats
        own = select(m.c.id).where(m.c.author == author)
        query = (
            select(m, *[col for col in st.c if col.name not in ("snapshot_id",)])
            .join(st, and_(st.c.model_id == m.c.id, st.c.snapshot_id == snapshot_id))
            .where(st.c.model_id.in_(own))
            .order_by(st.c.downloads.desc(), m.c.id)
            .limit(limit)
        )
        with self._connect() as c:
            return [(_model(row), _stat(row)) for row in c.execute(query)]

    # Lineage
    def parents(self, model_id: str) -> list[tuple[str, str]]:
        """Direct parents as (parent, relation), in a stable order."""
        e = schema.lineage_edges
        with self._connect() as c:
            rows = c.execute(
                select(e.c.parent, e.c.relation).where(e.c.child == model_id).order_by(e.c.parent)
            ).all()
        return [(row.parent, row.relation) for row in rows]

    def children_by_relation(self, snapshot_id: int, model_id: str) -> dict[str, int]:
        """How many models of the snapshot declare ``model_id`` as a direct parent, by the
        relation they declare (the Hub's ``base_model:<relation>:<id>`` tags)."""
        e, st = schema.lineage_edges, schema.model_stats
        query = (
            select(e.c.relation, func.count())
            .join(st, (st.c.model_id == e.c.child) & (st.c.snapshot_id == snapshot_id))
            .where(e.c.parent == model_id)
            .group_by(e.c.relation)
        )
        with self._connect() as c:
            return {relation: int(count) for relation, count in c.execute(query)}

    def lineage_stat(self, snapshot_id: int, model_id: str) -> LineageStat | None:
        row = self._model_row(schema.lineage_stats, snapshot_id, model_id)
        return _lineage_stat(row) if row else None

    # Releases
    def created_between(
        self, start: datetime, end: datetime, authors: Iterable[str] | None = None
    ) -> list[Model]:
        """Models created in [start, end), newest first, optionally of some authors."""
        m = schema.models
        query = (
            select(m)
            .where(m.c.created_at >= start, m.c.created_at < end)
            .order_by(m.c.created_at.desc(), m.c.id)
        )
        if authors is not None:
            query = query.where(m.c.author.in_(list(authors)))
        with self._connect() as c:
            return [_model(row) for row in c.execute(query)]

    def new_in_snapshot(self, snapshot_id: int) -> list[Model]:
        """Models first seen in this snapshot."""
        m = schema.models
        with self._connect() as c:
            rows = c.execute(
                select(m).where(m.c.first_seen_snapshot_id == snapshot_id).order_by(m.c.id)
            )
            return [_model(row) for row in rows]
