"""Country and org totals of the top-N models (``bot.model.aggregates``), in both attributions, on a
crawl whose answer is known by construction, then on a random crawl against a plain-Python
tally model by model."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from bot.core.registry import UNKNOWN_COUNTRY, Registry, load_registry
from bot.model.aggregates import (
    COUNTRY,
    LINEAGE,
    ORG,
    ORG_ROWS_KEPT,
    PUBLISHER,
    AggregateRow,
    compute_aggregates,
    families,
    org_of,
)
from bot.model.lineage import Tree, build_tree

REGISTRY = load_registry()
SPLITS = math.lcm(*range(1, 21))
QWEN = "Qwen/Qwen3-8B"
NVIDIA_TUNE = "nvidia/Qwen3-8B-FP8"
GGUF = "TheBloke/Qwen3-8B-GGUF"
LLAMA = "meta-llama/Llama-3.1-8B"
MERGE = "merger/Qwen-Llama-SLERP"


@dataclass(frozen=True)
class Model:
    id: str
    downloads: int
    parents: Sequence[str] = ()

    @property
    def author(self) -> str:
        return org_of(self.id)


def tree_of(models: Sequence[Model]) -> Tree:
    return build_tree({m.id: list(m.parents) for m in models if m.parents})


def aggregates(
    models: Sequence[Model], top: Sequence[str] | None = None
) -> dict[tuple[str, str, str], AggregateRow]:
    """The rows of ``top`` (all models by default) by (attribution, level, key), computed as
    the store does: the tree from the whole crawl, the families of the top models."""
    tree = tree_of(models)
    by_id = {m.id: m for m in models}
    chosen = [by_id[m] for m in top] if top is not None else list(models)
    ids = [m.id for m in chosen]
    authors = [m.author for m in chosen]
    rows = compute_aggregates(
        ids,
        authors,
        families(ids, authors, tree.roots),
        [m.downloads for m in chosen],
        tree,
        REGISTRY,
    )
    keyed = {(row.attribution, row.level, row.key): row for row in rows}
    assert len(keyed) == len(rows)
    return keyed


def table(
    rows: dict[tuple[str, str, str], AggregateRow], attribution: str, level: str
) -> dict[str, tuple[float, int, float, int]]:
    """{key: (downloads, models, share, rank)} of one attribution and level."""
    return {
        key: (row.downloads, row.models, row.share, row.rank)
        for (a, lvl, key), row in rows.items()
        if (a, lvl) == (attribution, level)
    }


def test_publisher_and_lineage_on_a_known_crawl() -> None:
    models = [
        Model(QWEN, 1000),
        Model(NVIDIA_TUNE, 300, [QWEN]),  # a US fine-tune of a Chinese base
        Model(GGUF, 200, [NVIDIA_TUNE]),  # a third-party GGUF of it: unregistered, ZZ
        Model(LLAMA, 400),
        Model(MERGE, 100, [QWEN, LLAMA]),  # two roots: 50 each
    ]
    rows = aggregates(models)
    assert table(rows, PUBLISHER, COUNTRY) == {
        "CN": (1000, 1, 0.5, 1),
        "US": (700, 2, 0.35, 2),
        UNKNOWN_COUNTRY: (300, 2, 0.15, 3),
    }
    assert table(rows, PUBLISHER, ORG) == {
        "Qwen": (1000, 1, 0.5, 1),
        "meta-llama": (400, 1, 0.2, 2),
        "nvidia": (300, 1, 0.15, 3),
        "TheBloke": (200, 1, 0.1, 4),
        "merger": (100, 1, 0.05, 5),
    }
    assert table(rows, LINEAGE, COUNTRY) == {
        "CN": (1550, 4, 0.775, 1),
        "US": (450, 2, 0.225, 2),
    }
    assert table(rows, LINEAGE, ORG) == {
        "Qwen": (1550, 4, 0.775, 1),
        "meta-llama": (450, 2, 0.225, 2),
    }


def test_a_three_way_merge_splits_in_thirds() -> None:
    models = [
        Model("Qwen/a", 10),
        Model("meta-llama/b", 20),
        Model("mistralai/c", 30),
        Model("m/three", 100, ["Qwen/a", "meta-llama/b", "mistralai/c"]),
    ]
    lineage = table(aggregates(models), LINEAGE, ORG)
    assert lineage["Qwen"][:2] == (pytest.approx(10 + 100 / 3, rel=1e-12), 2)
    assert lineage["mistralai"][:2] == (pytest.approx(30 + 100 / 3, rel=1e-12), 2)
    assert lineage["mistralai"][2] == pytest.approx((30 + 100 / 3) / 160, rel=1e-12)
    assert sum(share for _, _, share, _ in lineage.values()) == pytest.approx(1, rel=1e-12)


def test_two_roots_of_one_org_or_country_count_one_model() -> None:
    models = [
        Model("Qwen/a", 0),
        Model("Qwen/b", 0),
        Model("deepseek-ai/c", 0),
        Model("m/same-org", 90, ["Qwen/a", "Qwen/b"]),
        Model("m/same-country", 60, ["Qwen/a", "deepseek-ai/c"]),
    ]
    rows = aggregates(models, ["m/same-org", "m/same-country"])
    assert table(rows, LINEAGE, ORG) == {
        "Qwen": (120, 2, 0.8, 1),
        "deepseek-ai": (30, 1, 0.2, 2),
    }
    assert table(rows, LINEAGE, COUNTRY) == {"CN": (150, 2, 1.0, 1)}
    assert table(rows, PUBLISHER, ORG) == {"m": (150, 2, 1.0, 1)}


def test_missing_roots_and_models_outside_the_top_shape_the_lineage() -> None:
    models = [
        Model("fan/tune", 40, ["deleted-lab/base"]),  # the root is not in the crawl
        Model("meta-llama/gone-child", 5, ["meta-llama/deleted"]),
        Model(NVIDIA_TUNE, 999, [QWEN]),  # outside the top: counts nowhere, still a link
        Model(GGUF, 35, [NVIDIA_TUNE]),
    ]
    rows = aggregates(models, ["fan/tune", "meta-llama/gone-child", GGUF])
    assert table(rows, LINEAGE, ORG) == {
        "deleted-lab": (40, 1, 0.5, 1),
        "Qwen": (35, 1, 0.4375, 2),
        "meta-llama": (5, 1, 0.0625, 3),
    }
    assert table(rows, LINEAGE, COUNTRY) == {
        UNKNOWN_COUNTRY: (40, 1, 0.5, 1),
        "CN": (35, 1, 0.4375, 2),
        "US": (5, 1, 0.0625, 3),
    }
    assert "nvidia" not in table(rows, PUBLISHER, ORG)


def test_no_models_no_rows_and_no_downloads_no_shares() -> None:
    assert aggregates([]) == {}
    rows = aggregates([Model("a/b", 0)])
    assert set(rows) == {
        (PUBLISHER, COUNTRY, UNKNOWN_COUNTRY),
        (PUBLISHER, ORG, "a"),
        (LINEAGE, COUNTRY, UNKNOWN_COUNTRY),
        (LINEAGE, ORG, "a"),
    }
    assert all(
        (row.downloads, row.models, row.share, row.rank) == (0, 1, 0, 1) for row in rows.values()
    )


# A random crawl against a plain-Python tally.


def reference(
    ids: Sequence[str],
    authors: Sequence[str],
    downloads: Sequence[int],
    tree: Tree,
    registry: Registry,
) -> dict[tuple[str, str, str], AggregateRow]:
    sums: defaultdict[tuple[str, str], defaultdict[str, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    members: defaultdict[tuple[str, str], defaultdict[str, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for model_id, author, value in zip(ids, authors, downloads, strict=True):
        for level, key in ((COUNTRY, registry.country_of(author)), (ORG, author)):
            sums[PUBLISHER, level][key] += value
            members[PUBLISHER, level][key] += 1
        roots = tree.roots_of(model_id)
        root_orgs = [author if root == model_id else org_of(root) for root in roots]
        for org in root_orgs:
            sums[LINEAGE, ORG][org] += value / len(roots)
            sums[LINEAGE, COUNTRY][registry.country_of(org)] += value / len(roots)
        for org in set(root_orgs):
            members[LINEAGE, ORG][org] += 1
        for country in {registry.country_of(org) for org in root_orgs}:
            members[LINEAGE, COUNTRY][country] += 1
    total = sum(downloads)
    expected = {}
    for (attribution, level), values in sums.items():
        ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
        for rank, (key, value) in enumerate(ordered, start=1):
            if level == ORG and rank > ORG_ROWS_KEPT and key.lower() not in registry.orgs:
                continue
            row = AggregateRow(
                attribution,
                level,
                key,
                value,
                members[attribution, level][key],
                value / total if total else 0.0,
                rank,
            )
            expected[attribution, level, key] = row
    return expected


def random_crawl(seed: int, size: int = 3000) -> tuple[list[Model], list[str]]:
    """Registered orgs (one also in lower case) among 700 unregistered ones, single parents,
    merges of two or three (some of one org), missing parents of both kinds, one cycle. The
    downloads are multiples of ``SPLITS``, so that every share of a merge of up to 20 roots is
    exact and ties are exact ties, whatever order the sums are made in. Returns the crawl and
    its top-N ids (most of it)."""
    rng = random.Random(seed)
    registered = [org.org for org in REGISTRY]
    orgs = registered + ["qwen"] + [f"user{n}" for n in range(700)]
    ids = [f"{rng.choice(orgs)}/m{n}" for n in range(size)]
    missing = ["meta-llama/deleted", "Qwen/deleted", "gone-lab/base", "gone-user/x"]
    parents: list[list[str]] = []
    for n in range(size):
        if n < 50 or rng.random() < 0.3:
            parents.append([])
        elif rng.random() < 0.05:  # a merge of two models of one org
            org = org_of(ids[rng.randrange(50)])
            same = [i for i in ids[:n] if org_of(i) == org]
            parents.append(sorted(set(rng.sample(same, min(2, len(same))))))
        else:
            width = 1 if rng.random() < 0.85 else rng.choice((2, 3))
            chosen = {
                rng.choice(missing) if rng.random() < 0.05 else ids[rng.randrange(n)]
                for _ in range(width)
            }
            parents.append(sorted(chosen))
    # A cycle: a model whose parent has a crawled parent becomes that grandparent's parent.
    position = {model_id: n for n, model_id in enumerate(ids)}
    for n in range(size - 1, 0, -1):
        up = parents[n][0] if parents[n] else None
        if up in position and parents[position[up]] and parents[position[up]][0] in position:
            parents[position[parents[position[up]][0]]].append(ids[n])
            break
    models = [
        Model(model_id, SPLITS * min(int(rng.paretovariate(1.2)), 1000), above)
        for model_id, above in zip(ids, parents, strict=True)
    ]
    rng.shuffle(models)
    top = [m.id for m in models if rng.random() < 0.9]
    return models, top


def test_a_random_crawl_matches_a_plain_tally() -> None:
    for seed in (3, 11):
        models, top = random_crawl(seed)
        tree = tree_of(models)
        assert len(tree.cycles) == 1
        assert max(map(len, tree.roots.values())) <= 20
        by_id = {m.id: m for m in models}
        assert sum(by_id[m].downloads for m in top) < 2**53
        found = aggregates(models, top)
        expected = reference(
            top, [by_id[m].author for m in top], [by_id[m].downloads for m in top], tree, REGISTRY
        )
        ranks = [row.rank for key, row in expected.items() if key[:2] == (PUBLISHER, ORG)]
        assert max(ranks) > ORG_ROWS_KEPT  # registered orgs are kept beyond the cut...
        assert len(ranks) < max(ranks)  # ...and unregistered ones dropped
        assert any(row.models > 1 and row.key != "ZZ" for row in expected.values())
        assert found.keys() == expected.keys()
        for key, row in expected.items():
            got = found[key]
            assert (got.models, got.rank) == (row.models, row.rank), key
            assert got.downloads == pytest.approx(row.downloads, rel=1e-12), key
            assert got.share == pytest.approx(row.share, rel=1e-12), key


def test_small_crawls_full_of_cycles_match_a_plain_tally() -> None:
    """Parents drawn from anywhere (many cycles, a model rooted at itself), a few orgs, one
    registered in two spellings, and crawls whose downloads are all zero."""
    orgs = ["Qwen", "qwen", "meta-llama", "deepseek-ai", "mistralai", "u1", "u2"]
    for seed in range(150):
        rng = random.Random(seed)
        ids = [f"{rng.choice(orgs)}/m{n}" for n in range(rng.randrange(1, 60))]
        models = []
        for model_id in ids:
            drawn = [
                rng.choice([*ids, "gone/x", "Qwen/old"]) for _ in range(rng.choice((0, 1, 2, 3)))
            ]
            above = [parent for parent in dict.fromkeys(drawn) if parent != model_id]
            models.append(Model(model_id, SPLITS * rng.randrange(5), above))
        top = [m.id for m in models if rng.random() < 0.8]
        by_id = {m.id: m for m in models}
        expected = reference(
            top,
            [by_id[m].author for m in top],
            [by_id[m].downloads for m in top],
            tree_of(models),
            REGISTRY,
        )
        found = aggregates(models, top)
        assert found.keys() == expected.keys(), seed
        for key, row in expected.items():
            assert (found[key].downloads, found[key].models, found[key].rank) == (
                row.downloads,
                row.models,
                row.rank,
            ), (seed, key)
            assert found[key].share == pytest.approx(row.share, rel=1e-12), (seed, key)


def test_ties_rank_by_name_in_code_point_order_even_for_names_arrow_cannot_hold() -> None:
    """Equal totals rank by name as Python sorts it; a name UTF-8 cannot encode (a lone
    surrogate) sorts the same way, through Python instead of Arrow."""
    for odd in ("zz", "\ud800x"):
        authors = ["b", "a", "É", "e", "Z", "ß", odd]
        models = [Model(f"{author}/m", 7) for author in authors]
        ranks = {
            key: rank for key, (_, _, _, rank) in table(aggregates(models), PUBLISHER, ORG).items()
        }
        assert sorted(ranks, key=ranks.__getitem__) == sorted(authors)
