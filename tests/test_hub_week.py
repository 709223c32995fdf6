"""A whole-Hub archive week reduced to totals: checked against pandas on the same table, and on
small weeks whose right answer is known by construction (merges, cycles, schema variants)."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from bot.core.registry import UNKNOWN_COUNTRY, Org, Registry
from bot.model.aggregates import (
    COUNTRY,
    LINEAGE,
    ORG,
    PUBLISHER,
    AggregateRow,
    compute_aggregates,
    families,
    org_of,
)
from bot.model.hub_week import HubWeek, reduce_week
from bot.model.lineage import Tree, build_tree
from bot.model.records import parse_parents
from bot.model.week_lineage import batch_parents

DAY = date(2025, 1, 6)
SPLITS = math.lcm(*range(1, 21))
"""Downloads are multiples of this, so that a merge's split is exact whatever the order."""
REGISTRY = Registry.from_orgs(
    [
        Org("Qwen", "CN", "Qwen"),
        Org("deepseek-ai", "CN", "DeepSeek"),
        Org("meta-llama", "US", "Meta Llama"),
        Org("mistralai", "FR", "Mistral AI"),
    ]
)


def random_week(models: int = 20_000, seed: int = 7) -> pd.DataFrame:
    """Models of registered orgs and of many unregistered authors; a third fine-tune an earlier
    model (chains of any depth, no merges), some of a parent that is not in the week."""
    rng = np.random.default_rng(seed)
    authors = np.array(
        ["Qwen", "deepseek-ai", "meta-llama", "mistralai", *(f"u{i}" for i in range(400))]
    )
    picked = authors[rng.integers(0, len(authors), models)]
    ids = [f"{author}/model-{i}" for i, author in enumerate(picked)]
    parent = [
        ids[int(rng.integers(0, i))]
        if i and rng.random() < 0.33
        else ("gone-org/deleted" if rng.random() < 0.01 else None)
        for i in range(models)
    ]
    created = pd.Timestamp("2024-12-20", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 30 * 24, models), unit="h"
    )
    return pd.DataFrame(
        {
            "id": ids,
            "downloads": rng.pareto(1.3, models).astype(np.int64) * 7,
            "downloadsAllTime": rng.integers(0, 10**6, models),
            "createdAt": created,
            "tags": [
                ["text-generation", f"base_model:finetune:{p}", f"base_model:{p}"] if p else ["x"]
                for p in parent
            ],
        }
    )


def as_batches(frame: pd.DataFrame, rows: int = 3_000) -> list[pa.RecordBatch]:
    return pa.Table.from_pandas(frame, preserve_index=False).to_batches(rows)


def shares(week: HubWeek, attribution: str, level: str, all_time: bool = False) -> dict[str, float]:
    rows = week.all_time if all_time else week.aggregates
    return {r.key: r.share for r in rows if r.attribution == attribution and r.level == level}


def roots_by_pandas(frame: pd.DataFrame) -> pd.Series:
    """Each model's root, following first parents with pandas joins (an independent method)."""
    parent = frame["tags"].map(
        lambda tags: next(
            (t.split(":", 2)[2] for t in tags if t.startswith("base_model:finetune:")), None
        )
    )
    parent.index = frame["id"]
    root = pd.Series(frame["id"].to_numpy(), index=frame["id"])
    current = parent.copy()
    while current.notna().any():
        has = current.notna()
        root[has] = current[has]
        current = current.map(parent).where(has)  # the parent's parent, NaN past a root
    return root


def test_whole_hub_shares_equal_an_independent_pandas_computation():
    frame = random_week()
    week = reduce_week(DAY, as_batches(frame), REGISTRY)
    frame["author"] = frame["id"].str.split("/").str[0]
    frame["country"] = frame["author"].map(lambda a: REGISTRY.country_of(a))
    total = frame["downloads"].sum()
    expected = (frame.groupby("country")["downloads"].sum() / total).to_dict()
    assert shares(week, PUBLISHER, COUNTRY) == pytest.approx(expected)
    by_org = (frame.groupby("author")["downloads"].sum() / total).to_dict()
    got = shares(week, PUBLISHER, ORG)
    assert got == pytest.approx({k: by_org[k] for k in got})
    assert {"Qwen", "deepseek-ai", "meta-llama", "mistralai"} <= got.keys()

    frame["family"] = roots_by_pandas(frame).to_numpy()
    frame["family_org"] = frame["family"].str.split("/").str[0]
    lineage = (frame.groupby("family_org")["downloads"].sum() / total).to_dict()
    got = shares(week, LINEAGE, ORG)
    assert got == pytest.approx({k: lineage[k] for k in got})
    assert "gone-org" in got  # a deleted parent still names its family's org
    frame["family_country"] = frame["family_org"].map(lambda a: REGISTRY.country_of(a))
    lineage_country = (frame.groupby("family_country")["downloads"].sum() / total).to_dict()
    assert shares(week, LINEAGE, COUNTRY) == pytest.approx(lineage_country)

    all_total = frame["downloadsAllTime"].sum()
    all_time = (frame.groupby("country")["downloadsAllTime"].sum() / all_total).to_dict()
    assert shares(week, PUBLISHER, COUNTRY, all_time=True) == pytest.approx(all_time)
    assert week.models == len(frame)
    assert week.downloads == total
    assert week.downloads_all_time == all_total


