"""Loading the demo dataset (``hubpulse demo``) through the real store code.

Each of the ``WEEKS`` weekly snapshots of ``bot.ingest.demo_data`` is written as raw camelCase
Hub records (what ``/api/models`` returns) that take the path of a real refresh:
``bot.model.records.to_record`` -> ``bot.model.crawl.Crawl`` (top N, registered orgs' models,
ancestors) -> ``bot.store.writer.store_crawl`` with the bundled registry. Every demo snapshot
says it is illustrative in its ``source`` (which starts with ``DEMO_PREFIX``) and its ``note``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from bot.core.clock import Clock, SystemClock
from bot.core.errors import UserError
from bot.core.registry import Registry, load_registry
from bot.ingest.demo_data import WEEKS, build_dataset
from bot.ingest.demo_history import load_history
from bot.model.crawl import Crawl
from bot.model.records import to_record
from bot.store import schema
from bot.store.history_tables import archive_weeks
from bot.store.retention import delete_demo_snapshots
from bot.store.snapshots import DEMO_PREFIX, DEMO_SNAPSHOT
from bot.store.writer import WriteResult, store_crawl

DEMO_SOURCE = f"{DEMO_PREFIX} (illustrative data, not live Hub figures)"
DEMO_NOTE = (
    "Illustrative data bundled with hubpulse (loaded by `hubpulse demo`): real org and model "
    "names, invented figures; not live Hub figures."
)
TOP_N = 3500


class RealSnapshotsError(UserError):
    """The database already holds real snapshots; demo data would be mixed into them."""


@dataclass(frozen=True)
class DemoLoad:
    snapshots: list[WriteResult]
    taken_at: list[datetime]
    replaced: int
    seconds: float
    history_weeks: int = 0
    """Illustrative archive weeks written (two years of whole-Hub history)."""


def crawl_of(raw: Iterable[dict[str, Any]], registry: Registry, top_n: int = TOP_N) -> Crawl:
    """What a refresh would keep: the top N by downloads, every model of a registered org, and
    the ancestors of both, fetched by id up to their roots."""
    by_id = {r["id"]: r for r in raw}
    ranked = sorted(by_id.values(), key=lambda r: (-r["downloads"], r["id"]))
    top_ids = [r["id"] for r in ranked[:top_n]]
    org_ids = {m for m, r in by_id.items() if registry.get(r["author"]) is not None}
    records = {m: to_record(by_id[m]) for m in [*top_ids, *sorted(org_ids.difference(top_ids))]}
    ancestor_ids: set[str] = set()
    pending = list(records)
    while pending:
        for edge in records[pending.pop()].parents:
            if edge.parent in by_id and edge.parent not in records:
                records[edge.parent] = to_record(by_id[edge.parent])
                ancestor_ids.add(edge.parent)
                pending.append(edge.parent)
    return Crawl(
        records=records,
        top_ids=top_ids,
        org_ids=org_ids,
        ancestor_ids=ancestor_ids,
        orgs_crawled=len({records[m].author.lower() for m in org_ids}),
    )


# Loading
def real_snapshot_count(engine: Engine) -> int:
    """Snapshots of any status that the demo did not write."""
    s = schema.snapshots
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(s).where(~DEMO_SNAPSHOT)
            ).scalar_one()
        )


def real_week_count(engine: Engine) -> int:
    """Archive weeks (of any status) that the demo did not write."""
    w = archive_weeks
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(w).where(~w.c.source.startswith(DEMO_PREFIX))
            ).scalar_one()
        )


def refuse_real_snapshots(engine: Engine) -> None:
    """Raise ``RealSnapshotsError`` when demo data would be mixed into real snapshots or real
    archive weeks."""
    count, weeks = real_snapshot_count(engine), real_week_count(engine)
    if count or weeks:
        held = f"{count} real snapshot(s)" if count else f"{weeks} real archive week(s)"
        raise RealSnapshotsError(
            f"this database already holds {held}; demo data would be mixed into them. "
            "Use another --database-url, or --force to load anyway."
        )


def load_demo(
    engine: Engine,
    *,
    registry: Registry | None = None,
    clock: Clock | None = None,
    force: bool = False,
) -> DemoLoad:
    """Replace the demo snapshots with a fresh set, the last one dated now.

    Refuses (``RealSnapshotsError``) when the database holds real snapshots, unless ``force``.
    """
    registry = registry or load_registry()
    if not force:
        refuse_real_snapshots(engine)
    started = time.perf_counter()
    last = (clock or SystemClock()).now().astimezone(UTC).replace(microsecond=0)
    dataset = build_dataset(last, registry)
    replaced = delete_demo_snapshots(engine)
    taken_at = [last - timedelta(weeks=WEEKS - 1 - week) for week in range(WEEKS)]
    results = []
    try:
        for week, when in enumerate(taken_at):
            crawl = crawl_of(dataset.hub_records(week), registry)
            results.append(
                store_crawl(
                    engine,
                    crawl,
                    registry,
                    taken_at=when,
                    finished_at=when,
                    source=DEMO_SOURCE,
                    top_n=TOP_N,
                    note=DEMO_NOTE,
                )
            )
        weeks = load_history(engine, dataset.models, registry, last, DEMO_SOURCE)
    except BaseException:
        delete_demo_snapshots(engine)
        raise
    return DemoLoad(results, taken_at, replaced, time.perf_counter() - started, weeks)
