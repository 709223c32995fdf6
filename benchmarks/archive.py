"""Benchmark the whole-Hub history: one archive week of every Hub model, then two years of weeks.

    python benchmarks/archive.py                          # both, at the issue's sizes
    python benchmarks/archive.py week --models 2500000 --runs 3
    python benchmarks/archive.py backfill --models 250000 --weeks 120
    python benchmarks/archive.py --quick                  # under a minute: 500,000; 13 x 100,000

**week**: one synthetic week of ``--models`` models (2,500,000 by default, the Hub in 2026) is
written as the archive writes it (``models/<day>/models.parquet``, several row groups, the
heavy columns ``cardData``, ``siblings``, ``config``, ``safetensors``, ``gguf`` and ``sha``
present: about 1.4 GB at 2.5 million models, a 2026 week's size). ``tests.fakes.hub.FakeHub``
serves it from a process of its own over loopback (its ``/resolve`` redirects to the fake CDN,
as the Hub's LFS files do), and each run imports it in a fresh process with the real
``huggingface_hub`` client: ``HubArchive`` pointed at the fake's URL, ``import_week`` (ranged
reads of the wanted columns, ``reduce_week``, ``write_week`` into a fresh SQLite file). Each run
prints its wall time (read and reduce, then write), CPU time, the process's peak RSS, and the
bytes the fake served as a fraction of the file. Targets (issue #11): under 60 s, under 1.5 GiB,
under 15% of the file.

**backfill**: ``--weeks`` weekly files of ``--models`` models each (the wanted columns only, in a
local directory: ``LocalArchive``, as an air-gapped mirror is read) are imported by the real
``bot.ingest.backfill.backfill`` into a fresh SQLite file (and PostgreSQL with
``--database-url``); it prints the total time and the store's size (target: under 1 GiB on
SQLite for two years).

The synthetic Hub: a few hundred thousand authors (one per eight models) with long-tailed
model counts, the registered orgs of ``bot/data/orgs.csv`` among them (10 to 1,000 models
each, about 27,000 in all, and the base models most others descend from), 40% of models
naming parents in ``base_model:`` tags (fine-tunes, quantizations, adapters, 5% merges of two
or three; chains of any depth; 1% of links to deleted repos; 2% with ``baseModels`` only; two
cycles), Pareto downloads (most models have none, a few bases millions), eight to seventeen
tags a model from a long-tailed vocabulary (``dataset:`` and ``arxiv:`` tags included) and two
a parent link. The heavy columns are random text (incompressible), sized to make the file as
large as a real week (about 640 bytes a row).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.model.records import RELATIONS

REPO = "hfmlsoc/hub_weekly_snapshots"
DAY = date(2026, 1, 5)
MIB = 1024 * 1024
GIB = 1024 * MIB
START = datetime(2022, 3, 1, tzinfo=UTC)
MODELS_PER_AUTHOR = 8
BASES = 4000
"""Parentless models of registered orgs that most derivatives descend from."""
WITH_PARENTS = 0.40
MERGES = 0.05
DELETED_PARENTS = 0.01
STRUCTURED_ONLY = 0.02
"""Models naming their parents in ``baseModels`` only, not in tags."""
STEMS = (
    "Qwen2.5", "Qwen3", "Llama-3.1", "Llama-3.2", "gemma-3", "Mistral", "DeepSeek-R1", "phi-4",
    "bert", "roberta", "whisper", "sdxl", "flux", "t5", "gpt2", "SmolLM2", "granite", "glm-4",
)  # fmt: skip
SUFFIXES = (
    "", "-Instruct", "-Chat", "-GGUF", "-AWQ", "-DPO", "-v2", "-abliterated", "-4bit", "-lora",
    "-finetuned", "-sft", "-merged", "-exl2", "-MLX", "-distill",
)  # fmt: skip
COMMON_TAGS = (
    "transformers", "safetensors", "pytorch", "gguf", "text-generation", "conversational",
    "en", "zh", "fr", "de", "ja", "ko", "license:apache-2.0", "license:mit", "license:other",
    "license:llama3.1", "license:cc-by-4.0", "license:gemma", "region:us",
    "endpoints_compatible", "autotrain_compatible", "text-generation-inference", "4-bit",
    "8-bit", "bitsandbytes", "peft", "lora", "diffusers", "sentence-transformers",
    "feature-extraction", "sentence-similarity", "image-classification", "text-to-image",
    "automatic-speech-recognition", "tensorboard", "generated_from_trainer", "trl", "sft",
    "unsloth", "mlx", "imatrix", "llama", "qwen2", "mistral", "gemma3", "bert",
    "text-classification", "token-classification", "fill-mask", "custom_code",
)  # fmt: skip
RARE_TAGS = 60_000
"""``dataset:`` and ``arxiv:`` tags: a long tail of distinct values."""


# ---------------------------------------------------------------------- the synthetic Hub


class Hub:
    """A synthetic whole Hub as columns (numpy and Arrow), the same population for every week."""

    def __init__(self, models: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.n = n = models
        registered = [org.org for org in load_registry()]
        unregistered = max(1000, n // MODELS_PER_AUTHOR)
        names = registered + [f"hf-user-{k:x}" for k in range(unregistered)]
        self.author_names = pa.array(names)
        # Registered orgs: 10 to 1,000 models each, whatever the Hub's size (a quarter of a
        # small one at most); the others a Zipf-like long tail.
        org_models = np.exp(rng.uniform(np.log(10), np.log(1000), len(registered))).astype(int)
        org_models = np.minimum(org_models, max(1, n // (4 * len(registered))))
        org_rows = rng.permutation(np.repeat(np.arange(len(registered)), org_models))
        weights = 1.0 / np.arange(1, unregistered + 1) ** 0.8
        others = len(registered) + rng.choice(
            unregistered, n - len(org_rows), p=weights / weights.sum()
        )
        author = np.concatenate([org_rows, others])
        rng.shuffle(author[BASES:])  # the first models are registered orgs' bases
        self.author = author
        stem = rng.integers(0, len(STEMS), n)
        suffix = rng.integers(0, len(SUFFIXES), n)
        names_array = pc.binary_join_element_wise(
            pa.array(STEMS).take(pa.array(stem)),
            pa.array(SUFFIXES).take(pa.array(suffix)),
            pc.cast(pa.array(np.arange(n)), pa.string()),
            "",
        )
        self.ids = pc.binary_join_element_wise(
            self.author_names.take(pa.array(author)), names_array, "/"
        )
        self._parents(rng)
        base = np.zeros(n, bool)
        base[: min(BASES, n)] = True
        pareto = rng.pareto(1.1, n)
        self.downloads = np.where(
            base, (pareto * 20_000).astype(np.int64), (pareto * 2).astype(np.int64)
        ).clip(0, 200_000_000)
        self.all_time = self.downloads * rng.integers(1, 40, n) + rng.integers(0, 50, n)
        days = (DAY - START.date()).days + 7
        self.created_days = rng.integers(0, days, n)
        self.created_seconds = rng.integers(0, 86_400, n)
        self.likes = (pareto * 0.5).astype(np.int64)
        self.tag_rng = np.random.default_rng(seed + 1)

    def _parents(self, rng: np.random.Generator) -> None:
        """Parent indices: -1 for none, ``n + k`` for the k-th deleted repo."""
        n = self.n
        has = rng.random(n) < WITH_PARENTS
        has[: min(BASES, n)] = False
        count = np.where(has, 1, 0)
        merge = has & (rng.random(n) < MERGES)
        count[merge] = rng.integers(2, 4, int(merge.sum()))
        self.relation = np.where(merge, 3, rng.choice(3, n, p=[0.5, 0.35, 0.15]))
        self.parent_offsets = np.concatenate([[0], np.cumsum(count)])
        child = np.repeat(np.arange(n), count)
        bases = min(BASES, n)
        weights = 1.0 / np.arange(1, bases + 1)
        to_base = rng.choice(bases, len(child), p=weights / weights.sum())
        earlier = (rng.random(len(child)) * child).astype(np.int64)
        parent = np.where(rng.random(len(child)) < 0.55, to_base, earlier)
        deleted = rng.random(len(child)) < DELETED_PARENTS
        parent[deleted] = n + rng.integers(0, 5000, int(deleted.sum()))
        # Two cycles: two pairs of models each naming the other.
        singles = np.flatnonzero(count == 1)[-4:]
        if len(singles) == 4:
            for a, b in ((singles[0], singles[1]), (singles[2], singles[3])):
                parent[self.parent_offsets[a]] = b
                parent[self.parent_offsets[b]] = a
        self.parent = parent
        self.structured_only = has & (rng.random(n) < STRUCTURED_ONLY)

    def parent_ids(self, parent: np.ndarray) -> pa.Array:
        live = parent < self.n
        ids = self.ids.take(pa.array(np.where(live, parent, 0)))
        gone = pc.binary_join_element_wise(
            "deleted-", pc.cast(pa.array(parent - self.n), pa.string()), "/gone-model", ""
        )
        return pc.if_else(pa.array(live), ids, gone)

    def week(self, rows: slice, week: int = 0) -> pa.Table:
        """Rows ``rows`` of the week ``week`` weeks before the last, with the wanted columns."""
        start, stop = rows.start, rows.stop
        index = np.arange(start, stop)
        scale = 1.0 - 0.004 * week
        downloads = (self.downloads[index] * scale).astype(np.int64)
        all_time = (self.all_time[index] * (1.0 - 0.008 * week)).astype(np.int64)
        created = [
            START + timedelta(days=int(d), seconds=int(s))
            for d, s in zip(self.created_days[index], self.created_seconds[index], strict=True)
        ]
        tags, base_models = self._tags(start, stop)
        return pa.table(
            {
                "id": self.ids[start:stop],
                "author": self.author_names.take(pa.array(self.author[index])),
                "createdAt": [c.strftime("%Y-%m-%dT%H:%M:%S.000Z") for c in created],
                "downloads": downloads,
                "downloadsAllTime": all_time,
                "likes": self.likes[index],
                "library_name": pa.array(np.where(index % 3 == 0, "transformers", "gguf")),
                "pipeline_tag": pa.array(np.where(index % 2 == 0, "text-generation", None)),
                "tags": tags,
                "baseModels": base_models,
            }
        )

    def _tags(self, start: int, stop: int) -> tuple[pa.Array, pa.Array]:
        """Each model's tags (common ones, a rare one or two, then its ``base_model:`` tags)
        and its ``baseModels``, built as Arrow arrays without a Python object per tag."""
        rng = self.tag_rng
        rows = stop - start
        first, last = self.parent_offsets[start], self.parent_offsets[stop]
        links = last - first
        per_row = np.diff(self.parent_offsets[start : stop + 1])
        structured_only = self.structured_only[start:stop]
        tagged = np.where(structured_only, 0, per_row)
        common = rng.integers(8, 16, rows)
        rare = rng.integers(0, 3, rows)
        counts = common + rare + 2 * tagged
        offsets = np.concatenate([[0], np.cumsum(counts)])
        # A pool of strings: common tags, rare tags, then two tags per parent link.
        parent = self.parent[first:last]
        parent_ids = self.parent_ids(parent)
        child_row = np.repeat(np.arange(rows), per_row)
        relation = np.array(RELATIONS)[self.relation[start:stop][child_row]]
        bare = pc.binary_join_element_wise("base_model:", parent_ids, "")
        with_relation = pc.binary_join_element_wise(
            pa.array(np.char.add("base_model:", np.char.add(relation, ":"))), parent_ids, ""
        )
        rare_pool = pa.array(
            [f"dataset:org{k % 997}/data-{k}" for k in range(RARE_TAGS // 2)]
            + [f"arxiv:{2300 + k % 200}.{k:05d}" for k in range(RARE_TAGS // 2)]
        )
        pool = pa.concat_arrays(
            [pa.array(COMMON_TAGS), rare_pool, bare.cast(pa.string()), with_relation]
        )
        base_rare = len(COMMON_TAGS)
        base_bare = base_rare + RARE_TAGS
        base_rel = base_bare + links
        source = np.empty(offsets[-1], np.int64)
        # common tags: positions [o, o + common)
        row_of = np.repeat(np.arange(rows), counts)
        within = np.arange(offsets[-1]) - offsets[:-1][row_of]
        kind_common = within < common[row_of]
        kind_rare = ~kind_common & (within < (common + rare)[row_of])
        kind_link = ~kind_common & ~kind_rare
        source[kind_common] = rng.integers(0, len(COMMON_TAGS), int(kind_common.sum()))
        rare_picks = (rng.pareto(1.0, int(kind_rare.sum())) * 50).astype(np.int64) % RARE_TAGS
        source[kind_rare] = base_rare + rare_picks
        # Link tags: for link j of a row, "base_model:<p>" then "base_model:<rel>:<p>".
        link_within = within[kind_link] - (common + rare)[row_of[kind_link]]
        link_rows = row_of[kind_link]
        link_index = (self.parent_offsets[start:stop][link_rows] - first) + link_within // 2
        source[kind_link] = np.where(
            link_within % 2 == 0, base_bare + link_index, base_rel + link_index
        )
        flat = pool.take(pa.array(source))
        tags = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), flat)
        # baseModels: {"relation": ..., "models": [{"id": ...}]} for models with parents.
        link_offsets = (self.parent_offsets[start : stop + 1] - first).astype(np.int32)
        models = pa.ListArray.from_arrays(
            pa.array(link_offsets),
            pa.StructArray.from_arrays([parent_ids.cast(pa.string())], names=["id"]),
            mask=pa.array(per_row == 0),
        )
        relations = pa.array(np.array(RELATIONS)[self.relation[start:stop]])
        base_models = pa.StructArray.from_arrays(
            [relations, models], names=["relation", "models"], mask=pa.array(per_row == 0)
        )
        return tags, base_models


def heavy_columns(rows: int, rng: np.random.Generator) -> dict[str, pa.Array]:
    """The columns hubpulse never reads, at about a 2026 week's size: random printable text."""

    def text(mean: float, present: float = 1.0) -> pa.Array:
        lengths = np.where(
            rng.random(rows) < present, rng.lognormal(np.log(mean), 0.6, rows), 0
        ).astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        data = rng.integers(33, 127, int(offsets[-1]), dtype=np.uint8)
        return pa.LargeStringArray.from_buffers(
            rows, pa.py_buffer(offsets), pa.py_buffer(data)
        ).cast(pa.string())

    files = rng.integers(2, 9, rows)
    file_offsets = np.concatenate([[0], np.cumsum(files)]).astype(np.int32)
    file_names = pa.array(
        np.char.add("model-", rng.integers(0, 10**6, int(file_offsets[-1])).astype(str))
    )
    siblings = pa.ListArray.from_arrays(
        pa.array(file_offsets), pa.StructArray.from_arrays([file_names], names=["rfilename"])
    )
    gguf_present = rng.random(rows) < 0.15
    gguf = pa.StructArray.from_arrays(
        [pa.array(rng.integers(10**8, 10**11, rows)), text(1100.0, 1.0)],
        names=["total", "chat_template"],
        mask=pa.array(~gguf_present),
    )
    safetensors = pa.StructArray.from_arrays(
        [pa.array(rng.integers(10**6, 10**11, rows)), text(40.0)],
        names=["total", "parameters"],
        mask=pa.array(rng.random(rows) < 0.4),
    )
    return {
        "sha": text(40.0),
        "lastModified": pa.array(rng.integers(1.6e12, 1.78e12, rows), pa.timestamp("ms", "UTC")),
        "cardData": text(150.0, 0.7),
        "siblings": siblings,
        "config": text(110.0, 0.6),
        "safetensors": safetensors,
        "gguf": gguf,
    }


