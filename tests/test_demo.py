"""The demo dataset: stored through the real refresh path, it tells the story and reloads cleanly.

Full loads run on embedded SQLite (the demo's home); the SQL that replaces demo snapshots runs on
both SQLite and PostgreSQL with a few hand-made snapshots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from bot.cli import main
from bot.core.clock import FrozenClock, as_utc
from bot.core.registry import load_registry
from bot.ingest.demo import (
    DEMO_SOURCE,
    TOP_N,
    DemoLoad,
    RealSnapshotsError,
    load_demo,
    real_snapshot_count,
)
from bot.ingest.demo_data import WEEKS, build_dataset
from bot.model.aggregates import COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.model.crawl import Crawl
from bot.model.lineage import walk_up
from bot.model.records import to_record
from bot.store import schema
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.retention import delete_demo_snapshots
from bot.store.writer import store_crawl
from tests.fakes.hub import make_record

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
COGITO = "deepcogito/cogito-v2.1"
V3_BASE = "deepseek-ai/DeepSeek-V3-Base"
REAL_SOURCE = "hub https://huggingface.co"


@dataclass
class Loaded:
    engine: Engine
    reader: Reader
    load: DemoLoad


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """One demo load, shared by the read-only tests of this module."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    upgrade(engine)
    load = load_demo(engine, clock=FrozenClock(NOW))
    yield Loaded(engine, Reader(engine, clock=FrozenClock(NOW)), load)
    engine.dispose()


def _share(reader: Reader, snapshot_id: int, attribution: str, key: str) -> float:
    row = reader.aggregate(snapshot_id, attribution, COUNTRY, key)
    assert row is not None
    return row.share


def _store_real_snapshot(engine: Engine, taken_at: datetime, source: str = REAL_SOURCE) -> None:
    raw = [
        make_record("Qwen/Qwen3-8B", downloads=900, downloads_all_time=5000),
        make_record("someone/Qwen3-8B-GGUF", downloads=50, parents=["Qwen/Qwen3-8B"]),
    ]
    records = {r.id: r for r in map(to_record, raw)}
    store_crawl(
        engine,
        Crawl(records, top_ids=list(records)),
        load_registry(),
        taken_at=taken_at,
        finished_at=taken_at,
        source=source,
        top_n=2,
    )


def test_eight_complete_weekly_snapshots_labelled_as_demo(loaded: Loaded) -> None:
    snapshots = list(reversed(loaded.reader.snapshots()))
    assert len(snapshots) == WEEKS >= 8
    assert all(s.status == "complete" and s.source == DEMO_SOURCE for s in snapshots)
    assert all("illustrative" in s.note.lower() for s in snapshots)
    assert all("not live Hub figures" in s.note for s in snapshots)
    assert snapshots[-1].taken_at == NOW
    gaps = {later.taken_at - earlier.taken_at for earlier, later in pairwise(snapshots)}
    assert gaps == {timedelta(days=7)}
    assert all(s.top_n == TOP_N and s.top_models == TOP_N for s in snapshots)
    assert all(3000 <= s.models_total <= 6000 for s in snapshots)


def test_the_named_families_are_there(loaded: Loaded) -> None:
    reader = loaded.reader
    latest = reader.latest()
    for model_id in (
        V3_BASE,
        "deepseek-ai/DeepSeek-R1",
        "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
        "Qwen/Qwen3-8B",
        "meta-llama/Llama-3.1-8B-Instruct",
        COGITO,
        "google/gemma-3-27b-it",
        "mistralai/Mistral-7B-Instruct-v0.3",
    ):
        assert reader.model(model_id) is not None, model_id
        assert reader.stat(latest.id, model_id) is not None, model_id
    for org in ("deepseek-ai", "Qwen", "meta-llama", "deepcogito", "zai-org", "moonshotai"):
        assert reader.aggregate(latest.id, PUBLISHER, ORG, org) is not None, org
    qwen_family = reader.aggregate(latest.id, LINEAGE, ORG, "Qwen")
    qwen_repos = reader.aggregate(latest.id, PUBLISHER, ORG, "Qwen")
    assert qwen_family is not None
    assert qwen_repos is not None
    assert qwen_family.downloads > qwen_repos.downloads  # third-party derivatives count too
    derived = reader.lineage_stat(latest.id, "Qwen/Qwen2.5-7B-Instruct")
    assert derived is not None
    assert all(derived.by_relation[r] > 0 for r in ("finetune", "quantized", "adapter", "merge"))