def test_releases_count_repos_created_in_the_week_by_registered_orgs():
    frame = random_week()
    week = reduce_week(DAY, as_batches(frame), REGISTRY)
    start = pd.Timestamp(DAY, tz="UTC")
    inside = frame[
        (frame["createdAt"] >= start) & (frame["createdAt"] < start + pd.Timedelta(days=7))
    ]
    authors = inside["id"].str.split("/").str[0]
    expected = authors[authors.isin([o.org for o in REGISTRY])].value_counts().to_dict()
    assert week.releases == expected
    assert sum(expected.values()) > 0


def test_named_models_are_registered_orgs_top_models_and_their_ancestors():
    frame = random_week(models=5_000)
    week = reduce_week(DAY, as_batches(frame), REGISTRY, top_kept=50)
    named = {m.model_id: m for m in week.named}
    authors = frame["id"].str.split("/").str[0]
    registered = set(frame["id"][authors.isin(["Qwen", "deepseek-ai", "meta-llama", "mistralai"])])
    top = set(frame.sort_values(["downloads", "id"], ascending=[False, True])["id"][:50])
    assert registered | top <= named.keys()
    roots = roots_by_pandas(frame)
    for model_id in top:
        root = roots[model_id]
        if root in set(frame["id"]):
            assert root in named
    extra = named.keys() - registered - top
    assert extra  # ancestors of unregistered top models
    first = frame.set_index("id").loc[next(iter(top))]
    assert named[next(iter(top))].downloads == first["downloads"]


def week_of(rows: list[dict[str, object]]) -> HubWeek:
    return reduce_week(DAY, [pa.RecordBatch.from_pylist(rows)], REGISTRY)


def test_a_merge_of_two_families_is_split_between_them_and_counts_once_per_org():
    week = week_of(
        [
            {"id": "Qwen/base", "downloads": 100, "tags": []},
            {"id": "meta-llama/base", "downloads": 100, "tags": []},
            {
                "id": "someone/merge",
                "downloads": 100,
                "tags": ["base_model:merge:Qwen/base", "base_model:merge:meta-llama/base"],
            },
            {
                "id": "someone/gguf",
                "downloads": 100,
                "tags": ["base_model:quantized:someone/merge"],
            },
        ]
    )
    assert shares(week, LINEAGE, ORG) == pytest.approx({"Qwen": 0.5, "meta-llama": 0.5})
    assert shares(week, LINEAGE, COUNTRY) == pytest.approx({"CN": 0.5, "US": 0.5})
    assert shares(week, PUBLISHER, COUNTRY) == pytest.approx(
        {"CN": 0.25, "US": 0.25, UNKNOWN_COUNTRY: 0.5}
    )
    models = {
        r.key: r.models for r in week.aggregates if r.attribution == LINEAGE and r.level == ORG
    }
    assert models == {"Qwen": 3, "meta-llama": 3}


def test_a_week_without_all_time_counts_or_creation_dates_says_so():
    week = week_of([{"id": "Qwen/a", "downloads": 5}, {"id": "x/b", "downloads": 15}])
    assert week.downloads_all_time is None
    assert week.all_time == []
    assert week.releases == {}
    assert {m.model_id: m.downloads_all_time for m in week.named} == {"Qwen/a": None, "x/b": None}


