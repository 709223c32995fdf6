"""Hub records to rows (pure transforms), and what the store computes from them.

The transform tests read hand-written JSON shaped like the Hub API's answers (``tests/data``).
The store tests write hand-made crawls whose right answers are known by construction through the
real ``bot.store.writer`` into SQLite and PostgreSQL, and read them back through
``bot.store.reader``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import ModelInfo
from sqlalchemy import Engine

from bot.core.registry import load_registry
from bot.model.aggregates import COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.model.crawl import Crawl
from bot.model.fields import METADATA
from bot.model.records import Edge, to_record
from bot.store import schema
from bot.store.reader import Reader
from bot.store.writer import WriteResult, store_crawl
from tests.fakes.hub import make_record

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = "deepseek-ai/DeepSeek-V3-Base"
COGITO = "deepcogito/cogito-v2.1"
COGITO_GGUF = "fan/cogito-v2.1-GGUF"
QWEN = "Qwen/Qwen3-8B"
QWEN_GGUF = "TheBloke/Qwen3-8B-GGUF"
LLAMA = "meta-llama/Llama-3.1-8B"
MERGE = "merger/Qwen-Llama-SLERP"


def _page() -> dict[str, dict[str, Any]]:
    raw = json.loads((DATA / "hub_list_page.json").read_text())
    return {record["id"]: record for record in raw}


# Pure transforms


def test_finetune_tag_gives_the_parent_and_the_relation() -> None:
    record = to_record(_page()["deepcogito/cogito-v2.1-671B"])
    assert record.parents == [Edge("deepcogito/cogito-v2.1-671B", BASE, "finetune")]
    assert record.author == "deepcogito"
    assert record.license == "mit"
    assert record.gated == "auto"
    assert record.created_at == datetime(2025, 11, 19, 17, 2, 11, tzinfo=UTC)
    assert (record.downloads, record.downloads_all_time, record.likes) == (4502, 6110, 312)
    assert record.trending_score == 57.0
    assert record.children_count is None


def test_root_model_has_no_parents_and_gated_false() -> None:
    record = to_record(_page()[BASE])
    assert record.parents == []
    assert record.gated == "false"
    assert record.license is None
    assert (record.pipeline_tag, record.library) == ("text-generation", "transformers")


def test_quantization_without_pipeline_tag_or_library() -> None:
    record = to_record(_page()["someone/cogito-v2.1-671B-GGUF"])
    assert record.parents == [
        Edge("someone/cogito-v2.1-671B-GGUF", "deepcogito/cogito-v2.1-671B", "quantized")
    ]
    assert record.pipeline_tag is None
    assert record.library is None
    assert record.looks_quantized


def test_bare_base_model_tag_is_a_parent_of_unknown_relation() -> None:
    record = to_record(_page()["lab/bare-tag-tune"])
    assert record.parents == [Edge("lab/bare-tag-tune", QWEN, "unknown")]
    assert record.gated == "manual"
    assert record.library == "peft"
    assert record.license == "apache-2.0"


def test_merge_names_both_parents_and_lacking_all_time_is_none() -> None:
    record = to_record(_page()[MERGE])
    assert record.parents == [Edge(MERGE, QWEN, "merge"), Edge(MERGE, LLAMA, "merge")]
    assert record.downloads_all_time is None


def test_base_models_field_is_the_fallback_and_children_count_is_kept() -> None:
    raw = json.loads((DATA / "hub_model_info.json").read_text())
    record = to_record(raw)
    assert record.parents == [Edge("studio/llama-adapter", LLAMA, "adapter")]
    assert record.children_count == 14
    assert record.downloads_all_time == 2301


def test_a_model_info_reads_like_the_raw_record() -> None:
    for raw in [*_page().values(), json.loads((DATA / "hub_model_info.json").read_text())]:
        assert to_record(ModelInfo(**raw)) == to_record(raw)


def test_a_record_without_a_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="namespaced"):
        to_record({"id": "gpt2", "downloads": 5})


# What the store computes


def _crawl(*raws: dict[str, Any], outside_top: tuple[str, ...] = ()) -> Crawl:
    records = {record.id: record for record in map(to_record, raws)}
    top = [m for m in sorted(records, key=lambda m: -records[m].downloads) if m not in outside_top]
    return Crawl(records=records, top_ids=top)


def _store(engine: Engine, crawl: Crawl, taken_at: datetime = T0) -> WriteResult:
    return store_crawl(
        engine,
        crawl,
        load_registry(),
        taken_at=taken_at,
        finished_at=taken_at + timedelta(minutes=5),
        source="test",
        top_n=len(crawl.top_ids),
    )


WORLD = (
    make_record(BASE, downloads=1000),
    make_record(COGITO, downloads=600, parents=[BASE]),
    make_record(COGITO_GGUF, downloads=300, parents=[COGITO], relation="quantized"),
    make_record(QWEN, downloads=2000),
    make_record(QWEN_GGUF, downloads=500, parents=[QWEN], relation="quantized"),
    make_record(LLAMA, downloads=1500),
    make_record(MERGE, downloads=400, parents=[QWEN, LLAMA], relation="merge"),
    make_record("loopy/a", downloads=50, parents=["loopy/b"]),
    make_record("loopy/b", downloads=30, parents=["loopy/a"]),
    make_record("mistralai/Mistral-7B", downloads=700),
    make_record("orphan/child", downloads=9000, parents=["gone/deleted"]),
)
"""Top-N total 7,080 (``orphan/child`` is outside the top N). By publisher: CN 3,000, US 2,100,
FR 700, other 1,280. By lineage: CN 4,600 (DeepSeek 1,900 with the cogito chain, Qwen 2,700
with half the merge), US 1,700 (Llama with the other half), FR 700, other 80 (the cycle)."""


@pytest.fixture
def stored(engine: Engine) -> tuple[Reader, WriteResult]:
    result = _store(engine, _crawl(*WORLD, outside_top=("orphan/child",)))
    return Reader(engine), result


def _downloads(reader: Reader, attribution: str, level: str) -> dict[str, float]:
    snapshot = reader.latest()
    return {a.key: a.downloads for a in reader.aggregates(snapshot.id, attribution, level)}


def test_shares_of_every_level_add_up_to_one(stored: tuple[Reader, WriteResult]) -> None:
    reader, _ = stored
    snapshot = reader.latest()
    assert snapshot.downloads_total == 7080
    for attribution in (PUBLISHER, LINEAGE):
        for level in (COUNTRY, ORG):
            rows = reader.aggregates(snapshot.id, attribution, level)
            assert sum(row.share for row in rows) == pytest.approx(1.0)
            assert sum(row.downloads for row in rows) == pytest.approx(7080)


def test_publisher_and_lineage_attribution(stored: tuple[Reader, WriteResult]) -> None:
    reader, _ = stored
    assert _downloads(reader, PUBLISHER, COUNTRY) == {"CN": 3000, "US": 2100, "FR": 700, "ZZ": 1280}
    assert _downloads(reader, LINEAGE, COUNTRY) == {"CN": 4600, "US": 1700, "FR": 700, "ZZ": 80}
    publisher_orgs = _downloads(reader, PUBLISHER, ORG)
    assert publisher_orgs["TheBloke"] == 500  # a third-party GGUF of a Chinese model...
    lineage_orgs = _downloads(reader, LINEAGE, ORG)
    assert "TheBloke" not in lineage_orgs  # ...counts as Qwen's, and China's, by lineage
    assert lineage_orgs["Qwen"] == 2000 + 500 + 200


def test_three_generations_across_countries_root_in_china(
    stored: tuple[Reader, WriteResult],
) -> None:
    reader, _ = stored
    snapshot = reader.latest()
    stats = reader.stats(snapshot.id, [BASE, COGITO, COGITO_GGUF])
    assert {m: s.family for m, s in stats.items()} == dict.fromkeys(stats, "deepseek-ai")
    assert _downloads(reader, LINEAGE, ORG)["deepseek-ai"] == 1000 + 600 + 300
    assert _downloads(reader, PUBLISHER, ORG)["deepcogito"] == 600
    lineage = reader.lineage_stat(snapshot.id, BASE)
    assert lineage is not None
    assert lineage.descendants == 2
    assert (lineage.by_relation["finetune"], lineage.by_relation["quantized"]) == (1, 1)
    assert lineage.descendant_downloads == 900
    assert lineage.top_descendants == [(COGITO, 600), (COGITO_GGUF, 300)]
    assert reader.parents(COGITO_GGUF) == [(COGITO, "quantized")]
    assert reader.parents(COGITO) == [(BASE, "finetune")]


def test_a_merge_splits_its_downloads_between_its_roots(
    stored: tuple[Reader, WriteResult],
) -> None:
    reader, _ = stored
    snapshot = reader.latest()
    lineage_orgs = {
        a.key: a for a in reader.aggregates(snapshot.id, LINEAGE, ORG, keys=["Qwen", "meta-llama"])
    }
    assert lineage_orgs["meta-llama"].downloads == 1500 + 200
    assert lineage_orgs["Qwen"].models == 3  # the base, its GGUF and the merge
    assert lineage_orgs["meta-llama"].models == 2


def test_a_cycle_terminates_and_is_reported(stored: tuple[Reader, WriteResult]) -> None:
    reader, result = stored
    assert result.cycles == 1
    assert result.models == len(WORLD)
    snapshot = reader.latest()
    assert set(reader.stats(snapshot.id, ["loopy/a", "loopy/b"])) == {"loopy/a", "loopy/b"}


def test_a_model_outside_the_top_n_is_stored_but_not_counted(
    stored: tuple[Reader, WriteResult],
) -> None:
    reader, result = stored
    assert result.top_models == len(WORLD) - 1
    stat = reader.stat(reader.latest().id, "orphan/child")
    assert stat is not None
    assert not stat.in_top
    assert stat.family == "gone"  # a missing parent still names the family's org


def test_weekly_downloads_from_all_time_difference_else_30_day_estimate(engine: Engine) -> None:
    _store(engine, _crawl(make_record("a/steady", downloads=3000, downloads_all_time=10_000)))
    week_later = _crawl(
        make_record("a/steady", downloads=3100, downloads_all_time=17_000),
        make_record("a/new", downloads=3000, downloads_all_time=3000),
    )
    _store(engine, week_later, taken_at=T0 + timedelta(days=7))
    reader = Reader(engine)
    latest = reader.latest()
    stats = reader.stats(latest.id, ["a/steady", "a/new"])
    assert (stats["a/steady"].weekly_downloads, stats["a/steady"].weekly_basis) == (
        7000,
        "all_time",
    )
    assert (stats["a/new"].weekly_downloads, stats["a/new"].weekly_basis) == (700, "30d")
    first = reader.snapshots()[-1]
    first_stat = reader.stat(first.id, "a/steady")
    assert first_stat is not None
    assert (first_stat.weekly_downloads, first_stat.weekly_basis) == (700, "30d")


def test_a_later_snapshot_updates_models_and_replaces_their_edges(engine: Engine) -> None:
    first = _store(
        engine,
        _crawl(
            make_record("a/x", downloads=5, parents=["b/p"], created_at="2025-05-06T07:08:09.000Z"),
            make_record("b/p", downloads=9),
        ),
    )
    second = _store(
        engine,
        _crawl(
            make_record(
                "a/x",
                downloads=6,
                parents=["c/q"],
                relation="adapter",
                license="mit",
                created_at="2025-05-06T07:08:09.000Z",
            ),
            make_record("b/p", downloads=9),
            make_record("c/q", downloads=1),
        ),
        taken_at=T0 + timedelta(days=7),
    )
    reader = Reader(engine)
    model = reader.model("A/X")
    assert model is not None
    assert model.id == "a/x"
    assert model.first_seen_snapshot_id == first.snapshot_id
    assert model.license == "mit"
    assert model.created_at == datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert "base_model:adapter:c/q" in model.tags
    assert reader.parents("a/x") == [("c/q", "adapter")]
    assert [m.id for m in reader.new_in_snapshot(second.snapshot_id)] == ["c/q"]


def test_a_model_reads_back_with_every_declared_field_as_the_crawl_saw_it(engine: Engine) -> None:
    crawl = _crawl(
        make_record("a/x", pipeline_tag=None, gated="manual", parents=["b/p"], extra_tags=["x"]),
        make_record("b/p", library_name=None, license=None),
    )
    first = _store(engine, crawl)
    assert set(schema.models.c.keys()) == {
        *METADATA,
        "id_lower",
        "first_seen_snapshot_id",
        "fingerprint",
    }
    for model_id, record in crawl.records.items():
        model = Reader(engine).model(model_id)
        assert model is not None
        assert [getattr(model, name) for name in METADATA] == [
            tuple(record.tags) if name == "tags" else getattr(record, name) for name in METADATA
        ]
        assert model.first_seen_snapshot_id == first.snapshot_id