def write_week_file(
    hub: Hub, path: Path, *, week: int = 0, row_group: int, heavy: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed + 2 + week)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, hub.n, row_group):
            table = hub.week(slice(start, min(hub.n, start + row_group)), week)
            if heavy:
                for name, column in heavy_columns(table.num_rows, rng).items():
                    table = table.append_column(name, column)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=row_group)
    finally:
        if writer is not None:
            writer.close()


def write(args: argparse.Namespace) -> None:
    """Write the synthetic week (``--write week``) or archive (``--write archive``) at
    ``--to``; in a process of its own, so that the benchmark's peak RSS is not the generator's."""
    hub = Hub(args.models, args.seed)
    if args.write == "week":
        write_week_file(hub, args.to, row_group=args.row_group, heavy=True, seed=args.seed)
        return
    first = DAY - timedelta(weeks=args.weeks - 1)
    for k in range(args.weeks):
        path = args.to / week_path(first + timedelta(weeks=k))
        week = args.weeks - 1 - k
        write_week_file(hub, path, week=week, row_group=args.row_group, heavy=False, seed=args.seed)
    (args.to / "complete").touch()


def generate(args: argparse.Namespace, to: Path, what: str) -> None:
    started = time.perf_counter()
    options = ["--models", str(args.models), "--weeks", str(args.weeks), "--seed", str(args.seed)]
    options += ["--row-group", str(args.row_group), "--write", what, "--to", str(to)]
    subprocess.run([sys.executable, __file__, *options], check=True)
    print(f"wrote {to} in {time.perf_counter() - started:.0f} s")