def test_parents_come_from_base_models_when_the_tags_have_none():
    week = week_of(
        [
            {"id": "Qwen/base", "downloads": 10, "tags": [], "baseModels": None},
            {
                "id": "x/ft",
                "downloads": 30,
                "tags": ["text-generation"],
                "baseModels": {"relation": "finetune", "models": [{"id": "Qwen/base"}]},
            },
        ]
    )
    assert shares(week, LINEAGE, ORG) == pytest.approx({"Qwen": 1.0})


def test_string_and_timestamp_creation_dates_and_bad_counts_are_read_alike():
    created = ["2025-01-07T10:00:00.000Z", "2025-01-20T00:00:00Z", "not a date", None]
    as_text = week_of(
        [
            {"id": f"Qwen/m{i}", "downloads": d, "createdAt": c}
            for i, (c, d) in enumerate(zip(created, [1, -5, None, 3], strict=True))
        ]
    )
    assert as_text.releases == {"Qwen": 1}
    assert as_text.downloads == 4  # a negative count is 0, a missing one 0
    stamped = reduce_week(
        DAY,
        [
            pa.RecordBatch.from_pydict(
                {
                    "id": ["Qwen/a", "Qwen/b"],
                    "downloads": [1, 2],
                    "createdAt": pa.array(
                        [pd.Timestamp("2025-01-08", tz="UTC"), pd.Timestamp("2024-01-08", tz="UTC")]
                    ),
                }
            )
        ],
        REGISTRY,
    )
    assert stamped.releases == {"Qwen": 1}


def test_rows_without_a_namespaced_id_are_left_out():
    week = week_of(
        [
            {"id": "Qwen/a", "downloads": 5},
            {"id": "bert-base", "downloads": 9},
            {"id": None, "downloads": 1},
        ]
    )
    assert week.models == 1
    assert week.downloads == 5


# The week's arrays against the per-model path (parse_parents, build_tree, families and
# compute_aggregates over Python lists), on weeks full of what breaks fast paths: cycles,
# merges, self-references, malformed tags, parents outside the week, ids given twice.

RELATION_NAMES = ("finetune", "quantized", "adapter", "merge", "other")


