"""Benchmark the weekly digest and the release alerts for many channels after a big refresh.

    python benchmarks/digest.py                               # 200,000 models, 1,000 channels
    python benchmarks/digest.py --models 50000 --workspaces 10 --channels 10

It stores two snapshots a week apart (through the real ``bot.store.writer.store_crawl``)
into a fresh
SQLite file: ``--models`` models by the registered orgs and tens of thousands of other authors,
the second with a few thousand releases of the week (some in bursts of dozens, some third-party
quantizations, some tiny). ``--workspaces`` x ``--channels`` channels each follow one to three
orgs or countries (releases, share or both) and have the digest on.

Then, as the scheduler does after a refresh, it times:

* the alert pass: planning (new models matched against every subscription, share moves) and
  writing one ledger delivery per channel, then posting them;
* the digest pass: every channel's digest job, as the scheduler runs them on Monday morning
  (the content and chart built once per snapshot and shared; per channel one ledger claim,
  one post and one record of the outcome).

Posting goes to an in-process recorder instead of Slack, so the figures are our CPU alone;
Slack's pacing (about one message per second per channel) is reported, not slept. The target
is under 10 s of CPU for the two passes together.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.channels import (
    digest_schedule,
    subscriptions,
)
from bot.channels.channel import Channel
from bot.channels.subscriptions import COUNTRY, FEATURE_WORDS, ORG, Target
from bot.core.clock import FrozenClock
from bot.core.registry import Registry, load_registry
from bot.core.settings import load_settings
from bot.jobs.runtime import Runtime
from bot.jobs.send import DigestReport, send_alerts, send_digest
from bot.model.crawl import Crawl
from bot.model.records import Edge, ModelRecord
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.writer import store_crawl

T1 = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday
T0 = T1 - timedelta(days=7)
TOP_N = 20_000
RELEASES = 3_000


@dataclass
class Recorder:
    """A ``Poster`` that keeps what would have been posted."""

    posts: list[tuple[Channel, int]] = field(default_factory=list)
    uploads: list[tuple[Channel, int]] = field(default_factory=list)

    def post(self, channel: Channel, message: dict[str, Any]) -> str:
        self.posts.append((channel, len(message["text"])))
        return f"{len(self.posts)}.000100"

    def upload(self, channel: Channel, png: bytes, title: str, thread_ts: str) -> None:
        self.uploads.append((channel, len(png)))


def _record(model_id: str, downloads: int, created: datetime, **extra: Any) -> ModelRecord:
    return ModelRecord(
        id=model_id,
        author=model_id.split("/", 1)[0],
        created_at=created,
        pipeline_tag="text-generation",
        library="transformers",
        license="apache-2.0",
        gated="false",
        tags=list(extra.pop("tags", [])),
        downloads=downloads,
        downloads_all_time=downloads * 10,
        likes=downloads // 1000,
        trending_score=None,
        children_count=None,
        **extra,
    )


def hub_models(count: int, registry: Registry, rng: random.Random) -> list[ModelRecord]:
    """The models of the first snapshot: a long tail of downloads, a fifth by registered orgs."""
    orgs = [org.org for org in registry]
    old = T0 - timedelta(days=200)
    models = []
    for i in range(count):
        author = rng.choice(orgs) if i % 5 == 0 else f"user{rng.randrange(40_000)}"
        downloads = int(rng.paretovariate(1.1) * 50)
        models.append(_record(f"{author}/model-{i}", downloads, old))
    return models


def releases(registry: Registry, rng: random.Random) -> list[ModelRecord]:
    """The week's new models: bursts by big orgs, quantizations by third parties, tiny repos."""
    orgs = [org.org for org in registry]
    found = []
    for i in range(RELEASES):
        created = T1 - timedelta(hours=rng.uniform(1, 150))
        if i < 200:  # a burst of Qwen repos
            found.append(_record(f"Qwen/Qwen9-burst-{i}", rng.randrange(10, 90_000), created))
        elif i % 7 == 0:
            parent = f"Qwen/Qwen9-burst-{i % 200}"
            edge = Edge(f"unsloth/q-{i}-GGUF", parent, "quantized")
            found.append(
                _record(f"unsloth/q-{i}-GGUF", 5000, created, tags=["gguf"], parents=[edge])
            )
        else:
            author = rng.choice(orgs) if i % 2 else f"user{rng.randrange(40_000)}"
            found.append(_record(f"{author}/new-{i}", rng.randrange(0, 50_000), created))
    return found


