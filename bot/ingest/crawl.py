"""One crawl of the Hub: what a snapshot covers, fetched and turned into records.

Three phases, each feeding the next:

1. the global top N models by 30-day downloads (the share denominator);
2. every model of every registered org, so a release with no downloads yet is still seen;
3. lineage: the parents named by the ``base_model:`` tags of everything seen so far that were
   not seen, fetched by id, level by level up to their roots (a visited set ends cycles, a
   depth cap ends pathological chains). Parents the Hub no longer has are recorded as missing.

``Crawl.org_ids`` and ``Crawl.ancestor_ids`` hold only what each phase added, so the models of a
snapshot are its top N plus those two sets. ``childrenModelCount`` comes only with a fetch by id
(listings refuse it), so it is known for the ancestors fetched, not for listed models; the
descendants counted within the crawl (``lineage_stats``) do not need it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from huggingface_hub import HfApi

from bot.core import collector
from bot.core.registry import Registry
from bot.ingest import hub
from bot.model.crawl import Crawl
from bot.model.records import Edge, ModelRecord, to_record

log = logging.getLogger(__name__)

WORKERS = 8
"""Concurrent requests for org listings and ancestors (one request each, mostly)."""
MAX_DEPTH = 16
"""Generations of ancestors fetched above the crawled models; real chains are under 10."""

FREEZE_EVERY = 10_000
"""The records kept so far are settled (``bot.core.collector``) every this many: they live until
the snapshot is written."""

T = TypeVar("T")
R = TypeVar("R")


class Progress(Protocol):
    """Where a crawl reports how far it got (a progress bar on a terminal)."""

    def phase(self, name: str, total: int | None = None) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class NoProgress:
    def phase(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


def crawl_hub(
    api: HfApi,
    registry: Registry,
    top_n: int,
    *,
    progress: Progress | None = None,
    workers: int = WORKERS,
    max_depth: int = MAX_DEPTH,
    backoff: hub.Backoff | None = None,
) -> Crawl:
    """Fetch everything one snapshot covers. Hub failures raise ``hub.HubError``."""
    report = progress or NoProgress()
    records: dict[str, ModelRecord] = {}

    report.phase(f"top {top_n:,} models", top_n)
    top_ids: list[str] = []
    for record in _records(hub.top_models(api, top_n)):
        if record.id not in records:  # ranks can shift between two pages of a live listing
            records[record.id] = record
            top_ids.append(record.id)
            if len(records) % FREEZE_EVERY == 0:
                collector.settle()
        report.advance()

    report.phase("registered orgs", len(registry))
    org_ids: set[str] = set()
    orgs = [org.org for org in registry]
    for _, listed in _in_parallel(
        workers, orgs, lambda org: list(_records(hub.org_models(api, org)))
    ):
        for record in listed:
            if record.id not in records:
                records[record.id] = record
                org_ids.add(record.id)
        report.advance()

    report.phase("ancestors")
    ancestor_ids, missing = _fetch_ancestors(api, records, report, workers, max_depth, backoff)
    return Crawl(
        records=records,
        top_ids=top_ids,
        org_ids=org_ids,
        ancestor_ids=ancestor_ids,
        missing_parents=missing,
        orgs_crawled=len(orgs),
    )


def _fetch_ancestors(
    api: HfApi,
    records: dict[str, ModelRecord],
    report: Progress,
    workers: int,
    max_depth: int,
    backoff: hub.Backoff | None,
) -> tuple[set[str], set[str]]:
    """Fetch unseen parents generation by generation; return (added ids, missing ids).

    Hub ids are case-insensitive and renamed repos redirect, so a tag may name a parent by
    another spelling than its record: ``known`` maps every spelling met (lower-cased) to the
    record's id, and edges are rewritten to it at the end.
    """
    known = {model_id.lower(): model_id for model_id in records}
    missing: dict[str, str] = {}
    added: set[str] = set()
    frontier = _unseen_parents(records.values(), known, missing)
    depth = 0
    while frontier and depth < max_depth:
        depth += 1
        fetched: list[ModelRecord] = []
        for parent, raw in _in_parallel(
            workers, frontier, lambda model_id: hub.model_by_id(api, model_id, backoff)
        ):
            report.advance()
            record = _record(raw) if raw is not None else None
            if record is None:
                missing[parent.lower()] = parent
                continue
            known[parent.lower()] = known.setdefault(record.id.lower(), record.id)
            if record.id not in records:
                records[record.id] = record
                added.add(record.id)
                fetched.append(record)
        frontier = _unseen_parents(fetched, known, missing)
    if frontier:
        log.warning(
            "lineage deeper than %d generations: %d parents left unfetched (counted as roots)",
            max_depth,
            len(frontier),
        )
    _canonical_parents(records, known)
    return added, set(missing.values())


def _unseen_parents(
    records: Iterable[ModelRecord], known: dict[str, str], missing: dict[str, str]
) -> list[str]:
    unseen: dict[str, str] = {}
    for record in records:
        for edge in record.parents:
            key = edge.parent.lower()
            if key not in known and key not in missing:
                unseen.setdefault(key, edge.parent)
    return sorted(unseen.values())


def _canonical_parents(records: dict[str, ModelRecord], known: dict[str, str]) -> None:
    for record in records.values():
        if not any(known.get(e.parent.lower(), e.parent) != e.parent for e in record.parents):
            continue
        edges: dict[str, Edge] = {}
        for edge in record.parents:
            parent = known.get(edge.parent.lower(), edge.parent)
            if parent != record.id:
                edges.setdefault(parent, Edge(record.id, parent, edge.relation))
        record.parents = list(edges.values())


def _records(raws: Iterable[hub.RawModel]) -> Iterator[ModelRecord]:
    for raw in raws:
        record = _record(raw)
        if record is not None:
            yield record


def _record(raw: hub.RawModel) -> ModelRecord | None:
    try:
        return to_record(raw)
    except ValueError as exc:
        log.warning("skipped a Hub record: %s", exc)
        return None


def _in_parallel(
    workers: int, items: Sequence[T], fetch: Callable[[T], R]
) -> Iterator[tuple[T, R]]:
    """``(item, fetch(item))`` in the order of ``items``, fetched ``workers`` at a time.

    The first failure is raised once it is reached; requests not yet started are cancelled.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hub")
    try:
        futures = [pool.submit(fetch, item) for item in items]
        for item, future in zip(items, futures, strict=True):
            yield item, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
