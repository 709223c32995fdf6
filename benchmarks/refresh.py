"""Benchmark real refreshes against a synthetic Hub of 200,000 models.

    python benchmarks/refresh.py                      # 200,000 models into a fresh SQLite file
    python benchmarks/refresh.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

The synthetic Hub is ``tests.fakes.hub.FakeHub`` on loopback, in a subprocess of its own, so the
peak RSS reported for the refresh is the client's alone (the server's is printed beside it). Its
models form lineage trees under real base-model orgs (Qwen, meta-llama, deepseek-ai, google,
mistralai...): fine-tunes, quantizations, adapters and merges up to five generations deep, with
long-tailed downloads (Pareto: a few bases with millions, most derivatives with almost none), a
few parents that do not exist and one cycle.

The refresh is the one ``hubpulse refresh`` runs (``bot.ingest.refresh.refresh``): HTTP and parsing
through the real ``huggingface_hub`` client, then ``write_snapshot`` (storing and aggregating),
timed apart. Two refreshes run, a week apart on the refresh's clock: the first into an empty
store, then the next week's, after the synthetic Hub moved on as the real one does (every
model's downloads grew, 1% new models, 0.5% of model cards edited): the first writes every
model's metadata and links, the next only what changed.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.ingest import hub
from bot.ingest.refresh import Summary, refresh
from bot.store.engine import make_engine, upgrade
from tests.fakes.hub import FakeHub, make_record

BASE_ORGS = {
    "Qwen": 40,
    "meta-llama": 25,
    "deepseek-ai": 15,
    "google": 30,
    "mistralai": 12,
    "microsoft": 20,
    "nvidia": 10,
    "zai-org": 8,
    "allenai": 8,
    "ibm-granite": 6,
    "tencent": 6,
    "baidu": 4,
    "moonshotai": 3,
    "openai": 3,
    "HuggingFaceTB": 6,
    "tiiuae": 5,
    "CohereLabs": 4,
    "01-ai": 4,
}
"""Orgs publishing base models, and how many each."""
PUBLISHING_ORGS = ("unsloth", "nvidia", "NousResearch", "deepcogito", "arcee-ai", "Qwen")
"""Registered orgs that also publish derivatives."""
RELATIONS = (("finetune", 0.45), ("quantized", 0.30), ("adapter", 0.15), ("merge", 0.10))
SUFFIX = {"finetune": "-ft", "quantized": "-GGUF", "adapter": "-lora", "merge": "-merge"}
MAX_DEPTH = 5
USERS = 30_000
MISSING_PARENTS = 100
NEW_EACH_WEEK = 0.01
EDITED_EACH_WEEK = 0.005


def synthetic_hub(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` raw Hub records with lineage trees and long-tailed downloads."""
    rng = random.Random(seed)
    relations = [relation for relation, _ in RELATIONS]
    weights = [weight for _, weight in RELATIONS]
    records: list[dict[str, Any]] = []
    roots: list[str] = []
    by_depth: list[tuple[str, int]] = []  # (id, depth) of models that may still have children

    def created() -> str:
        day = rng.randrange(0, 1280)
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1672531200 + day * 86400))

    for org, count in BASE_ORGS.items():
        for k in range(count):
            model_id = f"{org}/{org.split('-')[0]}-base-{k}"
            downloads = min(50_000_000, int(2_000 * rng.paretovariate(0.8)))
            records.append(
                make_record(
                    model_id,
                    downloads=downloads,
                    downloads_all_time=downloads * rng.randint(2, 30),
                    likes=downloads // 500,
                    created_at=created(),
                )
            )
            roots.append(model_id)
            by_depth.append((model_id, 0))
    root_weights = [1 / (i + 1) for i in range(len(roots))]
    while len(records) < n:
        relation = rng.choices(relations, weights)[0]
        if rng.random() < 0.6:
            parent, depth = rng.choices(roots, root_weights)[0], 0
        else:
            parent, depth = by_depth[rng.randrange(len(by_depth))]
        parents = [parent]
        if relation == "merge":
            parents.append(by_depth[rng.randrange(len(by_depth))][0])
        if rng.random() < 0.02:
            author = rng.choice(PUBLISHING_ORGS)
        else:
            author = f"user{int(rng.paretovariate(1.0)) % USERS}"
        model_id = f"{author}/{parent.split('/')[1]}{SUFFIX[relation]}-{len(records)}"
        downloads = int(rng.paretovariate(1.05)) - 1
        records.append(
            make_record(
                model_id,
                downloads=downloads,
                downloads_all_time=downloads * rng.randint(1, 30),
                likes=downloads // 1000,
                created_at=created(),
                parents=list(dict.fromkeys(parents)),
                relation=relation,
                library_name="gguf" if relation == "quantized" else "transformers",
            )
        )
        if depth + 1 < MAX_DEPTH:
            by_depth.append((model_id, depth + 1))
    for k in range(MISSING_PARENTS):
        index = rng.randrange(len(roots), len(records))
        records[index] = make_record(
            records[index]["id"], downloads=records[index]["downloads"], parents=[f"gone/m{k}"]
        )
    a, b = records[-1]["id"], records[-2]["id"]
    records[-1] = make_record(a, downloads=3, parents=[b])
    records[-2] = make_record(b, downloads=2, parents=[a])
    return records


