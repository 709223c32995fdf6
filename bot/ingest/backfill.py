"""Filling the whole-Hub history from an archive: every week not imported yet, one at a time.

Resumable: a week already imported is skipped; a week that fails is recorded as failed (with
its one-line reason) and the others carry on; each week is written in its own transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.core.clock import Clock, SystemClock
from bot.core.registry import Registry
from bot.ingest.archive import Archive, ArchiveError, Week, read_week
from bot.model.hub_week import reduce_week
from bot.store.history import (
    WeekCost,
    imported_weeks,
    record_failure,
    record_listing,
    write_week,
)
from bot.store.snapshots import COMPLETE

log = logging.getLogger(__name__)


@dataclass
class BackfillReport:
    imported: list[date] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)
    failed: dict[date, str] = field(default_factory=dict)
    bytes_read: int = 0
    file_bytes: int = 0


def weeks_to_import(
    archive: Archive,
    engine: Engine,
    since: date | None = None,
    until: date | None = None,
    *,
    clock: Clock | None = None,
) -> tuple[list[Week], list[Week]]:
    """(to import, already imported) among the archive's weeks in [since, until]. Whether the
    archive answered is recorded (``hubpulse snapshots list`` says when it stopped)."""
    now = (clock or SystemClock()).now()
    try:
        listed = archive.weeks()
    except ArchiveError as exc:
        record_listing(engine, archive.label, now, error=str(exc))
        raise
    record_listing(engine, archive.label, now, weeks=len(listed))
    done = {week.day for week in imported_weeks(engine) if week.status == COMPLETE}
    chosen = [
        week
        for week in listed
        if (since is None or week.day >= since) and (until is None or week.day <= until)
    ]
    return [w for w in chosen if w.day not in done], [w for w in chosen if w.day in done]


def backfill(
    engine: Engine,
    archive: Archive,
    registry: Registry,
    *,
    since: date | None = None,
    until: date | None = None,
    clock: Clock | None = None,
    on_plan: Callable[[list[Week], list[Week]], None] | None = None,
    on_week: Callable[[Week, str], None] | None = None,
) -> BackfillReport:
    """Import every week of ``archive`` in [since, until] not imported yet, oldest first.

    ``on_plan(to_import, already_imported)`` is told what will be done, ``on_week(week,
    outcome)`` about each week as it ends (``imported``, ``failed``). Raises ``ArchiveError``
    only when the archive cannot be listed at all.
    """
    clock = clock or SystemClock()
    todo, skipped = weeks_to_import(archive, engine, since, until, clock=clock)
    if on_plan is not None:
        on_plan(todo, skipped)
    report = BackfillReport(skipped=[week.day for week in skipped])
    for week in todo:
        try:
            cost = import_week(engine, archive, week, registry, clock)
        except (ArchiveError, SQLAlchemyError) as exc:
            reason = _reason(exc)
            log.error("archive week %s failed: %s", week.day, reason)
            report.failed[week.day] = reason
            try:
                record_failure(engine, week.day, archive.label, reason, clock.now())
            except SQLAlchemyError:
                log.exception("could not record the failure of week %s", week.day)
            outcome = "failed"
        else:
            report.imported.append(week.day)
            report.bytes_read += cost.bytes_read
            report.file_bytes += cost.file_bytes or 0
            outcome = "imported"
        if on_week is not None:
            on_week(week, outcome)
    return report


def import_week(
    engine: Engine, archive: Archive, week: Week, registry: Registry, clock: Clock
) -> WeekCost:
    """Read, reduce and store one week (replacing an earlier import of it)."""
    started = time.perf_counter()
    with read_week(archive, week) as opened:
        reduced = reduce_week(week.day, opened.batches(), registry)
        cost = WeekCost(
            rows=opened.file.rows,
            missing_columns=opened.file.missing,
            file_bytes=week.size,
            bytes_read=opened.bytes_read,
            seconds=time.perf_counter() - started,
        )
    write_week(engine, reduced, archive.label, cost, clock.now())
    log.info(
        "archive week %s: %d models, %.1f%% of %s bytes read in %.1f s",
        week.day,
        reduced.models,
        100 * cost.bytes_read / cost.file_bytes if cost.file_bytes else 0.0,
        f"{cost.file_bytes:,}" if cost.file_bytes else "?",
        cost.seconds,
    )
    return cost


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ArchiveError):
        return str(exc)
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"database error: {detail[0][:200] if detail else type(exc).__name__}"
