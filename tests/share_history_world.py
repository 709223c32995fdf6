"""An archive of 59 weekly whole-Hub snapshots (2 Dec 2024 to 12 Jan 2026) written with
pyarrow, whose period shares and crossings are known by construction, and the independent
computation of them with pandas on the same parquet files.

By construction:

* the first nine weeks (to 27 Jan 2025) have no ``downloadsAllTime`` column: periods over them
  fall back on 30-day windows;
* Qwen's family grows 25K downloads a week while Llama's shrinks 2K: it passes Llama's in
  30-day downloads in spring 2025 and, Llama starting with a larger all-time count, in
  all-time downloads in the autumn; China passes the US in the same way, earlier by lineage;
* ``unsloth/Qwen-base-GGUF`` (Unsloth's only repo) is deleted from the week of 2 Jun 2025, and
  ``someone/llama-ft`` is renamed ``someone2/llama-ft`` from the week of 4 Aug 2025, its
  all-time count kept: both shrink their org's all-time downloads to nothing.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine, event

from bot.answers.message import Answer
from bot.core.clock import FrozenClock
from bot.core.registry import Registry
from bot.ingest.archive import LocalArchive
from bot.ingest.backfill import backfill
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from commands import share
from commands.base import Context

LABEL = "hfmlsoc/hub_weekly_snapshots"
FIRST = date(2024, 12, 2)
WEEKS = 59
DAYS = [FIRST + timedelta(weeks=k) for k in range(WEEKS)]
ALL_TIME_FROM = 9
"""Weeks 0 to 8 have no ``downloadsAllTime``."""
DELETED_AT, RENAMED_AT = 26, 35
NOW = datetime(2026, 1, 20, 10, 0, tzinfo=UTC)


def _model(
    downloads: Callable[[int], int], parent: str | None = None, base: int = 100_000
) -> tuple[Callable[[int], int], str | None, int]:
    return downloads, parent, base


MODELS = {
    # id: (30-day downloads in week k, parent, all-time count before the first week)
    "Qwen/Qwen-base": _model(lambda k: 100_000 + 20_000 * k, base=1_000_000),
    "Qwen/Qwen-instruct": _model(lambda k: 50_000 + 5_000 * k, "Qwen/Qwen-base"),
    "unsloth/Qwen-base-GGUF": _model(lambda k: 20_000, "Qwen/Qwen-instruct"),
    "google/qwen-distill": _model(lambda k: 10_000, "Qwen/Qwen-base"),
    "deepseek-ai/ds": _model(lambda k: 40_000, base=500_000),
    "mistralai/ds-ft": _model(lambda k: 15_000, "deepseek-ai/ds"),
    "meta-llama/Llama-base": _model(lambda k: 500_000 - 2_000 * k, base=4_000_000),
    "someone/llama-ft": _model(lambda k: 90_000, "meta-llama/Llama-base"),
    "google/gemma": _model(lambda k: 60_000, base=300_000),
    "mistralai/mistral": _model(lambda k: 30_000),
    **{f"u{i}/m": _model(lambda k, i=i: 20_000 + 1_000 * i) for i in range(1, 4)},
}


def present(model_id: str, k: int) -> str | None:
    """The id a model has in week k, or None once deleted."""
    if model_id == "unsloth/Qwen-base-GGUF" and k >= DELETED_AT:
        return None
    if model_id == "someone/llama-ft" and k >= RENAMED_AT:
        return "someone2/llama-ft"
    return model_id


def all_time(model_id: str, k: int) -> int:
    """The all-time count in week k: the base plus a quarter of every 30-day count so far."""
    downloads, _, base = MODELS[model_id]
    return base + sum(downloads(j) // 4 for j in range(k + 1))


def week_table(k: int) -> pa.Table:
    kept = [(present(m, k), m) for m in MODELS if present(m, k) is not None]
    parents = {present(m, k): MODELS[m][1] for m in MODELS}
    columns: dict[str, object] = {
        "id": [shown for shown, _ in kept],
        "downloads": [MODELS[m][0](k) for _, m in kept],
        "createdAt": ["2024-06-01T00:00:00.000Z"] * len(kept),
        "tags": [
            [f"base_model:finetune:{parents[shown]}"] if parents[shown] else ["text-generation"]
            for shown, _ in kept
        ],
        "cardData": ["x" * 100] * len(kept),  # heavy, never read
    }
    if k >= ALL_TIME_FROM:
        columns["downloadsAllTime"] = [all_time(m, k) for _, m in kept]
    return pa.table(columns)


def write_archive(root: Path, weeks: range = range(WEEKS)) -> Path:
    for k in weeks:
        path = root / "models" / DAYS[k].isoformat() / "models.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(week_table(k), path, row_group_size=4)
    return root


def import_archive(engine: Engine, root: Path, registry: Registry) -> None:
    archive = LocalArchive(root)
    archive.label = LABEL  # as if it were the public archive
    report = backfill(engine, archive, registry, clock=FrozenClock(NOW - timedelta(days=1)))
    assert not report.failed


def history_engine(folder: Path, root: Path, registry: Registry) -> Engine:
    """A migrated SQLite store in ``folder`` holding the archive at ``root``, imported."""
    engine = make_engine(f"sqlite:///{folder / 'hub.db'}")
    upgrade(engine)
    import_archive(engine, root, registry)
    return engine


def ask(engine: Engine, text: str, registry: Registry, want_chart: bool = False) -> Answer:
    """``/share text`` at ``NOW``: the answer, checked to be at most 50 valid blocks."""
    reader = Reader(engine, registry, FrozenClock(NOW))
    answer = share.COMMAND.run(text, Context(reader, engine, want_chart=want_chart))
    assert len(answer.blocks) <= 50
    for block in answer.blocks:
        Block.parse(block).validate_json()
    return answer


def checkouts(engine: Engine, text: str, registry: Registry, want_chart: bool = False) -> int:
    """How many connections answering ``/share text`` checks out of ``engine``'s pool."""
    taken: list[object] = []

    def checkout(*_: object) -> None:
        taken.append(threading.get_ident())

    event.listen(engine, "checkout", checkout)
    try:
        ask(engine, text, registry, want_chart=want_chart)
    finally:
        event.remove(engine, "checkout", checkout)
    return len(taken)


