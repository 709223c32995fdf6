"""Writing and listing the archived weeks of the whole-Hub history.

Each week is written in its own transaction: a week that fails leaves no rows (only its
``failed`` row, saying why), and the weeks already imported stay. Importing a week again
replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import Connection, Engine, case, delete, func, insert, or_, select, update

from bot.core.clock import as_utc
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, ORG, PUBLISHER, AggregateRow
from bot.model.hub_week import HubWeek
from bot.store.bulk import insert_rows
from bot.store.history_tables import (
    archive_sources,
    archive_weeks,
    week_aggregates,
    week_models,
    week_releases,
)
from bot.store.schema import models
from bot.store.snapshots import COMPLETE, FAILED

AGGREGATE_KEY = ("attribution", "level", "key")


@dataclass(frozen=True)
class ImportedWeek:
    """What ``hubpulse snapshots list`` and the backfill know of a week."""

    day: date
    source: str
    status: str
    rows: int
    models: int
    downloads_total: int
    missing_columns: tuple[str, ...]
    file_bytes: int | None
    bytes_read: int | None
    seconds: float | None
    imported_at: datetime
    error: str | None


@dataclass(frozen=True)
class WeekCost:
    """What reading a week's file took."""

    rows: int
    missing_columns: Sequence[str]
    file_bytes: int | None
    bytes_read: int
    seconds: float


def write_week(
    engine: Engine, week: HubWeek, source: str, cost: WeekCost, imported_at: datetime
) -> None:
    """Store one reduced week, replacing an earlier import of the same week."""
    with engine.begin() as connection:
        _forget(connection, week.day)
        week_id = _week_row(
            connection,
            day=week.day,
            source=source,
            status=COMPLETE,
            rows=cost.rows,
            models=week.models,
            downloads_total=week.downloads,
            downloads_all_time_total=week.downloads_all_time,
            missing_columns=",".join(cost.missing_columns),
            file_bytes=cost.file_bytes,
            bytes_read=cost.bytes_read,
            seconds=cost.seconds,
            imported_at=imported_at,
        )
        all_time = {_key(row): row for row in week.all_time}
        alone = all_time.keys() - {_key(row) for row in week.aggregates}
        if alone:  # a row stores both windows: neither may lose its rows to the other
            raise ValueError(f"all-time rows without 30-day ones: {sorted(alone)[:3]}")
        insert_rows(
            connection,
            week_aggregates,
            (
                "week_id",
                "attribution",
                "level",
                "key",
                "models",
                "downloads",
                "share",
                "rank",
                "downloads_all_time",
                "share_all_time",
            ),
            (
                (
                    week_id,
                    *_key(row),
                    row.models,
                    row.downloads,
                    row.share,
                    row.rank,
                    *_all_time(all_time.get(_key(row))),
                )
                for row in week.aggregates
            ),
        )
        insert_rows(
            connection,
            week_releases,
            ("week_id", "org", "repos"),
            ((week_id, org, repos) for org, repos in sorted(week.releases.items())),
        )
        insert_rows(
            connection,
            week_models,
            ("week_id", "model_id", "downloads", "downloads_all_time"),
            ((week_id, m.model_id, m.downloads, m.downloads_all_time) for m in week.named),
        )


def record_failure(
    engine: Engine, day: date, source: str, error: str, imported_at: datetime
) -> None:
    """Say that a week could not be imported; an earlier complete import of it is kept."""
    with engine.begin() as connection:
        existing = connection.execute(
            select(archive_weeks.c.status).where(archive_weeks.c.day == day)
        ).scalar()
        if existing == COMPLETE:
            return
        _forget(connection, day)
        _week_row(
            connection,
            day=day,
            source=source,
            status=FAILED,
            imported_at=imported_at,
            error=error[:1000],
            missing_columns="",
        )


@dataclass(frozen=True)
class SourceCheck:
    """Whether an archive answered when last listed."""

    source: str
    checked_at: datetime
    available: bool
    weeks_listed: int
    unavailable_since: datetime | None
    error: str | None


def record_listing(
    engine: Engine, source: str, now: datetime, *, weeks: int = 0, error: str | None = None
) -> None:
    """Note that ``source`` was listed (``weeks`` found) or could not be (``error``)."""
    s = archive_sources.c
    with engine.begin() as connection:
        before = connection.execute(
            select(s.available, s.unavailable_since).where(s.source == source)
        ).first()
        since = None
        if error is not None:
            since = before.unavailable_since if before and not before.available else now
        values = {
            "checked_at": now,
            "available": error is None,
            "weeks_listed": weeks,
            "unavailable_since": since,
            "error": error[:1000] if error else None,
        }
        if before is None:
            connection.execute(insert(archive_sources).values(source=source, **values))
        else:
            connection.execute(update(archive_sources).where(s.source == source).values(**values))


