"""A small hand-made Hub whose right answers are known by construction.

Two weekly snapshots (``T0`` and ``T1``) of the same models, stored through the real
``bot.store.writer.store_crawl`` from raw Hub records (``tests.fakes.hub.make_record`` ->
``bot.model.records.to_record``). Qwen's downloads double between them, so China's share moves.

What it contains, by design:

* a three-generation chain that crosses countries: ``mistralai/Cogito-Remix`` (FR) fine-tunes
  ``deepcogito/cogito-v2.1`` (US), which fine-tunes ``deepseek-ai/DeepSeek-V3-Base`` (CN);
* a merge of two parents (``merger/Qwen-Llama-Merge``: Qwen and Llama, split 50/50 by lineage);
* a cycle (``loopy/a`` <-> ``loopy/b``) and a missing parent (``orphan/child`` ->
  ``gone/deleted-model``, which no record holds);
* releases in the week before ``NOW``, one of them a quantization, one by an unregistered author;
* ``orphan/child`` is outside the snapshot's top-N (not in the share denominator).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.model.crawl import Crawl
from bot.model.records import ModelRecord, to_record
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from commands.base import Context
from tests.fakes.hub import make_record

T1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T0 = T1 - timedelta(days=7)
NOW = T1 + timedelta(hours=3)
OLD = "2024-09-01T00:00:00.000Z"


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class Spec:
    id: str
    downloads: int
    created: str = OLD
    parents: Sequence[str] = ()
    relation: str = "finetune"
    tags: Sequence[str] = ()
    in_top: bool = True
    children: int | None = None


WORLD: tuple[Spec, ...] = (
    Spec("Qwen/Qwen2.5-7B", 3000, children=3),
    Spec("Qwen/Qwen2.5-7B-Instruct", 2000, parents=["Qwen/Qwen2.5-7B"]),
    Spec(
        "someone/Qwen2.5-7B-Instruct-GGUF",
        1000,
        parents=["Qwen/Qwen2.5-7B-Instruct"],
        relation="quantized",
        tags=["gguf"],
    ),
    Spec("meta-llama/Llama-3.1-8B", 1500),
    Spec("google/gemma-2-9b", 500),
    Spec("deepseek-ai/DeepSeek-V3-Base", 800, children=1),
    Spec("deepcogito/cogito-v2.1", 400, parents=["deepseek-ai/DeepSeek-V3-Base"]),
    Spec("mistralai/Cogito-Remix", 200, parents=["deepcogito/cogito-v2.1"]),
    Spec("mistralai/Mistral-7B", 600),
    Spec(
        "merger/Qwen-Llama-Merge",
        300,
        parents=["Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"],
        relation="merge",
    ),
    Spec("loopy/a", 50, parents=["loopy/b"]),
    Spec("loopy/b", 50, parents=["loopy/a"]),
    Spec("orphan/child", 20, parents=["gone/deleted-model"], in_top=False),
    Spec("google/gemma-old-release", 5, created=_ago(20)),
)

RELEASES: tuple[Spec, ...] = (
    Spec("Qwen/Qwen3-8B", 900, created=_ago(2)),
    Spec(
        "Qwen/Qwen3-8B-GGUF",
        100,
        created=_ago(2),
        parents=["Qwen/Qwen3-8B"],
        relation="quantized",
        tags=["gguf"],
    ),
    Spec("deepseek-ai/DeepSeek-R2", 700, created=_ago(1)),
    Spec("meta-llama/Llama-5-8B", 250, created=_ago(3)),
    Spec("someone/random-new", 10, created=_ago(1)),
)
"""Created in the week before ``NOW``, so only in the ``T1`` snapshot."""

GROWTH = {"Qwen": 2}
"""Downloads at T1 are those at T0 times this factor (1 for orgs not listed)."""


def downloads(spec: Spec, week: int) -> int:
    """30-day downloads of a model in snapshot 0 (T0) or 1 (T1)."""
    factor = GROWTH.get(spec.id.split("/")[0], 1)
    return spec.downloads if week == 1 else spec.downloads // factor


def specs(week: int) -> list[Spec]:
    return list(WORLD) + (list(RELEASES) if week == 1 else [])


def records(week: int) -> list[ModelRecord]:
    """The models of one snapshot; all-time downloads grow by a quarter of the 30-day count."""
    found = []
    for spec in specs(week):
        base = 10 * downloads(spec, 0)
        all_time = base if week == 0 else base + downloads(spec, 1) // 4
        raw = make_record(
            spec.id,
            downloads=downloads(spec, week),
            downloads_all_time=all_time,
            created_at=spec.created,
            parents=spec.parents,
            relation=spec.relation,
            extra_tags=spec.tags,
            children=spec.children,
        )
        found.append(to_record(raw))
    return found


def crawl(week: int) -> Crawl:
    by_id = {record.id: record for record in records(week)}
    top = [spec.id for spec in specs(week) if spec.in_top]
    top.sort(key=lambda model_id: (-by_id[model_id].downloads, model_id))
    return Crawl(records=by_id, top_ids=top, org_ids=set(by_id))


def store_world(engine: Engine, weeks: int = 2) -> None:
    """Store the T0 snapshot, then (if ``weeks`` is 2) the T1 one."""
    registry = load_registry()
    for week, taken_at in list(enumerate((T0, T1)))[2 - weeks :]:
        store_crawl(
            engine,
            crawl(week),
            registry,
            taken_at=taken_at,
            finished_at=taken_at + timedelta(minutes=5),
            source="fixture",
            top_n=100,
        )


def world_cache(engine: Engine, now: datetime = NOW) -> Reader:
    return Reader(engine, load_registry(), FrozenClock(now))


def world_engine(path: Path, weeks: int = 2) -> Engine:
    """A migrated SQLite file holding the world (for module-scoped, read-only fixtures)."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    store_world(engine, weeks)
    return engine


def context(engine: Engine, now: datetime = NOW, want_chart: bool = False) -> Context:
    return Context(world_cache(engine, now), engine, want_chart=want_chart)


def publisher_country_shares(week: int = 1) -> dict[str, float]:
    """The right answer, computed independently of bot.model.aggregates: country -> share."""
    registry = load_registry()
    sums: defaultdict[str, float] = defaultdict(float)
    for spec in specs(week):
        if spec.in_top:
            sums[registry.country_of(spec.id.split("/")[0])] += downloads(spec, week)
    total = sum(sums.values())
    return {code: value / total for code, value in sums.items()}


def top_total(week: int = 1) -> int:
    return sum(downloads(spec, week) for spec in specs(week) if spec.in_top)
