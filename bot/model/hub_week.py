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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bot.core.registry import Registry
from bot.model.aggregates import ORG, AggregateRow, Orgs, attribution_parts, tally
from bot.model.week_lineage import Codes, Links, WeekLineage, batch_parents, week_lineage

TOP_MODELS_KEPT = 1000
"""The most downloaded models of a week whose own figures are kept."""
WEEK = timedelta(days=7)
MISSING = -1
"""An all-time count the week did not have (its file lacks ``downloadsAllTime``)."""


@dataclass
class WeekColumns:
    """A week's models as columns, in file order: only the rows with a namespaced id, their
    ids as Arrow strings (never a Python string each), counts and dates as numpy arrays, and
    their parent links. Batches are taken one at a time, so memory holds these columns and
    one batch, never the file's."""

    ids: list[pa.Array] = field(default_factory=list)
    downloads: list[npt.NDArray[np.int64]] = field(default_factory=list)
    all_time: list[npt.NDArray[np.int64]] = field(default_factory=list)
    created: list[npt.NDArray[Any]] = field(default_factory=list)
    link_rows: list[npt.NDArray[np.int64]] = field(default_factory=list)
    link_parents: list[pa.Array] = field(default_factory=list)
    has_all_time: bool = True
    rows: int = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Take one batch's columns (a batch may lack any column but ``id`` and ``downloads``)."""
        names = set(batch.schema.names)
        ids, keep = _namespaced(batch.column("id"))
        if keep is not None:
            batch = batch.filter(keep)
        self.ids.append(ids)
        self.downloads.append(_counts(batch.column("downloads"), 0))
        if "downloadsAllTime" in names:
            self.all_time.append(_counts(batch.column("downloadsAllTime"), MISSING))
        else:
            self.has_all_time = False
            self.all_time.append(np.full(len(ids), MISSING, np.int64))
        created = batch.column("createdAt") if "createdAt" in names else None
        self.created.append(_timestamps(created, len(ids)))
        links = batch_parents(
            ids,
            batch.column("tags") if "tags" in names else None,
            batch.column("baseModels") if "baseModels" in names else None,
        )
        self.link_rows.append(links.rows + self.rows)
        self.link_parents.append(links.parents)
        self.rows += len(ids)

    def links(self) -> Links:
        rows = np.concatenate(self.link_rows) if self.link_rows else np.zeros(0, np.int64)
        return Links(rows, pa.chunked_array(self.link_parents, pa.string()))


def _strings() -> pa.Array:
    return pa.array([], pa.string())