# The independent computation: pandas over the parquet files, by the definitions.


class Files:
    """The archive's weeks as pandas frames, with each model's keys in both attributions."""

    def __init__(self, root: Path, registry: Registry) -> None:
        self.registry = registry
        self.frames: dict[date, pd.DataFrame] = {}
        for path in sorted(root.glob("models/*/models.parquet")):
            frame = pd.read_parquet(path)
            parent = {
                row.id: next(
                    (t.split(":", 2)[2] for t in row.tags if t.startswith("base_model:")), None
                )
                for row in frame.itertuples()
            }

            def root_of(model_id: str, parent: dict[str, str | None] = parent) -> str:
                seen = {model_id}
                while parent.get(model_id) and parent[model_id] not in seen:
                    model_id = parent[model_id]
                    seen.add(model_id)
                return model_id

            frame["publisher"] = frame["id"].str.split("/").str[0]
            frame["lineage"] = frame["id"].map(root_of).str.split("/").str[0]
            self.frames[date.fromisoformat(path.parent.name)] = frame

    @property
    def days(self) -> list[date]:
        return sorted(self.frames)

    def by_key(self, day: date, attribution: str, level: str, column: str) -> pd.Series:
        frame = self.frames[day]
        if column not in frame:
            return pd.Series(dtype=float)
        sums = frame.groupby(attribution)[column].sum().astype(float)
        if level == "country":
            sums = sums.groupby(sums.index.map(self.registry.country_of)).sum()
        return sums

    def total(self, day: date, column: str) -> float:
        return float(self.frames[day][column].sum())

    def span(self, start: date, end: date) -> list[date]:
        """The latest week at or before ``start`` (else the first) to the latest at or before
        ``end``."""
        before = [d for d in self.days if d <= end]
        at_start = [d for d in before if d <= start] or before[:1]
        return [d for d in before if d >= at_start[-1]]

    def period(
        self, start: date, end: date, attribution: str, level: str
    ) -> tuple[pd.Series, float]:
        """Each key's downloads in the period, and the whole Hub's, interval by interval."""
        days = self.span(start, end)
        keys = pd.Series(dtype=float)
        total = 0.0
        for earlier, later in itertools.pairwise(days):
            both = all("downloadsAllTime" in self.frames[d] for d in (earlier, later))
            if both:
                after = self.by_key(later, attribution, level, "downloadsAllTime")
                before = self.by_key(earlier, attribution, level, "downloadsAllTime")
                step = after.sub(before, fill_value=0)
                total += self.total(later, "downloadsAllTime") - self.total(
                    earlier, "downloadsAllTime"
                )
            else:
                factor = (later - earlier).days / 30
                step = self.by_key(later, attribution, level, "downloads") * factor
                total += self.total(later, "downloads") * factor
            keys = keys.add(step, fill_value=0)
        return keys, total

    def lost(self, start: date, end: date) -> float:
        """What orgs (publisher) lost of their all-time counts over the all-time weeks."""
        days = [d for d in self.span(start, end) if "downloadsAllTime" in self.frames[d]]
        before = self.by_key(days[0], "publisher", "org", "downloadsAllTime")
        after = self.by_key(days[-1], "publisher", "org", "downloadsAllTime")
        return float(before.sub(after, fill_value=0).clip(lower=0).sum())

    def shares(self, attribution: str, level: str, key: str, column: str) -> dict[date, float]:
        """A key's share of each week's downloads (weeks with the column only)."""
        found = {}
        for day in self.days:
            if column in self.frames[day]:
                value = self.by_key(day, attribution, level, column).get(key, 0.0)
                found[day] = value / self.total(day, column)
        return found


def lead_changes(first: dict[date, float], second: dict[date, float]) -> list[tuple[date, int]]:
    """The weeks the strict leader changed, and who led from then (0 or 1)."""
    changes, leader = [], None
    for day in sorted(first):
        a, b = first[day], second[day]
        ahead = 0 if a > b else 1 if b > a else None
        if ahead is not None and leader is not None and ahead != leader:
            changes.append((day, ahead))
        leader = ahead if ahead is not None else leader
    return changes