def next_week(records: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The same Hub a week later: downloads grew, a few model cards were edited (a new license),
    and 1% new models appeared, fine-tunes and quantizations of existing ones."""
    rng = random.Random(seed + 1)
    later = []
    for record in records:
        downloads = record["downloads"]
        weekly = int(downloads * 7 / 30 * rng.uniform(0.7, 1.3))
        changed = {
            **record,
            "downloads": max(0, int(downloads * rng.uniform(0.9, 1.15))),
            "downloadsAllTime": record["downloadsAllTime"] + weekly,
        }
        if rng.random() < EDITED_EACH_WEEK:
            changed["tags"] = [
                "license:mit" if tag.startswith("license:") else tag for tag in record["tags"]
            ]
            changed["cardData"] = {**record.get("cardData", {}), "license": "mit"}
        later.append(changed)
    for k in range(int(len(records) * NEW_EACH_WEEK)):
        parent = records[rng.randrange(len(records))]["id"]
        kind = rng.choice(("finetune", "quantized"))
        later.append(
            make_record(
                f"user{k % USERS}/{parent.split('/')[1]}-new{k}",
                downloads=int(rng.paretovariate(1.05)) - 1,
                created_at="2026-06-01T00:00:00.000Z",
                parents=[parent],
                relation=kind,
            )
        )
    return later


def serve(models: int, seed: int) -> None:
    """Run the synthetic Hub: print its URL; on a line on stdin, move it a week on and print a
    line; when stdin closes, print its peak RSS."""
    started = time.perf_counter()
    records = synthetic_hub(models, seed)
    with FakeHub(records, page_size=1000) as fake:
        print(fake.url, f"{time.perf_counter() - started:.1f}", flush=True)
        for _ in sys.stdin:
            records = next_week(records, seed)
            fake.put_many(records)
            print(len(fake), flush=True)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)


def run(models: int, top: int, seed: int, database_url: str | None) -> None:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--models", str(models), "--seed", str(seed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    url, generated = server.stdout.readline().split()
    print(f"synthetic Hub: {models:,} models generated in {generated} s, serving at {url}")
    clock = FrozenClock(datetime(2026, 6, 1, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database_url or f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        print(f"database: {engine.url.render_as_string(hide_password=True)}")
        api = hub.connect(url, None)
        for week, label in enumerate(("first refresh (empty store)", "next week's refresh")):
            if week:
                server.stdin.write("next week\n")
                server.stdin.flush()
                server.stdout.readline()
            started = time.perf_counter()
            summary = refresh(engine, api, load_registry(), top, clock=clock)
            total = time.perf_counter() - started
            report(label, summary, total)
            clock.advance(timedelta(days=7))
        engine.dispose()
    server.stdin.close()
    server_rss_kib = int(server.stdout.readline())
    server.wait()
    client_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS, refreshes:  {client_rss_kib / 1024:8.0f} MiB (this process, client alone)")
    print(f"peak RSS, fake Hub:   {server_rss_kib / 1024:8.0f} MiB (its own process)")


def report(label: str, summary: Summary, total: float) -> None:
    stored = summary.result.models
    print(f"{label}: {summary.line()}")
    print(f"  end to end:           {total:8.1f} s   {stored / total:10,.0f} models/s")
    print(
        f"  crawl (HTTP + parse): {summary.crawl_seconds:8.1f} s   "
        f"{stored / summary.crawl_seconds:10,.0f} models/s"
    )
    print(
        f"  store + aggregate:    {summary.store_seconds:8.1f} s   "
        f"{stored / summary.store_seconds:10,.0f} models/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200_000, help="models on the fake Hub")
    parser.add_argument("--top", type=int, default=200_000, help="refresh --top N")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.models, args.seed)
    else:
        run(args.models, args.top, args.seed, args.database_url)


if __name__ == "__main__":
    main()
