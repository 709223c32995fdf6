"""Benchmark ``/share`` over two years of whole-Hub history: a period, and head to head.

    python benchmarks/share_history.py                    # 104 weeks, SQLite and PostgreSQL
    python benchmarks/share_history.py --runs 500 --repeats 5
    python benchmarks/share_history.py --database-url ''  # SQLite only

Builds ``--weeks`` weekly archive weeks (104: two years) into a fresh SQLite file, and into a
schema of its own on PostgreSQL (``--database-url``, default the test database at
127.0.0.1:5432; the schema is dropped at the end; skipped when PostgreSQL does not answer).
Each week goes through the real path: a synthetic week of every model as an Arrow table
(``--models`` models, the registered orgs of ``bot/data/orgs.csv`` and thousands of
unregistered authors, so that a week keeps as many org rows as a real one: the top
``ORG_ROWS_KEPT`` of each measure and every registered org; a third of the models built on a
registered org's base; Qwen's family growing, Llama's shrinking; the first 12 weeks without
``downloadsAllTime``, as the archive's first weeks), ``reduce_week`` and ``write_week``.

Then it times ``/share cn 2025`` and ``/share qwen vs meta-llama`` from the text to the
rendered, Block Kit-shaped ``Answer`` through ``commands.dispatch`` as Slack runs them, without
the chart (``want_chart=False``): ``--runs`` timed runs after a warm-up, ``--repeats`` times,
printing p50, p99 and max of each repetition and the machine's load average before and after
(``os.getloadavg``; other work on the machine shows there). Target (issue #11): p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.clock import FrozenClock
from bot.core.registry import Registry, load_registry
from bot.model.hub_week import reduce_week
from bot.store.engine import make_engine, upgrade
from bot.store.history import WeekCost, write_week
from bot.store.reader import Reader
from commands.base import Context
from commands.dispatch import dispatch

QUESTIONS = ("/share cn 2025", "/share qwen vs meta-llama")
FIRST = date(2024, 7, 1)
"""A Monday: the archive's first week."""
WITHOUT_ALL_TIME = 12
AUTHORS = 6_000
BASES_PER_ORG = 12
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SOURCE = "hfmlsoc/hub_weekly_snapshots"