def tangled_rows(seed: int, size: int, *, cycles: bool, twice: bool) -> list[dict[str, object]]:
    rng = random.Random(seed)
    orgs = ["Qwen", "qwen", "meta-llama", "deepseek-ai", "mistralai", "u1", "u2", "u3"]
    ids = [f"{rng.choice(orgs)}/m{n}" for n in range(size)]
    if twice:
        for n in rng.sample(range(1, size), size // 10):
            ids[n] = ids[rng.randrange(n)]
    outside = ["gone/x", "Qwen/deleted", "lab/base"]
    rows: list[dict[str, object]] = []
    for n, model_id in enumerate(ids):
        pool = [*outside, *(ids if cycles else ids[: max(1, n)]), model_id]

        def target(pool: list[str] = pool) -> str:
            return rng.choice(pool)

        tags = [rng.choice(["text-generation", "en", "base_model", "base_model:"])]
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            kind = rng.random()
            if kind < 0.4:
                tags.append(f"base_model:{rng.choice(RELATION_NAMES)}:{target()}")
            elif kind < 0.7:
                tags.append(f"base_model:{target()}")
            elif kind < 0.8:
                tags.append(f"base_model:finetune:{target()}:extra")
            elif kind < 0.9:
                tags.append("base_model:finetune:no-slash")
            else:
                tags.append(f"base_model:{target()}:v2")
        rng.shuffle(tags)
        structured = None
        if rng.random() < 0.3:
            structured = {
                "relation": rng.choice(RELATION_NAMES),
                "models": [{"id": rng.choice([target(), "no-slash", None])} for _ in range(2)],
            }
        rows.append(
            {
                "id": model_id if rng.random() > 0.02 else rng.choice([None, "no-namespace"]),
                "downloads": SPLITS * rng.randrange(0, 50),
                "downloadsAllTime": SPLITS * rng.randrange(0, 500),
                "tags": tags if rng.random() > 0.05 else None,
                "baseModels": structured,
            }
        )
    return rows


def per_model(
    rows: list[dict[str, Any]], all_time: bool = False
) -> tuple[list[AggregateRow], Tree]:
    """The week's aggregates the per-model way, with each model's parents in the order its id
    first appears (the file's order), those of its last row that has any."""
    ids: list[str] = []
    counts: list[int] = []
    parents: dict[str, list[str]] = {}
    for row in rows:
        model_id = row["id"]
        if not isinstance(model_id, str) or "/" not in model_id:
            continue
        found = parse_parents(model_id, row["tags"] or (), row["baseModels"])
        if found:
            parents[model_id] = [edge.parent for edge in found]
        ids.append(model_id)
        counts.append(row["downloadsAllTime" if all_time else "downloads"])
    tree = build_tree({key: parents[key] for key in dict.fromkeys(ids) if key in parents})
    authors = [org_of(model_id) for model_id in ids]
    family = families(ids, authors, tree.roots)
    return compute_aggregates(ids, authors, family, counts, tree, REGISTRY), tree


def test_parents_from_tags_are_parse_parents_model_by_model():
    for seed in range(20):
        rows = [r for r in tangled_rows(seed, 300, cycles=True, twice=False) if r["id"]]
        batch = pa.RecordBatch.from_pylist(rows)
        ids = batch.column("id").cast(pa.string())
        links = batch_parents(ids, batch.column("tags"), batch.column("baseModels"))
        got: dict[int, list[str]] = {}
        for row, parent in zip(links.rows.tolist(), links.parents.to_pylist(), strict=True):
            got.setdefault(row, []).append(parent)
        expected = {
            n: [edge.parent for edge in parse_parents(r["id"], r["tags"] or (), r["baseModels"])]
            for n, r in enumerate(rows)
        }
        assert got == {n: found for n, found in expected.items() if found}, seed


def test_a_tangled_week_equals_the_per_model_computation():
    with_cycles = 0
    for seed in range(12):
        rows = tangled_rows(seed, 150 + 37 * seed, cycles=True, twice=False)
        week = reduce_week(DAY, as_chunks(rows), REGISTRY, top_kept=20)
        expected, tree = per_model(rows)
        with_cycles += bool(tree.cycles)
        assert week.aggregates == expected, seed
        assert week.all_time == per_model(rows, all_time=True)[0], seed
        assert [(m.model_id, m.downloads) for m in week.named] == named_per_model(rows, 20)
    assert with_cycles >= 4  # (5 of these 12 weeks have cycles)


def named_per_model(rows: list[dict[str, Any]], top_kept: int) -> list[tuple[str, int]]:
    """Registered orgs' models, the most downloaded and their ancestors, one model at a time."""
    kept = [r for r in rows if isinstance(r["id"], str) and "/" in r["id"]]
    by_id = {r["id"]: r for r in kept}
    ranked = sorted(kept, key=lambda r: (-r["downloads"], r["id"]))
    wanted = {r["id"] for r in ranked[:top_kept]}
    wanted |= {r["id"] for r in kept if REGISTRY.get(org_of(r["id"])) is not None}
    pending = list(wanted)
    while pending:
        row = by_id[pending.pop()]
        for edge in parse_parents(row["id"], row["tags"] or (), row["baseModels"]):
            if edge.parent in by_id and edge.parent not in wanted:
                wanted.add(edge.parent)
                pending.append(edge.parent)
    return [(model_id, by_id[model_id]["downloads"]) for model_id in sorted(wanted)]


def test_ids_given_twice_count_twice_and_take_their_last_parents():
    for seed in range(10):
        rows = tangled_rows(seed, 400, cycles=False, twice=True)
        week = reduce_week(DAY, as_chunks(rows), REGISTRY)
        assert week.aggregates == per_model(rows)[0], seed


def as_chunks(rows: list[dict[str, object]], size: int = 97) -> list[pa.RecordBatch]:
    schema = pa.RecordBatch.from_pylist(rows).schema
    return [
        pa.RecordBatch.from_pylist(rows[start : start + size], schema=schema)
        for start in range(0, len(rows), size)
    ]


def test_large_and_dictionary_string_columns_read_alike_and_an_empty_week_is_empty():
    rows = tangled_rows(1, 200, cycles=True, twice=False)
    plain = reduce_week(DAY, as_chunks(rows), REGISTRY)
    table = pa.Table.from_batches(as_chunks(rows))
    table = table.set_column(
        0, "id", table.column("id").cast(pa.large_string()).dictionary_encode()
    )
    tags = table.schema.get_field_index("tags")
    table = table.set_column(
        tags, "tags", table.column("tags").cast(pa.large_list(pa.large_string()))
    )
    assert reduce_week(DAY, table.to_batches(max_chunksize=64), REGISTRY) == plain
    empty = reduce_week(DAY, [], REGISTRY)
    assert (empty.models, empty.aggregates, empty.named, empty.releases) == (0, [], [], {})