def week_path(day: date) -> str:
    return f"models/{day.isoformat()}/models.parquet"


# ---------------------------------------------------------------------- one week over loopback


def serve(path: Path) -> None:
    """Serve ``path`` as the archive's one week: print the fake's URL; for each line on stdin
    print the bytes served since the last line; when stdin closes, exit."""
    from tests.fakes.hub import FakeHub

    with FakeHub() as fake:
        fake.put_dataset_file(REPO, week_path(DAY), path.read_bytes())
        print(fake.url, flush=True)
        for _ in sys.stdin:
            print(fake.bytes_served(REPO), flush=True)
            fake.reset_requests()


def measure(url: str) -> None:
    """Import the fake's week once, in this fresh process, and print what it cost as JSON."""
    from bot.ingest.archive import HubArchive
    from bot.ingest.backfill import import_week
    from bot.store.engine import make_engine, upgrade

    registry = load_registry()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/week.db")
        upgrade(engine)
        archive = HubArchive(REPO, url, None)
        (week,) = archive.weeks()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        cost = import_week(engine, archive, week, registry, FrozenClock(datetime.now(UTC)))
        total = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        engine.dispose()
    print(
        json.dumps(
            {
                "seconds": total,
                "read_reduce": cost.seconds,
                "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
                "rss_kib": after.ru_maxrss,
                "bytes_read": cost.bytes_read,
                "file_bytes": cost.file_bytes,
            }
        )
    )


