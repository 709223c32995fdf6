"""One archived week of the whole Hub, reduced to what the history keeps: pure functions from
the archive's columns (pyarrow batches) to totals.

A week holds every model on the Hub (2 to 2.5 million in 2026), so the history never keeps a
row per model per week. It keeps:

* the aggregates over the whole Hub, by country and by org, in both attributions (publisher:
  the repo's own org; lineage: the org of its root base model, a merge split between its
  roots), of models, 30-day downloads and all-time downloads, with the same rules as a live
  snapshot's aggregates (``bot.model.aggregates``), the denominator being every model;
* how many repos each registered org created in the week;
* per-model figures only for the models answers name: registered orgs' models, the most
  downloaded models, and the ancestors those need.

Parent links come from the ``base_model:<relation>:<id>`` tags, else from ``baseModels``, as
for a live record (``bot.model.records.parse_parents``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bot.core.registry import Registry
from bot.model.aggregates import AggregateRow, compute_aggregates, families, org_of
from bot.model.lineage import build_tree
from bot.model.records import parse_parents

TOP_MODELS_KEPT = 1000
"""The most downloaded models of a week whose own figures are kept."""
WEEK = timedelta(days=7)
MISSING = -1
"""An all-time count the week did not have (its file lacks ``downloadsAllTime``)."""


@dataclass
class WeekColumns:
    """A week's models as columns, in file order."""

    ids: list[str] = field(default_factory=list)
    downloads: list[npt.NDArray[np.int64]] = field(default_factory=list)
    all_time: list[npt.NDArray[np.int64]] = field(default_factory=list)
    created: list[npt.NDArray[Any]] = field(default_factory=list)
    parents: dict[str, list[str]] = field(default_factory=dict)
    has_all_time: bool = True

    def add(self, batch: pa.RecordBatch) -> None:
        """Take one batch's columns (a batch may lack any column but ``id`` and ``downloads``)."""
        names = set(batch.schema.names)
        ids = batch.column("id").to_pylist()
        self.ids.extend(ids)
        self.downloads.append(_counts(batch.column("downloads"), 0))
        if "downloadsAllTime" in names:
            self.all_time.append(_counts(batch.column("downloadsAllTime"), MISSING))
        else:
            self.has_all_time = False
            self.all_time.append(np.full(len(ids), MISSING, np.int64))
        created = batch.column("createdAt") if "createdAt" in names else None
        self.created.append(_timestamps(created, len(ids)))
        self._add_parents(batch, ids, names)

    def _add_parents(self, batch: pa.RecordBatch, ids: list[Any], names: set[str]) -> None:
        """Parent links of the batch's models that declare any (a minority)."""
        with_tags: dict[int, list[str]] = {}
        if "tags" in names:
            tags = batch.column("tags")
            flat = pc.list_flatten(tags)
            rows = pc.list_parent_indices(tags)
            lineage = pc.starts_with(flat, "base_model:")
            for row, tag in zip(
                pc.filter(rows, lineage).to_pylist(),
                pc.filter(flat, lineage).to_pylist(),
                strict=True,
            ):
                with_tags.setdefault(row, []).append(tag)
        structured: dict[int, Any] = {}
        if "baseModels" in names:
            column = batch.column("baseModels")
            present = pc.invert(pc.is_null(column))
            for row in pc.indices_nonzero(present).to_pylist():
                structured[row] = column[row].as_py()
        for row in with_tags.keys() | structured.keys():
            model_id = ids[row]
            if not isinstance(model_id, str):
                continue
            found = parse_parents(model_id, with_tags.get(row, ()), structured.get(row))
            if found:
                self.parents[model_id] = [edge.parent for edge in found]


def _counts(column: pa.ChunkedArray | pa.Array, missing: int) -> npt.NDArray[np.int64]:
    """Non-negative whole counts; a null or a value that is not a number becomes ``missing``."""
    values = pd.to_numeric(column.to_pandas(), errors="coerce")
    array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(array), missing, np.maximum(array, 0)).astype(np.int64)


def _timestamps(column: pa.Array | None, rows: int) -> npt.NDArray[Any]:
    """Creation times as UTC ``datetime64[ns]`` (NaT where unknown), from strings or timestamps."""
    if column is None:
        return np.full(rows, np.datetime64("NaT"), "datetime64[ns]")
    parsed = pd.to_datetime(column.to_pandas(), utc=True, errors="coerce", format="ISO8601")
    return parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


@dataclass(frozen=True)
class WeekModel:
    model_id: str
    downloads: int
    downloads_all_time: int | None


