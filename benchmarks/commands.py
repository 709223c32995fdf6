"""Benchmark the slash-command answers on a large synthetic cache.

    python benchmarks/commands.py                        # 100,000 and 1,000,000 models
    python benchmarks/commands.py --sizes 100000 --runs 50

For each size it stores two weekly snapshots (through the real
``bot.store.writer.store_crawl``) into a
fresh SQLite file: a Qwen family of 150,000 members at a million models, in proportion below
that (fine-tunes, quantizations, adapters and merges by third parties, several generations
deep), a 10-deep chain that crosses countries (deepseek-ai -> deepcogito -> nine more
fine-tunes), releases by registered orgs in the last week, and filler models by tens of
thousands of authors. The top 20,000 models by downloads
form the share denominator, as ``HUBPULSE_TOP_N``'s default does.

Then it times each command from its text to the finished ``Answer`` (rendered, Block Kit
validated), as ``hubpulse ask`` and Slack run it, without charts and with them, and prints p50
and p99 in milliseconds. The target is p99 under 50 ms for /share and /lineage, and times that
do not grow with the number of models.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.model.crawl import Crawl
from bot.model.records import Edge, ModelRecord
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from commands.base import Context
from commands.dispatch import dispatch

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
TOP_N = 20_000
FAMILY = 150_000
"""Members of the Qwen family; a snapshot smaller than a million models gets a share of them
in proportion (15,000 at 100,000 models)."""
FAMILY_ROOT = "Qwen/Qwen2.5-7B"
CHAIN_DEPTH = 10
CHAIN = [
    "deepseek-ai/DeepSeek-V3-Base",
    "deepcogito/cogito-v2.1",
    *(f"chain{i}/deep-{i}" for i in range(CHAIN_DEPTH - 1)),
]
DEEPEST = CHAIN[-1]
"""Ten links below the DeepSeek base, crossing from China to the US and then to unregistered
authors."""
RELEASES = 300
RELATIONS = ("finetune",) * 12 + ("quantized",) * 5 + ("adapter",) * 2 + ("merge",)
QUESTIONS = (
    "/share",
    "/share qwen",
    "/share Qwen/Qwen2.5-7B-Instruct",
    "/share cn",
    f"/lineage {DEEPEST}",
    f"/lineage {FAMILY_ROOT}",
    "/lineage cogito",
    "/releases",
    "/releases cn 30",
)


def _record(
    model_id: str,
    downloads: int,
    created_at: datetime,
    parents: Sequence[tuple[str, str]] = (),
    tags: list[str] | None = None,
) -> ModelRecord:
    author = model_id.split("/", 1)[0]
    relation_tags = [f"base_model:{relation}:{parent}" for parent, relation in parents]
    return ModelRecord(
        id=model_id,
        author=author,
        created_at=created_at,
        pipeline_tag="text-generation",
        library="transformers",
        license="apache-2.0",
        gated="false",
        tags=(tags or []) + relation_tags,
        downloads=downloads,
        downloads_all_time=downloads * 5,
        likes=downloads // 1000,
        trending_score=None,
        children_count=None,
        parents=[Edge(model_id, parent, relation) for parent, relation in parents],
    )


def build(size: int, week: int, seed: int = 7) -> Crawl:
    """``size`` models as the Hub looked ``week`` weeks before NOW (0 = latest)."""
    rng = random.Random(seed)
    taken = NOW - timedelta(weeks=week)
    registry = load_registry()
    orgs = [org.org for org in registry]
    records: dict[str, ModelRecord] = {}

    def downloads(scale: float) -> int:
        return int(scale * rng.paretovariate(1.2))

    def old() -> datetime:
        return taken - timedelta(days=rng.uniform(30, 1100))

    records[FAMILY_ROOT] = _record(FAMILY_ROOT, 5_000_000, old())
    members = [FAMILY_ROOT]
    for i in range(FAMILY * min(size, 1_000_000) // 1_000_000 - 1):
        parent = members[0] if i < 2000 else members[rng.randrange(len(members) // 2)]
        relation = rng.choice(RELATIONS)
        model_id = f"user{rng.randrange(40_000)}/qwen-derivative-{i}"
        tags = ["gguf"] if relation == "quantized" else []
        parents = [(parent, relation)]
        if relation == "merge":
            parents.append(("meta-llama/Llama-3.1-8B", "merge"))
        records[model_id] = _record(model_id, downloads(300), old(), parents, tags)
        members.append(model_id)
    records["Qwen/Qwen2.5-7B-Instruct"] = _record(
        "Qwen/Qwen2.5-7B-Instruct", 3_000_000, old(), [(FAMILY_ROOT, "finetune")]
    )
    for index, model_id in enumerate(CHAIN):
        parents = [(CHAIN[index - 1], "finetune")] if index else []
        records[model_id] = _record(model_id, downloads(20_000), old(), parents)
    for i in range(RELEASES):
        org = orgs[i % len(orgs)]
        model_id = f"{org}/release-{week}-{i}"
        created = taken - timedelta(days=rng.uniform(0, 6.9))
        tags = ["gguf"] if i % 5 == 0 else []
        records[model_id] = _record(model_id, downloads(1000), created, tags=tags)
    for i in range(len(orgs) * 40):
        model_id = f"{orgs[i % len(orgs)]}/model-{i}"
        records[model_id] = _record(model_id, downloads(50_000), old())
    filler = size - len(records)
    for i in range(filler):
        model_id = f"author{rng.randrange(60_000)}/filler-{i}"
        records[model_id] = _record(model_id, downloads(20), old())
    scale = 1.0 if week == 0 else 0.9
    for record in records.values():
        if record.author == "Qwen":
            record.downloads = int(record.downloads * scale)
    top = sorted(records, key=lambda m: -records[m].downloads)[:TOP_N]
    return Crawl(
        records=records, top_ids=top, org_ids={m for m in records if m.split("/")[0] in orgs}
    )


def store(path: Path, size: int) -> float:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    started = time.perf_counter()
    for week in (1, 0):
        crawl = build(size, week)
        taken = NOW - timedelta(weeks=week)
        store_crawl(
            engine,
            crawl,
            load_registry(),
            taken_at=taken,
            finished_at=taken + timedelta(minutes=20),
            source="benchmark",
            top_n=TOP_N,
        )
        del crawl
    engine.dispose()
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_questions(path: Path, runs: int, chart_runs: int) -> dict[str, tuple[float, ...]]:
    engine = make_engine(f"sqlite:///{path}")
    reader = Reader(engine, load_registry(), FrozenClock(NOW + timedelta(hours=1)))
    results: dict[str, tuple[float, ...]] = {}
    for question in QUESTIONS:
        figures: list[float] = []
        for want_chart, count in ((False, runs), (True, chart_runs)):
            context = Context(reader, engine, want_chart=want_chart)
            dispatch(question, context)  # warm up: first connection, template compile
            times = []
            for _ in range(count):
                started = time.perf_counter()
                dispatch(question, context)
                times.append((time.perf_counter() - started) * 1000)
            figures += [statistics.median(times), percentile(times, 0.99)]
        results[question] = tuple(figures)
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=200, help="timed runs without charts")
    parser.add_argument("--chart-runs", type=int, default=20, help="timed runs with charts")
    parser.add_argument(
        "--directory",
        type=Path,
        help="keep the SQLite files here and reuse them on the next run (default: a temp dir)",
    )
    options = parser.parse_args()
    table: dict[int, dict[str, tuple[float, ...]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = options.directory or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        for size in options.sizes:
            path = directory / f"bench-{size}.db"
            if path.exists():
                print(f"{size:,} models: reusing {path}", flush=True)
            else:
                seconds = store(path, size)
                print(f"{size:,} models: two snapshots stored in {seconds:.0f} s", flush=True)
            table[size] = time_questions(path, options.runs, options.chart_runs)
    print()
    columns = ("p50 ms", "p99 ms", "chart p50", "chart p99")
    header = f"{'command':36} {'models':>9} " + " ".join(f"{c:>10}" for c in columns)
    print(header)
    print("-" * len(header))
    for question in QUESTIONS:
        for size in options.sizes:
            p50, p99, c50, c99 = table[size][question]
            print(f"{question:36} {size:>9,} {p50:10.1f} {p99:10.1f} {c50:10.1f} {c99:10.1f}")


if __name__ == "__main__":
    main()