def bench_week(args: argparse.Namespace, data: Path) -> None:
    path = data / f"week-{args.models}-{args.seed}-{args.row_group}.parquet"
    if not path.exists():
        generate(args, path, "week")
    size = path.stat().st_size
    meta = pq.ParquetFile(path).metadata
    print(
        f"week: {meta.num_rows:,} models, {size / MIB:,.0f} MiB, {meta.num_row_groups} row "
        f"groups, {meta.num_columns} columns"
    )
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    results = []
    try:
        for run in range(1, args.runs + 1):
            print(f"  load before run {run}: {load()}")
            done = subprocess.run(
                [sys.executable, __file__, "--measure", url],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            server.stdin.write("served\n")
            server.stdin.flush()
            result["served"] = int(server.stdout.readline())
            results.append(result)
            write = result["seconds"] - result["read_reduce"]
            print(
                f"  run {run}: {result['seconds']:.1f} s (read and reduce "
                f"{result['read_reduce']:.1f} s, write {write:.1f}"
                f" s), CPU {result['cpu']:.1f} s, peak RSS {result['rss_kib'] / 1024:,.0f} MiB, "
                f"served {result['served'] / MIB:,.1f} MiB = {result['served'] / size:.1%} of the "
                f"file (client counted {result['bytes_read'] / MIB:,.1f} MiB)"
            )
    finally:
        server.stdin.close()
        server.wait()
    print(
        f"week of {meta.num_rows:,} models over loopback, {len(results)} run(s): "
        f"{span([r['seconds'] for r in results])} s (target < 60 s), peak RSS "
        f"{span([r['rss_kib'] / 1024 for r in results])} MiB (target < 1,536 MiB), read "
        f"{span([100 * r['served'] / size for r in results], '.1f')}% of the file (target < 15%)"
    )
    print(f"load after: {load()}")


# ---------------------------------------------------------------------- two years of weeks


def bench_backfill(args: argparse.Namespace, data: Path) -> None:
    from bot.ingest.archive import LocalArchive
    from bot.ingest.backfill import backfill
    from bot.store.engine import make_engine, upgrade
    from bot.store.retention import sqlite_size

    directory = data / f"archive-{args.models}-{args.weeks}-{args.seed}"
    if not (directory / "complete").exists():
        generate(args, directory, "archive")
    on_disk = sum(p.stat().st_size for p in directory.glob("models/*/models.parquet"))
    print(f"archive: {args.weeks} weeks of {args.models:,} models, {on_disk / MIB:,.0f} MiB")
    urls = [None, args.database_url] if args.database_url else [None]
    for url in urls:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(url or f"sqlite:///{tmp}/history.db")
            upgrade(engine)
            print(f"  load before: {load()}")
            started = time.perf_counter()
            report = backfill(
                engine, LocalArchive(directory), load_registry(), clock=FrozenClock(NOW)
            )
            seconds = time.perf_counter() - started
            size = sqlite_size(engine) if url is None else postgres_size(engine)
            counts = row_counts(engine)
            engine.dispose()
        name = "SQLite" if url is None else "PostgreSQL"
        print(
            f"backfill of {len(report.imported)} weeks ({len(report.failed)} failed) into "
            f"{name}: {seconds:.0f} s, {seconds / max(1, len(report.imported)):.1f} s a week; "
            f"store {size / MIB:,.1f} MiB ({counts}); peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
        )
    print(f"load after: {load()}")


def row_counts(engine: Any) -> str:
    with engine.connect() as connection:
        parts = []
        for table in ("week_aggregates", "week_models", "week_releases"):
            count = connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608
            parts.append(f"{table} {count:,} rows")
    return ", ".join(parts)


def postgres_size(engine: Any) -> int:
    """Bytes of every table of the database's public schema, indexes and TOAST included."""
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            ).scalar_one()
        )