def test_cogito_v2_1_is_a_us_fine_tune_of_a_chinese_base(loaded: Loaded) -> None:
    chain = walk_up(COGITO, loaded.reader.parents)
    assert chain.root == V3_BASE
    assert [step.relation for step in chain.steps] == ["finetune"]
    registry = load_registry()
    assert registry.country_of("deepcogito") == "US"
    assert registry.country_of("deepseek-ai") == "CN"
    three = walk_up("nvidia/AceReason-Nemotron-14B", loaded.reader.parents)
    assert [s.parent for s in three.steps] == [
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
        "Qwen/Qwen2.5-14B",
    ]


def test_china_passes_the_us_over_the_eight_weeks(loaded: Loaded) -> None:
    reader = loaded.reader
    first, latest = reader.snapshots()[-1], reader.latest()
    for attribution in (LINEAGE, PUBLISHER):
        assert _share(reader, first.id, attribution, "CN") < _share(
            reader, first.id, attribution, "US"
        )
        assert _share(reader, latest.id, attribution, "CN") > _share(
            reader, latest.id, attribution, "US"
        )


def test_all_time_downloads_only_grow_and_weekly_figures_come_from_them(loaded: Loaded) -> None:
    st, s = schema.model_stats, schema.snapshots
    with loaded.engine.connect() as connection:
        rows = connection.execute(
            select(st.c.model_id, st.c.downloads_all_time, st.c.weekly_basis, s.c.taken_at)
            .join(s, s.c.id == st.c.snapshot_id)
            .order_by(s.c.taken_at)
        ).all()
    history: dict[str, list[int]] = defaultdict(list)
    first = min(as_utc(row.taken_at) for row in rows)
    for row in rows:
        history[row.model_id].append(row.downloads_all_time)
        if as_utc(row.taken_at) > first and len(history[row.model_id]) > 1:
            assert row.weekly_basis == "all_time", row.model_id
    assert all(counts == sorted(counts) for counts in history.values())


def test_releases_appear_week_by_week(loaded: Loaded) -> None:
    reader = loaded.reader
    latest = reader.latest()
    registry = load_registry()
    week = reader.created_between(latest.taken_at - timedelta(days=7), latest.taken_at)
    registered = [m for m in week if registry.get(m.author) is not None]
    assert {registry.country_of(m.author) for m in registered} >= {"CN", "US"}
    assert "deepseek-ai/DeepSeek-V3.2" in {m.id for m in registered}
    snapshots = reader.snapshots()
    for snapshot in snapshots[:-1]:
        assert reader.new_in_snapshot(snapshot.id), snapshot.taken_at
    released = reader.model(COGITO)
    assert released is not None
    assert released.created_at is not None
    assert released.created_at > snapshots[-1].taken_at
    assert all(
        (snapshot.taken_at < released.created_at) == (reader.stat(snapshot.id, COGITO) is None)
        for snapshot in snapshots
    )


def test_figures_do_not_depend_on_the_load_time() -> None:
    def figures(last: datetime) -> dict[str, tuple[int, int]]:
        records = build_dataset(last).hub_records(WEEKS - 1)
        return {r["id"]: (r["downloads"], r["downloadsAllTime"]) for r in records}

    assert figures(NOW) == figures(NOW + timedelta(days=40))


