"""How big does a year of history get on SQLite? Target: under 1 GiB for 20,000 models.

    python benchmarks/history_size.py                        # 365 daily snapshots
    python benchmarks/history_size.py --days 30 --models 5000
    python benchmarks/history_size.py --keep-daily 30 --keep-weekly 52

Stores one snapshot a day of ``--models`` synthetic models (all in the top-N denominator, as a
default refresh stores them) through the real ``bot.store.writer.store_crawl``, into a fresh SQLite
file. A third of the models descend from others (fine-tunes, quantizations, adapters, merges),
authors are a mix of registered orgs and thousands of individuals, downloads drift every day,
and a few hundred models appear each day (so ``models`` and lineage grow a little, as on the Hub).

It prints the file size every 30 days, then at the end. With ``--keep-daily``/``--keep-weekly``
it also prunes as an operator's daily ``hubpulse snapshots prune`` would (after each day's
snapshot, without VACUUM: SQLite reuses the freed pages), and vacuums once at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.registry import load_registry
from bot.model.crawl import Crawl
from bot.model.records import Edge, ModelRecord
from bot.store.engine import make_engine, upgrade
from bot.store.retention import (
    delete_snapshots,
    plan_prune,
    referenced_snapshots,
    sqlite_size,
    stored_snapshots,
    vacuum,
)
from bot.store.writer import store_crawl

START = datetime(2025, 1, 1, 6, tzinfo=UTC)
MIB = 1024 * 1024
GIB = 1024 * MIB
ORGS = ("Qwen", "meta-llama", "deepseek-ai", "google", "mistralai", "microsoft", "01-ai", "THUDM")
RELATIONS = ("finetune",) * 6 + ("quantized",) * 3 + ("adapter",) * 2 + ("merge",)
SIZES = ("0.5B", "1.5B", "3B", "7B", "8B", "14B", "32B", "70B", "235B")
SUFFIXES = ("", "-Instruct", "-Chat", "-GGUF", "-AWQ", "-DPO", "-v2", "-abliterated", "-4bit")
NEW_PER_DAY = 200


def synthetic_model(index: int, rng: random.Random, bases: list[str], day: int) -> ModelRecord:
    """One plausible Hub model; a third of them have a parent among earlier models."""
    author = rng.choice(ORGS) if index % 10 == 0 else f"user{rng.randrange(4000)}"
    name = rng.choice(("Qwen3", "Llama-3.1", "DeepSeek-R1", "gemma-3", "Mistral"))
    model_id = f"{author}/{name}-{rng.choice(SIZES)}{rng.choice(SUFFIXES)}-{index}"
    parents: list[Edge] = []
    if bases and rng.random() < 0.35:
        relation = rng.choice(RELATIONS)
        count = 2 if relation == "merge" else 1
        parents = [Edge(model_id, p, relation) for p in rng.sample(bases, count)]
    tags = ["transformers", "safetensors", "text-generation", "en", "license:apache-2.0"]
    tags += [f"base_model:{e.parent}" for e in parents]
    downloads = int(rng.paretovariate(1.1) * 50)
    return ModelRecord(
        id=model_id,
        author=author,
        created_at=START + timedelta(days=day - rng.randrange(400)),
        pipeline_tag="text-generation",
        library="transformers",
        license="apache-2.0",
        gated="false",
        tags=tags,
        downloads=downloads,
        downloads_all_time=downloads * rng.randrange(2, 40),
        likes=rng.randrange(200),
        trending_score=round(rng.random() * 10, 2),
        children_count=rng.randrange(5),
        parents=parents,
    )


def next_day(records: dict[str, ModelRecord], rng: random.Random) -> None:
    """Downloads drift; all-time counts grow by about a day's share of the 30-day count."""
    for record in records.values():
        record.downloads = max(0, int(record.downloads * rng.uniform(0.9, 1.1)))
        record.downloads_all_time = (record.downloads_all_time or 0) + record.downloads // 30


def crawl_of(records: dict[str, ModelRecord], models: int) -> Crawl:
    top = sorted(records, key=lambda m: (-records[m].downloads, m))[:models]
    kept = {m: records[m] for m in top}
    for record in list(kept.values()):
        for edge in record.parents:
            if edge.parent in records:
                kept.setdefault(edge.parent, records[edge.parent])
    return Crawl(records=kept, top_ids=top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--models", type=int, default=20_000)
    parser.add_argument("--keep-daily", type=int, default=0)
    parser.add_argument("--keep-weekly", type=int, default=0)
    parser.add_argument("--path", type=Path, help="SQLite file (default: a temporary one)")
    args = parser.parse_args()
    path = args.path or Path(tempfile.mkdtemp()) / "history.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    registry = load_registry()
    rng = random.Random(6)
    records: dict[str, ModelRecord] = {}
    bases: list[str] = []
    pruning = bool(args.keep_daily or args.keep_weekly)
    started = time.perf_counter()
    for day in range(args.days):
        fresh = args.models if day == 0 else NEW_PER_DAY
        for index in range(len(records), len(records) + fresh):
            record = synthetic_model(index, rng, bases, day)
            records[record.id] = record
            if not record.parents:
                bases.append(record.id)
        next_day(records, rng)
        when = START + timedelta(days=day)
        store_crawl(
            engine,
            crawl_of(records, args.models),
            registry,
            taken_at=when,
            finished_at=when + timedelta(minutes=20),
            source="benchmark",
            top_n=args.models,
        )
        if pruning:
            plan = plan_prune(
                stored_snapshots(engine),
                keep_daily=args.keep_daily,
                keep_weekly=args.keep_weekly,
                protected=referenced_snapshots(engine),
            )
            delete_snapshots(engine, [s.id for s in plan.delete])
        if (day + 1) % 30 == 0 or day + 1 == args.days:
            size = sqlite_size(engine) or 0
            print(
                f"day {day + 1:4d}: {size / MIB:8.1f} MiB, "
                f"{len(stored_snapshots(engine))} snapshots, "
                f"{time.perf_counter() - started:6.0f} s",
                flush=True,
            )
    vacuum(engine)
    size = sqlite_size(engine) or 0
    verdict = "under" if size < GIB else "OVER"
    print(
        f"{args.days} daily snapshots of {args.models:,} models"
        f"{f' (keep-daily {args.keep_daily}, keep-weekly {args.keep_weekly})' if pruning else ''}"
        f": {size / MIB:,.1f} MiB after VACUUM, {verdict} 1 GiB; {path}"
    )


if __name__ == "__main__":
    main()