NOW = datetime(2026, 1, 12, tzinfo=UTC)


# ---------------------------------------------------------------------- helpers


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def span(values: Iterator[float] | Any, spec: str = ",.1f") -> str:
    values = list(values)
    low, high = min(values), max(values)
    middle = statistics.median(values)
    if len(values) < 3:
        return f"{low:{spec}} to {high:{spec}}"
    return f"{low:{spec}} to {high:{spec}} (median {middle:{spec}})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=("week", "backfill", "both"), default="both")
    parser.add_argument(
        "--models", type=int, help="models a week (week: 2,500,000; backfill: 250,000)"
    )
    parser.add_argument("--weeks", type=int, default=120, help="weeks of the backfill")
    parser.add_argument("--runs", type=int, default=3, help="imports of the one week")
    parser.add_argument("--row-group", type=int, default=250_000, help="rows per row group")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="keep the generated files here (reused)")
    parser.add_argument(
        "--database-url", help="also backfill into this empty (PostgreSQL) database"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--write", choices=("week", "archive"), help=argparse.SUPPRESS)
    parser.add_argument("--to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write(args)
        return
    if args.serve:
        serve(args.serve)
        return
    if args.measure:
        measure(args.measure)
        return
    print(f"{os.cpu_count()} cores, {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        if args.what in ("week", "both"):
            week_args = argparse.Namespace(**vars(args))
            week_args.models = args.models or (500_000 if args.quick else 2_500_000)
            week_args.row_group = min(args.row_group, max(1, week_args.models // 4))
            week_args.runs = 1 if args.quick else args.runs
            bench_week(week_args, data)
        if args.what in ("backfill", "both"):
            fill_args = argparse.Namespace(**vars(args))
            fill_args.models = args.models or (100_000 if args.quick else 250_000)
            fill_args.weeks = 13 if args.quick else args.weeks
            bench_backfill(fill_args, data)


if __name__ == "__main__":
    main()