def source_checks(engine: Engine) -> list[SourceCheck]:
    s = archive_sources
    with engine.connect() as connection:
        rows = connection.execute(select(s).order_by(s.c.source)).all()
    return [
        SourceCheck(
            source=row.source,
            checked_at=as_utc(row.checked_at),
            available=bool(row.available),
            weeks_listed=row.weeks_listed,
            unavailable_since=as_utc(row.unavailable_since) if row.unavailable_since else None,
            error=row.error,
        )
        for row in rows
    ]


def imported_weeks(engine: Engine) -> list[ImportedWeek]:
    """Every week tried, oldest first."""
    w = archive_weeks
    with engine.connect() as connection:
        rows = connection.execute(select(w).order_by(w.c.day)).all()
    return [
        ImportedWeek(
            day=row.day,
            source=row.source,
            status=row.status,
            rows=row.rows,
            models=row.models,
            downloads_total=row.downloads_total,
            missing_columns=tuple(c for c in row.missing_columns.split(",") if c),
            file_bytes=row.file_bytes,
            bytes_read=row.bytes_read,
            seconds=row.seconds,
            imported_at=as_utc(row.imported_at),
            error=row.error,
        )
        for row in rows
    ]


def _forget(connection: Connection, day: date) -> None:
    """Remove a week and (ON DELETE CASCADE) its rows."""
    connection.execute(delete(archive_weeks).where(archive_weeks.c.day == day))


def _week_row(connection: Connection, **values: object) -> int:
    defaults: dict[str, object] = {"rows": 0, "models": 0, "downloads_total": 0}
    result = connection.execute(insert(archive_weeks).values({**defaults, **values}))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _key(row: AggregateRow) -> tuple[str, str, str]:
    return (row.attribution, row.level, row.key)


def _all_time(row: AggregateRow | None) -> tuple[float | None, float | None]:
    return (row.downloads, row.share) if row is not None else (None, None)


@dataclass(frozen=True)
class WeekRow:
    """A complete archived week: the totals its shares are of."""

    id: int
    day: date
    source: str
    models: int
    downloads_total: int
    downloads_all_time_total: int | None


@dataclass(frozen=True)
class KeyWeek:
    """One key's figures in one week (``downloads_all_time`` None when the week lacked it)."""

    models: int
    downloads: float
    share: float
    rank: int
    downloads_all_time: float | None
    share_all_time: float | None


_FIGURES = tuple(week_aggregates.c[item.name] for item in fields(KeyWeek))
"""The ``week_aggregates`` columns of a ``KeyWeek``, in its order."""