def _namespaced(column: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """The ids that name a namespace (``org/name``), and the mask that keeps their rows
    (None when every row does)."""
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return _strings(), pa.array(np.zeros(len(column), bool))
    ids = column.cast(pa.string())  # kept as read: no copy
    keep = pc.fill_null(pc.match_substring(ids, "/"), False)
    if pc.all(keep).as_py():
        return ids, None
    return ids.filter(keep), keep


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
    """The same of all-time downloads (empty when the week had none), for the same keys: an
    org kept for one measure is kept for both."""
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
    downloads = _joined(columns.downloads)
    all_time = _joined(columns.all_time)
    created = _joined(columns.created, "datetime64[ns]")
    lineage = week_lineage(columns.ids, columns.links())  # frees the ids: names holds them
    orgs = Orgs.of(lineage.org_names, registry)
    all_time_rows: list[AggregateRow] = []
    total_all_time: int | None = None
    if columns.has_all_time:
        counted = np.where(all_time == MISSING, 0, all_time)
        thirty_rows, all_time_rows = _aggregates(lineage, orgs, [downloads, counted])
        total_all_time = int(counted.sum())
    else:
        (thirty_rows,) = _aggregates(lineage, orgs, [downloads])
    return HubWeek(
        day=day,
        models=len(lineage.node),
        downloads=int(downloads.sum()),
        downloads_all_time=total_all_time,
        aggregates=thirty_rows,
        all_time=all_time_rows,
        releases=_releases(day, lineage.author, created, orgs, registry),
        named=_named(lineage, orgs, downloads, all_time, top_kept),
    )


def _aggregates(
    lineage: WeekLineage, orgs: Orgs, measures: Sequence[npt.NDArray[np.int64]]
) -> list[list[AggregateRow]]:
    """``bot.model.aggregates.compute_aggregates`` of every model, from the week's codes, for
    each measure (30-day, then all-time downloads).

    Each measure keeps its own top orgs, so the rows of every measure are made for the org
    rows any of them keeps: an org among the top by all-time downloads but not by 30-day
    ones (an old favourite gone quiet) keeps its all-time row, and its 30-day row beside it.
    """
    parts = [
        attribution_parts(
            lineage.author,
            lineage.family,
            measure.astype(np.float64),
            lineage.merges,
            lineage.root_orgs,
            lineage.splits,
        )
        for measure in measures
    ]
    totals = [int(measure.sum()) for measure in measures]
    rows = [tally(orgs, *part, total) for part, total in zip(parts, totals, strict=True)]
    kept = [{(row.attribution, row.key) for row in found if row.level == ORG} for found in rows]
    if all(keys == kept[0] for keys in kept):
        return rows
    union = {key for keys in kept for _, key in keys}
    wider = replace(
        orgs,
        registered=orgs.registered
        | np.fromiter((name in union for name in orgs.names), bool, len(orgs.names)),
    )
    return [tally(wider, *part, total) for part, total in zip(parts, totals, strict=True)]


def _joined(parts: Sequence[npt.NDArray[Any]], dtype: str = "int64") -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _releases(
    day: date,
    author: Codes,
    created: npt.NDArray[Any],
    orgs: Orgs,
    registry: Registry,
) -> dict[str, int]:
    start = np.datetime64(datetime.combine(day, time()), "ns")
    inside = (created >= start) & (created < start + np.timedelta64(WEEK))
    chosen = author[inside]
    chosen = chosen[orgs.registered[chosen]]
    codes, first, count = np.unique(chosen, return_index=True, return_counts=True)
    counts: dict[str, int] = {}
    for at in np.argsort(first, kind="stable").tolist():
        org = registry.get(orgs.names[int(codes[at])])
        if org is not None:
            counts[org.org] = counts.get(org.org, 0) + int(count[at])
    return counts


def _top(
    lineage: WeekLineage, downloads: npt.NDArray[np.int64], count: int
) -> npt.NDArray[np.int64]:
    """The ``count`` most downloaded models, ties to the smaller id (as in a live snapshot)."""
    rows = len(downloads)
    if count <= 0 or not rows:
        return np.zeros(0, np.int64)
    if count >= rows:
        return np.arange(rows)
    floor = np.partition(downloads, rows - count)[rows - count]
    above = np.flatnonzero(downloads > floor)
    tied = np.flatnonzero(downloads == floor)
    by_id = pc.sort_indices(lineage.model_ids(tied)).to_numpy()  # stable: ties by row
    return np.concatenate([above, tied[by_id[: count - len(above)]]])


def _named(
    lineage: WeekLineage,
    orgs: Orgs,
    downloads: npt.NDArray[np.int64],
    all_time: npt.NDArray[np.int64],
    top_kept: int,
) -> list[WeekModel]:
    """Registered orgs' models, the ``top_kept`` most downloaded, and their ancestors."""
    wanted = orgs.registered[lineage.author]
    wanted[_top(lineage, downloads, top_kept)] = True
    above = lineage.ancestors(lineage.node[wanted])
    if len(above):
        wanted[lineage.last_rows()[above]] = True
    rows = np.flatnonzero(wanted)
    rows = rows[pc.sort_indices(lineage.model_ids(rows)).to_numpy()]  # by id, stable
    return [
        WeekModel(model_id, count, None if total == MISSING else total)
        for model_id, count, total in zip(
            lineage.model_ids(rows).to_pylist(),
            downloads[rows].tolist(),
            all_time[rows].tolist(),
            strict=True,
        )
    ]