def crawl(records: list[ModelRecord]) -> Crawl:
    by_id = {record.id: record for record in records}
    top = sorted(by_id, key=lambda model_id: -by_id[model_id].downloads)[:TOP_N]
    return Crawl(records=by_id, top_ids=top, org_ids=set())


def store(url: str, models: int, rng: random.Random) -> None:
    engine = make_engine(url)
    upgrade(engine)
    registry = load_registry()
    week0 = hub_models(models - RELEASES, registry, rng)
    for taken_at, records in ((T0, week0), (T1, week0 + releases(registry, rng))):
        started = time.perf_counter()
        store_crawl(
            engine,
            crawl(records),
            registry,
            taken_at=taken_at,
            finished_at=taken_at,
            source="benchmark",
            top_n=TOP_N,
        )
        print(f"  stored {len(records):,} models in {time.perf_counter() - started:.1f} s")
    engine.dispose()


def subscribe_channels(runtime: Runtime, workspaces: int, per: int, rng: random.Random) -> int:
    orgs = [org.org for org in runtime.reader.registry]
    targets = [Target(ORG, org) for org in orgs] + [Target(COUNTRY, c) for c in ("CN", "US", "FR")]
    now = runtime.clock.now() - timedelta(days=7)
    count = 0
    for w in range(workspaces):
        for c in range(per):
            channel = Channel(f"T{w:04d}", f"C{c:04d}")
            for target in rng.sample(targets, rng.randint(1, 3)):
                features = FEATURE_WORDS[rng.choice(("releases", "releases", "share", "all"))]
                subscriptions.subscribe(
                    runtime.engine, channel, target, features, "U1", now, share=(0.0, 1)
                )
            digest_schedule.enable(runtime.engine, channel, "mon", "09:00", "UTC", "U1", now)
            count += 1
    return count


def digest_jobs(runtime: Runtime) -> list[DigestReport]:
    """What the scheduler does on Monday morning: each channel's digest job, one by one."""
    reports = []
    for config in digest_schedule.scheduled(runtime.engine):
        reports.append(send_digest(runtime, config, scheduled=True))
    return reports


class Timer:
    """CPU (and wall) seconds of each timed step, and their CPU total."""

    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, label: str, work: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        result = work()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"  {label}: {cpu:.2f} s CPU ({wall:.2f} s wall)")
        self.total += cpu
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200_000)
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--channels", type=int, default=10, help="channels per workspace")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the passes")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"storing two snapshots of {args.models:,} models...")
        store(url, args.models, rng)
        engine = make_engine(url)
        clock = FrozenClock(T1 + timedelta(hours=3))
        recorder = Recorder()
        runtime = Runtime(
            engine=engine,
            reader=Reader(engine, load_registry(), clock),
            clock=clock,
            poster=recorder,
            settings=load_settings({}),
            sleep=lambda seconds: None,
        )
        channels = subscribe_channels(runtime, args.workspaces, args.channels, rng)
        print(f"{channels:,} channels in {args.workspaces} workspaces; after the refresh:")
        timed = Timer()
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        report = timed("alert pass (match, render, ledger, post)", lambda: send_alerts(runtime))
        digests = timed("digest pass (one job per channel)", lambda: digest_jobs(runtime))
        total = timed.total
        if args.profile:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        per_channel: dict[Channel, int] = {}
        for channel, _ in recorder.posts:
            per_channel[channel] = per_channel.get(channel, 0) + 1
        sent = sum(r.outcome == "sent" for r in digests)
        print(
            f"  {report.new_releases:,} new releases -> {report.count('sent'):,} alert messages; "
            f"{sent:,} digests sent"
        )
        print(
            f"  posting at Slack's ~1 message/s/channel: at most {max(per_channel.values())} "
            f"messages per channel, so ~{max(per_channel.values())} s for the whole pass"
        )
        print(f"total: {total:.2f} s CPU for {channels:,} channels (target < 10 s)")
        engine.dispose()


if __name__ == "__main__":
    main()