class SyntheticHub:
    """A fixed set of models whose downloads drift week by week."""

    def __init__(self, registry: Registry, models: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        orgs = [org.org for org in registry]
        bases = [f"{org}/base-{i}" for org in orgs for i in range(BASES_PER_ORG)]
        rest = max(0, models - len(bases))
        authors = rng.integers(0, AUTHORS, rest)
        self.ids = np.array(bases + [f"user{a}/model-{i}" for i, a in enumerate(authors)])
        parent = np.full(len(self.ids), "", dtype=object)
        built_on = rng.random(rest) < 1 / 3
        parent[len(bases) :][built_on] = np.array(bases, dtype=object)[
            rng.integers(0, len(bases), int(built_on.sum()))
        ]
        self.tags = [[f"base_model:finetune:{p}"] if p else [] for p in parent]
        self.thirty = (rng.pareto(1.2, len(self.ids)) * 200).astype(np.int64)
        self.thirty[: len(bases)] *= 50
        self.trend = np.ones(len(self.ids))
        family, llama = (self._family(org, parent) for org in ("Qwen", "meta-llama"))
        self.trend[family] = 1.02
        self.trend[llama] = 0.99
        self.all_time = self.thirty * 20
        self.created = np.datetime64("2023-01-01", "ns")

    def _family(self, org: str, parent: np.ndarray) -> np.ndarray:
        """The org's bases and the models built on them."""
        prefix = f"{org}/"
        return np.array(
            [
                i.startswith(prefix) or p.startswith(prefix)
                for i, p in zip(self.ids, parent, strict=True)
            ]
        )

    def week(self, k: int) -> pa.Table:
        thirty = (self.thirty * self.trend**k).astype(np.int64)
        self.all_time = self.all_time + thirty * 7 // 30
        columns = {
            "id": pa.array(self.ids.tolist()),
            "downloads": pa.array(thirty),
            "createdAt": pa.array(np.full(len(self.ids), self.created)),
            "tags": pa.array(self.tags, pa.list_(pa.string())),
        }
        if k >= WITHOUT_ALL_TIME:
            columns["downloadsAllTime"] = pa.array(self.all_time)
        return pa.table(columns)


def build(url: str, weeks: int, models: int, seed: int, registry: Registry) -> str:
    engine = make_engine(url)
    upgrade(engine)
    hub = SyntheticHub(registry, models, seed)
    started = time.perf_counter()
    rows = 0
    for k in range(weeks):
        table = hub.week(k)
        day = FIRST + timedelta(weeks=k)
        week = reduce_week(day, table.to_batches(), registry)
        rows += len(week.aggregates)
        missing = () if "downloadsAllTime" in table.column_names else ("downloadsAllTime",)
        cost = WeekCost(table.num_rows, missing, None, 0, 0.0)
        write_week(engine, week, SOURCE, cost, datetime.combine(day, datetime.min.time(), UTC))
    engine.dispose()
    return (
        f"{weeks} weeks of {len(hub.ids):,} models in {time.perf_counter() - started:.0f} s, "
        f"{rows / weeks:,.0f} aggregate rows a week"
    )


def now(weeks: int) -> datetime:
    last = FIRST + timedelta(weeks=weeks - 1)
    return datetime.combine(last + timedelta(days=8), datetime.min.time(), UTC)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def time_questions(url: str, registry: Registry, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    reader = Reader(engine, registry, FrozenClock(now(args.weeks)))
    context = Context(reader, engine, want_chart=False)
    for question in QUESTIONS:
        answer = dispatch(question, context)  # warm up: first connection, template compile
        if args.show:
            print(answer.text)
        figures = []
        for repeat in range(1, args.repeats + 1):
            before = load()
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                dispatch(question, context)
                times.append((time.perf_counter() - started) * 1000)
            p50, p99 = statistics.median(times), percentile(times, 0.99)
            figures.append((p50, p99, max(times)))
            print(
                f"  {question:28} repeat {repeat}: p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                f"max {max(times):6.1f} ms  (load {before} -> {load()})",
                flush=True,
            )
        p50s, p99s, maxes = zip(*figures, strict=True)
        print(
            f"  {question:28} over {args.repeats} x {args.runs} runs: p50 {min(p50s):.1f}-"
            f"{max(p50s):.1f} ms, p99 {min(p99s):.1f}-{max(p99s):.1f} ms, max "
            f"{min(maxes):.1f}-{max(maxes):.1f} ms (target p99 < 50 ms)",
            flush=True,
        )
    engine.dispose()


@contextmanager
def postgres_schema(url: str) -> Iterator[str | None]:
    """A fresh schema on ``url``'s database, dropped afterwards; None when it does not answer."""
    try:
        admin = create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
        with admin.connect() as connection:
            name = f"bench_{uuid.uuid4().hex[:10]}"
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:  # a benchmark skips a database it cannot reach
        print(f"PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        yield None
        return
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--models", type=int, default=60_000, help="models a week")
    parser.add_argument("--runs", type=int, default=300, help="timed runs a repetition")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", action="store_true", help="print each answer once")
    parser.add_argument(
        "--database-url", default=POSTGRES, help="PostgreSQL to also time ('' to skip)"
    )
    args = parser.parse_args()
    registry = load_registry()
    print(f"{os.cpu_count()} cores, load average {load()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/history.db"
        print(f"SQLite: {build(url, args.weeks, args.models, args.seed, registry)}", flush=True)
        time_questions(url, registry, args)
    if args.database_url:
        with postgres_schema(args.database_url) as schema_url:
            if schema_url is not None:
                built = build(schema_url, args.weeks, args.models, args.seed, registry)
                print(f"PostgreSQL: {built}", flush=True)
                time_questions(schema_url, registry, args)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