def test_loading_again_replaces_the_demo_snapshots(loaded: Loaded) -> None:
    def counts() -> tuple[int, ...]:
        with loaded.engine.connect() as connection:
            return tuple(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (
                    schema.snapshots,
                    schema.models,
                    schema.model_stats,
                    schema.aggregates,
                )
            )

    before = counts()
    again = load_demo(loaded.engine, clock=FrozenClock(NOW))
    assert again.replaced == WEEKS
    assert counts() == before
    assert len(loaded.reader.snapshots()) == WEEKS
    m = schema.models
    with loaded.engine.connect() as connection:
        first_seen = set(
            connection.execute(select(m.c.first_seen_snapshot_id).distinct()).scalars()
        )
    assert first_seen <= {s.id for s in loaded.reader.snapshots()}


def test_deleting_demo_snapshots_keeps_real_ones(engine: Engine) -> None:
    _store_real_snapshot(engine, NOW - timedelta(days=14), source=DEMO_SOURCE)
    _store_real_snapshot(engine, NOW - timedelta(days=7))
    _store_real_snapshot(engine, NOW, source=DEMO_SOURCE)
    reader = Reader(engine)
    real = [s for s in reader.snapshots() if s.source == REAL_SOURCE]
    assert real_snapshot_count(engine) == 1

    assert delete_demo_snapshots(engine) == 2
    assert [s.id for s in reader.snapshots()] == [real[0].id]
    model = reader.model("Qwen/Qwen3-8B")
    assert model is not None
    assert model.first_seen_snapshot_id == real[0].id
    st = schema.model_stats
    with engine.connect() as connection:
        kept = set(connection.execute(select(st.c.snapshot_id).distinct()).scalars())
    assert kept == {real[0].id}
    assert reader.parents("someone/Qwen3-8B-GGUF") == [("Qwen/Qwen3-8B", "finetune")]
    assert delete_demo_snapshots(engine) == 0


def test_refuses_to_mix_demo_data_into_real_snapshots(sqlite_engine: Engine) -> None:
    _store_real_snapshot(sqlite_engine, NOW - timedelta(days=1))
    with pytest.raises(RealSnapshotsError, match="--force"):
        load_demo(sqlite_engine, clock=FrozenClock(NOW))
    assert len(Reader(sqlite_engine).snapshots()) == 1


def test_cli_refuses_real_snapshots_then_loads_with_force_and_prints_answers(
    sqlite_url: str, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_real_snapshot(sqlite_engine, NOW - timedelta(days=1))
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    refused = runner.invoke(main, ["demo"])
    assert refused.exit_code == 2
    assert refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "real snapshot" in refused.stderr
    assert "--force" in refused.stderr
    assert len(Reader(sqlite_engine).snapshots()) == 1

    monkeypatch.delenv("HUBPULSE_DATABASE_URL")
    forced = runner.invoke(main, ["demo", "--database-url", sqlite_url, "--force"])
    assert forced.exit_code == 0, forced.output
    out = forced.stdout
    assert "8 weekly demo snapshots" in out
    assert "illustrative" in out
    for question in ("/share", "/share qwen", "/lineage cogito", "/releases cn"):
        assert f'$ hubpulse ask "{question}"' in out
    for fact in ("China", COGITO, V3_BASE):
        assert fact in out
    assert f"Ask more with: HUBPULSE_DATABASE_URL='{sqlite_url}' hubpulse ask" in out
    assert sqlite_url.removeprefix("sqlite:///") in out
    snapshots = Reader(sqlite_engine).snapshots()
    assert len(snapshots) == WEEKS + 1
    assert real_snapshot_count(sqlite_engine) == 1
    assert snapshots[0].source == DEMO_SOURCE


def test_cli_reports_a_database_it_cannot_open_in_one_line() -> None:
    result = CliRunner().invoke(
        main, ["demo", "--database-url", "postgresql+psycopg://x@127.0.0.1:1/db"]
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot open database" in result.stderr
