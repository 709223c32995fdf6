"""``hubpulse refresh``: crawl the Hub and store the result as one new snapshot.

The snapshot row is created ``running`` first, and becomes ``complete`` only in the single
transaction that writes its rows (``bot.store.writer.write_snapshot``). A refresh that fails at any
point is marked ``failed`` with its reason, and the last complete snapshot keeps answering;
one killed outright stays ``running`` until the next refresh marks it abandoned.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from huggingface_hub import HfApi
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.core import collector
from bot.core.clock import Clock, SystemClock
from bot.core.errors import RefreshError
from bot.core.registry import Registry
from bot.ingest import hub
from bot.ingest.crawl import MAX_DEPTH, WORKERS, NoProgress, Progress, crawl_hub
from bot.model.crawl import Crawl
from bot.store.orgs import with_imports
from bot.store.retention import delete_demo_snapshots
from bot.store.writer import WriteResult, begin_snapshot, fail_snapshot, write_snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Summary:
    """What a refresh stored, for the log line and the CLI."""

    result: WriteResult
    top_n: int
    org_models: int
    orgs: int
    ancestors: int
    crawl_seconds: float
    store_seconds: float

    @property
    def seconds(self) -> float:
        return self.crawl_seconds + self.store_seconds

    def line(self) -> str:
        r = self.result
        return (
            f"snapshot {r.snapshot_id} complete: {_count(r.models, 'model')} "
            f"(top {r.top_models:,} of {self.top_n:,} asked, {self.org_models:,} more of "
            f"{_count(self.orgs, 'registered org')}, {_count(self.ancestors, 'ancestor')} "
            f"fetched), {_count(r.missing_parents, 'missing parent')}, "
            f"{_count(r.cycles, 'cycle')}, {r.downloads_total:,} downloads in the top N, "
            f"in {self.seconds:.1f} s"
        )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def coverage_note(crawl: Crawl, top_n: int) -> str:
    """What the snapshot covers, said plainly (it is shown beside every share)."""
    top = len(crawl.top_ids)
    listed = f"top {top:,} models by 30-day downloads"
    if top < top_n:
        listed += f" (all the Hub listed; {top_n:,} asked)"
    return (
        f"{listed} + {_count(len(crawl.org_ids), 'model')} of "
        f"{_count(crawl.orgs_crawled, 'registered org')} "
        f"+ {_count(len(crawl.ancestor_ids), 'ancestor')}"
    )


def source_of(api: HfApi) -> str:
    return f"hub {api.endpoint}"


def refresh(
    engine: Engine,
    api: HfApi,
    registry: Registry,
    top_n: int,
    *,
    clock: Clock | None = None,
    progress: Progress | None = None,
    workers: int = WORKERS,
    max_depth: int = MAX_DEPTH,
    backoff: hub.Backoff | None = None,
) -> Summary:
    """Take one snapshot. Raises RefreshError (one-line reason) when it cannot complete."""
    clock = clock or SystemClock()
    report = progress or NoProgress()
    try:
        snapshot_id = begin_snapshot(engine, clock.now(), source_of(api), top_n)
    except SQLAlchemyError as exc:
        raise RefreshError(_database_error(engine, exc)) from exc
    started = time.perf_counter()
    with collector.long_lived():
        try:
            registry = with_imports(engine, registry)  # `hubpulse orgs import --apply`'s rows
            hub.check_reachable(api)
            crawl = crawl_hub(
                api,
                registry,
                top_n,
                progress=report,
                workers=workers,
                max_depth=max_depth,
                backoff=backoff,
            )
            crawled = time.perf_counter()
            report.phase("storing the snapshot")
            result = write_snapshot(
                engine, snapshot_id, crawl, registry, clock.now(), coverage_note(crawl, top_n)
            )
        except RefreshError as exc:
            _fail(engine, snapshot_id, str(exc), clock)
            raise
        except SQLAlchemyError as exc:
            reason = _database_error(engine, exc)
            _fail(engine, snapshot_id, reason, clock)
            raise RefreshError(reason) from exc
        except BaseException as exc:
            _fail(engine, snapshot_id, _interrupted(exc), clock)
            raise
    retired = delete_demo_snapshots(engine)
    if retired:
        log.info("removed %d illustrative demo snapshots: real data now answers", retired)
    summary = Summary(
        result=result,
        top_n=top_n,
        org_models=len(crawl.org_ids),
        orgs=crawl.orgs_crawled,
        ancestors=len(crawl.ancestor_ids),
        crawl_seconds=crawled - started,
        store_seconds=time.perf_counter() - crawled,
    )
    log.info("refresh: %s", summary.line())
    return summary


def _database_error(engine: Engine, exc: SQLAlchemyError) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    url = engine.url.render_as_string(hide_password=True)
    return f"database error at {url}: {detail[0][:200] if detail else type(exc).__name__}"


def _interrupted(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted before it finished"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _fail(engine: Engine, snapshot_id: int, reason: str, clock: Clock) -> None:
    """Mark the snapshot failed (the caller reports the reason). If even that fails, the
    original error still goes through, and the next refresh marks the snapshot abandoned."""
    try:
        fail_snapshot(engine, snapshot_id, reason, clock.now())
    except SQLAlchemyError:
        log.exception("could not mark snapshot %d failed", snapshot_id)