class History:
    """Read side of the archived weeks, for answers: every query reads precomputed rows by key
    (a few thousand at most), never a per-model table of a week.

    ``connect`` opens (or lends) a connection: ``engine.connect``, or a ``Reader``'s, so that
    an answer reading snapshots and weeks uses one connection (``Reader.weeks``).
    """

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]]) -> None:
        self._connect = connect

    def weeks(self) -> list[WeekRow]:
        """Complete weeks, oldest first."""
        w = archive_weeks.c
        with self._connect() as connection:
            rows = connection.execute(
                select(
                    w.id,
                    w.day,
                    w.source,
                    w.models,
                    w.downloads_total,
                    w.downloads_all_time_total,
                )
                .where(w.status == COMPLETE)
                .order_by(w.day)
            ).all()
        return [WeekRow(*row) for row in rows]

    def attributions(self, level: str, key: str) -> dict[str, dict[date, KeyWeek]]:
        """One key's figures in every complete week, by attribution then day: one query (by
        the whole primary key, week after week) for both attributions."""
        a, w = week_aggregates.c, archive_weeks.c
        query = (
            select(a.attribution, w.day, *_FIGURES)
            .join(archive_weeks, archive_weeks.c.id == a.week_id)
            .where(
                w.status == COMPLETE,
                a.attribution.in_(ATTRIBUTIONS),
                a.level == level,
                a.key == key,
            )
            .order_by(w.day)
        )
        found: dict[str, dict[date, KeyWeek]] = {attribution: {} for attribution in ATTRIBUTIONS}
        with self._connect() as connection:
            for row in connection.execute(query):
                found[row.attribution][row.day] = KeyWeek(*row[2:])
        return found

    def summed(self, level: str, keys: Sequence[str]) -> dict[str, dict[date, KeyWeek]]:
        """Several keys summed in every complete week (a region's countries, a group's orgs),
        by attribution then day, as ``attributions`` gives one key: one query, summed in the
        database. A sum has no rank (0); a week where none of the keys has a row is absent."""
        a, w = week_aggregates.c, archive_weeks.c
        found: dict[str, dict[date, KeyWeek]] = {attribution: {} for attribution in ATTRIBUTIONS}
        if not keys:
            return found
        query = (
            select(
                a.attribution,
                w.day,
                func.sum(a.models),
                func.sum(a.downloads),
                func.sum(a.share),
                func.sum(a.downloads_all_time),
                func.sum(a.share_all_time),
            )
            .join(archive_weeks, archive_weeks.c.id == a.week_id)
            .where(
                w.status == COMPLETE,
                a.attribution.in_(ATTRIBUTIONS),
                a.level == level,
                a.key.in_(list(keys)),
            )
            .group_by(a.attribution, w.day)
            .order_by(w.day)
        )
        with self._connect() as connection:
            for attribution, day, *sums in connection.execute(query):
                count, thirty, share, all_time, share_all_time = sums
                found[attribution][day] = KeyWeek(
                    int(count),
                    float(thirty),
                    float(share),
                    0,
                    None if all_time is None else float(all_time),
                    None if share_all_time is None else float(share_all_time),
                )
        return found

    def level(self, week_id: int, attribution: str, level: str) -> dict[str, KeyWeek]:
        """Every key of a level in one week (the kept orgs, or every country)."""
        a = week_aggregates.c
        with self._connect() as connection:
            rows = connection.execute(
                select(a.key, *_FIGURES).where(
                    a.week_id == week_id, a.attribution == attribution, a.level == level
                )
            ).all()
        return {row.key: KeyWeek(*row[1:]) for row in rows}

    def at(
        self,
        week_ids: Sequence[int],
        attribution: str,
        level: str,
        keys: Sequence[str] | None = None,
    ) -> dict[date, dict[str, KeyWeek]]:
        """The figures of a few weeks (by id) at one level, by day: of ``keys``, or of every
        key kept; a week with none of them is not there."""
        a, w = week_aggregates.c, archive_weeks.c
        if not week_ids or (keys is not None and not keys):
            return {}
        query = (
            select(
                w.day,
                a.key,
                *_FIGURES,
            )
            .join(archive_weeks, archive_weeks.c.id == a.week_id)
            .where(
                a.week_id.in_(list(week_ids)),
                a.attribution == attribution,
                a.level == level,
            )
        )
        if keys is not None:
            query = query.where(a.key.in_(list(keys)))
        found: dict[date, dict[str, KeyWeek]] = {}
        with self._connect() as connection:
            for row in connection.execute(query):
                found.setdefault(row.day, {})[row.key] = KeyWeek(*row[2:])
        return found

    def countries(self, week_ids: Sequence[int]) -> dict[str, dict[date, dict[str, KeyWeek]]]:
        """Every country of a few weeks (by id), by attribution then day: one query for both
        attributions (a few dozen rows a week each)."""
        a, w = week_aggregates.c, archive_weeks.c
        found: dict[str, dict[date, dict[str, KeyWeek]]] = {key: {} for key in ATTRIBUTIONS}
        if not week_ids:
            return found
        query = (
            select(a.attribution, w.day, a.key, *_FIGURES)
            .join(archive_weeks, archive_weeks.c.id == a.week_id)
            .where(
                a.week_id.in_(list(week_ids)),
                a.attribution.in_(ATTRIBUTIONS),
                a.level == COUNTRY,
            )
        )
        with self._connect() as connection:
            for row in connection.execute(query):
                found[row.attribution].setdefault(row.day, {})[row.key] = KeyWeek(*row[3:])
        return found

    def fall(self, before: int, after: int) -> Fall:
        """How orgs' all-time counts (publisher attribution) fell from week ``before`` to
        week ``after`` (ids), grouped in the database: only the orgs that shrank or are gone
        come back, never two whole org levels (and no self-join a planner could misjudge)."""
        a = week_aggregates.c
        count = func.coalesce(a.downloads_all_time, 0)
        was = func.sum(case((a.week_id == before, count), else_=0))
        now = func.sum(case((a.week_id == after, count), else_=0))
        later = func.count(case((a.week_id == after, 1)))
        query = (
            select(a.key, was, now, later)
            .where(a.week_id.in_([before, after]), a.attribution == PUBLISHER, a.level == ORG)
            .group_by(a.key)
            .having(or_(later == 0, was > now))
        )
        shrunk, missing = 0.0, {}
        with self._connect() as connection:
            for key, earlier, latest, present in connection.execute(query):
                if present:
                    shrunk += float(earlier) - float(latest)
                else:
                    missing[key] = float(earlier)
        kept = self.org_rows([after]).get(after, 0) if missing else 0  # read when it matters
        return Fall(shrunk, missing, kept)

    def org_rows(self, week_ids: Sequence[int]) -> dict[int, int]:
        """How many org rows (publisher attribution) each of a few weeks kept, by week id."""
        a = week_aggregates.c
        if not week_ids:
            return {}
        query = (
            select(a.week_id, func.count())
            .where(a.week_id.in_(list(week_ids)), a.attribution == PUBLISHER, a.level == ORG)
            .group_by(a.week_id)
        )
        with self._connect() as connection:
            return {int(week_id): int(count) for week_id, count in connection.execute(query)}

    def org_named(self, name: str) -> str | None:
        """The org key spelled ``name`` in any case in any complete week (an exact spelling
        first), for an author the registry and the live snapshots do not know. Reads every
        week's org rows: only for a name nothing else resolved."""
        a, w = week_aggregates.c, archive_weeks.c
        query = (
            select(a.key)
            .join(archive_weeks, archive_weeks.c.id == a.week_id)
            .where(w.status == COMPLETE, a.level == ORG, func.lower(a.key) == name.lower())
            .distinct()
        )
        with self._connect() as connection:
            keys = sorted(connection.execute(query).scalars())
        if not keys:
            return None
        return name if name in keys else keys[0]

    def releases(self, orgs: Sequence[str], start: date, end: date) -> dict[date, dict[str, int]]:
        """Repos each of ``orgs`` created, by archived week, for weeks starting in [start, end)."""
        r, w = week_releases.c, archive_weeks.c
        if not orgs:
            return {}
        query = (
            select(w.day, r.org, r.repos)
            .join(archive_weeks, archive_weeks.c.id == r.week_id)
            .where(w.status == COMPLETE, w.day >= start, w.day < end, r.org.in_(list(orgs)))
            .order_by(w.day)
        )
        found: dict[date, dict[str, int]] = {}
        with self._connect() as connection:
            for row in connection.execute(query):
                found.setdefault(row.day, {})[row.org] = row.repos
        return found

    def without(self, column: str) -> set[date]:
        """The complete weeks whose file lacked ``column`` (say ``createdAt``)."""
        w = archive_weeks.c
        with self._connect() as connection:
            rows = connection.execute(
                select(w.day, w.missing_columns).where(
                    w.status == COMPLETE, w.missing_columns.contains(column)
                )
            ).all()
        return {row.day for row in rows if column in row.missing_columns.split(",")}

    def first_and_latest(
        self, orgs: Sequence[str], start: datetime, end: datetime
    ) -> tuple[NamedRelease, NamedRelease] | None:
        """The first and the latest model of ``orgs`` created in [start, end) that hubpulse's
        own snapshots know (the archive keeps counts, not names); None when they know none."""
        m = models.c
        if not orgs:
            return None
        query = select(m.id, m.created_at).where(
            m.author.in_(list(orgs)), m.created_at >= start, m.created_at < end
        )
        with self._connect() as connection:
            first = connection.execute(query.order_by(m.created_at, m.id).limit(1)).first()
            latest = connection.execute(query.order_by(m.created_at.desc(), m.id).limit(1)).first()
        if first is None or latest is None:
            return None
        return (
            NamedRelease(first.id, as_utc(first.created_at)),
            NamedRelease(latest.id, as_utc(latest.created_at)),
        )


@dataclass(frozen=True)
class Fall:
    """How orgs' all-time counts fell between two weeks (``bot.model.period_shares.Fall``)."""

    shrunk: float
    missing: dict[str, float]
    later_rows: int
    """0 when no org is missing (then it decides nothing)."""


@dataclass(frozen=True)
class NamedRelease:
    """A model by its id and creation time, from the live ``models`` table."""

    model_id: str
    created_at: datetime