@dataclass(frozen=True)
class HubWeek:
    """What one archived week adds to the history."""

    day: date
    models: int
    downloads: int
    downloads_all_time: int | None
    """None when the week's file had no all-time counts."""
    aggregates: list[AggregateRow]
    """30-day downloads by country and org, both attributions (``share`` of the whole Hub)."""
    all_time: list[AggregateRow]
    """The same of all-time downloads (empty when the week had none)."""
    releases: dict[str, int]
    """Repos created in the week, by registered org (its canonical spelling)."""
    named: list[WeekModel]


def reduce_week(
    day: date,
    batches: Iterable[pa.RecordBatch],
    registry: Registry,
    *,
    top_kept: int = TOP_MODELS_KEPT,
) -> HubWeek:
    """Reduce a week's batches (``bot.ingest.archive``) to what the history keeps."""
    columns = WeekColumns()
    for batch in batches:
        columns.add(batch)
    return _reduce(day, columns, registry, top_kept)


def _reduce(day: date, columns: WeekColumns, registry: Registry, top_kept: int) -> HubWeek:
    keep = [
        i for i, model_id in enumerate(columns.ids) if isinstance(model_id, str) and "/" in model_id
    ]
    ids = [columns.ids[i] for i in keep]
    index = np.asarray(keep, np.int64)
    downloads = _joined(columns.downloads)[index]
    all_time = _joined(columns.all_time)[index]
    created = _joined(columns.created, "datetime64[ns]")[index]
    authors = [org_of(model_id) for model_id in ids]
    tree = build_tree(columns.parents)
    family = families(ids, authors, tree.roots)
    aggregates = compute_aggregates(ids, authors, family, downloads.tolist(), tree, registry)
    all_time_rows: list[AggregateRow] = []
    total_all_time: int | None = None
    if columns.has_all_time:
        counted = np.where(all_time == MISSING, 0, all_time)
        all_time_rows = compute_aggregates(ids, authors, family, counted.tolist(), tree, registry)
        total_all_time = int(counted.sum())
    return HubWeek(
        day=day,
        models=len(ids),
        downloads=int(downloads.sum()),
        downloads_all_time=total_all_time,
        aggregates=aggregates,
        all_time=all_time_rows,
        releases=_releases(day, authors, created, registry),
        named=_named(ids, authors, downloads, all_time, columns.parents, registry, top_kept),
    )


def _joined(parts: Sequence[npt.NDArray[Any]], dtype: str = "int64") -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _releases(
    day: date, authors: Sequence[str], created: npt.NDArray[Any], registry: Registry
) -> dict[str, int]:
    start = np.datetime64(datetime.combine(day, time()), "ns")
    inside = (created >= start) & (created < start + np.timedelta64(WEEK))
    counts: dict[str, int] = {}
    for position in np.flatnonzero(inside).tolist():
        org = registry.get(authors[position])
        if org is not None:
            counts[org.org] = counts.get(org.org, 0) + 1
    return counts


def _top(ids: Sequence[str], downloads: npt.NDArray[np.int64], count: int) -> list[int]:
    """The ``count`` most downloaded models, ties to the smaller id (as in a live snapshot)."""
    if count <= 0 or not len(ids):
        return []
    if count < len(ids):
        floor = np.partition(downloads, len(ids) - count)[len(ids) - count]
        candidates = np.flatnonzero(downloads >= floor).tolist()
    else:
        candidates = list(range(len(ids)))
    candidates.sort(key=lambda i: (-downloads[i], ids[i]))
    return candidates[:count]


def _named(
    ids: Sequence[str],
    authors: Sequence[str],
    downloads: npt.NDArray[np.int64],
    all_time: npt.NDArray[np.int64],
    parents: dict[str, list[str]],
    registry: Registry,
    top_kept: int,
) -> list[WeekModel]:
    """Registered orgs' models, the ``top_kept`` most downloaded, and their ancestors."""
    wanted = set(_top(ids, downloads, top_kept))
    wanted.update(i for i, author in enumerate(authors) if registry.get(author) is not None)
    position = {model_id: i for i, model_id in enumerate(ids)}
    pending = [ids[i] for i in wanted]
    while pending:
        for parent in parents.get(pending.pop(), ()):
            at = position.get(parent)
            if at is not None and at not in wanted:
                wanted.add(at)
                pending.append(parent)
    return [
        WeekModel(
            ids[i],
            int(downloads[i]),
            None if all_time[i] == MISSING else int(all_time[i]),
        )
        for i in sorted(wanted, key=ids.__getitem__)
    ]
